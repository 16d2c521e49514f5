//! Focus-group pages: the coordinator's sessions page (with the planner's
//! proposal), a session's sheet for its facilitator, and a participant's
//! availability.

use serde::Serialize;

use super::{Booking, FormView, ParticipantFrame, StaffFrame, StudyBanner};
use crate::domain::audit::format_at;
use crate::domain::focus_group::{Member, Plan, SessionLog, when};
use crate::domain::study::{Study, Zone};
use crate::service::focus_group::{Choice, Session, SheetRow};
use crate::web::html::focus_group::{CodeForm, LogForm, Refused, ScheduleForm};

/// A session as staff pages show it.
#[derive(Serialize)]
pub struct SessionView {
    pub id: i64,
    pub title: String,
    pub when: String,
    pub location: String,
    pub facilitator: String,
    pub facilitator_email: String,
    pub capacity: i32,
    pub available: usize,
    pub members: Vec<Member>,
    pub full: bool,
    pub log: Option<SessionLog>,
    pub cancelled: bool,
    /// The start in the study's zone, for a `datetime-local` field.
    pub starts_local: String,
    pub duration_minutes: i32,
}

impl SessionView {
    pub fn new(s: &Session, zone: Zone) -> Self {
        let g = &s.group;
        Self {
            id: g.id,
            title: g.title.clone(),
            when: when(g, zone),
            location: g.location.clone(),
            facilitator: g.facilitator_name.clone(),
            facilitator_email: g.facilitator_email.clone(),
            capacity: g.capacity,
            available: s.available,
            members: s.members.clone(),
            full: s.members.len() >= usize::try_from(g.capacity).unwrap_or(0),
            log: g.log.clone(),
            cancelled: g.cancelled_at.is_some(),
            starts_local: zone.local(g.starts_at).format("%Y-%m-%dT%H:%M").to_string(),
            duration_minutes: g.duration_minutes,
        }
    }
}

/// A session on the coordinator's page, with its change form and its placing form
/// (each with what was typed and its errors when that form was refused).
#[derive(Serialize)]
pub struct SessionCard {
    #[serde(flatten)]
    pub view: SessionView,
    pub edit: FormView<ScheduleForm>,
    pub place: FormView<CodeForm>,
    /// The change form was refused: shown open.
    pub edit_open: bool,
}

/// A study's sessions; for its coordinator, the forms to run them.
#[derive(Serialize)]
pub struct FocusGroupsPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub slug: String,
    pub study: StudyBanner,
    pub coordinator: bool,
    pub sessions: Vec<SessionCard>,
    pub zone: &'static str,
    pub proposal: Option<Proposal>,
    /// The form that schedules a new session.
    pub schedule: FormView<ScheduleForm>,
    /// Declared conflicts: `(participant code, facilitator's address, the viewer's own)`.
    pub conflicts: Vec<(String, String, bool)>,
    /// The form that declares one.
    pub declare: FormView<CodeForm>,
}

impl FocusGroupsPage {
    pub fn new(
        frame: StaffFrame,
        study: &Study,
        coordinator: bool,
        sessions: &[Session],
        plan: Option<Plan>,
        refused: Option<Refused<'_>>,
    ) -> Self {
        let zone = study.timezone;
        let mut schedule = FormView::new(ScheduleForm::blank(), None);
        let mut declare = FormView::new(<CodeForm as Default>::default(), None);
        let mut cards: Vec<SessionCard> = sessions
            .iter()
            .map(|s| SessionCard {
                view: SessionView::new(s, zone),
                edit: FormView::new(ScheduleForm::of(&s.group, zone), None),
                place: FormView::new(<CodeForm as Default>::default(), None),
                edit_open: false,
            })
            .collect();
        match refused {
            Some(Refused::Schedule(values, e)) => schedule = FormView::new(values, Some(e)),
            Some(Refused::Reschedule(id, values, e)) => {
                if let Some(c) = cards.iter_mut().find(|c| c.view.id == id) {
                    c.edit = FormView::new(values, Some(e));
                    c.edit_open = true;
                }
            }
            Some(Refused::Declare(values, e)) => declare = FormView::new(values, Some(e)),
            Some(Refused::Place(id, values, e)) => {
                if let Some(c) = cards.iter_mut().find(|c| c.view.id == id) {
                    c.place = FormView::new(values, Some(e));
                }
            }
            None => {}
        }
        Self {
            frame,
            slug: study.slug.clone(),
            study: StudyBanner::from(study),
            coordinator,
            sessions: cards,
            zone: zone.name(),
            proposal: plan.map(|p| Proposal::new(&p, sessions)),
            schedule,
            conflicts: Vec::new(),
            declare,
        }
    }
}

