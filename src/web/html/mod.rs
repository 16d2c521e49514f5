//! Server-rendered pages for people. Every page works without JavaScript; every
//! POST form carries a CSRF token (see `CsrfForm`).

/// A form posted from a page, with the CSRF token `CsrfForm` checks. Every field
/// defaults to empty when missing, so that the service names each missing field
/// in words instead of the form failing to parse.
macro_rules! page_form {
    ($(#[$meta:meta])* $vis:vis struct $name:ident {
        $($(#[$fmeta:meta])* $field:ident: $ty:ty),* $(,)?
    }) => {
        $(#[$meta])*
        #[derive(rocket::form::FromForm)]
        $vis struct $name {
            #[field(default = String::new())]
            csrf_token: String,
            $($(#[$fmeta])* #[field(default = <$ty as Default>::default())] $field: $ty,)*
        }

        impl crate::web::guards::CsrfProtected for $name {
            fn csrf_token(&self) -> &str {
                &self.csrf_token
            }
        }
    };
}

mod audit;
mod auth;
pub mod consent;
pub mod focus_group;
pub mod mail;
pub mod page;
pub mod participant;
pub mod questionnaire;
pub mod recruitment;
pub mod report;
pub mod study;
pub mod user;
pub mod views;

use rocket::http::Status;
use rocket::response::{Flash, Redirect};

use self::views::ParticipantFrame;
use crate::error::AppError;
use crate::web::errors::{PageError, PageResult};
use crate::web::guards::ParticipantUser;
use crate::web::html::page::Page;

pub fn routes() -> Vec<rocket::Route> {
    [
        audit::routes(),
        auth::routes(),
        consent::routes(),
        focus_group::routes(),
        mail::routes(),
        participant::routes(),
        questionnaire::routes(),
        recruitment::routes(),
        report::routes(),
        study::routes(),
        user::routes(),
    ]
    .concat()
}

page_form! {
    /// A form with nothing but its CSRF token: a button.
    pub struct PlainForm {}
}

/// Turns the outcome of a staff action into a message on the study's page.
/// Whether a page hides participants' names and typed signatures from this viewer:
/// from ethics officers, until they gave a reason in this browser a few minutes ago.
pub(super) fn names_hidden(
    capacity: crate::domain::policy::Capacity,
    cookies: &rocket::http::CookieJar<'_>,
    user_id: i64,
    slug: &str,
) -> bool {
    crate::domain::policy::names_masked(capacity)
        && !crate::web::guards::revealed(cookies, user_id, slug)
}

pub(super) fn outcome<T>(
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
        Err(e) => Ok(Flash::error(back(), plain(&e))),
    }
}

/// What a staff form's POST answers: once done, a redirect to where the work
/// shows with a message saying what happened; when refused, the form's page again
/// (422, 409 or 403) with what was typed and each error beside its field.
pub(super) type FormReply = PageResult<Result<Flash<Redirect>, (Status, Page)>>;

/// A refusal in words for a message: its field errors' sentences (never the
/// fields' keys), or its message.
pub(super) fn plain(e: &AppError) -> String {
    views::Refusal::of(Some(e)).messages().join(" ")
}

/// A staff action's outcome, split: what it did, or the refusal its form's page
/// shows again; a missing study or a fault is an error page.
pub(super) fn shown<T>(result: Result<T, AppError>) -> PageResult<Result<T, AppError>> {
    match result {
        Err(e @ (AppError::Internal(_) | AppError::Db(_) | AppError::NotFound)) => {
            Err(PageError(e))
        }
        other => Ok(other),
    }
}

/// The redirect after a staff action, to where its work shows, with what happened.
pub(super) fn done(to: String, message: impl Into<String>) -> Flash<Redirect> {
    Flash::success(Redirect::to(to), message.into())
}

/// The status a form's page is answered with: 200, or the refusal's (422, 409, 403).
pub(super) fn status_of(refusal: Option<&AppError>) -> Status {
    refusal.map_or(Status::Ok, |e| Status::new(e.status()))
}

pub(super) fn participant_frame(me: &ParticipantUser, csrf: &str) -> ParticipantFrame {
    let mut frame = ParticipantFrame::new(&me.study, csrf);
    frame.withdrawn = me.participant.status() == "withdrawn";
    frame
}
