//! Participants' pages: the private link, their page, signing the consent form
//! (typed name, optional drawn signature), and withdrawal. Work without JavaScript.

use std::collections::BTreeMap;

use rocket::form::FromForm;
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::response::Redirect;
use rocket::time::Duration as CookieDuration;
use rocket::{State, get, post, routes};
use rocket_dyn_templates::{Template, context};

use super::views::{StudyBanner, blocks};
use crate::domain::consent::SignRequest;
use crate::domain::focus_group::when;
use crate::error::AppError;
use crate::service::{AppState, consent, focus_group, participant};
use crate::web::errors::{PageError, PageResult};
use crate::web::guards::{CsrfForm, CsrfProtected, CsrfToken, PARTICIPANT_COOKIE, ParticipantUser};

/// Exchanges the private link's token for a session cookie and moves on, so the
/// token leaves the address bar (and no page with it in its address is kept). An
/// expired or unknown link offers a new one.
#[get("/p/<token>")]
async fn link(
    state: &State<AppState>,
    cookies: &CookieJar<'_>,
    csrf: CsrfToken,
    token: &str,
) -> PageResult<Result<Redirect, (Status, Template)>> {
    match participant::authenticate(state, token).await? {
        Some(_) => {
            sign_in(state, cookies, token);
            Ok(Ok(Redirect::to("/participant")))
        }
        None => Ok(Err((Status::NotFound, new_link_page(&csrf.0, true, "", None)))),
    }
}

#[derive(FromForm)]
struct LinkForm {
    #[field(default = String::new())]
    csrf_token: String,
    #[field(default = String::new())]
    email: String,
}

impl CsrfProtected for LinkForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// "Send me a new link": the form, or (`error` aside) the same answer for every
/// address.
fn new_link_page(csrf: &str, dead_link: bool, email: &str, error: Option<&AppError>) -> Template {
    let errors: Vec<(String, Vec<String>)> = error
        .and_then(|e| e.fields())
        .map(|f| f.messages().into_iter().collect())
        .unwrap_or_default();
    let email_errors: Vec<String> = errors.iter().flat_map(|(_, m)| m.clone()).collect();
    Template::render(
        "participant/new_link",
        context! { csrf, dead_link, email, errors, email_errors, sent: false },
    )
}

#[get("/participant/link")]
fn new_link(csrf: CsrfToken) -> Template {
    new_link_page(&csrf.0, false, "", None)
}

#[post("/participant/link", data = "<form>")]
async fn new_link_submit(
    state: &State<AppState>,
    csrf: CsrfToken,
    form: CsrfForm<LinkForm>,
) -> PageResult<(Status, Template)> {
    match participant::request_link(state, &form.0.email).await {
        Ok(()) => {
            Ok((Status::Ok, Template::render("participant/new_link", context! { sent: true })))
        }
        Err(e @ AppError::Validation(_)) => Ok((
            Status::UnprocessableEntity,
            new_link_page(&csrf.0, false, &form.0.email, Some(&e)),
        )),
        Err(e) => Err(PageError(e)),
    }
}

/// Starts a participant's session on this browser from their private token, with a
/// new CSRF token.
pub(super) fn sign_in(state: &AppState, cookies: &CookieJar<'_>, token: &str) {
    let secure = state.config.public_url.starts_with("https://");
    crate::web::guards::rotate_csrf(cookies, secure);
    cookies.add_private(
        Cookie::build((PARTICIPANT_COOKIE, token.to_string()))
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .path("/")
            .max_age(CookieDuration::days(30)),
    );
}

fn study_context(me: &ParticipantUser) -> StudyBanner {
    StudyBanner::from(&me.study)
}

#[get("/participant")]
async fn portal(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
) -> PageResult<Template> {
    let (latest, steps) = consent::portal(state, &me.participant).await?;
    let booked = focus_group::booking(state, &me.participant).await?;
    Ok(Template::render(
        "participant/portal",
        context! {
            study: study_context(&me),
            csrf: csrf.0,
            code: me.participant.code.clone(),
            status: me.participant.status(),
            steps,
            booked: booked.map(|g| context! { title: g.title.clone(), when: when(&g, me.study.timezone), location: g.location.clone() }),
            signed_version: latest.as_ref().map(|g| g.record.form_version.clone()),
            signed_at: latest.as_ref().map(|g| g.record.signed_at.clone()),
        },
    ))
}

#[derive(FromForm, Default)]
struct SignForm {
    #[field(default = String::new())]
    csrf_token: String,
    #[field(default = String::new())]
    version: String,
    #[field(default = String::new())]
    form_hash: String,
    #[field(default = BTreeMap::new())]
    items: BTreeMap<String, bool>,
    signature: SignatureFields,
    #[field(default = false)]
    read_confirmed: bool,
}

