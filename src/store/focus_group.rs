//! Focus groups, their members and attendance, participants' availability and the
//! conflicts facilitators declare.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::Conn;
use super::entity::{
    availability, facilitator_conflicts, focus_group_members, focus_groups, participant_contacts,
    participants, users,
};
use crate::domain::focus_group::{FocusGroup, FocusGroupDraft, Member, SessionLog, first_name};
use crate::domain::user::User;
use crate::error::AppError;

fn to_domain(m: focus_groups::Model, facilitator: Option<&users::Model>) -> FocusGroup {
    let log = match (m.actual_minutes, m.new_codes, m.logged_at) {
        (Some(actual_minutes), Some(new_codes), Some(logged_at)) => Some(SessionLog {
            actual_minutes,
            new_codes,
            notes: m.notes.unwrap_or_default(),
            logged_at,
        }),
        _ => None,
    };
    FocusGroup {
        id: m.id,
        study_id: m.study_id,
        title: m.title,
        starts_at: m.starts_at,
        duration_minutes: m.duration_minutes,
        location: m.location,
        facilitator_id: m.facilitator_id,
        facilitator_email: facilitator.map(|u| u.email.clone()).unwrap_or_default(),
        facilitator_name: facilitator.map(|u| u.name.clone()).unwrap_or_default(),
        capacity: m.capacity,
        sequence: m.sequence,
        cancelled_at: m.cancelled_at,
        log,
    }
}

async fn with_facilitators(
    db: &impl Conn,
    rows: Vec<focus_groups::Model>,
) -> Result<Vec<FocusGroup>, AppError> {
    let people = super::user::models_by_id(db, rows.iter().map(|r| r.facilitator_id)).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let f = people.get(&r.facilitator_id);
            to_domain(r, f)
        })
        .collect())
}

pub async fn insert(
    db: &impl Conn,
    study_id: i64,
    draft: &FocusGroupDraft,
    facilitator: &User,
    created_by: i64,
    now: DateTime<Utc>,
) -> Result<FocusGroup, AppError> {
    let m = focus_groups::ActiveModel {
        study_id: Set(study_id),
        title: Set(draft.title.clone()),
        starts_at: Set(draft.starts_at),
        duration_minutes: Set(draft.duration_minutes),
        location: Set(draft.location.clone()),
        facilitator_id: Set(facilitator.id),
        capacity: Set(draft.capacity),
        sequence: Set(0),
        cancelled_at: Set(None),
        actual_minutes: Set(None),
        new_codes: Set(None),
        notes: Set(None),
        logged_at: Set(None),
        created_by: Set(created_by),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let mut out = with_facilitators(db, vec![m]).await?;
    out.pop().ok_or_else(|| AppError::Internal("inserted focus group vanished".into()))
}

/// A study's sessions in time order; only one facilitator's when `facilitator` is set.
pub async fn of_study(
    db: &impl Conn,
    study_id: i64,
    facilitator: Option<i64>,
) -> Result<Vec<FocusGroup>, AppError> {
    let mut q = focus_groups::Entity::find().filter(focus_groups::Column::StudyId.eq(study_id));
    if let Some(f) = facilitator {
        q = q.filter(focus_groups::Column::FacilitatorId.eq(f));
    }
    let rows = q
        .order_by_asc(focus_groups::Column::StartsAt)
        .order_by_asc(focus_groups::Column::Id)
        .all(db)
        .await?;
    with_facilitators(db, rows).await
}

/// Whether the study has a session that has not started and is not cancelled (what
/// `FocusGroup::upcoming` says of one), in one statement.
pub async fn any_upcoming(
    db: &impl Conn,
    study_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let next = focus_groups::Entity::find()
        .filter(focus_groups::Column::StudyId.eq(study_id))
        .filter(focus_groups::Column::StartsAt.gt(now))
        .filter(focus_groups::Column::CancelledAt.is_null())
        .select_only()
        .column(focus_groups::Column::Id)
        .into_tuple::<i64>()
        .one(db)
        .await?;
    Ok(next.is_some())
}

/// The sessions a staff member facilitates that have not started and are not
/// cancelled, soonest first, across studies.
pub async fn upcoming_for_facilitator(
    db: &impl Conn,
    facilitator_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<FocusGroup>, AppError> {
    let rows = focus_groups::Entity::find()
        .filter(focus_groups::Column::FacilitatorId.eq(facilitator_id))
        .filter(focus_groups::Column::StartsAt.gt(now))
        .filter(focus_groups::Column::CancelledAt.is_null())
        .order_by_asc(focus_groups::Column::StartsAt)
        .all(db)
        .await?;
    with_facilitators(db, rows).await
}

/// One session of a study, its row locked for the rest of the transaction when
/// `lock` is set (`FOR UPDATE` on PostgreSQL), so that two concurrent additions
/// cannot both take its last place.
pub async fn get(
    db: &impl Conn,
    study_id: i64,
    id: i64,
    lock: bool,
) -> Result<Option<FocusGroup>, AppError> {
    let mut q =
        focus_groups::Entity::find_by_id(id).filter(focus_groups::Column::StudyId.eq(study_id));
    if lock {
        q = q.lock_exclusive();
    }
    match q.one(db).await? {
        Some(m) => Ok(with_facilitators(db, vec![m]).await?.pop()),
        None => Ok(None),
    }
}

/// The members of each of the given sessions, by code.
pub async fn members(
    db: &impl Conn,
    group_ids: &[i64],
) -> Result<BTreeMap<i64, Vec<Member>>, AppError> {
    let rows = focus_group_members::Entity::find()
        .filter(focus_group_members::Column::FocusGroupId.is_in(group_ids.iter().copied()))
        .all(db)
        .await?;
    let ids: BTreeSet<i64> = rows.iter().map(|r| r.participant_id).collect();
    let codes: BTreeMap<i64, Option<String>> = participants::Entity::find()
        .filter(participants::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.code))
        .collect();
    let names: BTreeMap<i64, String> = participant_contacts::Entity::find()
        .filter(participant_contacts::Column::ParticipantId.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.participant_id, first_name(&c.name)))
        .collect();
    let mut out: BTreeMap<i64, Vec<Member>> = group_ids.iter().map(|g| (*g, Vec::new())).collect();
    for r in rows {
        out.entry(r.focus_group_id).or_default().push(Member {
            participant_id: r.participant_id,
            code: codes.get(&r.participant_id).cloned().flatten().unwrap_or_default(),
            first_name: names.get(&r.participant_id).cloned().unwrap_or_default(),
            attended: r.attended,
            invited_at: r.invited_at,
        });
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| a.code.cmp(&b.code));
    }
    Ok(out)
}

