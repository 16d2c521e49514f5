//! Staff pages of the study area: the dashboard of one's studies, a study's page,
//! and its status.

use crate::domain::study::approval::ApprovalInput;
use crate::web::html::page::Page;
use rocket::http::Status;
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};

use super::views::consent::{FormRow, RegisterRow};
use super::views::study::{
    AdRow, ApprovalRow, DashboardPage, EthicsPage, EthicsRow, InstrumentRow, MemberRow, MySession,
    RegisterFilter, StratumRow, StudyLists, StudyPage, StudyRow, today,
};
use super::views::study::{
    ApprovalsPage, ConfirmMove, ConfirmPage, NewStudyPage, SettingsPage, StaffPage,
};
use super::views::{FormView, StaffFrame};
use super::{FormReply, done, outcome, shown, status_of};
use crate::domain::policy::{Capacity, may_create_study};
use crate::domain::study::{NewStudy, StudyInput};
use crate::error::AppError;
use crate::service::{AppState, consent, study};
use crate::web::errors::PageResult;
use crate::web::guards::{CsrfForm, CsrfToken, SessionUser};

#[get("/staff")]
async fn dashboard(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
) -> PageResult<Page> {
    let studies = study::list(state, &session.user).await?;
    let sessions = crate::service::focus_group::my_sessions(state, &session.user).await?;
    let page = DashboardPage {
        frame: StaffFrame::new(&session.user, csrf.0, None),
        studies: studies.iter().map(|(s, c)| StudyRow::new(s, *c, today())).collect(),
        sessions: sessions.iter().map(|(study, s)| MySession::new(study, s)).collect(),
    };
    Ok(Page::render("study/dashboard", page))
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
) -> PageResult<Page> {
    let filter = register;
    let user = &session.user;
    let (study, capacity) = study::get(state, user, slug).await?;
    let members = study::members(state, user, slug).await?;
    let forms = consent::form::list(state, user, slug).await?;
    let reads_consents = matches!(capacity, Capacity::Coordinator | Capacity::EthicsOfficer);
    let (register, reconsent, understanding) = if reads_consents {
        let register = consent::register(state, user, slug).await?;
        let understanding = consent::understanding(state, user, slug).await?;
        (register, consent::reconsent_due(state, user, slug).await?, understanding)
    } else {
        (Vec::new(), Vec::new(), Vec::new())
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
            .map(|e| RegisterRow::new(e, hidden, study.timezone))
            .collect(),
        register_total: register.len(),
        filter,
        reconsent,
        moves: moves.into_iter().map(|s| s.as_str()).collect(),
        instruments: instruments.iter().map(|(i, d)| InstrumentRow::new(i, d)).collect(),
        ads: ads.iter().map(|(a, f)| AdRow::new(a, f, study.timezone)).collect(),
        strata: strata.iter().map(|(s, f)| StratumRow::new(s, f)).collect(),
        approvals: approvals.iter().map(ApprovalRow::from).collect(),
        understanding: understanding.iter().map(Into::into).collect(),
    };
    let mut page = StudyPage::new(StaffFrame::new(user, csrf.0, flash), study, capacity, lists);
    page.names_hidden = hidden;
    Ok(Page::render("study/study", page))
}

page_form! {
    pub struct StatusForm {
        status: String,
        reason: String,
        /// Closing and suspending are asked again on a page saying what follows.
        confirmed: bool,
    }
}

/// What closing or suspending a study does, said before it is done; `None` for
/// moves that take effect on one click (opening, pausing).
fn consequences(to: &str) -> Option<ConfirmMove> {
    let (title, button, effects): (&str, &str, &[&str]) = match to {
        "closed" => (
            "Close the study?",
            "Yes, close the study",
            &[
                "Closing is final: the study cannot be reopened.",
                "Its ads stop taking respondents; no one can give consent or change questionnaire answers.",
                "Participants keep their page, their signed PDFs and the right to withdraw.",
                "No one is e-mailed: tell participants and staff yourself if they should know.",
            ],
        ),
        "suspended" => (
            "Suspend the study?",
            "Yes, suspend the study",
            &[
                "Recruitment and consent stop at once, and stay stopped until an ethics officer lifts the suspension.",
                "Participants keep their page, their signed PDFs and the right to withdraw.",
                "The coordinators see the suspension and its reason on the study page; no one is e-mailed.",
            ],
        ),
        _ => return None,
    };
    Some(ConfirmMove {
        title,
        button,
        status: to.to_string(),
        effects: effects.iter().map(|e| (*e).to_string()).collect(),
    })
}