#[derive(FromForm, Default, Clone)]
struct SignatureFields {
    #[field(default = String::new())]
    typed_name: String,
    #[field(default = String::new())]
    drawn_svg: String,
}

impl CsrfProtected for SignForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// What the identity-check box on the signing page shows.
#[derive(Default)]
struct IdentityBox {
    sent_to: Option<String>,
    error: Option<String>,
}

async fn sign_page(
    state: &AppState,
    me: &ParticipantUser,
    csrf: &str,
    form: Option<&SignForm>,
    error: Option<AppError>,
    identity: IdentityBox,
) -> PageResult<(Status, Template)> {
    let f = consent::active_form(state, &me.participant).await?;
    let identity_required = !consent::identity_cleared(state, &me.participant, &me.study).await?;
    let status = error.as_ref().map(|e| Status::new(e.status())).unwrap_or(Status::Ok);
    let errors: Vec<(String, Vec<String>)> = error
        .as_ref()
        .and_then(|e| e.fields())
        .map(|f| f.messages().into_iter().collect())
        .unwrap_or_default();
    let message = error.as_ref().filter(|e| e.fields().is_none()).map(|e| e.public_message());
    let items: Vec<_> = f
        .items
        .iter()
        .map(|i| {
            let checked = form.is_some_and(|s| s.items.get(&i.key).copied().unwrap_or(false));
            let field = format!("items.{}", i.key);
            let item_errors: Vec<String> =
                errors.iter().find(|(k, _)| *k == field).map(|(_, v)| v.clone()).unwrap_or_default();
            serde_json::json!({"key": i.key, "text": i.text, "required": i.required, "checked": checked, "errors": item_errors})
        })
        .collect();
    let field_errors = |name: &str| -> Vec<String> {
        errors.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    };
    Ok((
        status,
        Template::render(
            "participant/consent",
            context! {
                study: study_context(me),
                csrf,
                form: context! { version: f.version, title: f.title, form_hash: f.form_hash, language: f.language },
                statement: blocks(&f.body_markdown),
                items,
                typed_name: form.map(|s| s.signature.typed_name.clone()).unwrap_or_default(),
                read_confirmed: form.is_some_and(|s| s.read_confirmed),
                errors: errors.clone(),
                name_errors: field_errors("signature.typed_name"),
                read_errors: field_errors("read_confirmed"),
                signature_errors: field_errors("signature.drawn_svg"),
                message,
                identity_required,
                identity_sent_to: identity.sent_to,
                identity_error: identity.error,
            },
        ),
    ))
}

#[get("/participant/consent?<sent>")]
async fn consent_page(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    sent: Option<&str>,
) -> PageResult<(Status, Template)> {
    let identity = IdentityBox { sent_to: sent.map(str::to_string), error: None };
    sign_page(state, &me, &csrf.0, None, None, identity).await
}

#[derive(FromForm)]
struct CodeForm {
    #[field(default = String::new())]
    csrf_token: String,
    #[field(default = String::new())]
    code: String,
}

impl CsrfProtected for CodeForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

#[post("/participant/identity/code", data = "<_form>")]
async fn send_code(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    _form: CsrfForm<CodeForm>,
) -> PageResult<Result<Redirect, (Status, Template)>> {
    match crate::service::consent::identity::send_code(state, &me.participant, &me.study).await {
        Ok(to) => Ok(Ok(Redirect::to(rocket::uri!(consent_page(sent = Some(to.as_str())))))),
        Err(e @ AppError::TooMany) => {
            let identity = IdentityBox { sent_to: None, error: Some(e.public_message()) };
            let (_, page) = sign_page(state, &me, &csrf.0, None, None, identity).await?;
            Ok(Err((Status::TooManyRequests, page)))
        }
        Err(e) => Err(PageError(e)),
    }
}

#[post("/participant/identity/verify", data = "<form>")]
async fn verify_code(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    form: CsrfForm<CodeForm>,
) -> PageResult<Result<Redirect, (Status, Template)>> {
    match crate::service::consent::identity::verify_code(
        state,
        &me.participant,
        &me.study,
        &form.0.code,
    )
    .await
    {
        Ok(()) => Ok(Ok(Redirect::to("/participant/consent"))),
        Err(e @ (AppError::Validation(_) | AppError::Gone(_) | AppError::TooMany)) => {
            let message = match e.fields() {
                Some(f) => f.messages().into_values().flatten().collect::<Vec<_>>().join(" "),
                None => e.public_message(),
            };
            let identity = IdentityBox { sent_to: None, error: Some(message) };
            let (_, page) = sign_page(state, &me, &csrf.0, None, None, identity).await?;
            Ok(Err((Status::new(e.status()), page)))
        }
        Err(e) => Err(PageError(e)),
    }
}