/// Locks a participant's row for the rest of the transaction (`FOR UPDATE` on
/// PostgreSQL), so two sessions cannot take the same person at once.
pub async fn lock_participant(db: &impl Conn, participant_id: i64) -> Result<(), AppError> {
    participants::Entity::find_by_id(participant_id).lock_exclusive().one(db).await?;
    Ok(())
}

/// The members of one session, by code.
pub async fn members_of(db: &impl Conn, group_id: i64) -> Result<Vec<Member>, AppError> {
    Ok(members(db, &[group_id]).await?.remove(&group_id).unwrap_or_default())
}

pub async fn member_count(db: &impl Conn, group_id: i64) -> Result<u64, AppError> {
    Ok(focus_group_members::Entity::find()
        .filter(focus_group_members::Column::FocusGroupId.eq(group_id))
        .count(db)
        .await?)
}

/// The session of this study a participant is a member of, if any (cancelled
/// sessions do not count: their members are free to join another).
pub async fn group_of(
    db: &impl Conn,
    study_id: i64,
    participant_id: i64,
) -> Result<Option<FocusGroup>, AppError> {
    // One statement: the portal asks on every visit.
    let groups = sea_orm::sea_query::Query::select()
        .column(focus_group_members::Column::FocusGroupId)
        .from(focus_group_members::Entity)
        .and_where(focus_group_members::Column::ParticipantId.eq(participant_id))
        .to_owned();
    let row = focus_groups::Entity::find()
        .filter(focus_groups::Column::Id.in_subquery(groups))
        .filter(focus_groups::Column::StudyId.eq(study_id))
        .filter(focus_groups::Column::CancelledAt.is_null())
        .one(db)
        .await?;
    match row {
        Some(m) => Ok(with_facilitators(db, vec![m]).await?.pop()),
        None => Ok(None),
    }
}

