//! Answers to a questionnaire: one pure function, `validate`, from a definition and
//! the raw JSON answers to typed answers or field errors keyed by question.
//!
//! Questions are read in order; a question whose `show_if` is false is not asked:
//! `required` does not apply to it and an answer to it is refused (or, for a page
//! that sent every field, dropped). A question whose `show_if` looks at an answer that
//! was itself refused is left alone, so one mistake is reported once.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde_json::{Map, Number, Value};

use crate::domain::FieldErrors;
use crate::domain::fields::FieldError;
use crate::domain::questionnaire::expr::{self, Value as ExprValue};
use crate::domain::questionnaire::{FormDefinition, Question, QuestionType};
use crate::domain::user::Email;

/// A typed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Text(String),
    Number(f64),
    Bool(bool),
    Choice(String),
    Choices(Vec<String>),
    Date(NaiveDate),
}

impl Answer {
    /// The JSON value of the API contract (SPEC §9).
    pub fn to_json(&self) -> Value {
        match self {
            Answer::Text(s) | Answer::Choice(s) => Value::String(s.clone()),
            Answer::Date(d) => Value::String(d.format("%Y-%m-%d").to_string()),
            Answer::Number(n) => {
                if n.fract() == 0.0 && n.abs() < 9.0e15 {
                    #[allow(clippy::cast_possible_truncation)]
                    Value::Number(Number::from(*n as i64))
                } else {
                    Number::from_f64(*n).map(Value::Number).unwrap_or(Value::Null)
                }
            }
            Answer::Bool(b) => Value::Bool(*b),
            Answer::Choices(c) => Value::Array(c.iter().cloned().map(Value::String).collect()),
        }
    }
}

/// Validated answers in the order of the questions, for the questions that were asked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answers(Vec<(String, Answer)>);

impl Answers {
    pub fn get(&self, key: &str) -> Option<&Answer> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, a)| a)
    }

    pub fn iter(&self) -> impl Iterator<Item = &(String, Answer)> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn to_json(&self) -> Map<String, Value> {
        self.0.iter().map(|(k, a)| (k.clone(), a.to_json())).collect()
    }

    /// Whether `expression` holds for these answers.
    pub fn satisfy(&self, expression: &expr::Expr) -> bool {
        eval_with_dates(expression, self)
    }
}

/// How strictly to read a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    /// Required questions must be answered (a final submission); off to save a draft.
    pub require: bool,
    /// Answers to questions not asked are dropped instead of refused (an HTML page
    /// that still holds a field its script hid).
    pub drop_hidden: bool,
}

impl Mode {
    /// The JSON API: everything enforced.
    pub const STRICT: Mode = Mode { require: true, drop_hidden: false };
}

/// Whether each question is asked, given `answers` (for pages: which to show).
pub fn visible(definition: &FormDefinition, answers: &Answers) -> Vec<bool> {
    definition
        .questions
        .iter()
        .map(|q| q.show_if.as_ref().is_none_or(|(_, e)| eval_with_dates(e, answers)))
        .collect()
}

/// Evaluates with dates as `YYYY-MM-DD` text (they compare correctly as text).
fn eval_with_dates(e: &expr::Expr, answers: &Answers) -> bool {
    let dates: BTreeMap<&str, String> = answers
        .iter()
        .filter_map(|(k, a)| match a {
            Answer::Date(d) => Some((k.as_str(), d.format("%Y-%m-%d").to_string())),
            _ => None,
        })
        .collect();
    expr::eval(e, &|key| {
        Some(match answers.get(key)? {
            Answer::Text(s) | Answer::Choice(s) => ExprValue::Text(s),
            Answer::Date(_) => ExprValue::Text(dates.get(key)?),
            Answer::Number(n) => ExprValue::Number(*n),
            Answer::Bool(b) => ExprValue::Bool(*b),
            Answer::Choices(c) => ExprValue::Choices(c),
        })
    })
}

