//! A participant's page and links, and the coordinator's invitations and reminders.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ContactDto, EthicsRefDto, SlotDto};
use crate::domain::focus_group::FocusGroup;
use crate::domain::participant::{NextStep, Participant};
use crate::domain::study::Study;
use crate::service::consent::Given;
use crate::service::participant::Invitation;

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct InviteParticipant {
    pub name: String,
    pub email: String,
}

#[derive(Serialize, ToSchema)]
pub struct InvitationDto {
    /// Starts `cpt_`; shown once, for a new participant only. The participant's
    /// private link is `portal_url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub portal_url: Option<String>,
    /// A link is on its way to the participant's address (always true).
    pub sent: bool,
}

#[derive(Serialize, ToSchema)]
pub struct NextStepDto {
    /// `consent`, `reconsent`, `questionnaire` or `availability`.
    pub step: String,
    /// `todo` or `done`.
    pub state: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PortalStudyDto {
    pub slug: String,
    pub title: String,
    pub ethics: EthicsRefDto,
    pub contact: ContactDto,
}

#[derive(Serialize, ToSchema)]
pub struct PortalConsentDto {
    pub version: String,
    pub signed_at: String,
    pub pdf_sha256: String,
}

#[derive(Serialize, ToSchema)]
pub struct PortalDto {
    pub study: PortalStudyDto,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `invited`, `consented` or `withdrawn`.
    pub status: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent: Option<PortalConsentDto>,
    pub next_steps: Vec<NextStepDto>,
    /// The focus group the participant is booked into, if any.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub focus_group: Option<SlotDto>,
}

/// "Send me a new link": the address the participant gave the study.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct RequestLink {
    pub email: String,
}

/// The same answer for every well-formed address.
#[derive(Serialize, ToSchema)]
pub struct LinkRequestedDto {
    /// Always true: if the address is on record, a link is on its way to it.
    pub sent: bool,
}

#[derive(Serialize, ToSchema)]
pub struct RemindersDto {
    /// Reminders queued now (each with a fresh link).
    pub queued: usize,
}

impl From<&Study> for PortalStudyDto {
    fn from(s: &Study) -> Self {
        Self {
            slug: s.slug.clone(),
            title: s.title.clone(),
            ethics: EthicsRefDto::from(s),
            contact: ContactDto::from(s),
        }
    }
}

impl From<NextStep> for NextStepDto {
    fn from(n: NextStep) -> Self {
        Self {
            step: n.step.to_string(),
            state: n.state.to_string(),
            key: n.key,
            version: n.version,
        }
    }
}

impl PortalDto {
    pub fn new(
        study: &Study,
        participant: &Participant,
        latest: Option<Given>,
        steps: Vec<NextStep>,
        booked: Option<FocusGroup>,
    ) -> Self {
        Self {
            study: PortalStudyDto::from(study),
            code: participant.code.clone(),
            status: participant.status().to_string(),
            consent: latest.map(|g| PortalConsentDto {
                version: g.record.form_version,
                signed_at: g.record.signed_at,
                pdf_sha256: g.pdf_sha256,
            }),
            next_steps: steps.into_iter().map(NextStepDto::from).collect(),
            focus_group: booked.map(|g| SlotDto::new(g, true)),
        }
    }
}

impl From<Invitation> for InvitationDto {
    fn from(inv: Invitation) -> Self {
        match inv {
            Invitation::New { token, portal_url, .. } => {
                Self { participant_token: Some(token), portal_url: Some(portal_url), sent: true }
            }
            Invitation::Known { .. } => {
                Self { participant_token: None, portal_url: None, sent: true }
            }
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct InviteFromStudy {
    /// The slug of an earlier study the caller coordinates.
    pub study: String,
}

#[derive(Serialize, ToSchema)]
pub struct FromStudyDto {
    /// New participants invited, each mailed a private link.
    pub invited: usize,
    /// People who agreed but are in this study already: nothing was sent to them.
    pub already_in_study: usize,
}