/// Changes a session's time, place, title, facilitator or capacity; `sequence` is
/// the calendar SEQUENCE it now has.
pub async fn update(
    db: &impl Conn,
    id: i64,
    draft: &FocusGroupDraft,
    facilitator_id: i64,
    sequence: i32,
) -> Result<(), AppError> {
    focus_groups::ActiveModel {
        id: Set(id),
        title: Set(draft.title.clone()),
        starts_at: Set(draft.starts_at),
        duration_minutes: Set(draft.duration_minutes),
        location: Set(draft.location.clone()),
        facilitator_id: Set(facilitator_id),
        capacity: Set(draft.capacity),
        sequence: Set(sequence),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Marks a session cancelled (it is kept, with its members, for the record).
pub async fn cancel(
    db: &impl Conn,
    id: i64,
    sequence: i32,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    focus_groups::ActiveModel {
        id: Set(id),
        sequence: Set(sequence),
        cancelled_at: Set(Some(now)),
        ..Default::default()
    }
    .update(db)
    .await?;
    availability::Entity::delete_many()
        .filter(availability::Column::FocusGroupId.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn add_member(
    db: &impl Conn,
    group_id: i64,
    participant_id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    focus_group_members::ActiveModel {
        focus_group_id: Set(group_id),
        participant_id: Set(participant_id),
        attended: Set(None),
        added_at: Set(now),
        invited_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Takes a participant out of a session; `false` when they were not in it.
pub async fn remove_member(
    db: &impl Conn,
    group_id: i64,
    participant_id: i64,
) -> Result<bool, AppError> {
    let r = focus_group_members::Entity::delete_many()
        .filter(focus_group_members::Column::FocusGroupId.eq(group_id))
        .filter(focus_group_members::Column::ParticipantId.eq(participant_id))
        .exec(db)
        .await?;
    Ok(r.rows_affected > 0)
}

/// Takes a participant out of every session that has not started (on withdrawal).
pub async fn leave_upcoming(
    db: &impl Conn,
    participant_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, AppError> {
    let upcoming: Vec<i64> = focus_groups::Entity::find()
        .filter(focus_groups::Column::StartsAt.gt(now))
        .filter(focus_groups::Column::CancelledAt.is_null())
        .select_only()
        .column(focus_groups::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let left: Vec<i64> = focus_group_members::Entity::find()
        .filter(focus_group_members::Column::ParticipantId.eq(participant_id))
        .filter(focus_group_members::Column::FocusGroupId.is_in(upcoming.iter().copied()))
        .select_only()
        .column(focus_group_members::Column::FocusGroupId)
        .into_tuple()
        .all(db)
        .await?;
    focus_group_members::Entity::delete_many()
        .filter(focus_group_members::Column::ParticipantId.eq(participant_id))
        .filter(focus_group_members::Column::FocusGroupId.is_in(left.iter().copied()))
        .exec(db)
        .await?;
    availability::Entity::delete_many()
        .filter(availability::Column::ParticipantId.eq(participant_id))
        .exec(db)
        .await?;
    Ok(left)
}

/// Records whether a member came; `false` when they are not a member.
pub async fn set_attendance(
    db: &impl Conn,
    group_id: i64,
    participant_id: i64,
    attended: bool,
) -> Result<bool, AppError> {
    let r = focus_group_members::Entity::update_many()
        .col_expr(focus_group_members::Column::Attended, Expr::value(attended))
        .filter(focus_group_members::Column::FocusGroupId.eq(group_id))
        .filter(focus_group_members::Column::ParticipantId.eq(participant_id))
        .exec(db)
        .await?;
    Ok(r.rows_affected > 0)
}

pub async fn mark_invited(
    db: &impl Conn,
    group_id: i64,
    participant_id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    focus_group_members::Entity::update_many()
        .col_expr(focus_group_members::Column::InvitedAt, Expr::value(now))
        .filter(focus_group_members::Column::FocusGroupId.eq(group_id))
        .filter(focus_group_members::Column::ParticipantId.eq(participant_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn set_log(db: &impl Conn, group_id: i64, log: &SessionLog) -> Result<(), AppError> {
    focus_groups::ActiveModel {
        id: Set(group_id),
        actual_minutes: Set(Some(log.actual_minutes)),
        new_codes: Set(Some(log.new_codes)),
        notes: Set(Some(log.notes.clone())),
        logged_at: Set(Some(log.logged_at)),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// The sessions a participant said they can attend.
pub async fn availability(db: &impl Conn, participant_id: i64) -> Result<Vec<i64>, AppError> {
    Ok(availability::Entity::find()
        .filter(availability::Column::ParticipantId.eq(participant_id))
        .order_by_asc(availability::Column::FocusGroupId)
        .select_only()
        .column(availability::Column::FocusGroupId)
        .into_tuple()
        .all(db)
        .await?)
}

/// Replaces a participant's availability with these sessions.
pub async fn set_availability(
    db: &impl Conn,
    participant_id: i64,
    group_ids: &BTreeSet<i64>,
) -> Result<(), AppError> {
    availability::Entity::delete_many()
        .filter(availability::Column::ParticipantId.eq(participant_id))
        .exec(db)
        .await?;
    if group_ids.is_empty() {
        return Ok(());
    }
    availability::Entity::insert_many(group_ids.iter().map(|g| availability::ActiveModel {
        participant_id: Set(participant_id),
        focus_group_id: Set(*g),
        ..Default::default()
    }))
    .exec(db)
    .await?;
    Ok(())
}

/// Every participant's availability over the given sessions.
pub async fn availability_for(
    db: &impl Conn,
    group_ids: &[i64],
) -> Result<BTreeMap<i64, BTreeSet<i64>>, AppError> {
    let rows: Vec<(i64, i64)> = availability::Entity::find()
        .filter(availability::Column::FocusGroupId.is_in(group_ids.iter().copied()))
        .select_only()
        .column(availability::Column::ParticipantId)
        .column(availability::Column::FocusGroupId)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for (p, g) in rows {
        out.entry(p).or_default().insert(g);
    }
    Ok(out)
}

/// `(facilitator, participant)` conflicts declared in a study.
pub async fn conflicts(db: &impl Conn, study_id: i64) -> Result<Vec<(i64, i64)>, AppError> {
    Ok(facilitator_conflicts::Entity::find()
        .filter(facilitator_conflicts::Column::StudyId.eq(study_id))
        .select_only()
        .column(facilitator_conflicts::Column::FacilitatorId)
        .column(facilitator_conflicts::Column::ParticipantId)
        .into_tuple()
        .all(db)
        .await?)
}

pub async fn has_conflict(
    db: &impl Conn,
    facilitator_id: i64,
    participant_id: i64,
) -> Result<bool, AppError> {
    Ok(facilitator_conflicts::Entity::find()
        .filter(facilitator_conflicts::Column::FacilitatorId.eq(facilitator_id))
        .filter(facilitator_conflicts::Column::ParticipantId.eq(participant_id))
        .count(db)
        .await?
        > 0)
}

/// Records a declared conflict; declaring it twice is one conflict.
pub async fn add_conflict(
    db: &impl Conn,
    study_id: i64,
    facilitator_id: i64,
    participant_id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    facilitator_conflicts::Entity::insert(facilitator_conflicts::ActiveModel {
        study_id: Set(study_id),
        facilitator_id: Set(facilitator_id),
        participant_id: Set(participant_id),
        declared_at: Set(now),
        ..Default::default()
    })
    .on_conflict_do_nothing()
    .exec(db)
    .await?;
    Ok(())
}

/// The study's consented participants who have not withdrawn, with their stratum
/// (`question=value`) when they came through one: `(id, code, stratum)`.
pub async fn consented(
    db: &impl Conn,
    study_id: i64,
) -> Result<Vec<(i64, String, Option<String>)>, AppError> {
    let strata: BTreeMap<i64, String> = super::entity::strata::Entity::find()
        .filter(super::entity::strata::Column::StudyId.eq(study_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, format!("{}={}", s.question_key, s.value)))
        .collect();
    Ok(participants::Entity::find()
        .filter(participants::Column::StudyId.eq(study_id))
        .filter(participants::Column::WithdrawnAt.is_null())
        .filter(participants::Column::Code.is_not_null())
        .order_by_asc(participants::Column::Code)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|p| {
            let stratum = p.stratum_id.and_then(|s| strata.get(&s).cloned());
            p.code.map(|c| (p.id, c, stratum))
        })
        .collect())
}

/// A declared conflict as staff read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredConflict {
    pub facilitator_email: String,
    pub participant_code: String,
    pub declared_at: DateTime<Utc>,
}

/// The conflicts declared in a study, only one facilitator's when `facilitator` is set.
pub async fn conflicts_listed(
    db: &impl Conn,
    study_id: i64,
    facilitator: Option<i64>,
) -> Result<Vec<StoredConflict>, AppError> {
    let mut q = facilitator_conflicts::Entity::find()
        .filter(facilitator_conflicts::Column::StudyId.eq(study_id));
    if let Some(f) = facilitator {
        q = q.filter(facilitator_conflicts::Column::FacilitatorId.eq(f));
    }
    let rows = q.order_by_asc(facilitator_conflicts::Column::Id).all(db).await?;
    let people: BTreeSet<i64> = rows.iter().map(|r| r.participant_id).collect();
    let codes: BTreeMap<i64, String> = participants::Entity::find()
        .filter(participants::Column::Id.is_in(people))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|p| p.code.map(|c| (p.id, c)))
        .collect();
    let staff: BTreeSet<i64> = rows.iter().map(|r| r.facilitator_id).collect();
    let emails: BTreeMap<i64, String> = users::Entity::find()
        .filter(users::Column::Id.is_in(staff))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| StoredConflict {
            facilitator_email: emails.get(&r.facilitator_id).cloned().unwrap_or_default(),
            participant_code: codes.get(&r.participant_id).cloned().unwrap_or_default(),
            declared_at: r.declared_at,
        })
        .collect())
}

/// Withdraws a declared conflict; `false` when there was none.
pub async fn remove_conflict(
    db: &impl Conn,
    facilitator_id: i64,
    participant_id: i64,
) -> Result<bool, AppError> {
    let r = facilitator_conflicts::Entity::delete_many()
        .filter(facilitator_conflicts::Column::FacilitatorId.eq(facilitator_id))
        .filter(facilitator_conflicts::Column::ParticipantId.eq(participant_id))
        .exec(db)
        .await?;
    Ok(r.rows_affected > 0)
}