/// Validates `raw` against `definition`. Field errors are keyed by question key.
pub fn validate(
    definition: &FormDefinition,
    raw: &Map<String, Value>,
    mode: Mode,
) -> Result<Answers, FieldErrors> {
    let mut errors = FieldErrors::new();
    for key in raw.keys() {
        if definition.question(key).is_none() {
            errors.add(
                key,
                "unknown",
                format!("There is no question `{key}` in {}.", definition.title),
            );
        }
    }
    let mut answers = Answers::default();
    let mut refused: BTreeSet<&str> = BTreeSet::new();
    for q in &definition.questions {
        let value = raw.get(&q.key).filter(|v| !is_blank(v));
        if let Some((_, condition)) = &q.show_if {
            if expr::keys(condition).iter().any(|k| refused.contains(k)) {
                refused.insert(&q.key);
                continue;
            }
            if !eval_with_dates(condition, &answers) {
                if value.is_some() && !mode.drop_hidden {
                    errors.add(
                        &q.key,
                        "not_asked",
                        "This question is not asked given the other answers; leave it out.",
                    );
                    refused.insert(&q.key);
                }
                continue;
            }
        }
        match value {
            None if q.required && mode.require => {
                errors.add(&q.key, "required", "An answer is required.");
                refused.insert(&q.key);
            }
            None => {}
            Some(v) => match parse(q, v) {
                Ok(answer) => answers.0.push((q.key.clone(), answer)),
                Err(e) => {
                    errors.add(&q.key, e.code, e.message);
                    refused.insert(&q.key);
                }
            },
        }
    }
    errors.into_result()?;
    Ok(answers)
}

/// The answers in `raw` that are valid and asked, ignoring every mistake: what a
/// page uses to decide which questions to show while it still has errors.
pub fn readable(definition: &FormDefinition, raw: &Map<String, Value>) -> Answers {
    let mut answers = Answers::default();
    for q in &definition.questions {
        if let Some((_, condition)) = &q.show_if
            && !eval_with_dates(condition, &answers)
        {
            continue;
        }
        if let Some(Ok(answer)) = raw.get(&q.key).filter(|v| !is_blank(v)).map(|v| parse(q, v)) {
            answers.0.push((q.key.clone(), answer));
        }
    }
    answers
}

/// `null`, an empty or blank text and an empty list all mean "not answered".
fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn fmt_number(n: f64) -> String {
    if n.fract() == 0.0 { format!("{n:.0}") } else { n.to_string() }
}

