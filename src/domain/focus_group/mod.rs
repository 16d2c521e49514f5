//! Focus groups: what a session is, who may join one, and how the planner proposes
//! an allocation from the participants' availability. The iCalendar invitation is
//! in `calendar`.

pub mod calendar;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::domain::FieldErrors;
use crate::domain::consent::{self, Governs, ItemDecision};
use crate::domain::fields::{FieldError, parse_time, required_text};
use crate::domain::study::Zone;
use crate::domain::user::Email;

/// Bounds a coordinator may set, chosen so that a typing slip is caught.
pub const DURATION_MINUTES: std::ops::RangeInclusive<i64> = 15..=480;
pub const CAPACITY: std::ops::RangeInclusive<i64> = 1..=100;
pub const ACTUAL_MINUTES: std::ops::RangeInclusive<i64> = 1..=600;
pub const NEW_CODES: std::ops::RangeInclusive<i64> = 0..=10_000;
pub const NOTES_MAX: usize = 20_000;

/// A session as the coordinator asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FocusGroupDraft {
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: i32,
    pub location: String,
    pub facilitator_email: Email,
    pub capacity: i32,
}

fn within(
    value: i64,
    range: &std::ops::RangeInclusive<i64>,
    label: &str,
) -> Result<i32, FieldError> {
    if range.contains(&value) {
        i32::try_from(value)
            .map_err(|_| FieldError::new("out_of_range", format!("{label} is too large.")))
    } else {
        Err(FieldError::new(
            "out_of_range",
            format!("{label} must be between {} and {}.", range.start(), range.end()),
        ))
    }
}

impl FocusGroupDraft {
    /// Checks every field and names each one that is wrong. A session must start
    /// in the future: invitations for a past time help nobody.
    pub fn parse(
        title: &str,
        starts_at: &str,
        duration_minutes: i64,
        location: &str,
        facilitator_email: &str,
        capacity: i64,
        now: DateTime<Utc>,
    ) -> Result<FocusGroupDraft, FieldErrors> {
        let starts = parse_time(starts_at, "Start time");
        Self::checked(title, starts, duration_minutes, location, facilitator_email, capacity, now)
    }

    /// A session whose start was read already (RFC 3339, or a date and a time on the
    /// study's clock), every other field checked here.
    pub fn checked(
        title: &str,
        starts: Result<DateTime<Utc>, FieldError>,
        duration_minutes: i64,
        location: &str,
        facilitator_email: &str,
        capacity: i64,
        now: DateTime<Utc>,
    ) -> Result<FocusGroupDraft, FieldErrors> {
        let mut errors = FieldErrors::new();
        let title = errors.take("title", required_text(title, "Title", 200));
        // Kept to the microsecond, as the database stores it, so that an unchanged
        // time compares equal to the stored one.
        let starts = errors.take("starts_at", starts).map(super::audit::storable);
        if let Some(s) = starts
            && s <= now
        {
            errors.add("starts_at", "in_the_past", "A focus group must start in the future.");
        }
        let duration = errors.take(
            "duration_minutes",
            within(duration_minutes, &DURATION_MINUTES, "The length in minutes"),
        );
        let location = errors.take("location", required_text(location, "Location", 200));
        let facilitator = errors.take("facilitator_email", Email::parse(facilitator_email));
        let capacity = errors.take("capacity", within(capacity, &CAPACITY, "The number of places"));
        errors.into_result()?;
        match (title, starts, duration, location, facilitator, capacity) {
            (
                Some(title),
                Some(starts_at),
                Some(duration_minutes),
                Some(location),
                Some(facilitator_email),
                Some(capacity),
            ) => Ok(FocusGroupDraft {
                title,
                starts_at,
                duration_minutes,
                location,
                facilitator_email,
                capacity,
            }),
            _ => Err(FieldErrors::single("title", "invalid", "The focus group could not be read.")),
        }
    }
}

/// What the facilitator records after a session; `new_codes` (codes not heard in
/// earlier sessions) draws the saturation chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionLog {
    pub actual_minutes: i32,
    pub new_codes: i32,
    pub notes: String,
    pub logged_at: DateTime<Utc>,
}

