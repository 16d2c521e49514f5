//! R and SPSS syntax that load `export.csv` with its labels: variable labels from the
//! questions, value labels from the choices (yes/no and chosen/not chosen as 1/0),
//! numbers as numbers and everything else as text. Both read the file as UTF-8 from
//! the working directory; the column order is the export's.

use crate::domain::questionnaire::QuestionType;
use crate::domain::report::export::Column;

/// What the syntax file says about where it came from.
pub struct Origin<'a> {
    pub study: &'a str,
    pub title: &'a str,
    pub generated_at: &'a str,
}

fn is_number(c: &Column) -> bool {
    c.choice.is_some()
        || matches!(
            c.kind,
            QuestionType::Integer
                | QuestionType::Number
                | QuestionType::Scale
                | QuestionType::YesNo
        )
}

/// Text with every control character and line or paragraph separator replaced by a
/// space, so nothing a researcher typed can end a comment or a string and run as
/// the next line of code in R or SPSS.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') { ' ' } else { c })
        .collect()
}

/// An R string literal.
fn r_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in one_line(text).chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn r_vector(items: impl Iterator<Item = String>) -> String {
    format!("c({})", items.collect::<Vec<_>>().join(", "))
}

/// `export.R`: `read.csv` with every column's class, factors for labelled values and
/// a `label` attribute per column.
pub fn r(origin: &Origin<'_>, columns: &[Column]) -> String {
    let mut out = format!(
        "# {title} ({study}): the answers export with its labels.\n\
         # Generated {at}. Download export.csv next to this file, then source(\"export.R\").\n\
         # Participants who withdrew with their data are not in the export.\n\n",
        title = one_line(origin.title),
        study = one_line(origin.study),
        at = one_line(origin.generated_at),
    );
    let classes = std::iter::once("character".to_string())
        .chain(std::iter::once("character".to_string()))
        .chain(columns.iter().map(|c| if is_number(c) { "numeric" } else { "character" }.into()))
        .map(|c| r_string(&c));
    out.push_str(&format!(
        "export <- read.csv(\"export.csv\", encoding = \"UTF-8\", check.names = FALSE,\n    \
         na.strings = \"\", colClasses = {})\n\n",
        r_vector(classes)
    ));
    for c in columns {
        let name = r_string(&c.name);
        if !c.labels.is_empty() {
            let (levels, labels): (Vec<String>, Vec<String>) = c
                .labels
                .iter()
                .map(|(v, l)| {
                    let level = if is_number(c) { v.clone() } else { r_string(v) };
                    (level, r_string(l))
                })
                .unzip();
            out.push_str(&format!(
                "export[[{name}]] <- factor(export[[{name}]], levels = {}, labels = {})\n",
                r_vector(levels.into_iter()),
                r_vector(labels.into_iter())
            ));
        }
        out.push_str(&format!("attr(export[[{name}]], \"label\") <- {}\n", r_string(&c.label)));
    }
    out.push_str("attr(export[[\"participant_code\"]], \"label\") <- \"Participant code\"\n");
    out.push_str(
        "attr(export[[\"form_versions\"]], \"label\") <- \"Questionnaire versions answered\"\n",
    );
    out
}

/// An SPSS string literal.
fn spss_string(text: &str) -> String {
    format!("'{}'", one_line(text).replace('\'', "''"))
}

/// A valid SPSS variable name for the column (letters, digits, `_` and `.`; at most 64
/// bytes; unique), in the export's order.
fn spss_names(columns: &[Column]) -> Vec<String> {
    let mut taken: Vec<String> = vec!["participant_code".into(), "form_versions".into()];
    let mut out = Vec::new();
    for c in columns {
        let mut name: String = c
            .name
            .chars()
            .map(|ch| if ch.is_ascii_alphanumeric() || ch == '_' || ch == '.' { ch } else { '_' })
            .collect();
        if !name.starts_with(|ch: char| ch.is_ascii_alphabetic()) {
            name.insert(0, 'v');
        }
        name.truncate(60);
        let name = name.trim_end_matches('.').to_string();
        let mut unique = name.clone();
        let mut n = 2;
        while taken.iter().any(|t| t.eq_ignore_ascii_case(&unique)) {
            unique = format!("{name}_{n}");
            n += 1;
        }
        taken.push(unique.clone());
        out.push(unique);
    }
    out
}

