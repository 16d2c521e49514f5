//! The audit log and its verification, for ethics officers and admins.

use rocket::http::ContentType;
use rocket::serde::json::Json;
use rocket::{State, get};

use super::dto::{AuditEventDto, AuditPage, ErrorBody, VerifyDto};
use crate::domain::audit::chain_for;
use crate::error::AppError;
use crate::service::{Actor, AppState, audit};
use crate::web::api::responses::NoToken;
use crate::web::download::Download;
use crate::web::errors::ApiResult;
use crate::web::guards::AuditReader;

const MAX_LIMIT: u64 = 1000;

#[utoipa::path(
    get, path = "/api/v1/audit", tag = "audit",
    params(
        ("study" = Option<String>, Query, description = "A study's slug; without it, the system chain"),
        ("after" = Option<i64>, Query, description = "Only events after this sequence number (default 0)"),
        ("limit" = Option<u64>, Query, description = "At most this many events, 1 to 1000 (default 100)"),
    ),
    responses(
        (status = 200, description = "Events in chain order", body = AuditPage),
        NoToken,
        (status = 403, description = "Not an ethics officer or admin", body = ErrorBody),
        (status = 404, description = "No such study", body = ErrorBody),
        (status = 422, description = "A parameter is out of range", body = ErrorBody),
    )
)]
#[get("/audit?<study>&<after>&<limit>")]
pub async fn events(
    state: &State<AppState>,
    reader: AuditReader,
    study: Option<&str>,
    after: Option<&str>,
    limit: Option<&str>,
) -> ApiResult<Json<AuditPage>> {
    let after = match after.map(str::parse::<i64>) {
        None => 0,
        Some(Ok(n)) if n >= 0 => n,
        Some(_) => {
            return Err(AppError::field(
                "after",
                "out_of_range",
                "after must be a whole number, 0 or more.",
            )
            .into());
        }
    };
    let limit = match limit.map(str::parse::<u64>) {
        None => 100,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            return Err(AppError::field(
                "limit",
                "out_of_range",
                "limit must be a whole number from 1 to 1000.",
            )
            .into());
        }
    };
    let events = audit::events(state, &reader.0, study, after, limit).await?;
    let next_after = (events.len() as u64 == limit).then(|| events.last().map(|e| e.seq)).flatten();
    Ok(Json(AuditPage {
        chain: chain_for(study),
        events: events.iter().map(AuditEventDto::from).collect(),
        next_after,
    }))
}

#[utoipa::path(
    get, path = "/api/v1/audit/verify", tag = "audit",
    responses(
        (status = 200, description = "Every chain recomputed; `ok` false names the first bad event", body = VerifyDto),
        NoToken,
        (status = 403, description = "Not an ethics officer or admin", body = ErrorBody),
    )
)]
#[get("/audit/verify")]
pub async fn verify(state: &State<AppState>, reader: AuditReader) -> ApiResult<Json<VerifyDto>> {
    Ok(Json(VerifyDto::from(audit::verify(state, &reader.0).await?)))
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/audit-pack", tag = "audit",
    params(("participant" = Option<String>, Query, description = "Only this participant's consents (their code)", example = "P001")),
    responses(
        (status = 200, description = "A ZIP to check offline with the public key: every signed PDF, the receipts, the study's chain (events.jsonl), the signed checkpoints covering it, the public key, VERIFY.md and a one-page summary; the download is audited", content_type = "application/zip", body = Vec<u8>),
        NoToken,
        (status = 403, description = "Not an ethics officer or admin", body = ErrorBody),
        (status = 404, description = "No such study, or no such participant in it", body = ErrorBody),
    )
)]
#[get("/studies/<slug>/audit-pack?<participant>")]
pub async fn pack(
    state: &State<AppState>,
    reader: AuditReader,
    slug: &str,
    participant: Option<&str>,
) -> ApiResult<Download> {
    let pack = audit::pack(state, Actor::Staff(&reader.0), slug, participant).await?;
    Ok(Download::new(ContentType::ZIP, pack.file_name, pack.zip))
}