impl SessionLog {
    pub fn parse(
        actual_minutes: i64,
        new_codes: i64,
        notes: &str,
        now: DateTime<Utc>,
    ) -> Result<SessionLog, FieldErrors> {
        let mut errors = FieldErrors::new();
        let minutes =
            errors.take("actual_minutes", within(actual_minutes, &ACTUAL_MINUTES, "Minutes"));
        let codes = errors.take("new_codes", within(new_codes, &NEW_CODES, "New codes"));
        if notes.chars().count() > NOTES_MAX {
            errors.add(
                "notes",
                "too_long",
                format!("Notes must be at most {NOTES_MAX} characters."),
            );
        }
        errors.into_result()?;
        match (minutes, codes) {
            (Some(actual_minutes), Some(new_codes)) => Ok(SessionLog {
                actual_minutes,
                new_codes,
                notes: notes.trim().to_string(),
                logged_at: now,
            }),
            _ => {
                Err(FieldErrors::single("actual_minutes", "invalid", "The log could not be read."))
            }
        }
    }
}

/// A scheduled session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FocusGroup {
    pub id: i64,
    pub study_id: i64,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: i32,
    pub location: String,
    pub facilitator_id: i64,
    pub facilitator_email: String,
    pub facilitator_name: String,
    pub capacity: i32,
    /// Raised at every reschedule, so calendars replace the event they hold.
    pub sequence: i32,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub log: Option<SessionLog>,
}

impl FocusGroup {
    pub fn ends_at(&self) -> DateTime<Utc> {
        self.starts_at + Duration::minutes(i64::from(self.duration_minutes))
    }

    /// Not cancelled and not started: open to availability and planning.
    pub fn upcoming(&self, now: DateTime<Utc>) -> bool {
        self.cancelled_at.is_none() && self.starts_at > now
    }

    /// Whether a change alters what members' calendars hold (time, length, place or
    /// title), so that the event's SEQUENCE must rise and members be told.
    pub fn calendar_changes(&self, draft: &FocusGroupDraft) -> bool {
        self.starts_at != draft.starts_at
            || self.duration_minutes != draft.duration_minutes
            || self.location != draft.location
            || self.title != draft.title
    }
}

/// When a session runs on the study's clock, for people (pages and mail):
/// "Tuesday 8 December 2026, 14:00 to 15:00 (Australia/Melbourne time)".
pub fn when(g: &FocusGroup, zone: Zone) -> String {
    format!(
        "{} to {} ({} time)",
        zone.local(g.starts_at).format("%A %-d %B %Y, %H:%M"),
        zone.local(g.ends_at()).format("%H:%M"),
        zone.name()
    )
}

/// A member of a session, as its facilitator may see them: code and first name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub participant_id: i64,
    pub code: String,
    pub first_name: String,
    /// `None` until the facilitator records it.
    pub attended: Option<bool>,
    pub invited_at: Option<DateTime<Utc>>,
}

/// The first word of a name, which is all a facilitator is shown.
pub fn first_name(full: &str) -> String {
    full.split_whitespace().next().unwrap_or_default().to_string()
}

/// Where a participant stands, as far as joining a session goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    NotConsented,
    Withdrawn,
    Consented,
}

/// Why a participant cannot join a session (answered 409).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CannotJoin {
    #[error(
        "This participant has not consented; only consented participants can join a focus group."
    )]
    NotConsented,
    #[error("This participant has withdrawn from the study and cannot be scheduled.")]
    Withdrawn,
    #[error("This participant is already in \"{0}\"; remove them from it first.")]
    Elsewhere(String),
    #[error(
        "The facilitator of this group has declared a conflict with this participant; choose a group with another facilitator."
    )]
    Conflict,
    #[error("This focus group is full ({0} places).")]
    Full(i32),
}

/// Whether a participant can join a session. `elsewhere` names a session they are
/// already in.
pub fn admit(
    standing: Standing,
    members: usize,
    capacity: i32,
    conflict: bool,
    elsewhere: Option<&str>,
) -> Result<(), CannotJoin> {
    match standing {
        Standing::NotConsented => return Err(CannotJoin::NotConsented),
        Standing::Withdrawn => return Err(CannotJoin::Withdrawn),
        Standing::Consented => {}
    }
    if let Some(title) = elsewhere {
        return Err(CannotJoin::Elsewhere(title.to_string()));
    }
    if conflict {
        return Err(CannotJoin::Conflict);
    }
    if members >= usize::try_from(capacity).unwrap_or(0) {
        return Err(CannotJoin::Full(capacity));
    }
    Ok(())
}

