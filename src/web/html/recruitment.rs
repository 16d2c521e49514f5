//! The public ad page and its enrolment form (works without JavaScript). An
//! eligible respondent is signed in on this browser and taken to their page; the
//! private link is mailed too.

use std::collections::BTreeMap;

use rocket::http::{ContentType, CookieJar, Status};
use rocket::response::Redirect;
use rocket::{State, get, post, routes};

use chrono::Utc;
use rocket::request::FlashMessage;
use rocket::response::Flash;

use super::views::recruitment::{
    AdEditPage, AdPage, Entered, LinkSentPage, NotEligiblePage, RecruitmentPage,
};
use super::views::{FormView, Refusal, StaffFrame, StudyBanner};
use super::{FormReply, done, shown, status_of};
use crate::domain::FieldErrors;
use crate::domain::policy::Capacity;
use crate::domain::questionnaire::Stage;
use crate::domain::questionnaire::answers;
use crate::domain::recruitment::{Ad, AdDraft};
use crate::domain::study::{Study, Zone};
use crate::error::AppError;
use crate::service::AppState;
use crate::service::recruitment::{self, Enrolment, PublicAd};
use crate::service::{questionnaire, study};
use crate::web::api::recruitment::NOT_ELIGIBLE;
use crate::web::errors::PageResult;
use crate::web::guards::SessionUser;
use crate::web::guards::{CsrfForm, CsrfToken};
use crate::web::html::page::Page;

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
) -> (Status, Page) {
    let status = error.map(|e| Status::new(e.status())).unwrap_or(Status::Ok);
    let entered = form.map(|f| Entered { name: &f.name, email: &f.email, answers: &f.a });
    let url = state.config.public_link(&format!("/ads/{}", p.ad.code));
    (
        status,
        Page::render("recruitment/ad", AdPage::new(p, csrf, url, entered, &Refusal::of(error))),
    )
}

#[get("/ads/<code>")]
async fn page(state: &State<AppState>, csrf: CsrfToken, code: &str) -> PageResult<(Status, Page)> {
    let p = recruitment::public_ad(state, code, true).await?;
    Ok(render(state, &p, &csrf.0, None, None))
}

/// The word on the participant's page after enrolling from an ad.
const ENROLLED: &str = "You are in: this is your page for the study. We have also e-mailed you a \
                        link to it, so you can come back later from any device.";

