//! Focus-group scheduling: coordinators schedule sessions and place consented
//! participants in them (helped by a planner that reads everyone's availability);
//! members get one invitation each with a calendar file and a reminder before the
//! session (24 hours by default, a study setting); a changed or cancelled session
//! is sent to them again; facilitators see their own sessions, record attendance
//! and log each session for the saturation chart.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::json;

use super::AppState;
use super::studies::{require_coordinator, visible};
use crate::audit;
use crate::domain::audit::{NewEvent, sha256_hex};
use crate::domain::consent::ItemDecision;
use crate::domain::focus_group::calendar::{Invite, Method};
use crate::domain::focus_group::{
    self, Candidate, FocusGroup, FocusGroupDraft, Member, Plan, SessionLog, Slot, Standing,
};
use crate::domain::participant::{NextStep, Participant};
use crate::domain::policy::{Capacity, StudyRole};
use crate::domain::report::figures::FocusGroups;
use crate::domain::study::{Study, StudyStatus, Zone};
use crate::domain::user::{Role, User};
use crate::error::{AppError, AppResult};
use crate::keys::Keys;
use crate::mail::compose::{self, FOCUS_GROUP_REMINDER, SessionNotice};
use crate::store::{self, Conn};

/// What a coordinator asks for, as received.
pub struct NewGroup<'a> {
    pub title: &'a str,
    pub starts_at: &'a str,
    pub duration_minutes: i64,
    pub location: &'a str,
    pub facilitator_email: &'a str,
    pub capacity: i64,
    /// `starts_at` is a wall-clock time on the study's clock (`2026-03-08T14:00`, as a
    /// form's `datetime-local` sends it) rather than RFC 3339.
    pub wall_clock: bool,
}

impl NewGroup<'_> {
    fn draft(
        &self,
        now: DateTime<Utc>,
        zone: Zone,
    ) -> Result<FocusGroupDraft, crate::domain::FieldErrors> {
        let wall = chrono::NaiveDateTime::parse_from_str(self.starts_at.trim(), "%Y-%m-%dT%H:%M")
            .ok()
            .filter(|_| self.wall_clock)
            .and_then(|t| zone.from_local(t))
            .map(|t| t.to_rfc3339());
        FocusGroupDraft::parse(
            self.title,
            wall.as_deref().unwrap_or(self.starts_at),
            self.duration_minutes,
            self.location,
            self.facilitator_email,
            self.capacity,
            now,
        )
    }
}

/// A session with its members and how many participants said they can attend it.
#[derive(Debug, Clone)]
pub struct Session {
    pub group: FocusGroup,
    pub members: Vec<Member>,
    pub available: usize,
}

/// Who is acting on a session: one of the study's coordinators, or the session's
/// own facilitator. Anyone else does not see the session (404); ethics officers
/// never act on sessions (403).
async fn session_for(
    db: &impl Conn,
    user: &User,
    slug: &str,
    id: i64,
    coordinator_only: bool,
    lock: bool,
) -> AppResult<(Study, FocusGroup)> {
    let (study, capacity) = runs_sessions(db, user, slug).await?;
    if coordinator_only {
        require_coordinator(capacity)?;
    }
    let group = store::focus_group::get(db, study.id, id, lock).await?.ok_or(AppError::NotFound)?;
    if capacity == Capacity::Facilitator && group.facilitator_id != user.id {
        return Err(AppError::NotFound);
    }
    Ok((study, group))
}

fn not_cancelled(group: &FocusGroup) -> AppResult<()> {
    match group.cancelled_at {
        Some(_) => Err(AppError::Conflict("This focus group was cancelled.".into())),
        None => Ok(()),
    }
}

fn uid_domain(state: &AppState) -> String {
    let url = state.config.public_link("");
    let host = url.split("://").nth(1).unwrap_or(&url);
    let host = host.split(['/', ':']).next().unwrap_or_default();
    if host.is_empty() { "consentry.local".to_string() } else { host.to_string() }
}

pub async fn create(
    state: &AppState,
    user: &User,
    slug: &str,
    input: NewGroup<'_>,
) -> AppResult<Session> {
    let now = Utc::now();
    let tx = state.db.begin_write().await?;
    let (study, capacity) = visible(tx.conn(), user, slug).await?;
    require_coordinator(capacity)?;
    let draft = input.draft(now, study.timezone)?;
    if matches!(study.status, StudyStatus::Closed | StudyStatus::Suspended) {
        return Err(AppError::Gone(format!(
            "The study is {}; no focus groups can be scheduled.",
            study.status
        )));
    }
    let facilitator = facilitator(tx.conn(), user, &study, &draft).await?;
    let group =
        store::focus_group::insert(tx.conn(), study.id, &draft, &facilitator, user.id, now).await?;
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "focus_group.created", "focus_group", group.id)
            .in_study(&study.slug)
            .with(json!({
                "starts_at": crate::domain::audit::format_at(&group.starts_at),
                "duration_minutes": group.duration_minutes,
                "capacity": group.capacity,
                "facilitator": facilitator.actor(),
            })),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(study = %study.slug, focus_group = group.id, "focus group scheduled");
    Ok(Session { group, members: Vec::new(), available: 0 })
}