/// A session as the planner sees it.
#[derive(Debug, Clone)]
pub struct Slot {
    pub id: i64,
    pub capacity: usize,
    pub facilitator_id: i64,
    pub starts_at: DateTime<Utc>,
    /// Strata of the members it has already (one entry per member; `None` when a
    /// member is in no stratum).
    pub member_strata: Vec<Option<String>>,
}

/// A consented participant not yet in any session.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub code: String,
    pub stratum: Option<String>,
    pub available: BTreeSet<i64>,
    /// Facilitators who declared a conflict with this participant.
    pub conflicts: BTreeSet<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placement {
    pub participant_code: String,
    pub focus_group_id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unplaced {
    pub participant_code: String,
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub placements: Vec<Placement>,
    pub unplaced: Vec<Unplaced>,
}

/// Proposes a session for each candidate from their availability, the sessions'
/// capacity and the study's strata. The most constrained are placed first; each
/// goes to the session where their stratum is least represented, then the
/// emptiest, then the earliest, so every group hears from every stratum.
pub fn plan(slots: &[Slot], candidates: &[Candidate]) -> Plan {
    let mut strata: BTreeMap<i64, BTreeMap<Option<String>, usize>> = BTreeMap::new();
    let mut taken: BTreeMap<i64, usize> = BTreeMap::new();
    for s in slots {
        let counts = strata.entry(s.id).or_default();
        for m in &s.member_strata {
            *counts.entry(m.clone()).or_default() += 1;
        }
        taken.insert(s.id, s.member_strata.len());
    }
    let open_to = |c: &Candidate, s: &Slot| {
        c.available.contains(&s.id) && !c.conflicts.contains(&s.facilitator_id)
    };
    let mut order: Vec<&Candidate> = candidates.iter().collect();
    order.sort_by_key(|c| (slots.iter().filter(|s| open_to(c, s)).count(), c.code.clone()));
    let mut placements = Vec::new();
    let mut unplaced = Vec::new();
    for c in order {
        if c.available.is_empty() {
            unplaced.push(Unplaced {
                participant_code: c.code.clone(),
                reason: "has not given availability",
            });
            continue;
        }
        let best = slots
            .iter()
            .filter(|s| open_to(c, s))
            .filter(|s| taken.get(&s.id).copied().unwrap_or(0) < s.capacity)
            .min_by_key(|s| {
                let same = strata.get(&s.id).and_then(|m| m.get(&c.stratum)).copied().unwrap_or(0);
                let fill = taken.get(&s.id).copied().unwrap_or(0) * 1000 / s.capacity.max(1);
                (same, fill, s.starts_at, s.id)
            });
        match best {
            Some(s) => {
                *taken.entry(s.id).or_default() += 1;
                *strata.entry(s.id).or_default().entry(c.stratum.clone()).or_default() += 1;
                placements.push(Placement { participant_code: c.code.clone(), focus_group_id: s.id });
            }
            None => unplaced.push(Unplaced {
                participant_code: c.code.clone(),
                reason: "every session they can attend is full or led by a facilitator with a conflict",
            }),
        }
    }
    placements.sort_by(|a, b| a.participant_code.cmp(&b.participant_code));
    unplaced.sort_by(|a, b| a.participant_code.cmp(&b.participant_code));
    Plan { placements, unplaced }
}

/// Whether a member's consent leaves audio recording out: the item that governs
/// audio recording, declined. A form with no such item records everyone (its
/// statement says so, or it makes recording a required item). The session sheet,
/// the attendance page and the member's invitation warn; the facilitator must then
/// not record them.
pub fn declines_audio(items: &[ItemDecision]) -> bool {
    consent::choice(items, Governs::AudioRecording) == Some(false)
}

/// The time a reminder `hours` before the session is due, or `None` when the study
/// sends none (0) or that moment has passed already.
pub fn reminder_due(
    starts_at: DateTime<Utc>,
    hours: u32,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let due = starts_at - Duration::hours(i64::from(hours));
    (hours > 0 && due > now).then_some(due)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    pub(super) fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).single().unwrap_or_default()
    }

    pub(super) fn group(id: i64, title: &str) -> FocusGroup {
        FocusGroup {
            id,
            study_id: 1,
            title: title.into(),
            starts_at: now() + Duration::days(7),
            duration_minutes: 60,
            location: "Clayton campus, room 1.01".into(),
            facilitator_id: 7,
            facilitator_email: "di@example.org".into(),
            facilitator_name: "Di Facil".into(),
            capacity: 8,
            sequence: 0,
            cancelled_at: None,
            log: None,
        }
    }

    #[test]
    fn a_draft_names_every_wrong_field() {
        let Err(e) = FocusGroupDraft::parse("", "tomorrow", 5, " ", "nobody", 0, now()) else {
            panic!("a draft with every field wrong was accepted");
        };
        for f in
            ["title", "starts_at", "duration_minutes", "location", "facilitator_email", "capacity"]
        {
            assert!(e.contains(f), "{f} is not named in {:?}", e.messages());
        }
    }

    #[test]
    fn a_session_in_the_past_is_refused() {
        let e = FocusGroupDraft::parse(
            "FG",
            "2026-02-28T09:00:00Z",
            60,
            "Room",
            "di@example.org",
            8,
            now(),
        )
        .err()
        .map(|e| e.messages());
        assert_eq!(e.and_then(|m| m.get("starts_at").cloned()).map(|v| v.len()), Some(1));
        let ok = FocusGroupDraft::parse(
            "FG",
            "2026-03-08T09:00:00+10:00",
            60,
            "Room",
            "DI@example.org",
            8,
            now(),
        );
        let Ok(d) = ok else { panic!("a good draft was refused: {ok:?}") };
        assert_eq!(
            d.starts_at,
            Utc.with_ymd_and_hms(2026, 3, 7, 23, 0, 0).single().unwrap_or_default()
        );
        assert_eq!(d.facilitator_email.as_str(), "di@example.org");
    }

    #[test]
    fn a_log_is_bounded() {
        assert!(SessionLog::parse(45, 14, "ok", now()).is_ok());
        let Err(e) = SessionLog::parse(0, -1, "", now()) else { panic!("zero minutes accepted") };
        assert!(e.contains("actual_minutes") && e.contains("new_codes"));
    }

    #[test]
    fn admission_refuses_withdrawn_unconsented_conflicted_and_full() {
        assert!(admit(Standing::Consented, 7, 8, false, None).is_ok());
        assert!(
            admit(Standing::Consented, 8, 8, false, None).unwrap_err().to_string().contains("full")
        );
        assert!(
            admit(Standing::Withdrawn, 0, 8, false, None)
                .unwrap_err()
                .to_string()
                .contains("withdrawn")
        );
        assert!(
            admit(Standing::NotConsented, 0, 8, false, None)
                .unwrap_err()
                .to_string()
                .contains("not consented")
        );
        assert!(
            admit(Standing::Consented, 0, 8, true, None)
                .unwrap_err()
                .to_string()
                .contains("conflict")
        );
        assert!(
            admit(Standing::Consented, 0, 8, false, Some("FG 2"))
                .unwrap_err()
                .to_string()
                .contains("FG 2")
        );
    }

    fn slot(id: i64, capacity: usize, facilitator_id: i64) -> Slot {
        Slot {
            id,
            capacity,
            facilitator_id,
            starts_at: now() + Duration::days(id),
            member_strata: Vec::new(),
        }
    }

    fn candidate(code: &str, stratum: &str, available: &[i64]) -> Candidate {
        Candidate {
            code: code.into(),
            stratum: Some(stratum.into()),
            available: available.iter().copied().collect(),
            conflicts: BTreeSet::new(),
        }
    }

    #[test]
    fn the_plan_respects_availability_capacity_and_mixes_strata() {
        let slots = [slot(1, 2, 10), slot(2, 2, 11)];
        let people = [
            candidate("P001", "ug", &[1, 2]),
            candidate("P002", "ug", &[1, 2]),
            candidate("P003", "grad", &[1, 2]),
            candidate("P004", "grad", &[1, 2]),
            candidate("P005", "grad", &[1]),
            candidate("P006", "ug", &[]),
        ];
        let p = plan(&slots, &people);
        assert_eq!(p.placements.len(), 4, "{p:?}");
        let at = |code: &str| {
            p.placements.iter().find(|x| x.participant_code == code).map(|x| x.focus_group_id)
        };
        assert_eq!(at("P005"), Some(1), "the most constrained is placed first");
        for g in [1, 2] {
            let n = p.placements.iter().filter(|x| x.focus_group_id == g).count();
            assert!(n <= 2, "group {g} over capacity: {p:?}");
        }
        let strata_of = |g: i64| -> BTreeSet<&str> {
            p.placements
                .iter()
                .filter(|x| x.focus_group_id == g)
                .filter_map(|x| people.iter().find(|c| c.code == x.participant_code))
                .filter_map(|c| c.stratum.as_deref())
                .collect()
        };
        assert_eq!(strata_of(1).len(), 2, "group 1 mixes strata: {p:?}");
        assert_eq!(strata_of(2).len(), 2, "group 2 mixes strata: {p:?}");
        assert!(
            p.unplaced
                .iter()
                .any(|u| u.participant_code == "P006" && u.reason.contains("availability"))
        );
        assert_eq!(p.unplaced.len(), 2);
    }

    #[test]
    fn the_plan_avoids_a_facilitator_with_a_conflict() {
        let slots = [slot(1, 8, 10), slot(2, 8, 11)];
        let mut c = candidate("P001", "ug", &[1, 2]);
        c.conflicts.insert(10);
        let p = plan(&slots, &[c]);
        assert_eq!(
            p.placements,
            vec![Placement { participant_code: "P001".into(), focus_group_id: 2 }]
        );
    }

    #[test]
    fn reminders_fall_a_day_before_unless_that_has_passed() {
        let start = now() + Duration::days(3);
        assert_eq!(reminder_due(start, 24, now()), Some(start - Duration::hours(24)));
        assert_eq!(reminder_due(start, 2, now()), Some(start - Duration::hours(2)));
        assert_eq!(reminder_due(now() + Duration::hours(5), 24, now()), None);
        assert_eq!(reminder_due(start, 0, now()), None, "0 turns reminders off");
    }

    #[test]
    fn a_member_who_did_not_agree_to_audio_is_flagged() {
        let item = |key: &str, governs: Option<Governs>, agreed: bool| ItemDecision {
            key: key.into(),
            text: "I agree to audio recording.".into(),
            required: false,
            agreed,
            governs,
        };
        let audio = Some(Governs::AudioRecording);
        assert!(declines_audio(&[item("rec", audio, false)]));
        assert!(!declines_audio(&[item("rec", audio, true)]));
        assert!(
            !declines_audio(&[item("audio_recording", None, false)]),
            "an item's words decide nothing: only what it governs"
        );
        assert!(!declines_audio(&[item("quotes", Some(Governs::VerbatimQuotes), false)]));
    }

    #[test]
    fn times_are_written_on_the_study_clock() {
        let g = group(1, "FG");
        let melbourne = Zone::parse("Australia/Melbourne").unwrap_or_default();
        assert_eq!(
            when(&g, melbourne),
            "Sunday 8 March 2026, 20:00 to 21:00 (Australia/Melbourne time)",
            "daylight saving: UTC+11"
        );
        assert_eq!(when(&g, Zone::default()), "Sunday 8 March 2026, 09:00 to 10:00 (UTC time)");
        let wall = chrono::NaiveDate::from_ymd_opt(2026, 7, 1)
            .and_then(|d| d.and_hms_opt(14, 0, 0))
            .unwrap_or_default();
        assert_eq!(
            melbourne.from_local(wall).map(|t| t.to_rfc3339()),
            Some("2026-07-01T04:00:00+00:00".to_string()),
            "winter: UTC+10"
        );
        assert!(Zone::parse("Mars/Olympus").is_err());
    }

    #[test]
    fn facilitators_see_first_names_only() {
        assert_eq!(first_name("  Ann   Lee "), "Ann");
        assert_eq!(first_name(""), "");
    }
}