fn parse(q: &Question, v: &Value) -> Result<Answer, FieldError> {
    match q.kind {
        QuestionType::Text | QuestionType::LongText | QuestionType::Email => {
            let Value::String(s) = v else {
                return invalid(format!("Must be text, not {}.", describe(v)));
            };
            let s = s.trim();
            let length = s.chars().count();
            if length > q.length_limit() {
                return invalid(format!("Must be at most {} characters.", q.length_limit()));
            }
            if let Some(min) = q.min_length
                && length < min
            {
                return invalid(format!("Must be at least {min} characters."));
            }
            if s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
                return invalid("Contains control characters.");
            }
            if q.kind != QuestionType::LongText && s.contains(['\n', '\r']) {
                return invalid("Must be on one line.");
            }
            if let Some(p) = &q.pattern
                && !p.is_match(s)
            {
                return invalid("Is not in the expected format.");
            }
            if q.kind == QuestionType::Email {
                return Email::parse(s)
                    .map(|e| Answer::Text(e.as_str().to_string()))
                    .map_err(|e| FieldError::new("invalid", e.message));
            }
            Ok(Answer::Text(s.to_string()))
        }
        QuestionType::Integer | QuestionType::Number | QuestionType::Scale => {
            let Some(n) = v.as_f64().filter(|n| n.is_finite()) else {
                if v.as_str().is_some_and(ambiguous_comma) {
                    return invalid(
                        "Use a point or a comma for decimals (1.5 or 1,5), and no separator \
                         in thousands (1500).",
                    );
                }
                return invalid(format!("Must be a number, not {}.", describe(v)));
            };
            if q.kind.is_whole() && n.fract() != 0.0 {
                return invalid("Must be a whole number.");
            }
            if let Some(min) = q.min
                && n < min
            {
                return invalid(format!("Must be at least {}.", fmt_number(min)));
            }
            if let Some(max) = q.max
                && n > max
            {
                return invalid(format!("Must be at most {}.", fmt_number(max)));
            }
            if n.abs() > 1.0e12 {
                return invalid("Is too large.");
            }
            Ok(Answer::Number(n))
        }
        QuestionType::YesNo => match v {
            Value::Bool(b) => Ok(Answer::Bool(*b)),
            other => invalid(format!("Must be true or false, not {}.", describe(other))),
        },
        QuestionType::Date => match v {
            Value::String(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .ok()
                .filter(|_| s.trim().len() == 10)
                .map(Answer::Date)
                .ok_or_else(|| FieldError::new("invalid", "Must be a date written YYYY-MM-DD.")),
            other => {
                invalid(format!("Must be a date written YYYY-MM-DD, not {}.", describe(other)))
            }
        },
        QuestionType::SingleChoice => match v {
            Value::String(s) if q.choice_label(s).is_some() => Ok(Answer::Choice(s.clone())),
            Value::String(s) => invalid(format!("'{}' is not one of the choices.", clip(s))),
            other => invalid(format!("Must be one of the choices, not {}.", describe(other))),
        },
        QuestionType::MultiChoice => {
            let Value::Array(items) = v else {
                return invalid(format!("Must be a list of choices, not {}.", describe(v)));
            };
            let mut chosen: Vec<String> = Vec::new();
            for item in items {
                match item {
                    Value::String(s) if q.choice_label(s).is_none() => {
                        return invalid(format!("'{}' is not one of the choices.", clip(s)));
                    }
                    Value::String(s) if chosen.contains(s) => {
                        return invalid(format!("'{s}' is chosen twice."));
                    }
                    Value::String(s) => chosen.push(s.clone()),
                    other => {
                        return invalid(format!(
                            "Each choice must be text, not {}.",
                            describe(other)
                        ));
                    }
                }
            }
            if let Some(min) = q.min_choices
                && chosen.len() < min
            {
                return invalid(format!("Choose at least {min}."));
            }
            if let Some(max) = q.max_choices
                && chosen.len() > max
            {
                return invalid(format!("Choose at most {max}."));
            }
            // Stored and reported in the order the form lists them.
            chosen.sort_by_key(|c| q.choices.iter().position(|x| &x.value == c));
            Ok(Answer::Choices(chosen))
        }
    }
}

/// An answer refused: always the code `invalid`, with what was wrong.
fn invalid<T>(message: impl Into<String>) -> Result<T, FieldError> {
    Err(FieldError::new("invalid", message))
}

fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// Turns the fields of an HTML form (every value a string, a multi-choice field
/// repeated) into the JSON answers `validate` reads: numbers parsed where they can
/// be (otherwise left as text, to be refused with a message), `yes`/`no` as booleans.
/// A number typed on a page: a point or a comma marks the decimals (`1.5`,
/// `1,5`), as phones in many locales type it.
fn decimal(value: &str) -> Option<Number> {
    if ambiguous_comma(value) {
        return None;
    }
    let normal = value.replacen(',', ".", 1);
    if normal.contains(',') {
        return None;
    }
    normal.parse::<f64>().ok().filter(|n| n.is_finite()).and_then(Number::from_f64)
}

