//! A participant's own pages: "get a new link" and their page in the study.

use serde::Serialize;

use super::{Booking, ParticipantFrame, Refusal};
use crate::domain::participant::NextStep;

/// "Send me a new link": the form (after a dead link, or with what was refused),
/// or the same answer for every address once sent.
#[derive(Serialize, Default)]
pub struct NewLinkPage {
    pub csrf: String,
    pub dead_link: bool,
    pub email: String,
    pub errors: Vec<(String, Vec<String>)>,
    pub email_errors: Vec<String>,
    pub sent: bool,
}

impl NewLinkPage {
    pub fn form(csrf: &str, dead_link: bool, email: &str, refusal: &Refusal) -> Self {
        Self {
            csrf: csrf.to_string(),
            dead_link,
            email: email.to_string(),
            errors: refusal.listed(),
            email_errors: refusal.fields.values().flatten().cloned().collect(),
            sent: false,
        }
    }

    pub fn sent() -> Self {
        Self { sent: true, ..Self::default() }
    }
}

/// The participant's page: where they stand and what to do next.
#[derive(Serialize)]
pub struct PortalPage {
    #[serde(flatten)]
    pub frame: ParticipantFrame,
    pub code: Option<String>,
    pub status: &'static str,
    pub steps: Vec<NextStep>,
    pub booked: Option<Booking>,
    pub signed_version: Option<String>,
    pub signed_at: Option<String>,
}