/// The staff account a draft names as facilitator. Someone with a facilitator or
/// coordinator account who is not yet on the study's staff joins it as a
/// facilitator (audited as `study.staff_added`); anyone else is refused (422 on
/// `facilitator_email`).
async fn facilitator(
    db: &impl Conn,
    by: &User,
    study: &Study,
    draft: &FocusGroupDraft,
) -> AppResult<User> {
    let email = &draft.facilitator_email;
    let members = store::study::members(db, study.id).await?;
    if let Some((u, _)) = members.into_iter().find(|(u, _)| u.email == email.as_str() && u.active) {
        return Ok(u);
    }
    let account = store::user::find_by_email(db, email)
        .await?
        .filter(|u| u.active && matches!(u.role, Role::Facilitator | Role::Coordinator))
        .ok_or_else(|| {
            AppError::field(
                "facilitator_email",
                "not_staff",
                "No active facilitator or coordinator account has this e-mail address; an admin creates it first.",
            )
        })?;
    store::study::upsert_member(db, study.id, account.id, StudyRole::Facilitator, Utc::now())
        .await?;
    audit::record(
        db,
        NewEvent::new(by.actor(), "study.staff_added", "user", account.id)
            .in_study(&study.slug)
            .with(json!({"role": StudyRole::Facilitator, "to_facilitate": true})),
    )
    .await?;
    Ok(account)
}

/// Changes a session. A change of time, length, place or title raises the
/// calendar SEQUENCE and sends every invited member the updated event (their
/// reminder moves with it). Capacity cannot drop below the members placed, and a
/// new facilitator must have declared no conflict with any of them (409).
pub async fn reschedule(
    state: &AppState,
    user: &User,
    slug: &str,
    id: i64,
    input: NewGroup<'_>,
) -> AppResult<Session> {
    let now = Utc::now();
    let tx = state.db.begin_write().await?;
    let (study, group) = session_for(tx.conn(), user, slug, id, true, true).await?;
    not_cancelled(&group)?;
    let draft = input.draft(now, study.timezone)?;
    let lead = facilitator(tx.conn(), user, &study, &draft).await?;
    let members = store::focus_group::members_of(tx.conn(), group.id).await?;
    if members.len() > usize::try_from(draft.capacity).unwrap_or(0) {
        return Err(AppError::Conflict(format!(
            "{} people are placed in this session; remove some before lowering its places to {}.",
            members.len(),
            draft.capacity
        )));
    }
    for m in &members {
        if store::focus_group::has_conflict(tx.conn(), lead.id, m.participant_id).await? {
            return Err(AppError::Conflict(format!(
                "The new facilitator has declared a conflict with {}; move them first.",
                m.code
            )));
        }
    }
    let changed = group.calendar_changes(&draft);
    let sequence = if changed { group.sequence + 1 } else { group.sequence };
    store::focus_group::update(tx.conn(), group.id, &draft, lead.id, sequence).await?;
    let updated = store::focus_group::get(tx.conn(), study.id, group.id, false)
        .await?
        .ok_or(AppError::NotFound)?;
    let told = if changed {
        tell_invited(state, tx.conn(), &study, &updated, &members, Method::Request, now).await?
    } else {
        0
    };
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "focus_group.rescheduled", "focus_group", group.id)
            .in_study(&study.slug)
            .with(json!({
                "starts_at": crate::domain::audit::format_at(&updated.starts_at),
                "duration_minutes": updated.duration_minutes,
                "capacity": updated.capacity,
                "facilitator": lead.actor(),
                "sequence": sequence,
                "members_told": told,
            })),
    )
    .await?;
    let out = session(tx.conn(), updated).await?;
    tx.commit().await?;
    Ok(out)
}

