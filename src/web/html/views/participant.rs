//! A participant's own pages: "get a new link" and their page in the study.

use serde::Serialize;

use super::{Booking, FormView, ParticipantFrame, Refusal, StaffFrame};
use crate::domain::participant::NextStep;
use crate::domain::study::{Study, Zone};
use crate::service::participant::{ParticipantRecord, RosterEntry};
use crate::web::html::participant::{InviteForm, RosterFilter};

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

/// One line of the participant list.
#[derive(Serialize)]
pub struct RosterLine {
    pub id: i64,
    pub code: Option<String>,
    pub status: &'static str,
    pub joined: String,
    pub ad: Option<String>,
    pub stratum: Option<String>,
    /// e.g. `consent, 2 of 2 questionnaires, availability`.
    pub progress: String,
    pub session: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// Waits to talk to the researchers about the knowledge review.
    pub out_of_tries: bool,
}

impl RosterLine {
    pub fn new(e: &RosterEntry, zone: Zone) -> Self {
        let mut done = Vec::new();
        if e.status != "invited" {
            done.push("consent".to_string());
        }
        if e.questionnaires > 0 {
            done.push(format!("{} of {} questionnaires", e.questionnaires_done, e.questionnaires));
        }
        if e.gave_availability {
            done.push("availability".to_string());
        }
        Self {
            id: e.id,
            code: e.code.clone(),
            status: e.status,
            joined: super::in_words(e.joined, zone),
            ad: e.ad.clone(),
            stratum: e.stratum.clone(),
            progress: if done.is_empty() { "nothing yet".into() } else { done.join(", ") },
            session: e.session.clone(),
            name: e.contact.as_ref().map(|(n, _)| n.clone()),
            email: e.contact.as_ref().map(|(_, m)| m.clone()),
            out_of_tries: e.out_of_tries,
        }
    }

    /// Whether the line matches every word of `q` (code, name, address, ad, stratum).
    fn matches(&self, q: &str) -> bool {
        let hay = [
            self.code.as_deref(),
            self.name.as_deref(),
            self.email.as_deref(),
            self.ad.as_deref(),
            self.stratum.as_deref(),
            self.session.as_deref(),
        ]
        .iter()
        .flatten()
        .map(|s| s.to_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
        q.split_whitespace().all(|w| hay.contains(&w.to_lowercase()))
    }
}

/// A study's participant list with its search and the invitation form.
#[derive(Serialize)]
pub struct RosterPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub slug: String,
    pub title: String,
    pub zone: &'static str,
    /// Coordinators: names and addresses shown, invitations and new links.
    pub coordinator: bool,
    pub rows: Vec<RosterLine>,
    pub total: usize,
    pub filter: RosterFilter,
    pub invite: FormView<InviteForm>,
    /// Other studies the caller coordinates, as (slug, title): where people who
    /// agreed to future contact can be invited from.
    pub earlier_studies: Vec<(String, String)>,
}

impl RosterPage {
    pub fn new(
        frame: StaffFrame,
        study: &Study,
        coordinator: bool,
        entries: &[RosterEntry],
        filter: RosterFilter,
        invite: FormView<InviteForm>,
    ) -> Self {
        let q = filter.q.as_deref().map(str::trim).unwrap_or_default().to_string();
        let status = filter.status.as_deref().map(str::trim).unwrap_or_default().to_string();
        let rows = entries
            .iter()
            .map(|e| RosterLine::new(e, study.timezone))
            .filter(|l| status.is_empty() || l.status == status)
            .filter(|l| q.is_empty() || l.matches(&q))
            .collect();
        Self {
            frame,
            slug: study.slug.clone(),
            title: study.title.clone(),
            zone: study.timezone.name(),
            coordinator,
            rows,
            total: entries.len(),
            filter,
            invite,
            earlier_studies: Vec::new(),
        }
    }
}

/// A message sent to a participant, as staff may read it (links and codes redacted).
#[derive(Serialize)]
pub struct MailLine {
    pub kind: &'static str,
    pub subject: String,
    pub status: &'static str,
    pub when: String,
}

/// One participant's record for their coordinator: where they are, and their mail.
#[derive(Serialize)]
pub struct RecordPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub slug: String,
    pub title: String,
    pub zone: &'static str,
    pub person: RosterLine,
    pub steps: Vec<NextStep>,
    pub mail: Vec<MailLine>,
    pub out_of_tries: bool,
}

impl RecordPage {
    pub fn new(frame: StaffFrame, study: &Study, r: &ParticipantRecord) -> Self {
        Self {
            frame,
            out_of_tries: r.out_of_tries,
            slug: study.slug.clone(),
            title: study.title.clone(),
            zone: study.timezone.name(),
            person: RosterLine::new(&r.entry, study.timezone),
            steps: r.steps.clone(),
            mail: r
                .mail
                .iter()
                .map(|m| MailLine {
                    kind: m.message.kind,
                    subject: m.message.redacted().0,
                    status: m.status.as_str(),
                    when: super::in_words(m.sent_at.unwrap_or(m.created_at), study.timezone),
                })
                .collect(),
        }
    }
}
