//! The audit pack: one study's (or one participant's) evidence in a ZIP that can be
//! checked away from Consentry with the public key alone — every signed PDF, the
//! receipts, the study's chain of events as JSON lines, the signed checkpoints that
//! cover it, the public key, `VERIFY.md` and a one-page summary.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use serde::Deserialize;
use zip::write::SimpleFileOptions;

use crate::domain::audit::checkpoint::{Checkpoint, CheckpointCheck, Placed};
use crate::domain::audit::{Event, sha256_hex, verify_chain};
use crate::error::{AppError, AppResult};

/// What goes into a pack, gathered by the service.
pub struct Contents {
    pub chain: String,
    pub events: Vec<Event>,
    /// Each signed PDF under its file name, with its machine-readable receipt.
    pub consents: Vec<PackedConsent>,
    pub checkpoints: Vec<Checkpoint>,
    /// The public key (hex) the checkpoints verify with, when the server signs them.
    pub public_key: Option<String>,
    /// The summary page's lines (label, value).
    pub summary: Vec<(String, String)>,
}

pub struct PackedConsent {
    pub name: String,
    pub pdf: Vec<u8>,
    pub receipt_json: String,
}

const VERIFY_MD: &str = include_str!("VERIFY.md");

fn zip_error(e: zip::result::ZipError) -> AppError {
    AppError::Internal(format!("audit pack: {e}"))
}

/// The ZIP file of `contents` (stored, not compressed: PDFs are compressed already).
pub fn write(contents: &Contents) -> AppResult<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o644);
    let mut add = |name: &str, bytes: &[u8]| -> AppResult<()> {
        zip.start_file(name, options).map_err(zip_error)?;
        zip.write_all(bytes).map_err(|e| AppError::Internal(format!("audit pack: {e}")))
    };
    add("VERIFY.md", VERIFY_MD.as_bytes())?;
    add("events.jsonl", json_lines(&contents.events)?.as_bytes())?;
    add("checkpoints.jsonl", json_lines(&contents.checkpoints)?.as_bytes())?;
    if let Some(key) = &contents.public_key {
        add("audit.key.pub", format!("{key}\n").as_bytes())?;
    }
    for c in &contents.consents {
        add(&format!("consents/{}.pdf", c.name), &c.pdf)?;
        add(&format!("receipts/{}.json", c.name), c.receipt_json.as_bytes())?;
    }
    let summary: Vec<(&str, &str)> =
        contents.summary.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    add("summary.pdf", &crate::pdf::pack::summary(&contents.chain, &summary)?)?;
    let done = zip.finish().map_err(zip_error)?;
    Ok(done.into_inner())
}

