//! The audit chain (SPEC §7): `record` appends an event inside the caller's
//! transaction, serialised on the chain head; `verify` recomputes every chain and,
//! given signed checkpoints, proves each chain still extends them; `checkpoint` signs
//! every chain's head and writes it outside the database.

pub mod checkpoints;
pub mod pack;

use chrono::Utc;

use crate::domain::audit::checkpoint::CheckpointCheck;
use crate::domain::audit::{
    ChainBreak, ChainVerifier, Event, NewEvent, StoredEvent, Verification, chain_for, sha256_hex,
};
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

const PAGE: u64 = 5000;

/// Recomputes every chain from its first event, a page at a time, inside one
/// read snapshot so that concurrent appends do not look like damage; with
/// `checkpoints`, every signed head is compared with the event now at its place.
pub async fn verify(
    db: &store::Db,
    mut checkpoints: Option<CheckpointCheck>,
) -> AppResult<Verification> {
    let snapshot = db.begin_snapshot().await?;
    let conn = snapshot.conn();
    let trail = store::audit::TrailReader::open(db, &snapshot).await?;
    let heads = trail.heads().await?;
    let mut chains: Vec<(String, Option<(i64, String)>)> =
        heads.into_iter().map(|(c, seq, hash)| (c, Some((seq, hash)))).collect();
    for chain in trail.chains_with_events().await? {
        if !chains.iter().any(|(c, _)| *c == chain) {
            chains.push((chain, None));
        }
    }
    chains.sort_by(|a, b| a.0.cmp(&b.0));

    let mut total = 0;
    let mut summaries = Vec::with_capacity(chains.len());
    for (chain, head) in chains {
        let mut verifier = ChainVerifier::new(&chain);
        let mut next = trail.page(&chain, verifier.last_seq(), PAGE).await?;
        loop {
            let page = std::mem::take(&mut next);
            let more = page.len() as u64 == PAGE;
            let after = page.last().map_or(0, |e| e.seq);
            // The next page is read while this one is hashed on the other cores.
            let reading =
                async { if more { trail.page(&chain, after, PAGE).await } else { Ok(Vec::new()) } };
            let (hashed, read) = tokio::join!(recomputed(page), reading);
            let (page, hashes) = hashed?;
            for (event, hash) in page.iter().zip(&hashes) {
                if let Some(check) = checkpoints.as_mut() {
                    check.see(event.link());
                }
                if let Err(b) = verifier.feed_hashed(event.link(), hash) {
                    return Ok(Verification::broken(b, total + verifier.last_seq()));
                }
            }
            if !more {
                break;
            }
            next = read?;
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
    let held = match checkpoints.map(CheckpointCheck::finish) {
        None => 0,
        Some(Ok(held)) => held,
        Some(Err(b)) => return Ok(Verification::broken(b, total)),
    };
    if let Some(broken) = verify_consents(conn, total).await? {
        return Ok(broken);
    }
    if let Some(broken) = verify_forms(conn, total).await? {
        return Ok(broken);
    }
    snapshot.finish().await?;
    Ok(Verification::Ok { ok: true, events: total, chains: summaries, checkpoints: held })
}

/// Each event's hash recomputed, the page split over the machine's cores; one hash
/// per event, in order.
async fn recomputed(page: Vec<StoredEvent>) -> AppResult<(Vec<StoredEvent>, Vec<String>)> {
    crate::parallel::map(page, StoredEvent::compute_hash).await
}

/// Recomputes every consent record's hash and its PDF's hash and compares them
/// with the `consent.given` event that recorded them (whose own integrity the chain
/// has just proved), and compares the record the signed PDF carries with the stored
/// one, so a record changed with every hash around it recomputed is found while the
/// PDF still says what was agreed. A consent without its event, or an event without
/// its consent, is reported too. (PDFs signed before records were embedded carry
/// none; their hashes are still checked.)
async fn verify_consents(conn: &impl Conn, events: i64) -> AppResult<Option<Verification>> {
    use std::collections::HashMap;
    let mut given = Vec::new();
    for action in crate::domain::consent::SIGNED_ACTIONS {
        given.extend(store::audit::by_action(conn, action).await?);
    }
    let mut by_consent: HashMap<String, &Event> =
        given.iter().map(|e| (e.entity_id.clone(), e)).collect();
    let broken = |event: Option<&Event>, chain: &str, reason: String| {
        Verification::broken(
            ChainBreak {
                chain: chain.to_string(),
                first_bad_seq: event.map(|e| e.seq).unwrap_or(0),
                reason,
            },
            events,
        )
    };
    let mut after = 0;
    loop {
        let page = store::consent::record::page(conn, after, 200).await?;
        for consent in &page {
            after = consent.id;
            let event = by_consent.remove(&consent.id.to_string());
            let chain = event.map(|e| e.chain.clone()).unwrap_or_else(|| "consents".to_string());
            let Some(event) = event else {
                return Ok(Some(broken(
                    None,
                    &chain,
                    format!("consent {} has no consent.given or consent.amended event", consent.id),
                )));
            };
            let claimed = |key: &str| {
                event.details.get(key).and_then(|v| v.as_str()).unwrap_or("").to_string()
            };
            let record_hash = sha256_hex(consent.record_json.as_bytes());
            if record_hash != consent.record_sha256 || record_hash != claimed("record_sha256") {
                return Ok(Some(broken(
                    Some(event),
                    &chain,
                    format!(
                        "consent {}'s record does not match the hash recorded at signing",
                        consent.id
                    ),
                )));
            }
            let pdf = store::consent::record::pdf(conn, consent.id).await?.unwrap_or_default();
            let pdf_hash = sha256_hex(&pdf);
            if pdf_hash != consent.pdf_sha256 || pdf_hash != claimed("pdf_sha256") {
                return Ok(Some(broken(
                    Some(event),
                    &chain,
                    format!(
                        "consent {}'s PDF does not match the hash recorded at signing",
                        consent.id
                    ),
                )));
            }
            let carried = crate::pdf::consent::embedded_record(&pdf);
            if carried.is_some_and(|signed| signed != consent.record_json) {
                return Ok(Some(broken(
                    Some(event),
                    &chain,
                    format!(
                        "consent {}'s signed PDF carries another record than the database holds",
                        consent.id
                    ),
                )));
            }
        }
        if page.len() < 200 {
            break;
        }
    }
    if let Some(event) = by_consent.values().min_by_key(|e| (e.chain.clone(), e.seq)) {
        return Ok(Some(broken(
            Some(event),
            &event.chain.clone(),
            format!("consent {} recorded by this event is missing", event.entity_id),
        )));
    }
    Ok(None)
}

/// Recomputes the hash of every approved consent-form version from what the
/// database holds (title, language, statement, items, knowledge review) and
/// compares it with the `consent_form.approved` event, so a statement, an item or
/// a question's answer changed after approval is found.
async fn verify_forms(conn: &impl Conn, events: i64) -> AppResult<Option<Verification>> {
    for event in store::audit::by_action(conn, "consent_form.approved").await? {
        let claimed = event.details.get("form_hash").and_then(|v| v.as_str()).unwrap_or("");
        let form = match event.entity_id.parse::<i64>() {
            Ok(id) => store::consent::form::by_id(conn, id).await.ok().flatten(),
            Err(_) => None,
        };
        let reason = match form {
            None => Some(format!(
                "consent form {} approved by this event is missing or unreadable",
                event.entity_id
            )),
            Some(f) => {
                let now = crate::domain::consent::form_hash(
                    &f.title,
                    &f.language,
                    &f.body_markdown,
                    &f.items,
                    &f.review,
                );
                (now != claimed || f.form_hash != claimed).then(|| {
                    format!(
                        "consent form version {} no longer matches the hash it was approved with",
                        f.version
                    )
                })
            }
        };
        if let Some(reason) = reason {
            let at = ChainBreak { chain: event.chain.clone(), first_bad_seq: event.seq, reason };
            return Ok(Some(Verification::broken(at, events)));
        }
    }
    Ok(None)
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
