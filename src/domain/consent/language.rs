//! Consent in several languages: a version has one text per language (each drafted
//! and approved on its own), all with the same items and questions so that what a
//! participant agrees to means the same whichever text they read. Which text a
//! participant sees: the one they chose, else the best their browser asks for,
//! else the version's first text.

use super::{ConsentForm, ConsentFormDraft};
use crate::domain::fields::FieldErrors;

/// Whether two language tags name the same language (BCP 47 is case-insensitive).
pub fn same_tag(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn primary(tag: &str) -> &str {
    tag.split('-').next().unwrap_or(tag)
}

/// The text to show among `available` (tags in the version's order): the one
/// `chosen` names, else the first match of the browser's `Accept-Language` (by
/// quality; exact tag before the same primary language), else the first.
pub fn pick(available: &[&str], chosen: Option<&str>, accept: Option<&str>) -> usize {
    if let Some(i) = chosen.and_then(|c| available.iter().position(|a| same_tag(a, c))) {
        return i;
    }
    let mut asked: Vec<(f32, usize, &str)> = accept
        .unwrap_or("")
        .split(',')
        .enumerate()
        .filter_map(|(order, part)| {
            let mut bits = part.split(';');
            let tag = bits.next()?.trim();
            let q = bits
                .find_map(|b| b.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (!tag.is_empty() && tag != "*" && q > 0.0).then_some((q, order, tag))
        })
        .collect();
    asked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, _, tag) in &asked {
        if let Some(i) = available.iter().position(|a| same_tag(a, tag)) {
            return i;
        }
        if let Some(i) = available.iter().position(|a| same_tag(primary(a), primary(tag))) {
            return i;
        }
    }
    0
}

/// A language's own name for the switcher, for the languages research teams most
/// often recruit in; other tags are shown as they are.
pub fn autonym(tag: &str) -> &str {
    let names: &[(&str, &str)] = &[
        ("ar", "العربية"),
        ("de", "Deutsch"),
        ("el", "Ελληνικά"),
        ("en", "English"),
        ("es", "Español"),
        ("fr", "Français"),
        ("hi", "हिन्दी"),
        ("id", "Bahasa Indonesia"),
        ("it", "Italiano"),
        ("ja", "日本語"),
        ("ko", "한국어"),
        ("ms", "Bahasa Melayu"),
        ("nl", "Nederlands"),
        ("pl", "Polski"),
        ("pt", "Português"),
        ("ru", "Русский"),
        ("sv", "Svenska"),
        ("th", "ไทย"),
        ("tr", "Türkçe"),
        ("uk", "Українська"),
        ("vi", "Tiếng Việt"),
        ("zh", "中文"),
    ];
    let p = primary(tag).to_ascii_lowercase();
    names.iter().find(|(t, _)| *t == p).map_or(tag, |(_, n)| n)
}

/// Checks that `draft`, another language's text of `first`'s version, asks the same
/// things: the same items (keys, order, required, what they govern), the same
/// questions (keys, number of options, the correct one in the same place) and the
/// same number of tries. Only the words may differ.
pub fn check_translation(first: &ConsentForm, draft: &ConsentFormDraft) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    let shape = |items: &[super::ConsentItem]| {
        items.iter().map(|i| (i.key.clone(), i.required, i.governs)).collect::<Vec<_>>()
    };
    if shape(&first.items) != shape(&draft.items) {
        let keys: Vec<&str> = first.items.iter().map(|i| i.key.as_str()).collect();
        errors.add(
            "items",
            "translation_differs",
            format!(
                "A translation of version {} has the same items in the same order, each required \
                 or optional and governing as in {}: {}.",
                first.version,
                first.language,
                keys.join(", ")
            ),
        );
    }
    let checks = |f: &[super::review::Check]| {
        f.iter()
            .map(|c| {
                (c.key.clone(), c.options.len(), c.options.iter().position(|o| *o == c.answer))
            })
            .collect::<Vec<_>>()
    };
    if checks(&first.review.checks) != checks(&draft.review.checks)
        || first.review.max_tries != draft.review.max_tries
    {
        errors.add(
            "checks",
            "translation_differs",
            format!(
                "A translation of version {} asks the same knowledge-review questions as {}: the \
                 same keys, as many options each, the correct answer in the same place, and the \
                 same number of tries.",
                first.version, first.language
            ),
        );
    }
    if same_tag(&first.language, &draft.language) {
        errors.add(
            "language",
            "same_language",
            format!("Version {} is in {} already.", first.version, first.language),
        );
    }
    errors.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chosen_text_then_the_browser_then_the_first() {
        let available = ["en-AU", "fr", "vi"];
        assert_eq!(pick(&available, Some("FR"), Some("vi")), 1);
        assert_eq!(pick(&available, Some("de"), Some("vi;q=0.9, fr-CA;q=0.8")), 2);
        assert_eq!(pick(&available, None, Some("fr-CA, en;q=0.5")), 1, "the same primary language");
        assert_eq!(pick(&available, None, Some("en-GB;q=0.9, fr;q=0.95")), 1, "by quality");
        assert_eq!(pick(&available, None, Some("de, *")), 0);
        assert_eq!(pick(&available, None, Some("vi;q=0")), 0, "q=0 is a refusal");
        assert_eq!(pick(&available, None, None), 0);
        assert_eq!(pick(&available, None, Some(";;,,q=x")), 0);
    }

    fn text(language: &str, answer_first: bool, max_tries: Option<u32>) -> ConsentFormDraft {
        use crate::domain::consent::review::CheckInput;
        use crate::domain::consent::{ItemInput, ReviewInput};
        let options = vec!["A".to_string(), "B".to_string()];
        let answer = if answer_first { "A" } else { "B" };
        let review = ReviewInput {
            checks: vec![CheckInput {
                key: "q".into(),
                question: "Q?".into(),
                options,
                answer: answer.into(),
                explanation: "E.".into(),
            }],
            max_tries,
        };
        let items = [ItemInput {
            key: "take_part".into(),
            text: "T.".into(),
            required: true,
            ..Default::default()
        }];
        ConsentFormDraft::parse("1", language, "T", "B", &items, &review)
            .unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn stored(d: ConsentFormDraft) -> ConsentForm {
        ConsentForm {
            id: 1,
            study_id: 1,
            form_hash: d.form_hash(),
            version: d.version,
            language: d.language,
            title: d.title,
            body_markdown: d.body_markdown,
            items: d.items,
            review: d.review,
            state: super::super::FormState::Active,
            approval_reference: None,
            approved_on: None,
        }
    }

    #[test]
    fn a_translation_keeps_the_questions_and_their_answers_in_place() {
        let first = stored(text("en", true, Some(3)));
        assert!(check_translation(&first, &text("fr", true, Some(3))).is_ok());
        let moved =
            check_translation(&first, &text("fr", false, Some(3))).err().unwrap_or_default();
        assert!(moved.contains("checks"), "the correct answer moved: {moved:?}");
        let tries = check_translation(&first, &text("fr", true, None)).err().unwrap_or_default();
        assert!(tries.contains("checks"), "another number of tries: {tries:?}");
        let same = check_translation(&first, &text("EN", true, Some(3))).err().unwrap_or_default();
        assert!(same.contains("language"), "{same:?}");
    }

    #[test]
    fn autonyms() {
        assert_eq!(autonym("fr-CA"), "Français");
        assert_eq!(autonym("en-AU"), "English");
        assert_eq!(autonym("tlh"), "tlh");
    }
}
