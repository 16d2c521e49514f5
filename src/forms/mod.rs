//! Form files under `forms/` (SPEC §9): TOML read through serde DTOs that refuse
//! unknown fields, then checked by the domain. Errors name the file, line and key.

pub mod consent;
pub mod questionnaire;

use std::path::{Path, PathBuf};

/// Where form files come from: a folder (`CONSENTRY_FORMS_DIR`), or the seed
/// study's forms built into the binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Folder(PathBuf),
    BuiltIn,
}

impl Source {
    /// The folder when one is configured, else the built-in forms.
    pub fn configured(forms_dir: Option<&str>) -> Source {
        forms_dir.map_or(Source::BuiltIn, |d| Source::Folder(d.into()))
    }

    pub fn describe(&self) -> String {
        match self {
            Source::Folder(dir) => dir.display().to_string(),
            Source::BuiltIn => "the forms built into this binary".into(),
        }
    }

    /// The `.toml` files directly under `folder` (`questionnaires`, `consent`), in
    /// name order, with the path errors name them by. A missing folder has none.
    pub fn files(&self, folder: &str) -> Result<Vec<(PathBuf, String)>, Vec<FormFileError>> {
        match self {
            Source::BuiltIn => Ok(crate::assets::forms(folder)
                .into_iter()
                .map(|(path, text)| (PathBuf::from(path), text.to_string()))
                .collect()),
            Source::Folder(dir) => {
                let sub = dir.join(folder);
                if !sub.is_dir() {
                    return Ok(Vec::new());
                }
                let mut out = Vec::new();
                let mut errors = Vec::new();
                for path in questionnaire::toml_files(&sub).map_err(|e| vec![e])? {
                    match std::fs::read_to_string(&path) {
                        Ok(text) => out.push((path, text)),
                        Err(e) => errors.push(FormFileError::new(
                            &path,
                            0,
                            "file",
                            format!("cannot be read: {e}"),
                        )),
                    }
                }
                if errors.is_empty() { Ok(out) } else { Err(errors) }
            }
        }
    }

    /// One file, by its path under the forms root (`consent/….toml`).
    pub fn file(&self, relative: &str) -> Result<(PathBuf, String), FormFileError> {
        match self {
            Source::BuiltIn => crate::assets::form(relative)
                .map(|text| (PathBuf::from(format!("forms/{relative}")), text.to_string()))
                .ok_or_else(|| {
                    FormFileError::new(Path::new(relative), 0, "file", "is not built in")
                }),
            Source::Folder(dir) => {
                let path = dir.join(relative);
                std::fs::read_to_string(&path).map(|text| (path.clone(), text)).map_err(|e| {
                    FormFileError::new(&path, 0, "file", format!("cannot be read: {e}"))
                })
            }
        }
    }
}

/// A form file that could not be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {key}: {message}")]
pub struct FormFileError {
    pub file: String,
    /// 1-based; 0 when the problem is not on one line.
    pub line: usize,
    pub key: String,
    pub message: String,
}

impl FormFileError {
    pub fn new(file: &Path, line: usize, key: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.display().to_string(),
            line,
            key: key.to_string(),
            message: message.into(),
        }
    }
}

