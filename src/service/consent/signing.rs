//! Giving consent (SPEC §6): one transaction checks every rule, assigns the code, renders and stores the PDF and records the event carrying both hashes; the participant's copy and receipt.

use super::*;
use crate::domain::consent::receipt::{About, Receipt};

/// Whether the study can take consent now (recruiting or paused, approval live).
pub fn check_can_consent(study: &Study) -> AppResult<()> {
    if !matches!(study.status, StudyStatus::Recruiting | StudyStatus::Paused) {
        return Err(AppError::Gone(format!(
            "The study is {}; it cannot take consent now.",
            study.status
        )));
    }
    if study.approval_expired(Utc::now().date_naive()) {
        return Err(AppError::Gone(format!(
            "The ethics approval {} expired on {}; consent cannot be given.",
            study.ethics.reference, study.ethics.expires_on
        )));
    }
    Ok(())
}

/// The consent form in force for a participant's study.
#[tracing::instrument(skip_all)]
pub async fn active_form(state: &AppState, participant: &Participant) -> AppResult<ConsentForm> {
    store::consent::form::active(state.db.conn(), participant.study_id)
        .await?
        .ok_or(AppError::NotFound)
}

fn given_from(stored: &StoredConsent, created: bool) -> AppResult<Given> {
    let record = stored
        .record
        .clone()
        .ok_or_else(|| AppError::Internal(format!("consent {} record unreadable", stored.id)))?;
    Ok(Given {
        consent_id: stored.id,
        record,
        record_sha256: stored.record_sha256.clone(),
        pdf_sha256: stored.pdf_sha256.clone(),
        created,
    })
}

