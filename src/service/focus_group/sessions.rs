//! Sessions: scheduling, changing and cancelling them, who sees which, and the calendar file.

use super::*;
use crate::service::access;

/// When a session starts, as received.
#[derive(Clone, Copy)]
pub enum Start<'a> {
    /// An RFC 3339 instant, as the API sends it.
    Instant(&'a str),
    /// A date and a time of day on the study's clock, as a page sends them.
    WallClock { date: &'a str, time: &'a str },
}

/// What a coordinator asks for, as received.
pub struct NewGroup<'a> {
    pub title: &'a str,
    pub start: Start<'a>,
    pub duration_minutes: i64,
    pub location: &'a str,
    pub facilitator_email: &'a str,
    pub capacity: i64,
}

impl NewGroup<'_> {
    fn draft(
        &self,
        now: DateTime<Utc>,
        zone: Zone,
    ) -> Result<FocusGroupDraft, crate::domain::FieldErrors> {
        let starts = match self.start {
            Start::Instant(raw) => crate::domain::fields::parse_time(raw, "Start time"),
            Start::WallClock { date, time } => zone.wall_time(date, time, "", "The date"),
        };
        FocusGroupDraft::checked(
            self.title,
            starts,
            self.duration_minutes,
            self.location,
            self.facilitator_email,
            self.capacity,
            now,
        )
    }
}

#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn create(
    state: &AppState,
    user: &User,
    slug: &str,
    input: NewGroup<'_>,
) -> AppResult<Session> {
    let now = Utc::now();
    let tx = state.db.begin_write().await?;
    let study = access::coordinated(tx.conn(), user, slug).await?;
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
#[tracing::instrument(skip_all, fields(study = %slug))]
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
#[tracing::instrument(skip_all, fields(study = %slug))]
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

/// The sessions a staff member may see: all of the study's for coordinators, their
/// own for a facilitator.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn list(state: &AppState, user: &User, slug: &str) -> AppResult<Vec<Session>> {
    Ok(overview(state, user, slug).await?.2)
}

/// The study, the capacity the user acts in, and the sessions they may see.
#[tracing::instrument(skip_all, fields(study = %slug))]
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

/// One session with its members.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn get(state: &AppState, user: &User, slug: &str, id: i64) -> AppResult<Session> {
    let (_, group) = session_for(state.db.conn(), user, slug, id, false, false).await?;
    session(state.db.conn(), group).await
}

/// The session as a calendar file (no attendees: the staff copy).
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn ics(state: &AppState, user: &User, slug: &str, id: i64) -> AppResult<String> {
    let (study, group) = session_for(state.db.conn(), user, slug, id, false, false).await?;
    Ok(calendar(state, &study, &group, None, Method::Publish))
}

/// The sessions `user` is to facilitate, soonest first, each with its study, on the
/// studies they can still see.
#[tracing::instrument(skip_all)]
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