/// The planner's proposal: `(code, session id, session title)` for each placement,
/// `(code, reason)` for each participant it could not place, and the sessions open
/// for placing (`(id, title)`), so the proposal can be changed before it is applied.
#[derive(Serialize)]
pub struct Proposal {
    pub placements: Vec<(String, i64, String)>,
    pub unplaced: Vec<(String, &'static str)>,
    pub options: Vec<(i64, String)>,
}

impl Proposal {
    fn new(p: &Plan, sessions: &[Session]) -> Self {
        let title_of = |id: i64| {
            sessions
                .iter()
                .find(|s| s.group.id == id)
                .map(|s| s.group.title.clone())
                .unwrap_or_default()
        };
        Self {
            placements: p
                .placements
                .iter()
                .map(|x| (x.participant_code.clone(), x.focus_group_id, title_of(x.focus_group_id)))
                .collect(),
            unplaced: p.unplaced.iter().map(|x| (x.participant_code.clone(), x.reason)).collect(),
            options: sessions
                .iter()
                .filter(|s| s.group.cancelled_at.is_none())
                .map(|s| (s.group.id, s.group.title.clone()))
                .collect(),
        }
    }
}

/// A session's sheet: each member's code, first name, attendance and consent items,
/// with a count of those who did not agree to audio recording.
#[derive(Serialize)]
pub struct SheetPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub slug: String,
    pub study: StudyBanner,
    pub session: SessionView,
    pub logged_at: Option<String>,
    pub rows: Vec<SheetLine>,
    pub warnings: usize,
    /// Attendance and the log are taken once the session has started.
    pub started: bool,
    pub log_form: FormView<LogForm>,
}

#[derive(Serialize)]
pub struct SheetLine {
    pub code: String,
    pub first_name: String,
    pub attended: Option<bool>,
    pub declines_audio: bool,
    /// `(item text, agreed)`.
    pub items: Vec<(String, bool)>,
}

impl SheetPage {
    pub fn new(
        frame: StaffFrame,
        study: &Study,
        s: &Session,
        rows: &[SheetRow],
        now: chrono::DateTime<chrono::Utc>,
        log_form: FormView<LogForm>,
    ) -> Self {
        Self {
            started: s.group.starts_at <= now,
            log_form,
            frame,
            slug: study.slug.clone(),
            study: StudyBanner::from(study),
            session: SessionView::new(s, study.timezone),
            logged_at: s.group.log.as_ref().map(|l| super::in_words(l.logged_at, study.timezone)),
            rows: rows
                .iter()
                .map(|r| SheetLine {
                    code: r.member.code.clone(),
                    first_name: r.member.first_name.clone(),
                    attended: r.member.attended,
                    declines_audio: r.declines_audio,
                    items: r.items.iter().map(|i| (i.text.clone(), i.agreed)).collect(),
                })
                .collect(),
            warnings: rows.iter().filter(|r| r.declines_audio).count(),
        }
    }
}

/// The sessions a participant can say they are free for, and their booking.
#[derive(Serialize)]
pub struct AvailabilityPage {
    #[serde(flatten)]
    pub frame: ParticipantFrame,
    pub sessions: Vec<Slot>,
    pub booked: Option<Booking>,
    pub consented: bool,
    pub zone: &'static str,
    pub errors: Vec<String>,
}

#[derive(Serialize)]
pub struct Slot {
    pub id: i64,
    pub title: String,
    pub when: String,
    pub starts_at: String,
    pub location: String,
    pub chosen: bool,
}

impl Slot {
    pub fn new(c: &Choice, zone: Zone) -> Self {
        Self {
            id: c.group.id,
            title: c.group.title.clone(),
            when: when(&c.group, zone),
            starts_at: format_at(&c.group.starts_at),
            location: c.group.location.clone(),
            chosen: c.chosen,
        }
    }
}

/// The page that asks before cancelling a session: who will be told.
#[derive(Serialize)]
pub struct CancelPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub slug: String,
    pub study: String,
    pub id: i64,
    pub title: String,
    pub when: String,
    /// Members sent the cancellation (they were invited): code and first name.
    pub told: Vec<(String, String)>,
    /// Members placed but not yet invited: not e-mailed.
    pub not_told: usize,
}

impl CancelPage {
    pub fn new(frame: StaffFrame, study: &Study, s: &Session) -> Self {
        let told: Vec<(String, String)> = s
            .members
            .iter()
            .filter(|m| m.invited_at.is_some())
            .map(|m| (m.code.clone(), m.first_name.clone()))
            .collect();
        Self {
            frame,
            slug: study.slug.clone(),
            study: study.title.clone(),
            id: s.group.id,
            title: s.group.title.clone(),
            when: when(&s.group, study.timezone),
            not_told: s.members.len() - told.len(),
            told,
        }
    }
}
