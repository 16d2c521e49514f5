//! Questionnaire definitions (SPEC §9): questions with types and constraints, choice
//! lists and `show_if` branching, checked once when a form is loaded so that answering
//! never meets a broken definition. `answers` validates what participants send;
//! `expr` is the small language of `show_if` and `eligible_if`.

pub mod answers;
pub mod expr;

use std::collections::BTreeMap;

use self::expr::{Expr, Operand, Unusable};
use crate::domain::FieldErrors;
use crate::domain::fields::FieldError;

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum QuestionType {
        Text = "text",
        LongText = "long_text",
        Integer = "integer",
        Number = "number",
        SingleChoice = "single_choice",
        MultiChoice = "multi_choice",
        Scale = "scale",
        YesNo = "yes_no",
        Date = "date",
        Email = "email",
    }
    else "unknown_type", "Unknown question type."
}

impl QuestionType {
    pub fn is_numeric(self) -> bool {
        matches!(self, QuestionType::Integer | QuestionType::Number | QuestionType::Scale)
    }

    pub fn is_textual(self) -> bool {
        matches!(self, QuestionType::Text | QuestionType::LongText | QuestionType::Email)
    }

    pub fn has_choices(self) -> bool {
        matches!(self, QuestionType::SingleChoice | QuestionType::MultiChoice)
    }

    /// Whole numbers only.
    pub fn is_whole(self) -> bool {
        matches!(self, QuestionType::Integer | QuestionType::Scale)
    }

