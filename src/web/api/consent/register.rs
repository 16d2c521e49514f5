//! The consent register and signed PDFs, for coordinators and ethics officers.

use rocket::http::ContentType;
use rocket::serde::json::Json;
use rocket::{State, get};

use crate::service::{AppState, consent};
use crate::web::api::dto::{ErrorBody, ReconsentDueDto, RegisterEntryDto};
use crate::web::api::responses::{NoToken, StudyRead};
use crate::web::errors::ApiResult;
use crate::web::guards::StaffUser;

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/consents", tag = "consent",
    responses(
        (status = 200, description = "Every signed consent, in signing order (reading it is audited)", body = Vec<RegisterEntryDto>),
        StudyRead,
        (status = 403, description = "Facilitators do not read the register", body = ErrorBody),
    )
)]
#[get("/studies/<slug>/consents")]
pub async fn register(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
) -> ApiResult<Json<Vec<RegisterEntryDto>>> {
    let entries = consent::register(state, &staff.0, slug).await?;
    Ok(Json(entries.into_iter().map(|e| RegisterEntryDto::new(slug, e)).collect()))
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/consents/{consent_id}/pdf", tag = "consent",
    responses(
        (status = 200, description = "The signed PDF as stored at signing (reading it is audited)", content_type = "application/pdf", body = Vec<u8>),
        NoToken,
        (status = 403, description = "Facilitators do not read signed consents", body = ErrorBody),
        (status = 404, description = "No such study or consent", body = ErrorBody),
    )
)]
#[get("/studies/<slug>/consents/<consent_id>/pdf")]
pub async fn pdf(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    consent_id: &str,
) -> ApiResult<(ContentType, Vec<u8>)> {
    let bytes = consent::staff_pdf(
        state,
        &staff.0,
        slug,
        consent_id.parse().map_err(|_| crate::error::AppError::NotFound)?,
    )
    .await?;
    Ok((ContentType::PDF, bytes))
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/reconsent", tag = "consent",
    responses(
        (status = 200, description = "Participants whose consent is to a superseded version", body = Vec<ReconsentDueDto>),
        StudyRead,
        (status = 403, description = "Facilitators do not read consents", body = ErrorBody),
    )
)]
#[get("/studies/<slug>/reconsent")]
pub async fn reconsent(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
) -> ApiResult<Json<Vec<ReconsentDueDto>>> {
    let due = consent::reconsent_due(state, &staff.0, slug).await?;
    Ok(Json(due.into_iter().map(ReconsentDueDto::from).collect()))
}
