//! The outbox as staff read it: secrets already replaced by what staff may see.

use serde::Serialize;

use super::StaffFrame;
use crate::service::mail::StoredMail;

#[derive(Serialize)]
pub struct OutboxPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub mail: Vec<MailRow>,
}

#[derive(Serialize)]
pub struct MailRow {
    pub kind: &'static str,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub attachment: Option<String>,
    pub status: &'static str,
    pub attempts: i32,
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// Times in words, on UTC: the outbox spans studies in different zones.
const STAMP: &str = "%-d %B %Y, %H:%M";

impl From<StoredMail> for MailRow {
    fn from(m: StoredMail) -> Self {
        Self {
            kind: m.message.kind,
            to: m.message.to,
            subject: m.message.subject,
            body: m.message.body,
            attachment: m.message.attachment.map(|a| a.name),
            status: m.status.as_str(),
            attempts: m.attempts,
            created_at: m.created_at.format(STAMP).to_string(),
            sent_at: m.sent_at.map(|t| t.format(STAMP).to_string()),
        }
    }
}
