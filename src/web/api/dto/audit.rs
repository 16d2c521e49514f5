//! The audit log and its verification.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::audit::Event;
use crate::domain::audit::Verification;

#[derive(Serialize, ToSchema)]
pub struct AuditEventDto {
    pub chain: String,
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub study: Option<String>,
    pub entity: String,
    pub entity_id: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

impl From<&Event> for AuditEventDto {
    fn from(e: &Event) -> Self {
        Self {
            chain: e.chain.clone(),
            seq: e.seq,
            at: crate::domain::audit::format_at(&e.at),
            actor: e.actor.clone(),
            action: e.action.clone(),
            study: e.study.clone(),
            entity: e.entity.clone(),
            entity_id: e.entity_id.clone(),
            details: e.details.clone(),
            prev_hash: e.prev_hash.clone(),
            hash: e.hash.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub chain: String,
    pub events: Vec<AuditEventDto>,
    /// Pass as `after` to read on; absent when this page reached the end.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ChainSummaryDto {
    pub chain: String,
    pub events: i64,
    pub head: String,
}

/// `{ok: true, events, chains}` or `{ok: false, chain, first_bad_seq, reason, events_checked}`.
#[derive(Serialize, ToSchema)]
pub struct VerifyDto {
    pub ok: bool,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<i64>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chains: Option<Vec<ChainSummaryDto>>,
    /// Signed checkpoints every chain still extends (when the server signs them).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoints: Option<usize>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad_seq: Option<i64>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events_checked: Option<i64>,
}

impl From<Verification> for VerifyDto {
    fn from(result: Verification) -> Self {
        match result {
            Verification::Ok { events, chains, checkpoints, .. } => VerifyDto {
                ok: true,
                events: Some(events),
                checkpoints: Some(checkpoints),
                chains: Some(
                    chains
                        .into_iter()
                        .map(|c| ChainSummaryDto { chain: c.chain, events: c.events, head: c.head })
                        .collect(),
                ),
                chain: None,
                first_bad_seq: None,
                reason: None,
                events_checked: None,
            },
            Verification::Broken { chain, first_bad_seq, reason, events_checked, .. } => {
                VerifyDto {
                    ok: false,
                    events: None,
                    chains: None,
                    checkpoints: None,
                    chain: Some(chain),
                    first_bad_seq: Some(first_bad_seq),
                    reason: Some(reason),
                    events_checked: Some(events_checked),
                }
            }
        }
    }
}
