//! The signed consent PDF (SPEC §6): study, committee and approval reference, form
//! version and hash, the full explanatory statement, each item agreed or not, the
//! typed name and drawn signature, the signing time in UTC, the participant code,
//! the identity check, the meaning of the signature and the record's SHA-256.

use super::layout::{Layout, TEXT_W, Weight};
use crate::domain::consent::ConsentRecord;
use crate::domain::consent::signature::Drawing;
use crate::error::AppResult;
use lopdf::{Dictionary, Object};

/// Sets simple Markdown (headings, bullets, paragraphs) as text.
pub(super) fn statement(layout: &mut Layout, markdown: &str) {
    let mut paragraph: Vec<String> = Vec::new();
    let flush = |layout: &mut Layout, paragraph: &mut Vec<String>| {
        if !paragraph.is_empty() {
            layout.paragraph(&paragraph.join(" "), 10.0, Weight::Regular, 0.0);
            layout.gap(2.0);
            paragraph.clear();
        }
    };
    for raw in markdown.lines() {
        let line = raw.trim().replace("**", "").replace("__", "");
        if line.is_empty() {
            flush(layout, &mut paragraph);
        } else if let Some(h) = line.strip_prefix('#') {
            flush(layout, &mut paragraph);
            layout.heading(h.trim_start_matches('#').trim(), 11.0);
        } else if let Some(item) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
            flush(layout, &mut paragraph);
            layout.paragraph(&format!("•  {item}"), 10.0, Weight::Regular, 4.0);
        } else {
            paragraph.push(line);
        }
    }
    flush(layout, &mut paragraph);
}

/// Renders the record; `record_sha256` is printed on every copy.
pub fn render(
    record: &ConsentRecord,
    record_sha256: &str,
    body_markdown: &str,
    drawing: Option<&Drawing>,
) -> AppResult<Vec<u8>> {
    let footer = format!(
        "{} · {} · record {}",
        record.participant_code,
        record.ethics_reference,
        &record_sha256[..16.min(record_sha256.len())]
    );
    let mut l = Layout::new(
        &format!("Signed consent {} — {}", record.participant_code, record.study_title),
        &footer,
    )?;

    let heading = match record.amends {
        None => "Signed consent record",
        Some(_) => "Signed change of consent choices",
    };
    l.paragraph(heading, 18.0, Weight::Bold, 0.0);
    l.gap(2.0);
    l.paragraph(&record.study_title, 13.0, Weight::Bold, 0.0);
    l.gap(2.0);
    l.field("Ethics committee", &record.committee);
    l.field("Approval reference", &record.ethics_reference);
    l.field(
        "Consent form",
        &format!("{} (version {}, {})", record.form_title, record.form_version, record.language),
    );
    l.field("Language signed", &record.language);
    l.field("Form SHA-256", &record.form_hash);
    l.field("Participant code", &record.participant_code);
    l.field("Signed at (UTC)", &record.signed_at);
    l.field("Identity check", &identity_label(&record.identity_check));
    l.field("Record id", &record.record_id);
    if let Some(earlier) = &record.amends {
        l.field("Amends record", earlier);
        l.paragraph(
            "This record replaces the choices of the earlier one; the required items are \
             unchanged, and the optional items below are as the participant now chooses.",
            9.0,
            Weight::Regular,
            0.0,
        );
    }
    l.rule();

    l.heading("Explanatory statement", 13.0);
    statement(&mut l, body_markdown);
    l.rule();

    l.heading("Consent items", 13.0);
    for item in &record.items {
        let mark = if item.agreed { "☑ Agreed" } else { "☐ Not agreed" };
        let kind = if item.required { "required" } else { "optional" };
        l.paragraph(&format!("{mark} ({kind})"), 10.0, Weight::Bold, 0.0);
        l.paragraph(&item.text, 10.0, Weight::Regular, 6.0);
        l.gap(1.5);
    }
    l.rule();

    if !record.checks.is_empty() {
        l.heading("Knowledge review", 13.0);
        l.paragraph(
            "Before signing, the participant answered these questions on the statement until \
             each answer was correct.",
            9.0,
            Weight::Regular,
            0.0,
        );
        for check in &record.checks {
            l.paragraph(&check.question, 10.0, Weight::Bold, 0.0);
            l.paragraph(&check.in_words(), 10.0, Weight::Regular, 6.0);
            l.gap(1.5);
        }
        l.rule();
    }

    l.heading("Signature", 13.0);
    l.paragraph(
        &format!("Meaning of this signature: {}.", record.meaning),
        10.0,
        Weight::Regular,
        0.0,
    );
    l.paragraph(
        "I have read the explanatory statement and agree to the items marked agreed above.",
        10.0,
        Weight::Regular,
        0.0,
    );
    l.gap(2.0);
    l.field("Typed full name", &record.typed_name);
    if let Some(d) = drawing {
        l.gap(2.0);
        l.paragraph("Drawn signature:", 10.0, Weight::Bold, 0.0);
        l.drawing(d.width, d.height, &d.strokes, (TEXT_W * 0.5).min(90.0), 30.0);
    }
    l.field("Signed at (UTC)", &record.signed_at);
    l.rule();
    l.paragraph("Integrity", 10.0, Weight::Bold, 0.0);
    l.paragraph(
        &format!(
            "SHA-256 of the consent record: {record_sha256}. The same hash is held in the study's \
             tamper-evident audit log; an ethics officer can verify that neither has changed."
        ),
        8.5,
        Weight::Regular,
        0.0,
    );
    with_record(l.finish_document(), &record.canonical())
}

