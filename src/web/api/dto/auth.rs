//! Signing in.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(default)]
#[derive(Default)]
pub struct TokenRequest {
    pub email: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// A bearer token starting `cst_`; shown once.
    pub token: String,
    pub role: String,
    pub expires_at: String,
}
