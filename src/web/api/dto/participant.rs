//! A participant's page and links, and the coordinator's invitations and reminders.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ContactDto, EthicsRefDto, SlotDto};

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
