//! Compressing a document's streams, with the embedded font files remembered.
//!
//! Every consent PDF of a form version embeds the same cut of DejaVu whenever its
//! text beyond ASCII letters and digits is the same (`layout`'s kept cuts), and
//! deflating those files at the best level was a third of rendering one. A
//! deflated font file is kept, keyed by the SHA-256 of its bytes, and used again
//! for the same bytes: the output is byte for byte what compressing them again
//! gives. A font cut for other characters (a name with a letter beyond ASCII found
//! nowhere else in the PDF) is a new key, compressed once.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use lopdf::{Document, Object, Stream};
use sha2::{Digest, Sha256};

/// How many deflated font files are kept (each some 10–20 KB): enough for the
/// regular and bold subsets of every form version in use, and their variants.
const KEPT: usize = 64;

type Key = [u8; 32];

/// The zlib level of every stream but the font files.
const CONTENT_LEVEL: u32 = 3;

/// The deflated font files, the most recently used first.
static KEPT_FONTS: Mutex<VecDeque<(Key, Arc<[u8]>)>> = Mutex::new(VecDeque::new());

/// Compresses every stream of `doc` that is not yet compressed, as
/// `Document::compress` does, taking font files already deflated from memory.
pub(super) fn compress(doc: &mut Document) {
    for object in doc.objects.values_mut() {
        if let Object::Stream(stream) = object
            && stream.allows_compression
            && stream.dict.get(b"Filter").is_err()
        {
            // `/Length1`, the length of the font program before compression, is
            // carried by the embedded font files only.
            if stream.dict.get(b"Length1").is_ok() {
                compress_font(stream);
            } else {
                compress_content(stream);
            }
        }
    }
}

/// Deflates a stream at [`CONTENT_LEVEL`] when that shrinks it, by more than the
/// `/Filter` entry it adds, as `Stream::compress` decides; a stream deflating fails
/// on is left stored.
fn compress_content(stream: &mut Stream) {
    let mut encoder = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(stream.content.len() / 2),
        flate2::Compression::new(CONTENT_LEVEL),
    );
    let Ok(compressed) = encoder.write_all(&stream.content).and_then(|()| encoder.finish()) else {
        return;
    };
    if compressed.len() + 19 < stream.content.len() {
        stream.dict.set("Filter", "FlateDecode");
        stream.set_content(compressed);
    }
}

/// Compresses a font file as `Stream::compress` does, or takes what that gave for
/// the same bytes before.
fn compress_font(stream: &mut Stream) {
    let key: Key = Sha256::digest(&stream.content).into();
    let mut fonts = KEPT_FONTS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = fonts.iter().position(|(k, _)| *k == key).and_then(|i| fonts.remove(i)) {
        stream.dict.set("Filter", "FlateDecode");
        stream.set_content(found.1.to_vec());
        fonts.push_front(found);
        return;
    }
    // Deflating takes a while: other documents need not wait for it.
    drop(fonts);
    // A font file that deflating does not shrink stays as it is and is not kept.
    if stream.compress().is_ok() && stream.dict.get(b"Filter").is_ok() {
        let mut fonts = KEPT_FONTS.lock().unwrap_or_else(PoisonError::into_inner);
        if !fonts.iter().any(|(k, _)| *k == key) {
            fonts.push_front((key, stream.content.as_slice().into()));
            fonts.truncate(KEPT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::Dictionary;

    fn font_file(bytes: &[u8]) -> Stream {
        let mut dict = Dictionary::new();
        dict.set("Length1", bytes.len() as i64);
        Stream::new(dict, bytes.to_vec())
    }

    fn doc_with(streams: Vec<Stream>) -> Document {
        let mut doc = Document::with_version("1.7");
        for s in streams {
            doc.add_object(s);
        }
        doc
    }

    fn contents(doc: &Document) -> Vec<(Vec<u8>, bool)> {
        doc.objects
            .values()
            .filter_map(|o| o.as_stream().ok())
            .map(|s| (s.content.clone(), s.dict.get(b"Filter").is_ok()))
            .collect()
    }

    fn sample() -> (Vec<u8>, Vec<u8>) {
        let font: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let page = b"BT /F1 10 Tf 72 700 Td (Hello) Tj ET\n".repeat(200);
        (font, page)
    }

    fn inflated(doc: &Document) -> Vec<Vec<u8>> {
        doc.objects
            .values()
            .filter_map(|o| o.as_stream().ok())
            .map(|s| s.decompressed_content().expect("inflates"))
            .collect()
    }

    #[test]
    fn a_font_file_gives_what_lopdf_gives_and_the_same_the_second_time() {
        let (font, _) = sample();
        let mut expected = doc_with(vec![font_file(&font)]);
        expected.compress();
        let mut first = doc_with(vec![font_file(&font)]);
        compress(&mut first);
        let mut second = doc_with(vec![font_file(&font)]);
        compress(&mut second);

        assert_eq!(contents(&first), contents(&expected));
        assert_eq!(contents(&second), contents(&expected));
        assert_eq!(inflated(&second), vec![font]);
    }

    #[test]
    fn page_contents_are_deflated_fast_and_font_files_at_the_best_level() {
        let (font, page) = sample();
        let mut doc =
            doc_with(vec![font_file(&font), Stream::new(Dictionary::new(), page.clone())]);
        compress(&mut doc);
        assert_eq!(inflated(&doc), vec![font, page]);
        // A zlib stream's second byte carries its compressor's level in the top two
        // bits: 3 for the best (slowest) levels, 1 for the fast ones from 2 to 5.
        let levels: Vec<u8> = contents(&doc).iter().map(|(bytes, _)| bytes[1] >> 6).collect();
        assert_eq!(levels, vec![3, 1]);
    }

    #[test]
    fn other_bytes_are_not_taken_for_a_kept_font() {
        let a: Vec<u8> = (0..5_000u32).map(|i| (i % 13) as u8).collect();
        let mut b = a.clone();
        b[2_500] ^= 0xff;
        let mut first = doc_with(vec![font_file(&a)]);
        compress(&mut first);
        let mut other = doc_with(vec![font_file(&b)]);
        compress(&mut other);
        let inflated = other
            .objects
            .values()
            .filter_map(|o| o.as_stream().ok())
            .map(|s| s.decompressed_content().expect("inflates"))
            .next();
        assert_eq!(inflated, Some(b));
    }

    #[test]
    fn a_stream_already_compressed_or_that_does_not_shrink_is_left_as_it_is() {
        let mut dict = Dictionary::new();
        dict.set("Filter", "DCTDecode");
        let jpeg = Stream::new(dict, vec![0xff, 0xd8, 0xff, 0xe0]);
        let tiny = font_file(b"ab");
        let mut doc = doc_with(vec![jpeg, tiny]);
        compress(&mut doc);
        let found = contents(&doc);
        assert!(found.contains(&(vec![0xff, 0xd8, 0xff, 0xe0], true)));
        assert!(found.contains(&(b"ab".to_vec(), false)));
    }
}
