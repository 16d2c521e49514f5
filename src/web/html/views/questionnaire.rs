//! A questionnaire page as participants see it: its sections and questions with
//! what was saved or submitted, the errors in question order, and the progress
//! through the study's questionnaires.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use std::sync::Arc;

use super::study::InstrumentRow;
use super::{Block, FormView, ParticipantFrame, Refusal, StaffFrame, blocks};
use crate::domain::questionnaire::answers::{self, Answer, Answers};
use crate::domain::questionnaire::expr::{Expr, Literal};
use crate::domain::questionnaire::{FormDefinition, Question, QuestionType};
use crate::domain::questionnaire::{Instrument, Stage};
use crate::domain::study::Study;
use crate::service::questionnaire::Questionnaire;
use crate::web::html::questionnaire::AttachForm;

#[derive(Serialize)]
pub struct QuestionnairePage {
    #[serde(flatten)]
    pub frame: ParticipantFrame,
    pub key: String,
    /// The language of the questionnaire's words, when a translation is shown.
    pub language: Option<String>,
    pub title: String,
    pub version: u32,
    pub description: Vec<Block>,
    pub sections: Vec<SectionView>,
    pub errors: Vec<(String, Vec<String>)>,
    pub message: Option<String>,
    pub status: &'static str,
    pub position: usize,
    pub total: usize,
    pub completed: usize,
    pub saved_notice: bool,
    /// The questions visible as the page is drawn, sent back with the answers.
    pub shown: String,
    /// How many questions the last answers opened that the page had not shown.
    pub opened: Option<usize>,
}

impl QuestionnairePage {
    pub fn new(
        frame: ParticipantFrame,
        all: &[Questionnaire],
        q: &Questionnaire,
        submitted: Option<&BTreeMap<String, Vec<String>>>,
        refusal: &Refusal,
        saved_notice: bool,
    ) -> Self {
        let def = &q.definition;
        // The error summary lists errors in question order, each naming its question.
        let order: Vec<(String, String)> =
            def.questions.iter().map(|q| (q.key.clone(), q.label.clone())).collect();
        let errors = refusal.in_page_order(&order);
        let mut page = Self {
            frame,
            key: q.instrument.key.clone(),
            language: def.shown_in.clone(),
            title: def.title.clone(),
            version: q.instrument.version,
            description: def.description.as_deref().map(blocks).unwrap_or_default(),
            shown: String::new(),
            opened: None,
            sections: sections(def, &q.answers, submitted, &refusal.fields),
            errors,
            message: refusal.message.clone(),
            status: q.status(),
            position: all.iter().position(|x| x.instrument.key == q.instrument.key).unwrap_or(0)
                + 1,
            total: all.len(),
            completed: all.iter().filter(|x| x.status() == "complete").count(),
            saved_notice,
        };
        page.shown = page
            .sections
            .iter()
            .flat_map(|s| s.questions.iter())
            .filter(|q| !q.hidden)
            .map(|q| q.key.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        page
    }
}

#[derive(Serialize)]
pub struct ChoiceView {
    value: String,
    label: String,
    checked: bool,
}

/// One question as the page shows it.
#[derive(Serialize)]
pub struct QuestionView {
    key: String,
    kind: &'static str,
    label: String,
    help: Option<String>,
    required: bool,
    /// The `type` of an `<input>` (text, email, date, number), when one is used.
    input_type: &'static str,
    inputmode: Option<&'static str>,
    value: String,
    choices: Vec<ChoiceView>,
    min: Option<String>,
    max: Option<String>,
    step: Option<&'static str>,
    maxlength: Option<usize>,
    errors: Vec<String>,
    /// Not asked given the current answers: hidden until they change.
    hidden: bool,
    /// The `show_if` condition as JSON, for the script.
    show_if: Option<String>,
}

#[derive(Serialize)]
pub struct SectionView {
    title: Option<String>,
    questions: Vec<QuestionView>,
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 { format!("{n:.0}") } else { n.to_string() }
}

/// A condition as the page script reads it.
fn expr_json(e: &Expr) -> Value {
    use serde_json::json;
    match e {
        Expr::Compare { key, op, value } => json!({
            "key": key,
            "op": op.as_str(),
            "value": match value {
                Literal::Text(t) => json!(t),
                Literal::Number(n) => json!(n),
                Literal::Bool(b) => json!(b),
            },
        }),
        Expr::Answered(key) => json!({"answered": key}),
        Expr::Not(inner) => json!({"not": expr_json(inner)}),
        Expr::And(a, b) => json!({"and": [expr_json(a), expr_json(b)]}),
        Expr::Or(a, b) => json!({"or": [expr_json(a), expr_json(b)]}),
    }
}

/// What each question shows: the submitted text when the page comes back with
/// errors, otherwise the saved answer.
fn shown_values(saved: Option<&Answer>, submitted: Option<&Vec<String>>) -> Vec<String> {
    if let Some(values) = submitted {
        return values.clone();
    }
    match saved {
        None => Vec::new(),
        Some(Answer::Text(s)) | Some(Answer::Choice(s)) => vec![s.clone()],
        Some(Answer::Date(d)) => vec![d.format("%Y-%m-%d").to_string()],
        Some(Answer::Number(n)) => vec![number(*n)],
        Some(Answer::Bool(b)) => vec![if *b { "yes" } else { "no" }.to_string()],
        Some(Answer::Choices(c)) => c.clone(),
    }
}

fn question_view(
    q: &Question,
    values: Vec<String>,
    errors: Vec<String>,
    hidden: bool,
) -> QuestionView {
    let choices: Vec<ChoiceView> = match q.kind {
        QuestionType::YesNo => [("yes", "Yes"), ("no", "No")]
            .iter()
            .map(|(v, l)| ChoiceView {
                value: v.to_string(),
                label: l.to_string(),
                checked: values.iter().any(|x| x == v),
            })
            .collect(),
        QuestionType::Scale => {
            let lo = q.min.unwrap_or(1.0) as i64;
            let hi = q.max.unwrap_or(5.0) as i64;
            (lo..=hi)
                .map(|n| ChoiceView {
                    value: n.to_string(),
                    label: n.to_string(),
                    checked: values.iter().any(|x| x == &n.to_string()),
                })
                .collect()
        }
        _ => q
            .choices
            .iter()
            .map(|c| ChoiceView {
                value: c.value.clone(),
                label: c.label.clone(),
                checked: values.iter().any(|x| x == &c.value),
            })
            .collect(),
    };
    let (input_type, inputmode, step) = match q.kind {
        QuestionType::Email => ("email", Some("email"), None),
        QuestionType::Date => ("date", None, None),
        QuestionType::Integer => ("number", Some("numeric"), Some("1")),
        // Text, not `number`: browsers read a decimal comma differently by locale
        // (Chrome turned `1,5` into 15); the server reads a point or a comma.
        QuestionType::Number => ("text", Some("decimal"), None),
        _ => ("text", None, None),
    };
    QuestionView {
        key: q.key.clone(),
        kind: q.kind.as_str(),
        label: q.label.clone(),
        help: q.help.clone(),
        required: q.required,
        input_type,
        inputmode,
        value: values.first().cloned().unwrap_or_default(),
        choices,
        min: q.min.map(number),
        max: q.max.map(number),
        step,
        maxlength: Some(q.length_limit()).filter(|_| q.kind.is_textual()),
        errors,
        hidden,
        show_if: q.show_if.as_ref().map(|(_, e)| expr_json(e).to_string()),
    }
}

pub fn sections(
    def: &FormDefinition,
    saved: &Answers,
    submitted: Option<&BTreeMap<String, Vec<String>>>,
    errors: &BTreeMap<String, Vec<String>>,
) -> Vec<SectionView> {
    // Visibility follows what is on the page: the submitted values when there are any.
    let current = match submitted {
        Some(fields) => answers::readable(def, &answers::from_form_fields(def, fields)),
        None => saved.clone(),
    };
    let visible = answers::visible(def, &current);
    let mut out: Vec<SectionView> = Vec::new();
    for (q, shown) in def.questions.iter().zip(visible) {
        if q.section.is_some() || out.is_empty() {
            out.push(SectionView { title: q.section.clone(), questions: Vec::new() });
        }
        let values = shown_values(saved.get(&q.key), submitted.and_then(|s| s.get(&q.key)));
        let view =
            question_view(q, values, errors.get(&q.key).cloned().unwrap_or_default(), !shown);
        if let Some(section) = out.last_mut() {
            section.questions.push(view);
        }
    }
    out
}

/// A loaded questionnaire offered for attaching.
#[derive(Serialize)]
pub struct LoadedRow {
    pub key: String,
    pub version: u32,
    pub title: String,
    pub questions: usize,
}

/// A study's questionnaires and the form that attaches a loaded one.
#[derive(Serialize)]
pub struct InstrumentsPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub slug: String,
    pub title: String,
    pub manages: bool,
    pub attached: Vec<InstrumentRow>,
    pub loaded: Vec<LoadedRow>,
    /// `(key@version, label)` for the form's choice.
    pub choices: Vec<(String, String)>,
    pub has_screening: bool,
    pub form: FormView<AttachForm>,
    /// The eligibility rule was checked and reads well.
    pub rule_fits: bool,
}

