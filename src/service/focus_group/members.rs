//! Members: the planner's proposal, placing and removing participants, invitations, and leaving every session on withdrawal.

use super::*;
use crate::service::access;

/// A proposed allocation of every consented participant not yet in a session to
/// one of the upcoming sessions. Nothing is changed.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn plan(state: &AppState, user: &User, slug: &str) -> AppResult<Plan> {
    let snap = state.db.begin_snapshot().await?;
    let db = snap.conn();
    let study = access::coordinated(db, user, slug).await?;
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

/// Places a participant in a session (409 when they have not consented, have
/// withdrawn, are in another session, the session is full, or its facilitator has
/// declared a conflict with them).
#[tracing::instrument(skip_all, fields(study = %slug))]
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
    )?;
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
#[tracing::instrument(skip_all, fields(study = %slug))]
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

/// Queues one invitation per member (never a shared list of addresses) with the
/// calendar file, and a reminder due the day before. Members who withdrew are
/// skipped; members invited before are invited again (a resend replaces their
/// pending reminder). Returns how many were queued.
#[tracing::instrument(skip_all, fields(study = %slug))]
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
        let recording = recording_of(tx.conn(), m.participant_id).await?;
        let invitation = compose::focus_group(
            &study,
            &email,
            &first,
            &group,
            SessionNotice::Invitation,
            recording,
            Some(ics),
        );
        crate::mail::enqueue(tx.conn(), state.keys()?, &invitation).await?;
        let to = (email.as_str(), first.as_str(), recording);
        remind(tx.conn(), state.keys()?, &study, &group, to, now).await?;
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

/// On withdrawal: leave every session that has not started and cancel reminders.
/// Returns the sessions left and, when the participant had been invited to one,
/// its calendar cancellation for the withdrawal message.
#[tracing::instrument(skip_all)]
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
