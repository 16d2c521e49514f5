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
pub mod participant;
pub mod questionnaire;
pub mod recruitment;
pub mod report;
pub mod study;
pub mod views;

use rocket::response::{Flash, Redirect};

use self::views::ParticipantFrame;
use crate::error::AppError;
use crate::web::errors::{PageError, PageResult};
use crate::web::guards::ParticipantUser;

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

pub(super) fn participant_frame(me: &ParticipantUser, csrf: &str) -> ParticipantFrame {
    ParticipantFrame::new(&me.study, csrf)
}
