//! Field errors: the one shape every layer (serde, domain newtypes, database
//! constraints) reports validation failures in, so JSON and HTML say the same.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<String, Vec<FieldError>>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, code, message);
        errors
    }

    pub fn add(&mut self, field: &str, code: &'static str, message: impl Into<String>) {
        self.0
            .entry(field.to_string())
            .or_default()
            .push(FieldError { code, message: message.into() });
    }

    /// Collects the error of a fallible conversion under `field`, returning the value
    /// when it succeeded, so that every field of a request is checked in one pass.
    pub fn take<T>(&mut self, field: &str, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.0.entry(field.to_string()).or_default().push(e);
                None
            }
        }
    }

    pub fn merge(&mut self, other: FieldErrors) {
        for (field, errors) in other.0 {
            self.0.entry(field).or_default().extend(errors);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Vec<FieldError>)> {
        self.0.iter()
    }

    /// `Ok(())` when nothing was collected, so a validator can end with `errors.into_result()?`.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }

    /// The map of the JSON contract: field name to the list of human sentences.
    pub fn messages(&self) -> BTreeMap<String, Vec<String>> {
        self.0
            .iter()
            .map(|(k, v)| (k.clone(), v.iter().map(|e| e.message.clone()).collect()))
            .collect()
    }
}

impl FieldError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

/// A required, trimmed, non-empty text of at most `max` characters.
pub fn required_text(value: &str, label: &str, max: usize) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new("required", format!("{label} is required.")));
    }
    if trimmed.chars().count() > max {
        return Err(FieldError::new(
            "too_long",
            format!("{label} must be at most {max} characters."),
        ));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(FieldError::new(
            "invalid_characters",
            format!("{label} contains control characters."),
        ));
    }
    Ok(trimmed.to_string())
}

/// An RFC 3339 time, as every `*_at` field of the API carries it.
pub fn parse_time(raw: &str, label: &str) -> Result<DateTime<Utc>, FieldError> {
    DateTime::parse_from_rfc3339(raw.trim()).map(|t| t.with_timezone(&Utc)).map_err(|_| {
        FieldError::new(
            "invalid_time",
            format!("{label} must be an RFC 3339 time, e.g. 2026-03-01T09:00:00Z."),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_errors_per_field() {
        let mut errors = FieldErrors::new();
        assert_eq!(errors.take("a", required_text("  ok ", "A", 10)), Some("ok".to_string()));
        assert_eq!(errors.take("b", required_text("   ", "B", 10)), None);
        assert_eq!(errors.take("c", required_text("elevenchars", "C", 10)), None);
        let messages = errors.messages();
        assert_eq!(messages.keys().collect::<Vec<_>>(), ["b", "c"]);
        assert_eq!(messages["b"], ["B is required."]);
        assert!(errors.into_result().is_err());
    }

    #[test]
    fn control_characters_are_refused() {
        assert!(required_text("a\u{0}b", "Name", 10).is_err());
        assert!(required_text("line\nbreak", "Body", 20).is_ok());
    }
}
