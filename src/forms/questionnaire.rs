//! Questionnaire files (`forms/questionnaires/*.toml`, SPEC §9) read into
//! `domain::questionnaire::FormDefinition`, and the catalogue of every one loaded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{FormFileError, line_in_table, line_of_key, toml_error};
use crate::domain::FieldErrors;
use crate::domain::questionnaire::{
    ChoiceInput, FormDefinition, FormInput, QuestionInput, Translation, build,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionnaireFile {
    key: String,
    version: i64,
    /// The language of the plain texts (BCP 47, default `en`).
    language: Option<String>,
    title: Text,
    description: Option<Text>,
    #[serde(rename = "question", default)]
    questions: Vec<QuestionFile>,
    #[serde(default)]
    choices: BTreeMap<String, Vec<ChoiceFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionFile {
    key: String,
    #[serde(rename = "type")]
    kind: String,
    label: Text,
    help: Option<Text>,
    #[serde(default)]
    required: bool,
    section: Option<Text>,
    choices: Option<String>,
    min: Option<f64>,
    max: Option<f64>,
    min_length: Option<i64>,
    max_length: Option<i64>,
    pattern: Option<String>,
    min_choices: Option<i64>,
    max_choices: Option<i64>,
    show_if: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChoiceFile {
    value: String,
    label: Text,
}

/// A text as written: plain (in the questionnaire's language), or one per language
/// (`label.en = "…"`, `label.fr = "…"`), which must include the questionnaire's.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Text {
    Plain(String),
    Languages(BTreeMap<String, String>),
}

/// Splits each text of a file into the default words and their translations.
struct Words {
    language: String,
    translations: BTreeMap<String, Translation>,
    errors: FieldErrors,
}

impl Words {
    /// The default words of `text` (at `field`); the others go to `put`'s place in
    /// each language's translation.
    fn take(&mut self, text: Text, field: &str, put: impl Fn(&mut Translation, String)) -> String {
        let by_language = match text {
            Text::Plain(words) => return words,
            Text::Languages(by_language) => by_language,
        };
        let mut default = None;
        for (tag, words) in by_language {
            if crate::domain::consent::parse_language(&tag).is_err() {
                self.errors.add(
                    field,
                    "invalid_language",
                    format!("{tag} is not a language tag such as fr or pt-BR"),
                );
            } else if tag.eq_ignore_ascii_case(&self.language) {
                default = Some(words);
            } else {
                put(self.translations.entry(tag).or_default(), words);
            }
        }
        default.unwrap_or_else(|| {
            self.errors.add(
                field,
                "no_default_language",
                format!("needs a text in {}, the questionnaire's language", self.language),
            );
            String::new()
        })
    }
}

/// The SHA-256 (hex) of a form file's bytes: what a response is stamped with.
pub fn file_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Reads one questionnaire from its text; `path` only names it in errors.
pub fn parse_str(path: &Path, text: &str) -> Result<FormDefinition, Vec<FormFileError>> {
    let file: QuestionnaireFile =
        toml::from_str(text).map_err(|e| vec![toml_error(path, text, &e)])?;
    let language = file.language.unwrap_or_else(|| "en".to_string());
    let mut words = Words { language, translations: BTreeMap::new(), errors: FieldErrors::new() };
    if crate::domain::consent::parse_language(&words.language).is_err() {
        words.errors.add("language", "invalid", "must be a language tag such as en or fr");
    }
    let title = words.take(file.title, "title", |t, w| t.title = Some(w));
    let description =
        file.description.map(|d| words.take(d, "description", |t, w| t.description = Some(w)));
    let mut questions = Vec::with_capacity(file.questions.len());
    for (n, q) in file.questions.into_iter().enumerate() {
        let at = |f: &str| format!("question[{}].{f}", n + 1);
        let key = q.key.clone();
        let label = words.take(q.label, &at("label"), |t, w| {
            t.labels.insert(key.clone(), w);
        });
        let help = q.help.map(|h| {
            words.take(h, &at("help"), |t, w| {
                t.help.insert(key.clone(), w);
            })
        });
        let section = q.section.map(|h| {
            words.take(h, &at("section"), |t, w| {
                t.sections.insert(key.clone(), w);
            })
        });
        questions.push(QuestionInput {
            key: q.key,
            kind: q.kind,
            label,
            help,
            required: q.required,
            section,
            choices: q.choices,
            min: q.min,
            max: q.max,
            min_length: q.min_length,
            max_length: q.max_length,
            pattern: q.pattern,
            min_choices: q.min_choices,
            max_choices: q.max_choices,
            show_if: q.show_if,
        });
    }
    let mut choices = Vec::with_capacity(file.choices.len());
    for (name, list) in file.choices {
        let mut parsed = Vec::with_capacity(list.len());
        for (n, c) in list.into_iter().enumerate() {
            let field = format!("choices.{name}[{}].label", n + 1);
            let (list_name, value) = (name.clone(), c.value.clone());
            let label = words.take(c.label, &field, |t, w| {
                t.choices.entry(list_name.clone()).or_default().insert(value.clone(), w);
            });
            parsed.push(ChoiceInput { value: c.value, label });
        }
        choices.push((name, parsed));
    }
    let Words { translations, errors: found, .. } = words;
    let input = FormInput {
        key: file.key,
        version: file.version,
        title,
        description,
        questions,
        choices,
        translations,
    };
    let built = build(input, file_hash(text));
    let errors = match built {
        Ok(definition) if found.is_empty() => return Ok(definition),
        Ok(_) => found,
        Err(errors) => {
            // A text missing in the file's language is said once, not again as empty.
            let mut all = FieldErrors::new();
            for (field, list) in errors.iter().filter(|(f, _)| !found.contains(f)) {
                for e in list {
                    all.add(field, e.code, e.message.clone());
                }
            }
            all.merge(found);
            all
        }
    };
    Err(super::file_errors(path, text, &errors, locate))
}

/// The line of a domain field name: `question[3].min` is `min` in the third
/// `[[question]]` table, `choices.gender[2].value` is in the `gender` list.
fn locate(text: &str, field: &str) -> (String, usize) {
    if let Some((index, sub)) = field.strip_prefix("question[").and_then(|r| r.split_once("].")) {
        let nth = index.parse::<usize>().unwrap_or(1).saturating_sub(1);
        return (field.to_string(), line_in_table(text, "[[question]]", nth, sub));
    }
    if let Some(list) = field.strip_prefix("choices.") {
        let (name, rest) = list.split_once('[').unwrap_or((list, ""));
        let from = text.find("[choices]").unwrap_or(0);
        let start = line_of_key(text, name, from);
        // `gender[2].value`: the second `value` from the start of the list.
        let nth = rest.split(']').next().and_then(|n| n.parse::<usize>().ok());
        let line = match (nth, rest.split_once("].")) {
            (Some(n), Some((_, sub))) => {
                let at =
                    text.lines().take(start.saturating_sub(1)).map(|l| l.len() + 1).sum::<usize>();
                text[at.min(text.len())..]
                    .match_indices(sub)
                    .nth(n.saturating_sub(1))
                    .map(|(i, _)| super::line_of(text, at + i))
                    .unwrap_or(start)
            }
            _ => start,
        };
        return (field.to_string(), line);
    }
    (field.to_string(), line_of_key(text, field, 0))
}

/// A questionnaire loaded from a file.
#[derive(Debug, Clone)]
pub struct LoadedForm {
    /// Shared with every page that shows the questionnaire.
    pub definition: Arc<FormDefinition>,
    /// The file's text, kept so that answers stay readable if the file goes away.
    pub source: String,
    pub path: PathBuf,
}

/// Every questionnaire under `questionnaires/`, by key and version. Built once at
/// start and never changed.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    forms: BTreeMap<(String, u32), Arc<LoadedForm>>,
}

impl Catalogue {
    /// Loads every questionnaire of `source` (`questionnaires/*.toml`). A missing
    /// folder is an empty catalogue; any broken file, or two files with one key and
    /// version, is an error.
    pub fn load(source: &super::Source) -> Result<Catalogue, Vec<FormFileError>> {
        let mut catalogue = Catalogue::default();
        let mut errors = Vec::new();
        for (path, text) in source.files("questionnaires")? {
            match parse_str(&path, &text) {
                Err(e) => errors.extend(e),
                Ok(definition) => {
                    let id = (definition.key.clone(), definition.version);
                    if let Some(other) = catalogue.forms.get(&id) {
                        errors.push(FormFileError::new(
                            &path,
                            line_of_key(&text, "version", 0),
                            "version",
                            format!(
                                "{} version {} is also defined in {}",
                                id.0,
                                id.1,
                                other.path.display()
                            ),
                        ));
                        continue;
                    }
                    catalogue.forms.insert(
                        id,
                        Arc::new(LoadedForm {
                            definition: Arc::new(definition),
                            source: text,
                            path,
                        }),
                    );
                }
            }
        }
        if errors.is_empty() { Ok(catalogue) } else { Err(errors) }
    }

    pub fn get(&self, key: &str, version: u32) -> Option<&Arc<LoadedForm>> {
        self.forms.get(&(key.to_string(), version))
    }

    /// Whether any version of `key` is loaded.
    pub fn has_key(&self, key: &str) -> bool {
        self.forms.keys().any(|(k, _)| k == key)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<LoadedForm>> {
        self.forms.values()
    }

    pub fn len(&self) -> usize {
        self.forms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.forms.is_empty()
    }

    /// A catalogue of the given forms (tests and tools).
    pub fn from_forms(forms: impl IntoIterator<Item = LoadedForm>) -> Catalogue {
        Catalogue {
            forms: forms
                .into_iter()
                .map(|f| ((f.definition.key.clone(), f.definition.version), Arc::new(f)))
                .collect(),
        }
    }
}

/// The `.toml` files directly in `folder`, sorted by name.
pub fn toml_files(folder: &Path) -> Result<Vec<PathBuf>, FormFileError> {
    let entries = std::fs::read_dir(folder)
        .map_err(|e| FormFileError::new(folder, 0, "folder", format!("cannot be read: {e}")))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("forms/questionnaires/test.toml")
    }

    const GOOD: &str = r#"key = "demo"
version = 2
title = "About you"

[[question]]
key = "gender"
type = "single_choice"
label = "Gender"
choices = "gender"

[[question]]
key = "age"
type = "integer"
label = "Age"
min = 17
max = 80

[choices]
gender = [
  { value = "female", label = "Female" },
  { value = "male", label = "Male" },
]
"#;

    #[test]
    fn a_good_file_loads_with_its_hash() {
        let def = parse_str(p(), GOOD).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((def.key.as_str(), def.version), ("demo", 2));
        assert_eq!(def.questions[1].min, Some(17.0));
        assert_eq!(def.form_hash, file_hash(GOOD));
        assert_eq!(def.form_hash.len(), 64);
    }

    fn first_error(text: &str) -> FormFileError {
        parse_str(p(), text)
            .err()
            .and_then(|e| e.into_iter().next())
            .unwrap_or_else(|| panic!("{text} loaded"))
    }

    #[test]
    fn errors_name_the_file_line_and_key() {
        let e = first_error(&GOOD.replace("max = 80", "max = 80\ncolour = \"red\""));
        assert_eq!((e.line, e.key.as_str()), (17, "colour"), "{e}");
        assert!(e.to_string().starts_with("forms/questionnaires/test.toml:17: colour:"), "{e}");

        let e = first_error(&GOOD.replace("max = 80", "max = 10"));
        assert_eq!((e.line, e.key.as_str()), (16, "question[2].max"), "{e}");

        let e = first_error(&GOOD.replace("choices = \"gender\"", "choices = \"genders\""));
        assert_eq!((e.line, e.key.as_str()), (9, "question[1].choices"), "{e}");

        let e = first_error(
            &GOOD.replace("label = \"Age\"", "label = \"Age\"\nshow_if = \"gender == 'other'\""),
        );
        assert_eq!((e.line, e.key.as_str()), (15, "question[2].show_if"), "{e}");
        assert!(e.message.contains("'other' is not one of the choices"), "{e}");

        let e = first_error(&GOOD.replace("key = \"age\"", "key = \"gender\""));
        assert_eq!((e.line, e.key.as_str()), (12, "question[2].key"), "{e}");

        let e = first_error(&GOOD.replace("{ value = \"male\"", "{ value = \"female\""));
        assert_eq!((e.line, e.key.as_str()), (21, "choices.gender[2].value"), "{e}");

        let e = first_error(&GOOD.replace("version = 2", "version = 2\nversion = 3"));
        assert_eq!(e.line, 3, "a duplicate key is refused: {e}");

        let e =
            first_error(&GOOD.replace("type = \"integer\"", "type = \"integer\"\npattern = \"(\""));
        assert_eq!(e.key, "question[2].pattern", "{e}");
    }

    #[test]
    fn a_text_may_be_given_per_language() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/tests/fixtures/translated/questionnaires/about-you.toml"
        ));
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let def = parse_str(path, &text).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(def.title, "About you");
        assert_eq!(def.question("gender").map(|q| q.label.as_str()), Some("What is your gender?"));
        let fr = def.in_language("fr-CA");
        assert_eq!(fr.shown_in.as_deref(), Some("fr"));
        assert_eq!(fr.title, "À propos de vous");
        let gender = fr.question("gender").cloned().unwrap_or_else(|| panic!("gender"));
        assert_eq!(gender.label, "Quel est votre genre ?");
        assert_eq!(gender.help.as_deref(), Some("Choose one."), "untranslated words stay");
        let labels: Vec<&str> = gender.choices.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["Femme", "Homme", "Another word"]);
        assert_eq!(
            fr.question("age").map(|q| (q.min, q.max)),
            def.question("age").map(|q| (q.min, q.max))
        );
        assert_eq!(def.in_language("de"), def, "no German words: as it is");

        let missing = text.replace("label.en = \"What is your gender?\"\n", "");
        let e = parse_str(path, &missing).err().unwrap_or_default();
        assert_eq!((e[0].key.as_str(), e[0].line), ("question[1].label", 11), "{e:?}");
        assert!(e[0].message.contains("needs a text in en"), "{e:?}");
        let bad_tag = text.replace("label.fr = \"Femme\"", "label.french = \"Femme\"");
        let e = parse_str(path, &bad_tag).err().unwrap_or_default();
        assert_eq!(e[0].key, "choices.gender[1].label", "{e:?}");
    }
}
