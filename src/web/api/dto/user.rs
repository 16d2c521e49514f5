//! Staff accounts.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::user::User;

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct CreateUser {
    pub email: String,
    pub name: String,
    /// `admin`, `coordinator`, `facilitator` or `ethics_officer`.
    pub role: String,
    /// At least 12 characters.
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserDto {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    /// False once an admin has switched the account off: it cannot sign in.
    pub active: bool,
}

/// What an admin changes on a staff account.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ChangeUser {
    /// Switch the account on or off; off also ends every token and session.
    #[schema(nullable = false)]
    pub active: Option<bool>,
    /// End every token and session of the account now.
    pub revoke_tokens: bool,
}

impl From<&User> for UserDto {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role.as_str().to_string(),
            active: u.active,
        }
    }
}
