//! Form files under `forms/` (SPEC §9): TOML read through serde DTOs that refuse
//! unknown fields, then checked by the domain. Errors name the file, line and key.

pub mod consent;
pub mod questionnaire;

use std::path::Path;

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
            line.trim_start().starts_with(key)
                && line.trim_start()[key.len()..].trim_start().starts_with('=')
        })
        .map(|(start, _)| line_of(text, start))
        .unwrap_or(0)
}

/// The line on which `key = …` is set inside the `nth` (0-based) table opened by
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
