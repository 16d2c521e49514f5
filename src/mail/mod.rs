//! Mail: messages composed from domain data, queued in the outbox inside the
//! transaction that causes them, and delivered by a background sender (SMTP when
//! `CONSENTRY_SMTP_URL` is set, otherwise kept in the outbox and logged).

pub mod compose;
pub mod sender;

use chrono::Utc;

use crate::domain::mail::Message;
use crate::error::AppResult;
use crate::store::{self, Conn};

/// Queues `message` within the caller's transaction.
pub async fn enqueue(tx: &impl Conn, message: &Message) -> AppResult<i64> {
    store::outbox::insert(tx, message, Utc::now()).await
}
