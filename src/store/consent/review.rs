//! Knowledge-review answers: every answer a participant gives to a version's
//! questions, kept in the order given (never updated or removed), and each time the
//! researchers allowed new tries.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::domain::consent::review::Attempt;
use crate::error::AppError;
use crate::store::Conn;
use crate::store::entity::consent_check_attempts as attempts;
use crate::store::entity::consent_review_reopenings as reopenings;

fn to_domain(m: attempts::Model) -> Attempt {
    Attempt { key: m.check_key, answer: m.answer, correct: m.correct }
}

/// Keeps one submission's answers.
pub async fn insert(
    db: &impl Conn,
    participant_id: i64,
    consent_form_id: i64,
    given: &[Attempt],
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if given.is_empty() {
        return Ok(());
    }
    let rows = given.iter().map(|a| attempts::ActiveModel {
        participant_id: Set(participant_id),
        consent_form_id: Set(consent_form_id),
        check_key: Set(a.key.clone()),
        answer: Set(a.answer.clone()),
        correct: Set(a.correct),
        answered_at: Set(now),
        ..Default::default()
    });
    attempts::Entity::insert_many(rows).exec(db).await?;
    Ok(())
}

/// A participant's answers to the questions of these texts (a version's, in each
/// language), oldest first, each with its row id.
pub async fn of_participant(
    db: &impl Conn,
    participant_id: i64,
    consent_form_ids: &[i64],
) -> Result<Vec<(i64, Attempt)>, AppError> {
    Ok(attempts::Entity::find()
        .filter(attempts::Column::ConsentFormId.is_in(consent_form_ids.iter().copied()))
        .filter(attempts::Column::ParticipantId.eq(participant_id))
        .order_by_asc(attempts::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, to_domain(m)))
        .collect())
}

/// Every participant's answers to the questions of these texts, oldest first, each
/// with its participant and row id.
pub async fn of_texts(
    db: &impl Conn,
    consent_form_ids: &[i64],
) -> Result<Vec<(i64, i64, Attempt)>, AppError> {
    Ok(attempts::Entity::find()
        .filter(attempts::Column::ConsentFormId.is_in(consent_form_ids.iter().copied()))
        .order_by_asc(attempts::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.participant_id, m.id, to_domain(m)))
        .collect())
}

/// For each participant given new tries on a version, the last answer before the
/// latest time.
pub async fn reopenings(
    db: &impl Conn,
    version: &str,
    participant_ids: &[i64],
) -> Result<std::collections::HashMap<i64, i64>, AppError> {
    let mut latest = std::collections::HashMap::new();
    for m in reopenings::Entity::find()
        .filter(reopenings::Column::Version.eq(version))
        .filter(reopenings::Column::ParticipantId.is_in(participant_ids.iter().copied()))
        .order_by_asc(reopenings::Column::Id)
        .all(db)
        .await?
    {
        latest.insert(m.participant_id, m.last_attempt_id);
    }
    Ok(latest)
}

/// The last answer before the latest time new tries were allowed to a participant on
/// a version: answers up to it no longer count towards the limit.
pub async fn reopened_after(
    db: &impl Conn,
    participant_id: i64,
    version: &str,
) -> Result<Option<i64>, AppError> {
    Ok(reopenings::Entity::find()
        .filter(reopenings::Column::ParticipantId.eq(participant_id))
        .filter(reopenings::Column::Version.eq(version))
        .order_by_desc(reopenings::Column::Id)
        .one(db)
        .await?
        .map(|m| m.last_attempt_id))
}

/// Allows a participant new tries on a version's questions after `last_attempt_id`.
pub async fn reopen(
    db: &impl Conn,
    participant_id: i64,
    version: &str,
    last_attempt_id: i64,
    by: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    reopenings::ActiveModel {
        participant_id: Set(participant_id),
        version: Set(version.to_string()),
        last_attempt_id: Set(last_attempt_id),
        reopened_by: Set(by),
        reopened_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Each participant's first answer to each question of these texts (a version's,
/// in each language).
pub async fn first_answers(
    db: &impl Conn,
    consent_form_ids: &[i64],
) -> Result<Vec<Attempt>, AppError> {
    let all = attempts::Entity::find()
        .filter(attempts::Column::ConsentFormId.is_in(consent_form_ids.iter().copied()))
        .order_by_asc(attempts::Column::Id)
        .all(db)
        .await?;
    let mut seen = std::collections::HashSet::new();
    Ok(all
        .into_iter()
        .filter(|m| seen.insert((m.participant_id, m.check_key.clone())))
        .map(to_domain)
        .collect())
}