/// One JSON line per item.
fn json_lines<T: serde::Serialize>(items: &[T]) -> AppResult<String> {
    let mut out = String::new();
    for item in items {
        let line = serde_json::to_string(item)
            .map_err(|e| AppError::Internal(format!("audit pack: {e}")))?;
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

/// What checking a pack found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub chain: String,
    pub events: usize,
    pub checkpoints: usize,
    pub pdfs: usize,
}

/// An event line as the pack holds it.
#[derive(Deserialize)]
struct EventLine {
    chain: String,
    seq: i64,
    at: String,
    actor: String,
    action: String,
    study: Option<String>,
    entity: String,
    entity_id: String,
    details: serde_json::Value,
    prev_hash: String,
    hash: String,
}

impl EventLine {
    fn event(self) -> Option<Event> {
        let at = DateTime::parse_from_rfc3339(&self.at).ok()?.with_timezone(&Utc);
        Some(Event {
            chain: self.chain,
            seq: self.seq,
            at,
            actor: self.actor,
            action: self.action,
            study: self.study,
            entity: self.entity,
            entity_id: self.entity_id,
            details: self.details,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

/// Checks a pack with `key` alone: the chain links from its first event, every
/// checkpoint in it is signed by `key` and still holds for the chain, and every
/// signed PDF (and the record it carries) is the one a `consent.given` event recorded.
pub fn verify(zip_bytes: &[u8], key: &VerifyingKey) -> Result<Checked, String> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(zip_bytes)).map_err(|e| format!("not a ZIP file: {e}"))?;
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).map_err(|e| format!("entry {i}: {e}"))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| format!("{}: {e}", file.name()))?;
        files.insert(file.name().to_string(), bytes);
    }
    let text = |name: &str| {
        files
            .get(name)
            .map(|b| String::from_utf8_lossy(b).to_string())
            .ok_or_else(|| format!("the pack has no {name}"))
    };
    let mut events = Vec::new();
    for (i, line) in text("events.jsonl")?.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        let event = serde_json::from_str::<EventLine>(line)
            .ok()
            .and_then(EventLine::event)
            .ok_or_else(|| format!("events.jsonl line {} is not an event", i + 1))?;
        events.push(event);
    }
    let chain = events.first().map(|e| e.chain.clone()).ok_or("events.jsonl is empty")?;
    let last = events.last().map(|e| (e.seq, e.hash.clone())).unwrap_or_default();
    verify_chain(&chain, &events, Some((last.0, &last.1)))
        .map_err(|b| format!("chain {}, event {}: {}", b.chain, b.first_bad_seq, b.reason))?;

    let mut placed = Vec::new();
    for (i, line) in text("checkpoints.jsonl")?.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        let origin = format!("checkpoints.jsonl line {}", i + 1);
        let checkpoint = serde_json::from_str::<Checkpoint>(line)
            .map_err(|_| format!("{origin} is not a checkpoint"))?;
        placed.push(Placed { origin, checkpoint });
    }
    let mut check = CheckpointCheck::scoped(placed, key, &chain);
    events.iter().for_each(|e| check.see(e.link()));
    let checkpoints = check.finish().map_err(|b| b.reason)?;

    let given: BTreeMap<String, &Event> = events
        .iter()
        .filter(|e| crate::domain::consent::SIGNED_ACTIONS.contains(&e.action.as_str()))
        .filter_map(|e| Some((e.details.get("pdf_sha256")?.as_str()?.to_string(), e)))
        .collect();
    let mut pdfs = 0;
    for (name, bytes) in files.iter().filter(|(n, _)| n.starts_with("consents/")) {
        let event = given
            .get(&sha256_hex(bytes))
            .ok_or_else(|| format!("{name} is not a PDF the chain recorded at signing"))?;
        if let Some(record) = crate::pdf::consent::embedded_record(bytes) {
            let recorded = event.details.get("record_sha256").and_then(|v| v.as_str());
            if recorded != Some(sha256_hex(record.as_bytes()).as_str()) {
                return Err(format!("{name} carries another record than the one signed"));
            }
        }
        pdfs += 1;
    }
    Ok(Checked { chain, events: events.len(), checkpoints, pdfs })
}

/// The checkpoints among `placed` that sign a head of `chain`.
pub fn covering(placed: Vec<Placed>, chain: &str) -> Vec<Checkpoint> {
    placed
        .into_iter()
        .map(|p| p.checkpoint)
        .filter(|c| c.statement.chains.iter().any(|m| m.chain == chain))
        .collect()
}

/// The public key a pack carries (`audit.key.pub`).
pub fn key_inside(zip_bytes: &[u8]) -> Result<VerifyingKey, String> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(zip_bytes)).map_err(|e| format!("not a ZIP file: {e}"))?;
    let mut text = String::new();
    archive
        .by_name("audit.key.pub")
        .map_err(|_| "the pack holds no public key: give --public-key".to_string())?
        .read_to_string(&mut text)
        .map_err(|e| format!("audit.key.pub: {e}"))?;
    crate::domain::audit::checkpoint::verifying_key(&text)
        .map_err(|e| format!("audit.key.pub: {e}"))
}
