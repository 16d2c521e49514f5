//! `POST /api/v1/auth/token`: a staff bearer token for an e-mail address and
//! password; `DELETE /api/v1/auth/token`: that token revoked.

use chrono::SecondsFormat;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, delete, post};

use super::dto::{ErrorBody, TokenRequest, TokenResponse};
use crate::domain::FieldErrors;
use crate::domain::user::TokenKind;
use crate::service::{AppState, auth};
use crate::web::api::responses::{MalformedBody, NoToken};
use crate::web::errors::ApiResult;
use crate::web::guards::{ClientAddr, StaffToken};
use crate::web::json::JsonBody;

#[utoipa::path(
    post, path = "/api/v1/auth/token", tag = "auth",
    request_body = TokenRequest,
    security(()),
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        MalformedBody,
        (status = 401, description = "Wrong e-mail address or password", body = ErrorBody),
        (status = 422, description = "A field is missing", body = ErrorBody),
        (status = 429, description = "Too many failed attempts", body = ErrorBody),
    )
)]
#[post("/auth/token", data = "<body>")]
pub async fn token(
    state: &State<AppState>,
    addr: ClientAddr,
    body: JsonBody<TokenRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let body = body.0;
    let mut errors = FieldErrors::new();
    if body.email.trim().is_empty() {
        errors.add("email", "required", "E-mail address is required.");
    }
    if body.password.is_empty() {
        errors.add("password", "required", "Password is required.");
    }
    errors.into_result()?;
    let user = auth::check_credentials(state, &body.email, &body.password, addr.0).await?;
    let (token, expires_at) = auth::issue_token(state, &user, TokenKind::Api).await?;
    Ok(Json(TokenResponse {
        token,
        role: user.role.as_str().to_string(),
        expires_at: expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
    }))
}

#[utoipa::path(
    delete, path = "/api/v1/auth/token", tag = "auth",
    responses(
        (status = 204, description = "The token presented is revoked"),
        NoToken,
    )
)]
#[delete("/auth/token")]
pub async fn revoke(state: &State<AppState>, me: StaffToken) -> ApiResult<Status> {
    auth::sign_out(state, &me.user, &me.token).await?;
    Ok(Status::NoContent)
}
