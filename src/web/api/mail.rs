//! `GET /api/v1/outbox`: queued and sent mail.

use rocket::serde::json::Json;
use rocket::{State, get};

use super::dto::{ErrorBody, MailDto};
use crate::service::{AppState, mail};
use crate::web::api::responses::NoToken;
use crate::web::errors::ApiResult;
use crate::web::guards::StaffUser;

#[utoipa::path(
    get, path = "/api/v1/outbox", tag = "mail",
    responses(
        (status = 200, description = "The newest 200 messages (admins: all; coordinators: their studies')", body = Vec<MailDto>),
        NoToken,
        (status = 403, description = "Neither admin nor coordinator", body = ErrorBody),
    )
)]
#[get("/outbox")]
pub async fn list(state: &State<AppState>, staff: StaffUser) -> ApiResult<Json<Vec<MailDto>>> {
    let mail = mail::list(state, &staff.0, 200).await?;
    Ok(Json(mail.into_iter().map(MailDto::from).collect()))
}
