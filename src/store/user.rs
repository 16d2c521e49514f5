//! Staff accounts.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::entity::users;
use super::{Conn, decode};
use crate::domain::user::{Email, NewUser, Role, User};
use crate::error::AppError;

pub(super) fn to_domain(m: users::Model) -> Result<User, AppError> {
    Ok(User {
        id: m.id,
        role: decode::<Role>("role", &m.role)?,
        email: m.email,
        name: m.name,
        active: m.active,
    })
}

pub async fn insert(
    db: &impl Conn,
    new: &NewUser,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<User, AppError> {
    let model = users::ActiveModel {
        email: Set(new.email.as_str().to_string()),
        name: Set(new.name.clone()),
        role: Set(new.role.as_str().to_string()),
        password_hash: Set(password_hash.to_string()),
        active: Set(true),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(super::taken(|| {
        AppError::field(
            "email",
            "taken",
            "A staff account with this e-mail address exists already.",
        )
    }))?;
    to_domain(model)
}

/// The account and its password hash, for signing in.
pub async fn find_for_login(
    db: &impl Conn,
    email: &Email,
) -> Result<Option<(User, String)>, AppError> {
    let found =
        users::Entity::find().filter(users::Column::Email.eq(email.as_str())).one(db).await?;
    found
        .map(|m| {
            let hash = m.password_hash.clone();
            to_domain(m).map(|u| (u, hash))
        })
        .transpose()
}

pub async fn find_by_email(db: &impl Conn, email: &Email) -> Result<Option<User>, AppError> {
    Ok(find_for_login(db, email).await?.map(|(u, _)| u))
}

pub async fn find_by_id(db: &impl Conn, id: i64) -> Result<Option<User>, AppError> {
    users::Entity::find_by_id(id).one(db).await?.map(to_domain).transpose()
}

pub async fn list(db: &impl Conn) -> Result<Vec<User>, AppError> {
    users::Entity::find()
        .order_by_asc(users::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect()
}

/// Switches an account on or off.
pub async fn set_active(db: &impl Conn, id: i64, active: bool) -> Result<(), AppError> {
    users::Entity::update_many()
        .col_expr(users::Column::Active, sea_orm::sea_query::Expr::value(active))
        .filter(users::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The accounts with these ids, by id (an id with no account is left out).
pub(crate) async fn models_by_id(
    db: &impl Conn,
    ids: impl IntoIterator<Item = i64>,
) -> Result<BTreeMap<i64, users::Model>, AppError> {
    let ids: Vec<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    Ok(users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect())
}

pub async fn count(db: &impl Conn) -> Result<u64, AppError> {
    Ok(users::Entity::find().count(db).await?)
}

/// Replaces an account's password hash.
pub async fn set_password(db: &impl Conn, id: i64, password_hash: &str) -> Result<(), AppError> {
    users::Entity::update_many()
        .col_expr(users::Column::PasswordHash, sea_orm::sea_query::Expr::value(password_hash))
        .filter(users::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