/// `export.sps`: `GET DATA` with every column's format, then variable and value labels.
pub fn spss(origin: &Origin<'_>, columns: &[Column]) -> String {
    let names = spss_names(columns);
    let mut out = format!(
        "* {title} ({study}): the answers export with its labels.\n\
         * Generated {at}. Put export.csv in the working directory, then run this file.\n\
         * Participants who withdrew with their data are not in the export.\n\n\
         GET DATA /TYPE=TXT /FILE='export.csv' /ENCODING='UTF8'\n  \
         /DELCASE=LINE /DELIMITERS=\",\" /QUALIFIER='\"' /ARRANGEMENT=DELIMITED /FIRSTCASE=2\n  \
         /VARIABLES=\n    participant_code A64\n    form_versions A255\n",
        title = one_line(origin.title),
        study = one_line(origin.study),
        at = one_line(origin.generated_at),
    );
    for (c, name) in columns.iter().zip(&names) {
        let format = match c.kind {
            _ if c.choice.is_some() => "F1.0",
            QuestionType::YesNo => "F1.0",
            QuestionType::Integer | QuestionType::Scale => "F8.0",
            QuestionType::Number => "F10.2",
            QuestionType::SingleChoice | QuestionType::Date => "A64",
            _ => "A2000",
        };
        out.push_str(&format!("    {name} {format}\n"));
    }
    out.push_str(".\n\nVARIABLE LABELS\n    participant_code 'Participant code'\n    form_versions 'Questionnaire versions answered'");
    for (c, name) in columns.iter().zip(&names) {
        out.push_str(&format!("\n    {name} {}", spss_string(&c.label)));
    }
    out.push_str(".\n");
    let labelled: Vec<String> = columns
        .iter()
        .zip(&names)
        .filter(|(c, _)| !c.labels.is_empty())
        .map(|(c, name)| {
            let pairs: Vec<String> = c
                .labels
                .iter()
                .map(|(v, l)| {
                    let value = if is_number(c) { v.clone() } else { spss_string(v) };
                    format!("{value} {}", spss_string(l))
                })
                .collect();
            format!("    {name} {}", pairs.join(" "))
        })
        .collect();
    if !labelled.is_empty() {
        out.push_str(&format!("\nVALUE LABELS\n{}.\n", labelled.join("\n  /")));
    }
    out.push_str("\nEXECUTE.\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::questionnaire::build;
    use crate::domain::questionnaire::tests::{form, q};
    use crate::domain::report::export::columns;

    fn sample() -> Vec<Column> {
        let mut used = q("used", "multi_choice");
        used.choices = Some("platforms".into());
        let mut label = q("why", "text");
        label.label = "Why? (say \"anything\"; it's fine)".into();
        let def =
            build(form(vec![q("age", "integer"), used, q("ok", "yes_no"), label]), "a".into())
                .unwrap_or_else(|e| panic!("{e:?}"));
        columns(&[&def])
    }

    const ORIGIN: Origin<'static> =
        Origin { study: "smme", title: "Social media", generated_at: "2026-12-01T10:00:00Z" };

    #[test]
    fn r_reads_every_column_with_its_class_and_labels() {
        let text = r(&ORIGIN, &sample());
        assert!(text.contains("colClasses = c(\"character\", \"character\", \"numeric\", \"numeric\", \"numeric\", \"numeric\", \"numeric\", \"character\")"), "{text}");
        assert!(text.contains("export[[\"ok\"]] <- factor(export[[\"ok\"]], levels = c(1, 0), labels = c(\"Yes\", \"No\"))"), "{text}");
        assert!(text.contains("export[[\"used__youtube\"]] <- factor("), "{text}");
        assert!(
            text.contains(
                r#"attr(export[["why"]], "label") <- "Why? (say \"anything\"; it's fine)""#
            ),
            "{text}"
        );
    }

    #[test]
    fn spss_reads_every_column_in_order_with_value_labels() {
        let text = spss(&ORIGIN, &sample());
        let vars: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.contains("/VARIABLES="))
            .skip(1)
            .take_while(|l| *l != ".")
            .collect();
        assert_eq!(vars.len(), 2 + sample().len(), "{text}");
        assert_eq!(vars[2].trim(), "age F8.0");
        assert!(text.contains("why 'Why? (say \"anything\"; it''s fine)'"), "{text}");
        assert!(text.contains("ok 1 'Yes' 0 'No'"), "{text}");
        assert!(text.trim_end().ends_with("EXECUTE."));
    }

    #[test]
    fn nothing_typed_runs_as_code() {
        let origin = Origin {
            study: "smme",
            title: "Title\rsystem('touch pwned')\nq()\u{2028}x\u{85}y\u{b}z",
            generated_at: "2026-12-01T10:00:00Z",
        };
        let mut cols = sample();
        cols[0].label = "Age\r\nsystem('id')".into();
        for text in [r(&origin, &cols), spss(&origin, &cols)] {
            assert!(
                !text.chars().any(|c| (c.is_control() && c != '\n') || c == '\u{2028}'),
                "{text:?}"
            );
            assert!(
                text.lines().all(|l| !l.starts_with("system(") && !l.starts_with("q()")),
                "{text}"
            );
        }
    }

    #[test]
    fn spss_names_are_valid_and_unique() {
        let mut cols = sample();
        cols[0].name = "1st.age".into();
        cols[1].name = "x".repeat(80);
        cols[2].name = "x".repeat(80);
        let names = spss_names(&cols);
        assert_eq!(names[0], "v1st.age");
        assert!(names[1].len() <= 64 && names[2].len() <= 64 && names[1] != names[2]);
    }
}
