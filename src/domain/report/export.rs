//! The export's columns and cells (SPEC §8): one row per participant code, one
//! column per question, a multiple choice as one 0/1 column per choice named
//! `question__choice`; a question key used by two questionnaires is prefixed with
//! the questionnaire's key (`demographics.entry_pathway`). CSV text is escaped, and
//! text answers that a spreadsheet would run as a formula are defused.

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::consent::{self, Governs, ItemDecision};
use crate::domain::questionnaire::{FormDefinition, Question, QuestionType};
use crate::domain::study::DeclinedSharing;

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
    /// A column read from each participant's latest consent record instead of a
    /// questionnaire: the answer to the item that governs this.
    pub consent: Option<Governs>,
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
                consent: None,
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

/// The columns the consent adds before the questionnaires': `may_quote` when a
/// version of the study's consent form has an item governing verbatim quotes, and
/// `shares_data` when one governs data sharing and the study keeps the rows of those
/// who declined (flagged) rather than leaving them out.
pub fn consent_columns(governed: &BTreeSet<Governs>, declined: DeclinedSharing) -> Vec<Column> {
    let column = |name: &str, effect: Governs, label: &str| Column {
        name: name.into(),
        instrument: "consent".into(),
        version: 0,
        question: effect.as_str().into(),
        choice: None,
        kind: QuestionType::YesNo,
        label: label.into(),
        values: "1=yes; 0=no; empty=their consent form did not ask".into(),
        labels: vec![("1".into(), "Yes".into()), ("0".into(), "No".into())],
        consent: Some(effect),
    };
    let mut out = Vec::new();
    if governed.contains(&Governs::VerbatimQuotes) {
        let label = "May be quoted word for word (their latest consent)";
        out.push(column("may_quote", Governs::VerbatimQuotes, label));
    }
    if governed.contains(&Governs::DataSharing) && declined == DeclinedSharing::Flag {
        let label = "Agreed to sharing their de-identified data (their latest consent)";
        out.push(column("shares_data", Governs::DataSharing, label));
    }
    out
}

/// The codes whose rows the export holds: all, except — when an item governs data
/// sharing and the study leaves such rows out — those whose latest consent declined it.
pub fn exported_codes(
    codes: Vec<String>,
    choices: &BTreeMap<String, Vec<ItemDecision>>,
    declined: DeclinedSharing,
) -> Vec<String> {
    if declined == DeclinedSharing::Flag {
        return codes;
    }
    codes
        .into_iter()
        .filter(|c| {
            let items = choices.get(c).map(Vec::as_slice).unwrap_or_default();
            consent::choice(items, Governs::DataSharing) != Some(false)
        })
        .collect()
}

/// Rows as CSV text (RFC 4180: fields quoted when they need it, CRLF line ends).
/// Every CSV Consentry writes goes through here, so every cell is defused.
pub fn write_csv(rows: &[Vec<String>]) -> Result<String, csv::Error> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .flexible(true)
        .from_writer(Vec::new());
    for row in rows {
        writer.write_record(row.iter().map(|cell| text_cell(cell)))?;
    }
    let bytes = writer.into_inner().map_err(|e| csv::Error::from(e.into_error()))?;
    // Every cell was a `str`, so the bytes are UTF-8 and nothing is replaced.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A cell as a spreadsheet may safely open it: text starting with `=`, `+`, `-`,
/// `@`, a tab or a line break would be run as a formula, so it gets a leading
/// apostrophe; numbers (`-1.5`) pass unchanged. `write_csv` applies it to every cell.
pub fn text_cell(raw: &str) -> String {
    let formula = raw.starts_with(['=', '+', '-', '@', '\t', '\r', '\n']);
    let number = raw.parse::<f64>().is_ok_and(f64::is_finite);
    if formula && !number { format!("'{raw}") } else { raw.to_string() }
}

/// A number as written in the export: whole numbers without a decimal point.
pub fn number_cell(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{n:.0}") } else { n.to_string() }
}

/// One stored answer of a counted participant, as the export reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportAnswer {
    pub code: String,
    pub instrument: String,
    pub version: u32,
    pub question: String,
    pub choice: Option<String>,
    pub text: Option<String>,
    pub number: Option<f64>,
    pub flag: Option<bool>,
}

