//! Staff accounts.

use chrono::Utc;
use serde_json::json;

use super::{Actor, AppState};
use crate::audit;
use crate::domain::audit::NewEvent;
use crate::domain::user::{NewUser, Role, User};
use crate::error::{AppError, AppResult};
use crate::store;

/// Creates a staff account. Only admins (or the server's command line) may.
pub async fn create(state: &AppState, actor: Actor<'_>, new: NewUser) -> AppResult<User> {
    if let Actor::Staff(u) = actor
        && u.role != Role::Admin
    {
        return Err(AppError::Forbidden("Only an admin can create staff accounts.".into()));
    }
    let password_hash = super::auth::hash_password(&new.password)?;
    let tx = state.db.begin_write().await?;
    let user = store::users::insert(tx.conn(), &new, &password_hash, Utc::now()).await?;
    audit::record(
        tx.conn(),
        NewEvent::new(actor.audit_name(), "user.created", "user", user.id)
            .with(json!({"role": user.role})),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = user.id, role = %user.role, "staff account created");
    Ok(user)
}

pub async fn list(state: &AppState, actor: &User) -> AppResult<Vec<User>> {
    if actor.role != Role::Admin {
        return Err(AppError::Forbidden("Only an admin can list staff accounts.".into()));
    }
    store::users::list(state.db.conn()).await
}