/// The line (1-based) of byte offset `at` in `text`.
pub fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// A draft's field errors as file errors: `locate` gives each field's key and line.
pub fn file_errors(
    path: &Path,
    text: &str,
    errors: &crate::domain::FieldErrors,
    locate: fn(&str, &str) -> (String, usize),
) -> Vec<FormFileError> {
    errors
        .iter()
        .flat_map(|(field, list)| {
            let (key, line) = locate(text, field);
            list.iter()
                .map(move |e| FormFileError::new(path, line, &key, e.message.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The line on which `key = …` is first set at or after byte `from`, else 0.
pub fn line_of_key(text: &str, key: &str, from: usize) -> usize {
    let from = from.min(text.len());
    text[from..]
        .lines()
        .scan(from, |offset, line| {
            let start = *offset;
            *offset += line.len() + 1;
            Some((start, line))
        })
        .find(|(_, line)| {
            // `key = …`, or a dotted `key.fr = …` (a text given per language).
            line.trim_start().starts_with(key)
                && line.trim_start()[key.len()..].trim_start().starts_with(['=', '.'])
        })
        .map(|(start, _)| line_of(text, start))
        .unwrap_or(0)
}

/// The line on which `key = …` (or `key.x = …`) is set inside the `nth` (0-based) table opened by
/// `header` (such as `[[question]]`); the table's own line when the key is not set there.
pub fn line_in_table(text: &str, header: &str, nth: usize, key: &str) -> usize {
    let Some(start) = text.match_indices(header).nth(nth).map(|(at, _)| at) else {
        return 0;
    };
    let after = start + header.len();
    let end = text[after..].find("\n[").map(|i| after + i + 1).unwrap_or(text.len());
    match line_of_key(&text[..end], key, start) {
        0 => line_of(text, start),
        line => line,
    }
}

/// A TOML error as a form-file error: its line, and the key it names when serde
/// says which (`unknown field `colour``), else `file`.
pub fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> FormFileError {
    let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
    let message = e.message().to_string();
    let key = message
        .split('`')
        .nth(1)
        .filter(|_| message.contains("unknown field") || message.contains("missing field"))
        .unwrap_or("file")
        .to_string();
    FormFileError::new(path, line, &key, message)
}

/// What `consentry forms check` found in a folder.
#[derive(Debug, Default)]
pub struct CheckReport {
    pub questionnaires: Vec<String>,
    pub consent_forms: Vec<String>,
    pub errors: Vec<FormFileError>,
}

/// Checks every questionnaire under `questionnaires/` and every consent form under
/// `consent/`, collecting every error rather than stopping at the first.
pub fn check(source: &Source) -> CheckReport {
    let mut report = CheckReport::default();
    if let Source::Folder(dir) = source
        && !dir.is_dir()
    {
        report.errors.push(FormFileError::new(dir, 0, "folder", "is not a folder"));
        return report;
    }
    match questionnaire::Catalogue::load(source) {
        Ok(catalogue) => {
            report.questionnaires = catalogue
                .iter()
                .map(|f| {
                    format!("{} v{} ({})", f.definition.key, f.definition.version, f.path.display())
                })
                .collect();
        }
        Err(errors) => report.errors.extend(errors),
    }
    match source.files("consent") {
        Err(errors) => report.errors.extend(errors),
        Ok(files) => {
            for (path, text) in files {
                match consent::draft_from_str(&path, &text, "1") {
                    Ok(_) => report.consent_forms.push(path.display().to_string()),
                    Err(errors) => report.errors.extend(errors),
                }
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file shipped in `forms/` loads.
    #[test]
    fn every_shipped_form_loads() {
        let dir = Source::Folder(Path::new(env!("CARGO_MANIFEST_DIR")).join("forms"));
        for source in [&dir, &Source::BuiltIn] {
            let report = check(source);
            assert!(report.errors.is_empty(), "{:#?}", report.errors);
            assert_eq!(report.questionnaires.len(), 3, "{:?}", report.questionnaires);
            assert_eq!(report.consent_forms.len(), 2);
        }
        let built_in = questionnaire::Catalogue::load(&Source::BuiltIn).unwrap_or_default();
        let catalogue = questionnaire::Catalogue::load(&dir).unwrap_or_default();
        for form in catalogue.iter() {
            let same = built_in.get(&form.definition.key, form.definition.version);
            assert_eq!(
                same.map(|f| &f.source),
                Some(&form.source),
                "the binary carries the same text"
            );
        }
        let usage = catalogue.get("platform-usage", 1).map(|f| &f.definition);
        let keys: Vec<&str> =
            usage.map(|d| d.questions.iter().map(|q| q.key.as_str()).collect()).unwrap_or_default();
        for key in ["platforms_used", "preferred_platform", "purposes", "hours_per_day", "barriers"]
        {
            assert!(keys.contains(&key), "{key} in {keys:?}");
        }
        let screening = catalogue.get("screening-medical-students", 1).map(|f| &f.definition);
        assert!(
            screening.is_some_and(|d| d.check_expression("enrolled_in_medicine == true").is_ok())
        );
    }

    #[test]
    fn two_files_with_one_key_and_version_are_refused() {
        let dir = std::env::temp_dir().join(format!("consentry-forms-{}", std::process::id()));
        let folder = dir.join("questionnaires");
        std::fs::create_dir_all(&folder).unwrap_or_else(|e| panic!("{e}"));
        let text = "key = \"a\"\nversion = 1\ntitle = \"A\"\n[[question]]\nkey = \"q\"\ntype = \"text\"\nlabel = \"Q\"\n";
        for name in ["one.toml", "two.toml"] {
            std::fs::write(folder.join(name), text).unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::write(
            folder.join("bad.toml"),
            "key = \"b\"\nversion = 1\ntitle = \"B\"\nlabels = 1\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let report = check(&Source::Folder(dir.clone()));
        let _ = std::fs::remove_dir_all(&dir);
        let messages: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains("two.toml:2: version: a version 1 is also defined in")),
            "{messages:?}"
        );
        assert!(messages.iter().any(|m| m.contains("bad.toml:4: labels:")), "{messages:?}");
    }
}
