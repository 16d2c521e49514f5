//! The audit chain (SPEC §7): `record` appends an event inside the caller's
//! transaction, serialised on the chain head; `verify` recomputes every chain.

use chrono::Utc;
use serde::Serialize;

use crate::domain::audit::{ChainBreak, ChainSummary, ChainVerifier, Event, NewEvent, chain_for};
use crate::error::AppResult;
use crate::store::{self, Conn};

/// Appends `new` to its chain within the transaction `tx`; it commits or rolls
/// back with the change it records.
pub async fn record(tx: &impl Conn, new: NewEvent) -> AppResult<Event> {
    let chain = chain_for(new.study.as_deref());
    let (seq, hash) = store::audit::lock_head(tx, &chain).await?;
    let event = Event::next(&chain, seq, &hash, Utc::now(), new);
    store::audit::append(tx, &event).await?;
    Ok(event)
}

/// The outcome of verifying every chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Verification {
    Ok {
        ok: bool,
        events: i64,
        chains: Vec<ChainSummary>,
    },
    Broken {
        ok: bool,
        chain: String,
        first_bad_seq: i64,
        reason: String,
        /// Events verified before the break, over all chains.
        events_checked: i64,
    },
}

impl Verification {
    pub fn is_ok(&self) -> bool {
        matches!(self, Verification::Ok { .. })
    }

    fn broken(b: ChainBreak, events_checked: i64) -> Self {
        Verification::Broken {
            ok: false,
            chain: b.chain,
            first_bad_seq: b.first_bad_seq,
            reason: b.reason,
            events_checked,
        }
    }
}

const PAGE: u64 = 1000;

/// Recomputes every chain from its first event, a page at a time, inside one
/// read snapshot so that concurrent appends do not look like damage.
pub async fn verify(db: &store::Db) -> AppResult<Verification> {
    let snapshot = db.begin_snapshot().await?;
    let conn = snapshot.conn();
    let heads = store::audit::heads(conn).await?;
    let mut chains: Vec<(String, Option<(i64, String)>)> =
        heads.into_iter().map(|(c, seq, hash)| (c, Some((seq, hash)))).collect();
    for chain in store::audit::chains_with_events(conn).await? {
        if !chains.iter().any(|(c, _)| *c == chain) {
            chains.push((chain, None));
        }
    }
    chains.sort_by(|a, b| a.0.cmp(&b.0));

    let mut total = 0;
    let mut summaries = Vec::with_capacity(chains.len());
    for (chain, head) in chains {
        let mut verifier = ChainVerifier::new(&chain);
        loop {
            let page = store::audit::page(conn, &chain, verifier.last_seq(), PAGE).await?;
            for event in &page {
                if let Err(b) = verifier.feed(event) {
                    return Ok(Verification::broken(b, total + verifier.last_seq()));
                }
            }
            if (page.len() as u64) < PAGE {
                break;
            }
        }
        let checked = verifier.last_seq();
        match verifier.finish(head.as_ref().map(|(s, h)| (*s, h.as_str()))) {
            Ok(summary) => {
                total += summary.events;
                summaries.push(summary);
            }
            Err(b) => return Ok(Verification::broken(b, total + checked)),
        }
    }
    snapshot.finish().await?;
    Ok(Verification::Ok { ok: true, events: total, chains: summaries })
}

/// Events of one chain after `after`, for reading the log.
pub async fn events(
    db: &store::Db,
    study: Option<&str>,
    after: i64,
    limit: u64,
) -> AppResult<Vec<Event>> {
    store::audit::page(db.conn(), &chain_for(study), after, limit).await
}
