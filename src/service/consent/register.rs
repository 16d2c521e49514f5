//! The staff register: who signed which version, each signed PDF (every read audited), and who must consent again.

use super::*;
use crate::domain::participant::Withdrawal;
use crate::service::access;

/// One line of the consent register.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterEntry {
    pub consent_id: i64,
    pub participant_code: String,
    pub version: String,
    /// The language of the text signed (BCP 47).
    pub language: String,
    pub form_hash: String,
    /// The approval the version was signed under (the study's, or an amendment's).
    pub ethics_reference: String,
    pub signed_at: String,
    /// Each item's key and whether it was agreed to, in the form's order.
    pub items: Vec<(String, bool)>,
    pub typed_name: String,
    pub drawn_signature: bool,
    pub withdrawal: Option<Withdrawal>,
    pub record_sha256: String,
    pub pdf_sha256: String,
    /// For a change of optional choices: the consent it amends (among the same
    /// participant's consents).
    pub amends: Option<i64>,
    /// The knowledge review answered before signing, per question.
    pub checks: Vec<crate::domain::consent::review::CheckOutcome>,
}

pub(super) fn require_register_reader(capacity: Capacity) -> AppResult<()> {
    match capacity {
        Capacity::Coordinator | Capacity::EthicsOfficer => Ok(()),
        Capacity::Facilitator => {
            Err(AppError::Forbidden("Facilitators do not read the consent register.".into()))
        }
    }
}

/// The consent register of a study; reading it is audited.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn register(state: &AppState, user: &User, slug: &str) -> AppResult<Vec<RegisterEntry>> {
    let tx = state.db.begin_write().await?;
    let (study, capacity) = access::study(tx.conn(), user, slug).await?;
    require_register_reader(capacity)?;
    let consents = store::consent::record::of_study(tx.conn(), study.id).await?;
    let entries = entries(tx.conn(), study.id, &consents).await?;
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "consent.register_viewed", "study", study.id)
            .in_study(&study.slug)
            .with(json!({"entries": entries.len()})),
    )
    .await?;
    tx.commit().await?;
    Ok(entries)
}

/// One participant's consent story: every consent they gave (each version, under
/// its approval), their items, and their withdrawal; for coordinators and ethics
/// officers, audited as a read of consent records.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn story(
    state: &AppState,
    user: &User,
    slug: &str,
    code: &str,
) -> AppResult<Vec<RegisterEntry>> {
    let tx = state.db.begin_write().await?;
    let (study, capacity) = access::study(tx.conn(), user, slug).await?;
    require_register_reader(capacity)?;
    let code = code.trim().to_uppercase();
    let participant = store::participant::find_by_code(tx.conn(), study.id, &code)
        .await?
        .ok_or(AppError::NotFound)?;
    let consents = store::consent::record::of_participant(tx.conn(), participant.id).await?;
    let entries = entries(tx.conn(), study.id, &consents).await?;
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "consent.story_viewed", "participant", participant.id)
            .in_study(&study.slug)
            .with(json!({"participant_code": code, "consents": entries.len()})),
    )
    .await?;
    tx.commit().await?;
    Ok(entries)
}

/// The register lines of `consents`, each with its participant's withdrawal.
async fn entries(
    conn: &impl store::Conn,
    study_id: i64,
    consents: &[store::consent::record::StoredConsent],
) -> AppResult<Vec<RegisterEntry>> {
    let withdrawals = store::participant::withdrawals(conn, study_id).await?;
    let ids: std::collections::HashMap<&str, i64> = consents
        .iter()
        .filter_map(|c| c.record.as_ref().map(|r| (r.record_id.as_str(), c.id)))
        .collect();
    let mut entries = Vec::with_capacity(consents.len());
    for c in consents {
        let Some(r) = &c.record else {
            return Err(AppError::Internal(format!("consent {} record unreadable", c.id)));
        };
        let withdrawal = withdrawals.get(&c.participant_id).cloned();
        entries.push(RegisterEntry {
            consent_id: c.id,
            participant_code: r.participant_code.clone(),
            version: r.form_version.clone(),
            language: r.language.clone(),
            form_hash: r.form_hash.clone(),
            ethics_reference: r.ethics_reference.clone(),
            signed_at: r.signed_at.clone(),
            items: r.items.iter().map(|i| (i.key.clone(), i.agreed)).collect(),
            typed_name: r.typed_name.clone(),
            drawn_signature: r.drawn_signature_sha256.is_some(),
            withdrawal,
            record_sha256: c.record_sha256.clone(),
            pdf_sha256: c.pdf_sha256.clone(),
            amends: r.amends.as_deref().and_then(|earlier| ids.get(earlier).copied()),
            checks: r.checks.clone(),
        });
    }
    Ok(entries)
}