/// `1,500`: a thousands separator or a decimal comma? Refused, with a word why.
fn ambiguous_comma(value: &str) -> bool {
    match value.split_once(',') {
        Some((whole, part)) => {
            !value.contains('.')
                && !whole.is_empty()
                && whole.chars().all(|c| c.is_ascii_digit())
                && part.len() == 3
                && part.chars().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

pub fn from_form_fields(
    definition: &FormDefinition,
    fields: &BTreeMap<String, Vec<String>>,
) -> Map<String, Value> {
    let mut raw = Map::new();
    for (key, value) in fields.iter().flat_map(|(k, vs)| vs.iter().map(move |v| (k, v))) {
        let Some(q) = definition.question(key) else {
            raw.insert(key.clone(), Value::String(value.clone()));
            continue;
        };
        let value = value.trim();
        let converted = match q.kind {
            QuestionType::MultiChoice => {
                if let Value::Array(list) =
                    raw.entry(key.clone()).or_insert_with(|| Value::Array(Vec::new()))
                    && !value.is_empty()
                {
                    list.push(Value::String(value.to_string()));
                }
                continue;
            }
            QuestionType::Integer | QuestionType::Number | QuestionType::Scale => {
                decimal(value).map_or_else(|| Value::String(value.to_string()), Value::Number)
            }
            QuestionType::YesNo => match value {
                "yes" | "true" => Value::Bool(true),
                "no" | "false" => Value::Bool(false),
                other => Value::String(other.to_string()),
            },
            _ => Value::String(value.to_string()),
        };
        raw.insert(key.clone(), converted);
    }
    raw
}

/// One stored row of an answer: a question's answer, or one chosen value of a
/// multiple choice. Reports count these in SQL.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerRow {
    pub question_key: String,
    pub choice_value: Option<String>,
    pub text_value: Option<String>,
    pub number_value: Option<f64>,
    pub bool_value: Option<bool>,
}

impl Answers {
    /// The rows that store these answers (one per question, one per chosen value).
    pub fn rows(&self) -> Vec<AnswerRow> {
        let row = |key: &str| AnswerRow {
            question_key: key.to_string(),
            choice_value: None,
            text_value: None,
            number_value: None,
            bool_value: None,
        };
        self.0
            .iter()
            .flat_map(|(key, answer)| match answer {
                Answer::Text(s) => vec![AnswerRow { text_value: Some(s.clone()), ..row(key) }],
                Answer::Date(d) => {
                    vec![AnswerRow {
                        text_value: Some(d.format("%Y-%m-%d").to_string()),
                        ..row(key)
                    }]
                }
                Answer::Number(n) => vec![AnswerRow { number_value: Some(*n), ..row(key) }],
                Answer::Bool(b) => vec![AnswerRow { bool_value: Some(*b), ..row(key) }],
                Answer::Choice(c) => vec![AnswerRow { choice_value: Some(c.clone()), ..row(key) }],
                Answer::Choices(list) => list
                    .iter()
                    .map(|c| AnswerRow { choice_value: Some(c.clone()), ..row(key) })
                    .collect(),
            })
            .collect()
    }

    /// Reads stored rows back, in question order; rows for questions the definition
    /// no longer has are ignored.
    pub fn from_rows(definition: &FormDefinition, rows: &[AnswerRow]) -> Answers {
        let mut answers = Answers::default();
        for q in &definition.questions {
            let mine: Vec<&AnswerRow> = rows.iter().filter(|r| r.question_key == q.key).collect();
            let Some(first) = mine.first() else { continue };
            let answer = match q.kind {
                QuestionType::MultiChoice => {
                    let mut chosen: Vec<String> =
                        mine.iter().filter_map(|r| r.choice_value.clone()).collect();
                    chosen.sort_by_key(|c| q.choices.iter().position(|x| &x.value == c));
                    Some(Answer::Choices(chosen))
                }
                QuestionType::SingleChoice => first.choice_value.clone().map(Answer::Choice),
                QuestionType::Integer | QuestionType::Number | QuestionType::Scale => {
                    first.number_value.map(Answer::Number)
                }
                QuestionType::YesNo => first.bool_value.map(Answer::Bool),
                QuestionType::Date => first
                    .text_value
                    .as_deref()
                    .and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
                    .map(Answer::Date),
                QuestionType::Text | QuestionType::LongText | QuestionType::Email => {
                    first.text_value.clone().map(Answer::Text)
                }
            };
            if let Some(answer) = answer {
                answers.0.push((q.key.clone(), answer));
            }
        }
        answers
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::domain::questionnaire::build;
    use crate::domain::questionnaire::tests::{form, q};

    fn demographics() -> FormDefinition {
        let mut gender = q("gender", "single_choice");
        gender.choices = Some("platforms".into());
        gender.required = true;
        let mut age = q("age", "integer");
        age.required = true;
        age.min = Some(17.0);
        age.max = Some(80.0);
        let mut used = q("platforms_used", "multi_choice");
        used.choices = Some("platforms".into());
        used.min_choices = Some(1);
        used.max_choices = Some(2);
        let mut twitter = q("twitter_use", "long_text");
        twitter.show_if = Some("platforms_used has 'twitter'".into());
        twitter.required = true;
        twitter.max_length = Some(20);
        let mut code = q("student_id", "text");
        code.pattern = Some("[0-9]{8}".into());
        let mut hours = q("hours", "number");
        hours.min = Some(0.0);
        hours.max = Some(24.0);
        let mut ok = q("ok", "yes_no");
        ok.show_if = Some("age >= 18".into());
        let mut rate = q("rate", "scale");
        rate.min = Some(1.0);
        rate.max = Some(5.0);
        build(
            form(vec![
                gender,
                age,
                used,
                twitter,
                code,
                hours,
                ok,
                rate,
                q("born", "date"),
                q("mail", "email"),
            ]),
            "h".into(),
        )
        .unwrap_or_else(|e| panic!("{:?}", e.messages()))
    }

    fn check(raw: Value) -> Result<Answers, BTreeMap<String, Vec<String>>> {
        let Value::Object(map) = raw else { panic!("object") };
        validate(&demographics(), &map, Mode::STRICT).map_err(|e| e.messages())
    }

    #[test]
    fn good_answers_come_back_typed_and_in_question_order() {
        let a = check(json!({
            "rate": 4, "age": 22, "gender": "twitter", "platforms_used": ["twitter", "facebook"],
            "twitter_use": " Quick news ", "student_id": "12345678", "hours": 2.5, "ok": true,
            "born": "2003-04-05", "mail": "a@example.org"
        }))
        .unwrap_or_else(|e| panic!("{e:?}"));
        let keys: Vec<_> = a.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys[..3], ["gender", "age", "platforms_used"]);
        assert_eq!(
            a.get("platforms_used"),
            Some(&Answer::Choices(vec!["facebook".into(), "twitter".into()]))
        );
        assert_eq!(a.get("twitter_use"), Some(&Answer::Text("Quick news".into())));
        assert_eq!(a.to_json()["age"], json!(22));
        assert_eq!(a.to_json()["hours"], json!(2.5));
    }

    #[test]
    fn every_rule_names_its_question() {
        let e = check(json!({
            "age": 200, "platforms_used": ["facebook", "myspace"], "student_id": "12",
            "hours": "lots", "rate": 4.5, "born": "05/04/2003", "mail": "nope", "colour": "red"
        }))
        .err()
        .unwrap_or_default();
        let has = |k: &str, fragment: &str| {
            assert!(
                e.get(k).is_some_and(|l| l.iter().any(|m| m.contains(fragment))),
                "{k}: {fragment} in {e:?}"
            );
        };
        has("gender", "required");
        has("age", "at most 80");
        has("platforms_used", "'myspace' is not one of the choices");
        has("student_id", "expected format");
        has("hours", "Must be a number, not text");
        has("rate", "whole number");
        has("born", "YYYY-MM-DD");
        has("mail", "");
        has("colour", "no question `colour`");
        assert!(!e.contains_key("ok"), "ok is hidden while age is refused: {e:?}");
        let Value::Object(raw) = json!({"age": 200, "hours": 3, "ok": true}) else { return };
        let readable = readable(&demographics(), &raw);
        assert_eq!(readable.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["hours"]);
    }

    #[test]
    fn hidden_questions_are_not_required_and_not_accepted() {
        let base = json!({"gender": "facebook", "age": 30, "platforms_used": ["facebook"]});
        assert!(check(base.clone()).is_ok());
        let mut with_hidden = base.clone();
        with_hidden["twitter_use"] = json!("I don't use it");
        let e = check(with_hidden).err().unwrap_or_default();
        assert!(e["twitter_use"][0].contains("not asked"), "{e:?}");
        let mut shown = base;
        shown["platforms_used"] = json!(["twitter"]);
        let e = check(shown).err().unwrap_or_default();
        assert!(e["twitter_use"][0].contains("required"), "{e:?}");
    }

    #[test]
    fn a_draft_skips_required_and_drops_hidden_answers() {
        let Value::Object(map) = json!({"age": 16, "twitter_use": "x"}) else { return };
        let draft = Mode { require: false, drop_hidden: true };
        let e =
            validate(&demographics(), &map, draft).err().map(|e| e.messages()).unwrap_or_default();
        assert_eq!(e.keys().collect::<Vec<_>>(), ["age"], "{e:?}");
        let Value::Object(map) = json!({"age": 19, "twitter_use": "x"}) else { return };
        let a =
            validate(&demographics(), &map, draft).unwrap_or_else(|e| panic!("{:?}", e.messages()));
        assert_eq!(a.len(), 1);
    }

    #[test]
    fn choices_bounds_and_blanks() {
        let e = check(json!({"gender": "facebook", "age": 30, "platforms_used": ["facebook", "twitter", "youtube"]}))
            .err()
            .unwrap_or_default();
        assert!(e["platforms_used"][0].contains("at most 2"), "{e:?}");
        let e = check(json!({"gender": "", "age": null, "platforms_used": []}))
            .err()
            .unwrap_or_default();
        // Blank text, null and an empty list are no answer; the list is optional.
        assert_eq!(e.keys().collect::<Vec<_>>(), ["age", "gender"], "{e:?}");
        let e = check(
            json!({"gender": "facebook", "age": 30, "platforms_used": ["facebook", "facebook"]}),
        )
        .err()
        .unwrap_or_default();
        assert!(e["platforms_used"][0].contains("twice"), "{e:?}");
    }

    #[test]
    fn html_fields_become_typed_json() {
        let def = demographics();
        let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in [
            ("age", "22"),
            ("platforms_used", "facebook"),
            ("platforms_used", "twitter"),
            ("ok", "yes"),
            ("hours", "two"),
        ] {
            fields.entry(k.to_string()).or_default().push(v.to_string());
        }
        let raw = from_form_fields(&def, &fields);
        assert_eq!(raw["age"], json!(22.0));
        assert_eq!(raw["platforms_used"], json!(["facebook", "twitter"]));
        assert_eq!(raw["ok"], json!(true));
        assert_eq!(raw["hours"], json!("two"));
    }

    #[test]
    fn a_decimal_comma_reads_as_a_decimal_and_a_thousands_comma_is_refused() {
        assert_eq!(decimal("1,5"), Number::from_f64(1.5));
        assert_eq!(decimal("1.5"), Number::from_f64(1.5));
        assert_eq!(decimal(",5"), Number::from_f64(0.5));
        assert_eq!(decimal("1,500"), None, "thousands or decimals? not guessed");
        assert_eq!(decimal("1,5,0"), None);
        assert_eq!(decimal("1.5,0"), None);
        assert!(ambiguous_comma("1,500") && !ambiguous_comma("1,50") && !ambiguous_comma("1.500"));
    }

    #[test]
    fn rows_round_trip() {
        let a = check(json!({
            "gender": "youtube", "age": 22, "platforms_used": ["twitter", "facebook"], "twitter_use": "news",
            "hours": 1.5, "ok": false, "rate": 3, "born": "2001-02-03", "mail": "x@example.org"
        }))
        .unwrap_or_else(|e| panic!("{e:?}"));
        let rows = a.rows();
        assert_eq!(rows.iter().filter(|r| r.question_key == "platforms_used").count(), 2);
        assert_eq!(Answers::from_rows(&demographics(), &rows), a);
    }

    proptest! {
        #[test]
        fn arbitrary_json_never_panics_and_valid_answers_revalidate(
            age in prop_oneof![Just(json!(null)), (-5i64..100).prop_map(|n| json!(n)), "\\PC{0,6}".prop_map(|s| json!(s))],
            picks in proptest::collection::vec(prop_oneof![Just("facebook"), Just("twitter"), Just("youtube"), Just("x")], 0..4),
            text in "\\PC{0,30}",
        ) {
            let raw = json!({"gender": "facebook", "age": age, "platforms_used": picks, "twitter_use": text});
            if let Ok(answers) = check(raw) {
                let again = check(Value::Object(answers.to_json()));
                prop_assert_eq!(again, Ok(answers));
            }
        }
    }
}
