//! A printable poster for an ad: its title and text, what taking part involves,
//! the study's approval, and the ad's short link in large type.

use super::consent::statement;
use super::layout::{Layout, Weight};
use crate::error::AppResult;

/// What a poster says.
pub struct Poster<'a> {
    pub title: &'a str,
    pub body_markdown: &'a str,
    pub study_title: &'a str,
    pub summary: &'a str,
    pub committee: &'a str,
    pub reference: &'a str,
    pub contact: &'a str,
    pub link: &'a str,
}

pub fn render(p: &Poster<'_>) -> AppResult<Vec<u8>> {
    let mut l = Layout::new(p.title, &format!("{} · approval {}", p.study_title, p.reference))?;
    l.paragraph(p.title, 24.0, Weight::Bold, 0.0);
    l.gap(4.0);
    statement(&mut l, p.body_markdown);
    l.gap(4.0);
    l.heading("What taking part involves", 13.0);
    l.paragraph(p.summary, 11.0, Weight::Regular, 0.0);
    l.gap(2.0);
    l.paragraph(
        "Taking part is voluntary. You will read the full explanatory statement before deciding, \
         and you can withdraw at any time without giving a reason.",
        11.0,
        Weight::Regular,
        0.0,
    );
    l.gap(6.0);
    l.paragraph("To find out more and take part, go to", 13.0, Weight::Regular, 0.0);
    // The link must stay on one line: the longer it is, the smaller it is set.
    let size = match p.link.chars().count() {
        0..=32 => 20.0,
        33..=42 => 16.0,
        43..=54 => 13.0,
        _ => 10.0,
    };
    l.paragraph(p.link, size, Weight::Bold, 0.0);
    if let Ok(code) = qrcode::QrCode::new(p.link.as_bytes()) {
        let width = code.width();
        let dark: Vec<bool> =
            code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect();
        l.gap(2.0);
        l.paragraph("or scan:", 11.0, Weight::Regular, 0.0);
        l.modules(&dark, width, 40.0);
    }
    l.gap(6.0);
    l.rule();
    l.paragraph(p.study_title, 10.0, Weight::Bold, 0.0);
    l.paragraph(
        &format!("Approved by the {}, reference {}.", p.committee, p.reference),
        10.0,
        Weight::Regular,
        0.0,
    );
    l.paragraph(&format!("Contact: {}", p.contact), 10.0, Weight::Regular, 0.0);
    l.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poster_carries_the_link_and_the_approval() {
        let pdf = render(&Poster {
            title: "Do you use social media to study?",
            body_markdown: "Join a **one-hour** focus group.\n\n- Light refreshments",
            study_title: "Social media use in medical education",
            summary: "How medical students use social media for learning.",
            committee: "Monash University Human Research Ethics Committee",
            reference: "CF15/2639-2015001090",
            contact: "Cora Ordinator <coord@example.org>",
            link: "https://consentry.example.edu/ads/moodle-mbbs",
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let doc = printpdf::PdfDocument::parse(
            &pdf,
            &printpdf::PdfParseOptions::default(),
            &mut Vec::new(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let text: String = doc.extract_text().into_iter().flatten().collect::<Vec<_>>().join(" ");
        for expected in [
            "Do you use social media to study?",
            "https://consentry.example.edu/ads/moodle-mbbs",
            "CF15/2639-2015001090",
            "What taking part involves",
            "or scan:",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
    }
}