/// Cancels a session: it is kept for the record, invited members are sent a
/// calendar cancellation and their reminders are withdrawn, and its members are
/// free to be placed in another session.
pub async fn cancel(state: &AppState, user: &User, slug: &str, id: i64) -> AppResult<Session> {
    let now = Utc::now();
    let tx = state.db.begin_write().await?;
    let (study, group) = session_for(tx.conn(), user, slug, id, true, true).await?;
    not_cancelled(&group)?;
    let members = store::focus_group::members_of(tx.conn(), group.id).await?;
    let sequence = group.sequence + 1;
    store::focus_group::cancel(tx.conn(), group.id, sequence, now).await?;
    let cancelled = FocusGroup { sequence, cancelled_at: Some(now), ..group };
    let told =
        tell_invited(state, tx.conn(), &study, &cancelled, &members, Method::Cancel, now).await?;
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "focus_group.cancelled", "focus_group", cancelled.id)
            .in_study(&study.slug)
            .with(json!({"members": members.len(), "members_told": told, "sequence": sequence})),
    )
    .await?;
    tx.commit().await?;
    Ok(Session { group: cancelled, members, available: 0 })
}

/// Replaces a member's pending reminder with one due the day before `group`
/// starts (none when that moment has passed).
async fn remind(
    db: &impl Conn,
    keys: &Keys,
    study: &Study,
    group: &FocusGroup,
    email: &str,
    first_name: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    store::mail::cancel_queued(db, study.id, FOCUS_GROUP_REMINDER, email).await?;
    if let Some(due) = focus_group::reminder_due(group.starts_at, study.reminder_hours, now) {
        let reminder =
            compose::focus_group(study, email, first_name, group, SessionNotice::Reminder, None);
        crate::mail::enqueue_due(db, keys, &reminder, now, due).await?;
    }
    Ok(())
}

/// Sends each invited member the session's calendar again — updated (`Request`)
/// with a new reminder, or cancelled (`Cancel`) with their reminder withdrawn.
/// Returns how many were told.
async fn tell_invited(
    state: &AppState,
    db: &impl Conn,
    study: &Study,
    group: &FocusGroup,
    members: &[Member],
    method: Method,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let mut told = 0;
    for m in members.iter().filter(|m| m.invited_at.is_some()) {
        let Some((name, email)) = store::participant::contact(db, m.participant_id).await? else {
            continue;
        };
        let first = focus_group::first_name(&name);
        let ics = calendar(state, study, group, Some((&name, &email)), method);
        let notice = match method {
            Method::Cancel => {
                store::mail::cancel_queued(db, study.id, FOCUS_GROUP_REMINDER, &email).await?;
                SessionNotice::Cancellation
            }
            Method::Request | Method::Publish => {
                remind(db, state.keys()?, study, group, &email, &first, now).await?;
                SessionNotice::Update
            }
        };
        let message = compose::focus_group(study, &email, &first, group, notice, Some(ics));
        crate::mail::enqueue(db, state.keys()?, &message).await?;
        told += 1;
    }
    Ok(told)
}

/// The sessions a staff member may see: all of the study's for coordinators, their
/// own for a facilitator.
pub async fn list(state: &AppState, user: &User, slug: &str) -> AppResult<Vec<Session>> {
    Ok(overview(state, user, slug).await?.2)
}

/// The study, the capacity the user acts in, and the sessions they may see.
pub async fn overview(
    state: &AppState,
    user: &User,
    slug: &str,
) -> AppResult<(Study, Capacity, Vec<Session>)> {
    let snap = state.db.begin_snapshot().await?;
    let (study, capacity) = runs_sessions(snap.conn(), user, slug).await?;
    let only = (capacity == Capacity::Facilitator).then_some(user.id);
    let groups = store::focus_group::of_study(snap.conn(), study.id, only).await?;
    let out = sessions(snap.conn(), groups).await?;
    snap.finish().await?;
    Ok((study, capacity, out))
}

async fn session(db: &impl Conn, group: FocusGroup) -> AppResult<Session> {
    sessions(db, vec![group])
        .await?
        .pop()
        .ok_or_else(|| AppError::Internal("session vanished".into()))
}

async fn sessions(db: &impl Conn, groups: Vec<FocusGroup>) -> AppResult<Vec<Session>> {
    let ids: Vec<i64> = groups.iter().map(|g| g.id).collect();
    let mut members = store::focus_group::members(db, &ids).await?;
    let availability = store::focus_group::availability_for(db, &ids).await?;
    Ok(groups
        .into_iter()
        .map(|g| {
            let available = availability.values().filter(|s| s.contains(&g.id)).count();
            Session { members: members.remove(&g.id).unwrap_or_default(), available, group: g }
        })
        .collect())
}

/// One session with its members.
pub async fn get(state: &AppState, user: &User, slug: &str, id: i64) -> AppResult<Session> {
    let (_, group) = session_for(state.db.conn(), user, slug, id, false, false).await?;
    session(state.db.conn(), group).await
}