#[post("/staff/studies/<slug>/status", data = "<form>")]
async fn change_status(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
    form: CsrfForm<StatusForm>,
) -> PageResult<Result<Flash<Redirect>, Page>> {
    let f = form.0;
    if let Some(confirm) = consequences(&f.status).filter(|_| !f.confirmed) {
        let (s, capacity) = study::get(state, &session.user, slug).await?;
        let offered = study::moves_on_offer(state, &s, capacity).await?;
        if !offered.iter().any(|m| m.as_str() == f.status) {
            let result = study::change_status(state, &session.user, slug, &f.status, None).await;
            return outcome(slug, result, |s| format!("The study is now {}.", s.status)).map(Ok);
        }
        let page = ConfirmPage {
            frame: StaffFrame::new(&session.user, csrf.0, None),
            slug: s.slug.to_string(),
            title: s.title.clone(),
            reason: f.reason,
            confirm,
        };
        return Ok(Err(Page::render("study/confirm", page)));
    }
    let result =
        study::change_status(state, &session.user, slug, &f.status, Some(f.reason.as_str())).await;
    outcome(slug, result, |s| format!("The study is now {}.", s.status)).map(Ok)
}

page_form! {
    #[derive(Default, serde::Serialize)]
    pub struct ApprovalForm {
        kind: String,
        reference: String,
        approved_on: String,
        expires_on: String,
        summary: String,
    }
}

async fn approvals_page(
    state: &AppState,
    session: &SessionUser,
    csrf: &str,
    slug: &str,
    refused: Option<(ApprovalForm, &AppError)>,
) -> PageResult<(Status, Page)> {
    let (s, capacity) = study::get(state, &session.user, slug).await?;
    if !matches!(capacity, Capacity::Coordinator | Capacity::EthicsOfficer) {
        let why = "Facilitators do not record approvals.";
        return Err(AppError::Forbidden(why.into()).into());
    }
    let (_, history) = study::approvals(state, &session.user, slug).await?;
    let (values, refusal) = match refused {
        Some((values, e)) => (values, Some(e)),
        None => {
            let blank =
                ApprovalForm { kind: "amendment".into(), ..<ApprovalForm as Default>::default() };
            (blank, None)
        }
    };
    let page = ApprovalsPage {
        frame: StaffFrame::new(&session.user, csrf.to_string(), None),
        study: StudyRow::new(&s, capacity, today()),
        approvals: history.iter().map(ApprovalRow::from).collect(),
        renews: crate::domain::policy::may_renew_approval(capacity),
        form: FormView::new(values, refusal),
    };
    Ok((status_of(refusal), Page::render("study/approvals", page)))
}

/// The approval history and the form that records an amendment (coordinators and
/// ethics officers) or a renewal (ethics officers).
#[get("/staff/studies/<slug>/approvals")]
async fn approvals(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
) -> PageResult<(Status, Page)> {
    approvals_page(state, &session, &csrf.0, slug, None).await
}

#[post("/staff/studies/<slug>/approvals", data = "<form>")]
async fn record_approval(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
    form: CsrfForm<ApprovalForm>,
) -> FormReply {
    let f = form.0;
    let input = ApprovalInput {
        kind: &f.kind,
        reference: &f.reference,
        approved_on: &f.approved_on,
        expires_on: Some(f.expires_on.as_str()).filter(|e| !e.trim().is_empty()),
        summary: Some(f.summary.as_str()),
    };
    let result = study::record_approval(state, &session.user, slug, &input).await;
    Ok(match shown(result)? {
        Ok((s, _)) => Ok(done(
            format!("/staff/studies/{slug}"),
            format!("Recorded. The approval now expires on {}.", s.ethics.expires_on),
        )),
        Err(e) => Err(approvals_page(state, &session, &csrf.0, slug, Some((f, &e))).await?),
    })
}

/// The ethics approval's fields on the new-study form (`ethics.committee`, …), named
/// as the domain names their errors.
#[derive(Default, serde::Serialize, rocket::form::FromForm)]
pub struct EthicsFields {
    #[field(default = String::new())]
    committee: String,
    #[field(default = String::new())]
    reference: String,
    #[field(default = String::new())]
    approved_on: String,
    #[field(default = String::new())]
    expires_on: String,
}

#[derive(Default, serde::Serialize, rocket::form::FromForm)]
pub struct ContactFields {
    #[field(default = String::new())]
    name: String,
    #[field(default = String::new())]
    email: String,
}

