//! The public ad page and its enrolment form (works without JavaScript). An
//! eligible respondent is signed in on this browser and taken to their page; the
//! private link is mailed too.

use std::collections::BTreeMap;

use rocket::form::FromForm;
use rocket::http::{ContentType, CookieJar, Status};
use rocket::response::Redirect;
use rocket::{State, get, post, routes};
use rocket_dyn_templates::{Template, context};

use super::questionnaire::sections;
use super::views::{StudyBanner, blocks};
use crate::domain::questionnaire::answers::{self, Answers};
use crate::error::AppError;
use crate::service::AppState;
use crate::service::recruitment::{self, Enrolment, PublicAd};
use crate::web::api::recruitment::NOT_ELIGIBLE;
use crate::web::errors::PageResult;
use crate::web::guards::{CsrfForm, CsrfProtected, CsrfToken};

#[derive(FromForm, Default)]
struct EnrolForm {
    #[field(default = String::new())]
    csrf_token: String,
    #[field(default = String::new())]
    name: String,
    #[field(default = String::new())]
    email: String,
    #[field(default = BTreeMap::new())]
    a: BTreeMap<String, Vec<String>>,
}

impl CsrfProtected for EnrolForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

fn render(
    state: &AppState,
    p: &PublicAd,
    csrf: &str,
    form: Option<&EnrolForm>,
    error: Option<&AppError>,
) -> (Status, Template) {
    let errors: BTreeMap<String, Vec<String>> =
        error.and_then(|e| e.fields()).map(|f| f.messages()).unwrap_or_default();
    let message = error.filter(|e| e.fields().is_none()).map(|e| e.public_message());
    let status = error.map(|e| Status::new(e.status())).unwrap_or(Status::Ok);
    let sections = p
        .screening
        .as_ref()
        .map(|d| sections(d, &Answers::default(), form.map(|f| &f.a), &errors))
        .unwrap_or_default();
    let ordered: Vec<(String, Vec<String>)> = ["name", "email"]
        .iter()
        .map(|k| k.to_string())
        .chain(p.screening.iter().flat_map(|d| d.questions.iter().map(|q| q.key.clone())))
        .filter_map(|k| errors.get(&k).map(|m| (k, m.clone())))
        .collect();
    let field = |k: &str| errors.get(k).cloned().unwrap_or_default();
    (
        status,
        Template::render(
            "ads/ad",
            context! {
                study: StudyBanner::from(&p.study),
                csrf,
                ad: context! { code: &p.ad.code, title: &p.ad.title, channel: p.ad.channel.as_str() },
                body: blocks(&p.ad.body_markdown),
                url: state.config.public_link(&format!("/ads/{}", p.ad.code)),
                closed_reason: &p.closed_because,
                sections,
                errors: ordered,
                message,
                name: form.map(|f| f.name.clone()).unwrap_or_default(),
                email: form.map(|f| f.email.clone()).unwrap_or_default(),
                name_errors: field("name"),
                email_errors: field("email"),
            },
        ),
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
                "participant/link_sent",
                context! { study: StudyBanner::from(&p.study) },
            ),
        ))),
        Ok(Enrolment::Ineligible) => Ok(Err((
            Status::Ok,
            Template::render(
                "ads/not_eligible",
                context! { study: StudyBanner::from(&p.study), reason: NOT_ELIGIBLE },
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
