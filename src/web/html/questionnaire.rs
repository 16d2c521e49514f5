//! Questionnaire pages for participants. Without JavaScript, "Save and continue"
//! stores what was given and shows the page again with the questions those answers
//! open; with it, a small script shows and hides them as the participant answers.
//! Errors are listed at the top, linked to their fields, and every value is kept.

use std::collections::BTreeMap;

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::{State, get, post, routes};
use rocket_dyn_templates::{Template, context};
use serde::Serialize;
use serde_json::{Map, Value};

use super::views::{StudyBanner, blocks};
use crate::domain::questionnaire::answers::{self, Answer, Answers};
use crate::domain::questionnaire::expr::{Expr, Literal};
use crate::domain::questionnaire::{FormDefinition, Question, QuestionType};
use crate::error::AppError;
use crate::service::AppState;
use crate::service::questionnaire::{self, Questionnaire, Submit};
use crate::web::errors::PageResult;
use crate::web::guards::{CsrfForm, CsrfProtected, CsrfToken, ParticipantUser};

#[derive(FromForm, Default)]
struct AnswerForm {
    #[field(default = String::new())]
    csrf_token: String,
    /// `submit` or `save`.
    #[field(default = String::new())]
    action: String,
    /// `a[question_key]`, repeated for each ticked choice of a multiple choice.
    #[field(default = BTreeMap::new())]
    a: BTreeMap<String, Vec<String>>,
}

impl CsrfProtected for AnswerForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

#[derive(Serialize)]
struct ChoiceView {
    value: String,
    label: String,
    checked: bool,
}

/// One question as the page shows it.
#[derive(Serialize)]
struct QuestionView {
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
pub(super) struct SectionView {
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
        QuestionType::Number => ("number", Some("decimal"), Some("any")),
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

pub(super) fn sections(
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

#[allow(clippy::too_many_arguments)]
fn render(
    me: &ParticipantUser,
    csrf: &str,
    all: &[Questionnaire],
    q: &Questionnaire,
    submitted: Option<&BTreeMap<String, Vec<String>>>,
    error: Option<&AppError>,
    saved_notice: bool,
) -> (Status, Template) {
    let errors: BTreeMap<String, Vec<String>> =
        error.and_then(|e| e.fields()).map(|f| f.messages()).unwrap_or_default();
    let message = error.filter(|e| e.fields().is_none()).map(|e| e.public_message());
    let status = error.map(|e| Status::new(e.status())).unwrap_or(Status::Ok);
    let position = all.iter().position(|x| x.instrument.key == q.instrument.key).unwrap_or(0) + 1;
    let completed = all.iter().filter(|x| x.status() == "complete").count();
    // The error summary lists errors in question order.
    let ordered: Vec<(String, Vec<String>)> = q
        .definition
        .questions
        .iter()
        .filter_map(|question| errors.get(&question.key).map(|m| (question.key.clone(), m.clone())))
        .chain(
            errors
                .iter()
                .filter(|(k, _)| q.definition.question(k).is_none())
                .map(|(k, v)| (k.clone(), v.clone())),
        )
        .collect();
    (
        status,
        Template::render(
            "participant/questionnaire",
            context! {
                study: StudyBanner::from(&me.study),
                csrf,
                key: &q.instrument.key,
                title: &q.definition.title,
                version: q.instrument.version,
                description: q.definition.description.as_deref().map(blocks).unwrap_or_default(),
                sections: sections(&q.definition, &q.answers, submitted, &errors),
                errors: ordered,
                message,
                status: q.status(),
                position,
                total: all.len(),
                completed,
                saved_notice,
            },
        ),
    )
}

#[get("/participant/questionnaires/<key>?<saved>")]
async fn page(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    key: &str,
    saved: Option<bool>,
) -> PageResult<(Status, Template)> {
    let all = questionnaire::for_participant(state, &me.participant).await?;
    let q = all.iter().find(|q| q.instrument.key == key).ok_or(AppError::NotFound)?;
    Ok(render(&me, &csrf.0, &all, q, None, None, saved.unwrap_or(false)))
}

#[post("/participant/questionnaires/<key>", data = "<form>")]
async fn submit(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    key: &str,
    form: CsrfForm<AnswerForm>,
) -> PageResult<Result<Redirect, (Status, Template)>> {
    let form = form.0;
    let mut all = questionnaire::for_participant(state, &me.participant).await?;
    let definition = all
        .iter()
        .find(|q| q.instrument.key == key)
        .map(|q| q.definition.clone())
        .ok_or(AppError::NotFound)?;
    let raw: Map<String, Value> = answers::from_form_fields(&definition, &form.a);
    let how = if form.action == "save" { Submit::Draft } else { Submit::Page };
    match questionnaire::answer(state, &me.participant, key, &raw, how).await {
        Ok(saved) if how == Submit::Draft && saved.status() != "complete" => {
            Ok(Ok(Redirect::to(format!("/participant/questionnaires/{key}?saved=true"))))
        }
        Ok(_) => {
            let next = all
                .iter()
                .find(|q| q.instrument.key != key && q.status() != "complete")
                .map(|q| format!("/participant/questionnaires/{}", q.instrument.key));
            Ok(Ok(Redirect::to(next.unwrap_or_else(|| "/participant?answered=true".to_string()))))
        }
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_) | AppError::Gone(_))) => {
            let Some(q) = all.iter_mut().find(|q| q.instrument.key == key) else {
                return Err(AppError::NotFound.into());
            };
            let q = q.clone();
            Ok(Err(render(&me, &csrf.0, &all, &q, Some(&form.a), Some(&e), false)))
        }
        Err(e) => Err(e.into()),
    }
}

pub fn routes() -> Vec<rocket::Route> {
    routes![page, submit]
}
