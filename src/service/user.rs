//! Staff accounts.

use chrono::Utc;
use serde_json::json;

use super::{Actor, AppState};
use crate::audit;
use crate::domain::audit::NewEvent;
use crate::domain::user::{NewUser, PASSWORD_LINK_HOURS, Role, TokenKind, User};
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

fn require_admin(actor: &User, what: &str) -> AppResult<()> {
    if actor.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("Only an admin can {what}.")))
    }
}

/// Issues a password link for `user` (earlier unused ones stop working), queues it
/// to their address, and audits it; in the caller's transaction.
async fn password_link(
    state: &AppState,
    db: &impl crate::store::Conn,
    actor: &User,
    user: &User,
    new_account: bool,
) -> AppResult<()> {
    let now = Utc::now();
    store::auth::token::revoke_kind(db, user.id, TokenKind::PasswordReset, now).await?;
    let (token, hash) = super::auth::new_token(super::auth::STAFF_TOKEN_PREFIX);
    let expires = now + chrono::Duration::hours(PASSWORD_LINK_HOURS);
    store::auth::token::insert(db, &hash, TokenKind::PasswordReset, user.id, now, expires).await?;
    let link = state.config.public_link(&format!("/staff/password/{token}"));
    let message = crate::mail::compose::password_link(
        &user.email,
        &user.name,
        &link,
        PASSWORD_LINK_HOURS,
        new_account,
    );
    crate::mail::enqueue(db, state.keys()?, &message).await?;
    audit::record(
        db,
        NewEvent::new(actor.actor(), "user.password_link_sent", "user", user.id)
            .with(json!({"expires_at": expires.to_rfc3339()})),
    )
    .await?;
    Ok(())
}

/// An admin makes an account without choosing its password: its owner is mailed a
/// one-time link to set one, so nobody else ever knows it.
#[tracing::instrument(skip_all)]
pub async fn invite(
    state: &AppState,
    admin: &User,
    email: &str,
    name: &str,
    role: &str,
) -> AppResult<User> {
    require_admin(admin, "create staff accounts")?;
    // A password nobody knows until the owner sets theirs.
    let (unknown, _) = super::auth::new_token("unset-");
    let new = NewUser::parse(email, name, role, &unknown)?;
    let password_hash = super::auth::hash_password(&unknown)?;
    let tx = state.db.begin_write().await?;
    let user = store::user::insert(tx.conn(), &new, &password_hash, Utc::now()).await?;
    audit::record(
        tx.conn(),
        NewEvent::new(admin.actor(), "user.created", "user", user.id)
            .with(json!({"role": user.role})),
    )
    .await?;
    password_link(state, tx.conn(), admin, &user, true).await?;
    tx.commit().await?;
    tracing::info!(user_id = user.id, role = %user.role, "staff account created, password link sent");
    Ok(user)
}

/// An admin sends an account's owner a new one-time password link. The password in
/// use keeps working until the link is used.
#[tracing::instrument(skip_all)]
pub async fn send_password_link(state: &AppState, admin: &User, id: i64) -> AppResult<User> {
    require_admin(admin, "reset passwords")?;
    let tx = state.db.begin_write().await?;
    let user = store::user::find_by_id(tx.conn(), id).await?.ok_or(AppError::NotFound)?;
    if !user.active {
        return Err(AppError::Conflict(
            "This account is switched off: switch it on before sending a password link.".into(),
        ));
    }
    password_link(state, tx.conn(), admin, &user, false).await?;
    tx.commit().await?;
    Ok(user)
}

/// The account a live password link belongs to, if it is live.
pub async fn password_link_holder(state: &AppState, token: &str) -> AppResult<Option<User>> {
    super::auth::authenticate(state, token, TokenKind::PasswordReset).await
}

/// Sets the password through a one-time link: the link is used up, and every
/// session and token of the account ends.
#[tracing::instrument(skip_all)]
pub async fn set_password(
    state: &AppState,
    token: &str,
    password: &str,
    again: &str,
) -> AppResult<User> {
    let Some(user) = password_link_holder(state, token).await? else {
        return Err(AppError::Gone(
            "This link has been used or has expired; ask your administrator for a new one.".into(),
        ));
    };
    let local = user.email.split('@').next().unwrap_or_default();
    let mut about = vec![user.email.as_str(), local, user.name.as_str()];
    about.extend(user.name.split_whitespace());
    let mut errors = crate::domain::FieldErrors::new();
    errors.take("password", crate::domain::user::check_password(password, &about));
    if password != again {
        errors.add("again", "mismatch", "The two passwords are not the same.");
    }
    errors.into_result()?;
    let password_hash = super::auth::hash_password(password)?;
    let tx = state.db.begin_write().await?;
    store::user::set_password(tx.conn(), user.id, &password_hash).await?;
    let ended = store::auth::token::revoke_all(tx.conn(), user.id, Utc::now()).await?;
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "user.password_set", "user", user.id)
            .with(json!({"sessions_ended": ended.saturating_sub(1)})),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}