page_form! {
    #[derive(Default, serde::Serialize)]
    pub struct StudyForm {
        slug: String,
        title: String,
        summary: String,
        ethics: EthicsFields,
        contact: ContactFields,
        identity_check: String,
    }
}

fn may_create(session: &SessionUser) -> Result<(), AppError> {
    if may_create_study(session.user.role) {
        Ok(())
    } else {
        Err(AppError::Forbidden("Only coordinators and admins create studies.".into()))
    }
}

fn new_study_page(
    session: &SessionUser,
    csrf: &str,
    form: StudyForm,
    refusal: Option<&AppError>,
) -> (Status, Page) {
    let frame = StaffFrame::new(&session.user, csrf.to_string(), None);
    let form = FormView::new(form, refusal);
    (status_of(refusal), Page::render("study/new", NewStudyPage { frame, form }))
}

/// The form that creates a study with the ethics approval it runs under.
#[get("/staff/new-study")]
async fn new_study(session: SessionUser, csrf: CsrfToken) -> PageResult<(Status, Page)> {
    may_create(&session)?;
    Ok(new_study_page(&session, &csrf.0, <StudyForm as Default>::default(), None))
}

#[post("/staff/new-study", data = "<form>")]
async fn create_study(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    form: CsrfForm<StudyForm>,
) -> FormReply {
    let f = form.0;
    let new = NewStudy::parse(&StudyInput {
        slug: &f.slug,
        title: &f.title,
        summary: &f.summary,
        committee: &f.ethics.committee,
        reference: &f.ethics.reference,
        approved_on: &f.ethics.approved_on,
        expires_on: &f.ethics.expires_on,
        contact_name: &f.contact.name,
        contact_email: &f.contact.email,
        identity_check: &f.identity_check,
    });
    Ok(match shown(study::create(state, &session.user, new).await)? {
        Ok(s) => Ok(done(
            format!("/staff/studies/{}", s.slug),
            format!(
                "{} is created, in draft. Next: its settings, staff and consent form.",
                s.title
            ),
        )),
        Err(e) => Err(new_study_page(&session, &csrf.0, f, Some(&e))),
    })
}

page_form! {
    #[derive(Default, serde::Serialize)]
    pub struct SettingsForm {
        identity_check: String,
        suppress_below: String,
        reminder_hours: String,
        timezone: String,
        confirm_email_first: bool,
        complaints_email: String,
        complaints_phone: String,
        declined_data_sharing: String,
    }
}

/// A whole number typed in a form; anything else becomes -1, which the domain
/// refuses with the field's own message.
pub(super) fn number(raw: &str) -> i64 {
    raw.trim().parse().unwrap_or(-1)
}

async fn settings_page(
    state: &AppState,
    session: &SessionUser,
    csrf: &str,
    slug: &str,
    refused: Option<(SettingsForm, &AppError)>,
) -> PageResult<(Status, Page)> {
    let (s, capacity) = study::get(state, &session.user, slug).await?;
    if capacity != Capacity::Coordinator {
        let why = "Only the study's coordinators change its settings.";
        return Err(AppError::Forbidden(why.into()).into());
    }
    let (values, refusal) = match refused {
        Some((values, e)) => (values, Some(e)),
        None => (
            SettingsForm {
                csrf_token: String::new(),
                identity_check: s.identity_check.as_str().to_string(),
                suppress_below: s.suppress_below.to_string(),
                reminder_hours: s.reminder_hours.to_string(),
                timezone: s.timezone.name().to_string(),
                confirm_email_first: s.confirm_email_first,
                complaints_email: s.complaints_email.clone().unwrap_or_default(),
                complaints_phone: s.complaints_phone.clone().unwrap_or_default(),
                declined_data_sharing: s.declined_data_sharing.as_str().to_string(),
            },
            None,
        ),
    };
    let frame = StaffFrame::new(&session.user, csrf.to_string(), None);
    let form = FormView::new(values, refusal);
    let page = SettingsPage { frame, slug: s.slug.to_string(), title: s.title.clone(), form };
    Ok((status_of(refusal), Page::render("study/settings", page)))
}

/// The study's settings: identity check, report threshold, reminders, time zone and
/// whether enrolment continues only from the e-mailed link.
#[get("/staff/studies/<slug>/settings")]
async fn settings(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
) -> PageResult<(Status, Page)> {
    settings_page(state, &session, &csrf.0, slug, None).await
}

