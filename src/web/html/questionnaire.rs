//! Questionnaire pages for participants. Without JavaScript, "Save and continue"
//! stores what was given and shows the page again with the questions those answers
//! open; with it, a small script shows and hides them as the participant answers.
//! Errors are listed at the top, linked to their fields, and every value is kept.

use std::collections::BTreeMap;

use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};
use serde_json::{Map, Value};

use super::views::questionnaire::{InstrumentsPage, PreviewPage, QuestionnairePage};
use super::views::{FormView, Refusal, StaffFrame};
use super::{FormReply, done, participant_frame, shown, status_of};
use crate::domain::policy::Capacity;
use crate::domain::questionnaire::{Stage, answers};
use crate::error::AppError;
use crate::service::AppState;
use crate::service::questionnaire::{self, Attach, Questionnaire, Submit};
use crate::service::study;
use crate::web::errors::PageResult;
use crate::web::guards::{CsrfForm, CsrfToken, ParticipantUser, SessionUser};
use crate::web::html::page::Page;
use rocket::request::FlashMessage;

page_form! {
    #[derive(Default)]
    struct AnswerForm {
        /// `submit` or `save`.
        action: String,
        /// `a[question_key]`, repeated for each ticked choice of a multiple choice.
        a: BTreeMap<String, Vec<String>>,
        /// The questions the page showed when it was submitted (space-separated
        /// keys; kept current by the page script). Absent from older pages.
        shown: Option<String>,
    }
}

/// The questions `raw` opens that the page did not show when it was submitted.
fn newly_opened(
    definition: &crate::domain::questionnaire::FormDefinition,
    raw: &Map<String, Value>,
    shown: &str,
) -> usize {
    let shown: Vec<&str> = shown.split_whitespace().collect();
    let visible = answers::visible(definition, &answers::readable(definition, raw));
    definition
        .questions
        .iter()
        .zip(visible)
        .filter(|(q, visible)| *visible && !shown.contains(&q.key.as_str()))
        .count()
}

fn page_of(
    me: &ParticipantUser,
    csrf: &str,
    all: &[Questionnaire],
    q: &Questionnaire,
    submitted: Option<&BTreeMap<String, Vec<String>>>,
    error: Option<&AppError>,
    saved_notice: bool,
) -> (Status, QuestionnairePage) {
    let status = error.map(|e| Status::new(e.status())).unwrap_or(Status::Ok);
    let page = QuestionnairePage::new(
        participant_frame(me, csrf),
        all,
        q,
        submitted,
        &Refusal::of(error),
        saved_notice,
    );
    (status, page)
}

fn render(
    me: &ParticipantUser,
    csrf: &str,
    all: &[Questionnaire],
    q: &Questionnaire,
    submitted: Option<&BTreeMap<String, Vec<String>>>,
    error: Option<&AppError>,
    saved_notice: bool,
) -> (Status, Page) {
    let (status, page) = page_of(me, csrf, all, q, submitted, error, saved_notice);
    (status, Page::render("questionnaire/questionnaire", page))
}

#[get("/participant/questionnaires/<key>?<saved>")]
async fn page(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    key: &str,
    saved: Option<bool>,
    flash: Option<FlashMessage<'_>>,
) -> PageResult<(Status, Page)> {
    let all = questionnaire::opening(state, &me.participant, key).await?;
    let q = all.iter().find(|q| q.instrument.key == key).ok_or(AppError::NotFound)?;
    let told = flash.is_some();
    let (status, mut page) =
        page_of(&me, &csrf.0, &all, q, None, None, saved.unwrap_or(false) && !told);
    page.frame.notice = flash.map(|f| f.message().to_string());
    Ok((status, Page::render("questionnaire/questionnaire", page)))
}

