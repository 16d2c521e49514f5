//! Staff pages of the study area: the dashboard of one's studies, a study's page,
//! and its status.

use chrono::Utc;
use rocket::form::FromForm;
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};
use rocket_dyn_templates::{Template, context};

use super::outcome;
use super::views::{FormRow, MemberRow, RegisterRow, StudyRow, Viewer};
use crate::domain::policy::Capacity;
use crate::service::{AppState, consent, study};
use crate::web::errors::PageResult;
use crate::web::guards::{CsrfForm, CsrfProtected, CsrfToken, SessionUser};

#[get("/staff")]
async fn dashboard(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
) -> PageResult<Template> {
    let today = Utc::now().date_naive();
    let rows: Vec<StudyRow> = study::list(state, &session.user)
        .await?
        .iter()
        .map(|(s, c)| StudyRow::new(s, *c, today))
        .collect();
    let sessions: Vec<_> = crate::service::focus_group::my_sessions(state, &session.user)
        .await?
        .iter()
        .map(|(study, s)| {
            context! {
                slug: study.slug.clone(),
                study: study.title.clone(),
                id: s.group.id,
                title: s.group.title.clone(),
                when: crate::domain::focus_group::when(&s.group, study.timezone),
                location: s.group.location.clone(),
                members: s.members.len(),
            }
        })
        .collect();
    Ok(Template::render(
        "staff/dashboard",
        context! { viewer: Viewer::from(&session.user), csrf: csrf.0, studies: rows, sessions },
    ))
}

#[get("/staff/studies/<slug>")]
async fn study_page(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    flash: Option<FlashMessage<'_>>,
    slug: &str,
) -> PageResult<Template> {
    let user = &session.user;
    let (study, capacity) = study::get(state, user, slug).await?;
    let members: Vec<MemberRow> = study::members(state, user, slug)
        .await?
        .into_iter()
        .map(|(u, r)| MemberRow { name: u.name, email: u.email, role: r.as_str() })
        .collect();
    let forms: Vec<FormRow> =
        consent::form::list(state, user, slug).await?.iter().map(FormRow::from).collect();
    let reads_consents = matches!(capacity, Capacity::Coordinator | Capacity::EthicsOfficer);
    let (register, reconsent) = if reads_consents {
        let register: Vec<RegisterRow> =
            consent::register(state, user, slug).await?.iter().map(RegisterRow::from).collect();
        (register, consent::reconsent_due(state, user, slug).await?)
    } else {
        (Vec::new(), Vec::new())
    };
    let moves: Vec<&str> = study::moves_on_offer(state, &study, capacity)
        .await?
        .into_iter()
        .map(|s| s.as_str())
        .collect();
    let instruments: Vec<serde_json::Value> =
        crate::service::questionnaire::list(state, user, slug)
            .await?
            .iter()
            .map(|(i, d)| {
                serde_json::json!({
                    "key": i.key, "version": i.version, "title": d.title, "stage": i.stage.as_str(),
                    "eligible_if": i.eligible_if, "questions": d.questions.len(),
                    "hash_prefix": i.form_hash.get(..12).unwrap_or(""),
                })
            })
            .collect();
    let ads: Vec<serde_json::Value> = crate::service::recruitment::ads(state, user, slug)
        .await?
        .iter()
        .map(|(a, f)| {
            serde_json::json!({
                "code": a.code, "title": a.title, "channel": a.channel.label(),
                "open": a.not_open(Utc::now()).is_none(),
                "closes_at": a.closes_at.format("%Y-%m-%d %H:%M").to_string(),
                "views": a.views, "screened": f.screened, "eligible": f.eligible, "consented": f.consented,
            })
        })
        .collect();
    let strata: Vec<serde_json::Value> = crate::service::recruitment::strata(state, user, slug)
        .await?
        .iter()
        .map(|(s, f)| {
            serde_json::json!({
                "question": s.question_key, "value": s.value, "target": s.target, "cap": s.cap,
                "screened": f.screened, "eligible": f.eligible, "consented": f.consented,
            })
        })
        .collect();
    let today = Utc::now().date_naive();
    Ok(Template::render(
        "staff/study",
        context! {
            viewer: Viewer::from(user),
            csrf: csrf.0,
            flash: flash.map(|f| (f.kind().to_string(), f.message().to_string())),
            study: StudyRow::new(&study, capacity, today),
            summary: study.summary,
            approved_on: study.ethics.approved_on.to_string(),
            status_reason: study.status_reason,
            identity_check: study.identity_check.as_str(),
            contact_name: study.contact_name,
            contact_email: study.contact_email,
            members,
            forms,
            register,
            reconsent,
            moves,
            instruments,
            ads,
            strata,
            is_coordinator: capacity == Capacity::Coordinator,
            is_ethics: capacity == Capacity::EthicsOfficer,
        },
    ))
}

#[derive(FromForm)]
pub struct StatusForm {
    #[field(default = String::new())]
    csrf_token: String,
    #[field(default = String::new())]
    status: String,
    #[field(default = String::new())]
    reason: String,
}

impl CsrfProtected for StatusForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

#[post("/staff/studies/<slug>/status", data = "<form>")]
async fn change_status(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    form: CsrfForm<StatusForm>,
) -> PageResult<Flash<Redirect>> {
    let f = form.0;
    let result =
        study::change_status(state, &session.user, slug, &f.status, Some(f.reason.as_str())).await;
    outcome(slug, result, |s| format!("The study is now {}.", s.status))
}

pub fn routes() -> Vec<rocket::Route> {
    routes![dashboard, study_page, change_status]
}
