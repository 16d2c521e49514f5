//! Participants and their contact details (kept in a table of their own, read only
//! for coordinators), and the gapless per-study code counter.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, Set,
};

use super::entity::{
    participant_contacts, participant_links, participants, studies, study_code_counters,
};
use super::{Conn, decode};
use crate::domain::participant::{Participant, Withdrawal, WithdrawalScope, participant_code};
use crate::domain::study::Study;
use crate::domain::user::Email;
use crate::error::AppError;

fn to_domain(m: participants::Model) -> Result<Participant, AppError> {
    let withdrawal = match (m.withdrawal_scope, m.withdrawn_at) {
        (Some(scope), Some(at)) => {
            Some(Withdrawal { scope: decode::<WithdrawalScope>("withdrawal scope", &scope)?, at })
        }
        _ => None,
    };
    Ok(Participant {
        id: m.id,
        study_id: m.study_id,
        code: m.code,
        withdrawal,
        created_at: m.created_at,
    })
}

/// A new participant whose first link has the hash `first_link_hash` (add the link
/// itself with `add_link`).
/// Where a new participant came from: `label` (`invitation`, `ad:<code>`, …), and
/// for an ad, the ad and the stratum their screening placed them in.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub label: &'a str,
    pub ad_id: Option<i64>,
    pub stratum_id: Option<i64>,
}

impl<'a> Source<'a> {
    /// A participant who came by other means than an ad.
    pub fn named(label: &'a str) -> Self {
        Self { label, ad_id: None, stratum_id: None }
    }
}