    /// The longest answer accepted when the form sets no `max_length`.
    fn default_max_length(self) -> usize {
        match self {
            QuestionType::LongText => 10_000,
            QuestionType::Email => 254,
            _ => 1_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// A regular expression an answer must match in full.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub source: String,
    regex: regex::Regex,
}

impl Pattern {
    pub fn parse(source: &str) -> Result<Self, FieldError> {
        regex::RegexBuilder::new(&format!("^(?:{source})$"))
            .size_limit(1 << 20)
            .build()
            .map(|regex| Pattern { source: source.to_string(), regex })
            .map_err(|e| {
                let message = match e {
                    regex::Error::Syntax(s) => format!(
                        "is not a valid regular expression: {}",
                        s.lines().last().unwrap_or("")
                    ),
                    _ => "is too large a regular expression".to_string(),
                };
                FieldError::new("invalid", message)
            })
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub key: String,
    pub kind: QuestionType,
    pub label: String,
    pub help: Option<String>,
    pub required: bool,
    /// The heading of the group this question opens, if it opens one.
    pub section: Option<String>,
    /// The name of the choice list, and its choices.
    pub choice_list: Option<String>,
    pub choices: Vec<Choice>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub pattern: Option<Pattern>,
    pub min_choices: Option<usize>,
    pub max_choices: Option<usize>,
    pub show_if: Option<(String, Expr)>,
}

impl Question {
    pub fn choice_label(&self, value: &str) -> Option<&str> {
        self.choices.iter().find(|c| c.value == value).map(|c| c.label.as_str())
    }

    /// The longest text accepted.
    pub fn length_limit(&self) -> usize {
        self.max_length.unwrap_or_else(|| self.kind.default_max_length())
    }

    /// How expressions see this question.
    pub fn operand(&self) -> Operand {
        let values = || self.choices.iter().map(|c| c.value.clone()).collect();
        match self.kind {
            QuestionType::Text | QuestionType::LongText | QuestionType::Email => Operand::Text,
            QuestionType::Date => Operand::Date,
            QuestionType::Integer | QuestionType::Number | QuestionType::Scale => Operand::Number,
            QuestionType::YesNo => Operand::Bool,
            QuestionType::SingleChoice => Operand::Choice(values()),
            QuestionType::MultiChoice => Operand::Choices(values()),
        }
    }
}

/// A loaded questionnaire: `key` + `version` name it, `form_hash` (SHA-256 of the
/// file) proves which text the answers were given against.
#[derive(Debug, Clone, PartialEq)]
pub struct FormDefinition {
    pub key: String,
    pub version: u32,
    pub title: String,
    pub description: Option<String>,
    pub questions: Vec<Question>,
    pub form_hash: String,
    /// The words in other languages, by BCP 47 tag (empty: one language).
    pub translations: BTreeMap<String, Translation>,
    /// The translation these words are in (`None`: the file's own language).
    pub shown_in: Option<String>,
}

/// A questionnaire's words in another language: each text given replaces the
/// default one, and anything left out keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Translation {
    pub title: Option<String>,
    pub description: Option<String>,
    /// Question key to its label, help and section heading.
    pub labels: BTreeMap<String, String>,
    pub help: BTreeMap<String, String>,
    pub sections: BTreeMap<String, String>,
    /// Choice list name to value to label.
    pub choices: BTreeMap<String, BTreeMap<String, String>>,
}

impl FormDefinition {
    /// The questionnaire in the language `tag` names (its exact tag, else the same
    /// primary language), or as it is when it has no such translation. Keys,
    /// values, types and rules never change: only the words.
    pub fn in_language(&self, tag: &str) -> Self {
        let primary = |t: &str| t.split('-').next().unwrap_or(t).to_ascii_lowercase();
        let found = self
            .translations
            .iter()
            .find(|(t, _)| t.eq_ignore_ascii_case(tag))
            .or_else(|| self.translations.iter().find(|(t, _)| primary(t) == primary(tag)));
        let Some((language, words)) = found else {
            return self.clone();
        };
        let mut out = self.clone();
        out.shown_in = Some(language.clone());
        if let Some(title) = &words.title {
            out.title = title.clone();
        }
        if words.description.is_some() {
            out.description = words.description.clone();
        }
        for q in &mut out.questions {
            if let Some(label) = words.labels.get(&q.key) {
                q.label = label.clone();
            }
            if let Some(help) = words.help.get(&q.key) {
                q.help = Some(help.clone());
            }
            if let (Some(section), Some(_)) = (words.sections.get(&q.key), &q.section) {
                q.section = Some(section.clone());
            }
            let list = q.choice_list.as_ref().and_then(|l| words.choices.get(l));
            for c in q.choices.iter_mut() {
                if let Some(label) = list.and_then(|l| l.get(&c.value)) {
                    c.label = label.clone();
                }
            }
        }
        out
    }
    pub fn question(&self, key: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.key == key)
    }

    /// Checks `expression` (an `eligible_if`) against this form's questions.
    pub fn check_expression(&self, source: &str) -> Result<Expr, Unusable> {
        let parsed = expr::parse(source)?;
        expr::check(&parsed, &|key| {
            self.question(key).map(Question::operand).ok_or_else(|| {
                Unusable::Meaning(format!("`{key}` is not a question of {}", self.key))
            })
        })?;
        Ok(parsed)
    }
}

/// One choice in a list, as written.
#[derive(Debug, Clone, Default)]
pub struct ChoiceInput {
    pub value: String,
    pub label: String,
}

/// One question as written; `kind` is still text so that a wrong type is reported
/// like every other mistake.
#[derive(Debug, Clone, Default)]
pub struct QuestionInput {
    pub key: String,
    pub kind: String,
    pub label: String,
    pub help: Option<String>,
    pub required: bool,
    pub section: Option<String>,
    pub choices: Option<String>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub min_length: Option<i64>,
    pub max_length: Option<i64>,
    pub pattern: Option<String>,
    pub min_choices: Option<i64>,
    pub max_choices: Option<i64>,
    pub show_if: Option<String>,
}

/// A questionnaire as written, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct FormInput {
    pub key: String,
    pub version: i64,
    pub title: String,
    pub description: Option<String>,
    pub questions: Vec<QuestionInput>,
    pub choices: Vec<(String, Vec<ChoiceInput>)>,
    /// The words in other languages, by BCP 47 tag.
    pub translations: BTreeMap<String, Translation>,
}

fn is_slug(s: &str, extra: char) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == extra)
}

pub fn is_form_key(s: &str) -> bool {
    is_slug(s, '-')
}

