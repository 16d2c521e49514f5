//! The outbox.

use serde::Serialize;
use utoipa::ToSchema;

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