/// A proposed allocation of every consented participant not yet in a session to
/// one of the upcoming sessions. Nothing is changed.
pub async fn plan(state: &AppState, user: &User, slug: &str) -> AppResult<Plan> {
    let snap = state.db.begin_snapshot().await?;
    let db = snap.conn();
    let (study, capacity) = visible(db, user, slug).await?;
    require_coordinator(capacity)?;
    let now = Utc::now();
    let all_groups = store::focus_group::of_study(db, study.id, None).await?;
    let held: Vec<i64> =
        all_groups.iter().filter(|g| g.cancelled_at.is_none()).map(|g| g.id).collect();
    let members = store::focus_group::members(db, &held).await?;
    let groups: Vec<FocusGroup> = all_groups.into_iter().filter(|g| g.upcoming(now)).collect();
    let placed: BTreeSet<i64> = members.values().flatten().map(|m| m.participant_id).collect();
    let people = store::focus_group::consented(db, study.id).await?;
    let stratum_of: BTreeMap<i64, Option<String>> =
        people.iter().map(|(id, _, s)| (*id, s.clone())).collect();
    let ids: Vec<i64> = groups.iter().map(|g| g.id).collect();
    let availability = store::focus_group::availability_for(db, &ids).await?;
    let mut conflicts: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for (facilitator, participant) in store::focus_group::conflicts(db, study.id).await? {
        conflicts.entry(participant).or_default().insert(facilitator);
    }
    snap.finish().await?;
    let slots: Vec<Slot> = groups
        .iter()
        .map(|g| Slot {
            id: g.id,
            capacity: usize::try_from(g.capacity).unwrap_or(0),
            facilitator_id: g.facilitator_id,
            starts_at: g.starts_at,
            member_strata: members
                .get(&g.id)
                .into_iter()
                .flatten()
                .map(|m| stratum_of.get(&m.participant_id).cloned().flatten())
                .collect(),
        })
        .collect();
    let candidates: Vec<Candidate> = people
        .into_iter()
        .filter(|(id, _, _)| !placed.contains(id))
        .map(|(id, code, stratum)| Candidate {
            code,
            stratum,
            available: availability.get(&id).cloned().unwrap_or_default(),
            conflicts: conflicts.get(&id).cloned().unwrap_or_default(),
        })
        .collect();
    Ok(focus_group::plan(&slots, &candidates))
}

async fn participant_by_code(db: &impl Conn, study: &Study, code: &str) -> AppResult<Participant> {
    let code = code.trim().to_uppercase();
    store::participant::find_by_code(db, study.id, &code).await?.ok_or_else(|| {
        AppError::field(
            "participant_code",
            "unknown",
            "No participant of this study has that code.",
        )
    })
}

/// Places a participant in a session (409 when they have not consented, have
/// withdrawn, are in another session, the session is full, or its facilitator has
/// declared a conflict with them).
pub async fn add_member(
    state: &AppState,
    user: &User,
    slug: &str,
    id: i64,
    code: &str,
) -> AppResult<Member> {
    let tx = state.db.begin_write().await?;
    let (study, group) = session_for(tx.conn(), user, slug, id, true, true).await?;
    not_cancelled(&group)?;
    let participant = participant_by_code(tx.conn(), &study, code).await?;
    store::focus_group::lock_participant(tx.conn(), participant.id).await?;
    let standing = match (&participant.withdrawal, &participant.code) {
        (Some(_), _) => Standing::Withdrawn,
        (None, Some(_)) => Standing::Consented,
        (None, None) => Standing::NotConsented,
    };
    let elsewhere = store::focus_group::group_of(tx.conn(), study.id, participant.id).await?;
    let members = store::focus_group::member_count(tx.conn(), group.id).await?;
    let conflict =
        store::focus_group::has_conflict(tx.conn(), group.facilitator_id, participant.id).await?;
    focus_group::admit(
        standing,
        usize::try_from(members).unwrap_or(usize::MAX),
        group.capacity,
        conflict,
        elsewhere.as_ref().map(|g| g.title.as_str()),
    )
    .map_err(AppError::Conflict)?;
    let now = Utc::now();
    store::focus_group::add_member(tx.conn(), group.id, participant.id, now).await?;
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "focus_group.member_added", "focus_group", group.id)
            .in_study(&study.slug)
            .with(json!({"participant_code": participant.code})),
    )
    .await?;
    tx.commit().await?;
    let first_name = store::participant::contact(state.db.conn(), participant.id)
        .await?
        .map(|(name, _)| focus_group::first_name(&name))
        .unwrap_or_default();
    Ok(Member {
        participant_id: participant.id,
        code: participant.code.unwrap_or_default(),
        first_name,
        attended: None,
        invited_at: None,
    })
}

