//! Staff accounts for admins: make one (its owner sets the password from a mailed
//! one-time link), switch one off or on, send a new password link; and the page
//! that link opens.

use rocket::http::Status;
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};

use super::views::user::{AccountsPage, PasswordPage};
use super::views::{FormView, StaffFrame};
use super::{FormReply, done, outcome_on, shown, status_of};
use crate::error::AppError;
use crate::service::{Actor, AppState, user};
use crate::web::errors::PageResult;
use crate::web::guards::{CsrfForm, CsrfToken, SessionUser};
use crate::web::html::page::Page;

const ACCOUNTS: &str = "/staff/accounts";

page_form! {
    #[derive(Default, serde::Serialize)]
    pub struct AccountForm {
        name: String,
        email: String,
        role: String,
    }
}

async fn accounts_page(
    state: &AppState,
    session: &SessionUser,
    csrf: &str,
    flash: Option<FlashMessage<'_>>,
    refused: Option<(AccountForm, &AppError)>,
) -> PageResult<(Status, Page)> {
    let accounts = user::list(state, &session.user).await?;
    let (values, refusal) = match refused {
        Some((values, e)) => (values, Some(e)),
        None => (
            AccountForm { role: "coordinator".into(), ..<AccountForm as Default>::default() },
            None,
        ),
    };
    let frame = StaffFrame::new(&session.user, csrf.to_string(), flash);
    let page = AccountsPage::new(frame, session.user.id, &accounts, FormView::new(values, refusal));
    Ok((status_of(refusal), Page::render("user/accounts", page)))
}

/// Every staff account, with the form that makes one (admins only).
#[get("/staff/accounts")]
async fn accounts(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    flash: Option<FlashMessage<'_>>,
) -> PageResult<(Status, Page)> {
    accounts_page(state, &session, &csrf.0, flash, None).await
}

#[post("/staff/accounts", data = "<form>")]
async fn create(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    form: CsrfForm<AccountForm>,
) -> FormReply {
    let f = form.0;
    let result = user::invite(state, &session.user, &f.email, &f.name, &f.role).await;
    Ok(match shown(result)? {
        Ok(u) => Ok(done(
            ACCOUNTS.into(),
            format!(
                "{}'s account is made. A link to set the password was mailed to {}; it works once, within a day.",
                u.name, u.email
            ),
        )),
        Err(e) => Err(accounts_page(state, &session, &csrf.0, None, Some((f, &e))).await?),
    })
}

page_form! {
    pub struct SwitchForm {
        /// `true` switches the account on, anything else off.
        active: bool,
    }
}

#[post("/staff/accounts/<id>/active", data = "<form>")]
async fn switch(
    state: &State<AppState>,
    session: SessionUser,
    id: i64,
    form: CsrfForm<SwitchForm>,
) -> PageResult<Flash<Redirect>> {
    let change = user::AccountChange { active: Some(form.0.active), revoke_tokens: false };
    let result = user::change(state, Actor::Staff(&session.user), id, change).await;
    outcome_on(ACCOUNTS, result, |u| {
        if u.active {
            format!("{}'s account is on again.", u.name)
        } else {
            format!(
                "{}'s account is off: they are signed out everywhere and cannot sign in.",
                u.name
            )
        }
    })
}

/// Ends every session and token of an account now (a lost laptop, a leaked token).
#[post("/staff/accounts/<id>/sessions", data = "<_form>")]
async fn end_sessions(
    state: &State<AppState>,
    session: SessionUser,
    id: i64,
    _form: CsrfForm<super::PlainForm>,
) -> PageResult<Flash<Redirect>> {
    let change = user::AccountChange { active: None, revoke_tokens: true };
    let result = user::change(state, Actor::Staff(&session.user), id, change).await;
    outcome_on(ACCOUNTS, result, |u| {
        format!("Every session and token of {} has ended; they sign in again.", u.name)
    })
}

#[post("/staff/accounts/<id>/password-link", data = "<_form>")]
async fn password_link(
    state: &State<AppState>,
    session: SessionUser,
    id: i64,
    _form: CsrfForm<super::PlainForm>,
) -> PageResult<Flash<Redirect>> {
    let result = user::send_password_link(state, &session.user, id).await;
    outcome_on(ACCOUNTS, result, |u| {
        format!(
            "A link to set a new password was mailed to {}; their present password works until they use it.",
            u.email
        )
    })
}

page_form! {
    #[derive(Default)]
    pub struct PasswordForm {
        password: String,
        again: String,
    }
}

/// The page a password link opens: choose the password, twice.
#[get("/staff/password/<token>")]
async fn password_page(
    state: &State<AppState>,
    csrf: CsrfToken,
    token: &str,
) -> PageResult<(Status, Page)> {
    Ok(match user::password_link_holder(state, token).await? {
        Some(u) => (Status::Ok, PasswordPage::form(&csrf.0, &u, None).render()),
        None => (Status::Gone, PasswordPage::dead(&csrf.0).render()),
    })
}

#[post("/staff/password/<token>", data = "<form>")]
async fn set_password(
    state: &State<AppState>,
    csrf: CsrfToken,
    token: &str,
    form: CsrfForm<PasswordForm>,
) -> PageResult<Result<Flash<Redirect>, (Status, Page)>> {
    let f = form.0;
    match user::set_password(state, token, &f.password, &f.again).await {
        Ok(_) => Ok(Ok(Flash::success(
            Redirect::to("/staff/login"),
            "Your password is set, and every other session of yours has ended. Sign in with it.",
        ))),
        Err(AppError::Gone(_)) => Ok(Err((Status::Gone, PasswordPage::dead(&csrf.0).render()))),
        Err(e @ AppError::Validation(_)) => {
            let holder = user::password_link_holder(state, token).await?;
            let Some(u) = holder else {
                return Ok(Err((Status::Gone, PasswordPage::dead(&csrf.0).render())));
            };
            let page = PasswordPage::form(&csrf.0, &u, Some(&e)).render();
            Ok(Err((Status::UnprocessableEntity, page)))
        }
        Err(e) => Err(e.into()),
    }
}

pub fn routes() -> Vec<rocket::Route> {
    routes![accounts, create, switch, end_sessions, password_link, password_page, set_password]
}
