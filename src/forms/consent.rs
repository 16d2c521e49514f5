//! Consent-form files (`forms/consent/*.toml`): `title`, `language`, `body` (the
//! explanatory statement, Markdown) and `[[item]]` entries with `key`, `text`,
//! `required` and `governs`, and the optional knowledge review: `max_tries` and
//! `[[check]]` entries with `key`, `question`, `options`, `answer` (the correct
//! option, word for word) and `explanation`. A file has no version: it is given
//! when the file is drafted for a study.

use std::path::Path;

use serde::Deserialize;

use super::{FormFileError, line_of_key};
use crate::domain::consent::review::CheckInput;
use crate::domain::consent::{ConsentFormDraft, ItemInput, ReviewInput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentFile {
    title: String,
    language: String,
    body: String,
    #[serde(rename = "item", default)]
    items: Vec<ItemFile>,
    /// Wrong answers a question allows before "talk to the researchers".
    #[serde(default)]
    max_tries: Option<u32>,
    #[serde(rename = "check", default)]
    checks: Vec<CheckFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckFile {
    key: String,
    question: String,
    options: Vec<String>,
    answer: String,
    explanation: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemFile {
    key: String,
    text: String,
    #[serde(default)]
    required: bool,
    /// What the optional item's answer decides (`Governs`): empty for nothing.
    #[serde(default)]
    governs: String,
}

/// Reads a consent-form file and checks it as a draft of `version`.
pub fn draft_from_file(path: &Path, version: &str) -> Result<ConsentFormDraft, Vec<FormFileError>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![FormFileError::new(path, 0, "file", format!("cannot be read: {e}"))])?;
    draft_from_str(path, &text, version)
}

pub fn draft_from_str(
    path: &Path,
    text: &str,
    version: &str,
) -> Result<ConsentFormDraft, Vec<FormFileError>> {
    let file: ConsentFile =
        toml::from_str(text).map_err(|e| vec![super::toml_error(path, text, &e)])?;
    let items: Vec<ItemInput> = file
        .items
        .iter()
        .map(|i| ItemInput {
            key: i.key.clone(),
            text: i.text.clone(),
            required: i.required,
            governs: i.governs.clone(),
        })
        .collect();
    let review = ReviewInput {
        checks: file
            .checks
            .into_iter()
            .map(|c| CheckInput {
                key: c.key,
                question: c.question,
                options: c.options,
                answer: c.answer,
                explanation: c.explanation,
            })
            .collect(),
        max_tries: file.max_tries,
    };
    ConsentFormDraft::parse(version, &file.language, &file.title, &file.body, &items, &review)
        .map_err(|errors| super::file_errors(path, text, &errors, locate))
}

/// The file's name and line for a draft's field: `items[2].key` is the third
/// `[[item]]` table's `key`, `checks[0].answer` the first `[[check]]` table's `answer`.
fn locate(text: &str, field: &str) -> (String, usize) {
    for (prefix, table, name) in [("items[", "[[item]]", "item"), ("checks[", "[[check]]", "check")]
    {
        if let Some((index, sub)) = field.strip_prefix(prefix).and_then(|r| r.split_once("].")) {
            let nth = index.parse::<usize>().unwrap_or(0);
            let at = text.match_indices(table).nth(nth).map(|(at, _)| at).unwrap_or(0);
            return (format!("{name}[{}].{sub}", nth + 1), line_of_key(text, sub, at));
        }
    }
    let key = if field == "body_markdown" { "body" } else { field };
    (key.to_string(), line_of_key(text, key, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::consent::Governs;

    fn p() -> &'static Path {
        Path::new("forms/consent/test.toml")
    }

    #[test]
    fn the_seed_form_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("forms/consent/social-media-medical-education.toml");
        let draft = draft_from_file(&path, "1").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(draft.language, "en-AU");
        assert!(draft.body_markdown.contains("CF15/2639-2015001090"));
        let keys: Vec<_> = draft.items.iter().map(|i| (i.key.as_str(), i.required)).collect();
        assert_eq!(
            &keys[..4],
            [
                ("read_statement", true),
                ("take_part", true),
                ("audio_recording", true),
                ("verbatim_quotes", false)
            ]
        );
        let governed: Vec<_> = draft.items.iter().filter_map(|i| i.governs).collect();
        assert_eq!(governed, [Governs::VerbatimQuotes, Governs::ResultsSummary]);
        let checks: Vec<_> = draft.review.checks.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(checks, ["withdraw_after_group", "marks_unaffected"]);
        assert_eq!(draft.review.max_tries, Some(3));
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let unknown = "title = \"T\"\nlanguage = \"en\"\nbody = \"B\"\ncolour = \"red\"\n";
        let e = draft_from_str(p(), unknown, "1").err().unwrap_or_default();
        assert_eq!((e[0].line, e[0].key.as_str()), (4, "colour"), "{e:?}");
        assert!(e[0].to_string().starts_with("forms/consent/test.toml:4: colour:"));

        let bad_item = "title = \"T\"\nlanguage = \"en\"\nbody = \"B\"\n\n[[item]]\nkey = \"ok\"\ntext = \"Fine\"\n\n[[item]]\nkey = \"Not OK\"\ntext = \"x\"\n";
        let e = draft_from_str(p(), bad_item, "1").err().unwrap_or_default();
        assert_eq!((e[0].line, e[0].key.as_str()), (10, "item[2].key"), "{e:?}");

        let bad_language = "title = \"T\"\nlanguage = \"English please\"\nbody = \"B\"\n[[item]]\nkey = \"a\"\ntext = \"t\"\n";
        let e = draft_from_str(p(), bad_language, "1").err().unwrap_or_default();
        assert_eq!((e[0].line, e[0].key.as_str()), (2, "language"), "{e:?}");

        let unknown_effect = "title = \"T\"\nlanguage = \"en\"\nbody = \"B\"\n\n[[item]]\nkey = \"ok\"\ntext = \"Fine\"\n\n[[item]]\nkey = \"quotes\"\ntext = \"Quote me\"\ngoverns = \"quoting\"\n";
        let e = draft_from_str(p(), unknown_effect, "1").err().unwrap_or_default();
        assert_eq!((e[0].line, e[0].key.as_str()), (12, "item[2].governs"), "{e:?}");
        assert!(e[0].message.contains("verbatim_quotes"), "the message lists the values: {e:?}");

        let wrong_answer = "title = \"T\"\nlanguage = \"en\"\nbody = \"B\"\n\n[[item]]\nkey = \"ok\"\ntext = \"Fine\"\n\n[[check]]\nkey = \"q\"\nquestion = \"Can you stop?\"\noptions = [\"Yes\", \"No\"]\nanswer = \"Maybe\"\nexplanation = \"See Withdrawing.\"\n";
        let e = draft_from_str(p(), wrong_answer, "1").err().unwrap_or_default();
        assert_eq!((e[0].line, e[0].key.as_str()), (13, "check[1].answer"), "{e:?}");

        let e = draft_from_str(p(), "title = \n", "1").err().unwrap_or_default();
        assert_eq!(e[0].line, 1, "{e:?}");
    }
}