/// `codebook.csv`: a header, the two fixed columns, then one line per column.
pub fn codebook_lines(cols: &[Column]) -> Vec<Vec<String>> {
    let mut lines = vec![
        ["column", "questionnaire", "version", "question", "type", "label", "values"]
            .map(String::from)
            .to_vec(),
        ["participant_code", "", "", "", "text", "Participant code given at consent", ""]
            .map(String::from)
            .to_vec(),
        [
            "form_versions",
            "",
            "",
            "",
            "text",
            "Questionnaire versions the answers were given against",
            "key=version; …",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for c in cols {
        let kind = match c.choice {
            Some(_) => "multi_choice (0/1)".to_string(),
            None => c.kind.as_str().to_string(),
        };
        let version = if c.consent.is_some() { String::new() } else { c.version.to_string() };
        lines.push(vec![
            c.name.clone(),
            c.instrument.clone(),
            version,
            c.question.clone(),
            kind,
            c.label.clone(),
            c.values.clone(),
        ]);
    }
    lines
}

/// `export.csv`: a header, then one line per participant code in `codes` with the
/// questionnaire versions they answered and a cell per column. A multiple choice's
/// 0/1 columns are empty for someone who did not answer that questionnaire; a
/// consent column holds the answer in their latest record (`choices`).
pub fn answer_lines(
    cols: &[Column],
    codes: &[String],
    answers: &[ExportAnswer],
    choices: &BTreeMap<String, Vec<ItemDecision>>,
) -> Vec<Vec<String>> {
    let mut header = vec!["participant_code".to_string(), "form_versions".to_string()];
    header.extend(cols.iter().map(|c| c.name.clone()));
    let mut lines = vec![header];
    let mut by_code: std::collections::BTreeMap<&str, Vec<&ExportAnswer>> =
        std::collections::BTreeMap::new();
    for a in answers {
        by_code.entry(a.code.as_str()).or_default().push(a);
    }
    for code in codes {
        let mine = by_code.remove(code.as_str()).unwrap_or_default();
        let answered: std::collections::BTreeSet<(&str, u32)> =
            mine.iter().map(|a| (a.instrument.as_str(), a.version)).collect();
        let versions = answered.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>();
        let mut cells = vec![code.clone(), versions.join("; ")];
        for c in cols {
            if let Some(effect) = c.consent {
                let items = choices.get(code).map(Vec::as_slice).unwrap_or_default();
                let cell = match consent::choice(items, effect) {
                    Some(true) => "1",
                    Some(false) => "0",
                    None => "",
                };
                cells.push(cell.to_string());
                continue;
            }
            let here: Vec<&&ExportAnswer> = mine
                .iter()
                .filter(|a| a.question == c.question && a.instrument == c.instrument)
                .collect();
            let took_part = answered.iter().any(|(k, _)| *k == c.instrument);
            let cell = match (&c.choice, here.first()) {
                (Some(choice), _) if took_part => {
                    let chosen = here.iter().any(|a| a.choice.as_deref() == Some(choice.as_str()));
                    if chosen { "1" } else { "0" }.to_string()
                }
                (Some(_), _) | (None, None) => String::new(),
                (None, Some(a)) => match (&a.choice, &a.text, a.number, a.flag) {
                    (Some(choice), _, _, _) => choice.clone(),
                    (_, Some(text), _, _) => text.clone(),
                    (_, _, Some(n), _) => number_cell(n),
                    (_, _, _, Some(b)) => if b { "1" } else { "0" }.to_string(),
                    _ => String::new(),
                },
            };
            cells.push(cell);
        }
        lines.push(cells);
    }
    lines
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
        assert_eq!(write_csv(&rows).ok().as_deref(), Some("plain,\"a, \"\"b\"\"\nc\"\r\n"));
        assert_eq!(text_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(text_cell("fine"), "fine");
        for risky in ["+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3+cmd", "\tx", "\r=1", "-inf"] {
            assert_eq!(text_cell(risky), format!("'{risky}"), "{risky:?}");
        }
        for number in ["-1.5", "0", "-12", "3.25"] {
            assert_eq!(text_cell(number), number);
        }
        assert_eq!(text_cell(&text_cell("=1+1")), "'=1+1", "defusing twice changes nothing");
        let written = write_csv(&[vec!["about".into(), "=cmd()".into(), "-3".into()]]);
        assert_eq!(
            written.ok().as_deref(),
            Some("about,'=cmd(),-3\r\n"),
            "write_csv defuses every cell"
        );
        assert_eq!(number_cell(22.0), "22");
        assert_eq!(number_cell(2.5), "2.5");
    }

    #[test]
    fn answer_lines_fill_one_row_per_code() {
        let mut used = q("used", "multi_choice");
        used.choices = Some("platforms".into());
        let def = build(form(vec![q("age", "integer"), used]), "a".into())
            .unwrap_or_else(|e| panic!("{e:?}"));
        let cols = columns(&[&def]);
        let answer =
            |code: &str, question: &str, choice: Option<&str>, number: Option<f64>| ExportAnswer {
                code: code.into(),
                instrument: def.key.clone(),
                version: def.version,
                question: question.into(),
                choice: choice.map(str::to_string),
                text: None,
                number,
                flag: None,
            };
        let answers = [
            answer("P001", "age", None, Some(22.0)),
            answer("P001", "used", Some("youtube"), None),
            answer("P001", "used", Some("facebook"), None),
        ];
        let codes = ["P001".to_string(), "P002".to_string()];
        let lines = answer_lines(&cols, &codes, &answers, &BTreeMap::new());
        assert_eq!(lines[0][..3], ["participant_code", "form_versions", "age"]);
        let version = format!("{}={}", def.key, def.version);
        assert_eq!(lines[1], ["P001", version.as_str(), "22", "1", "0", "1"]);
        assert_eq!(lines[2], ["P002", "", "", "", "", ""], "no answers: empty, not 0");
        let book = codebook_lines(&cols);
        assert_eq!(book.len(), 3 + cols.len());
        assert_eq!(book[4][4], "multi_choice (0/1)");
    }

    fn decided(effect: Governs, agreed: bool) -> ItemDecision {
        ItemDecision {
            key: "choice".into(),
            text: "I agree.".into(),
            required: false,
            agreed,
            governs: Some(effect),
        }
    }

    #[test]
    fn consent_columns_follow_what_the_form_governs_and_the_study_setting() {
        let none = BTreeSet::new();
        assert!(consent_columns(&none, DeclinedSharing::Flag).is_empty());
        let both: BTreeSet<Governs> = [Governs::VerbatimQuotes, Governs::DataSharing].into();
        let names = |cols: &[Column]| cols.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&consent_columns(&both, DeclinedSharing::LeaveOut)), ["may_quote"]);
        let cols = consent_columns(&both, DeclinedSharing::Flag);
        assert_eq!(names(&cols), ["may_quote", "shares_data"]);

        let choices: BTreeMap<String, Vec<ItemDecision>> = [
            ("P001".to_string(), vec![decided(Governs::VerbatimQuotes, true)]),
            (
                "P002".to_string(),
                vec![decided(Governs::VerbatimQuotes, false), decided(Governs::DataSharing, false)],
            ),
        ]
        .into();
        let codes = vec!["P001".to_string(), "P002".to_string(), "P003".to_string()];
        let lines = answer_lines(&cols, &codes, &[], &choices);
        assert_eq!(lines[0], ["participant_code", "form_versions", "may_quote", "shares_data"]);
        assert_eq!(lines[1][2..], ["1", ""], "a form that did not ask leaves the cell empty");
        assert_eq!(lines[2][2..], ["0", "0"]);
        assert_eq!(lines[3][2..], ["", ""], "no consent record: nothing known");

        let kept = exported_codes(codes.clone(), &choices, DeclinedSharing::LeaveOut);
        assert_eq!(kept, ["P001", "P003"], "only a declined item leaves a row out");
        assert_eq!(exported_codes(codes.clone(), &choices, DeclinedSharing::Flag), codes);

        let book = codebook_lines(&cols);
        assert_eq!(book[3][..4], ["may_quote", "consent", "", "verbatim_quotes"]);
    }
}
