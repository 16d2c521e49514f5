//! Changing optional choices after consent (dynamic consent): a new signed record,
//! with the same participant code, that amends the latest one — its own PDF and
//! hashes, audited as `consent.amended`. Required items cannot change this way;
//! that is withdrawal. A study that checks identity before signing checks it
//! before a change too. Every effect of what the items govern follows the latest
//! record at once.

use std::collections::BTreeMap;

use super::*;
use crate::domain::consent::{AMENDMENT_MEANING, amend};

/// What a participant sends to change their optional choices: every optional item
/// they now agree to (the others are declined) and their typed name.
#[derive(Debug, Clone, Default)]
pub struct ChoiceChange {
    pub items: BTreeMap<String, bool>,
    pub typed_name: String,
}

/// Another change of the same record came first (in another window?).
fn changed_meanwhile() -> AppError {
    AppError::Conflict(
        "Your choices were changed meanwhile (in another window?): reload the page to see \
         them, then change them again."
            .into(),
    )
}

/// The participant's latest record, if they may change its choices now.
async fn changeable(
    db: &impl Conn,
    participant: &Participant,
) -> AppResult<(Participant, Study, StoredConsent, ConsentRecord)> {
    let (participant, study) = reload(db, participant).await?;
    if study.status == StudyStatus::Closed {
        return Err(AppError::Gone("The study is closed; its choices no longer change.".into()));
    }
    if participant.withdrawal.is_some() {
        return Err(AppError::Conflict("You have withdrawn from this study.".into()));
    }
    let latest = store::consent::record::of_participant(db, participant.id)
        .await?
        .pop()
        .ok_or_else(|| AppError::Conflict("You have not given your consent yet.".into()))?;
    let record = latest
        .record
        .clone()
        .ok_or_else(|| AppError::Internal(format!("consent {} record unreadable", latest.id)))?;
    if record.items.iter().all(|i| i.required) {
        return Err(AppError::Conflict(
            "Your consent form has no optional items: there is nothing to change.".into(),
        ));
    }
    Ok((participant, study, latest, record))
}

/// The participant's current choices, for the page that changes them.
#[tracing::instrument(skip_all)]
pub async fn current_choices(
    state: &AppState,
    participant: &Participant,
) -> AppResult<ConsentRecord> {
    changeable(state.db.conn(), participant).await.map(|(_, _, _, record)| record)
}

/// Whether the study lets this participant sign now: the identity check, when the
/// study asks for one, was passed.
async fn identity_cleared(
    db: &impl Conn,
    participant: &Participant,
    study: &Study,
) -> AppResult<()> {
    if crate::service::consent::identity::cleared(db, participant, study).await? {
        return Ok(());
    }
    Err(AppError::Forbidden(
        "This study checks your identity before you sign: enter the code sent to your \
         e-mail address."
            .into(),
    ))
}

/// Records a change of optional choices as a new signed record amending the latest.
/// The record and its PDF are made from a read of the latest record, outside the
/// single writer; the write then checks that the latest record is still the one
/// amended (else the change is refused, to be made again) and stores them.
#[tracing::instrument(skip_all)]
pub async fn change_choices(
    state: &AppState,
    participant: &Participant,
    change: ChoiceChange,
) -> AppResult<Given> {
    let (participant, study, latest, earlier) = changeable(state.db.conn(), participant).await?;
    identity_cleared(state.db.conn(), &participant, &study).await?;
    let (items, typed_name) =
        amend(&earlier.items, &change.items, &change.typed_name).map_err(AppError::Validation)?;
    // The statement printed is the text signed: the same version, in its language.
    let form = store::consent::form::texts(state.db.conn(), study.id, &earlier.form_version)
        .await?
        .into_iter()
        .find(|t| t.id == latest.consent_form_id)
        .ok_or_else(|| AppError::Internal("the signed consent-form version vanished".into()))?;
    let signed_at = storable(Utc::now());
    let mut uid = [0u8; 8];
    rand::rng().fill_bytes(&mut uid);
    let changed: serde_json::Map<String, Value> =
        crate::domain::consent::changed(&earlier.items, &items)
            .into_iter()
            .map(|now| (now.key.clone(), Value::Bool(now.agreed)))
            .collect();
    let record = ConsentRecord {
        record_id: format!("{}-{}-{}", study.slug, earlier.participant_code, hex::encode(uid)),
        items,
        typed_name,
        drawn_signature_sha256: None,
        signed_at: format_at(&signed_at),
        identity_check: study.identity_check.as_str().into(),
        meaning: AMENDMENT_MEANING.into(),
        amends: Some(earlier.record_id.clone()),
        checks: Vec::new(),
        ..earlier.clone()
    };
    let record_sha256 = record.sha256();
    let render = (record.clone(), record_sha256.clone(), form.body_markdown.clone());
    let pdf = tokio::task::spawn_blocking(move || {
        crate::pdf::consent::render(&render.0, &render.1, &render.2, None)
    })
    .await
    .map_err(|e| AppError::Internal(format!("rendering the PDF stopped: {e}")))??;

    let tx = state.db.begin_write().await?;
    let (participant, study, now_latest, _) = changeable(tx.conn(), &participant).await?;
    identity_cleared(tx.conn(), &participant, &study).await?;
    if now_latest.id != latest.id {
        return Err(changed_meanwhile());
    }
    let pdf_sha256 = sha256_hex(&pdf);
    if let Some((_, email)) = store::participant::contact(tx.conn(), participant.id).await? {
        let receipt =
            crate::mail::compose::consent_receipt(&study, &email, &record, &record_sha256, &pdf);
        crate::mail::enqueue(tx.conn(), state.keys()?, &receipt).await?;
    }
    let owner = store::consent::record::Owner {
        study_id: study.id,
        participant_id: participant.id,
        consent_form_id: latest.consent_form_id,
        amends_id: Some(latest.id),
    };
    let consent_id = store::consent::record::insert(
        tx.conn(),
        owner,
        &record,
        &record_sha256,
        pdf,
        &pdf_sha256,
        signed_at,
    )
    .await
    .map_err(|e| match e {
        // Each record is amended once: another change of the same record won.
        AppError::Conflict(_) => changed_meanwhile(),
        other => other,
    })?;
    let code = &record.participant_code;
    audit::record(
        tx.conn(),
        NewEvent::new(format!("participant:{code}"), "consent.amended", "consent", consent_id)
            .in_study(&study.slug)
            .with(json!({
                "participant_code": code,
                "version": record.form_version,
                "form_hash": record.form_hash,
                "record_sha256": record_sha256,
                "pdf_sha256": pdf_sha256,
                "amends": latest.id,
                "changed": changed,
            })),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(study = %study.slug, code = %code, "consent choices changed");
    Ok(Given { consent_id, record, record_sha256, pdf_sha256, created: true })
}
