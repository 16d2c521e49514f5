//! Participants: direct invitations by coordinators, and the private link.

use chrono::Utc;
use serde_json::json;

use super::AppState;
use super::auth::{PARTICIPANT_TOKEN_PREFIX, new_token};
use super::studies::{require_coordinator, visible};
use crate::audit;
use crate::domain::FieldErrors;
use crate::domain::audit::{NewEvent, sha256_hex};
use crate::domain::fields::required_text;
use crate::domain::participant::Participant;
use crate::domain::study::{Study, StudyStatus};
use crate::domain::user::{Email, User};
use crate::error::{AppError, AppResult};
use crate::store;

/// A participant's private link, shown once.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub participant: Participant,
    pub token: String,
    pub portal_url: String,
    /// True when the e-mail address was invited before and a new link replaced the old one.
    pub reissued: bool,
}

pub fn portal_url(state: &AppState, token: &str) -> String {
    state.config.public_link(&format!("/p/{token}"))
}

/// Invites a person to a study directly (for studies that recruit without an ad).
/// The same address twice does not make a second participant: it issues a new link.
pub async fn invite(
    state: &AppState,
    user: &User,
    slug: &str,
    name: &str,
    email: &str,
) -> AppResult<Invitation> {
    let mut errors = FieldErrors::new();
    let name = errors.take("name", required_text(name, "Name", 200));
    let email = errors.take("email", Email::parse(email));
    let tx = state.db.begin_write().await?;
    let (study, capacity) = visible(tx.conn(), user, slug).await?;
    require_coordinator(capacity)?;
    let (Some(name), Some(email)) = (name, email) else { return Err(errors.into()) };
    if matches!(study.status, StudyStatus::Suspended | StudyStatus::Closed) {
        return Err(AppError::Gone(format!(
            "The study is {}; no one can be invited.",
            study.status
        )));
    }
    let (token, hash) = new_token(PARTICIPANT_TOKEN_PREFIX);
    let (participant, reissued) =
        match store::participants::find_by_email(tx.conn(), study.id, &email).await? {
            Some(existing) => {
                store::participants::set_token(tx.conn(), existing.id, &hash).await?;
                (existing, true)
            }
            None => {
                let p = store::participants::insert(
                    tx.conn(),
                    study.id,
                    &hash,
                    &name,
                    &email,
                    "invitation",
                    Utc::now(),
                )
                .await?;
                (p, false)
            }
        };
    let link = portal_url(state, &token);
    crate::mail::enqueue(
        tx.conn(),
        &crate::mail::compose::invitation(&study, email.as_str(), &name, &link),
    )
    .await?;
    let action = if reissued { "participant.link_reissued" } else { "participant.invited" };
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), action, "participant", participant.id)
            .in_study(&study.slug)
            .with(json!({"source": "invitation", "email_sha256": sha256_hex(email.as_str().as_bytes())})),
    )
    .await?;
    tx.commit().await?;
    Ok(Invitation { portal_url: link, participant, token, reissued })
}

/// The participant behind a private token, with their study.
pub async fn authenticate(
    state: &AppState,
    token: &str,
) -> AppResult<Option<(Participant, Study)>> {
    if !token.starts_with(PARTICIPANT_TOKEN_PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    let Some(p) =
        store::participants::find_by_token(state.db.conn(), &sha256_hex(token.as_bytes())).await?
    else {
        return Ok(None);
    };
    let study = store::studies::find_by_id(state.db.conn(), p.study_id)
        .await?
        .ok_or_else(|| AppError::Internal("participant without a study".into()))?;
    Ok(Some((p, study)))
}

/// Reminds every participant who has not withdrawn and still has a step open (consent,
/// or a questionnaire not finished), at most once per `REMINDER_GAP_HOURS`. Each gets a
/// fresh private link (links are stored only as hashes, so the old one is replaced).
/// Returns how many reminders were queued.
pub async fn remind(state: &AppState, user: &User, slug: &str) -> AppResult<usize> {
    use crate::domain::participant::due_reminder;
    use crate::domain::questionnaire::{ResponseStatus, Stage};
    let tx = state.db.begin_write().await?;
    let (study, capacity) = visible(tx.conn(), user, slug).await?;
    require_coordinator(capacity)?;
    if !matches!(study.status, StudyStatus::Recruiting | StudyStatus::Paused) {
        return Err(AppError::Gone(format!(
            "The study is {}; no reminders are sent.",
            study.status
        )));
    }
    let now = Utc::now();
    let mut instruments = Vec::new();
    for i in store::questionnaires::instruments(tx.conn(), study.id).await? {
        if i.stage == Stage::AfterConsent {
            let title =
                super::questionnaires::definition_of(state, tx.conn(), &i).await?.title.clone();
            instruments.push((i, title));
        }
    }
    let mut reminded = Vec::new();
    for (p, reminded_at) in store::participants::active_in_study(tx.conn(), study.id).await? {
        let steps: Vec<String> = if p.code.is_none() {
            vec![
                "read the explanatory statement and decide whether to give your consent"
                    .to_string(),
            ]
        } else {
            let responses = store::questionnaires::responses_of(tx.conn(), p.id).await?;
            instruments
                .iter()
                .filter(|(i, _)| {
                    !responses
                        .iter()
                        .any(|r| r.instrument_id == i.id && r.status == ResponseStatus::Complete)
                })
                .map(|(_, title)| format!("answer the questionnaire \"{title}\""))
                .collect()
        };
        if !due_reminder(steps.len(), reminded_at, now) {
            continue;
        }
        let Some((name, email)) = store::participants::contact(tx.conn(), p.id).await? else {
            continue;
        };
        let (token, hash) = new_token(PARTICIPANT_TOKEN_PREFIX);
        store::participants::set_token(tx.conn(), p.id, &hash).await?;
        store::participants::set_reminded(tx.conn(), p.id, now).await?;
        let link = portal_url(state, &token);
        crate::mail::enqueue(
            tx.conn(),
            &crate::mail::compose::reminder(&study, &email, &name, &link, &steps),
        )
        .await?;
        reminded.push(p.id);
    }
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "participants.reminded", "study", study.id)
            .in_study(&study.slug)
            .with(json!({"participants": reminded})),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(study = %study.slug, reminded = reminded.len(), "reminders queued");
    Ok(reminded.len())
}
