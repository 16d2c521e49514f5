//! The public ad page and its enrolment form (works without JavaScript). An
//! eligible respondent is signed in on this browser and taken to their page; the
//! private link is mailed too.

use std::collections::BTreeMap;

use rocket::http::{ContentType, CookieJar, Status};
use rocket::response::Redirect;
use rocket::{State, get, post, routes};
use rocket_dyn_templates::Template;

use super::views::recruitment::{AdPage, Entered, LinkSentPage, NotEligiblePage};
use super::views::{Refusal, StudyBanner};
use crate::domain::questionnaire::answers;
use crate::error::AppError;
use crate::service::AppState;
use crate::service::recruitment::{self, Enrolment, PublicAd};
use crate::web::api::recruitment::NOT_ELIGIBLE;
use crate::web::errors::PageResult;
use crate::web::guards::{CsrfForm, CsrfToken};

page_form! {
    #[derive(Default)]
    struct EnrolForm {
        name: String,
        email: String,
        a: BTreeMap<String, Vec<String>>,
    }
}

fn render(
    state: &AppState,
    p: &PublicAd,
    csrf: &str,
    form: Option<&EnrolForm>,
    error: Option<&AppError>,
) -> (Status, Template) {
    let status = error.map(|e| Status::new(e.status())).unwrap_or(Status::Ok);
    let entered = form.map(|f| Entered { name: &f.name, email: &f.email, answers: &f.a });
    let url = state.config.public_link(&format!("/ads/{}", p.ad.code));
    (
        status,
        Template::render("recruitment/ad", AdPage::new(p, csrf, url, entered, &Refusal::of(error))),
    )
}

#[get("/ads/<code>")]
async fn page(
    state: &State<AppState>,
    csrf: CsrfToken,
    code: &str,
) -> PageResult<(Status, Template)> {
    let p = recruitment::public_ad(state, code, true).await?;
    Ok(render(state, &p, &csrf.0, None, None))
}

#[post("/ads/<code>/enrol", data = "<form>")]
async fn enrol(
    state: &State<AppState>,
    cookies: &CookieJar<'_>,
    csrf: CsrfToken,
    code: &str,
    form: CsrfForm<EnrolForm>,
) -> PageResult<Result<Redirect, (Status, Template)>> {
    let form = form.0;
    let p = recruitment::public_ad(state, code, false).await?;
    let raw = match &p.screening {
        Some(d) => answers::from_form_fields(d, &form.a),
        None => serde_json::Map::new(),
    };
    match recruitment::enrol(state, code, &form.name, &form.email, &raw).await {
        Ok(Enrolment::Enrolled { token, .. }) => {
            super::participant::sign_in(state, cookies, &token);
            Ok(Ok(Redirect::to("/participant")))
        }
        Ok(Enrolment::Sent) => Ok(Err((
            Status::Ok,
            Template::render(
                "recruitment/link_sent",
                LinkSentPage { study: StudyBanner::from(&p.study) },
            ),
        ))),
        Ok(Enrolment::Ineligible) => Ok(Err((
            Status::Ok,
            Template::render(
                "recruitment/not_eligible",
                NotEligiblePage { study: StudyBanner::from(&p.study), reason: NOT_ELIGIBLE },
            ),
        ))),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_) | AppError::Gone(_))) => {
            Ok(Err(render(state, &p, &csrf.0, Some(&form), Some(&e))))
        }
        Err(e) => Err(e.into()),
    }
}

/// The ad as a printable poster with its short link.
#[get("/ads/<code>/poster.pdf")]
async fn poster(state: &State<AppState>, code: &str) -> PageResult<(ContentType, Vec<u8>)> {
    Ok((ContentType::PDF, recruitment::poster(state, code).await?))
}

pub fn routes() -> Vec<rocket::Route> {
    routes![page, enrol, poster]
}
