//! Request guards: who is asking, checked once per route. API routes take a bearer
//! token; pages take the private session cookie and a CSRF token on every POST.

use std::net::IpAddr;

use rand::RngCore;
use rocket::data::{self, Data, FromData};
use rocket::form::{Form, FromForm};
use rocket::http::{Cookie, CookieJar, Method, SameSite, Status};
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use rocket::time::{Duration as CookieDuration, OffsetDateTime};
use sha2::{Digest, Sha256};

use super::errors::guard_failed;
use crate::config::IpBlock;
use crate::domain::policy::may_read_audit;
use crate::domain::user::TokenKind;
use crate::domain::user::{Role, User};
use crate::error::AppError;
use crate::service::AppState;
use crate::service::auth;

pub const SESSION_COOKIE: &str = "consentry_session";
pub const CSRF_COOKIE: &str = "consentry_csrf";

fn state<'r>(req: &'r Request<'_>) -> Result<&'r AppState, AppError> {
    req.rocket()
        .state::<AppState>()
        .ok_or_else(|| AppError::Internal("application state missing".into()))
}

fn fail<T>(req: &Request<'_>, err: AppError) -> request::Outcome<T, ()> {
    Outcome::Error((guard_failed(req, err), ()))
}

/// A staff member signed in with `Authorization: Bearer cst_…`.
#[derive(Debug, Clone)]
pub struct StaffUser(pub User);

async fn bearer_user(req: &Request<'_>) -> Result<User, AppError> {
    bearer(req).await.map(|(user, _)| user)
}

/// The staff member behind the bearer token, and the token.
async fn bearer(req: &Request<'_>) -> Result<(User, String), AppError> {
    let state = state(req)?;
    let header = req.headers().get_one("Authorization").ok_or_else(|| {
        AppError::Unauthenticated("Sign in first: send Authorization: Bearer TOKEN.".into())
    })?;
    let token = header.strip_prefix("Bearer ").map(str::trim).ok_or_else(|| {
        AppError::Unauthenticated("Use the Bearer scheme: Authorization: Bearer TOKEN.".into())
    })?;
    let user = auth::authenticate(state, token, TokenKind::Api).await?.ok_or_else(|| {
        AppError::Unauthenticated("The token is unknown, revoked or expired; get a new one.".into())
    })?;
    Ok((user, token.to_string()))
}

/// A staff member by bearer token, with the token itself (to revoke it).
#[derive(Debug, Clone)]
pub struct StaffToken {
    pub user: User,
    pub token: String,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for StaffToken {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        match bearer(req).await {
            Ok((user, token)) => Outcome::Success(StaffToken { user, token }),
            Err(e) => fail(req, e),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for StaffUser {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        match bearer_user(req).await {
            Ok(user) => Outcome::Success(StaffUser(user)),
            Err(e) => fail(req, e),
        }
    }
}

/// An admin, by bearer token.
#[derive(Debug, Clone)]
pub struct Admin(pub User);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Admin {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        match StaffUser::from_request(req).await {
            Outcome::Success(StaffUser(u)) if u.role == Role::Admin => Outcome::Success(Admin(u)),
            Outcome::Success(_) => {
                fail(req, AppError::Forbidden("Only an admin can do this.".into()))
            }
            Outcome::Error(e) => Outcome::Error(e),
            Outcome::Forward(f) => Outcome::Forward(f),
        }
    }
}

/// Someone who may read and verify the audit log: an ethics officer or an admin.
#[derive(Debug, Clone)]
pub struct AuditReader(pub User);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AuditReader {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        match StaffUser::from_request(req).await {
            Outcome::Success(StaffUser(u)) if may_read_audit(u.role) => {
                Outcome::Success(AuditReader(u))
            }
            Outcome::Success(_) => fail(
                req,
                AppError::Forbidden("Only ethics officers and admins read the audit log.".into()),
            ),
            Outcome::Error(e) => Outcome::Error(e),
            Outcome::Forward(f) => Outcome::Forward(f),
        }
    }
}

/// A participant, by the private token of their link: `Authorization: Bearer cpt_…`
/// for the API, or the private participant cookie that `/p/{token}` sets.
#[derive(Debug, Clone)]
pub struct ParticipantUser {
    pub participant: crate::domain::participant::Participant,
    pub study: crate::domain::study::Study,
}

