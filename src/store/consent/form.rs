//! Consent-form versions. Items and the knowledge review are stored as canonical JSON; a version's text is
//! never updated once approved (only its state moves from active to superseded).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::domain::consent::review::Review;
use crate::domain::consent::{ConsentForm, ConsentFormDraft, ConsentItem, FormState};
use crate::error::AppError;
use crate::store::entity::consent_forms;
use crate::store::{Conn, decode};

fn to_domain(m: consent_forms::Model) -> Result<ConsentForm, AppError> {
    let items: Vec<ConsentItem> = serde_json::from_str(&m.items)
        .map_err(|e| AppError::Internal(format!("consent form {} items unreadable: {e}", m.id)))?;
    let review: Review = match &m.review {
        None => Review::default(),
        Some(json) => serde_json::from_str(json).map_err(|e| {
            AppError::Internal(format!("consent form {} knowledge review unreadable: {e}", m.id))
        })?,
    };
    Ok(ConsentForm {
        id: m.id,
        study_id: m.study_id,
        state: decode::<FormState>("consent form state", &m.state)?,
        version: m.version,
        language: m.language,
        title: m.title,
        body_markdown: m.body_markdown,
        items,
        review,
        form_hash: m.form_hash,
        approval_reference: m.approval_reference,
        approved_on: m.approved_on,
    })
}

pub async fn insert(
    db: &impl Conn,
    study_id: i64,
    draft: &ConsentFormDraft,
    created_by: i64,
    now: DateTime<Utc>,
) -> Result<ConsentForm, AppError> {
    let items =
        serde_json::to_value(&draft.items).map_err(|e| AppError::Internal(e.to_string()))?;
    let review = match draft.review.is_empty() {
        true => None,
        false => Some(crate::domain::audit::canonical_json(
            &serde_json::to_value(&draft.review).map_err(|e| AppError::Internal(e.to_string()))?,
        )),
    };
    let model = consent_forms::ActiveModel {
        study_id: Set(study_id),
        version: Set(draft.version.clone()),
        language: Set(draft.language.clone()),
        title: Set(draft.title.clone()),
        body_markdown: Set(draft.body_markdown.clone()),
        items: Set(crate::domain::audit::canonical_json(&items)),
        review: Set(review),
        form_hash: Set(draft.form_hash()),
        state: Set(FormState::Draft.as_str().to_string()),
        created_by: Set(created_by),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(crate::store::taken(|| {
        AppError::Conflict(format!(
            "Version {} in {} exists already in this study; a version number is never reused \
             (another language's text of it is drafted with its own language).",
            draft.version, draft.language
        ))
    }))?;
    to_domain(model)
}

pub async fn list(db: &impl Conn, study_id: i64) -> Result<Vec<ConsentForm>, AppError> {
    consent_forms::Entity::find()
        .filter(consent_forms::Column::StudyId.eq(study_id))
        .order_by_asc(consent_forms::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect()
}

/// A version's first text (the one drafted first), when it exists.
pub async fn find(
    db: &impl Conn,
    study_id: i64,
    version: &str,
) -> Result<Option<ConsentForm>, AppError> {
    Ok(texts(db, study_id, version).await?.into_iter().next())
}

/// Every language's text of a version, in the order drafted.
pub async fn texts(
    db: &impl Conn,
    study_id: i64,
    version: &str,
) -> Result<Vec<ConsentForm>, AppError> {
    consent_forms::Entity::find()
        .filter(consent_forms::Column::StudyId.eq(study_id))
        .filter(consent_forms::Column::Version.eq(version))
        .order_by_asc(consent_forms::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect()
}

pub async fn by_id(db: &impl Conn, id: i64) -> Result<Option<ConsentForm>, AppError> {
    consent_forms::Entity::find_by_id(id).one(db).await?.map(to_domain).transpose()
}

/// The texts in force: every approved language of the active version, in the order
/// drafted (empty when no version is in force).
pub async fn active_texts(db: &impl Conn, study_id: i64) -> Result<Vec<ConsentForm>, AppError> {
    consent_forms::Entity::find()
        .filter(consent_forms::Column::StudyId.eq(study_id))
        .filter(consent_forms::Column::State.eq(FormState::Active.as_str()))
        .order_by_asc(consent_forms::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect()
}

/// The version of the texts in force, without reading them.
pub async fn version_in_force(db: &impl Conn, study_id: i64) -> Result<Option<String>, AppError> {
    Ok(consent_forms::Entity::find()
        .select_only()
        .column(consent_forms::Column::Version)
        .filter(consent_forms::Column::StudyId.eq(study_id))
        .filter(consent_forms::Column::State.eq(FormState::Active.as_str()))
        .order_by_asc(consent_forms::Column::Id)
        .into_tuple::<String>()
        .one(db)
        .await?)
}

pub async fn has_active(db: &impl Conn, study_id: i64) -> Result<bool, AppError> {
    Ok(version_in_force(db, study_id).await?.is_some())
}

/// Makes text `form_id` active. A text of another version than the one in force
/// makes its version the active one: every text of the previous one is superseded.
/// A text of the version in force (a translation) joins the texts in force.
pub async fn activate(
    db: &impl Conn,
    study_id: i64,
    form_id: i64,
    reference: &str,
    approved_on: NaiveDate,
    approved_by: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let version = consent_forms::Entity::find_by_id(form_id)
        .one(db)
        .await?
        .map(|m| m.version)
        .ok_or(AppError::NotFound)?;
    consent_forms::Entity::update_many()
        .col_expr(consent_forms::Column::State, Expr::value(FormState::Superseded.as_str()))
        .filter(consent_forms::Column::StudyId.eq(study_id))
        .filter(consent_forms::Column::State.eq(FormState::Active.as_str()))
        .filter(consent_forms::Column::Version.ne(version))
        .exec(db)
        .await?;
    consent_forms::Entity::update_many()
        .col_expr(consent_forms::Column::State, Expr::value(FormState::Active.as_str()))
        .col_expr(consent_forms::Column::ApprovalReference, Expr::value(reference))
        .col_expr(consent_forms::Column::ApprovedOn, Expr::value(approved_on))
        .col_expr(consent_forms::Column::ApprovedBy, Expr::value(approved_by))
        .col_expr(consent_forms::Column::ApprovedAt, Expr::value(now))
        .filter(consent_forms::Column::Id.eq(form_id))
        .filter(consent_forms::Column::State.eq(FormState::Draft.as_str()))
        .exec(db)
        .await?;
    Ok(())
}
