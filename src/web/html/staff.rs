//! Staff pages: sign in, sign out, the dashboard of one's studies, a study's page.

use chrono::Utc;
use rocket::form::FromForm;
use rocket::http::{ContentType, CookieJar, Status};
use rocket::request::FlashMessage;
use rocket::response::Flash;
use rocket::response::Redirect;
use rocket::{State, get, post, routes};
use rocket_dyn_templates::{Template, context};

use super::views::{
    FormRow, LoginForm, MemberRow, RegisterRow, StudyBanner, StudyRow, Viewer, blocks,
};
use crate::domain::policy::Capacity;
use crate::domain::user::TokenKind;
use crate::error::AppError;
use crate::service::consent::form as consent_forms;
use crate::service::{AppState, auth, consent, participant, study};
use crate::web::errors::PageError;
use crate::web::errors::PageResult;
use crate::web::guards::{
    ClientAddr, CsrfForm, CsrfProtected, CsrfToken, SESSION_COOKIE, SessionUser, set_session_cookie,
};

#[derive(FromForm)]
pub struct LoginInput {
    #[field(default = String::new())]
    csrf_token: String,
    #[field(default = String::new())]
    email: String,
    #[field(default = String::new())]
    password: String,
}

impl CsrfProtected for LoginInput {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

#[derive(FromForm)]
pub struct PlainForm {
    #[field(default = String::new())]
    csrf_token: String,
}

impl CsrfProtected for PlainForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

#[get("/")]
fn index() -> Redirect {
    Redirect::to("/staff")
}

#[get("/staff/login")]
fn login_page(csrf: CsrfToken) -> Template {
    Template::render("staff/login", context! { csrf: csrf.0, form: LoginForm::default() })
}

#[post("/staff/login", data = "<form>")]
async fn login(
    state: &State<AppState>,
    cookies: &CookieJar<'_>,
    addr: ClientAddr,
    csrf: CsrfToken,
    form: CsrfForm<LoginInput>,
) -> Result<Redirect, (Status, Template)> {
    let input = form.0;
    let again = |status: Status, error: &str| {
        (
            status,
            Template::render(
                "staff/login",
                context! { csrf: csrf.0.clone(), form: LoginForm { email: input.email.clone(), error: Some(error.to_string()) } },
            ),
        )
    };
    let user = match auth::check_credentials(state, &input.email, &input.password, addr.0).await {
        Ok(u) => u,
        Err(AppError::TooMany) => {
            return Err(again(
                Status::TooManyRequests,
                "Too many attempts: wait a few minutes and try again.",
            ));
        }
        Err(AppError::Unauthenticated(m)) => return Err(again(Status::Unauthorized, &m)),
        Err(e) => {
            tracing::error!(error = %e, "sign-in failed");
            return Err(again(
                Status::InternalServerError,
                "Something went wrong on our side; try again.",
            ));
        }
    };
    match auth::issue_token(state, &user, TokenKind::Session).await {
        Ok((token, _)) => {
            let secure = state.config.public_url.starts_with("https://");
            set_session_cookie(cookies, token, state.config.session_ttl_hours, secure);
            crate::web::guards::rotate_csrf(cookies, secure);
            Ok(Redirect::to("/staff"))
        }
        Err(e) => {
            tracing::error!(error = %e, "session could not be issued");
            Err(again(Status::InternalServerError, "Something went wrong on our side; try again."))
        }
    }
}

#[post("/staff/logout", data = "<_form>")]
async fn logout(
    state: &State<AppState>,
    session: SessionUser,
    cookies: &CookieJar<'_>,
    _form: CsrfForm<PlainForm>,
) -> PageResult<Redirect> {
    auth::sign_out(state, &session.user, &session.token).await?;
    cookies.remove_private(SESSION_COOKIE);
    Ok(Redirect::to("/staff/login"))
}

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

/// Every message the outbox holds for this person's studies (admins: all), so a
/// local demo without SMTP shows what would have been sent.
#[get("/staff/outbox")]
async fn outbox(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
) -> PageResult<Template> {
    let mail: Vec<serde_json::Value> = crate::service::mail::list(state, &session.user, 200)
        .await?
        .into_iter()
        .map(|m| {
            serde_json::json!({
                "kind": m.message.kind, "to": m.message.to, "subject": m.message.subject,
                "body": m.message.body, "attachment": m.message.attachment.map(|a| a.name),
                "status": m.status.as_str(), "attempts": m.attempts,
                "created_at": m.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                "sent_at": m.sent_at.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
            })
        })
        .collect();
    Ok(Template::render(
        "staff/outbox",
        context! { viewer: Viewer::from(&session.user), csrf: csrf.0, mail },
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
        consent_forms::list(state, user, slug).await?.iter().map(FormRow::from).collect();
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

/// Turns the outcome of a staff action into a message on the study's page.
fn outcome<T>(
    slug: &str,
    result: Result<T, AppError>,
    done: impl FnOnce(T) -> String,
) -> PageResult<Flash<Redirect>> {
    outcome_on(&format!("/staff/studies/{slug}"), result, done)
}

/// Turns the outcome of a staff action into a message on the page at `to`: a field
/// error or a refusal is shown there; a missing study or a fault is an error page.
pub(super) fn outcome_on<T>(
    to: &str,
    result: Result<T, AppError>,
    done: impl FnOnce(T) -> String,
) -> PageResult<Flash<Redirect>> {
    let back = || Redirect::to(to.to_string());
    match result {
        Ok(v) => Ok(Flash::success(back(), done(v))),
        Err(e @ (AppError::Internal(_) | AppError::Db(_) | AppError::NotFound)) => {
            Err(PageError(e))
        }
        Err(e) => {
            let text = match e.fields() {
                Some(f) => f
                    .messages()
                    .into_iter()
                    .map(|(k, v)| format!("{k}: {}", v.join(" ")))
                    .collect::<Vec<_>>()
                    .join("; "),
                None => e.public_message(),
            };
            Ok(Flash::error(back(), text))
        }
    }
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

#[post("/staff/studies/<slug>/consent-forms/<version>/approve", data = "<_form>")]
async fn approve_form(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    version: &str,
    _form: CsrfForm<PlainForm>,
) -> PageResult<Flash<Redirect>> {
    let (study, _) = study::get(state, &session.user, slug).await?;
    let today = Utc::now().date_naive().to_string();
    let result = consent_forms::approve(
        state,
        &session.user,
        slug,
        version,
        &study.ethics.reference,
        &today,
    )
    .await;
    outcome(slug, result, |f| format!("Consent form version {} is now active.", f.version))
}

#[derive(FromForm)]
pub struct InviteForm {
    #[field(default = String::new())]
    csrf_token: String,
    #[field(default = String::new())]
    name: String,
    #[field(default = String::new())]
    email: String,
}

impl CsrfProtected for InviteForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

#[post("/staff/studies/<slug>/participants", data = "<form>")]
async fn invite(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    form: CsrfForm<InviteForm>,
) -> PageResult<Flash<Redirect>> {
    let f = form.0;
    let result = participant::invite(state, &session.user, slug, &f.name, &f.email).await;
    outcome(slug, result, |inv| match inv {
        participant::Invitation::New { .. } => {
            format!("An invitation with a private link was mailed to {}.", f.email.trim())
        }
        participant::Invitation::Known { .. } => format!(
            "{} is in the study already: a new link was mailed to the address on record (the links they hold still work).",
            f.email.trim()
        ),
    })
}

#[post("/staff/studies/<slug>/participants/<code>/link", data = "<_form>")]
async fn send_link(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    code: &str,
    _form: CsrfForm<PlainForm>,
) -> PageResult<Flash<Redirect>> {
    let result = participant::send_link(state, &session.user, slug, code).await;
    outcome(slug, result, |()| {
        format!(
            "A new link was mailed to {code}'s address on record; the links they hold still work."
        )
    })
}

#[post("/staff/studies/<slug>/reminders", data = "<_form>")]
async fn remind(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    _form: CsrfForm<PlainForm>,
) -> PageResult<Flash<Redirect>> {
    let result = participant::remind(state, &session.user, slug).await;
    outcome(slug, result, |n| match n {
        0 => {
            "No one needed a reminder (each person is reminded at most every 48 hours).".to_string()
        }
        1 => "A reminder was queued for 1 participant.".to_string(),
        n => format!("Reminders were queued for {n} participants."),
    })
}

#[get("/staff/studies/<slug>/consents/<consent_id>/pdf")]
async fn consent_pdf(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    consent_id: &str,
) -> PageResult<(ContentType, Vec<u8>)> {
    Ok((
        ContentType::PDF,
        consent::staff_pdf(
            state,
            &session.user,
            slug,
            consent_id.parse().map_err(|_| AppError::NotFound)?,
        )
        .await?,
    ))
}

/// A consent-form version exactly as participants will see it.
#[get("/staff/studies/<slug>/consent-forms/<version>/preview")]
async fn preview(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    version: &str,
) -> PageResult<Template> {
    let (study, _) = study::get(state, &session.user, slug).await?;
    let form = consent_forms::get(state, &session.user, slug, version).await?;
    let items: Vec<_> = form
        .items
        .iter()
        .map(|i| serde_json::json!({"key": i.key, "text": i.text, "required": i.required, "checked": false, "errors": []}))
        .collect();
    Ok(Template::render(
        "participant/consent",
        context! {
            preview: true,
            study: StudyBanner::from(&study),
            csrf: "",
            form: context! { version: form.version, title: form.title, form_hash: form.form_hash, language: form.language, state: form.state.as_str() },
            statement: blocks(&form.body_markdown),
            items,
            typed_name: "",
            read_confirmed: false,
            errors: Vec::<(String, Vec<String>)>::new(),
            name_errors: Vec::<String>::new(),
            read_errors: Vec::<String>::new(),
            signature_errors: Vec::<String>::new(),
            identity_required: false,
        },
    ))
}

pub fn routes() -> Vec<rocket::Route> {
    routes![
        index,
        login_page,
        login,
        logout,
        dashboard,
        outbox,
        study_page,
        change_status,
        approve_form,
        invite,
        send_link,
        remind,
        consent_pdf,
        preview
    ]
}
