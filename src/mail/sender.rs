//! The outbox sender: claims due messages, delivers them, and records the outcome
//! with retries and backoff. Safe to run in several instances at once.

use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use lettre::message::header::ContentType;
use lettre::message::{Attachment as LettreAttachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::domain::mail::{MAX_ATTEMPTS, MailStatus, Message, backoff};
use crate::error::AppResult;
use crate::keys::Keys;
use crate::store::mail::StoredMail;
use crate::store::{self, Db};

/// Where messages go.
pub enum Delivery {
    /// An SMTP server (`smtp://host:port`, optionally with `user:pass@`).
    Smtp { transport: AsyncSmtpTransport<Tokio1Executor>, from: Mailbox },
    /// No server configured: messages stay in the outbox as `kept`.
    Keep,
}

/// A mail setting that cannot be used, named as the operator sets it.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    #[error(
        "CONSENTRY_SMTP_URL must be smtp://[user:password@]host[:port] (a relay such as the local MTA)"
    )]
    NotSmtp,
    #[error("CONSENTRY_SMTP_URL has a bad port")]
    BadPort,
    #[error("CONSENTRY_SMTP_URL has no host")]
    NoHost,
    #[error("CONSENTRY_MAIL_FROM is not an address: {0}")]
    BadFrom(String),
}

impl Delivery {
    /// From `CONSENTRY_SMTP_URL` and the sender address.
    pub fn from_config(smtp_url: Option<&str>, from: &str) -> Result<Self, SetupError> {
        match smtp_url {
            None => Ok(Delivery::Keep),
            Some(url) => {
                let relay = SmtpRelay::parse(url)?;
                let mut builder =
                    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(relay.host)
                        .port(relay.port)
                        .timeout(Some(StdDuration::from_secs(20)));
                if let Some((user, password)) = relay.credentials {
                    builder = builder.credentials(Credentials::new(user, password));
                }
                let transport = builder.build();
                let from = from.parse().map_err(|e: lettre::address::AddressError| {
                    SetupError::BadFrom(e.to_string())
                })?;
                Ok(Delivery::Smtp { transport, from })
            }
        }
    }
}

/// `smtp://[user:password@]host[:port]`: a relay reached without TLS, such as the
/// machine's own MTA, which then delivers onwards.
#[derive(Debug, PartialEq, Eq)]
struct SmtpRelay {
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
}

impl SmtpRelay {
    fn parse(url: &str) -> Result<Self, SetupError> {
        let rest = url.strip_prefix("smtp://").ok_or(SetupError::NotSmtp)?;
        let (credentials, hostport) = match rest.rsplit_once('@') {
            Some((creds, hp)) => {
                let (user, password) = creds.split_once(':').unwrap_or((creds, ""));
                (Some((user.to_string(), password.to_string())), hp)
            }
            None => (None, rest),
        };
        let hostport = hostport.trim_end_matches('/');
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| SetupError::BadPort)?),
            None => (hostport, 25),
        };
        if host.is_empty() {
            return Err(SetupError::NoHost);
        }
        Ok(Self { host: host.to_string(), port, credentials })
    }
}

/// The message as SMTP carries it; a message that cannot be built is tried again
/// (and fails for good after the last attempt).
fn build(message: &Message, from: &Mailbox, id: &str) -> Result<lettre::Message, Undeliverable> {
    let to: Mailbox =
        message.to.parse().map_err(|e| Undeliverable::Retry(format!("bad recipient: {e}")))?;
    let builder = lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(message.subject.clone())
        .message_id(Some(id.to_string()));
    let text = SinglePart::builder().header(ContentType::TEXT_PLAIN).body(message.body.clone());
    let result = match &message.attachment {
        None => builder.singlepart(text),
        Some(a) => {
            let content_type = ContentType::parse(&a.content_type)
                .map_err(|e| Undeliverable::Retry(format!("bad attachment type: {e}")))?;
            let file = LettreAttachment::new(a.name.clone()).body(a.bytes.clone(), content_type);
            builder.multipart(MultiPart::mixed().singlepart(text).singlepart(file))
        }
    };
    result.map_err(|e| Undeliverable::Retry(format!("message not built: {e}")))
}

/// How long a claimed message is reserved for its sender; a sender that dies in
/// between leaves it to another after this. Longer than an SMTP attempt may take.
const LEASE_SECONDS: i64 = 120;

/// Messages handled in one pass at most, before the sender looks again.
const PASS: usize = 50;

/// The `Message-ID` of an outbox message: the same for every attempt to send it, so
/// a relay or mail client drops a copy sent again after a crash.
pub fn message_id(mail: &StoredMail, domain: &str) -> String {
    format!("<consentry.{}.{}@{domain}>", mail.id, mail.created_at.timestamp_micros())
}

/// Claims the next due message, alone, for `LEASE_SECONDS`: a crash while sending it
/// holds back only this one.
pub async fn claim_next(db: &Db) -> AppResult<Option<StoredMail>> {
    let tx = db.begin_write().await?;
    let claimed =
        store::mail::claim_due(tx.conn(), Utc::now(), Duration::seconds(LEASE_SECONDS), 1).await?;
    tx.commit().await?;
    Ok(claimed.into_iter().next())
}