/// Takes a participant out of a session. One already invited is sent a
/// cancellation for their calendar, and their reminder is withdrawn.
pub async fn remove_member(
    state: &AppState,
    user: &User,
    slug: &str,
    id: i64,
    code: &str,
) -> AppResult<()> {
    let tx = state.db.begin_write().await?;
    let (study, group) = session_for(tx.conn(), user, slug, id, true, true).await?;
    let participant = participant_by_code(tx.conn(), &study, code).await?;
    let member = store::focus_group::members_of(tx.conn(), group.id)
        .await?
        .into_iter()
        .find(|m| m.participant_id == participant.id)
        .ok_or(AppError::NotFound)?;
    store::focus_group::remove_member(tx.conn(), group.id, participant.id).await?;
    tell_invited(state, tx.conn(), &study, &group, &[member], Method::Cancel, Utc::now()).await?;
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "focus_group.member_removed", "focus_group", group.id)
            .in_study(&study.slug)
            .with(json!({"participant_code": participant.code})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn calendar(
    state: &AppState,
    study: &Study,
    group: &FocusGroup,
    attendee: Option<(&str, &str)>,
    method: Method,
) -> String {
    let first =
        attendee.map(|(name, address)| (focus_group::first_name(name), address.to_string()));
    focus_group::calendar::write(
        &Invite {
            group,
            study_title: &study.title,
            ethics_reference: &study.ethics.reference,
            organizer_name: &study.contact_name,
            organizer_email: &study.contact_email,
            attendee: first.as_ref().map(|(n, a)| (n.as_str(), a.as_str())),
            method,
            uid_domain: &uid_domain(state),
        },
        Utc::now(),
    )
}

/// The session as a calendar file (no attendees: the staff copy).
pub async fn ics(state: &AppState, user: &User, slug: &str, id: i64) -> AppResult<String> {
    let (study, group) = session_for(state.db.conn(), user, slug, id, false, false).await?;
    Ok(calendar(state, &study, &group, None, Method::Publish))
}

/// Queues one invitation per member (never a shared list of addresses) with the
/// calendar file, and a reminder due the day before. Members who withdrew are
/// skipped; members invited before are invited again (a resend replaces their
/// pending reminder). Returns how many were queued.
pub async fn invite(state: &AppState, user: &User, slug: &str, id: i64) -> AppResult<usize> {
    let tx = state.db.begin_write().await?;
    let (study, group) = session_for(tx.conn(), user, slug, id, true, false).await?;
    if matches!(study.status, StudyStatus::Closed | StudyStatus::Suspended) {
        return Err(AppError::Gone(format!(
            "The study is {}; no invitations are sent.",
            study.status
        )));
    }
    not_cancelled(&group)?;
    let now = Utc::now();
    if group.starts_at <= now {
        return Err(AppError::Conflict("This focus group has started already.".into()));
    }
    let members = store::focus_group::members_of(tx.conn(), group.id).await?;
    let mut queued = 0;
    for m in &members {
        let Some((name, email)) = store::participant::contact(tx.conn(), m.participant_id).await?
        else {
            continue;
        };
        let first = focus_group::first_name(&name);
        let ics = calendar(state, &study, &group, Some((&name, &email)), Method::Request);
        let invitation = compose::focus_group(
            &study,
            &email,
            &first,
            &group,
            SessionNotice::Invitation,
            Some(ics),
        );
        crate::mail::enqueue(tx.conn(), state.keys()?, &invitation).await?;
        remind(tx.conn(), state.keys()?, &study, &group, &email, &first, now).await?;
        store::focus_group::mark_invited(tx.conn(), group.id, m.participant_id, now).await?;
        queued += 1;
    }
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "focus_group.invited", "focus_group", group.id)
            .in_study(&study.slug)
            .with(json!({"invitations": queued, "sequence": group.sequence})),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(study = %study.slug, focus_group = group.id, queued, "invitations queued");
    Ok(queued)
}

