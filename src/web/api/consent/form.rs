//! Consent-form versions of a study.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, get, post};

use crate::domain::consent::{ConsentFormDraft, ItemInput, ReviewInput};
use crate::service::AppState;
use crate::service::consent;
use crate::web::api::dto::{ApproveConsentForm, ConsentFormDto, CreateConsentForm, ErrorBody};
use crate::web::api::responses::{CoordinatorEdit, MalformedBody, NoToken, Refused, StudyRead};
use crate::web::errors::ApiResult;
use crate::web::guards::StaffUser;
use crate::web::json::JsonBody;

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/consent-forms", tag = "consent",
    request_body = CreateConsentForm,
    responses(
        (status = 201, description = "The draft, with its form hash. A version that exists in another language is a translation of it: the same items and questions, only the words differ", body = ConsentFormDto),
        CoordinatorEdit,
        (status = 409, description = "The version exists already in this language, it is superseded, or the study is closed", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/consent-forms", data = "<body>")]
pub async fn create(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    body: JsonBody<CreateConsentForm>,
) -> ApiResult<(Status, Json<ConsentFormDto>)> {
    let b = body.0;
    let items: Vec<ItemInput> = b
        .items
        .into_iter()
        .map(|i| ItemInput {
            key: i.key,
            text: i.text,
            required: i.required,
            governs: i.governs.unwrap_or_default(),
        })
        .collect();
    let review = ReviewInput {
        checks: b.checks.into_iter().map(Into::into).collect(),
        max_tries: b.max_tries,
    };
    let draft = ConsentFormDraft::parse(
        &b.version,
        &b.language,
        &b.title,
        &b.body_markdown,
        &items,
        &review,
    );
    let form = consent::form::draft(state, &staff.0, slug, draft).await?;
    Ok((Status::Created, Json(ConsentFormDto::from(&form))))
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/consent-forms", tag = "consent",
    responses(
        (status = 200, description = "Every version with its state, oldest first", body = Vec<ConsentFormDto>),
        StudyRead,
    )
)]
#[get("/studies/<slug>/consent-forms")]
pub async fn list(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
) -> ApiResult<Json<Vec<ConsentFormDto>>> {
    let forms = consent::form::list(state, &staff.0, slug).await?;
    Ok(Json(forms.iter().map(ConsentFormDto::from).collect()))
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/consent-forms/{version}", tag = "consent",
    params(("language" = Option<String>, Query, description = "That language's text of the version (default: the first drafted)")),
    responses(
        (status = 200, description = "The version, as participants see it", body = ConsentFormDto),
        NoToken,
        (status = 404, description = "No such study or version", body = ErrorBody),
    )
)]
#[get("/studies/<slug>/consent-forms/<version>?<language>")]
pub async fn get(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    version: &str,
    language: Option<&str>,
) -> ApiResult<Json<ConsentFormDto>> {
    let form = consent::form::get(state, &staff.0, slug, version, language).await?;
    Ok(Json(ConsentFormDto::from(&form)))
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/consent-forms/{version}/approve", tag = "consent",
    request_body = ApproveConsentForm,
    responses(
        (status = 200, description = "The text is active under the reference given; the previous active version (every language) is superseded, unless this text is a translation of the version in force; a reference not on record is recorded as an amendment", body = ConsentFormDto),
        MalformedBody,
        NoToken,
        (status = 403, description = "Not an ethics officer", body = ErrorBody),
        (status = 404, description = "No such study or version", body = ErrorBody),
        (status = 409, description = "Not a draft, or the study is closed", body = ErrorBody),
        (status = 410, description = "The study's ethics approval has expired", body = ErrorBody),
        Refused,
    )
)]
#[post("/studies/<slug>/consent-forms/<version>/approve", data = "<body>")]
pub async fn approve(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    version: &str,
    body: JsonBody<ApproveConsentForm>,
) -> ApiResult<Json<ConsentFormDto>> {
    let b = body.0;
    let form = consent::form::approve(
        state,
        &staff.0,
        slug,
        version,
        b.language.as_deref(),
        &b.approval_reference,
        &b.approved_on,
    )
    .await?;
    Ok(Json(ConsentFormDto::from(&form)))
}
