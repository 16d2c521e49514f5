//! Conflicts a facilitator declares with a participant they should not run a session with.

use super::*;
pub use crate::store::focus_group::StoredConflict as Conflict;

/// A facilitator (or coordinator) declares that they should not facilitate a
/// session with this participant; the planner and `add_member` respect it.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn declare_conflict(
    state: &AppState,
    user: &User,
    slug: &str,
    code: &str,
) -> AppResult<()> {
    let tx = state.db.begin_write().await?;
    let (study, _) = runs_sessions(tx.conn(), user, slug).await?;
    let participant = participant_by_code(tx.conn(), &study, code).await?;
    store::focus_group::add_conflict(tx.conn(), study.id, user.id, participant.id, Utc::now())
        .await?;
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "focus_group.conflict_declared", "participant", participant.id)
            .in_study(&study.slug)
            .with(json!({"participant_code": participant.code})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The declared conflicts: all of the study's for coordinators, a facilitator's own.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn conflicts(state: &AppState, user: &User, slug: &str) -> AppResult<Vec<Conflict>> {
    let (study, capacity) = runs_sessions(state.db.conn(), user, slug).await?;
    let only = (capacity == Capacity::Facilitator).then_some(user.id);
    store::focus_group::conflicts_listed(state.db.conn(), study.id, only).await
}

/// Withdraws one's own declared conflict with a participant (404 when there is none).
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn withdraw_conflict(
    state: &AppState,
    user: &User,
    slug: &str,
    code: &str,
) -> AppResult<()> {
    let tx = state.db.begin_write().await?;
    let (study, _) = runs_sessions(tx.conn(), user, slug).await?;
    let participant = participant_by_code(tx.conn(), &study, code).await?;
    if !store::focus_group::remove_conflict(tx.conn(), user.id, participant.id).await? {
        return Err(AppError::NotFound);
    }
    audit::record(
        tx.conn(),
        NewEvent::new(
            user.actor(),
            "focus_group.conflict_withdrawn",
            "participant",
            participant.id,
        )
        .in_study(&study.slug)
        .with(json!({"participant_code": participant.code})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