/// Attendance as a facilitator records it.
#[derive(Debug, Clone, Copy)]
pub enum Attendance<'a> {
    /// One member came or did not (422 on `participant_code` for a non-member).
    One { code: &'a str, attended: bool },
    /// The register of the whole session: these codes came, every other member
    /// did not.
    Roll { present: &'a [String] },
}

/// Records attendance in one transaction, each mark an audit event. Returns how
/// many of the marks say the member came.
pub async fn attendance(
    state: &AppState,
    user: &User,
    slug: &str,
    id: i64,
    marks: Attendance<'_>,
) -> AppResult<usize> {
    let tx = state.db.begin_write().await?;
    let (study, group) = session_for(tx.conn(), user, slug, id, false, false).await?;
    not_cancelled(&group)?;
    // (participant id, code, came): a register's members are known already.
    let marks: Vec<(i64, String, bool)> = match marks {
        Attendance::One { code, attended } => {
            let p = participant_by_code(tx.conn(), &study, code).await?;
            vec![(p.id, p.code.unwrap_or_default(), attended)]
        }
        Attendance::Roll { present } => store::focus_group::members_of(tx.conn(), group.id)
            .await?
            .into_iter()
            .map(|m| {
                let came = present.contains(&m.code);
                (m.participant_id, m.code, came)
            })
            .collect(),
    };
    for (participant_id, code, attended) in &marks {
        if !store::focus_group::set_attendance(tx.conn(), group.id, *participant_id, *attended)
            .await?
        {
            return Err(AppError::field(
                "participant_code",
                "not_a_member",
                "That participant is not a member of this focus group.",
            ));
        }
        audit::record(
            tx.conn(),
            NewEvent::new(user.actor(), "focus_group.attendance", "focus_group", group.id)
                .in_study(&study.slug)
                .with(json!({"participant_code": code, "attended": attended})),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(marks.iter().filter(|(_, _, came)| *came).count())
}

/// Records the post-session log (a second log replaces the first).
pub async fn log(
    state: &AppState,
    user: &User,
    slug: &str,
    id: i64,
    actual_minutes: i64,
    new_codes: i64,
    notes: &str,
) -> AppResult<SessionLog> {
    let tx = state.db.begin_write().await?;
    let (study, group) = session_for(tx.conn(), user, slug, id, false, false).await?;
    not_cancelled(&group)?;
    let log = SessionLog::parse(actual_minutes, new_codes, notes, Utc::now())?;
    store::focus_group::set_log(tx.conn(), group.id, &log).await?;
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "focus_group.logged", "focus_group", group.id)
            .in_study(&study.slug)
            .with(json!({
                "actual_minutes": log.actual_minutes,
                "new_codes": log.new_codes,
                "notes_sha256": sha256_hex(log.notes.as_bytes()),
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(log)
}

/// A facilitator (or coordinator) declares that they should not facilitate a
/// session with this participant; the planner and `add_member` respect it.
pub async fn declare_conflict(
    state: &AppState,
    user: &User,
    slug: &str,
    code: &str,
) -> AppResult<()> {
    let tx = state.db.begin_write().await?;
    let (study, _) = runs_sessions(tx.conn(), user, slug).await?;
    let participant = participant_by_code(tx.conn(), &study, code).await?;
    store::focus_group::add_conflict(tx.conn(), study.id, user.id, participant.id, Utc::now())
        .await?;
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "focus_group.conflict_declared", "participant", participant.id)
            .in_study(&study.slug)
            .with(json!({"participant_code": participant.code})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The study and capacity of someone who runs its sessions (403 for ethics officers).
async fn runs_sessions(db: &impl Conn, user: &User, slug: &str) -> AppResult<(Study, Capacity)> {
    let (study, capacity) = visible(db, user, slug).await?;
    if capacity == Capacity::EthicsOfficer {
        return Err(AppError::Forbidden(
            "Focus groups are run by the study's coordinators and facilitators.".into(),
        ));
    }
    Ok((study, capacity))
}

/// The declared conflicts: all of the study's for coordinators, a facilitator's own.
pub async fn conflicts(
    state: &AppState,
    user: &User,
    slug: &str,
) -> AppResult<Vec<store::focus_group::StoredConflict>> {
    let (study, capacity) = runs_sessions(state.db.conn(), user, slug).await?;
    let only = (capacity == Capacity::Facilitator).then_some(user.id);
    store::focus_group::conflicts_listed(state.db.conn(), study.id, only).await
}

/// Withdraws one's own declared conflict with a participant (404 when there is none).
pub async fn withdraw_conflict(
    state: &AppState,
    user: &User,
    slug: &str,
    code: &str,
) -> AppResult<()> {
    let tx = state.db.begin_write().await?;
    let (study, _) = runs_sessions(tx.conn(), user, slug).await?;
    let participant = participant_by_code(tx.conn(), &study, code).await?;
    if !store::focus_group::remove_conflict(tx.conn(), user.id, participant.id).await? {
        return Err(AppError::NotFound);
    }
    audit::record(
        tx.conn(),
        NewEvent::new(
            user.actor(),
            "focus_group.conflict_withdrawn",
            "participant",
            participant.id,
        )
        .in_study(&study.slug)
        .with(json!({"participant_code": participant.code})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An upcoming session as a participant sees it when saying when they can come.
#[derive(Debug, Clone)]
pub struct Choice {
    pub group: FocusGroup,
    pub chosen: bool,
}

/// Whether a participant is someone to ask for availability: consented, not
/// withdrawn.
fn may_give_availability(p: &Participant) -> AppResult<()> {
    if p.withdrawal.is_some() {
        return Err(AppError::Conflict("You have withdrawn from this study.".into()));
    }
    if p.code.is_none() {
        return Err(AppError::Conflict(
            "Please give your consent first; then you can say when you can attend.".into(),
        ));
    }
    Ok(())
}

async fn upcoming(db: &impl Conn, study_id: i64, now: DateTime<Utc>) -> AppResult<Vec<FocusGroup>> {
    Ok(store::focus_group::of_study(db, study_id, None)
        .await?
        .into_iter()
        .filter(|g| g.upcoming(now))
        .collect())
}

/// The upcoming sessions of the participant's study, marking those they chose.
pub async fn availability(state: &AppState, participant: &Participant) -> AppResult<Vec<Choice>> {
    let chosen: BTreeSet<i64> = store::focus_group::availability(state.db.conn(), participant.id)
        .await?
        .into_iter()
        .collect();
    Ok(upcoming(state.db.conn(), participant.study_id, Utc::now())
        .await?
        .into_iter()
        .map(|g| Choice { chosen: chosen.contains(&g.id), group: g })
        .collect())
}

/// Replaces the participant's availability. Every id must be an upcoming session
/// of their study (422 on `slots` naming those that are not).
pub async fn set_availability(
    state: &AppState,
    participant: &Participant,
    slots: &[i64],
) -> AppResult<Vec<Choice>> {
    may_give_availability(participant)?;
    let tx = state.db.begin_write().await?;
    let fresh =
        store::participant::find(tx.conn(), participant.id).await?.ok_or(AppError::NotFound)?;
    may_give_availability(&fresh)?;
    let open: BTreeSet<i64> =
        upcoming(tx.conn(), participant.study_id, Utc::now()).await?.iter().map(|g| g.id).collect();
    let unknown: Vec<String> =
        slots.iter().filter(|s| !open.contains(s)).map(|s| s.to_string()).collect();
    if !unknown.is_empty() {
        return Err(AppError::field(
            "slots",
            "unknown_slot",
            format!("These are not upcoming focus groups of your study: {}.", unknown.join(", ")),
        ));
    }
    let chosen: BTreeSet<i64> = slots.iter().copied().collect();
    store::focus_group::set_availability(tx.conn(), participant.id, &chosen).await?;
    let study = store::study::find_by_id(tx.conn(), participant.study_id)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record(
        tx.conn(),
        NewEvent::new(participant.actor(), "availability.given", "participant", participant.id)
            .in_study(&study.slug)
            .with(json!({"slots": chosen})),
    )
    .await?;
    tx.commit().await?;
    availability(state, participant).await
}

/// The portal's availability step: shown to a consented participant while the
/// study has upcoming sessions, done once they chose any or were placed in one.
pub async fn steps(state: &AppState, participant: &Participant) -> AppResult<Vec<NextStep>> {
    if may_give_availability(participant).is_err() {
        return Ok(Vec::new());
    }
    let db = state.db.conn();
    let placed = store::focus_group::group_of(db, participant.study_id, participant.id).await?;
    if placed.is_none() && upcoming(db, participant.study_id, Utc::now()).await?.is_empty() {
        return Ok(Vec::new());
    }
    let given = !store::focus_group::availability(db, participant.id).await?.is_empty();
    Ok(vec![NextStep::new("availability", given || placed.is_some(), None)])
}

/// The report's figures: the focus-group section, and how many participants were
/// scheduled and attended (for the enrolment section).
pub async fn figures(db: &impl Conn, study_id: i64) -> AppResult<(FocusGroups, i64, i64)> {
    let groups: Vec<FocusGroup> = store::focus_group::of_study(db, study_id, None)
        .await?
        .into_iter()
        .filter(|g| g.cancelled_at.is_none())
        .collect();
    let ids: Vec<i64> = groups.iter().map(|g| g.id).collect();
    let members = store::focus_group::members(db, &ids).await?;
    let all: Vec<&Member> = members.values().flatten().collect();
    let scheduled: BTreeSet<i64> = all.iter().map(|m| m.participant_id).collect();
    let attended: BTreeSet<i64> =
        all.iter().filter(|m| m.attended == Some(true)).map(|m| m.participant_id).collect();
    let logged: Vec<&SessionLog> = groups.iter().filter_map(|g| g.log.as_ref()).collect();
    let section = FocusGroups {
        count: i64::try_from(groups.len()).unwrap_or(i64::MAX),
        members: i64::try_from(all.len()).unwrap_or(i64::MAX),
        attended: i64::try_from(all.iter().filter(|m| m.attended == Some(true)).count())
            .unwrap_or(i64::MAX),
        minutes: logged.iter().map(|l| i64::from(l.actual_minutes)).collect(),
        new_codes: logged.iter().map(|l| i64::from(l.new_codes)).collect(),
    };
    Ok((
        section,
        i64::try_from(scheduled.len()).unwrap_or(i64::MAX),
        i64::try_from(attended.len()).unwrap_or(i64::MAX),
    ))
}

/// On withdrawal: leave every session that has not started and cancel reminders.
/// Returns the sessions left and, when the participant had been invited to one,
/// its calendar cancellation for the withdrawal message.
pub async fn on_withdrawal(
    state: &AppState,
    db: &impl Conn,
    study: &Study,
    participant_id: i64,
    contact: Option<(&str, &str)>,
) -> AppResult<(Vec<i64>, Option<String>)> {
    let now = Utc::now();
    let mut cancel = None;
    if let (Some(group), Some((name, email))) =
        (store::focus_group::group_of(db, study.id, participant_id).await?, contact)
    {
        let invited = store::focus_group::members_of(db, group.id)
            .await?
            .iter()
            .any(|m| m.participant_id == participant_id && m.invited_at.is_some());
        if invited && group.starts_at > now {
            cancel = Some(calendar(state, study, &group, Some((name, email)), Method::Cancel));
        }
    }
    let left = store::focus_group::leave_upcoming(db, participant_id, now).await?;
    if let Some((_, email)) = contact {
        store::mail::cancel_queued(db, study.id, FOCUS_GROUP_REMINDER, email).await?;
    }
    Ok((left, cancel))
}

/// The session a participant is booked into, if any (none once they withdrew).
pub async fn booking(state: &AppState, participant: &Participant) -> AppResult<Option<FocusGroup>> {
    if participant.withdrawal.is_some() {
        return Ok(None);
    }
    store::focus_group::group_of(state.db.conn(), participant.study_id, participant.id).await
}

/// A line of the facilitator's session sheet: the member and what they agreed to.
#[derive(Debug, Clone)]
pub struct SheetRow {
    pub member: Member,
    pub items: Vec<ItemDecision>,
    /// They did not agree to audio recording: the facilitator must not record them.
    pub declines_audio: bool,
}

/// The session sheet: each member's code, first name and consent items. Reading
/// consent decisions is itself an audit event.
pub async fn sheet(
    state: &AppState,
    user: &User,
    slug: &str,
    id: i64,
) -> AppResult<(Study, Session, Vec<SheetRow>)> {
    let tx = state.db.begin_write().await?;
    let (study, group) = session_for(tx.conn(), user, slug, id, false, false).await?;
    let session = session(tx.conn(), group).await?;
    let mut rows = Vec::new();
    let mut consent_ids = Vec::new();
    for m in &session.members {
        let latest =
            store::consent::record::of_participant(tx.conn(), m.participant_id).await?.pop();
        let items = match latest {
            Some(c) => {
                consent_ids.push(c.id);
                c.record.map(|r| r.items).unwrap_or_default()
            }
            None => Vec::new(),
        };
        rows.push(SheetRow {
            declines_audio: focus_group::declines_audio(&items),
            member: m.clone(),
            items,
        });
    }
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "focus_group.sheet_viewed", "focus_group", session.group.id)
            .in_study(&study.slug)
            .with(json!({"consents": consent_ids})),
    )
    .await?;
    tx.commit().await?;
    Ok((study, session, rows))
}

/// The sessions `user` is to facilitate, soonest first, each with its study, on the
/// studies they can still see.
pub async fn my_sessions(state: &AppState, user: &User) -> AppResult<Vec<(Study, Session)>> {
    let db = state.db.conn();
    let studies = store::study::list_for_staff(db, user).await?;
    let groups = store::focus_group::upcoming_for_facilitator(db, user.id, Utc::now()).await?;
    let mut out = Vec::new();
    for s in sessions(db, groups).await? {
        if let Some((study, _)) = studies.iter().find(|(st, _)| st.id == s.group.study_id) {
            out.push((study.clone(), s));
        }
    }
    Ok(out)
}
