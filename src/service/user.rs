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
#[tracing::instrument(skip_all)]
pub async fn create(state: &AppState, actor: Actor<'_>, new: NewUser) -> AppResult<User> {
    if let Actor::Staff(u) = actor
        && u.role != Role::Admin
    {
        return Err(AppError::Forbidden("Only an admin can create staff accounts.".into()));
    }
    let password_hash = super::auth::hash_password(&new.password)?;
    let tx = state.db.begin_write().await?;
    let user = store::user::insert(tx.conn(), &new, &password_hash, Utc::now()).await?;
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

#[tracing::instrument(skip_all)]
pub async fn list(state: &AppState, actor: &User) -> AppResult<Vec<User>> {
    if actor.role != Role::Admin {
        return Err(AppError::Forbidden("Only an admin can list staff accounts.".into()));
    }
    store::user::list(state.db.conn()).await
}

/// What an admin changes on an account; `None` and `false` leave things as they are.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccountChange {
    /// Switch the account on or off; switching it off also ends every token and session.
    pub active: Option<bool>,
    /// End every token and session now (a lost laptop, a leaked token).
    pub revoke_tokens: bool,
}

/// Changes an account (admins only; nobody switches off their own account). Each
/// change is audited: `user.deactivated`, `user.activated`, `user.tokens_revoked`.
#[tracing::instrument(skip_all)]
pub async fn change(
    state: &AppState,
    actor: Actor<'_>,
    id: i64,
    change: AccountChange,
) -> AppResult<User> {
    if let Actor::Staff(u) = actor
        && u.role != Role::Admin
    {
        return Err(AppError::Forbidden("Only an admin can change staff accounts.".into()));
    }
    let tx = state.db.begin_write().await?;
    let user = store::user::find_by_id(tx.conn(), id).await?.ok_or(AppError::NotFound)?;
    if let (Actor::Staff(me), Some(false)) = (actor.clone(), change.active)
        && me.id == user.id
    {
        return Err(AppError::Conflict(
            "You cannot switch off your own account; ask another admin.".into(),
        ));
    }
    let now = Utc::now();
    let mut events = Vec::new();
    if let Some(active) = change.active
        && active != user.active
    {
        store::user::set_active(tx.conn(), id, active).await?;
        events.push((if active { "user.activated" } else { "user.deactivated" }, json!({})));
    }
    if change.revoke_tokens || change.active == Some(false) {
        let revoked = store::auth::token::revoke_all(tx.conn(), id, now).await?;
        events.push(("user.tokens_revoked", json!({"revoked": revoked})));
    }
    for (action, details) in events {
        audit::record(
            tx.conn(),
            NewEvent::new(actor.audit_name(), action, "user", id).with(details),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(User { active: change.active.unwrap_or(user.active), ..user })
}