/// Tries to deliver one claimed message; a message carrying a secret is opened
/// from its seal just before it is sent.
pub async fn attempt(
    keys: &Keys,
    delivery: &Delivery,
    mail: &StoredMail,
) -> Result<MailStatus, Undeliverable> {
    let Some(message) = crate::mail::to_send(keys, &mail.message, mail.sealed.as_deref()) else {
        return Err(Undeliverable::Final(
            "its sealed part does not open with this server's key".into(),
        ));
    };
    match delivery {
        Delivery::Keep => Ok(MailStatus::Kept),
        Delivery::Smtp { transport, from } => {
            let domain = from.email.domain().to_string();
            let email = build(&message, from, &message_id(mail, &domain))?;
            transport
                .send(email)
                .await
                .map(|_| MailStatus::Sent)
                .map_err(|e| Undeliverable::Retry(e.to_string()))
        }
    }
}

/// Records how an attempt went: sent or kept, or failed and due again after a
/// backoff (given up after `MAX_ATTEMPTS`).
pub async fn record(
    db: &Db,
    mail: &StoredMail,
    outcome: Result<MailStatus, Undeliverable>,
) -> AppResult<()> {
    let now = Utc::now();
    let attempts = mail.attempts + 1;
    let tx = db.begin_write().await?;
    match outcome {
        Ok(status) => {
            store::mail::mark(tx.conn(), mail.id, status, attempts, now, None, now).await?;
            tracing::info!(
                mail_id = mail.id,
                kind = mail.message.kind,
                status = status.as_str(),
                "mail handled"
            );
        }
        Err(why) => {
            let (status, error) = match why {
                Undeliverable::Final(e) => (MailStatus::Failed, e),
                Undeliverable::Retry(e) if attempts >= MAX_ATTEMPTS => (MailStatus::Failed, e),
                Undeliverable::Retry(e) => (MailStatus::Queued, e),
            };
            store::mail::mark(
                tx.conn(),
                mail.id,
                status,
                attempts,
                now + backoff(attempts),
                Some(&error),
                now,
            )
            .await?;
            tracing::warn!(
                mail_id = mail.id,
                kind = mail.message.kind,
                attempts,
                "mail delivery failed"
            );
        }
    }
    tx.commit().await
}

/// One pass: delivers due messages one at a time (claim, send, record). Returns how
/// many were handled. Delivery is at least once: a crash between sending and
/// recording sends the message again after the lease, with the same `Message-ID`.
pub async fn deliver_due(db: &Db, keys: &Keys, delivery: &Delivery) -> AppResult<usize> {
    let mut handled = 0;
    while handled < PASS {
        let Some(mail) = claim_next(db).await? else { break };
        let outcome = attempt(keys, delivery, &mail).await;
        record(db, &mail, outcome).await?;
        handled += 1;
    }
    Ok(handled)
}

/// Why an attempt did not deliver: worth another try, or never deliverable.
#[derive(Debug)]
pub enum Undeliverable {
    Retry(String),
    Final(String),
}

/// Runs the sender until the process ends, checking the outbox every few seconds.
pub fn spawn(db: Db, keys: Keys, delivery: Delivery) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match deliver_due(&db, &keys, &delivery).await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "outbox sender"),
            }
            tokio::time::sleep(StdDuration::from_secs(3)).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_cannot_add_headers() {
        let from: Mailbox =
            "Study team <research@example.edu>".parse().unwrap_or_else(|e| panic!("{e}"));
        let message = Message {
            study_id: None,
            kind: "invitation",
            to: "pat@example.org".into(),
            subject: "Study \"X\"\r\nBcc: evil@example.org\nX-Evil: 1".into(),
            body: "Body\r\n.\r\nMAIL FROM:<evil@example.org>".into(),
            attachment: None,
            secrets: Vec::new(),
        };
        let built = build(&message, &from, "<consentry.1.2@example.edu>")
            .unwrap_or_else(|e| panic!("{e:?}"));
        let text = String::from_utf8(built.formatted()).unwrap_or_default();
        let head = text.split("\r\n\r\n").next().unwrap_or_default();
        for line in head.split("\r\n") {
            assert!(!line.starts_with("Bcc:") && !line.starts_with("X-Evil:"), "{text}");
        }
        assert!(
            build(
                &Message { to: "pat@example.org\r\nBcc: x@y.z".into(), ..message },
                &from,
                "<x@y>"
            )
            .is_err(),
            "a forged recipient is refused"
        );
    }

    #[test]
    fn relay_urls() {
        assert_eq!(
            SmtpRelay::parse("smtp://localhost:2525"),
            Ok(SmtpRelay { host: "localhost".into(), port: 2525, credentials: None })
        );
        assert_eq!(
            SmtpRelay::parse("smtp://app:s3cret@mail.internal"),
            Ok(SmtpRelay {
                host: "mail.internal".into(),
                port: 25,
                credentials: Some(("app".into(), "s3cret".into()))
            })
        );
        for bad in ["smtps://x", "http://x", "smtp://", "smtp://h:port"] {
            assert!(SmtpRelay::parse(bad).is_err(), "{bad}");
        }
    }
}
