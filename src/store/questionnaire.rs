//! Questionnaire definitions in use, instruments attached to studies, and responses
//! with their answers normalised for reporting.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entity::{answers, questionnaire_definitions, responses, study_instruments};
use super::{Conn, decode};
use crate::domain::questionnaire::answers::AnswerRow;
use crate::domain::questionnaire::{Instrument, Response, ResponseStatus, Stage};
use crate::error::AppError;

/// A stored definition: its id, hash and file text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDefinition {
    pub id: i64,
    pub key: String,
    pub version: u32,
    pub form_hash: String,
    pub source: String,
}

fn definition(m: questionnaire_definitions::Model) -> StoredDefinition {
    StoredDefinition {
        id: m.id,
        key: m.key,
        version: u32::try_from(m.version).unwrap_or(0),
        form_hash: m.form_hash,
        source: m.source,
    }
}

pub async fn find_definition(
    db: &impl Conn,
    key: &str,
    version: u32,
) -> Result<Option<StoredDefinition>, AppError> {
    Ok(questionnaire_definitions::Entity::find()
        .filter(questionnaire_definitions::Column::Key.eq(key))
        .filter(questionnaire_definitions::Column::Version.eq(i64::from(version)))
        .one(db)
        .await?
        .map(definition))
}

pub async fn definition_by_id(
    db: &impl Conn,
    id: i64,
) -> Result<Option<StoredDefinition>, AppError> {
    Ok(questionnaire_definitions::Entity::find_by_id(id).one(db).await?.map(definition))
}

