//! Staff pages of the study area: the dashboard of one's studies, a study's page,
//! and its status.

use crate::domain::study::approval::ApprovalInput;
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};
use rocket_dyn_templates::Template;

use super::outcome;
use super::views::StaffFrame;
use super::views::consent::{FormRow, RegisterRow};
use super::views::study::{
    AdRow, ApprovalRow, DashboardPage, EthicsPage, EthicsRow, InstrumentRow, MemberRow, MySession,
    RegisterFilter, StratumRow, StudyLists, StudyPage, StudyRow, today,
};
use crate::domain::policy::Capacity;
use crate::service::{AppState, consent, study};
use crate::web::errors::PageResult;
use crate::web::guards::{CsrfForm, CsrfToken, SessionUser};

#[get("/staff")]
async fn dashboard(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
) -> PageResult<Template> {
    let studies = study::list(state, &session.user).await?;
    let sessions = crate::service::focus_group::my_sessions(state, &session.user).await?;
    let page = DashboardPage {
        frame: StaffFrame::new(&session.user, csrf.0, None),
        studies: studies.iter().map(|(s, c)| StudyRow::new(s, *c, today())).collect(),
        sessions: sessions.iter().map(|(study, s)| MySession::new(study, s)).collect(),
    };
    Ok(Template::render("study/dashboard", page))
}

#[get("/staff/studies/<slug>?<register..>")]
async fn study_page(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    cookies: &rocket::http::CookieJar<'_>,
    flash: Option<FlashMessage<'_>>,
    slug: &str,
    register: RegisterFilter,
) -> PageResult<Template> {
    let filter = register;
    let user = &session.user;
    let (study, capacity) = study::get(state, user, slug).await?;
    let members = study::members(state, user, slug).await?;
    let forms = consent::form::list(state, user, slug).await?;
    let reads_consents = matches!(capacity, Capacity::Coordinator | Capacity::EthicsOfficer);
    let (register, reconsent) = if reads_consents {
        let register = consent::register(state, user, slug).await?;
        (register, consent::reconsent_due(state, user, slug).await?)
    } else {
        (Vec::new(), Vec::new())
    };
    let moves = study::moves_on_offer(state, &study, capacity).await?;
    let instruments = crate::service::questionnaire::list(state, user, slug).await?;
    let ads = crate::service::recruitment::ads(state, user, slug).await?;
    let strata = crate::service::recruitment::strata(state, user, slug).await?;
    let (_, approvals) = study::approvals(state, user, slug).await?;
    let hidden = super::names_hidden(capacity, cookies, user.id, slug);
    let lists = StudyLists {
        members: members.into_iter().map(|(u, r)| MemberRow::new(u, r)).collect(),
        forms: forms.iter().map(FormRow::from).collect(),
        register: register
            .iter()
            .filter(|e| filter.keeps(e, &reconsent))
            .map(|e| RegisterRow::new(e, hidden))
            .collect(),
        register_total: register.len(),
        filter,
        reconsent,
        moves: moves.into_iter().map(|s| s.as_str()).collect(),
        instruments: instruments.iter().map(|(i, d)| InstrumentRow::new(i, d)).collect(),
        ads: ads.iter().map(|(a, f)| AdRow::new(a, f)).collect(),
        strata: strata.iter().map(|(s, f)| StratumRow::new(s, f)).collect(),
        approvals: approvals.iter().map(ApprovalRow::from).collect(),
    };
    let mut page = StudyPage::new(StaffFrame::new(user, csrf.0, flash), study, capacity, lists);
    page.names_hidden = hidden;
    Ok(Template::render("study/study", page))
}

page_form! {
    pub struct StatusForm {
        status: String,
        reason: String,
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

page_form! {
    pub struct ApprovalForm {
        kind: String,
        reference: String,
        approved_on: String,
        expires_on: String,
        summary: String,
    }
}

#[post("/staff/studies/<slug>/approvals", data = "<form>")]
async fn record_approval(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    form: CsrfForm<ApprovalForm>,
) -> PageResult<Flash<Redirect>> {
    let f = form.0;
    let input = ApprovalInput {
        kind: &f.kind,
        reference: &f.reference,
        approved_on: &f.approved_on,
        expires_on: Some(f.expires_on.as_str()).filter(|e| !e.trim().is_empty()),
        summary: Some(f.summary.as_str()),
    };
    let result = study::record_approval(state, &session.user, slug, &input).await;
    outcome(slug, result, |(s, _)| {
        format!("Recorded. The approval now expires on {}.", s.ethics.expires_on)
    })
}

/// The ethics console: every study with its committee, reference, amendments,
/// expiry, status and consent counts.
#[get("/staff/ethics")]
async fn ethics(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
) -> PageResult<Template> {
    let overview = study::overview(state, &session.user).await?;
    let page = EthicsPage {
        frame: StaffFrame::new(&session.user, csrf.0, None),
        studies: overview.iter().map(|o| EthicsRow::new(o, today())).collect(),
    };
    Ok(Template::render("study/ethics", page))
}

pub fn routes() -> Vec<rocket::Route> {
    routes![dashboard, study_page, change_status, record_approval, ethics]
}
