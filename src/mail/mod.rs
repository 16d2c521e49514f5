//! Mail: messages composed from domain data, queued in the outbox inside the
//! transaction that causes them, and delivered by a background sender (SMTP when
//! `CONSENTRY_SMTP_URL` is set, otherwise kept in the outbox and logged).
//!
//! A message that carries a secret (a private link, a code) is stored as staff may
//! read it, each secret shown as `[private link]` or `[code]`; the whole message is
//! sealed with the server's key for its recipient, opened only by the sender, and
//! the sealed copy is erased once the message is sent, kept or given up.

pub mod compose;
pub mod sender;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::mail::Message;
use crate::error::{AppError, AppResult};
use crate::keys::Keys;
use crate::store::{self, Conn};

/// The parts of a message that are sealed when it carries a secret.
#[derive(Serialize, Deserialize)]
struct Sealed {
    subject: String,
    body: String,
}

/// Queues `message` within the caller's transaction, to be sent now.
pub async fn enqueue(tx: &impl Conn, keys: &Keys, message: &Message) -> AppResult<i64> {
    let now = Utc::now();
    enqueue_due(tx, keys, message, now, now).await
}

/// Queues `message` not to be sent before `due` (a reminder).
pub async fn enqueue_due(
    tx: &impl Conn,
    keys: &Keys,
    message: &Message,
    now: DateTime<Utc>,
    due: DateTime<Utc>,
) -> AppResult<i64> {
    let (subject, body) = message.redacted();
    let sealed = if message.secrets.is_empty() {
        None
    } else {
        let whole = Sealed { subject: message.subject.clone(), body: message.body.clone() };
        let plain = serde_json::to_vec(&whole).map_err(|e| AppError::Internal(e.to_string()))?;
        Some(keys.seal(&plain, &message.to))
    };
    let stored = Message { subject, body, secrets: Vec::new(), ..message.clone() };
    store::mail::insert(tx, &stored, sealed, now, due).await
}

/// The message to send: the stored one, or its sealed original opened for its
/// recipient. `None` when the seal cannot be opened (another server key).
pub fn to_send(keys: &Keys, stored: &Message, sealed: Option<&[u8]>) -> Option<Message> {
    match sealed {
        None => Some(stored.clone()),
        Some(blob) => {
            let plain = keys.open(blob, &stored.to)?;
            let whole: Sealed = serde_json::from_slice(&plain).ok()?;
            Some(Message { subject: whole.subject, body: whole.body, ..stored.clone() })
        }
    }
}
