//! The audit log for ethics officers and admins: events filtered by study, actor
//! and action, newest first and paginated, each with its hash link; "Verify now"
//! recomputes every chain (and the signed checkpoints the server keeps).

use chrono::{Days, NaiveDate, NaiveTime};
use rocket::http::ContentType;
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};

use super::views::audit::{
    AuditFilters, AuditLogPage, CheckpointBox, EventRow, verification_message,
};
use super::views::{Download, StaffFrame};
use crate::domain::audit::{Search, chain_for};
use crate::service::{Actor, AppState};
use crate::web::errors::PageResult;
use crate::web::guards::{CsrfForm, CsrfToken, SessionUser};
use crate::web::html::page::Page;

const PAGE: u64 = 100;

fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// A date typed into a filter (a date that does not read is no filter).
fn day(value: Option<&str>) -> Option<NaiveDate> {
    given(value).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

#[allow(clippy::too_many_arguments)]
#[get("/staff/audit?<study>&<actor>&<action>&<entity>&<from>&<to>&<access>&<before>")]
async fn log(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    flash: Option<FlashMessage<'_>>,
    study: Option<&str>,
    actor: Option<&str>,
    action: Option<&str>,
    entity: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    access: Option<bool>,
    before: Option<i64>,
) -> PageResult<Page> {
    let user = &session.user;
    let chain =
        given(study).map(|s| if s == "system" { chain_for(None) } else { chain_for(Some(s)) });
    let access_only = access.unwrap_or(false);
    let search = Search {
        chain: chain.as_deref(),
        actor: given(actor),
        action: given(action),
        before,
        access_only,
        entity: given(entity),
        since: day(from).map(|d| d.and_time(NaiveTime::MIN).and_utc()),
        until: day(to).map(|d| (d + Days::new(1)).and_time(NaiveTime::MIN).and_utc()),
    };
    let found = crate::service::audit::search(state, user, &search, PAGE).await?;
    let studies = crate::service::study::list(state, user).await?;
    let filters = AuditFilters {
        study: given(study).unwrap_or_default().to_string(),
        actor: given(actor).unwrap_or_default().to_string(),
        action: given(action).unwrap_or_default().to_string(),
        entity: given(entity).unwrap_or_default().to_string(),
        from: day(from).map(|d| d.to_string()).unwrap_or_default(),
        to: day(to).map(|d| d.to_string()).unwrap_or_default(),
        access: access_only,
    };
    let checkpoints = crate::service::audit::checkpoint_status(state, user)?;
    let older = match found.last() {
        Some((id, _)) if found.len() as u64 == PAGE => Some(filters.query(*id)),
        _ => None,
    };
    let page = AuditLogPage {
        frame: StaffFrame::new(user, csrf.0, flash),
        events: found.iter().map(|(_, e)| EventRow::from(e)).collect(),
        older,
        filters,
        studies: studies.iter().map(|(s, _)| (s.slug.clone(), s.title.clone())).collect(),
        checkpoints: checkpoints.map(CheckpointBox::from),
    };
    Ok(Page::render("audit/log", page))
}

/// Recomputes every chain and signed consent now and says what it found.
#[post("/staff/audit/verify", data = "<_form>")]
async fn verify(
    state: &State<AppState>,
    session: SessionUser,
    _form: CsrfForm<super::PlainForm>,
) -> PageResult<Flash<Redirect>> {
    let result = crate::service::audit::verify(state, &session.user).await?;
    let back = Redirect::to("/staff/audit");
    Ok(match verification_message(&result) {
        (true, message) => Flash::success(back, message),
        (false, message) => Flash::error(back, message),
    })
}

/// A study's (or one participant's) audit pack, to check offline; audited.
#[get("/staff/studies/<slug>/audit-pack?<participant>")]
async fn pack(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    participant: Option<&str>,
) -> PageResult<Download> {
    let participant = given(participant);
    let pack =
        crate::service::audit::pack(state, Actor::Staff(&session.user), slug, participant).await?;
    Ok(Download::new(ContentType::ZIP, pack.file_name, pack.zip))
}

pub fn routes() -> Vec<rocket::Route> {
    routes![log, verify, pack]
}
