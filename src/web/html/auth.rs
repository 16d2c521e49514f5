//! Staff sign-in and sign-out.

use rocket::http::{CookieJar, Status};
use rocket::response::Redirect;
use rocket::{Either, State, get, post, routes};

use super::PlainForm;
use super::views::auth::{LoginPage, StartPage};
use crate::domain::user::TokenKind;
use crate::error::AppError;
use crate::service::{AppState, auth};
use crate::web::errors::PageResult;
use crate::web::guards::{
    ClientAddr, CsrfForm, CsrfToken, ParticipantUser, SESSION_COOKIE, SessionUser,
    set_session_cookie,
};
use crate::web::html::page::Page;

page_form! {
    pub struct LoginInput {
        email: String,
        password: String,
    }
}

/// The start page: a participant goes to their own page and staff to their
/// studies; anyone else reads how to reach a study (their link, or a new one) and
/// where staff sign in.
#[get("/")]
fn index(
    participant: Option<ParticipantUser>,
    staff: Option<SessionUser>,
) -> Either<Redirect, Page> {
    match (participant, staff) {
        (Some(_), _) => Either::Left(Redirect::to("/participant")),
        (None, Some(_)) => Either::Left(Redirect::to("/staff")),
        (None, None) => Either::Right(Page::render("auth/start", StartPage {})),
    }
}

#[get("/staff/login")]
fn login_page(csrf: CsrfToken, flash: Option<rocket::request::FlashMessage<'_>>) -> Page {
    let mut page = LoginPage::new(&csrf.0, "", None);
    page.notice = flash.map(|f| f.message().to_string());
    Page::render("auth/login", page)
}

#[post("/staff/login", data = "<form>")]
async fn login(
    state: &State<AppState>,
    cookies: &CookieJar<'_>,
    addr: ClientAddr,
    csrf: CsrfToken,
    form: CsrfForm<LoginInput>,
) -> Result<Redirect, (Status, Page)> {
    let input = form.0;
    let again = |status: Status, error: &str| {
        (status, Page::render("auth/login", LoginPage::new(&csrf.0, &input.email, Some(error))))
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

pub fn routes() -> Vec<rocket::Route> {
    routes![index, login_page, login, logout]
}