/// The key of the document information entry that carries the signed record.
const RECORD_KEY: &[u8] = b"ConsentryRecord";

/// Writes the record's canonical JSON into the PDF's document information, so the
/// copy the participant was sent, and the stored one, say what was agreed in a form
/// a machine can compare with the database's record.
fn with_record(mut doc: lopdf::Document, record_json: &str) -> AppResult<Vec<u8>> {
    let value = Object::string_literal(record_json.as_bytes());
    let info = doc.trailer.get(b"Info").and_then(Object::as_reference).ok();
    match info.and_then(|id| doc.get_dictionary_mut(id).ok()) {
        Some(dict) => dict.set(RECORD_KEY, value),
        None => {
            let info = doc.add_object(Dictionary::from_iter([(RECORD_KEY.to_vec(), value)]));
            doc.trailer.set("Info", info);
        }
    }
    super::layout::save(doc)
}

/// The record a signed PDF carries (`None` for a PDF signed before records were
/// embedded, or one that is not a PDF).
pub fn embedded_record(pdf: &[u8]) -> Option<String> {
    let doc = lopdf::Document::load_mem(pdf).ok()?;
    let id = doc.trailer.get(b"Info").and_then(Object::as_reference).ok()?;
    let bytes = doc.get_dictionary(id).ok()?.get(RECORD_KEY).and_then(Object::as_str).ok()?;
    String::from_utf8(bytes.to_vec()).ok()
}

