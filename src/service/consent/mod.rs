//! The consent area's use cases: consent-form versions (`form`), the optional
//! identity check (`identity`), giving consent (`signing`), withdrawal
//! (`withdrawal`), changing optional choices later (`amending`), the staff register
//! (`register`), what the optional items govern (`choices`) and the knowledge review
//! answered before signing (`review`).

use chrono::Utc;
use rand::RngCore;
use serde::Serialize;
use serde_json::{Value, json};

use crate::audit;
use crate::domain::audit::{NewEvent, format_at, sha256_hex, storable};
use crate::domain::consent::signature::parse_drawing;
use crate::domain::consent::{
    ConsentForm, ConsentRecord, DecisionError, SIGNATURE_MEANING, SignRequest, decide,
};
use crate::domain::participant::{Participant, WithdrawalScope};
use crate::domain::policy::Capacity;
use crate::domain::study::{Study, StudyStatus};
use crate::domain::user::User;
use crate::error::{AppError, AppResult};
use crate::service::AppState;
use crate::store::consent::record::StoredConsent;
use crate::store::{self, Conn};

mod amending;
pub mod choices;
pub mod form;
pub mod identity;
mod queue;
mod register;
mod review;
mod signing;
mod withdrawal;

pub use amending::*;
pub use queue::SigningQueue;
pub use register::*;
pub use review::*;
pub use signing::*;
pub use withdrawal::*;

/// The outcome of a signing request.
#[derive(Debug, Clone)]
pub struct Given {
    pub consent_id: i64,
    pub record: ConsentRecord,
    pub record_sha256: String,
    pub pdf_sha256: String,
    /// False when an identical earlier consent was returned (a safe retry).
    pub created: bool,
}

async fn pdf_audited(
    state: &AppState,
    study: &Study,
    consent_id: i64,
    actor: &str,
) -> AppResult<Vec<u8>> {
    let tx = state.db.begin_write().await?;
    let bytes =
        store::consent::record::pdf(tx.conn(), consent_id).await?.ok_or(AppError::NotFound)?;
    audit::record(
        tx.conn(),
        NewEvent::new(actor, "consent.pdf_viewed", "consent", consent_id)
            .in_study(&study.slug)
            .with(json!({"pdf_sha256": sha256_hex(&bytes)})),
    )
    .await?;
    tx.commit().await?;
    Ok(bytes)
}

async fn reload(db: &impl Conn, participant: &Participant) -> AppResult<(Participant, Study)> {
    store::participant::with_study(db, participant.id).await?.ok_or(AppError::NotFound)
}