#[tracing::instrument(skip_all)]
pub async fn give(
    state: &AppState,
    participant: &Participant,
    req: SignRequest,
) -> AppResult<Given> {
    let tx = state.db.begin_write().await?;
    let (participant, study) = reload(tx.conn(), participant).await?;
    check_can_consent(&study)?;
    if participant.withdrawal.is_some() {
        return Err(AppError::Conflict("You have withdrawn from this study.".into()));
    }
    if !crate::service::consent::identity::cleared(tx.conn(), &participant, &study).await? {
        return Err(AppError::Forbidden(
            "This study checks your identity first: enter the code sent to your e-mail address."
                .into(),
        ));
    }
    let form = store::consent::form::active(tx.conn(), study.id)
        .await?
        .ok_or_else(|| AppError::Conflict("The study has no consent form in force.".into()))?;
    let decision = decide(&form, &req).map_err(|e| match e {
        DecisionError::Fields(f) => AppError::Validation(f),
        DecisionError::Stale(m) => AppError::Conflict(m),
    })?;
    let earlier = store::consent::record::of_participant(tx.conn(), participant.id).await?;
    if let Some(existing) = earlier.iter().find(|c| c.consent_form_id == form.id) {
        let same = existing.record.as_ref().is_some_and(|r| r.same_as(&form.form_hash, &decision));
        if same {
            return given_from(existing, false);
        }
        return Err(AppError::Conflict(format!(
            "You have already consented to version {}; to change what you agreed to, withdraw and contact the researchers.",
            form.version
        )));
    }
    let code = match &participant.code {
        Some(code) => code.clone(),
        None => store::participant::assign_code(tx.conn(), study.id, participant.id).await?,
    };
    let signed_at = storable(Utc::now());
    let mut uid = [0u8; 8];
    rand::rng().fill_bytes(&mut uid);
    let record = ConsentRecord {
        record_id: format!("{}-{}-{}", study.slug, code, hex::encode(uid)),
        study: study.slug.clone(),
        study_title: study.title.clone(),
        committee: study.ethics.committee.clone(),
        ethics_reference: form
            .approval_reference
            .clone()
            .unwrap_or_else(|| study.ethics.reference.clone()),
        participant_code: code.clone(),
        form_version: form.version.clone(),
        form_title: form.title.clone(),
        form_hash: form.form_hash.clone(),
        language: form.language.clone(),
        items: decision.items.clone(),
        typed_name: decision.typed_name.clone(),
        drawn_signature_sha256: decision.drawn_svg.as_ref().map(|s| sha256_hex(s.as_bytes())),
        signed_at: format_at(&signed_at),
        identity_check: study.identity_check.as_str().into(),
        meaning: SIGNATURE_MEANING.into(),
    };
    let record_sha256 = record.sha256();
    let drawing = decision
        .drawn_svg
        .as_deref()
        .map(parse_drawing)
        .transpose()
        .map_err(|e| AppError::field("signature.drawn_svg", e.code, e.message))?;
    let pdf = crate::pdf::consent::render(
        &record,
        &record_sha256,
        &form.body_markdown,
        drawing.as_ref(),
    )?;
    let pdf_sha256 = sha256_hex(&pdf);
    if let Some((_, email)) = store::participant::contact(tx.conn(), participant.id).await? {
        let receipt =
            crate::mail::compose::consent_receipt(&study, &email, &record, &record_sha256, &pdf);
        crate::mail::enqueue(tx.conn(), state.keys()?, &receipt).await?;
    }
    let consent_id = store::consent::record::insert(
        tx.conn(),
        study.id,
        participant.id,
        form.id,
        &record,
        &record_sha256,
        pdf,
        &pdf_sha256,
        signed_at,
    )
    .await?;
    audit::record(
        tx.conn(),
        NewEvent::new(format!("participant:{code}"), "consent.given", "consent", consent_id).in_study(&study.slug).with(
            json!({
                "participant_code": code,
                "version": form.version,
                "form_hash": form.form_hash,
                "record_sha256": record_sha256,
                "pdf_sha256": pdf_sha256,
                "reconsent": !earlier.is_empty(),
                "items": decision.items.iter().map(|i| (i.key.clone(), Value::Bool(i.agreed))).collect::<serde_json::Map<_, _>>(),
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(study = %study.slug, code = %code, version = %form.version, "consent given");
    Ok(Given { consent_id, record, record_sha256, pdf_sha256, created: true })
}

/// The participant's latest consent, if any.
#[tracing::instrument(skip_all)]
pub async fn latest(state: &AppState, participant: &Participant) -> AppResult<Option<Given>> {
    let all = store::consent::record::of_participant(state.db.conn(), participant.id).await?;
    all.last().map(|c| given_from(c, false)).transpose()
}

/// Whether the participant may sign now as far as the study's identity check goes.
#[tracing::instrument(skip_all)]
pub async fn identity_cleared(
    state: &AppState,
    participant: &Participant,
    study: &Study,
) -> AppResult<bool> {
    crate::service::consent::identity::cleared(state.db.conn(), participant, study).await
}

/// What the participant's page shows: their latest consent, their next steps and
/// the focus-group session they are booked into.
pub struct Portal {
    pub latest: Option<Given>,
    pub steps: Vec<crate::domain::participant::NextStep>,
    pub booked: Option<crate::domain::focus_group::FocusGroup>,
}

/// The participant's latest consent, the steps their page offers and their booking.
#[tracing::instrument(skip_all)]
pub async fn portal(state: &AppState, participant: &Participant) -> AppResult<Portal> {
    let latest = latest(state, participant).await?;
    let active = store::consent::form::active(state.db.conn(), participant.study_id).await?;
    let mut steps = crate::domain::participant::consent_steps(
        latest.as_ref().map(|g| g.record.form_version.as_str()),
        active.as_ref().map(|f| f.version.as_str()),
        participant.withdrawal.is_some(),
    );
    steps.extend(crate::service::questionnaire::steps(state, participant).await?);
    let booked = crate::service::focus_group::booking(state, participant).await?;
    steps.extend(crate::service::focus_group::steps(state, participant, booked.as_ref()).await?);
    Ok(Portal { latest, steps, booked })
}

/// The stored PDF of the participant's latest consent, byte for byte; the read is audited.
#[tracing::instrument(skip_all)]
pub async fn participant_pdf(
    state: &AppState,
    participant: &Participant,
    study: &Study,
) -> AppResult<Vec<u8>> {
    let latest = latest(state, participant).await?.ok_or(AppError::NotFound)?;
    pdf_audited(state, study, latest.consent_id, &participant.actor()).await
}

/// The machine-readable receipt of a consent.
pub fn receipt(
    state: &AppState,
    study: &Study,
    participant: &Participant,
    given: &Given,
) -> Receipt {
    receipt_of(
        state,
        study,
        &given.record,
        &given.record_sha256,
        &given.pdf_sha256,
        participant.withdrawal.is_some(),
    )
}

/// The receipt of a consent record in `study`, for its participant or an audit pack.
pub fn receipt_of(
    state: &AppState,
    study: &Study,
    record: &crate::domain::consent::ConsentRecord,
    record_sha256: &str,
    pdf_sha256: &str,
    withdrawn: bool,
) -> Receipt {
    let about = About {
        contact_name: &study.contact_name,
        contact_email: &study.contact_email,
        title: &study.title,
        summary: &study.summary,
        page_url: state.config.public_link("/participant"),
        withdrawn,
    };
    Receipt::new(record, record_sha256, pdf_sha256, about)
}
