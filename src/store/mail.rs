//! The outbox table. Claiming due messages is safe with several senders: on
//! PostgreSQL rows are taken `FOR UPDATE SKIP LOCKED`; on SQLite the write
//! transaction already excludes other writers.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};

use super::entity::outbox;
use super::{Conn, decode};
use crate::domain::mail::{Attachment, MailStatus, Message};
use crate::error::AppError;

/// A queued message as stored.
#[derive(Debug, Clone)]
pub struct StoredMail {
    pub id: i64,
    pub study_id: Option<i64>,
    pub message: Message,
    pub status: MailStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Not sent before this time (a reminder's due time, or the next retry).
    pub due_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The sealed original of a message carrying a secret, until it is sent.
    pub sealed: Option<Vec<u8>>,
}

fn kind(raw: &str) -> &'static str {
    match raw {
        "invitation" => "invitation",
        "consent_receipt" => "consent_receipt",
        "withdrawal" => "withdrawal",
        "identity_code" => "identity_code",
        "reminder" => "reminder",
        "focus_group_invitation" => "focus_group_invitation",
        "focus_group_reminder" => "focus_group_reminder",
        "focus_group_cancellation" => "focus_group_cancellation",
        "focus_group_update" => "focus_group_update",
        "new_link" => "new_link",
        "audit_checkpoint" => "audit_checkpoint",
        "password_link" => "password_link",
        "results_summary" => "results_summary",
        _ => "other",
    }
}

fn to_domain(m: outbox::Model) -> Result<StoredMail, AppError> {
    let attachment = match (m.attachment_name, m.attachment_type, m.attachment) {
        (Some(name), Some(content_type), Some(bytes)) => {
            Some(Attachment { name, content_type, bytes })
        }
        _ => None,
    };
    Ok(StoredMail {
        id: m.id,
        study_id: m.study_id,
        status: decode::<MailStatus>("mail status", &m.status)?,
        message: Message {
            study_id: m.study_id,
            kind: kind(&m.kind),
            to: m.to_address,
            subject: m.subject,
            body: m.body_text,
            attachment,
            secrets: Vec::new(),
        },
        attempts: m.attempts,
        last_error: m.last_error,
        created_at: m.created_at,
        due_at: m.next_attempt_at,
        sent_at: m.sent_at,
        sealed: m.sealed,
    })
}

/// Queues a message (as staff may read it) with its sealed original, if it carries a
/// secret; not to be sent before `due`.
pub async fn insert(
    db: &impl Conn,
    message: &Message,
    sealed: Option<Vec<u8>>,
    now: DateTime<Utc>,
    due: DateTime<Utc>,
) -> Result<i64, AppError> {
    let a = message.attachment.as_ref();
    let model = outbox::ActiveModel {
        study_id: Set(message.study_id),
        kind: Set(message.kind.to_string()),
        to_address: Set(message.to.clone()),
        subject: Set(message.subject.clone()),
        body_text: Set(message.body.clone()),
        attachment_name: Set(a.map(|a| a.name.clone())),
        attachment_type: Set(a.map(|a| a.content_type.clone())),
        attachment: Set(a.map(|a| a.bytes.clone())),
        status: Set(MailStatus::Queued.as_str().to_string()),
        attempts: Set(0),
        next_attempt_at: Set(due),
        claimed_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        sealed: Set(sealed),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(model.id)
}

/// Claims up to `limit` due messages (queued and due, or abandoned by a sender
/// whose claim ran out) for `lease`; call inside a write transaction.
pub async fn claim_due(
    db: &impl Conn,
    now: DateTime<Utc>,
    lease: Duration,
    limit: u64,
) -> Result<Vec<StoredMail>, AppError> {
    let due = Condition::any()
        .add(
            Condition::all()
                .add(outbox::Column::Status.eq(MailStatus::Queued.as_str()))
                .add(outbox::Column::NextAttemptAt.lte(now)),
        )
        .add(
            Condition::all()
                .add(outbox::Column::Status.eq(MailStatus::Sending.as_str()))
                .add(outbox::Column::ClaimedUntil.lt(now)),
        );
    let rows = outbox::Entity::find()
        .filter(due)
        .order_by_asc(outbox::Column::Id)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    if !ids.is_empty() {
        outbox::Entity::update_many()
            .col_expr(outbox::Column::Status, Expr::value(MailStatus::Sending.as_str()))
            .col_expr(outbox::Column::ClaimedUntil, Expr::value(now + lease))
            .filter(outbox::Column::Id.is_in(ids))
            .exec(db)
            .await?;
    }
    rows.into_iter().map(to_domain).collect()
}

/// The sealed original is kept only while the message may still be sent.
fn sealed_after(status: MailStatus) -> sea_orm::sea_query::SimpleExpr {
    if matches!(status, MailStatus::Queued | MailStatus::Sending) {
        Expr::col(outbox::Column::Sealed)
    } else {
        Expr::value(Option::<Vec<u8>>::None)
    }
}

pub async fn mark(
    db: &impl Conn,
    id: i64,
    status: MailStatus,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(status.as_str()))
        .col_expr(outbox::Column::Attempts, Expr::value(attempts))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(next_attempt_at))
        .col_expr(outbox::Column::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(outbox::Column::LastError, Expr::value(error.map(str::to_string)))
        .col_expr(outbox::Column::SentAt, Expr::value((status == MailStatus::Sent).then_some(now)))
        .col_expr(outbox::Column::Sealed, sealed_after(status))
        .filter(outbox::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The newest messages, of the given studies only when `studies` is `Some`.
pub async fn recent(
    db: &impl Conn,
    studies: Option<&[i64]>,
    limit: u64,
) -> Result<Vec<StoredMail>, AppError> {
    let mut q = outbox::Entity::find().order_by_desc(outbox::Column::Id).limit(limit);
    if let Some(ids) = studies {
        q = q.filter(outbox::Column::StudyId.is_in(ids.to_vec()));
    }
    q.all(db).await?.into_iter().map(to_domain).collect()
}

/// Cancels the still-queued messages of one kind to one address in a study (a
/// reminder for a session the person no longer attends); returns how many.
pub async fn cancel_queued(
    db: &impl Conn,
    study_id: i64,
    kind: &str,
    to: &str,
) -> Result<u64, AppError> {
    let r = outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(MailStatus::Cancelled.as_str()))
        .col_expr(outbox::Column::Sealed, sealed_after(MailStatus::Cancelled))
        .filter(outbox::Column::StudyId.eq(study_id))
        .filter(outbox::Column::Kind.eq(kind))
        .filter(outbox::Column::ToAddress.eq(to))
        .filter(outbox::Column::Status.eq(MailStatus::Queued.as_str()))
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}

/// The messages of a study to one address, newest first.
pub async fn to_address(
    db: &impl Conn,
    study_id: i64,
    address: &str,
) -> Result<Vec<StoredMail>, AppError> {
    outbox::Entity::find()
        .filter(outbox::Column::StudyId.eq(study_id))
        .filter(outbox::Column::ToAddress.eq(address))
        .order_by_desc(outbox::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect()
}
