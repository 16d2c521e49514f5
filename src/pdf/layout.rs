//! A small page layout on A4: wrapped paragraphs measured with the font's own glyph
//! widths, headings, rules, drawn strokes, page breaks and "page i of n" footers.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use printpdf::{
    Color, FontId, Line, LinePoint, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFont,
    PdfFontHandle, PdfPage, PdfSaveOptions, Point, Polygon, PolygonRing, Pt, Rgb, TextItem,
    WindingOrder,
};

use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
pub const MARGIN: f32 = 20.0;
const FOOTER: f32 = 12.0;
pub const TEXT_W: f32 = PAGE_W - 2.0 * MARGIN;
const PT_PER_MM: f32 = 72.0 / 25.4;

struct Fonts {
    regular: ParsedFont,
    bold: ParsedFont,
}

static FONTS: LazyLock<Option<Fonts>> = LazyLock::new(|| {
    let regular = ParsedFont::from_bytes(dejavu::sans::regular(), 0, &mut Vec::new())?;
    let bold = ParsedFont::from_bytes(dejavu::sans::bold(), 0, &mut Vec::new())?;
    Some(Fonts { regular, bold })
});

/// Whether both the regular and the bold font have a glyph for `c`.
pub fn can_print(c: char) -> bool {
    FONTS.as_ref().is_some_and(|f| {
        [&f.regular, &f.bold]
            .iter()
            .all(|font| font.as_azul().lookup_glyph_index(c as u32).is_some())
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

/// A font cut down to the characters a document sets, with the ASCII letters and
/// digits besides.
///
/// Cutting DejaVu down (and parsing the result) for each document was a third of
/// printing a consent, and every consent to one form version sets nearly the same
/// characters: the statement's, the labels', and a name, a code and hashes made
/// mostly of ASCII letters and digits. So a cut font is kept for its characters,
/// and documents that differ only in those share it; its glyph numbers are its own,
/// and the PDF embeds it as it is. The letters and digits cost some 3 KB a PDF.
struct Subset {
    weight: Weight,
    chars: Vec<char>,
    font: ParsedFont,
}

/// How many cut fonts are kept (each some 20–40 KB): the regular and bold fonts of
/// every form version in use, and those of names with rarer letters.
const KEPT_SUBSETS: usize = 32;

/// The cut fonts, the most recently used first.
static SUBSETS: Mutex<VecDeque<Arc<Subset>>> = Mutex::new(VecDeque::new());

/// The characters a font cut for `used` holds: those, and the ASCII letters and
/// digits, sorted.
fn subset_chars(used: &BTreeSet<char>) -> Vec<char> {
    let ascii = ('0'..='9').chain('A'..='Z').chain('a'..='z').filter(|c| !used.contains(c));
    let mut chars: Vec<char> = used.iter().copied().chain(ascii).collect();
    chars.sort_unstable();
    chars
}

/// The tag that names a font cut down to `chars`: six capitals from their SHA-256,
/// the same for the same characters.
fn subset_tag(chars: &[char]) -> String {
    let digest = Sha256::digest(chars.iter().collect::<String>().as_bytes());
    digest.iter().take(6).map(|b| char::from(b'A' + b % 26)).collect()
}

/// `weight` cut down to `chars` (sorted), from those kept or cut now; `None` when
/// cutting fails.
fn subset(weight: Weight, chars: Vec<char>) -> Option<ParsedFont> {
    {
        let mut kept = SUBSETS.lock().unwrap_or_else(PoisonError::into_inner);
        let found = kept.iter().position(|s| s.weight == weight && s.chars == chars);
        if let Some(found) = found.and_then(|i| kept.remove(i)) {
            let font = found.font.clone();
            kept.push_front(found);
            return Some(font);
        }
    }
    // Cutting takes a while: other documents need not wait for it.
    let full = Layout::font(weight)?;
    let mut glyphs = BTreeMap::new();
    for c in &chars {
        if let Some(glyph) = full.lookup_glyph_index(*c as u32) {
            glyphs.entry(glyph).or_insert_with(|| c.to_string());
        }
    }
    let cut = printpdf::subset_font(full, &glyphs).ok()?;
    let mut font = ParsedFont::from_bytes(&cut.bytes, 0, &mut Vec::new())?;
    // A font cut down is named with a tag of six capitals (ISO 32000-1, 9.6.4).
    font.font_name = full.font_name.as_ref().map(|name| format!("{}+{name}", subset_tag(&chars)));
    let mut kept = SUBSETS.lock().unwrap_or_else(PoisonError::into_inner);
    if !kept.iter().any(|s| s.weight == weight && s.chars == chars) {
        kept.push_front(Arc::new(Subset { weight, chars, font: font.clone() }));
        kept.truncate(KEPT_SUBSETS);
    }
    Some(font)
}

/// The advance of `c` in the font's units (600, about an average glyph, for a
/// character the font lacks).
fn char_units(font: &ParsedFont, c: char) -> u32 {
    let face = font.as_azul();
    face.lookup_glyph_index(c as u32)
        .map(|g| u32::from(face.get_horizontal_advance(g)))
        .unwrap_or(600)
}

/// The advance of `text` in the font's units.
fn units(font: &ParsedFont, text: &str) -> u32 {
    text.chars().map(|c| char_units(font, c)).fold(0, u32::saturating_add)
}

/// `units` of `font` set at `size` points, in millimetres.
fn units_mm(font: &ParsedFont, units: u32, size: f32) -> f32 {
    units as f32 / f32::from(font.as_azul().font_metrics.units_per_em.max(1)) * size / PT_PER_MM
}

/// Width of `text` at `size` points, in millimetres.
fn width_mm(font: &ParsedFont, text: &str, size: f32) -> f32 {
    units_mm(font, units(font, text), size)
}

/// Splits `text` into lines no wider than `max_mm`, breaking at spaces (and inside
/// a word only when the word alone is too wide). Each line is as many words as fit;
/// every character is measured once, a line's width being the sum of its
/// characters' advances.
fn wrap(font: &ParsedFont, text: &str, size: f32, max_mm: f32) -> Vec<String> {
    let fits = |units: u32| units_mm(font, units, size) <= max_mm;
    let space = char_units(font, ' ');
    let mut lines = Vec::new();
    let (mut current, mut current_units) = (String::new(), 0u32);
    for word in text.split_whitespace() {
        let word_units = units(font, word);
        let candidate = if current.is_empty() {
            word_units
        } else {
            current_units.saturating_add(space).saturating_add(word_units)
        };
        if fits(candidate) {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
            current_units = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        let (mut piece, mut piece_units) = (String::new(), 0u32);
        for c in word.chars() {
            let c_units = char_units(font, c);
            piece.push(c);
            piece_units = piece_units.saturating_add(c_units);
            if !fits(piece_units) {
                piece.pop();
                lines.push(std::mem::take(&mut piece));
                piece.push(c);
                piece_units = c_units;
            }
        }
        (current, current_units) = (piece, piece_units);
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

pub struct Layout {
    doc: PdfDocument,
    regular: FontId,
    bold: FontId,
    /// The characters set in the regular and in the bold weight.
    used: [BTreeSet<char>; 2],
    pages: Vec<Vec<Op>>,
    y: f32,
    footer_left: String,
}

impl Layout {
    /// A document titled `title`; `footer_left` is printed at the foot of every page.
    pub fn new(title: &str, footer_left: &str) -> AppResult<Self> {
        if FONTS.is_none() {
            return Err(AppError::Internal("the embedded DejaVu font could not be read".into()));
        }
        Ok(Self {
            doc: PdfDocument::new(title),
            regular: FontId::new(),
            bold: FontId::new(),
            used: [BTreeSet::new(), BTreeSet::new()],
            pages: vec![Vec::new()],
            y: PAGE_H - MARGIN,
            footer_left: footer_left.to_string(),
        })
    }

    fn font(weight: Weight) -> Option<&'static ParsedFont> {
        FONTS.as_ref().map(|f| match weight {
            Weight::Regular => &f.regular,
            Weight::Bold => &f.bold,
        })
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// The width of `text` set at `size` points, in millimetres.
    pub fn text_width(&self, text: &str, size: f32, weight: Weight) -> f32 {
        Self::font(weight).map(|f| width_mm(f, text, size)).unwrap_or(0.0)
    }

    /// Starts a new page when less than `height` millimetres remain.
    pub fn ensure(&mut self, height: f32) {
        if self.y - height < MARGIN + FOOTER {
            self.pages.push(Vec::new());
            self.y = PAGE_H - MARGIN;
        }
    }

    fn put(&mut self, x: f32, y: f32, text: &str, size: f32, weight: Weight) {
        let (font, used) = match weight {
            Weight::Regular => (self.regular.clone(), &mut self.used[0]),
            Weight::Bold => (self.bold.clone(), &mut self.used[1]),
        };
        used.extend(text.chars());
        self.ops().extend([
            Op::StartTextSection,
            Op::SetFont { font: PdfFontHandle::External(font), size: Pt(size) },
            Op::SetTextCursor { pos: Point::new(Mm(x), Mm(y)) },
            Op::ShowText { items: vec![TextItem::Text(text.to_string())] },
            Op::EndTextSection,
        ]);
    }

    /// A wrapped paragraph at `indent` millimetres from the margin.
    pub fn paragraph(&mut self, text: &str, size: f32, weight: Weight, indent: f32) {
        let Some(font) = Self::font(weight) else { return };
        let line_h = size * 1.45 / PT_PER_MM;
        for line in wrap(font, text, size, TEXT_W - indent) {
            self.ensure(line_h);
            self.y -= line_h;
            self.put(MARGIN + indent, self.y, &line, size, weight);
        }
    }

    /// A label in bold followed by its value, wrapped under the label's column.
    pub fn field(&mut self, label: &str, value: &str) {
        let size = 10.0;
        let Some(font) = Self::font(Weight::Regular) else { return };
        let label_w = 48.0;
        let line_h = size * 1.45 / PT_PER_MM;
        let lines = wrap(font, value, size, TEXT_W - label_w);
        for (i, line) in lines.iter().enumerate() {
            self.ensure(line_h);
            self.y -= line_h;
            if i == 0 {
                self.put(MARGIN, self.y, label, size, Weight::Bold);
            }
            self.put(MARGIN + label_w, self.y, line, size, Weight::Regular);
        }
    }

    pub fn heading(&mut self, text: &str, size: f32) {
        self.ensure(size / PT_PER_MM * 3.0);
        self.gap(size / PT_PER_MM * 0.6);
        self.paragraph(text, size, Weight::Bold, 0.0);
        self.gap(1.5);
    }

    pub fn gap(&mut self, mm: f32) {
        self.y -= mm;
    }

    pub fn rule(&mut self) {
        self.ensure(4.0);
        self.gap(2.0);
        let y = self.y;
        self.line(&[(MARGIN, y), (PAGE_W - MARGIN, y)], 0.5);
        self.gap(2.0);
    }

    fn line(&mut self, points: &[(f32, f32)], thickness: f32) {
        let line = Line {
            points: points
                .iter()
                .map(|(x, y)| LinePoint { p: Point::new(Mm(*x), Mm(*y)), bezier: false })
                .collect(),
            is_closed: false,
        };
        self.ops().extend([
            Op::SetOutlineColor {
                col: Color::Rgb(Rgb { r: 0.1, g: 0.1, b: 0.1, icc_profile: None }),
            },
            Op::SetOutlineThickness { pt: Pt(thickness) },
            Op::DrawLine { line },
        ]);
    }

    /// Draws strokes given in a `width` × `height` box (y down) into a box of
    /// `box_w` × `box_h` millimetres under the cursor, keeping the aspect ratio.
    pub fn drawing(
        &mut self,
        width: f32,
        height: f32,
        strokes: &[Vec<(f32, f32)>],
        box_w: f32,
        box_h: f32,
    ) {
        self.ensure(box_h + 2.0);
        let scale = (box_w / width).min(box_h / height);
        let top = self.y - 1.0;
        let left = MARGIN;
        for stroke in strokes.iter().filter(|s| s.len() >= 2) {
            let pts: Vec<(f32, f32)> =
                stroke.iter().map(|(x, y)| (left + x * scale, top - y * scale)).collect();
            self.line(&pts, 1.2);
        }
        self.y -= box_h + 2.0;
        let y = self.y;
        self.line(&[(MARGIN, y), (MARGIN + box_w, y)], 0.3);
    }

    /// One table row: every cell wrapped within its column, the first left-aligned and
    /// the others right-aligned. A thin rule follows when `ruled`.
    pub fn table_row(&mut self, widths: &[f32], cells: &[&str], weight: Weight, ruled: bool) {
        let size = 9.0;
        let Some(font) = Self::font(weight) else { return };
        let line_h = size * 1.4 / PT_PER_MM;
        let wrapped: Vec<Vec<String>> = widths
            .iter()
            .zip(cells)
            .map(|(w, text)| wrap(font, text, size, (w - 2.0).max(4.0)))
            .collect();
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        self.ensure(line_h * lines as f32 + 1.5);
        let top = self.y - line_h;
        let mut left = MARGIN;
        for (i, (w, column)) in widths.iter().zip(&wrapped).enumerate() {
            for (j, line) in column.iter().enumerate() {
                let x = if i == 0 { left } else { left + w - width_mm(font, line, size) };
                self.put(x, top - line_h * j as f32, line, size, weight);
            }
            left += w;
        }
        self.y -= line_h * lines as f32 + 1.0;
        if ruled {
            let y = self.y + 0.4;
            self.line(&[(MARGIN, y), (MARGIN + widths.iter().sum::<f32>(), y)], 0.3);
        }
    }

    /// One horizontal bar: its label, a filled bar `fraction` of the plot's width
    /// long (none when the count is hidden), and what it shows at its end.
    pub fn bar(&mut self, label: &str, fraction: Option<f32>, shown: &str) {
        let size = 8.5;
        let label_w = 62.0;
        let plot_w = TEXT_W - label_w - 16.0;
        let h = 5.0;
        self.ensure(h + 1.0);
        let Some(font) = Self::font(Weight::Regular) else { return };
        let mut text = label.to_string();
        if width_mm(font, &text, size) > label_w - 3.0 {
            let mut kept: Vec<char> = label.chars().collect();
            while !kept.is_empty() {
                kept.pop();
                text = format!("{}…", kept.iter().collect::<String>().trim_end());
                if width_mm(font, &text, size) <= label_w - 3.0 {
                    break;
                }
            }
        }
        let top = self.y;
        self.put(MARGIN, top - h + 1.3, &text, size, Weight::Regular);
        let left = MARGIN + label_w;
        let length = fraction.map(|f| f.clamp(0.0, 1.0) * plot_w).unwrap_or(0.0);
        if length > 0.0 {
            self.fill_rect(left, top - h + 0.6, length, h - 1.2);
        }
        self.put(left + length + 1.5, top - h + 1.3, shown, size, Weight::Regular);
        self.y -= h;
    }

    /// A square grid of dark (`true`) and light modules, `width` a side, drawn
    /// `size` millimetres wide under the cursor (a QR code: black on white, its
    /// light border included by the caller).
    pub fn modules(&mut self, dark: &[bool], width: usize, size: f32) {
        if width == 0 {
            return;
        }
        self.ensure(size + 2.0);
        let cell = size / width as f32;
        let top = self.y - 1.0;
        let corner = |x: f32, y: f32| LinePoint { p: Point::new(Mm(x), Mm(y)), bezier: false };
        let rings = dark
            .iter()
            .enumerate()
            .filter(|(_, d)| **d)
            .map(|(i, _)| {
                let (col, row) = ((i % width) as f32, (i / width) as f32);
                let (x, y) = (MARGIN + col * cell, top - (row + 1.0) * cell);
                PolygonRing {
                    points: vec![
                        corner(x, y),
                        corner(x + cell, y),
                        corner(x + cell, y + cell),
                        corner(x, y + cell),
                    ],
                }
            })
            .collect();
        let polygon =
            Polygon { rings, mode: PaintMode::Fill, winding_order: WindingOrder::NonZero };
        let black = || Color::Rgb(Rgb { r: 0.0, g: 0.0, b: 0.0, icc_profile: None });
        self.ops().extend([
            Op::SetFillColor { col: black() },
            Op::DrawPolygon { polygon },
            Op::SetFillColor { col: black() },
        ]);
        self.y -= size + 2.0;
    }

    fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32) {
        let corner = |x: f32, y: f32| LinePoint { p: Point::new(Mm(x), Mm(y)), bezier: false };
        let polygon = Polygon {
            rings: vec![PolygonRing {
                points: vec![
                    corner(x, y),
                    corner(x + w, y),
                    corner(x + w, y + h),
                    corner(x, y + h),
                ],
            }],
            mode: PaintMode::Fill,
            winding_order: WindingOrder::NonZero,
        };
        self.ops().extend([
            Op::SetFillColor {
                col: Color::Rgb(Rgb { r: 0.16, g: 0.38, b: 0.62, icc_profile: None }),
            },
            Op::DrawPolygon { polygon },
            Op::SetFillColor { col: Color::Rgb(Rgb { r: 0.0, g: 0.0, b: 0.0, icc_profile: None }) },
        ]);
    }

    /// The finished document, each page with its footer and number, streams
    /// compressed, for a caller that adds to it before saving.
    pub fn finish_document(mut self) -> lopdf::Document {
        let n = self.pages.len();
        let footer = self.footer_left.clone();
        let mut pages = Vec::with_capacity(n);
        for (i, mut ops) in std::mem::take(&mut self.pages).into_iter().enumerate() {
            let number = format!("Page {} of {}", i + 1, n);
            let font = self.regular.clone();
            let number_x = PAGE_W
                - MARGIN
                - Self::font(Weight::Regular).map(|f| width_mm(f, &number, 8.0)).unwrap_or(20.0);
            for (x, text) in [(MARGIN, footer.as_str()), (number_x, number.as_str())] {
                self.used[0].extend(text.chars());
                ops.extend([
                    Op::StartTextSection,
                    Op::SetFont { font: PdfFontHandle::External(font.clone()), size: Pt(8.0) },
                    Op::SetTextCursor { pos: Point::new(Mm(x), Mm(MARGIN - 8.0)) },
                    Op::ShowText { items: vec![TextItem::Text(text.to_string())] },
                    Op::EndTextSection,
                ]);
            }
            pages.push(PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), ops));
        }
        let set = [
            (Weight::Regular, &self.regular, &self.used[0]),
            (Weight::Bold, &self.bold, &self.used[1]),
        ]
        .into_iter()
        .filter(|(_, _, used)| !used.is_empty());
        let cut: Option<Vec<(FontId, ParsedFont)>> = set
            .clone()
            .map(|(w, id, used)| Some((id.clone(), subset(w, subset_chars(used))?)))
            .collect();
        // Should cutting fail, the whole fonts go in and printpdf cuts them for this
        // document alone.
        let (fonts, subset_fonts) = match cut {
            Some(cut) => (cut, false),
            None => (
                set.filter_map(|(w, id, _)| Some((id.clone(), Self::font(w)?.clone()))).collect(),
                true,
            ),
        };
        let mut doc = self.doc;
        for (id, font) in fonts {
            doc.resources.fonts.map.insert(id, PdfFont::new(font));
        }
        let options = PdfSaveOptions { subset_fonts, ..PdfSaveOptions::default() };
        let mut doc = doc.with_pages(pages).to_lopdf_document(&options, &mut Vec::new());
        super::deflate::compress(&mut doc);
        doc
    }

    /// The finished document's bytes.
    pub fn finish(self) -> AppResult<Vec<u8>> {
        save(self.finish_document())
    }
}

/// A document's bytes.
pub fn save(mut doc: lopdf::Document) -> AppResult<Vec<u8>> {
    let mut out = Vec::new();
    doc.save_to(&mut out).map_err(|e| AppError::Internal(format!("writing a PDF: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_respects_the_measured_width() {
        let font = Layout::font(Weight::Regular).expect("font");
        let text = "Focus groups were held with 23 students enrolled in a medical degree programme in Melbourne, Australia, to explore how they use social media.";
        let lines = wrap(font, text, 10.0, 60.0);
        assert!(lines.len() >= 3, "{lines:?}");
        assert!(lines.iter().all(|l| width_mm(font, l, 10.0) <= 60.0));
        assert_eq!(lines.join(" "), text);
        let long = wrap(font, &"x".repeat(400), 10.0, 50.0);
        assert!(long.len() > 1 && long.iter().all(|l| width_mm(font, l, 10.0) <= 50.0));
    }

    /// The wrapping as first written, measuring each candidate line whole: the
    /// reference the incremental one must match line for line.
    fn wrap_by_measuring_lines(
        font: &ParsedFont,
        text: &str,
        size: f32,
        max_mm: f32,
    ) -> Vec<String> {
        let mut lines = Vec::new();
        let mut current = String::new();
        for word in text.split_whitespace() {
            let candidate =
                if current.is_empty() { word.to_string() } else { format!("{current} {word}") };
            if width_mm(font, &candidate, size) <= max_mm {
                current = candidate;
                continue;
            }
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            let mut piece = String::new();
            for c in word.chars() {
                piece.push(c);
                if width_mm(font, &piece, size) > max_mm {
                    piece.pop();
                    lines.push(std::mem::take(&mut piece));
                    piece.push(c);
                }
            }
            current = piece;
        }
        if !current.is_empty() || lines.is_empty() {
            lines.push(current);
        }
        lines
    }

    proptest::proptest! {
        #[test]
        fn wrapping_by_summed_advances_breaks_where_measuring_each_line_does(
            text in "([a-zA-Zéø’—0-9.,]{1,14}[ \\n]{1,2}){0,40}[a-zA-Z]{0,60}",
            size in 7.0f32..14.0,
            max_mm in 3.0f32..170.0,
        ) {
            let font = Layout::font(Weight::Regular).expect("font");
            proptest::prop_assert_eq!(
                wrap(font, &text, size, max_mm),
                wrap_by_measuring_lines(font, &text, size, max_mm)
            );
        }
    }

    #[test]
    fn dejavu_covers_names_from_many_languages() {
        let font = Layout::font(Weight::Regular).expect("font");
        for c in "Zoë O’Brien-Nguyễn “quoted” — Łódź Ærø".chars().filter(|c| !c.is_whitespace())
        {
            assert!(
                font.as_azul().lookup_glyph_index(c as u32).is_some_and(|g| g != 0),
                "no glyph for {c}"
            );
        }
    }
}