pub const PARTICIPANT_COOKIE: &str = "consentry_participant";

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ParticipantUser {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let state = match state(req) {
            Ok(s) => s,
            Err(e) => return fail(req, e),
        };
        let token = match req.headers().get_one("Authorization") {
            Some(h) => h.strip_prefix("Bearer ").map(|t| t.trim().to_string()),
            None => {
                let cookie = req.cookies().get_private(PARTICIPANT_COOKIE);
                if cookie.is_some()
                    && let Err(e) = cookie_api_write_allowed(req, &state.config.public_url)
                {
                    return fail(req, e);
                }
                cookie.map(|c| c.value().to_string())
            }
        };
        let Some(token) = token else {
            return fail(
                req,
                AppError::Unauthenticated(
                    "Open the private link from your invitation first.".into(),
                ),
            );
        };
        match crate::service::participant::authenticate(state, &token).await {
            Ok(Some((participant, study))) => {
                Outcome::Success(ParticipantUser { participant, study })
            }
            Ok(None) => fail(
                req,
                AppError::Unauthenticated(
                    "This link has expired or is not valid: ask for a new one at /participant/link."
                        .into(),
                ),
            ),
            Err(e) => fail(req, e),
        }
    }
}

/// Whether a request authenticated by the participant cookie may go on. Pages carry
/// their own CSRF token; an unsafe request to the JSON API must be JSON (415
/// otherwise: a cross-site form or "simple" request cannot send it without a
/// preflight) and come from this site by `Sec-Fetch-Site` or `Origin` (403
/// otherwise). Bearer-token requests never reach this check.
fn cookie_api_write_allowed(req: &Request<'_>, public_url: &str) -> Result<(), AppError> {
    let unsafe_method = !matches!(req.method(), Method::Get | Method::Head | Method::Options);
    if !unsafe_method || !req.uri().path().starts_with("/api/") {
        return Ok(());
    }
    if req.content_type().is_none_or(|c| !c.is_json()) {
        return Err(AppError::UnsupportedMediaType(
            "Send the body as JSON (Content-Type: application/json).".into(),
        ));
    }
    let foreign = || {
        AppError::Forbidden(
            "This request did not come from Consentry's own pages; use your private link's token as a Bearer token instead.".into(),
        )
    };
    match req.headers().get_one("Sec-Fetch-Site") {
        Some("same-origin") => return Ok(()),
        Some(_) => return Err(foreign()),
        None => {}
    }
    let origin = req.headers().get_one("Origin").ok_or_else(foreign)?;
    let host = req.headers().get_one("Host");
    if same_origin(origin, public_url, host) { Ok(()) } else { Err(foreign()) }
}

/// Whether `origin` is this site: the public address's origin, or the host the
/// request was sent to.
fn same_origin(origin: &str, public_url: &str, host: Option<&str>) -> bool {
    let origin = origin.trim_end_matches('/');
    let public = public_url.trim_end_matches('/');
    let public_origin =
        match public.find("://").and_then(|i| public[i + 3..].find('/').map(|j| i + 3 + j)) {
            Some(path_start) => &public[..path_start],
            None => public,
        };
    let authority = origin.split_once("://").map(|(_, a)| a);
    origin.eq_ignore_ascii_case(public_origin)
        || host.is_some_and(|h| authority.is_some_and(|a| a.eq_ignore_ascii_case(h)))
}

/// A staff member signed in through the browser (private session cookie).
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub user: User,
    pub token: String,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SessionUser {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let state = match state(req) {
            Ok(s) => s,
            Err(e) => return fail(req, e),
        };
        let Some(cookie) = req.cookies().get_private(SESSION_COOKIE) else {
            return fail(req, AppError::Unauthenticated("Please sign in.".into()));
        };
        let token = cookie.value().to_string();
        match auth::authenticate(state, &token, TokenKind::Session).await {
            Ok(Some(user)) => Outcome::Success(SessionUser { user, token }),
            Ok(None) => {
                req.cookies().remove_private(SESSION_COOKIE);
                fail(
                    req,
                    AppError::Unauthenticated("Your session ended; please sign in again.".into()),
                )
            }
            Err(e) => fail(req, e),
        }
    }
}

