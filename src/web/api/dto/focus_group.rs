//! Focus groups: sessions, members, attendance, the log, the plan, availability and conflicts.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::audit::format_at;
use crate::domain::focus_group::{FocusGroup, Member, Plan, SessionLog};
use crate::service::focus_group::{Choice, Conflict, Session};

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct FocusGroupInput {
    #[schema(example = "Focus group 1")]
    pub title: String,
    /// RFC 3339, in the future.
    #[schema(example = "2026-03-08T09:00:00Z")]
    pub starts_at: String,
    /// 15 to 480.
    #[schema(example = 60)]
    pub duration_minutes: i64,
    #[schema(example = "Clayton campus, room 1.01")]
    pub location: String,
    /// A member of the study's staff who will run the session.
    #[schema(example = "di@example.org")]
    pub facilitator_email: String,
    /// 1 to 100 places.
    #[schema(example = 8)]
    pub capacity: i64,
}

#[derive(Serialize, ToSchema)]
pub struct FacilitatorDto {
    pub email: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct MemberDto {
    pub participant_code: String,
    pub first_name: String,
    /// `null` until recorded.
    pub attended: Option<bool>,
    pub invited_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SessionLogDto {
    pub actual_minutes: i32,
    pub new_codes: i32,
    pub notes: String,
    pub logged_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct FocusGroupDto {
    pub id: i64,
    pub title: String,
    pub starts_at: String,
    pub ends_at: String,
    pub duration_minutes: i32,
    pub location: String,
    pub facilitator: FacilitatorDto,
    pub capacity: i32,
    /// Raised at every reschedule (the calendar's SEQUENCE).
    pub sequence: i32,
    /// Set when the session was cancelled (it is kept for the record).
    pub cancelled_at: Option<String>,
    pub members: Vec<MemberDto>,
    /// How many participants said they can attend.
    pub available: usize,
    pub log: Option<SessionLogDto>,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct MemberInput {
    #[schema(example = "P001")]
    pub participant_code: String,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct AttendanceInput {
    #[schema(example = "P001")]
    pub participant_code: String,
    pub attended: bool,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct SessionLogInput {
    /// 1 to 600.
    #[schema(example = 50)]
    pub actual_minutes: i64,
    /// Codes this session raised that earlier sessions had not.
    #[schema(example = 6)]
    pub new_codes: i64,
    pub notes: String,
}

#[derive(Serialize, ToSchema)]
pub struct AttendanceDto {
    pub participant_code: String,
    pub attended: bool,
}

#[derive(Serialize, ToSchema)]
pub struct InvitationsQueuedDto {
    /// Invitations queued, one per member.
    pub queued: usize,
}

#[derive(Serialize, ToSchema)]
pub struct PlacementDto {
    pub participant_code: String,
    pub focus_group_id: i64,
}

#[derive(Serialize, ToSchema)]
pub struct UnplacedDto {
    pub participant_code: String,
    pub reason: String,
}

/// A proposed allocation; nothing is applied.
#[derive(Serialize, ToSchema)]
pub struct PlanDto {
    pub placements: Vec<PlacementDto>,
    pub unplaced: Vec<UnplacedDto>,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct AvailabilityInput {
    /// Ids of upcoming focus groups of the participant's study.
    pub slots: Vec<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct SlotDto {
    pub id: i64,
    pub title: String,
    pub starts_at: String,
    pub ends_at: String,
    pub location: String,
    pub chosen: bool,
}

#[derive(Serialize, ToSchema)]
pub struct AvailabilityDto {
    /// The chosen sessions' ids.
    pub slots: Vec<i64>,
    /// Every upcoming session of the study.
    pub sessions: Vec<SlotDto>,
}

#[derive(Serialize, ToSchema)]
pub struct ConflictDto {
    pub facilitator_email: String,
    pub participant_code: String,
    pub declared_at: String,
}

impl From<Member> for MemberDto {
    fn from(m: Member) -> Self {
        Self {
            participant_code: m.code,
            first_name: m.first_name,
            attended: m.attended,
            invited_at: m.invited_at.as_ref().map(format_at),
        }
    }
}

impl From<SessionLog> for SessionLogDto {
    fn from(l: SessionLog) -> Self {
        Self {
            actual_minutes: l.actual_minutes,
            new_codes: l.new_codes,
            notes: l.notes,
            logged_at: format_at(&l.logged_at),
        }
    }
}

impl From<Session> for FocusGroupDto {
    fn from(s: Session) -> Self {
        let g = s.group;
        Self {
            id: g.id,
            starts_at: format_at(&g.starts_at),
            ends_at: format_at(&g.ends_at()),
            title: g.title,
            duration_minutes: g.duration_minutes,
            location: g.location,
            facilitator: FacilitatorDto { email: g.facilitator_email, name: g.facilitator_name },
            capacity: g.capacity,
            sequence: g.sequence,
            cancelled_at: g.cancelled_at.as_ref().map(format_at),
            members: s.members.into_iter().map(MemberDto::from).collect(),
            available: s.available,
            log: g.log.map(SessionLogDto::from),
        }
    }
}

impl From<Plan> for PlanDto {
    fn from(p: Plan) -> Self {
        Self {
            placements: p
                .placements
                .into_iter()
                .map(|x| PlacementDto {
                    participant_code: x.participant_code,
                    focus_group_id: x.focus_group_id,
                })
                .collect(),
            unplaced: p
                .unplaced
                .into_iter()
                .map(|x| UnplacedDto {
                    participant_code: x.participant_code,
                    reason: x.reason.into(),
                })
                .collect(),
        }
    }
}

impl From<Conflict> for ConflictDto {
    fn from(c: Conflict) -> Self {
        Self {
            facilitator_email: c.facilitator_email,
            participant_code: c.participant_code,
            declared_at: format_at(&c.declared_at),
        }
    }
}

impl From<Vec<Choice>> for AvailabilityDto {
    fn from(choices: Vec<Choice>) -> Self {
        Self {
            slots: choices.iter().filter(|c| c.chosen).map(|c| c.group.id).collect(),
            sessions: choices.into_iter().map(|c| SlotDto::new(c.group, c.chosen)).collect(),
        }
    }
}

impl SlotDto {
    pub fn new(g: FocusGroup, chosen: bool) -> Self {
        Self {
            id: g.id,
            starts_at: format_at(&g.starts_at),
            ends_at: format_at(&g.ends_at()),
            title: g.title,
            location: g.location,
            chosen,
        }
    }
}
