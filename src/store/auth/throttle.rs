//! Counted events that slow someone down (failed sign-ins, link requests), kept in
//! the database so that every instance on it shares the counts. Old events are
//! pruned by whoever records a new one.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use crate::error::AppError;
use crate::store::Conn;
use crate::store::entity::throttle_events;

/// How many events of `scope` for `key` happened after `since`.
pub async fn count(
    db: &impl Conn,
    scope: &str,
    key: &str,
    since: DateTime<Utc>,
) -> Result<u64, AppError> {
    Ok(throttle_events::Entity::find()
        .filter(throttle_events::Column::Scope.eq(scope))
        .filter(throttle_events::Column::Key.eq(key))
        .filter(throttle_events::Column::At.gt(since))
        .count(db)
        .await?)
}

pub async fn record(
    db: &impl Conn,
    scope: &str,
    key: &str,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    throttle_events::ActiveModel {
        scope: Set(scope.to_string()),
        key: Set(key.to_string()),
        at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Forgets the events of `scope` for `key` (a successful sign-in from that address).
pub async fn clear(db: &impl Conn, scope: &str, key: &str) -> Result<(), AppError> {
    throttle_events::Entity::delete_many()
        .filter(throttle_events::Column::Scope.eq(scope))
        .filter(throttle_events::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes every event at or before `before`.
pub async fn prune(db: &impl Conn, before: DateTime<Utc>) -> Result<u64, AppError> {
    Ok(throttle_events::Entity::delete_many()
        .filter(throttle_events::Column::At.lte(before))
        .exec(db)
        .await?
        .rows_affected)
}