/// A signed PDF from the register, for coordinators and ethics officers; audited.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn staff_pdf(
    state: &AppState,
    user: &User,
    slug: &str,
    consent_id: i64,
) -> AppResult<Vec<u8>> {
    let (study, capacity) = access::study(state.db.conn(), user, slug).await?;
    require_register_reader(capacity)?;
    if store::consent::record::study_of(state.db.conn(), consent_id).await? != Some(study.id) {
        return Err(AppError::NotFound);
    }
    pdf_audited(state, &study, consent_id, &user.actor()).await
}

/// A participant who consented to a version that has since been superseded.
#[derive(Debug, Clone, Serialize)]
pub struct ReconsentDue {
    pub participant_code: String,
    pub signed_version: String,
    pub signed_at: String,
    pub active_version: String,
}

/// Participants asked to consent again: their latest consent is to an older version
/// than the one in force, and they have not withdrawn.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn reconsent_due(
    state: &AppState,
    user: &User,
    slug: &str,
) -> AppResult<Vec<ReconsentDue>> {
    let (study, capacity) = access::study(state.db.conn(), user, slug).await?;
    require_register_reader(capacity)?;
    let texts = store::consent::form::active_texts(state.db.conn(), study.id).await?;
    let Some(active) = texts.first() else {
        return Ok(Vec::new());
    };
    let consents = store::consent::record::of_study(state.db.conn(), study.id).await?;
    let withdrawals = store::participant::withdrawals(state.db.conn(), study.id).await?;
    let mut latest: std::collections::BTreeMap<i64, &StoredConsent> =
        std::collections::BTreeMap::new();
    for c in &consents {
        latest.insert(c.participant_id, c);
    }
    let mut due = Vec::new();
    for (participant_id, c) in latest {
        // Re-consent is per version: a text of the version in force, in any
        // language, is consent to it.
        if c.version == active.version {
            continue;
        }
        let withdrawn = withdrawals.contains_key(&participant_id);
        if let (false, Some(r)) = (withdrawn, &c.record) {
            due.push(ReconsentDue {
                participant_code: r.participant_code.clone(),
                signed_version: r.form_version.clone(),
                signed_at: r.signed_at.clone(),
                active_version: active.version.clone(),
            });
        }
    }
    due.sort_by(|a, b| a.participant_code.cmp(&b.participant_code));
    Ok(due)
}

/// Records that `user` asked to see the names and typed signatures in a study's
/// register, and why: the reason is required and goes into the audit log.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn reveal(state: &AppState, user: &User, slug: &str, reason: &str) -> AppResult<()> {
    let reason = reason.trim();
    if reason.chars().count() < 5 {
        return Err(AppError::field(
            "reason",
            "required",
            "Say why you need to see names (e.g. the participant asked for their record).",
        ));
    }
    if reason.chars().count() > 500 {
        return Err(AppError::field("reason", "too_long", "Keep the reason under 500 characters."));
    }
    let tx = state.db.begin_write().await?;
    let (study, capacity) = access::study(tx.conn(), user, slug).await?;
    require_register_reader(capacity)?;
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "consent.identities_revealed", "study", study.id)
            .in_study(&study.slug)
            .with(json!({"reason": reason})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