/// Checks a written questionnaire. Field names in the errors are `key`, `version`,
/// `title`, `question[N].FIELD` (N counting from 1, as the file's `[[question]]`
/// tables do) and `choices.LIST[N].FIELD`.
pub fn build(input: FormInput, form_hash: String) -> Result<FormDefinition, FieldErrors> {
    let mut errors = FieldErrors::new();
    if !is_form_key(&input.key) {
        errors.add("key", "invalid", "must be lower-case letters, digits and hyphens (at most 64)");
    }
    let version = u32::try_from(input.version).ok().filter(|v| *v > 0);
    if version.is_none() {
        errors.add("version", "invalid", "must be a positive whole number");
    }
    if input.title.trim().is_empty() {
        errors.add("title", "required", "must not be empty");
    }
    let lists = choice_lists(&input.choices, &mut errors);
    if input.questions.is_empty() {
        errors.add("question", "required", "a questionnaire needs at least one [[question]]");
    }
    let mut questions: Vec<Question> = Vec::new();
    for (n, q) in input.questions.into_iter().enumerate() {
        let mut at = At { errors: &mut errors, n: n + 1 };
        if let Some(question) = question(q, &lists, &questions, &mut at) {
            questions.push(question);
        }
    }
    errors.into_result()?;
    Ok(FormDefinition {
        key: input.key,
        version: version.unwrap_or(1),
        title: input.title.trim().to_string(),
        description: input.description.filter(|d| !d.trim().is_empty()),
        questions,
        form_hash,
        translations: input.translations,
        shown_in: None,
    })
}

/// The `[choices]` lists by name, each value a distinct slug with a label.
fn choice_lists<'a>(
    input: &'a [(String, Vec<ChoiceInput>)],
    errors: &mut FieldErrors,
) -> BTreeMap<&'a str, Vec<Choice>> {
    let mut lists = BTreeMap::new();
    for (name, choices) in input {
        let field = |n: usize, f: &str| format!("choices.{name}[{n}].{f}");
        if choices.is_empty() {
            errors.add(
                &format!("choices.{name}"),
                "empty",
                "a choice list needs at least one choice",
            );
        }
        let mut seen = Vec::new();
        for (n, c) in choices.iter().enumerate() {
            if !is_slug(&c.value, '_') {
                errors.add(
                    &field(n + 1, "value"),
                    "invalid",
                    format!("'{}' must be lower-case letters, digits and _", c.value),
                );
            } else if seen.contains(&c.value.as_str()) {
                errors.add(
                    &field(n + 1, "value"),
                    "duplicate",
                    format!("'{}' is listed twice", c.value),
                );
            }
            seen.push(c.value.as_str());
            if c.label.trim().is_empty() {
                errors.add(&field(n + 1, "label"), "required", "must not be empty");
            }
        }
        lists.insert(
            name.as_str(),
            choices
                .iter()
                .map(|c| Choice { value: c.value.clone(), label: c.label.clone() })
                .collect(),
        );
    }
    lists
}

/// Where the problems of the `n`th question (from 1) are reported:
/// `question[n].FIELD`.
struct At<'a> {
    errors: &'a mut FieldErrors,
    n: usize,
}

impl At<'_> {
    fn bad(&mut self, field: &str, message: impl Into<String>) {
        self.errors.add(&format!("question[{}].{field}", self.n), "invalid", message);
    }

    /// A count (a length, a number of choices): not negative.
    fn count(&mut self, field: &str, v: Option<i64>) -> Option<usize> {
        match v {
            Some(v) if v < 0 => {
                self.bad(field, "must not be negative");
                None
            }
            Some(v) => usize::try_from(v).ok(),
            None => None,
        }
    }
}

/// Checks one question against the lists and the questions before it; `None` when
/// its type is unknown (nothing else about it can be checked).
fn question(
    q: QuestionInput,
    lists: &BTreeMap<&str, Vec<Choice>>,
    earlier: &[Question],
    at: &mut At<'_>,
) -> Option<Question> {
    if !is_slug(&q.key, '_') {
        at.bad("key", format!("'{}' must be lower-case letters, digits and _ (at most 64)", q.key));
    } else if earlier.iter().any(|p| p.key == q.key) {
        at.bad("key", format!("'{}' is used by an earlier question", q.key));
    }
    if q.label.trim().is_empty() {
        at.bad("label", "must not be empty");
    }
    let Ok(kind) = q.kind.parse::<QuestionType>() else {
        let all: Vec<_> = QuestionType::ALL.iter().map(|t| t.as_str()).collect();
        at.bad("type", format!("'{}' is not a question type ({})", q.kind, all.join(", ")));
        return None;
    };
    fields_that_apply(&q, kind, at);
    numeric_bounds(&q, kind, at);
    let min_length = at.count("min_length", q.min_length);
    let max_length = at.count("max_length", q.max_length);
    let min_choices = at.count("min_choices", q.min_choices);
    let max_choices = at.count("max_choices", q.max_choices);
    length_bounds(min_length, max_length, at);
    let pattern = match q.pattern.as_deref().map(Pattern::parse) {
        Some(Err(e)) => {
            at.bad("pattern", e.message);
            None
        }
        Some(Ok(p)) => Some(p),
        None => None,
    };
    let (choice_list, choices) = choice_list(&q, kind, lists, at);
    choice_bounds(min_choices, max_choices, choices.len(), at);
    let show_if = show_if(&q, earlier, at);
    Some(Question {
        key: q.key,
        kind,
        label: q.label.trim().to_string(),
        help: q.help.filter(|h| !h.trim().is_empty()),
        required: q.required,
        section: q.section.filter(|s| !s.trim().is_empty()),
        choice_list,
        choices,
        min: q.min,
        max: q.max,
        min_length,
        max_length,
        pattern,
        min_choices,
        max_choices,
        show_if,
    })
}

