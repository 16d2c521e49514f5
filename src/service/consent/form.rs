//! Consent-form versions: coordinators draft, ethics officers approve. Approving a
//! version makes it the active one and the previous active one superseded.

use chrono::Utc;
use serde_json::json;

use crate::audit;
use crate::domain::FieldErrors;
use crate::domain::audit::NewEvent;
use crate::domain::consent::language::{check_translation, same_tag};
use crate::domain::consent::{
    ApprovalError, ConsentForm, ConsentFormDraft, FormState, check_approval,
};
use crate::domain::policy::Capacity;
use crate::domain::user::User;
use crate::error::{AppError, AppResult};
use crate::service::AppState;
use crate::service::access;
use crate::store;

/// Stores a draft. `draft` is the parsed request: access is decided before its
/// field errors are reported, so an outsider learns nothing from them.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn draft(
    state: &AppState,
    user: &User,
    slug: &str,
    draft: Result<ConsentFormDraft, FieldErrors>,
) -> AppResult<ConsentForm> {
    let tx = state.db.begin_write().await?;
    let study = access::coordinated(tx.conn(), user, slug).await?;
    let draft = draft?;
    let unprintable = draft.unprintable(crate::pdf::can_print);
    if !unprintable.is_empty() {
        return Err(AppError::Validation(unprintable));
    }
    access::open_for_changes(&study)?;
    let texts = store::consent::form::texts(tx.conn(), study.id, &draft.version).await?;
    if let Some(first) = texts.first() {
        if let Some(same) = texts.iter().find(|t| same_tag(&t.language, &draft.language)) {
            return Err(AppError::Conflict(format!(
                "Version {} in {} exists already in this study; a version number is never reused.",
                same.version, same.language
            )));
        }
        if texts.iter().any(|t| t.state == FormState::Superseded) {
            return Err(AppError::Conflict(format!(
                "Version {} is superseded: translate the version in force, or draft a new version.",
                first.version
            )));
        }
        check_translation(first, &draft)?;
    }
    let form =
        store::consent::form::insert(tx.conn(), study.id, &draft, user.id, Utc::now()).await?;
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "consent_form.drafted", "consent_form", form.id).in_study(&study.slug).with(json!({
            "version": form.version,
            "form_hash": form.form_hash,
            "language": form.language,
            "items": form.items.iter().map(|i| json!({"key": i.key, "required": i.required})).collect::<Vec<_>>(),
        })),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(study = %study.slug, version = %form.version, "consent form drafted");
    Ok(form)
}

#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn list(state: &AppState, user: &User, slug: &str) -> AppResult<Vec<ConsentForm>> {
    let (study, _) = access::study(state.db.conn(), user, slug).await?;
    store::consent::form::list(state.db.conn(), study.id).await
}

/// One language's text of a version: `language`'s, or the first drafted.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn get(
    state: &AppState,
    user: &User,
    slug: &str,
    version: &str,
    language: Option<&str>,
) -> AppResult<ConsentForm> {
    let (study, _) = access::study(state.db.conn(), user, slug).await?;
    let texts = store::consent::form::texts(state.db.conn(), study.id, version).await?;
    text_of(texts, language)
}

/// `language`'s text among a version's texts (the first when `None`); 404 when
/// there is none.
fn text_of(texts: Vec<ConsentForm>, language: Option<&str>) -> AppResult<ConsentForm> {
    let language = language.map(str::trim).filter(|l| !l.is_empty());
    texts
        .into_iter()
        .find(|t| language.is_none_or(|l| same_tag(&t.language, l)))
        .ok_or(AppError::NotFound)
}

#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn approve(
    state: &AppState,
    user: &User,
    slug: &str,
    version: &str,
    language: Option<&str>,
    reference: &str,
    approved_on: &str,
) -> AppResult<ConsentForm> {
    let tx = state.db.begin_write().await?;
    let (study, capacity) = access::study(tx.conn(), user, slug).await?;
    if capacity != Capacity::EthicsOfficer {
        return Err(AppError::Forbidden("Only an ethics officer approves consent forms.".into()));
    }
    let texts = store::consent::form::texts(tx.conn(), study.id, version).await?;
    if texts.is_empty() {
        return Err(AppError::NotFound);
    }
    let drafts = texts.iter().filter(|t| t.state == FormState::Draft).count();
    if language.is_none_or(|l| l.trim().is_empty()) && drafts > 1 {
        let tags: Vec<&str> = texts.iter().map(|t| t.language.as_str()).collect();
        return Err(AppError::field(
            "language",
            "required",
            format!(
                "Version {version} has a text in each of {}: say which one you approve.",
                tags.join(", ")
            ),
        ));
    }
    if texts.iter().any(|t| t.state == FormState::Superseded) {
        return Err(AppError::Conflict(format!("Version {version} is superseded.")));
    }
    let form = match language.map(str::trim).filter(|l| !l.is_empty()) {
        Some(l) => text_of(texts, Some(l))?,
        None => texts.into_iter().find(|t| t.state == FormState::Draft).ok_or_else(|| {
            AppError::Conflict(format!(
                "Version {version} is active already; only a draft can be approved."
            ))
        })?,
    };
    let now = Utc::now();
    let history = store::study::approvals(tx.conn(), study.id).await?;
    let approval =
        check_approval(&study, &history, &form, reference, approved_on, now.date_naive()).map_err(
            |e| match e {
                ApprovalError::Fields(f) => AppError::Validation(f),
                ApprovalError::Conflict(m) => AppError::Conflict(m),
                ApprovalError::Expired => AppError::Gone(format!(
                    "The ethics approval {} expired on {}.",
                    study.ethics.reference, study.ethics.expires_on
                )),
            },
        )?;
    if let Some(amendment) = &approval.amendment {
        crate::service::study::record_approval_in(tx.conn(), &study, user, amendment, now).await?;
    }
    let date = approval.approved_on;
    let previous = store::consent::form::active_texts(tx.conn(), study.id)
        .await?
        .into_iter()
        .next()
        .filter(|p| p.version != form.version);
    store::consent::form::activate(
        tx.conn(),
        study.id,
        form.id,
        &approval.reference,
        date,
        user.id,
        now,
    )
    .await?;
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "consent_form.approved", "consent_form", form.id)
            .in_study(&study.slug)
            .with(json!({
                "version": form.version,
                "language": form.language,
                "form_hash": form.form_hash,
                "approval_reference": approval.reference,
                "approved_on": date.to_string(),
                "superseded_version": previous.as_ref().map(|p| p.version.clone()),
            })),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(study = %study.slug, version = %form.version, language = %form.language, "consent form approved");
    Ok(ConsentForm {
        state: crate::domain::consent::FormState::Active,
        approval_reference: Some(approval.reference),
        approved_on: Some(date),
        ..form
    })
}