pub async fn insert_definition(
    db: &impl Conn,
    key: &str,
    version: u32,
    form_hash: &str,
    source: &str,
    now: DateTime<Utc>,
) -> Result<StoredDefinition, AppError> {
    let m = questionnaire_definitions::ActiveModel {
        key: Set(key.to_string()),
        version: Set(i32::try_from(version).unwrap_or(i32::MAX)),
        form_hash: Set(form_hash.to_string()),
        source: Set(source.to_string()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(definition(m))
}

/// Replaces a definition's text, allowed only while nobody has answered it.
pub async fn replace_definition(
    db: &impl Conn,
    id: i64,
    form_hash: &str,
    source: &str,
) -> Result<(), AppError> {
    questionnaire_definitions::Entity::update_many()
        .col_expr(questionnaire_definitions::Column::FormHash, Expr::value(form_hash))
        .col_expr(questionnaire_definitions::Column::Source, Expr::value(source))
        .filter(questionnaire_definitions::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Whether anyone has answered (or started) this definition.
pub async fn has_responses(db: &impl Conn, definition_id: i64) -> Result<bool, AppError> {
    let n = responses::Entity::find()
        .filter(responses::Column::DefinitionId.eq(definition_id))
        .count(db)
        .await?;
    Ok(n > 0)
}

pub async fn all_definitions(db: &impl Conn) -> Result<Vec<StoredDefinition>, AppError> {
    Ok(questionnaire_definitions::Entity::find()
        .order_by_asc(questionnaire_definitions::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(definition)
        .collect())
}

fn instrument(m: study_instruments::Model, d: &StoredDefinition) -> Result<Instrument, AppError> {
    Ok(Instrument {
        id: m.id,
        study_id: m.study_id,
        definition_id: m.definition_id,
        key: m.key,
        version: d.version,
        form_hash: d.form_hash.clone(),
        stage: decode::<Stage>("instrument stage", &m.stage)?,
        eligible_if: m.eligible_if,
        position: m.position,
    })
}

pub async fn insert_instrument(
    db: &impl Conn,
    study_id: i64,
    def: &StoredDefinition,
    stage: Stage,
    eligible_if: Option<&str>,
    created_by: i64,
    now: DateTime<Utc>,
) -> Result<Instrument, AppError> {
    let position = study_instruments::Entity::find()
        .filter(study_instruments::Column::StudyId.eq(study_id))
        .count(db)
        .await?;
    let m = study_instruments::ActiveModel {
        study_id: Set(study_id),
        definition_id: Set(def.id),
        key: Set(def.key.clone()),
        stage: Set(stage.as_str().to_string()),
        eligible_if: Set(eligible_if.map(str::to_string)),
        position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
        created_by: Set(created_by),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(super::taken(|| {
        AppError::Conflict(format!(
            "The questionnaire {} is attached to this study already.",
            def.key
        ))
    }))?;
    instrument(m, def)
}

/// A study's instruments in the order they were attached, each with its
/// definition: one statement, as every questionnaire page and the portal read them.
pub async fn instruments(db: &impl Conn, study_id: i64) -> Result<Vec<Instrument>, AppError> {
    use study_instruments::Column as C;
    let its_definition = study_instruments::Entity::belongs_to(questionnaire_definitions::Entity)
        .from(C::DefinitionId)
        .to(questionnaire_definitions::Column::Id)
        .into();
    study_instruments::Entity::find()
        .select_only()
        .columns([C::Id, C::StudyId, C::DefinitionId, C::Key, C::Stage, C::EligibleIf, C::Position])
        .column_as(questionnaire_definitions::Column::Version, "definition_version")
        .column_as(questionnaire_definitions::Column::FormHash, "definition_hash")
        .filter(C::StudyId.eq(study_id))
        .join(JoinType::InnerJoin, its_definition)
        .order_by_asc(C::Position)
        .order_by_asc(C::Id)
        .into_model::<InstrumentRow>()
        .all(db)
        .await?
        .into_iter()
        .map(|r| {
            Ok(Instrument {
                id: r.id,
                study_id: r.study_id,
                definition_id: r.definition_id,
                key: r.key,
                version: u32::try_from(r.definition_version).unwrap_or(0),
                form_hash: r.definition_hash,
                stage: decode::<Stage>("instrument stage", &r.stage)?,
                eligible_if: r.eligible_if,
                position: r.position,
            })
        })
        .collect()
}

/// An instrument with the version and hash of its definition, without the
/// definition's file text.
#[derive(sea_orm::FromQueryResult)]
struct InstrumentRow {
    id: i64,
    study_id: i64,
    definition_id: i64,
    key: String,
    stage: String,
    eligible_if: Option<String>,
    position: i32,
    definition_version: i32,
    definition_hash: String,
}

fn response(m: responses::Model) -> Result<Response, AppError> {
    Ok(Response {
        id: m.id,
        participant_id: m.participant_id,
        instrument_id: m.instrument_id,
        definition_id: m.definition_id,
        form_hash: m.form_hash,
        status: m
            .status
            .parse::<ResponseStatus>()
            .map_err(|_| AppError::Internal(format!("unknown response status {:?}", m.status)))?,
        revision: m.revision,
        submitted_at: m.submitted_at,
        updated_at: m.updated_at,
    })
}

/// A participant's responses in this study (one per instrument at most).
pub async fn responses_of(db: &impl Conn, participant_id: i64) -> Result<Vec<Response>, AppError> {
    responses::Entity::find()
        .filter(responses::Column::ParticipantId.eq(participant_id))
        .all(db)
        .await?
        .into_iter()
        .map(response)
        .collect()
}

pub async fn answer_rows(db: &impl Conn, response_id: i64) -> Result<Vec<AnswerRow>, AppError> {
    Ok(answers::Entity::find()
        .filter(answers::Column::ResponseId.eq(response_id))
        .order_by_asc(answers::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|a| AnswerRow {
            question_key: a.question_key,
            choice_value: a.choice_value,
            text_value: a.text_value,
            number_value: a.number_value,
            bool_value: a.bool_value,
        })
        .collect())
}

/// What a save writes.
pub struct Save<'a> {
    pub study_id: i64,
    pub participant_id: i64,
    pub instrument_id: i64,
    pub definition_id: i64,
    pub form_hash: &'a str,
    pub status: ResponseStatus,
    pub rows: &'a [AnswerRow],
    pub now: DateTime<Utc>,
}

/// Creates or revises a response: its answers are replaced, its revision raised.
pub async fn save_response(
    db: &impl Conn,
    save: Save<'_>,
    existing: Option<&Response>,
) -> Result<Response, AppError> {
    let submitted_at = match (save.status, existing) {
        (ResponseStatus::Complete, _) => Some(save.now),
        (ResponseStatus::InProgress, Some(r)) => r.submitted_at,
        (ResponseStatus::InProgress, None) => None,
    };
    let model = match existing {
        Some(r) => {
            answers::Entity::delete_many()
                .filter(answers::Column::ResponseId.eq(r.id))
                .exec(db)
                .await?;
            responses::ActiveModel {
                id: Set(r.id),
                definition_id: Set(save.definition_id),
                form_hash: Set(save.form_hash.to_string()),
                status: Set(save.status.as_str().to_string()),
                revision: Set(r.revision + 1),
                submitted_at: Set(submitted_at),
                updated_at: Set(save.now),
                ..Default::default()
            }
            .update(db)
            .await?
        }
        None => {
            responses::ActiveModel {
                study_id: Set(save.study_id),
                participant_id: Set(save.participant_id),
                instrument_id: Set(save.instrument_id),
                definition_id: Set(save.definition_id),
                form_hash: Set(save.form_hash.to_string()),
                status: Set(save.status.as_str().to_string()),
                revision: Set(1),
                started_at: Set(save.now),
                submitted_at: Set(submitted_at),
                updated_at: Set(save.now),
                ..Default::default()
            }
            .insert(db)
            .await?
        }
    };
    if !save.rows.is_empty() {
        let mut seen = std::collections::HashSet::new();
        let rows = save.rows.iter().map(|a| answers::ActiveModel {
            first_of_question: Set(seen.insert(a.question_key.as_str())),
            response_id: Set(model.id),
            study_id: Set(save.study_id),
            instrument_id: Set(save.instrument_id),
            question_key: Set(a.question_key.clone()),
            choice_value: Set(a.choice_value.clone()),
            text_value: Set(a.text_value.clone()),
            number_value: Set(a.number_value),
            bool_value: Set(a.bool_value),
            ..Default::default()
        });
        answers::Entity::insert_many(rows).exec(db).await?;
    }
    response(model)
}
