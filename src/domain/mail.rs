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
    /// What only the recipient may read (a private link, a code): staff reading the
    /// outbox see each one as its `shown_as`, and nothing keeps it after sending.
    pub secrets: Vec<Secret>,
}

/// A secret in a message's subject or body, and how staff see it instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    pub value: String,
    pub shown_as: &'static str,
}

/// How a participant's private link appears to staff.
pub const PRIVATE_LINK: &str = "[private link]";
/// How an identity code appears to staff.
pub const CODE: &str = "[code]";

impl Message {
    /// The message with `value` marked as a secret only its recipient may read.
    pub fn with_secret(mut self, value: &str, shown_as: &'static str) -> Self {
        self.secrets.push(Secret { value: value.to_string(), shown_as });
        self
    }

    /// Subject and body as staff may read them: every secret replaced.
    pub fn redacted(&self) -> (String, String) {
        let mut subject = self.subject.clone();
        let mut body = self.body.clone();
        for s in self.secrets.iter().filter(|s| !s.value.is_empty()) {
            subject = subject.replace(&s.value, s.shown_as);
            body = body.replace(&s.value, s.shown_as);
        }
        (subject, body)
    }
}

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum MailStatus {
        Queued = "queued",
        Sending = "sending",
        Sent = "sent",
        /// No SMTP server is configured: the message stays here, readable by staff.
        Kept = "kept",
        Failed = "failed",
        /// Withdrawn before it was due (a reminder for a session the person left).
        Cancelled = "cancelled",
    }
    else "unknown_status", "Unknown mail status."
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
    fn secrets_are_replaced_for_staff() {
        let m = Message {
            study_id: None,
            kind: "identity_code",
            to: "pat@example.org".into(),
            subject: "Your code: 123456".into(),
            body: "Code 123456, link http://x/p/cpt_abc and again http://x/p/cpt_abc".into(),
            attachment: None,
            secrets: Vec::new(),
        }
        .with_secret("123456", CODE)
        .with_secret("http://x/p/cpt_abc", PRIVATE_LINK);
        assert_eq!(
            m.redacted(),
            (
                "Your code: [code]".to_string(),
                "Code [code], link [private link] and again [private link]".to_string()
            )
        );
        assert!(m.body.contains("cpt_abc"), "the message itself keeps them for sending");
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(5), Duration::seconds(480));
        assert_eq!(backoff(30), Duration::hours(6));
    }
}