#[post("/participant/questionnaires/<key>", data = "<form>")]
async fn submit(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    key: &str,
    form: CsrfForm<AnswerForm>,
) -> PageResult<Result<Flash<Redirect>, (Status, Page)>> {
    let form = form.0;
    let mut all = questionnaire::opening(state, &me.participant, key).await?;
    let definition = all
        .iter()
        .find(|q| q.instrument.key == key)
        .map(|q| q.definition.clone())
        .ok_or(AppError::NotFound)?;
    let raw: Map<String, Value> = answers::from_form_fields(&definition, &form.a);
    let how = if form.action == "save" { Submit::Draft } else { Submit::Page };
    // Without the page script, answers can open questions the participant never
    // saw: show them before completing, as "Save and continue" does.
    let opened = match (&form.shown, how) {
        (Some(shown), Submit::Page) => newly_opened(&definition, &raw, shown),
        _ => 0,
    };
    if opened > 0 {
        let Some(q) = all.iter().find(|q| q.instrument.key == key).cloned() else {
            return Err(AppError::NotFound.into());
        };
        // Kept as a draft on the way (a completed response stays as it is until
        // the participant submits again).
        let kept = match q.status() {
            "complete" => Ok(()),
            _ => questionnaire::answer(state, &me.participant, key, &raw, Submit::Draft)
                .await
                .map(|_| ()),
        };
        match kept {
            Ok(()) => {}
            Err(e @ (AppError::Validation(_) | AppError::Conflict(_) | AppError::Gone(_))) => {
                return Ok(Err(render(&me, &csrf.0, &all, &q, Some(&form.a), Some(&e), false)));
            }
            Err(e) => return Err(e.into()),
        }
        let (status, mut page) = page_of(&me, &csrf.0, &all, &q, Some(&form.a), None, false);
        page.opened = Some(opened);
        return Ok(Err((status, Page::render("questionnaire/questionnaire", page))));
    }
    match questionnaire::answer(state, &me.participant, key, &raw, how).await {
        Ok(saved) if how == Submit::Draft && saved.status() != "complete" => {
            Ok(Ok(Flash::success(
                Redirect::to(format!("/participant/questionnaires/{key}?saved=true")),
                "Your answers are saved. You can come back to finish later from your page.",
            )))
        }
        Ok(_) => {
            let next = all
                .iter()
                .find(|q| q.instrument.key != key && q.status() != "complete")
                .map(|q| format!("/participant/questionnaires/{}", q.instrument.key));
            let saved = format!("Thank you: “{}” is saved.", definition.title);
            Ok(Ok(Flash::success(
                Redirect::to(next.unwrap_or_else(|| "/participant".to_string())),
                saved,
            )))
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

page_form! {
    #[derive(Default, serde::Serialize)]
    pub struct AttachForm {
        /// `key@version` of a loaded questionnaire.
        form: String,
        stage: String,
        eligible_if: String,
        /// `check` only checks the eligibility rule; anything else attaches.
        action: String,
    }
}

impl AttachForm {
    fn request(&self) -> Attach {
        let (key, version) = self.form.rsplit_once('@').unwrap_or((self.form.as_str(), ""));
        Attach {
            key: key.to_string(),
            version: version.parse().unwrap_or(0),
            stage: self.stage.clone(),
            eligible_if: Some(self.eligible_if.clone()),
        }
    }
}

async fn instruments_page(
    state: &AppState,
    session: &SessionUser,
    csrf: &str,
    flash: Option<FlashMessage<'_>>,
    slug: &str,
    typed: Option<(AttachForm, Option<&AppError>)>,
) -> PageResult<(Status, Page)> {
    let (study, capacity) = study::get(state, &session.user, slug).await?;
    let attached = questionnaire::list(state, &session.user, slug).await?;
    let (values, refusal) = match typed {
        Some((values, e)) => (values, e),
        None => {
            let blank =
                AttachForm { stage: "after_consent".into(), ..<AttachForm as Default>::default() };
            (blank, None)
        }
    };
    let rule_fits = values.action == "check" && refusal.is_none();
    let mut page = InstrumentsPage::new(
        StaffFrame::new(&session.user, csrf.to_string(), flash),
        &study,
        capacity == Capacity::Coordinator,
        &attached,
        state.forms.iter().map(|f| f.definition.as_ref()),
        FormView::new(values, refusal).shown_under(&["key", "version"], "form"),
    );
    page.rule_fits = rule_fits;
    Ok((status_of(refusal), Page::render("questionnaire/instruments", page)))
}

/// A study's questionnaires, the ones loaded from the forms folder, and the form
/// that attaches one at a stage.
#[get("/staff/studies/<slug>/questionnaires")]
async fn instruments(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    flash: Option<FlashMessage<'_>>,
    slug: &str,
) -> PageResult<(Status, Page)> {
    instruments_page(state, &session, &csrf.0, flash, slug, None).await
}

#[post("/staff/studies/<slug>/questionnaires", data = "<form>")]
async fn attach(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
    form: CsrfForm<AttachForm>,
) -> FormReply {
    let f = form.0;
    if f.action == "check" {
        let result = questionnaire::check_rule(state, &session.user, slug, &f.request()).await;
        let refusal = shown(result)?.err();
        let typed = Some((f, refusal.as_ref()));
        return Ok(Err(instruments_page(state, &session, &csrf.0, None, slug, typed).await?));
    }
    Ok(match shown(questionnaire::attach(state, &session.user, slug, f.request()).await)? {
        Ok((i, d)) => Ok(done(
            format!("/staff/studies/{slug}/questionnaires"),
            format!("{} (version {}) is attached, {}.", d.title, i.version, when_asked(i.stage)),
        )),
        Err(e) => {
            Err(instruments_page(state, &session, &csrf.0, None, slug, Some((f, Some(&e)))).await?)
        }
    })
}

fn when_asked(stage: Stage) -> &'static str {
    match stage {
        Stage::Screening => "asked when someone answers an ad",
        Stage::AfterConsent => "asked once a participant has consented",
    }
}

/// A loaded questionnaire exactly as participants see it, for any staff member.
#[get("/staff/questionnaires/<key>/<version>")]
async fn preview(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    key: &str,
    version: u32,
) -> PageResult<Page> {
    let loaded = state.forms.get(key, version).ok_or(AppError::NotFound)?;
    let frame = StaffFrame::new(&session.user, csrf.0, None);
    Ok(Page::render("questionnaire/preview", PreviewPage::new(frame, &loaded.definition)))
}

pub fn routes() -> Vec<rocket::Route> {
    routes![instruments, attach, preview, page, submit]
}
