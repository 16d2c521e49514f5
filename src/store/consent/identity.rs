//! One-time identity codes, one row per participant, stored as hashes.

use sea_orm::{ActiveModelTrait, EntityTrait, Set};

use crate::domain::consent::identity::CodeState;
use crate::error::AppError;
use crate::store::Conn;
use crate::store::entity::identity_codes;

pub async fn get(db: &impl Conn, participant_id: i64) -> Result<Option<CodeState>, AppError> {
    Ok(identity_codes::Entity::find_by_id(participant_id).one(db).await?.map(|m| CodeState {
        code_hash: m.code_hash,
        expires_at: m.expires_at,
        attempts: m.attempts,
        sent_in_window: m.sent_in_window,
        window_start: m.window_start,
        verified_at: m.verified_at,
    }))
}

pub async fn put(db: &impl Conn, participant_id: i64, state: &CodeState) -> Result<(), AppError> {
    let model = identity_codes::ActiveModel {
        participant_id: Set(participant_id),
        code_hash: Set(state.code_hash.clone()),
        expires_at: Set(state.expires_at),
        attempts: Set(state.attempts),
        sent_in_window: Set(state.sent_in_window),
        window_start: Set(state.window_start),
        verified_at: Set(state.verified_at),
    };
    if identity_codes::Entity::find_by_id(participant_id).one(db).await?.is_some() {
        model.update(db).await?;
    } else {
        model.insert(db).await?;
    }
    Ok(())
}
