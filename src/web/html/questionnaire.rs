//! Questionnaire pages for participants. Without JavaScript, "Save and continue"
//! stores what was given and shows the page again with the questions those answers
//! open; with it, a small script shows and hides them as the participant answers.
//! Errors are listed at the top, linked to their fields, and every value is kept.

use std::collections::BTreeMap;

use rocket::http::Status;
use rocket::response::Redirect;
use rocket::{State, get, post, routes};
use rocket_dyn_templates::Template;
use serde_json::{Map, Value};

use super::participant_frame;
use super::views::Refusal;
use super::views::questionnaire::QuestionnairePage;
use crate::domain::questionnaire::answers;
use crate::error::AppError;
use crate::service::AppState;
use crate::service::questionnaire::{self, Questionnaire, Submit};
use crate::web::errors::PageResult;
use crate::web::guards::{CsrfForm, CsrfToken, ParticipantUser};

page_form! {
    #[derive(Default)]
    struct AnswerForm {
        /// `submit` or `save`.
        action: String,
        /// `a[question_key]`, repeated for each ticked choice of a multiple choice.
        a: BTreeMap<String, Vec<String>>,
    }
}

fn render(
    me: &ParticipantUser,
    csrf: &str,
    all: &[Questionnaire],
    q: &Questionnaire,
    submitted: Option<&BTreeMap<String, Vec<String>>>,
    error: Option<&AppError>,
    saved_notice: bool,
) -> (Status, Template) {
    let status = error.map(|e| Status::new(e.status())).unwrap_or(Status::Ok);
    let page = QuestionnairePage::new(
        participant_frame(me, csrf),
        all,
        q,
        submitted,
        &Refusal::of(error),
        saved_notice,
    );
    (status, Template::render("questionnaire/questionnaire", page))
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