fn identity_label(check: &str) -> String {
    match check {
        "email_code" => {
            "a one-time code sent to the participant's e-mail address was entered before signing"
                .into()
        }
        "none" => "none beyond the participant's private link".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::consent::signature::parse_drawing;
    use crate::domain::consent::{ItemDecision, SIGNATURE_MEANING};

    fn record() -> ConsentRecord {
        ConsentRecord {
            record_id: "c-0001".into(),
            study: "social-media-med-ed".into(),
            study_title: "Social media use in medical education".into(),
            committee: "Monash University Human Research Ethics Committee".into(),
            ethics_reference: "CF15/2639-2015001090".into(),
            participant_code: "P001".into(),
            form_version: "1".into(),
            form_title: "Consent to take part".into(),
            form_hash: "a".repeat(64),
            language: "en-AU".into(),
            items: vec![
                ItemDecision {
                    key: "take_part".into(),
                    text: "I agree to take part in a focus group.".into(),
                    required: true,
                    agreed: true,
                    governs: None,
                },
                ItemDecision {
                    key: "quotes".into(),
                    text: "I agree to be quoted “verbatim”.".into(),
                    required: false,
                    agreed: false,
                    governs: Some(crate::domain::consent::Governs::VerbatimQuotes),
                },
            ],
            typed_name: "Zoë O’Brien-Nguyễn".into(),
            drawn_signature_sha256: None,
            signed_at: "2026-11-25T05:00:00.000000Z".into(),
            identity_check: "none".into(),
            meaning: SIGNATURE_MEANING.into(),
            amends: None,
            checks: vec![
                crate::domain::consent::review::CheckOutcome {
                    key: "withdraw".into(),
                    question: "Can you withdraw after the group?".into(),
                    tries: 1,
                    first_try_correct: true,
                },
                crate::domain::consent::review::CheckOutcome {
                    key: "marks".into(),
                    question: "Does taking part change your marks?".into(),
                    tries: 3,
                    first_try_correct: false,
                },
            ],
        }
    }

    #[test]
    #[ignore = "timing aid: cargo test --release pdf_render_time -- --ignored --nocapture"]
    fn pdf_render_time() {
        let started = std::time::Instant::now();
        for _ in 0..20 {
            render(&record(), &"b".repeat(64), &"A statement. ".repeat(300), None)
                .expect("renders");
        }
        println!("render: {:?} each", started.elapsed() / 20);
        let pdf = render(&record(), &"b".repeat(64), &"A statement. ".repeat(300), None)
            .expect("renders");
        println!("size: {} bytes", pdf.len());
    }

    #[test]
    fn the_text_reads_back_with_reference_name_and_hash() {
        let hash = "c0ffee".repeat(10) + "abcd";
        let pdf =
            render(&record(), &hash, "## Explanatory statement\nShort.", None).expect("renders");
        let doc = printpdf::PdfDocument::parse(
            &pdf,
            &printpdf::PdfParseOptions::default(),
            &mut Vec::new(),
        )
        .expect("the PDF parses");
        let text: String = doc.extract_text().into_iter().flatten().collect::<Vec<_>>().join(" ");
        for expected in [
            "CF15/2639-2015001090",
            "Zoë O’Brien-Nguyễn",
            "“verbatim”",
            &hash,
            "P001",
            "Monash University",
            "Knowledge review",
            "Can you withdraw after the group?",
            "Correct at the first try.",
            "Correct after 3 tries (the first answer was not).",
        ] {
            assert!(text.contains(expected), "{expected} not found in: {text}");
        }
    }

    /// The embedded font programs of a PDF, decompressed, shortest first.
    fn font_files(pdf: &[u8]) -> Vec<Vec<u8>> {
        let doc = lopdf::Document::load_mem(pdf).expect("the PDF loads");
        let mut files: Vec<Vec<u8>> = doc
            .objects
            .values()
            .filter_map(|o| o.as_stream().ok())
            .filter(|s| s.dict.get(b"Length1").is_ok())
            .map(|s| s.decompressed_content().unwrap_or_else(|_| s.content.clone()))
            .collect();
        files.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        files
    }

    #[test]
    fn consents_to_one_form_whose_names_differ_in_ascii_embed_the_same_fonts() {
        let body = "## Explanatory statement\nShort.";
        let signed_by = |name: &str| {
            let mut r = record();
            r.typed_name = name.into();
            render(&r, &"b".repeat(64), body, None).expect("renders")
        };
        let (one, other) = (signed_by("Quentin Xu"), signed_by("Jo Vogel"));
        let (one_fonts, other_fonts) = (font_files(&one), font_files(&other));
        assert_eq!(one_fonts.len(), 2, "a regular and a bold font");
        let sizes = |fonts: &[Vec<u8>]| fonts.iter().map(Vec::len).collect::<Vec<_>>();
        assert!(
            one_fonts == other_fonts,
            "the same font programs for both names, not {:?} and {:?} bytes",
            sizes(&one_fonts),
            sizes(&other_fonts)
        );
        for (pdf, name) in [(&one, "Quentin Xu"), (&other, "Jo Vogel")] {
            let regular = font_files(pdf)
                .into_iter()
                .filter_map(|bytes| printpdf::ParsedFont::from_bytes(&bytes, 0, &mut Vec::new()))
                .find(|f| name.chars().all(|c| f.lookup_glyph_index(c as u32).is_some()));
            assert!(regular.is_some(), "an embedded font draws every letter of {name}");
        }
        let doc = lopdf::Document::load_mem(&one).expect("the PDF loads");
        let names: Vec<String> = doc
            .objects
            .values()
            .filter_map(|o| o.as_dict().ok())
            .filter(|d| d.get(b"Type").and_then(|t| t.as_name()).is_ok_and(|t| t == b"Font"))
            .filter_map(|d| d.get(b"BaseFont").and_then(|n| n.as_name()).ok())
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        assert!(!names.is_empty());
        for name in &names {
            let (tag, face) = name.split_once('+').unwrap_or_default();
            assert!(
                tag.len() == 6 && tag.bytes().all(|b| b.is_ascii_uppercase()) && !face.is_empty(),
                "a font cut down is named with a subset tag: {name}"
            );
        }
        let rare = signed_by("Zoë Nguyễn");
        let text: String = printpdf::PdfDocument::parse(
            &rare,
            &printpdf::PdfParseOptions::default(),
            &mut Vec::new(),
        )
        .expect("the PDF parses")
        .extract_text()
        .into_iter()
        .flatten()
        .collect();
        assert!(text.contains("Zoë Nguyễn"), "a name beyond ASCII reads back: {text}");
    }

    #[test]
    fn a_long_statement_paginates_and_the_pdf_is_whole() {
        let body = "## Explanatory statement\n".to_string()
            + &"This study explores how students use social media. ".repeat(400);
        let drawing =
            parse_drawing(r#"<svg viewBox="0 0 300 100"><path d="M10 50 L60 20 L120 80"/></svg>"#)
                .ok();
        let pdf = render(&record(), &"b".repeat(64), &body, drawing.as_ref()).expect("renders");
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("%%EOF"));
        let pages = text.matches("/Type /Page").count() + text.matches("/Type/Page").count();
        assert!(pages >= 3, "a long statement runs over several pages ({pages})");
    }
}