pub fn set_session_cookie(cookies: &CookieJar<'_>, token: String, hours: i64, secure: bool) {
    let cookie = Cookie::build((SESSION_COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .max_age(CookieDuration::hours(hours))
        .expires(OffsetDateTime::now_utc() + CookieDuration::hours(hours));
    cookies.add_private(cookie);
}

const REVEAL_COOKIE: &str = "consentry_reveal";

/// How long identifiers stay shown after a reason was given.
pub const REVEAL_MINUTES: i64 = 15;

/// Lets this browser show `user` the names and signatures of study `slug` for
/// `REVEAL_MINUTES` (after a stated, audited reason): a private cookie naming the
/// account, the study and the end.
pub fn set_revealed(cookies: &CookieJar<'_>, user_id: i64, slug: &str, secure: bool) {
    let until = OffsetDateTime::now_utc() + CookieDuration::minutes(REVEAL_MINUTES);
    let cookie =
        Cookie::build((REVEAL_COOKIE, format!("{user_id}|{slug}|{}", until.unix_timestamp())))
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(secure)
            .path("/staff")
            .max_age(CookieDuration::minutes(REVEAL_MINUTES));
    cookies.add_private(cookie);
}

/// Whether `user` gave a reason to see identifiers in `slug` in the last minutes.
pub fn revealed(cookies: &CookieJar<'_>, user_id: i64, slug: &str) -> bool {
    let Some(cookie) = cookies.get_private(REVEAL_COOKIE) else {
        return false;
    };
    let mut parts = cookie.value().splitn(3, '|');
    let (Some(who), Some(study), Some(until)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    who == user_id.to_string()
        && study == slug
        && until.parse::<i64>().is_ok_and(|t| t > OffsetDateTime::now_utc().unix_timestamp())
}

/// The client's address: the connection's, or the `X-Real-IP` header when the
/// connection comes from a proxy listed in `CONSENTRY_TRUSTED_PROXIES`. Anyone else
/// can write any header, so it is ignored for them.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

pub fn client_addr(req: &Request<'_>, proxies: &[IpBlock]) -> Option<IpAddr> {
    let peer = req.remote().map(|r| r.ip())?;
    if !proxies.iter().any(|p| p.contains(peer)) {
        return Some(peer);
    }
    let forwarded = req.headers().get_one("X-Real-IP").and_then(|h| h.trim().parse().ok());
    Some(forwarded.unwrap_or(peer))
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientAddr {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        match state(req) {
            Ok(s) => Outcome::Success(ClientAddr(client_addr(req, &s.proxies))),
            Err(e) => fail(req, e),
        }
    }
}

/// Which language's consent text a participant asks for: `?language=TAG` (the
/// switcher's links; remembered in a cookie for the pages that follow), else the
/// cookie, and the browser's `Accept-Language`. A tag of the wrong shape is ignored.
#[derive(Debug, Clone, Default)]
pub struct Language(pub crate::service::consent::LanguageChoice);

const LANGUAGE_COOKIE: &str = "consentry_language";

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Language {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let valid = |tag: &str| crate::domain::consent::parse_language(tag).ok();
        let asked = req.query_value::<&str>("language").and_then(|r| r.ok()).and_then(valid);
        if let Some(tag) = &asked {
            let cookie = Cookie::build((LANGUAGE_COOKIE, tag.clone()))
                .path("/")
                .same_site(SameSite::Lax)
                .http_only(true);
            req.cookies().add(cookie);
        }
        let chosen =
            asked.or_else(|| req.cookies().get(LANGUAGE_COOKIE).and_then(|c| valid(c.value())));
        let accept =
            req.headers().get_one("Accept-Language").map(|h| h.chars().take(200).collect());
        Outcome::Success(Language(crate::service::consent::LanguageChoice { chosen, accept }))
    }
}

/// The CSRF token for forms on this page, kept in a private cookie and made on first use.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

fn new_csrf_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Sets a new CSRF token (at every sign-in, so a token planted before it is worthless).
pub fn rotate_csrf(jar: &CookieJar<'_>, secure: bool) -> String {
    let token = new_csrf_token();
    let cookie = Cookie::build((CSRF_COOKIE, token.clone()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .path("/");
    jar.add_private(cookie);
    token
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CsrfToken {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let secure = state(req).is_ok_and(|s| s.config.public_url.starts_with("https://"));
        let token = req.local_cache(|| {
            let jar = req.cookies();
            match jar.get_private(CSRF_COOKIE) {
                Some(c) if c.value().len() == 64 => c.value().to_string(),
                _ => rotate_csrf(jar, secure),
            }
        });
        Outcome::Success(CsrfToken(token.clone()))
    }
}

/// A form that carries a `csrf_token` field.
pub trait CsrfProtected {
    fn csrf_token(&self) -> &str;
}

/// A posted form whose CSRF token matched the one in the private cookie; anything
/// else is refused with 403 before the handler runs.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

fn same(a: &str, b: &str) -> bool {
    // Compare digests so the time taken does not depend on where the strings differ.
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

#[rocket::async_trait]
impl<'r, T: FromForm<'r> + CsrfProtected + Send + 'r> FromData<'r> for CsrfForm<T> {
    type Error = ();

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let expected = req.cookies().get_private(CSRF_COOKIE).map(|c| c.value().to_string());
        match Form::<T>::from_data(req, data).await {
            Outcome::Success(form) => {
                let form = form.into_inner();
                match expected {
                    Some(e) if same(&e, form.csrf_token()) => Outcome::Success(CsrfForm(form)),
                    _ => Outcome::Error((
                        guard_failed(
                            req,
                            AppError::Forbidden(
                                "This form has expired or was not sent from Consentry. Go back, reload the page and try again.".into(),
                            ),
                        ),
                        (),
                    )),
                }
            }
            Outcome::Error((status, _)) => {
                let err = if status == Status::PayloadTooLarge {
                    AppError::BadRequest("The form is too large.".into())
                } else {
                    AppError::BadRequest("The form could not be read.".into())
                };
                Outcome::Error((guard_failed(req, err), ()))
            }
            Outcome::Forward(f) => Outcome::Forward(f),
        }
    }
}
