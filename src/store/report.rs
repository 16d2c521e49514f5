//! Aggregations for the report, computed in the database over the normalised
//! answers. Only complete responses count, and never those of participants who
//! withdrew with their data. Ids are bound as parameters.

use sea_orm::{DbBackend, Statement, Value};

use super::Conn;
use crate::error::AppError;

/// The rows an instrument's statistics come from.
const FROM: &str = "FROM answers a \
     JOIN responses r ON r.id = a.response_id \
     JOIN participants p ON p.id = r.participant_id \
     WHERE r.instrument_id = {1} AND r.status = 'complete' \
     AND (p.withdrawal_scope IS NULL OR p.withdrawal_scope <> 'withdraw_data')";

/// Restricts an aggregation to the participants who gave one answer to a
/// screening question (a cross-tab group).
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub instrument_id: i64,
    pub question_key: String,
    pub value: GroupValue,
}

/// The answer that defines a group, in the column it is stored in.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupValue {
    Choice(String),
    Flag(bool),
    Number(f64),
}

/// The SQL condition (on `r.participant_id`) for `group`, its placeholders numbered
/// from `first`, and the values to bind; empty without a group.
fn group_condition(group: Option<&Group>, first: usize) -> (String, Vec<Value>) {
    let Some(g) = group else { return (String::new(), Vec::new()) };
    let (column, value): (&str, Value) = match &g.value {
        GroupValue::Choice(c) => ("choice_value", c.clone().into()),
        GroupValue::Flag(b) => ("bool_value", (*b).into()),
        GroupValue::Number(n) => ("number_value", (*n).into()),
    };
    let sql = format!(
        " AND r.participant_id IN (SELECT gr.participant_id FROM responses gr \
         JOIN answers ga ON ga.response_id = gr.id \
         WHERE gr.instrument_id = {{{first}}} AND ga.question_key = {{{}}} AND ga.{column} = {{{}}})",
        first + 1,
        first + 2
    );
    (sql, vec![g.instrument_id.into(), g.question_key.clone().into(), value])
}

fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    }
}

fn statement(db: &impl Conn, sql: &str, values: Vec<Value>) -> Statement {
    let backend = db.get_database_backend();
    let mut text = sql.to_string();
    for n in (1..=values.len()).rev() {
        text = text.replace(&format!("{{{n}}}"), &placeholder(backend, n));
    }
    Statement::from_sql_and_values(backend, text, values)
}

