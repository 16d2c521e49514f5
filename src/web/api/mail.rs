//! `GET /api/v1/outbox`: queued and sent mail.

use rocket::serde::json::Json;
use rocket::{State, get};

use super::dto::{ErrorBody, MailDto};
use crate::domain::audit::format_at;
use crate::service::{AppState, mail};
use crate::web::api::responses::NoToken;
use crate::web::errors::ApiResult;
use crate::web::guards::StaffUser;

#[utoipa::path(
    get, path = "/api/v1/outbox", tag = "mail",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The newest 200 messages (admins: all; coordinators: their studies')", body = Vec<MailDto>),
        NoToken,
        (status = 403, description = "Neither admin nor coordinator", body = ErrorBody),
    )
)]
#[get("/outbox")]
pub async fn list(state: &State<AppState>, staff: StaffUser) -> ApiResult<Json<Vec<MailDto>>> {
    let mail = mail::list(state, &staff.0, 200).await?;
    Ok(Json(
        mail.into_iter()
            .map(|m| MailDto {
                id: m.id,
                kind: m.message.kind.to_string(),
                to: m.message.to,
                subject: m.message.subject,
                body: m.message.body,
                attachment: m.message.attachment.map(|a| a.name),
                status: m.status.as_str().to_string(),
                attempts: m.attempts,
                created_at: format_at(&m.created_at),
                due_at: format_at(&m.due_at),
                sent_at: m.sent_at.as_ref().map(format_at),
            })
            .collect(),
    ))
}
