//! The export's columns and cells (SPEC §8): one row per participant code, one
//! column per question, a multiple choice as one 0/1 column per choice named
//! `question__choice`; a question key used by two questionnaires is prefixed with
//! the questionnaire's key (`demographics.entry_pathway`). CSV text is escaped, and
//! text answers that a spreadsheet would run as a formula are defused.

use super::questionnaire::{FormDefinition, Question, QuestionType};

/// One column of the export.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub instrument: String,
    pub version: u32,
    pub question: String,
    /// For a multiple choice's 0/1 column: the choice.
    pub choice: Option<String>,
    pub kind: QuestionType,
    pub label: String,
    /// `value=label; …` for the codebook.
    pub values: String,
    /// The cell values that have labels, with their labels (choices, 1/0).
    pub labels: Vec<(String, String)>,
}

fn labels_of(q: &Question) -> Vec<(String, String)> {
    let pair = |v: &str, l: &str| (v.to_string(), l.to_string());
    match q.kind {
        QuestionType::YesNo => vec![pair("1", "Yes"), pair("0", "No")],
        QuestionType::MultiChoice => vec![pair("1", "Chosen"), pair("0", "Not chosen")],
        QuestionType::SingleChoice => {
            q.choices.iter().map(|c| (c.value.clone(), c.label.clone())).collect()
        }
        _ => Vec::new(),
    }
}

fn values_of(q: &Question) -> String {
    match q.kind {
        QuestionType::YesNo => "1=yes; 0=no".into(),
        QuestionType::MultiChoice => "1=chosen; 0=not chosen".into(),
        QuestionType::SingleChoice => q
            .choices
            .iter()
            .map(|c| format!("{}={}", c.value, c.label))
            .collect::<Vec<_>>()
            .join("; "),
        QuestionType::Integer | QuestionType::Number | QuestionType::Scale => {
            match (q.min, q.max) {
                (Some(lo), Some(hi)) => format!("{lo}..{hi}"),
                (Some(lo), None) => format!(">= {lo}"),
                (None, Some(hi)) => format!("<= {hi}"),
                _ => String::new(),
            }
        }
        QuestionType::Date => "YYYY-MM-DD".into(),
        _ => String::new(),
    }
}

/// The columns for these questionnaires, in order (after `participant_code`).
pub fn columns(instruments: &[&FormDefinition]) -> Vec<Column> {
    let mut out: Vec<Column> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for def in instruments {
        for q in &def.questions {
            let base = if seen.contains(&q.key) {
                format!("{}.{}", def.key, q.key)
            } else {
                q.key.clone()
            };
            seen.push(q.key.clone());
            let column = |name: String, choice: Option<String>, label: String| Column {
                name,
                instrument: def.key.clone(),
                version: def.version,
                question: q.key.clone(),
                choice,
                kind: q.kind,
                label,
                values: values_of(q),
                labels: labels_of(q),
            };
            if q.kind == QuestionType::MultiChoice {
                for c in &q.choices {
                    out.push(column(
                        format!("{base}__{}", c.value),
                        Some(c.value.clone()),
                        format!("{} — {}", q.label, c.label),
                    ));
                }
            } else {
                out.push(column(base, None, q.label.clone()));
            }
        }
    }
    out
}

/// Rows as CSV text (RFC 4180: fields quoted when they need it, CRLF line ends).
pub fn write_csv(rows: &[Vec<String>]) -> Result<String, String> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .flexible(true)
        .from_writer(Vec::new());
    for row in rows {
        writer.write_record(row).map_err(|e| e.to_string())?;
    }
    let bytes = writer.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// Free text as a cell: a leading `=`, `+`, `-`, `@` or tab would make a
/// spreadsheet run it as a formula, so it is prefixed with an apostrophe.
pub fn text_cell(raw: &str) -> String {
    if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{raw}")
    } else {
        raw.to_string()
    }
}

/// A number as written in the export: whole numbers without a decimal point.
pub fn number_cell(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{n:.0}") } else { n.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::questionnaire::build;
    use crate::domain::questionnaire::tests::{form, q};

    #[test]
    fn columns_split_multiple_choices_and_prefix_repeated_keys() {
        let mut used = q("used", "multi_choice");
        used.choices = Some("platforms".into());
        let one = build(form(vec![q("age", "integer"), used]), "a".into())
            .unwrap_or_else(|e| panic!("{e:?}"));
        let mut again = form(vec![q("age", "integer")]);
        again.key = "second".into();
        let two = build(again, "b".into()).unwrap_or_else(|e| panic!("{e:?}"));
        let names: Vec<String> = columns(&[&one, &two]).into_iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            ["age", "used__facebook", "used__twitter", "used__youtube", "second.age"]
        );
    }

    #[test]
    fn cells_are_escaped_and_defused() {
        let rows = vec![vec!["plain".to_string(), "a, \"b\"\nc".to_string()]];
        assert_eq!(write_csv(&rows).as_deref(), Ok("plain,\"a, \"\"b\"\"\nc\"\r\n"));
        assert_eq!(text_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(text_cell("fine"), "fine");
        assert_eq!(number_cell(22.0), "22");
        assert_eq!(number_cell(2.5), "2.5");
    }
}
