//! The participant's side: the sessions they could attend, their availability step and their booking.

use super::*;

/// An upcoming session as a participant sees it when saying when they can come.
#[derive(Debug, Clone)]
pub struct Choice {
    pub group: FocusGroup,
    pub chosen: bool,
}

/// Whether a participant is someone to ask for availability: consented, not
/// withdrawn.
fn may_give_availability(p: &Participant) -> AppResult<()> {
    if p.withdrawal.is_some() {
        return Err(AppError::Conflict("You have withdrawn from this study.".into()));
    }
    if p.code.is_none() {
        return Err(AppError::Conflict(
            "Please give your consent first; then you can say when you can attend.".into(),
        ));
    }
    Ok(())
}

async fn upcoming(db: &impl Conn, study_id: i64, now: DateTime<Utc>) -> AppResult<Vec<FocusGroup>> {
    Ok(store::focus_group::of_study(db, study_id, None)
        .await?
        .into_iter()
        .filter(|g| g.upcoming(now))
        .collect())
}

/// The upcoming sessions of the participant's study, marking those they chose.
#[tracing::instrument(skip_all)]
pub async fn availability(state: &AppState, participant: &Participant) -> AppResult<Vec<Choice>> {
    let chosen: BTreeSet<i64> = store::focus_group::availability(state.db.conn(), participant.id)
        .await?
        .into_iter()
        .collect();
    Ok(upcoming(state.db.conn(), participant.study_id, Utc::now())
        .await?
        .into_iter()
        .map(|g| Choice { chosen: chosen.contains(&g.id), group: g })
        .collect())
}

/// Replaces the participant's availability. Every id must be an upcoming session
/// of their study (422 on `slots` naming those that are not).
#[tracing::instrument(skip_all)]
pub async fn set_availability(
    state: &AppState,
    participant: &Participant,
    slots: &[i64],
) -> AppResult<Vec<Choice>> {
    may_give_availability(participant)?;
    let tx = state.db.begin_write().await?;
    let fresh =
        store::participant::find(tx.conn(), participant.id).await?.ok_or(AppError::NotFound)?;
    may_give_availability(&fresh)?;
    let open: BTreeSet<i64> =
        upcoming(tx.conn(), participant.study_id, Utc::now()).await?.iter().map(|g| g.id).collect();
    let unknown: Vec<String> =
        slots.iter().filter(|s| !open.contains(s)).map(|s| s.to_string()).collect();
    if !unknown.is_empty() {
        return Err(AppError::field(
            "slots",
            "unknown_slot",
            format!("These are not upcoming focus groups of your study: {}.", unknown.join(", ")),
        ));
    }
    let chosen: BTreeSet<i64> = slots.iter().copied().collect();
    store::focus_group::set_availability(tx.conn(), participant.id, &chosen).await?;
    let study = store::study::find_by_id(tx.conn(), participant.study_id)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record(
        tx.conn(),
        NewEvent::new(participant.actor(), "availability.given", "participant", participant.id)
            .in_study(&study.slug)
            .with(json!({"slots": chosen})),
    )
    .await?;
    tx.commit().await?;
    availability(state, participant).await
}

/// The portal's availability step: shown to a consented participant while the
/// study has upcoming sessions, done once they chose any or were placed in one
/// (`placed`: their session, as `booking` found it).
#[tracing::instrument(skip_all)]
pub async fn steps(
    state: &AppState,
    participant: &Participant,
    placed: Option<&FocusGroup>,
) -> AppResult<Vec<NextStep>> {
    if may_give_availability(participant).is_err() {
        return Ok(Vec::new());
    }
    let db = state.db.conn();
    if placed.is_none()
        && !store::focus_group::any_upcoming(db, participant.study_id, Utc::now()).await?
    {
        return Ok(Vec::new());
    }
    let given = !store::focus_group::availability(db, participant.id).await?.is_empty();
    Ok(vec![NextStep::new("availability", given || placed.is_some(), None)])
}

/// The session a participant is booked into, if any (none once they withdrew).
#[tracing::instrument(skip_all)]
pub async fn booking(state: &AppState, participant: &Participant) -> AppResult<Option<FocusGroup>> {
    if participant.withdrawal.is_some() {
        return Ok(None);
    }
    store::focus_group::group_of(state.db.conn(), participant.study_id, participant.id).await
}