#[post("/ads/<code>/enrol", data = "<form>")]
async fn enrol(
    state: &State<AppState>,
    cookies: &CookieJar<'_>,
    csrf: CsrfToken,
    code: &str,
    form: CsrfForm<EnrolForm>,
) -> PageResult<Result<Flash<Redirect>, (Status, Page)>> {
    let form = form.0;
    let p = recruitment::public_ad(state, code, false).await?;
    let raw = match &p.screening {
        Some(d) => answers::from_form_fields(d, &form.a),
        None => serde_json::Map::new(),
    };
    match recruitment::enrol(state, code, &form.name, &form.email, &raw).await {
        Ok(Enrolment::Enrolled { token, .. }) => {
            super::participant::sign_in(state, cookies, &token);
            Ok(Ok(Flash::success(Redirect::to("/participant"), ENROLLED)))
        }
        Ok(Enrolment::Sent) => Ok(Err((
            Status::Ok,
            Page::render(
                "recruitment/link_sent",
                LinkSentPage { study: StudyBanner::from(&p.study), home: format!("/ads/{code}") },
            ),
        ))),
        Ok(Enrolment::Ineligible) => Ok(Err((
            Status::Ok,
            Page::render(
                "recruitment/not_eligible",
                NotEligiblePage {
                    study: StudyBanner::from(&p.study),
                    reason: NOT_ELIGIBLE,
                    home: format!("/ads/{code}"),
                },
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

page_form! {
    #[derive(Default, serde::Serialize)]
    pub struct AdForm {
        code: String,
        channel: String,
        title: String,
        body_markdown: String,
        /// The window, as a date and a time of day on the study's clock.
        opens_on: String,
        opens_time: String,
        closes_on: String,
        closes_time: String,
        /// `preview` shows the text as respondents will see it.
        action: String,
    }
}

impl AdForm {
    pub fn previewing(&self) -> bool {
        self.action == "preview"
    }

    pub fn body(&self) -> &str {
        &self.body_markdown
    }

    fn draft(&self, zone: Zone) -> Result<AdDraft, FieldErrors> {
        let opens = zone.wall_time(&self.opens_on, &self.opens_time, "00:00", "Opening date");
        let closes = zone.wall_time(&self.closes_on, &self.closes_time, "23:59", "Closing date");
        AdDraft::checked(&self.code, &self.channel, &self.title, &self.body_markdown, opens, closes)
    }

    fn of(ad: &Ad, zone: Zone) -> Self {
        let (opens, closes) = (zone.local(ad.opens_at), zone.local(ad.closes_at));
        Self {
            code: ad.code.clone(),
            channel: ad.channel.as_str().to_string(),
            title: ad.title.clone(),
            body_markdown: ad.body_markdown.clone(),
            opens_on: opens.format("%Y-%m-%d").to_string(),
            opens_time: opens.format("%H:%M").to_string(),
            closes_on: closes.format("%Y-%m-%d").to_string(),
            closes_time: closes.format("%H:%M").to_string(),
            ..<Self as Default>::default()
        }
    }
}

page_form! {
    #[derive(Default, serde::Serialize)]
    pub struct StratumForm {
        question: String,
        value: String,
        target: String,
        cap: String,
    }
}

/// Which form of the recruitment page was refused, with what was typed.
enum Refused<'a> {
    Ad(AdForm, Option<&'a AppError>),
    Stratum(StratumForm, &'a AppError),
    Nothing,
}

async fn recruitment_page(
    state: &AppState,
    session: &SessionUser,
    csrf: &str,
    flash: Option<FlashMessage<'_>>,
    slug: &str,
    refused: Refused<'_>,
) -> PageResult<(Status, Page)> {
    let user = &session.user;
    let (study, capacity) = study::get(state, user, slug).await?;
    let ads = recruitment::ads(state, user, slug).await?;
    let strata = recruitment::strata(state, user, slug).await?;
    let screening = questionnaire::list(state, user, slug)
        .await?
        .into_iter()
        .find(|(i, _)| i.stage == Stage::Screening)
        .map(|(_, d)| d);
    let link = |code: &str| state.config.public_link(&format!("/ads/{code}"));
    let (ad_form, stratum_form, refusal) = match refused {
        Refused::Ad(f, e) => (f, <StratumForm as Default>::default(), e),
        Refused::Stratum(f, e) => (new_ad_form(&study), f, Some(e)),
        Refused::Nothing => (new_ad_form(&study), <StratumForm as Default>::default(), None),
    };
    let page = RecruitmentPage::new(
        StaffFrame::new(user, csrf.to_string(), flash),
        &study,
        capacity == Capacity::Coordinator,
        ads.iter().map(|(a, f)| (a, f, link(&a.code))),
        &strata,
        screening.as_deref(),
        (FormView::new(ad_form, refusal), FormView::new(stratum_form, refusal)),
    );
    Ok((status_of(refusal), Page::render("recruitment/recruitment", page)))
}

/// A new ad's form: open from today for four weeks, on the study's clock.
fn new_ad_form(study: &Study) -> AdForm {
    let today = study.timezone.local(Utc::now()).date_naive();
    AdForm {
        channel: "lms".into(),
        opens_on: today.to_string(),
        opens_time: "09:00".into(),
        closes_on: (today + chrono::Days::new(28)).to_string(),
        closes_time: "17:00".into(),
        ..<AdForm as Default>::default()
    }
}

/// A study's ads with their funnel, public link and QR code; its strata filling
/// against their targets; and the forms that add both.
#[get("/staff/studies/<slug>/recruitment")]
async fn recruitment_console(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    flash: Option<FlashMessage<'_>>,
    slug: &str,
) -> PageResult<(Status, Page)> {
    recruitment_page(state, &session, &csrf.0, flash, slug, Refused::Nothing).await
}

#[post("/staff/studies/<slug>/ads", data = "<form>")]
async fn create_ad(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
    form: CsrfForm<AdForm>,
) -> FormReply {
    let f = form.0;
    let (study, _) = study::get(state, &session.user, slug).await?;
    if f.action == "preview" {
        let page = recruitment_page(state, &session, &csrf.0, None, slug, Refused::Ad(f, None));
        return Ok(Err(page.await?));
    }
    let result = recruitment::create_ad(state, &session.user, slug, f.draft(study.timezone)).await;
    Ok(match shown(result)? {
        Ok(ad) => Ok(done(
            format!("/staff/studies/{slug}/recruitment"),
            format!("The ad \"{}\" is saved; its link is /ads/{}.", ad.title, ad.code),
        )),
        Err(e) => {
            let page =
                recruitment_page(state, &session, &csrf.0, None, slug, Refused::Ad(f, Some(&e)));
            Err(page.await?)
        }
    })
}

async fn ad_edit_page(
    state: &AppState,
    session: &SessionUser,
    csrf: &str,
    slug: &str,
    code: &str,
    refused: Option<(AdForm, &AppError)>,
) -> PageResult<(Status, Page)> {
    let (study, capacity) = study::get(state, &session.user, slug).await?;
    if capacity != Capacity::Coordinator {
        return Err(
            AppError::Forbidden("Only the study's coordinators edit its ads.".into()).into()
        );
    }
    let ads = recruitment::ads(state, &session.user, slug).await?;
    let (ad, _) = ads.iter().find(|(a, _)| a.code == code).ok_or(AppError::NotFound)?;
    let (values, refusal) = match refused {
        Some((values, e)) => (values, Some(e)),
        None => (AdForm::of(ad, study.timezone), None),
    };
    let frame = StaffFrame::new(&session.user, csrf.to_string(), None);
    let page = AdEditPage::new(frame, &study, ad, FormView::new(values, refusal));
    Ok((status_of(refusal), Page::render("recruitment/ad_edit", page)))
}

/// An ad's text, channel and window; its code is its link and stays.
#[get("/staff/studies/<slug>/ads/<code>")]
async fn edit_ad(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
    code: &str,
) -> PageResult<(Status, Page)> {
    ad_edit_page(state, &session, &csrf.0, slug, code, None).await
}

#[post("/staff/studies/<slug>/ads/<code>", data = "<form>")]
async fn update_ad(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
    code: &str,
    form: CsrfForm<AdForm>,
) -> FormReply {
    let mut f = form.0;
    f.code = code.to_string();
    let (study, _) = study::get(state, &session.user, slug).await?;
    let draft = f.draft(study.timezone);
    Ok(match shown(recruitment::update_ad(state, &session.user, slug, code, draft).await)? {
        Ok(ad) => Ok(done(
            format!("/staff/studies/{slug}/recruitment"),
            format!("The ad \"{}\" is changed.", ad.title),
        )),
        Err(e) => Err(ad_edit_page(state, &session, &csrf.0, slug, code, Some((f, &e))).await?),
    })
}

#[post("/staff/studies/<slug>/ads/<code>/close", data = "<_form>")]
async fn close_ad(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    code: &str,
    _form: CsrfForm<super::PlainForm>,
) -> PageResult<Flash<Redirect>> {
    let result = recruitment::close_ad(state, &session.user, slug, code).await;
    super::outcome_on(&format!("/staff/studies/{slug}/recruitment"), result, |ad| {
        format!("The ad \"{}\" is closed: its link now says so and takes no one.", ad.title)
    })
}

#[post("/staff/studies/<slug>/ads/<code>/reopen", data = "<_form>")]
async fn reopen_ad(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    code: &str,
    _form: CsrfForm<super::PlainForm>,
) -> PageResult<Flash<Redirect>> {
    let result = recruitment::reopen_ad(state, &session.user, slug, code).await;
    super::outcome_on(&format!("/staff/studies/{slug}/recruitment"), result, |ad| {
        format!("The ad \"{}\" is open again within its window.", ad.title)
    })
}

#[post("/staff/studies/<slug>/strata", data = "<form>")]
async fn add_stratum(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
    form: CsrfForm<StratumForm>,
) -> FormReply {
    let f = form.0;
    let cap = Some(f.cap.trim()).filter(|c| !c.is_empty()).map(super::study::number);
    let target = super::study::number(&f.target);
    let result =
        recruitment::add_stratum(state, &session.user, slug, &f.question, &f.value, target, cap)
            .await;
    Ok(match shown(result)? {
        Ok(s) => Ok(done(
            format!("/staff/studies/{slug}/recruitment"),
            format!("The stratum {} = {} is added, target {}.", s.question_key, s.value, s.target),
        )),
        Err(e) => {
            let refused = Refused::Stratum(f, &e);
            Err(recruitment_page(state, &session, &csrf.0, None, slug, refused).await?)
        }
    })
}

pub fn routes() -> Vec<rocket::Route> {
    routes![
        page,
        enrol,
        poster,
        recruitment_console,
        create_ad,
        edit_ad,
        update_ad,
        close_ad,
        reopen_ad,
        add_stratum
    ]
}
