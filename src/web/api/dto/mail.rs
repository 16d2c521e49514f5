//! The outbox.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::audit::format_at;
use crate::service::mail::StoredMail;

#[derive(Serialize, ToSchema)]
pub struct MailDto {
    pub id: i64,
    /// `invitation`, `consent_receipt`, `withdrawal`, `identity_code`, `reminder`,
    /// `focus_group_invitation`, `focus_group_reminder`, `focus_group_cancellation`.
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<String>,
    /// `queued`, `sending`, `sent`, `kept` (no SMTP configured), `failed` or
    /// `cancelled` (a reminder withdrawn before it was due).
    pub status: String,
    pub attempts: i32,
    pub created_at: String,
    /// Not sent before this time: a reminder's due time, or the next retry.
    pub due_at: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
}

impl From<StoredMail> for MailDto {
    fn from(m: StoredMail) -> Self {
        Self {
            id: m.id,
            kind: m.message.kind.to_string(),
            to: m.message.to,
            subject: m.message.subject,
            body: m.message.body,
            attachment: m.message.attachment.map(|a| a.name),
            status: m.status.as_str().to_string(),
            attempts: m.attempts,
            created_at: format_at(&m.created_at),
            due_at: format_at(&m.due_at),
            sent_at: m.sent_at.as_ref().map(format_at),
        }
    }
}
