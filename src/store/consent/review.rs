//! Knowledge-review answers: every answer a participant gives to a version's
//! questions, kept in the order given (never updated or removed).

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::domain::consent::review::Attempt;
use crate::error::AppError;
use crate::store::Conn;
use crate::store::entity::consent_check_attempts as attempts;

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
/// language), oldest first.
pub async fn of_participant(
    db: &impl Conn,
    participant_id: i64,
    consent_form_ids: &[i64],
) -> Result<Vec<Attempt>, AppError> {
    Ok(attempts::Entity::find()
        .filter(attempts::Column::ConsentFormId.is_in(consent_form_ids.iter().copied()))
        .filter(attempts::Column::ParticipantId.eq(participant_id))
        .order_by_asc(attempts::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect())
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