#[post("/staff/studies/<slug>/settings", data = "<form>")]
async fn change_settings(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
    form: CsrfForm<SettingsForm>,
) -> FormReply {
    let f = form.0;
    let change = study::SettingsChange {
        identity_check: Some(f.identity_check.as_str()),
        suppress_below: Some(number(&f.suppress_below)),
        reminder_hours: Some(number(&f.reminder_hours)),
        timezone: Some(f.timezone.as_str()),
        confirm_email_first: Some(f.confirm_email_first),
        complaints_email: Some(f.complaints_email.as_str()),
        complaints_phone: Some(f.complaints_phone.as_str()),
        // A form without the field (an older page) leaves the setting as it is.
        declined_data_sharing: Some(f.declined_data_sharing.as_str())
            .filter(|s| !s.trim().is_empty()),
    };
    Ok(match shown(study::change_settings(state, &session.user, slug, change).await)? {
        Ok(s) => Ok(done(format!("/staff/studies/{}", s.slug), "The settings are saved.")),
        Err(e) => Err(settings_page(state, &session, &csrf.0, slug, Some((f, &e))).await?),
    })
}

page_form! {
    #[derive(Default, serde::Serialize)]
    pub struct StaffForm {
        email: String,
        role: String,
    }
}

async fn staff_page(
    state: &AppState,
    session: &SessionUser,
    csrf: &str,
    flash: Option<FlashMessage<'_>>,
    slug: &str,
    refused: Option<(StaffForm, &AppError)>,
) -> PageResult<(Status, Page)> {
    let (s, capacity) = study::get(state, &session.user, slug).await?;
    let members = study::members(state, &session.user, slug).await?;
    let (values, refusal) = match refused {
        Some((values, e)) => (values, Some(e)),
        None => {
            (StaffForm { role: "facilitator".into(), ..<StaffForm as Default>::default() }, None)
        }
    };
    let page = StaffPage {
        frame: StaffFrame::new(&session.user, csrf.to_string(), flash),
        slug: s.slug.to_string(),
        title: s.title.clone(),
        manages: capacity == Capacity::Coordinator,
        members: members.into_iter().map(|(u, r)| MemberRow::new(u, r)).collect(),
        form: FormView::new(values, refusal),
    };
    Ok((status_of(refusal), Page::render("study/staff", page)))
}

/// The study's staff: who is on it in which role; its coordinators add and remove.
#[get("/staff/studies/<slug>/staff")]
async fn staff(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    flash: Option<FlashMessage<'_>>,
    slug: &str,
) -> PageResult<(Status, Page)> {
    staff_page(state, &session, &csrf.0, flash, slug, None).await
}

#[post("/staff/studies/<slug>/staff", data = "<form>")]
async fn add_staff(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
    form: CsrfForm<StaffForm>,
) -> FormReply {
    let f = form.0;
    Ok(match shown(study::add_staff(state, &session.user, slug, &f.email, &f.role).await)? {
        Ok((member, role)) => Ok(done(
            format!("/staff/studies/{slug}/staff"),
            format!("{} is on the study as {}.", member.name, role.as_str()),
        )),
        Err(e) => Err(staff_page(state, &session, &csrf.0, None, slug, Some((f, &e))).await?),
    })
}

#[post("/staff/studies/<slug>/staff/<member>/remove", data = "<_form>")]
async fn remove_staff(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    member: i64,
    _form: CsrfForm<super::PlainForm>,
) -> PageResult<Flash<Redirect>> {
    let result = study::remove_staff(state, &session.user, slug, member).await;
    super::outcome_on(&format!("/staff/studies/{slug}/staff"), result, |m| {
        format!("{} is no longer on the study.", m.name)
    })
}

/// The ethics console: every study with its committee, reference, amendments,
/// expiry, status and consent counts.
#[get("/staff/ethics")]
async fn ethics(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
) -> PageResult<Page> {
    let overview = study::overview(state, &session.user).await?;
    let page = EthicsPage {
        frame: StaffFrame::new(&session.user, csrf.0, None),
        studies: overview.iter().map(|o| EthicsRow::new(o, today())).collect(),
    };
    Ok(Page::render("study/ethics", page))
}

pub fn routes() -> Vec<rocket::Route> {
    routes![
        dashboard,
        study_page,
        change_status,
        record_approval,
        approvals,
        ethics,
        new_study,
        create_study,
        settings,
        change_settings,
        staff,
        add_staff,
        remove_staff
    ]
}
