//! Mail as the domain sees it: a message to queue, and the retry schedule.

use chrono::Duration;
use serde::Serialize;

/// A file sent with a message (the signed consent PDF with a receipt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A message to queue in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub study_id: Option<i64>,
    pub kind: &'static str,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub attachment: Option<Attachment>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MailStatus {
    Queued,
    Sending,
    Sent,
    /// No SMTP server is configured: the message stays here, readable by staff.
    Kept,
    Failed,
    /// Withdrawn before it was due (a reminder for a session the person left).
    Cancelled,
}

impl MailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Queued => "queued",
            MailStatus::Sending => "sending",
            MailStatus::Sent => "sent",
            MailStatus::Kept => "kept",
            MailStatus::Failed => "failed",
            MailStatus::Cancelled => "cancelled",
        }
    }
}

impl std::str::FromStr for MailStatus {
    type Err = super::fields::FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            MailStatus::Queued,
            MailStatus::Sending,
            MailStatus::Sent,
            MailStatus::Kept,
            MailStatus::Failed,
            MailStatus::Cancelled,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
        .ok_or_else(|| super::fields::FieldError::new("unknown_status", "Unknown mail status."))
    }
}

/// Attempts before a message is given up as failed.
pub const MAX_ATTEMPTS: i32 = 8;

/// Wait before the next attempt after `attempts` failures: 30 s doubling, at most 6 h.
pub fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 20) - 1;
    Duration::seconds((30_i64 << exp).min(6 * 3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(5), Duration::seconds(480));
        assert_eq!(backoff(30), Duration::hours(6));
    }
}