impl InstrumentsPage {
    pub fn new<'a>(
        frame: StaffFrame,
        study: &Study,
        manages: bool,
        attached: &[(Instrument, Arc<FormDefinition>)],
        loaded: impl Iterator<Item = &'a FormDefinition>,
        form: FormView<AttachForm>,
    ) -> Self {
        let loaded: Vec<LoadedRow> = loaded
            .map(|d| LoadedRow {
                key: d.key.clone(),
                version: d.version,
                title: d.title.clone(),
                questions: d.questions.len(),
            })
            .collect();
        Self {
            frame,
            slug: study.slug.clone(),
            title: study.title.clone(),
            manages,
            has_screening: attached.iter().any(|(i, _)| i.stage == Stage::Screening),
            attached: attached.iter().map(|(i, d)| InstrumentRow::new(i, d)).collect(),
            choices: loaded
                .iter()
                .map(|l| {
                    (
                        format!("{}@{}", l.key, l.version),
                        format!("{} (version {})", l.title, l.version),
                    )
                })
                .collect(),
            loaded,
            form,
            rule_fits: false,
        }
    }
}

/// A loaded questionnaire as participants see it, for staff.
#[derive(Serialize)]
pub struct PreviewPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub key: String,
    pub title: String,
    pub version: u32,
    pub description: Vec<Block>,
    pub sections: Vec<SectionView>,
}

impl PreviewPage {
    pub fn new(frame: StaffFrame, def: &FormDefinition) -> Self {
        Self {
            frame,
            key: def.key.clone(),
            title: def.title.clone(),
            version: def.version,
            description: def.description.as_deref().map(blocks).unwrap_or_default(),
            sections: sections(def, &Answers::default(), None, &BTreeMap::new()),
        }
    }
}
