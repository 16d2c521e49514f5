//! Aggregations for the report, computed in the database over the normalised
//! answers. Only complete responses count, and never those of participants who
//! withdrew with their data. Ids are bound as parameters.

use sea_orm::{DbBackend, Statement, Value};

use super::Conn;
use crate::error::AppError;

/// The answer rows a study's statistics come from: complete responses of
/// participants who did not withdraw their data.
const FROM: &str = "FROM answers a \
     JOIN responses r ON r.id = a.response_id \
     JOIN participants p ON p.id = r.participant_id \
     WHERE r.study_id = {1} AND r.status = 'complete' \
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

/// `study_id` followed by the group's values, and the group's condition.
fn bind(study_id: i64, group: Option<&Group>, first: usize) -> (String, Vec<Value>) {
    let (condition, mut values) = group_condition(group, first);
    let mut all = vec![study_id.into()];
    all.append(&mut values);
    (condition, all)
}

/// Respondents per questionnaire: complete responses that count.
pub async fn respondents(
    db: &impl Conn,
    study_id: i64,
    group: Option<&Group>,
) -> Result<Vec<(i64, i64)>, AppError> {
    let (condition, values) = bind(study_id, group, 2);
    let sql = format!(
        "SELECT r.instrument_id, COUNT(*) FROM responses r JOIN participants p ON p.id = r.participant_id \
         WHERE r.study_id = {{1}} AND r.status = 'complete' \
         AND (p.withdrawal_scope IS NULL OR p.withdrawal_scope <> 'withdraw_data'){condition} \
         GROUP BY r.instrument_id"
    );
    rows(db, &sql, values)
        .await?
        .iter()
        .map(|r| Ok((r.try_get_by_index::<i64>(0)?, r.try_get_by_index::<i64>(1)?)))
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(AppError::from)
}

/// One group of identical answers to a question: the chosen value, yes/no or number
/// (all `None` for text and dates), how many answer rows hold it and on how many of
/// them a respondent's answer to the question starts (`first_of_question`).
#[derive(Debug, Clone, PartialEq)]
pub struct ValueGroup {
    pub instrument_id: i64,
    pub question_key: String,
    pub choice: Option<String>,
    pub flag: Option<bool>,
    pub number: Option<f64>,
    /// Respondents who gave this value (a response has one row per question and value).
    pub rows: i64,
    /// Summed over a question's groups: the respondents who answered it.
    pub first_rows: i64,
}

/// Every counted answer of the study, grouped by questionnaire, question and value:
/// one pass over the answers from which every count, mean, quantile and
/// distribution of the report follows.
pub async fn value_groups(
    db: &impl Conn,
    study_id: i64,
    group: Option<&Group>,
) -> Result<Vec<ValueGroup>, AppError> {
    let (condition, values) = bind(study_id, group, 2);
    let sql = format!(
        "SELECT r.instrument_id, a.question_key, a.choice_value, a.bool_value, a.number_value, \
         COUNT(*), SUM(CASE WHEN a.first_of_question THEN 1 ELSE 0 END) {FROM}{condition} \
         GROUP BY r.instrument_id, a.question_key, a.choice_value, a.bool_value, a.number_value"
    );
    let mut out = Vec::new();
    for r in rows(db, &sql, values).await? {
        out.push(ValueGroup {
            instrument_id: r.try_get_by_index(0)?,
            question_key: r.try_get_by_index(1)?,
            choice: r.try_get_by_index(2)?,
            flag: r.try_get_by_index(3)?,
            number: r.try_get_by_index(4)?,
            rows: r.try_get_by_index(5)?,
            first_rows: r.try_get_by_index(6)?,
        });
    }
    Ok(out)
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
