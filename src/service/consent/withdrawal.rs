//! Withdrawal: the consent record stays; the participant leaves their sessions and `withdraw_data` takes their answers out of results.

use super::*;

/// Withdraws a participant. The consent record stays; `withdraw_data` excludes their
/// answers from reports and exports from now on.
#[tracing::instrument(skip_all)]
pub async fn withdraw(
    state: &AppState,
    participant: &Participant,
    scope: &str,
    reason: Option<&str>,
) -> AppResult<Participant> {
    let scope: WithdrawalScope =
        scope.parse().map_err(|e: crate::domain::fields::FieldError| {
            AppError::field("scope", e.code, e.message)
        })?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 2000) {
        return Err(AppError::field(
            "reason",
            "too_long",
            "Reason must be at most 2000 characters.",
        ));
    }
    let tx = state.db.begin_write().await?;
    let (participant, study) = reload(tx.conn(), participant).await?;
    if participant.withdrawal.is_some() {
        return Err(AppError::Conflict("You have withdrawn from this study already.".into()));
    }
    let now = Utc::now();
    store::participant::withdraw(tx.conn(), participant.id, scope, reason, now).await?;
    let contact = store::participant::contact(tx.conn(), participant.id).await?;
    let (left_sessions, calendar) = crate::service::focus_group::on_withdrawal(
        state,
        tx.conn(),
        &study,
        participant.id,
        contact.as_ref().map(|(name, email)| (name.as_str(), email.as_str())),
    )
    .await?;
    if let Some((_, email)) = contact {
        let message = crate::mail::compose::withdrawal(&study, &email, scope, calendar);
        crate::mail::enqueue(tx.conn(), state.keys()?, &message).await?;
    }
    audit::record(
        tx.conn(),
        NewEvent::new(participant.actor(), "participant.withdrew", "participant", participant.id)
            .in_study(&study.slug)
            .with(json!({
                "scope": scope,
                "participant_code": participant.code,
                "left_focus_groups": left_sessions,
            })),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(study = %study.slug, scope = %scope, "participant withdrew");
    Ok(Participant {
        withdrawal: Some(crate::domain::participant::Withdrawal { scope, at: now }),
        ..participant
    })
}