/// Each bound or list is only for the kinds of question it makes sense for.
fn fields_that_apply(q: &QuestionInput, kind: QuestionType, at: &mut At<'_>) {
    let mut not_for = |f: &str, set: bool| {
        if set {
            at.bad(f, format!("does not apply to a {kind} question"));
        }
    };
    not_for("min", q.min.is_some() && !kind.is_numeric());
    not_for("max", q.max.is_some() && !kind.is_numeric());
    not_for("min_length", q.min_length.is_some() && !kind.is_textual());
    not_for("max_length", q.max_length.is_some() && !kind.is_textual());
    not_for(
        "pattern",
        q.pattern.is_some() && !matches!(kind, QuestionType::Text | QuestionType::LongText),
    );
    not_for("choices", q.choices.is_some() && !kind.has_choices());
    not_for("min_choices", q.min_choices.is_some() && kind != QuestionType::MultiChoice);
    not_for("max_choices", q.max_choices.is_some() && kind != QuestionType::MultiChoice);
}

/// `min` and `max`: finite, whole for whole-number kinds, in order; a scale has
/// both, at most 101 points apart.
fn numeric_bounds(q: &QuestionInput, kind: QuestionType, at: &mut At<'_>) {
    for (f, v) in [("min", q.min), ("max", q.max)] {
        if let Some(v) = v {
            if !v.is_finite() {
                at.bad(f, "must be a finite number");
            } else if kind.is_whole() && v.fract() != 0.0 {
                at.bad(f, format!("must be a whole number for a {kind} question"));
            }
        }
    }
    if let (Some(lo), Some(hi)) = (q.min, q.max)
        && lo > hi
    {
        at.bad("max", format!("{hi} is below min {lo}: no answer could be given"));
    }
    if kind == QuestionType::Scale {
        match (q.min, q.max) {
            (Some(lo), Some(hi)) if hi - lo > 100.0 => {
                at.bad("max", "a scale has at most 101 points")
            }
            (Some(_), Some(_)) => {}
            _ => at.bad("max", "a scale needs both min and max (for example 1 and 5)"),
        }
    }
}

/// A text answer's length limits: at least 1, in order, at most 100,000.
fn length_bounds(min_length: Option<usize>, max_length: Option<usize>, at: &mut At<'_>) {
    if max_length == Some(0) {
        at.bad("max_length", "must be at least 1");
    }
    if let (Some(lo), Some(hi)) = (min_length, max_length)
        && lo > hi
    {
        at.bad("max_length", format!("{hi} is below min_length {lo}: no answer could be given"));
    }
    if max_length.is_some_and(|m| m > 100_000) {
        at.bad("max_length", "must be at most 100000");
    }
}

/// The named choice list of a question that offers choices.
fn choice_list(
    q: &QuestionInput,
    kind: QuestionType,
    lists: &BTreeMap<&str, Vec<Choice>>,
    at: &mut At<'_>,
) -> (Option<String>, Vec<Choice>) {
    match (&q.choices, kind.has_choices()) {
        (Some(name), true) => match lists.get(name.as_str()) {
            Some(list) => (Some(name.clone()), list.clone()),
            None => {
                let known: Vec<_> = lists.keys().copied().collect();
                let listed = if known.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", known.join(", "))
                };
                at.bad("choices", format!("there is no list '{name}' under [choices]{listed}"));
                (None, Vec::new())
            }
        },
        (None, true) => {
            at.bad("choices", format!("a {kind} question names its choice list"));
            (None, Vec::new())
        }
        _ => (None, Vec::new()),
    }
}

