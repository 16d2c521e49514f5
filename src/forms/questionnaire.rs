//! Questionnaire files (`forms/questionnaires/*.toml`, SPEC §9) read into
//! `domain::questionnaire::FormDefinition`, and the catalogue of every one loaded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{FormFileError, line_in_table, line_of_key, toml_error};
use crate::domain::questionnaire::{ChoiceInput, FormDefinition, FormInput, QuestionInput, build};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionnaireFile {
    key: String,
    version: i64,
    title: String,
    description: Option<String>,
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
    label: String,
    help: Option<String>,
    #[serde(default)]
    required: bool,
    section: Option<String>,
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
    label: String,
}

/// The SHA-256 (hex) of a form file's bytes: what a response is stamped with.
pub fn file_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Reads one questionnaire from its text; `path` only names it in errors.
pub fn parse_str(path: &Path, text: &str) -> Result<FormDefinition, Vec<FormFileError>> {
    let file: QuestionnaireFile =
        toml::from_str(text).map_err(|e| vec![toml_error(path, text, &e)])?;
    let input = FormInput {
        key: file.key,
        version: file.version,
        title: file.title,
        description: file.description,
        questions: file
            .questions
            .into_iter()
            .map(|q| QuestionInput {
                key: q.key,
                kind: q.kind,
                label: q.label,
                help: q.help,
                required: q.required,
                section: q.section,
                choices: q.choices,
                min: q.min,
                max: q.max,
                min_length: q.min_length,
                max_length: q.max_length,
                pattern: q.pattern,
                min_choices: q.min_choices,
                max_choices: q.max_choices,
                show_if: q.show_if,
            })
            .collect(),
        choices: file
            .choices
            .into_iter()
            .map(|(name, list)| {
                (
                    name,
                    list.into_iter()
                        .map(|c| ChoiceInput { value: c.value, label: c.label })
                        .collect(),
                )
            })
            .collect(),
    };
    build(input, file_hash(text)).map_err(|errors| {
        errors
            .iter()
            .flat_map(|(field, list)| {
                let (key, line) = locate(text, field);
                list.iter()
                    .map(move |e| FormFileError::new(path, line, &key, e.message.clone()))
                    .collect::<Vec<_>>()
            })
            .collect()
    })
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
    pub definition: FormDefinition,
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
                    catalogue
                        .forms
                        .insert(id, Arc::new(LoadedForm { definition, source: text, path }));
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
}