#[post("/participant/consent", data = "<form>")]
async fn consent_submit(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    form: CsrfForm<SignForm>,
) -> PageResult<Result<Redirect, (Status, Template)>> {
    let f = form.0;
    let req = SignRequest {
        version: f.version.clone(),
        form_hash: f.form_hash.clone(),
        items: f.items.clone(),
        typed_name: f.signature.typed_name.clone(),
        drawn_svg: Some(f.signature.drawn_svg.clone()).filter(|s| !s.trim().is_empty()),
        read_confirmed: f.read_confirmed,
    };
    match consent::give(state, &me.participant, req).await {
        Ok(_) => Ok(Ok(Redirect::to("/participant"))),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_) | AppError::Forbidden(_))) => Ok(
            Err(sign_page(state, &me, &csrf.0, Some(&f), Some(e), IdentityBox::default()).await?),
        ),
        Err(e) => Err(PageError(e)),
    }
}

#[derive(FromForm)]
struct WithdrawForm {
    #[field(default = String::new())]
    csrf_token: String,
    #[field(default = String::new())]
    scope: String,
    #[field(default = String::new())]
    reason: String,
}

impl CsrfProtected for WithdrawForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

#[get("/participant/withdraw")]
fn withdraw_page(me: ParticipantUser, csrf: CsrfToken) -> Template {
    Template::render(
        "participant/withdraw",
        context! { study: study_context(&me), csrf: csrf.0, errors: Vec::<String>::new() },
    )
}

#[post("/participant/withdraw", data = "<form>")]
async fn withdraw_submit(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    form: CsrfForm<WithdrawForm>,
) -> PageResult<Result<Redirect, (Status, Template)>> {
    let f = form.0;
    match consent::withdraw(state, &me.participant, &f.scope, Some(f.reason.as_str())).await {
        Ok(_) => Ok(Ok(Redirect::to("/participant"))),
        Err(AppError::Validation(fields)) => Ok(Err((
            Status::UnprocessableEntity,
            Template::render(
                "participant/withdraw",
                context! { study: study_context(&me), csrf: csrf.0, errors: fields.messages().into_values().flatten().collect::<Vec<_>>() },
            ),
        ))),
        Err(e) => Err(PageError(e)),
    }
}

#[derive(FromForm, Default)]
struct AvailabilityForm {
    #[field(default = String::new())]
    csrf_token: String,
    #[field(default = Vec::new())]
    slots: Vec<i64>,
}

impl CsrfProtected for AvailabilityForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

async fn availability_page(
    state: &AppState,
    me: &ParticipantUser,
    csrf: &str,
    error: Option<AppError>,
) -> PageResult<(Status, Template)> {
    let choices = focus_group::availability(state, &me.participant).await?;
    let booked = focus_group::booking(state, &me.participant).await?;
    let status = error.as_ref().map(|e| Status::new(e.status())).unwrap_or(Status::Ok);
    let errors: Vec<String> = error
        .map(|e| match e.fields() {
            Some(f) => f.messages().into_values().flatten().collect(),
            None => vec![e.public_message()],
        })
        .unwrap_or_default();
    let sessions: Vec<_> = choices
        .iter()
        .map(|c| {
            context! {
                id: c.group.id,
                title: c.group.title.clone(),
                when: when(&c.group, me.study.timezone),
                starts_at: crate::domain::audit::format_at(&c.group.starts_at),
                location: c.group.location.clone(),
                chosen: c.chosen,
            }
        })
        .collect();
    Ok((
        status,
        Template::render(
            "participant/availability",
            context! {
                study: study_context(me),
                csrf,
                sessions,
                booked: booked.map(|g| context! { title: g.title.clone(), when: when(&g, me.study.timezone), location: g.location.clone() }),
                consented: me.participant.status() == "consented",
                zone: me.study.timezone.name(),
                errors,
            },
        ),
    ))
}

#[get("/participant/availability")]
async fn availability(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
) -> PageResult<(Status, Template)> {
    availability_page(state, &me, &csrf.0, None).await
}

#[post("/participant/availability", data = "<form>")]
async fn availability_submit(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    form: CsrfForm<AvailabilityForm>,
) -> PageResult<Result<Redirect, (Status, Template)>> {
    match focus_group::set_availability(state, &me.participant, &form.0.slots).await {
        Ok(_) => Ok(Ok(Redirect::to("/participant"))),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            Ok(Err(availability_page(state, &me, &csrf.0, Some(e)).await?))
        }
        Err(e) => Err(PageError(e)),
    }
}

pub fn routes() -> Vec<rocket::Route> {
    routes![
        availability,
        availability_submit,
        link,
        new_link,
        new_link_submit,
        portal,
        consent_page,
        consent_submit,
        send_code,
        verify_code,
        withdraw_page,
        withdraw_submit
    ]
}