/// How many choices a multiple choice takes: within what is offered, in order, at
/// least 1.
fn choice_bounds(min: Option<usize>, max: Option<usize>, offered: usize, at: &mut At<'_>) {
    if offered > 0 {
        if max.is_some_and(|m| m > offered) {
            at.bad("max_choices", format!("is more than the {offered} choices offered"));
        }
        if min.is_some_and(|m| m > offered) {
            at.bad("min_choices", format!("is more than the {offered} choices offered"));
        }
    }
    if let (Some(lo), Some(hi)) = (min, max)
        && lo > hi
    {
        at.bad("max_choices", format!("{hi} is below min_choices {lo}: no answer could be given"));
    }
    if max == Some(0) {
        at.bad("max_choices", "must be at least 1");
    }
}

/// The `show_if` condition, which may look only at earlier questions.
fn show_if(q: &QuestionInput, earlier: &[Question], at: &mut At<'_>) -> Option<(String, Expr)> {
    let source = q.show_if.as_deref()?;
    let parsed = match expr::parse(source) {
        Ok(parsed) => parsed,
        Err(e) => {
            at.bad("show_if", e.to_string());
            return None;
        }
    };
    let operand = |key: &str| -> Result<Operand, Unusable> {
        match earlier.iter().find(|p| p.key == key) {
            Some(p) => Ok(p.operand()),
            None if key == q.key => Err(Unusable::Meaning(format!(
                "`{key}` is this question: show_if may only look at earlier questions"
            ))),
            None => {
                Err(Unusable::Meaning(format!("`{key}` is not an earlier question of this form")))
            }
        }
    };
    match expr::check(&parsed, &operand) {
        Ok(()) => Some((source.to_string(), parsed)),
        Err(e) => {
            at.bad("show_if", e.to_string());
            None
        }
    }
}

text_enum! {
    /// When a study asks a questionnaire: when someone answers an ad (`screening`,
    /// deciding eligibility), or once they have consented (`after_consent`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Stage {
        Screening = "screening",
        AfterConsent = "after_consent",
    }
    else "unknown_stage", "Stage must be screening or after_consent."
}

/// A questionnaire attached to a study.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instrument {
    pub id: i64,
    pub study_id: i64,
    pub definition_id: i64,
    pub key: String,
    pub version: u32,
    pub form_hash: String,
    pub stage: Stage,
    pub eligible_if: Option<String>,
    pub position: i32,
}

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ResponseStatus {
        /// Saved to finish later; required questions may still be open.
        InProgress = "in_progress",
        Complete = "complete",
    }
    else "unknown_status", "Unknown response status."
}