async fn rows(
    db: &impl Conn,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<sea_orm::QueryResult>, AppError> {
    Ok(db.query_all_raw(statement(db, sql, values)).await?)
}

/// `instrument_id` followed by the group's values, and the group's condition.
fn bind(instrument_id: i64, group: Option<&Group>, first: usize) -> (String, Vec<Value>) {
    let (condition, mut values) = group_condition(group, first);
    let mut all = vec![instrument_id.into()];
    all.append(&mut values);
    (condition, all)
}

/// Respondents: complete responses that count.
pub async fn respondents(
    db: &impl Conn,
    instrument_id: i64,
    group: Option<&Group>,
) -> Result<i64, AppError> {
    let (condition, values) = bind(instrument_id, group, 2);
    let sql = format!(
        "SELECT COUNT(*) FROM responses r JOIN participants p ON p.id = r.participant_id \
         WHERE r.instrument_id = {{1}} AND r.status = 'complete' \
         AND (p.withdrawal_scope IS NULL OR p.withdrawal_scope <> 'withdraw_data'){condition}"
    );
    let found = rows(db, &sql, values).await?;
    Ok(found.first().and_then(|r| r.try_get_by_index::<i64>(0).ok()).unwrap_or(0))
}

/// Per question: respondents who answered it.
pub async fn answered(
    db: &impl Conn,
    instrument_id: i64,
    group: Option<&Group>,
) -> Result<Vec<(String, i64)>, AppError> {
    let (condition, values) = bind(instrument_id, group, 2);
    let sql = format!(
        "SELECT a.question_key, COUNT(DISTINCT r.id) {FROM}{condition} GROUP BY a.question_key"
    );
    rows(db, &sql, values)
        .await?
        .iter()
        .map(|r| Ok((r.try_get_by_index::<String>(0)?, r.try_get_by_index::<i64>(1)?)))
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(AppError::from)
}

/// Per question and chosen value (choices) or yes/no answer: respondents.
pub async fn value_counts(
    db: &impl Conn,
    instrument_id: i64,
    group: Option<&Group>,
) -> Result<Vec<(String, String, i64)>, AppError> {
    let (condition, values) = bind(instrument_id, group, 2);
    let sql = format!(
        "SELECT a.question_key, a.choice_value, a.bool_value, COUNT(DISTINCT r.id) {FROM} \
         AND (a.choice_value IS NOT NULL OR a.bool_value IS NOT NULL){condition} \
         GROUP BY a.question_key, a.choice_value, a.bool_value"
    );
    let mut out = Vec::new();
    for r in rows(db, &sql, values).await? {
        let key: String = r.try_get_by_index(0)?;
        let choice: Option<String> = r.try_get_by_index(1)?;
        let flag: Option<bool> = r.try_get_by_index(2)?;
        let n: i64 = r.try_get_by_index(3)?;
        let value = match (choice, flag) {
            (Some(c), _) => c,
            (None, Some(b)) => if b { "yes" } else { "no" }.to_string(),
            (None, None) => continue,
        };
        out.push((key, value, n));
    }
    Ok(out)
}

/// Per numeric question: n, mean, min and max.
pub async fn numeric(
    db: &impl Conn,
    instrument_id: i64,
    group: Option<&Group>,
) -> Result<Vec<(String, i64, f64, f64, f64)>, AppError> {
    let (condition, values) = bind(instrument_id, group, 2);
    let sql = format!(
        "SELECT a.question_key, COUNT(*), AVG(a.number_value), MIN(a.number_value), MAX(a.number_value) {FROM} \
         AND a.number_value IS NOT NULL{condition} GROUP BY a.question_key"
    );
    let mut out = Vec::new();
    for r in rows(db, &sql, values).await? {
        out.push((
            r.try_get_by_index(0)?,
            r.try_get_by_index(1)?,
            r.try_get_by_index(2)?,
            r.try_get_by_index(3)?,
            r.try_get_by_index(4)?,
        ));
    }
    Ok(out)
}

/// Per numeric question and value: respondents, lowest value first.
pub async fn distribution(
    db: &impl Conn,
    instrument_id: i64,
    group: Option<&Group>,
) -> Result<Vec<(String, f64, i64)>, AppError> {
    let (condition, values) = bind(instrument_id, group, 2);
    let sql = format!(
        "SELECT a.question_key, a.number_value, COUNT(*) {FROM} \
         AND a.number_value IS NOT NULL{condition} \
         GROUP BY a.question_key, a.number_value ORDER BY a.question_key, a.number_value"
    );
    let mut out = Vec::new();
    for r in rows(db, &sql, values).await? {
        out.push((r.try_get_by_index(0)?, r.try_get_by_index(1)?, r.try_get_by_index(2)?));
    }
    Ok(out)
}

/// The numeric answers to `question_key` at sorted positions `offset` and
/// `offset + 1` (for quantiles), read by the database without loading the rest.
pub async fn values_at(
    db: &impl Conn,
    instrument_id: i64,
    question_key: &str,
    offset: u64,
    group: Option<&Group>,
) -> Result<(Option<f64>, Option<f64>), AppError> {
    let (condition, mut values) = bind(instrument_id, group, 4);
    let sql = format!(
        "SELECT a.number_value {FROM} AND a.question_key = {{2}} AND a.number_value IS NOT NULL{condition} \
         ORDER BY a.number_value LIMIT 2 OFFSET {{3}}"
    );
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
    values.insert(1, question_key.into());
    values.insert(2, offset.into());
    let found = rows(db, &sql, values).await?;
    let at = |i: usize| found.get(i).and_then(|r| r.try_get_by_index::<f64>(0).ok());
    Ok((at(0), at(1)))
}

/// Participants who withdrew with their data (excluded from everything computed from answers).
pub async fn withdrawn_with_data(db: &impl Conn, study_id: i64) -> Result<i64, AppError> {
    let sql = "SELECT COUNT(*) FROM participants WHERE study_id = {1} AND withdrawal_scope = 'withdraw_data'";
    let found = rows(db, sql, vec![study_id.into()]).await?;
    Ok(found.first().and_then(|r| r.try_get_by_index::<i64>(0).ok()).unwrap_or(0))
}

/// Enrolment counts: consented (have a code) and withdrawn, among everyone.
pub async fn consented_and_withdrawn(
    db: &impl Conn,
    study_id: i64,
) -> Result<(i64, i64), AppError> {
    let sql = "SELECT \
                 COALESCE(SUM(CASE WHEN code IS NOT NULL THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN withdrawn_at IS NOT NULL THEN 1 ELSE 0 END), 0) \
               FROM participants WHERE study_id = {1}";
    let found = rows(db, sql, vec![study_id.into()]).await?;
    let r = found.first().ok_or_else(|| AppError::Internal("no enrolment row".into()))?;
    Ok((r.try_get_by_index::<i64>(0)?, r.try_get_by_index::<i64>(1)?))
}

/// One stored answer row for the export: participant code, instrument, question
/// and the typed value columns. Only participants whose answers count.
pub type ExportRow =
    (String, i64, String, Option<String>, Option<String>, Option<f64>, Option<bool>);

pub async fn export_rows(db: &impl Conn, study_id: i64) -> Result<Vec<ExportRow>, AppError> {
    let sql = "SELECT p.code, r.instrument_id, a.question_key, a.choice_value, a.text_value, a.number_value, a.bool_value \
               FROM answers a JOIN responses r ON r.id = a.response_id \
               JOIN participants p ON p.id = r.participant_id \
               WHERE p.study_id = {1} AND p.code IS NOT NULL AND r.status = 'complete' \
               AND (p.withdrawal_scope IS NULL OR p.withdrawal_scope <> 'withdraw_data') \
               ORDER BY p.code, r.instrument_id, a.id";
    let mut out = Vec::new();
    for r in rows(db, sql, vec![study_id.into()]).await? {
        out.push((
            r.try_get_by_index(0)?,
            r.try_get_by_index(1)?,
            r.try_get_by_index(2)?,
            r.try_get_by_index(3)?,
            r.try_get_by_index(4)?,
            r.try_get_by_index(5)?,
            r.try_get_by_index(6)?,
        ));
    }
    Ok(out)
}

/// Codes of the participants whose answers count (consented, not withdrawn with data).
pub async fn counted_codes(db: &impl Conn, study_id: i64) -> Result<Vec<String>, AppError> {
    let sql = "SELECT code FROM participants WHERE study_id = {1} AND code IS NOT NULL \
               AND (withdrawal_scope IS NULL OR withdrawal_scope <> 'withdraw_data') ORDER BY code";
    rows(db, sql, vec![study_id.into()])
        .await?
        .iter()
        .map(|r| r.try_get_by_index::<String>(0))
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(AppError::from)
}
