//! Recruitment: ads and strata for coordinators; the public ad and enrolment.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, get, post, put};

use super::dto::{
    AdDto, AdInput, EnrolDto, EnrolInput, ErrorBody, PublicAdDto, StratumDto, StratumInput,
};
use crate::domain::recruitment::{Ad, AdDraft, Funnel};
use crate::service::AppState;
use crate::service::recruitment::{self, Enrolment};
use crate::web::api::responses::{
    CoordinatorEdit, MalformedBody, NoToken, NotCoordinator, StudyRead,
};
use crate::web::errors::ApiResult;
use crate::web::guards::StaffUser;
use crate::web::json::JsonBody;

pub use super::dto::NOT_ELIGIBLE;

/// The ad with its public address.
fn ad_dto(state: &AppState, ad: &Ad, funnel: Funnel) -> AdDto {
    AdDto::new(ad, funnel, state.config.public_link(&format!("/ads/{}", ad.code)))
}

fn draft(b: &AdInput) -> Result<AdDraft, crate::domain::FieldErrors> {
    AdDraft::parse(&b.code, &b.channel, &b.title, &b.body_markdown, &b.opens_at, &b.closes_at)
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/ads", tag = "recruitment",
    request_body = AdInput,
    responses(
        (status = 201, description = "The ad", body = AdDto),
        CoordinatorEdit,
        (status = 409, description = "The code is taken, or the study is closed", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/ads", data = "<body>")]
pub async fn create_ad(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    body: JsonBody<AdInput>,
) -> ApiResult<(Status, Json<AdDto>)> {
    let ad = recruitment::create_ad(state, &staff.0, slug, draft(&body.0)).await?;
    Ok((Status::Created, Json(ad_dto(state, &ad, Funnel::default()))))
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/ads", tag = "recruitment",
    responses(
        (status = 200, description = "The study's ads with views, screened, eligible and consented", body = Vec<AdDto>),
        StudyRead,
    )
)]
#[get("/studies/<slug>/ads")]
pub async fn list_ads(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
) -> ApiResult<Json<Vec<AdDto>>> {
    let ads = recruitment::ads(state, &staff.0, slug).await?;
    Ok(Json(ads.iter().map(|(a, f)| ad_dto(state, a, *f)).collect()))
}

#[utoipa::path(
    put, path = "/api/v1/studies/{slug}/ads/{code}", tag = "recruitment",
    request_body = AdInput,
    responses(
        (status = 200, description = "The edited ad", body = AdDto),
        MalformedBody,
        NoToken,
        NotCoordinator,
        (status = 404, description = "No such study or ad", body = ErrorBody),
        (status = 422, description = "A field was refused (the code cannot change)", body = ErrorBody),
    )
)]
#[put("/studies/<slug>/ads/<code>", data = "<body>")]
pub async fn update_ad(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    code: &str,
    body: JsonBody<AdInput>,
) -> ApiResult<Json<AdDto>> {
    let ad = recruitment::update_ad(state, &staff.0, slug, code, draft(&body.0)).await?;
    Ok(Json(ad_dto(state, &ad, Funnel::default())))
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/ads/{code}/close", tag = "recruitment",
    responses(
        (status = 200, description = "The closed ad", body = AdDto),
        NoToken,
        NotCoordinator,
        (status = 404, description = "No such study or ad", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/ads/<code>/close")]
pub async fn close_ad(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    code: &str,
) -> ApiResult<Json<AdDto>> {
    let ad = recruitment::close_ad(state, &staff.0, slug, code).await?;
    Ok(Json(ad_dto(state, &ad, Funnel::default())))
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/ads/{code}/reopen", tag = "recruitment",
    responses(
        (status = 200, description = "The ad, open again within its window (audited)", body = AdDto),
        NoToken,
        NotCoordinator,
        (status = 404, description = "No such study or ad", body = ErrorBody),
        (status = 409, description = "The study is closed", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/ads/<code>/reopen")]
pub async fn reopen_ad(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    code: &str,
) -> ApiResult<Json<AdDto>> {
    let ad = recruitment::reopen_ad(state, &staff.0, slug, code).await?;
    Ok(Json(ad_dto(state, &ad, Funnel::default())))
}

#[utoipa::path(
    get, path = "/api/v1/ads/{code}", tag = "recruitment",
    security(()),
    responses(
        (status = 200, description = "The ad, its study and approval, and the screening questions", body = PublicAdDto),
        (status = 404, description = "No such ad", body = ErrorBody),
    )
)]
#[get("/ads/<code>")]
pub async fn public_ad(state: &State<AppState>, code: &str) -> ApiResult<Json<PublicAdDto>> {
    let p = recruitment::public_ad(state, code, true).await?;
    Ok(Json(PublicAdDto::from(&p)))
}

#[utoipa::path(
    post, path = "/api/v1/ads/{code}/enrol", tag = "recruitment",
    request_body = EnrolInput,
    security(()),
    responses(
        (status = 201, description = "Eligible, a new address: the private token and link (also mailed)", body = EnrolDto),
        (status = 202, description = "Eligible, and a link is on its way to the address on record (an address already enrolled, or a study that confirms addresses first): no token", body = EnrolDto),
        (status = 200, description = "Not eligible (nothing about the person is kept)", body = EnrolDto),
        MalformedBody,
        (status = 404, description = "No such ad", body = ErrorBody),
        (status = 409, description = "The respondent's stratum is full", body = ErrorBody),
        (status = 410, description = "The ad is closed, the study is not recruiting or its approval expired", body = ErrorBody),
        (status = 422, description = "A field or screening answer was refused", body = ErrorBody),
    )
)]
#[post("/ads/<code>/enrol", data = "<body>")]
pub async fn enrol(
    state: &State<AppState>,
    code: &str,
    body: JsonBody<EnrolInput>,
) -> ApiResult<(Status, Json<EnrolDto>)> {
    let b = body.0;
    let outcome = recruitment::enrol(state, code, &b.name, &b.email, &b.answers).await?;
    let status = match outcome {
        Enrolment::Enrolled { .. } => Status::Created,
        Enrolment::Sent => Status::Accepted,
        Enrolment::Ineligible => Status::Ok,
    };
    Ok((status, Json(EnrolDto::from(outcome))))
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/strata", tag = "recruitment",
    request_body = StratumInput,
    responses(
        (status = 201, description = "The stratum", body = StratumDto),
        CoordinatorEdit,
        (status = 409, description = "That stratum exists already", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/strata", data = "<body>")]
pub async fn add_stratum(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    body: JsonBody<StratumInput>,
) -> ApiResult<(Status, Json<StratumDto>)> {
    let b = body.0;
    let s = recruitment::add_stratum(state, &staff.0, slug, &b.question, &b.value, b.target, b.cap)
        .await?;
    Ok((Status::Created, Json(StratumDto::new(s, Funnel::default()))))
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/strata", tag = "recruitment",
    responses(
        (status = 200, description = "Strata with screened, eligible and consented counts", body = Vec<StratumDto>),
        StudyRead,
    )
)]
#[get("/studies/<slug>/strata")]
pub async fn list_strata(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
) -> ApiResult<Json<Vec<StratumDto>>> {
    let all = recruitment::strata(state, &staff.0, slug).await?;
    Ok(Json(all.into_iter().map(|(s, f)| StratumDto::new(s, f)).collect()))
}
