//! The audit log viewer: events newest first with their hash links, the filters
//! that found them, and the last verification.

use serde::Serialize;

use super::StaffFrame;
use crate::domain::audit::{Event, Verification};

#[derive(Serialize)]
pub struct AuditLogPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub filters: AuditFilters,
    pub events: Vec<EventRow>,
    /// The query for the next (older) page, when there is one.
    pub older: Option<String>,
    pub studies: Vec<(String, String)>,
    /// The public key and the latest checkpoint, when the server signs them.
    pub checkpoints: Option<CheckpointBox>,
}

#[derive(Serialize)]
pub struct CheckpointBox {
    pub public_key: Option<String>,
    pub count: usize,
    pub latest_at: Option<String>,
    pub latest_chains: usize,
}

impl From<crate::service::audit::CheckpointStatus> for CheckpointBox {
    fn from(s: crate::service::audit::CheckpointStatus) -> Self {
        Self {
            public_key: s.public_key,
            count: s.count,
            latest_at: s.latest.as_ref().map(|c| c.statement.at.clone()),
            latest_chains: s.latest.map_or(0, |c| c.statement.chains.len()),
        }
    }
}

/// The filters as typed, shown back in the form.
#[derive(Serialize, Default, Clone)]
pub struct AuditFilters {
    pub study: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub from: String,
    pub to: String,
    pub access: bool,
}

impl AuditFilters {
    /// The query string that repeats these filters, with `before` for the next page.
    pub fn query(&self, before: i64) -> String {
        let mut pairs = vec![("before", before.to_string())];
        let given = [
            ("study", &self.study),
            ("actor", &self.actor),
            ("action", &self.action),
            ("entity", &self.entity),
            ("from", &self.from),
            ("to", &self.to),
        ];
        for (key, value) in given {
            if !value.is_empty() {
                pairs.push((key, value.clone()));
            }
        }
        if self.access {
            pairs.push(("access", "true".into()));
        }
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={}", url_escape(&v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn url_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[derive(Serialize)]
pub struct EventRow {
    pub chain: String,
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub details: String,
    pub hash: String,
    pub prev_hash: String,
}

impl From<&Event> for EventRow {
    fn from(e: &Event) -> Self {
        Self {
            chain: e.chain.clone(),
            seq: e.seq,
            at: e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
            actor: e.actor.clone(),
            action: e.action.clone(),
            entity: format!("{} {}", e.entity, e.entity_id),
            details: crate::domain::audit::canonical_json(&e.details),
            hash: e.hash.clone(),
            prev_hash: e.prev_hash.clone(),
        }
    }
}

/// What "Verify now" found, as one sentence.
pub fn verification_message(v: &Verification) -> (bool, String) {
    match v {
        Verification::Ok { events, chains, checkpoints, .. } => (
            true,
            format!(
                "Verified: {events} events in {} chains are intact{}.",
                chains.len(),
                match checkpoints {
                    0 => ", and every consent record matches its signed PDF".to_string(),
                    n => format!(
                        ", every chain extends all {n} signed checkpoints, and every consent record matches its signed PDF"
                    ),
                }
            ),
        ),
        Verification::Broken { chain, first_bad_seq, reason, .. } => {
            (false, format!("Broken: chain {chain}, first bad event {first_bad_seq}: {reason}"))
        }
    }
}
