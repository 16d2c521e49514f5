//! Focus-group scheduling: coordinators schedule sessions and place consented
//! participants in them (helped by a planner that reads everyone's availability);
//! members get one invitation each with a calendar file and a reminder before the
//! session (24 hours by default, a study setting); a changed or cancelled session
//! is sent to them again; facilitators see their own sessions, record attendance
//! and log each session for the saturation chart.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::json;

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
use crate::mail::compose::{self, FOCUS_GROUP_REMINDER, Recording, SessionNotice};
use crate::service::AppState;
use crate::service::access;
use crate::store::{self, Conn};

mod attendance;
mod availability;
mod conflicts;
mod members;
mod sessions;

pub use attendance::*;
pub use availability::*;
pub use conflicts::*;
pub use members::*;
pub use sessions::*;

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
        access::coordinator(capacity)?;
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

/// Replaces a member's pending reminder with one due the day before `group`
/// starts (none when that moment has passed).
async fn remind(
    db: &impl Conn,
    keys: &Keys,
    study: &Study,
    group: &FocusGroup,
    (email, first_name, recording): (&str, &str, Recording),
    now: DateTime<Utc>,
) -> AppResult<()> {
    store::mail::cancel_queued(db, study.id, FOCUS_GROUP_REMINDER, email).await?;
    if let Some(due) = focus_group::reminder_due(group.starts_at, study.reminder_hours, now) {
        let notice = SessionNotice::Reminder;
        let reminder =
            compose::focus_group(study, email, first_name, group, notice, recording, None);
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
        let recording = recording_of(db, m.participant_id).await?;
        let notice = match method {
            Method::Cancel => {
                store::mail::cancel_queued(db, study.id, FOCUS_GROUP_REMINDER, &email).await?;
                SessionNotice::Cancellation
            }
            Method::Request | Method::Publish => {
                let to = (email.as_str(), first.as_str(), recording);
                remind(db, state.keys()?, study, group, to, now).await?;
                SessionNotice::Update
            }
        };
        let message =
            compose::focus_group(study, &email, &first, group, notice, recording, Some(ics));
        crate::mail::enqueue(db, state.keys()?, &message).await?;
        told += 1;
    }
    Ok(told)
}

/// The items of a participant's latest consent record (none before they sign).
async fn latest_items(db: &impl Conn, participant_id: i64) -> AppResult<Vec<ItemDecision>> {
    let latest = store::consent::record::of_participant(db, participant_id).await?.pop();
    Ok(latest.and_then(|c| c.record).map(|r| r.items).unwrap_or_default())
}

/// Whether a member may be recorded, by their latest consent.
async fn recording_of(db: &impl Conn, participant_id: i64) -> AppResult<Recording> {
    let items = latest_items(db, participant_id).await?;
    Ok(if focus_group::declines_audio(&items) {
        Recording::NotRecorded
    } else {
        Recording::AsAgreed
    })
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

/// The study and capacity of someone who runs its sessions (403 for ethics officers).
async fn runs_sessions(db: &impl Conn, user: &User, slug: &str) -> AppResult<(Study, Capacity)> {
    let (study, capacity) = access::study(db, user, slug).await?;
    if capacity == Capacity::EthicsOfficer {
        return Err(AppError::Forbidden(
            "Focus groups are run by the study's coordinators and facilitators.".into(),
        ));
    }
    Ok((study, capacity))
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