pub async fn insert(
    db: &impl Conn,
    study_id: i64,
    first_link_hash: &str,
    name: &str,
    email: &Email,
    source: Source<'_>,
    now: DateTime<Utc>,
) -> Result<Participant, AppError> {
    let model = participants::ActiveModel {
        study_id: Set(study_id),
        first_link_hash: Set(first_link_hash.to_string()),
        code: Set(None),
        source: Set(source.label.to_string()),
        ad_id: Set(source.ad_id),
        stratum_id: Set(source.stratum_id),
        withdrawal_scope: Set(None),
        withdrawal_reason: Set(None),
        withdrawn_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    participant_contacts::ActiveModel {
        participant_id: Set(model.id),
        study_id: Set(study_id),
        name: Set(name.to_string()),
        email: Set(email.as_str().to_string()),
    }
    .insert(db)
    .await?;
    to_domain(model)
}

/// The participant of `study_id` with this e-mail address, if any.
pub async fn find_by_email(
    db: &impl Conn,
    study_id: i64,
    email: &Email,
) -> Result<Option<Participant>, AppError> {
    let contact = participant_contacts::Entity::find()
        .filter(participant_contacts::Column::StudyId.eq(study_id))
        .filter(participant_contacts::Column::Email.eq(email.as_str()))
        .one(db)
        .await?;
    match contact {
        Some(c) => find(db, c.participant_id).await,
        None => Ok(None),
    }
}

pub async fn find(db: &impl Conn, id: i64) -> Result<Option<Participant>, AppError> {
    participants::Entity::find_by_id(id).one(db).await?.map(to_domain).transpose()
}

/// A participant with their study, in one statement.
pub async fn with_study(db: &impl Conn, id: i64) -> Result<Option<(Participant, Study)>, AppError> {
    with_their_study(db, participants::Entity::find_by_id(id)).await
}

/// The participant a live (unexpired) link belongs to, with their study.
pub async fn find_by_link(
    db: &impl Conn,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Participant, Study)>, AppError> {
    // One statement: every participant request starts here.
    let live_link = Query::select()
        .column(participant_links::Column::ParticipantId)
        .from(participant_links::Entity)
        .and_where(participant_links::Column::TokenHash.eq(token_hash))
        .and_where(participant_links::Column::ExpiresAt.gt(now))
        .to_owned();
    let found =
        participants::Entity::find().filter(participants::Column::Id.in_subquery(live_link));
    with_their_study(db, found).await
}

/// The one participant `query` finds, read with their study in the same statement.
async fn with_their_study(
    db: &impl Conn,
    query: sea_orm::Select<participants::Entity>,
) -> Result<Option<(Participant, Study)>, AppError> {
    let their_study = participants::Entity::belongs_to(studies::Entity)
        .from(participants::Column::StudyId)
        .to(studies::Column::Id)
        .into();
    let found =
        query.join(JoinType::InnerJoin, their_study).select_also(studies::Entity).one(db).await?;
    match found {
        Some((participant, Some(study))) => {
            Ok(Some((to_domain(participant)?, super::study::to_domain(study)?)))
        }
        Some((_, None)) => Err(AppError::Internal("participant without a study".into())),
        None => Ok(None),
    }
}

/// Gives a participant one more private link; the links they hold already stay.
pub async fn add_link(
    db: &impl Conn,
    participant_id: i64,
    token_hash: &str,
    origin: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), AppError> {
    participant_links::ActiveModel {
        participant_id: Set(participant_id),
        token_hash: Set(token_hash.to_string()),
        origin: Set(origin.to_string()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Every participant, in any study, with this e-mail address.
pub async fn all_by_email(db: &impl Conn, email: &Email) -> Result<Vec<Participant>, AppError> {
    let ids: Vec<i64> = participant_contacts::Entity::find()
        .filter(participant_contacts::Column::Email.eq(email.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.participant_id)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    participants::Entity::find()
        .filter(participants::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect()
}

pub async fn find_by_code(
    db: &impl Conn,
    study_id: i64,
    code: &str,
) -> Result<Option<Participant>, AppError> {
    participants::Entity::find()
        .filter(participants::Column::StudyId.eq(study_id))
        .filter(participants::Column::Code.eq(code))
        .one(db)
        .await?
        .map(to_domain)
        .transpose()
}

/// Name and e-mail address, for coordinators and for mail only.
pub async fn contact(db: &impl Conn, id: i64) -> Result<Option<(String, String)>, AppError> {
    Ok(participant_contacts::Entity::find_by_id(id).one(db).await?.map(|c| (c.name, c.email)))
}

/// Gives the participant the study's next code, without gaps: the counter row is
/// locked for the rest of the transaction (`FOR UPDATE` on PostgreSQL).
pub async fn assign_code(
    db: &impl Conn,
    study_id: i64,
    participant_id: i64,
) -> Result<String, AppError> {
    // The increment locks the counter's row until the transaction ends (on
    // PostgreSQL a second instance waits for the first to commit, then counts on
    // from its number), so codes are gapless and never given twice. A study's
    // first code creates the row first.
    let mut next = increment(db, study_id).await?;
    if next.is_none() {
        study_code_counters::Entity::insert(study_code_counters::ActiveModel {
            study_id: Set(study_id),
            last_code: Set(0),
        })
        .on_conflict_do_nothing()
        .exec(db)
        .await?;
        next = increment(db, study_id).await?;
    }
    let next = next.ok_or_else(|| AppError::Internal("code counter vanished".into()))?;
    let code = participant_code(next);
    participants::Entity::update_many()
        .col_expr(participants::Column::Code, Expr::value(code.clone()))
        .filter(participants::Column::Id.eq(participant_id))
        .exec(db)
        .await?;
    Ok(code)
}

/// Adds one to the study's code counter and returns the new value (`None` when the
/// study has no counter yet).
async fn increment(db: &impl Conn, study_id: i64) -> Result<Option<i64>, AppError> {
    let counted = study_code_counters::Entity::update_many()
        .col_expr(
            study_code_counters::Column::LastCode,
            Expr::col(study_code_counters::Column::LastCode).add(1),
        )
        .filter(study_code_counters::Column::StudyId.eq(study_id))
        .exec_with_returning(db)
        .await?;
    Ok(counted.first().map(|c| c.last_code))
}

pub async fn withdraw(
    db: &impl Conn,
    id: i64,
    scope: WithdrawalScope,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    participants::Entity::update_many()
        .col_expr(participants::Column::WithdrawalScope, Expr::value(scope.as_str()))
        .col_expr(participants::Column::WithdrawalReason, Expr::value(reason.map(str::to_string)))
        .col_expr(participants::Column::WithdrawnAt, Expr::value(now))
        .filter(participants::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Every withdrawal in a study, by participant id, in one query.
pub async fn withdrawals(
    db: &impl Conn,
    study_id: i64,
) -> Result<std::collections::HashMap<i64, Withdrawal>, AppError> {
    let rows = participants::Entity::find()
        .filter(participants::Column::StudyId.eq(study_id))
        .filter(participants::Column::WithdrawnAt.is_not_null())
        .all(db)
        .await?;
    let mut out = std::collections::HashMap::new();
    for row in rows {
        let id = row.id;
        if let Some(w) = to_domain(row)?.withdrawal {
            out.insert(id, w);
        }
    }
    Ok(out)
}

/// The study's participants who have not withdrawn, with when they were last reminded.
pub async fn active_in_study(
    db: &impl Conn,
    study_id: i64,
) -> Result<Vec<(Participant, Option<DateTime<Utc>>)>, AppError> {
    participants::Entity::find()
        .filter(participants::Column::StudyId.eq(study_id))
        .filter(participants::Column::WithdrawnAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            let reminded = m.reminded_at;
            to_domain(m).map(|p| (p, reminded))
        })
        .collect()
}

pub async fn set_reminded(db: &impl Conn, id: i64, at: DateTime<Utc>) -> Result<(), AppError> {
    participants::Entity::update_many()
        .col_expr(participants::Column::RemindedAt, Expr::value(at))
        .filter(participants::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// One line of a study's participant list, as stored: the participant, their
/// contact, the ad and stratum that brought them, and how far they are.
pub struct RosterRow {
    pub participant: Participant,
    pub name: String,
    pub email: String,
    pub ad_code: Option<String>,
    /// `question = value` of their stratum.
    pub stratum: Option<String>,
    /// Questionnaires they have completed.
    pub completed: usize,
    pub gave_availability: bool,
    /// The title of the session they are placed in (not cancelled).
    pub session: Option<String>,
}

/// Every participant of a study, oldest first, in a handful of queries whatever
/// their number.
pub async fn roster(db: &impl Conn, study_id: i64) -> Result<Vec<RosterRow>, AppError> {
    use super::entity::{ads, availability, focus_group_members, focus_groups, responses, strata};
    use sea_orm::QueryOrder;
    use std::collections::{HashMap, HashSet};

    let people = participants::Entity::find()
        .filter(participants::Column::StudyId.eq(study_id))
        .order_by_asc(participants::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = people.iter().map(|p| p.id).collect();
    let contacts: HashMap<i64, participant_contacts::Model> = participant_contacts::Entity::find()
        .filter(participant_contacts::Column::StudyId.eq(study_id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.participant_id, c))
        .collect();
    let ad_codes: HashMap<i64, String> = ads::Entity::find()
        .filter(ads::Column::StudyId.eq(study_id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.code))
        .collect();
    let strata: HashMap<i64, String> = strata::Entity::find()
        .filter(strata::Column::StudyId.eq(study_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, format!("{} = {}", s.question_key, s.value)))
        .collect();
    let mut completed: HashMap<i64, usize> = HashMap::new();
    for r in responses::Entity::find()
        .filter(responses::Column::StudyId.eq(study_id))
        .filter(responses::Column::Status.eq("complete"))
        .all(db)
        .await?
    {
        *completed.entry(r.participant_id).or_default() += 1;
    }
    let groups: HashMap<i64, String> = focus_groups::Entity::find()
        .filter(focus_groups::Column::StudyId.eq(study_id))
        .filter(focus_groups::Column::CancelledAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.id, g.title))
        .collect();
    let group_ids: Vec<i64> = groups.keys().copied().collect();
    let mut sessions: HashMap<i64, String> = HashMap::new();
    let mut available: HashSet<i64> = HashSet::new();
    if !group_ids.is_empty() {
        for m in focus_group_members::Entity::find()
            .filter(focus_group_members::Column::FocusGroupId.is_in(group_ids.clone()))
            .all(db)
            .await?
        {
            if let Some(title) = groups.get(&m.focus_group_id) {
                sessions.insert(m.participant_id, title.clone());
            }
        }
        for a in availability::Entity::find()
            .filter(availability::Column::FocusGroupId.is_in(group_ids))
            .all(db)
            .await?
        {
            available.insert(a.participant_id);
        }
    }
    let mut out = Vec::with_capacity(ids.len());
    for m in people {
        let (id, ad_id, stratum_id) = (m.id, m.ad_id, m.stratum_id);
        let contact = contacts.get(&id);
        out.push(RosterRow {
            participant: to_domain(m)?,
            name: contact.map(|c| c.name.clone()).unwrap_or_default(),
            email: contact.map(|c| c.email.clone()).unwrap_or_default(),
            ad_code: ad_id.and_then(|a| ad_codes.get(&a).cloned()),
            stratum: stratum_id.and_then(|s| strata.get(&s).cloned()),
            completed: completed.get(&id).copied().unwrap_or(0),
            gave_availability: available.contains(&id),
            session: sessions.remove(&id),
        });
    }
    Ok(out)
}
