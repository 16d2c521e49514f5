//! After a session: attendance, the session log, the facilitator's sheet, and the figures the report shows.

use super::*;

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
#[tracing::instrument(skip_all, fields(study = %slug))]
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
#[tracing::instrument(skip_all, fields(study = %slug))]
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
#[tracing::instrument(skip_all, fields(study = %slug))]
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

/// The report's figures: the focus-group section, and how many participants were
/// scheduled and attended (for the enrolment section).
#[tracing::instrument(skip_all)]
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
