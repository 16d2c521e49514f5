//! Staff bearer tokens and browser sessions, stored only as SHA-256 hashes.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::domain::user::{TokenKind, User};
use crate::error::AppError;
use crate::store::Conn;
use crate::store::entity::staff_tokens;

pub async fn insert(
    db: &impl Conn,
    token_hash: &str,
    kind: TokenKind,
    user_id: i64,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), AppError> {
    staff_tokens::ActiveModel {
        token_hash: Set(token_hash.to_string()),
        kind: Set(kind.as_str().to_string()),
        user_id: Set(user_id),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The active account behind a live, unrevoked token of this kind.
pub async fn find_user(
    db: &impl Conn,
    token_hash: &str,
    kind: TokenKind,
    now: DateTime<Utc>,
) -> Result<Option<User>, AppError> {
    let token = staff_tokens::Entity::find()
        .filter(staff_tokens::Column::TokenHash.eq(token_hash))
        .filter(staff_tokens::Column::Kind.eq(kind.as_str()))
        .filter(staff_tokens::Column::RevokedAt.is_null())
        .filter(staff_tokens::Column::ExpiresAt.gt(now))
        .one(db)
        .await?;
    let Some(token) = token else { return Ok(None) };
    let user = crate::store::user::find_by_id(db, token.user_id).await?;
    Ok(user.filter(|u| u.active))
}

pub async fn revoke(db: &impl Conn, token_hash: &str, now: DateTime<Utc>) -> Result<(), AppError> {
    staff_tokens::Entity::update_many()
        .col_expr(staff_tokens::Column::RevokedAt, Expr::value(now))
        .filter(staff_tokens::Column::TokenHash.eq(token_hash))
        .filter(staff_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Revokes every live token and browser session of an account; returns how many.
pub async fn revoke_all(db: &impl Conn, user_id: i64, now: DateTime<Utc>) -> Result<u64, AppError> {
    Ok(staff_tokens::Entity::update_many()
        .col_expr(staff_tokens::Column::RevokedAt, Expr::value(now))
        .filter(staff_tokens::Column::UserId.eq(user_id))
        .filter(staff_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Revokes an account's live tokens of one kind (its earlier password links).
pub async fn revoke_kind(
    db: &impl Conn,
    user_id: i64,
    kind: TokenKind,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    Ok(staff_tokens::Entity::update_many()
        .col_expr(staff_tokens::Column::RevokedAt, Expr::value(now))
        .filter(staff_tokens::Column::UserId.eq(user_id))
        .filter(staff_tokens::Column::Kind.eq(kind.as_str()))
        .filter(staff_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}
