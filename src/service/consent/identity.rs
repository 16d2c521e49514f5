//! The optional identity check before signing (`identity_check = "email_code"`).

use chrono::Utc;
use rand::RngCore;
use serde_json::json;

use crate::audit;
use crate::domain::audit::NewEvent;
use crate::domain::consent::identity::{self, CodeError};
use crate::domain::participant::Participant;
use crate::domain::study::{IdentityCheck, Study};
use crate::error::{AppError, AppResult};
use crate::service::AppState;
use crate::store::{self, Conn};

/// Where the code went, masked for display (`p•••@student.example.edu`).
pub fn mask(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}•••@{domain}", local.chars().next().unwrap_or('•')),
        None => "your e-mail address".into(),
    }
}

fn require_check(study: &Study) -> AppResult<()> {
    if study.identity_check == IdentityCheck::EmailCode {
        Ok(())
    } else {
        Err(AppError::Conflict("This study does not ask for an identity check.".into()))
    }
}

/// Sends a new code to the participant's address; returns the masked address.
#[tracing::instrument(skip_all)]
pub async fn send_code(
    state: &AppState,
    participant: &Participant,
    study: &Study,
) -> AppResult<String> {
    require_check(study)?;
    let tx = state.db.begin_write().await?;
    let (_, email) = store::participant::contact(tx.conn(), participant.id)
        .await?
        .ok_or_else(|| AppError::Internal("participant without contact details".into()))?;
    let previous = store::consent::identity::get(tx.conn(), participant.id).await?;
    let code = identity::format_code(rand::rng().next_u32());
    let now = Utc::now();
    let next = identity::after_send(previous.as_ref(), participant.id, &code, now)
        .ok_or(AppError::TooMany)?;
    store::consent::identity::put(tx.conn(), participant.id, &next).await?;
    let message =
        crate::mail::compose::identity_code(study, &email, &code, identity::CODE_TTL_MINUTES);
    crate::mail::enqueue(tx.conn(), state.keys()?, &message).await?;
    audit::record(
        tx.conn(),
        NewEvent::new(participant.actor(), "identity.code_sent", "participant", participant.id)
            .in_study(&study.slug),
    )
    .await?;
    tx.commit().await?;
    Ok(mask(&email))
}

/// Checks an entered code.
#[tracing::instrument(skip_all)]
pub async fn verify_code(
    state: &AppState,
    participant: &Participant,
    study: &Study,
    code: &str,
) -> AppResult<()> {
    require_check(study)?;
    let tx = state.db.begin_write().await?;
    let current = store::consent::identity::get(tx.conn(), participant.id).await?;
    let Some(current) = current else {
        return Err(AppError::field("code", "no_code", "Ask for a code first."));
    };
    let (next, result) = identity::check(&current, participant.id, code, Utc::now());
    store::consent::identity::put(tx.conn(), participant.id, &next).await?;
    let outcome = match &result {
        Ok(()) => "verified",
        Err(_) => "refused",
    };
    audit::record(
        tx.conn(),
        NewEvent::new(participant.actor(), "identity.code_checked", "participant", participant.id)
            .in_study(&study.slug)
            .with(json!({"outcome": outcome, "attempts": next.attempts})),
    )
    .await?;
    tx.commit().await?;
    result.map_err(|e| match e {
        CodeError::NoCode => AppError::field("code", "no_code", "Ask for a code first."),
        CodeError::Expired => AppError::Gone("That code has expired: ask for a new one.".into()),
        CodeError::TooManyTries => AppError::TooMany,
        CodeError::Wrong { tries_left } => AppError::field(
            "code",
            "wrong_code",
            format!("That code is not right; {tries_left} tries left."),
        ),
    })
}

/// Whether the participant may sign now as far as the identity check goes.
#[tracing::instrument(skip_all)]
pub async fn cleared(db: &impl Conn, participant: &Participant, study: &Study) -> AppResult<bool> {
    if study.identity_check == IdentityCheck::None {
        return Ok(true);
    }
    let state = store::consent::identity::get(db, participant.id).await?;
    Ok(identity::is_verified(state.as_ref(), Utc::now()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn addresses_are_masked() {
        assert_eq!(super::mask("pat@student.example.edu"), "p•••@student.example.edu");
    }
}
