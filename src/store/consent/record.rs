//! Signed consents: the canonical record, its hash, the PDF rendered at signing and
//! its hash. Rows are written once and never updated.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::domain::consent::ConsentRecord;
use crate::error::AppError;
use crate::store::Conn;
use crate::store::entity::consents;

/// A stored consent, without its PDF bytes.
#[derive(Debug, Clone)]
pub struct StoredConsent {
    pub id: i64,
    pub study_id: i64,
    pub participant_id: i64,
    pub consent_form_id: i64,
    pub version: String,
    pub record_json: String,
    pub record: Option<ConsentRecord>,
    pub record_sha256: String,
    pub pdf_sha256: String,
    pub signed_at: DateTime<Utc>,
}

const COLUMNS: [consents::Column; 10] = [
    consents::Column::Id,
    consents::Column::StudyId,
    consents::Column::ParticipantId,
    consents::Column::ConsentFormId,
    consents::Column::Version,
    consents::Column::FormHash,
    consents::Column::RecordJson,
    consents::Column::RecordSha256,
    consents::Column::PdfSha256,
    consents::Column::SignedAt,
];

type Row = (i64, i64, i64, i64, String, String, String, String, String, DateTime<Utc>);

fn from_row(r: Row) -> StoredConsent {
    let (
        id,
        study_id,
        participant_id,
        consent_form_id,
        version,
        _form_hash,
        record_json,
        record_sha256,
        pdf_sha256,
        signed_at,
    ) = r;
    StoredConsent {
        id,
        study_id,
        participant_id,
        consent_form_id,
        version,
        record: serde_json::from_str(&record_json).ok(),
        record_json,
        record_sha256,
        pdf_sha256,
        signed_at,
    }
}

fn select() -> sea_orm::Select<consents::Entity> {
    consents::Entity::find().select_only().columns(COLUMNS)
}

/// Where a new consent row belongs: its study, participant and consent-form
/// version, and the consent it amends (a change of optional choices).
#[derive(Debug, Clone, Copy)]
pub struct Owner {
    pub study_id: i64,
    pub participant_id: i64,
    pub consent_form_id: i64,
    pub amends_id: Option<i64>,
}

pub async fn insert(
    db: &impl Conn,
    owner: Owner,
    record: &ConsentRecord,
    record_sha256: &str,
    pdf: Vec<u8>,
    pdf_sha256: &str,
    signed_at: DateTime<Utc>,
) -> Result<i64, AppError> {
    let model = consents::ActiveModel {
        study_id: Set(owner.study_id),
        participant_id: Set(owner.participant_id),
        consent_form_id: Set(owner.consent_form_id),
        amends_id: Set(owner.amends_id),
        version: Set(record.form_version.clone()),
        form_hash: Set(record.form_hash.clone()),
        record_json: Set(record.canonical()),
        record_sha256: Set(record_sha256.to_string()),
        pdf: Set(pdf),
        pdf_sha256: Set(pdf_sha256.to_string()),
        signed_at: Set(signed_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(model.id)
}

/// The participant's consents, oldest first.
pub async fn of_participant(
    db: &impl Conn,
    participant_id: i64,
) -> Result<Vec<StoredConsent>, AppError> {
    let rows: Vec<Row> = select()
        .filter(consents::Column::ParticipantId.eq(participant_id))
        .order_by_asc(consents::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// Every consent of a study, in signing order.
pub async fn of_study(db: &impl Conn, study_id: i64) -> Result<Vec<StoredConsent>, AppError> {
    let rows: Vec<Row> = select()
        .filter(consents::Column::StudyId.eq(study_id))
        .order_by_asc(consents::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// A page of all consents after `after_id`, for verification.
pub async fn page(
    db: &impl Conn,
    after_id: i64,
    limit: u64,
) -> Result<Vec<StoredConsent>, AppError> {
    let rows: Vec<Row> = select()
        .filter(consents::Column::Id.gt(after_id))
        .order_by_asc(consents::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// The stored PDF bytes of one consent.
pub async fn pdf(db: &impl Conn, consent_id: i64) -> Result<Option<Vec<u8>>, AppError> {
    Ok(consents::Entity::find_by_id(consent_id).one(db).await?.map(|m| m.pdf))
}

/// The study a consent belongs to.
pub async fn study_of(db: &impl Conn, consent_id: i64) -> Result<Option<i64>, AppError> {
    Ok(consents::Entity::find_by_id(consent_id)
        .select_only()
        .column(consents::Column::StudyId)
        .into_tuple::<i64>()
        .one(db)
        .await?)
}
