//! Responders for `AppError`: the JSON error of SPEC §5 under `/api`, an HTML page
//! elsewhere; and the catchers that give a malformed body, an unknown route or a
//! failed guard the same shapes. Error pages never need the database.

use std::io::Cursor;
use std::sync::Mutex;

use rocket::http::{ContentType, Status};
use rocket::response::{self, Redirect, Responder};
use rocket::{Request, Response, catch};
use serde_json::json;

use super::fairings::RequestId;
use super::html::views::ErrorPage;
use crate::domain::FieldErrors;
use crate::error::AppError;
use crate::web::html::page::Page;

/// A handler's error, answered as JSON.
#[derive(Debug)]
pub struct ApiError(pub AppError);

/// A page handler's error, answered as an HTML page.
#[derive(Debug)]
pub struct PageError(pub AppError);

pub type ApiResult<T> = Result<T, ApiError>;
pub type PageResult<T> = Result<T, PageError>;

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl From<FieldErrors> for ApiError {
    fn from(e: FieldErrors) -> Self {
        ApiError(e.into())
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError(e)
    }
}

impl From<FieldErrors> for PageError {
    fn from(e: FieldErrors) -> Self {
        PageError(e.into())
    }
}

/// An error a request guard or data guard failed with, kept for the catcher so the
/// answer names what was wrong rather than only the status.
#[derive(Default)]
pub struct GuardFailure(Mutex<Option<AppError>>);

/// Remembers `err` for this request's catcher and returns its status.
pub fn guard_failed(req: &Request<'_>, err: AppError) -> Status {
    let status = Status::new(err.status());
    let slot = req.local_cache(GuardFailure::default);
    if let Ok(mut s) = slot.0.lock() {
        *s = Some(err);
    }
    status
}

fn take_guard_failure(req: &Request<'_>) -> Option<AppError> {
    req.local_cache(GuardFailure::default).0.lock().ok().and_then(|mut s| s.take())
}

fn log_internal(req: &Request<'_>, err: &AppError) {
    if err.is_internal() {
        let request_id = RequestId::of(req);
        tracing::error!(request_id = %request_id, error = %err, "request failed");
    }
    if matches!(err, AppError::Db(_) | AppError::Unavailable(_))
        && let Some(metrics) = req.rocket().state::<std::sync::Arc<super::fairings::Metrics>>()
    {
        metrics.database_error();
    }
}

/// Seconds a client should wait before trying again after a 503.
pub const RETRY_AFTER_UNAVAILABLE: &str = "5";

fn error_body(req: &Request<'_>, err: &AppError) -> serde_json::Value {
    let mut message = err.public_message();
    let mut error = json!({ "code": err.code() });
    if err.is_internal() {
        let id = RequestId::of(req);
        message = format!("{message} Quote request id {id} if you report it.");
        error["request_id"] = json!(id.to_string());
    }
    error["message"] = json!(message);
    if let Some(fields) = err.fields() {
        error["fields"] = json!(fields.messages());
    }
    json!({ "error": error })
}

impl<'r> Responder<'r, 'static> for ApiError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        log_internal(req, &self.0);
        let body = error_body(req, &self.0).to_string();
        let mut res = Response::build();
        res.status(Status::new(self.0.status()))
            .header(ContentType::JSON)
            .sized_body(body.len(), Cursor::new(body));
        if matches!(self.0, AppError::Unauthenticated(_)) {
            res.raw_header("WWW-Authenticate", "Bearer realm=\"consentry\"");
        }
        match self.0 {
            AppError::TooMany => {
                res.raw_header("Retry-After", "900");
            }
            AppError::Unavailable(_) => {
                res.raw_header("Retry-After", RETRY_AFTER_UNAVAILABLE);
            }
            _ => {}
        }
        res.ok()
    }
}

fn status_title(status: u16) -> &'static str {
    match status {
        400 => "That request was not understood",
        401 => "Please sign in",
        403 => "You cannot do that",
        404 => "Page not found",
        409 => "That clashes with the current state",
        410 => "No longer available",
        422 => "Some fields need attention",
        415 => "That kind of request is not accepted here",
        429 => "Too many attempts",
        503 => "Not available right now",
        _ => "Something went wrong",
    }
}

/// Renders the error page; with no templates loaded it falls back to plain text.
fn error_page(req: &Request<'_>, err: &AppError) -> response::Result<'static> {
    let status = err.status();
    let request_id = err.is_internal().then(|| RequestId::of(req).to_string());
    let fields: Vec<(String, Vec<String>)> =
        err.fields().map(|f| f.messages().into_iter().collect()).unwrap_or_default();
    let page = ErrorPage {
        title: status_title(status),
        status,
        message: err.public_message(),
        fields,
        request_id,
        home: if req.cookies().get_private(crate::web::guards::PARTICIPANT_COOKIE).is_some() {
            "/participant"
        } else {
            "/"
        },
    };
    let template = Page::render("errors/error", page);
    match template.respond_to(req) {
        Ok(mut res) => {
            res.set_status(Status::new(status));
            Ok(res)
        }
        Err(_) => {
            let text = format!("{} {}\n{}\n", status, status_title(status), err.public_message());
            Response::build()
                .status(Status::new(status))
                .header(ContentType::Plain)
                .sized_body(text.len(), Cursor::new(text))
                .ok()
        }
    }
}

impl<'r> Responder<'r, 'static> for PageError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        log_internal(req, &self.0);
        if matches!(self.0, AppError::Unauthenticated(_)) {
            // A participant without a working link is offered a new one; the staff
            // sign-in is for staff pages only.
            let to = if req.uri().path().starts_with("/participant") {
                "/participant/link"
            } else {
                "/staff/login"
            };
            return Redirect::to(to).respond_to(req);
        }
        let mut res = error_page(req, &self.0)?;
        if matches!(self.0, AppError::Unavailable(_)) {
            res.set_raw_header("Retry-After", RETRY_AFTER_UNAVAILABLE);
        }
        Ok(res)
    }
}

fn error_for_status(status: Status) -> AppError {
    match status.code {
        400 => AppError::BadRequest("The request could not be read.".into()),
        401 => AppError::Unauthenticated("Sign in first: send Authorization: Bearer TOKEN.".into()),
        403 => AppError::Forbidden("You are not allowed to do this.".into()),
        404 => AppError::NotFound,
        405 => AppError::BadRequest("That method is not allowed here.".into()),
        413 => AppError::BadRequest("The request body is too large.".into()),
        415 => AppError::BadRequest("That content type is not accepted here.".into()),
        422 => AppError::BadRequest("The request body does not have the expected shape.".into()),
        429 => AppError::TooMany,
        c if c >= 500 => AppError::Internal(format!("status {c} reached the catcher")),
        _ => AppError::BadRequest(format!("The request failed ({}).", status.code)),
    }
}

/// Every error under `/api`, JSON; the specific error a guard left wins.
#[catch(default)]
pub fn api_catcher(status: Status, req: &Request<'_>) -> ApiError {
    ApiError(take_guard_failure(req).unwrap_or_else(|| error_for_status(status)))
}

/// Every error elsewhere, as a page; signing in is offered instead of a bare 401.
#[catch(default)]
pub fn page_catcher(status: Status, req: &Request<'_>) -> PageError {
    PageError(take_guard_failure(req).unwrap_or_else(|| error_for_status(status)))
}