/// A participant's answers to one instrument, stamped with the definition they
/// were given against. `revision` counts saves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub id: i64,
    pub participant_id: i64,
    pub instrument_id: i64,
    pub definition_id: i64,
    pub form_hash: String,
    pub status: ResponseStatus,
    pub revision: i32,
    pub submitted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn q(key: &str, kind: &str) -> QuestionInput {
        QuestionInput {
            key: key.into(),
            kind: kind.into(),
            label: format!("Label {key}"),
            ..Default::default()
        }
    }

    pub fn form(questions: Vec<QuestionInput>) -> FormInput {
        FormInput {
            key: "test-form".into(),
            version: 1,
            title: "Test".into(),
            description: None,
            questions,
            choices: vec![(
                "platforms".into(),
                ["facebook", "twitter", "youtube"]
                    .iter()
                    .map(|v| ChoiceInput { value: v.to_string(), label: v.to_uppercase() })
                    .collect(),
            )],
            translations: BTreeMap::new(),
        }
    }

    fn errors_of(input: FormInput) -> BTreeMap<String, Vec<String>> {
        build(input, "h".into()).err().map(|e| e.messages()).unwrap_or_default()
    }

    #[test]
    fn a_form_with_every_type_builds() {
        let mut questions: Vec<_> =
            QuestionType::ALL.iter().map(|t| q(&format!("q_{}", t.as_str()), t.as_str())).collect();
        for question in &mut questions {
            if question.kind.ends_with("choice") {
                question.choices = Some("platforms".into());
            }
            if question.kind == "scale" {
                question.min = Some(1.0);
                question.max = Some(5.0);
            }
        }
        questions[5].show_if = Some("q_yes_no == true or q_single_choice == 'twitter'".into());
        questions[5].show_if = Some("answered(q_text) and q_integer > 3".into());
        let def =
            build(form(questions), "abc".into()).unwrap_or_else(|e| panic!("{:?}", e.messages()));
        assert_eq!(def.questions.len(), 10);
        assert_eq!(def.questions[4].choices.len(), 3);
        assert_eq!(def.form_hash, "abc");
    }

    #[test]
    fn mistakes_are_named_by_question_and_field() {
        let mut dup = q("age", "integer");
        dup.min = Some(80.0);
        dup.max = Some(17.0);
        let mut wrong = q("age", "text");
        wrong.min = Some(1.0);
        wrong.pattern = Some("([a-z]".into());
        let mut dangling = q("pick", "single_choice");
        dangling.choices = Some("colours".into());
        let mut later = q("follow", "text");
        later.show_if = Some("after == 'x'".into());
        let mut itself = q("selfish", "yes_no");
        itself.show_if = Some("selfish == true".into());
        let mut typo = q("kind", "dropdown");
        typo.help = Some("h".into());
        let mut frac = q("half", "integer");
        frac.min = Some(0.5);
        let mut too_many = q("many", "multi_choice");
        too_many.choices = Some("platforms".into());
        too_many.max_choices = Some(4);
        let mut scale = q("rate", "scale");
        scale.min = Some(1.0);
        let e = errors_of(form(vec![
            dup,
            wrong,
            dangling,
            later,
            itself,
            typo,
            frac,
            too_many,
            scale,
            q("after", "text"),
        ]));
        let has = |field: &str, fragment: &str| {
            assert!(
                e.get(field).is_some_and(|l| l.iter().any(|m| m.contains(fragment))),
                "{field}: {fragment} not in {e:?}"
            );
        };
        has("question[1].max", "below min 80");
        has("question[2].key", "used by an earlier question");
        has("question[2].min", "does not apply to a text question");
        has("question[2].pattern", "not a valid regular expression");
        has("question[3].choices", "no list 'colours'");
        has("question[4].show_if", "not an earlier question");
        has("question[5].show_if", "this question");
        has("question[6].type", "'dropdown' is not a question type");
        has("question[7].min", "whole number");
        has("question[8].max_choices", "more than the 3 choices");
        has("question[9].max", "needs both min and max");
    }

    #[test]
    fn choice_lists_and_the_form_itself_are_checked() {
        let mut input = form(vec![q("a", "text")]);
        input.key = "Bad Key".into();
        input.version = 0;
        input.title = " ".into();
        input.choices.push((
            "dups".into(),
            vec![
                ChoiceInput { value: "x".into(), label: "X".into() },
                ChoiceInput { value: "x".into(), label: "".into() },
            ],
        ));
        let e = errors_of(input);
        for field in ["key", "version", "title", "choices.dups[2].value", "choices.dups[2].label"] {
            assert!(e.contains_key(field), "{field} in {e:?}");
        }
        assert!(errors_of(form(vec![])).contains_key("question"));
    }

    #[test]
    fn eligible_if_is_checked_against_the_form() {
        let mut yes = q("enrolled_in_medicine", "yes_no");
        yes.required = true;
        let def =
            build(form(vec![yes]), "h".into()).unwrap_or_else(|e| panic!("{:?}", e.messages()));
        assert!(def.check_expression("enrolled_in_medicine == true").is_ok());
        let e = def.check_expression("enrolled == true").err().map(|e| e.to_string());
        let e = e.unwrap_or_default();
        assert!(e.contains("not a question of test-form"), "{e}");
        assert!(def.check_expression("enrolled_in_medicine = true").is_err());
    }

    #[test]
    fn patterns_match_whole_answers() {
        let p = Pattern::parse("[A-Z][0-9]{3}").unwrap_or_else(|e| panic!("{}", e.message));
        assert!(p.is_match("A123"));
        assert!(!p.is_match("xA123"));
        assert!(!p.is_match("A1234"));
    }
}
