//! The outbox as staff read it (links and codes hidden).

use rocket::{State, get, routes};

use super::views::StaffFrame;
use super::views::mail::{MailRow, OutboxPage};
use crate::service::AppState;
use crate::web::errors::PageResult;
use crate::web::guards::{CsrfToken, SessionUser};
use crate::web::html::page::Page;

/// Every message the outbox holds for this person's studies (admins: all), so a
/// local demo without SMTP shows what would have been sent.
#[get("/staff/outbox")]
async fn outbox(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
) -> PageResult<Page> {
    let mail = crate::service::mail::list(state, &session.user, 200).await?;
    let page = OutboxPage {
        frame: StaffFrame::new(&session.user, csrf.0, None),
        mail: mail.into_iter().map(MailRow::from).collect(),
    };
    Ok(Page::render("mail/outbox", page))
}

pub fn routes() -> Vec<rocket::Route> {
    routes![outbox]
}
