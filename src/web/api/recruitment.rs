//! Recruitment: ads and strata for coordinators; the public ad and enrolment.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, get, post, put};

use super::dto::{
    AdDto, AdInput, ContactDto, EnrolDto, EnrolInput, ErrorBody, EthicsRefDto, FunnelDto,
    PublicAdDto, PublicStudyDto, QuestionDto, QuestionnaireDto, StratumDto, StratumInput,
};
use crate::domain::recruitment::{Ad, AdDraft, Funnel};
use crate::service::AppState;
use crate::service::recruitment::{self, Enrolment};
use crate::web::api::responses::{MalformedBody, NoToken, NotCoordinator, NotYours, Refused};
use crate::web::errors::ApiResult;
use crate::web::guards::StaffUser;
use crate::web::json::JsonBody;

/// What an ineligible respondent is told: kind, and silent about the rule.
pub const NOT_ELIGIBLE: &str = "Thank you for your interest. From your answers, this study is not able to include you. Nothing you entered has been kept.";

fn ad_dto(state: &AppState, ad: &Ad, funnel: Funnel) -> AdDto {
    AdDto {
        code: ad.code.clone(),
        channel: ad.channel.as_str().to_string(),
        title: ad.title.clone(),
        body_markdown: ad.body_markdown.clone(),
        opens_at: crate::domain::audit::format_at(&ad.opens_at),
        closes_at: crate::domain::audit::format_at(&ad.closes_at),
        closed_at: ad.closed_at.as_ref().map(crate::domain::audit::format_at),
        open: ad.not_open(chrono::Utc::now()).is_none(),
        url: state.config.public_link(&format!("/ads/{}", ad.code)),
        views: ad.views,
        funnel: FunnelDto {
            screened: funnel.screened,
            eligible: funnel.eligible,
            consented: funnel.consented,
        },
    }
}

fn draft(b: &AdInput) -> Result<AdDraft, crate::domain::FieldErrors> {
    AdDraft::parse(&b.code, &b.channel, &b.title, &b.body_markdown, &b.opens_at, &b.closes_at)
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/ads", tag = "recruitment",
    params(("slug" = String, Path, description = "The study's slug", example = "social-media-med-ed")),
    request_body = AdInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The ad", body = AdDto),
        MalformedBody,
        NoToken,
        NotCoordinator,
        NotYours,
        (status = 409, description = "The code is taken, or the study is closed", body = ErrorBody),
        Refused,
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
    params(("slug" = String, Path, description = "The study's slug", example = "social-media-med-ed")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The study's ads with views, screened, eligible and consented", body = Vec<AdDto>),
        NoToken,
        NotYours,
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
    params(
        ("slug" = String, Path, description = "The study's slug", example = "social-media-med-ed"),
        ("code" = String, Path, description = "The ad's code", example = "moodle-mbbs"),
    ),
    request_body = AdInput,
    security(("bearer" = [])),
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
    params(
        ("slug" = String, Path, description = "The study's slug", example = "social-media-med-ed"),
        ("code" = String, Path, description = "The ad's code", example = "moodle-mbbs"),
    ),
    security(("bearer" = [])),
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
    get, path = "/api/v1/ads/{code}", tag = "recruitment",
    params(("code" = String, Path, description = "The ad's code", example = "moodle-mbbs")),
    responses(
        (status = 200, description = "The ad, its study and approval, and the screening questions", body = PublicAdDto),
        (status = 404, description = "No such ad", body = ErrorBody),
    )
)]
#[get("/ads/<code>")]
pub async fn public_ad(state: &State<AppState>, code: &str) -> ApiResult<Json<PublicAdDto>> {
    let p = recruitment::public_ad(state, code, true).await?;
    let s = &p.study;
    Ok(Json(PublicAdDto {
        code: p.ad.code.clone(),
        channel: p.ad.channel.as_str().to_string(),
        title: p.ad.title.clone(),
        body_markdown: p.ad.body_markdown.clone(),
        opens_at: crate::domain::audit::format_at(&p.ad.opens_at),
        closes_at: crate::domain::audit::format_at(&p.ad.closes_at),
        open: p.closed_because.is_none(),
        closed_reason: p.closed_because.clone(),
        study: PublicStudyDto {
            title: s.title.clone(),
            summary: s.summary.clone(),
            ethics: EthicsRefDto {
                committee: s.ethics.committee.clone(),
                reference: s.ethics.reference.clone(),
            },
            contact: ContactDto { name: s.contact_name.clone(), email: s.contact_email.clone() },
        },
        screening: p.screening.as_ref().map(|d| QuestionnaireDto {
            key: d.key.clone(),
            version: d.version,
            title: d.title.clone(),
            description: d.description.clone(),
            form_hash: d.form_hash.clone(),
            status: "not_started".into(),
            revision: 0,
            questions: d.questions.iter().map(QuestionDto::from).collect(),
            answers: serde_json::Map::new(),
        }),
    }))
}

#[utoipa::path(
    post, path = "/api/v1/ads/{code}/enrol", tag = "recruitment",
    params(("code" = String, Path, description = "The ad's code", example = "moodle-mbbs")),
    request_body = EnrolInput,
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
    match recruitment::enrol(state, code, &b.name, &b.email, &b.answers).await? {
        Enrolment::Enrolled { token, portal_url, .. } => Ok((
            Status::Created,
            Json(EnrolDto {
                eligible: true,
                participant_token: Some(token),
                portal_url: Some(portal_url),
                reason: None,
                sent: None,
            }),
        )),
        Enrolment::Sent => Ok((
            Status::Accepted,
            Json(EnrolDto {
                eligible: true,
                participant_token: None,
                portal_url: None,
                reason: None,
                sent: Some(true),
            }),
        )),
        Enrolment::Ineligible => Ok((
            Status::Ok,
            Json(EnrolDto {
                eligible: false,
                participant_token: None,
                portal_url: None,
                reason: Some(NOT_ELIGIBLE.into()),
                sent: None,
            }),
        )),
    }
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/strata", tag = "recruitment",
    params(("slug" = String, Path, description = "The study's slug", example = "social-media-med-ed")),
    request_body = StratumInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The stratum", body = StratumDto),
        MalformedBody,
        NoToken,
        NotCoordinator,
        NotYours,
        (status = 409, description = "That stratum exists already", body = ErrorBody),
        Refused,
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
    Ok((
        Status::Created,
        Json(StratumDto {
            question: s.question_key,
            value: s.value,
            target: s.target,
            cap: s.cap,
            screened: 0,
            eligible: 0,
            consented: 0,
        }),
    ))
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/strata", tag = "recruitment",
    params(("slug" = String, Path, description = "The study's slug", example = "social-media-med-ed")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Strata with screened, eligible and consented counts", body = Vec<StratumDto>),
        NoToken,
        NotYours,
    )
)]
#[get("/studies/<slug>/strata")]
pub async fn list_strata(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
) -> ApiResult<Json<Vec<StratumDto>>> {
    let all = recruitment::strata(state, &staff.0, slug).await?;
    Ok(Json(
        all.into_iter()
            .map(|(s, f)| StratumDto {
                question: s.question_key,
                value: s.value,
                target: s.target,
                cap: s.cap,
                screened: f.screened,
                eligible: f.eligible,
                consented: f.consented,
            })
            .collect(),
    ))
}
