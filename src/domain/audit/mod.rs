//! The audit chain's pure part (SPEC §7): the event, its canonical serialisation,
//! its hash, and the verification of a chain read back in order.
//!
//! `hash = SHA-256(prev_hash || canonical_json(event without hash))`, hex encoded,
//! where `prev_hash` is the previous event's hash in the same chain (64 zeros for
//! the first) and canonical JSON has object keys sorted and no insignificant space.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
#[cfg(test)]
use serde_json::json;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub mod checkpoint;

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
pub const SYSTEM_CHAIN: &str = "system";

/// The chain an event about `study` belongs to.
pub fn chain_for(study: Option<&str>) -> String {
    match study {
        Some(slug) => format!("study:{slug}"),
        None => SYSTEM_CHAIN.to_string(),
    }
}

/// What a caller records; the chain position and hashes are added on append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub actor: String,
    pub action: &'static str,
    pub study: Option<String>,
    pub entity: &'static str,
    pub entity_id: String,
    /// Identifiers and hashes only: never names, e-mail addresses or answers.
    pub details: Value,
}

impl NewEvent {
    pub fn new(
        actor: impl Into<String>,
        action: &'static str,
        entity: &'static str,
        entity_id: impl ToString,
    ) -> Self {
        Self {
            actor: actor.into(),
            action,
            study: None,
            entity,
            entity_id: entity_id.to_string(),
            details: Value::Object(Map::new()),
        }
    }

    pub fn in_study(mut self, slug: &str) -> Self {
        self.study = Some(slug.to_string());
        self
    }

    pub fn with(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

/// What the audit log viewer asks for: each filter optional.
#[derive(Debug, Clone, Default)]
pub struct Search<'a> {
    pub chain: Option<&'a str>,
    pub actor: Option<&'a str>,
    /// An action, or its area with a dot (`consent.` finds every consent event).
    pub action: Option<&'a str>,
    /// Only events recorded before this row (the page before), newest first.
    pub before: Option<i64>,
    /// Only reads of consent records, signed PDFs, session sheets and exports: who
    /// viewed what.
    pub access_only: bool,
    /// The kind of thing an event is about (`consent`, `participant`, `study`, …).
    pub entity: Option<&'a str>,
    /// Only events at or after this time, and before `until`.
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// The events that record someone reading personal or research records.
pub const ACCESS_ACTIONS: &[&str] = &[
    "consent.register_viewed",
    "consent.story_viewed",
    "consent.pdf_viewed",
    "consent.identities_revealed",
    "focus_group.sheet_viewed",
    "report.exported",
    "audit.pack_downloaded",
];

/// The hashed fields of an `Event` or a `StoredEvent` (the same names in both).
macro_rules! hashed {
    ($e:expr) => {
        Hashed {
            chain: &$e.chain,
            seq: $e.seq,
            at: &$e.at,
            actor: &$e.actor,
            action: &$e.action,
            study: $e.study.as_deref(),
            entity: &$e.entity,
            entity_id: &$e.entity_id,
            prev_hash: &$e.prev_hash,
        }
    };
}

/// An event as stored: every field the hash covers, and the hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub chain: String,
    pub seq: i64,
    #[serde(serialize_with = "serialize_at")]
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub study: Option<String>,
    pub entity: String,
    pub entity_id: String,
    pub details: Value,
    pub prev_hash: String,
    pub hash: String,
}

fn serialize_at<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_at(at))
}

/// Timestamps are hashed at microsecond precision, which both databases keep.
pub fn format_at(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Truncates a time to what the database stores, so that a hash computed before the
/// insert matches the one recomputed from the stored row.
pub fn storable(at: DateTime<Utc>) -> DateTime<Utc> {
    let micros = at.timestamp_micros();
    DateTime::from_timestamp_micros(micros).unwrap_or(at)
}

impl Event {
    /// Builds the next event of a chain whose head is `(prev_seq, prev_hash)`.
    pub fn next(
        chain: &str,
        prev_seq: i64,
        prev_hash: &str,
        at: DateTime<Utc>,
        new: NewEvent,
    ) -> Self {
        let mut event = Event {
            chain: chain.to_string(),
            seq: prev_seq + 1,
            at: storable(at),
            actor: new.actor,
            action: new.action.to_string(),
            study: new.study,
            entity: new.entity.to_string(),
            entity_id: new.entity_id,
            details: new.details,
            prev_hash: prev_hash.to_string(),
            hash: String::new(),
        };
        event.hash = event.compute_hash();
        event
    }

    /// The fields the hash covers, as a JSON object (the published algorithm's
    /// definition; `hashed_input` writes the same bytes without building it).
    #[cfg(test)]
    fn hashed_fields(&self) -> Value {
        json!({
            "chain": self.chain,
            "seq": self.seq,
            "at": format_at(&self.at),
            "actor": self.actor,
            "action": self.action,
            "study": self.study,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "details": self.details,
            "prev_hash": self.prev_hash,
        })
    }

    pub fn compute_hash(&self) -> String {
        sha256_hex(self.hashed_input().as_bytes())
    }

    /// What the hash covers: the previous hash, then the canonical JSON of every
    /// other field (the published algorithm, docs/SECURITY.md).
    pub fn hashed_input(&self) -> String {
        hashed!(self).input(|out| write_canonical(&self.details, out))
    }

    /// The fields that link the event into its chain.
    pub fn link(&self) -> Link<'_> {
        Link { chain: &self.chain, seq: self.seq, prev_hash: &self.prev_hash, hash: &self.hash }
    }
}

/// An event as verification reads it back: its details are the text stored, which
/// is the canonical JSON the writer hashed unless someone changed it since.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub chain: String,
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub study: Option<String>,
    pub entity: String,
    pub entity_id: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl StoredEvent {
    /// The hash of the event this row describes. The stored details are hashed as
    /// they are: when that gives the stored hash they are byte for byte the
    /// canonical JSON the writer hashed, and nothing needs parsing. Otherwise they
    /// are parsed and written canonically, so the same value stored in another
    /// form still verifies; text that is not JSON is hashed as it is (and fails).
    pub fn compute_hash(&self) -> String {
        let fields = hashed!(self);
        let as_stored = sha256_hex(fields.input(|out| out.push_str(&self.details)).as_bytes());
        if as_stored == self.hash {
            return as_stored;
        }
        match serde_json::from_str::<Value>(&self.details) {
            Ok(value) => sha256_hex(fields.input(|out| write_canonical(&value, out)).as_bytes()),
            Err(_) => as_stored,
        }
    }

    /// The fields that link the event into its chain.
    pub fn link(&self) -> Link<'_> {
        Link { chain: &self.chain, seq: self.seq, prev_hash: &self.prev_hash, hash: &self.hash }
    }

    /// The event with its details parsed; details that no longer parse are kept as
    /// a string, so that the hash check fails and names the event.
    pub fn into_event(self) -> Event {
        let details = serde_json::from_str(&self.details).unwrap_or(Value::String(self.details));
        Event {
            chain: self.chain,
            seq: self.seq,
            at: self.at,
            actor: self.actor,
            action: self.action,
            study: self.study,
            entity: self.entity,
            entity_id: self.entity_id,
            details,
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
    }
}

/// Where an event stands in its chain: what verification compares.
#[derive(Debug, Clone, Copy)]
pub struct Link<'a> {
    pub chain: &'a str,
    pub seq: i64,
    pub prev_hash: &'a str,
    pub hash: &'a str,
}

/// Every field the hash covers but the details, which each caller writes.
struct Hashed<'a> {
    chain: &'a str,
    seq: i64,
    at: &'a DateTime<Utc>,
    actor: &'a str,
    action: &'a str,
    study: Option<&'a str>,
    entity: &'a str,
    entity_id: &'a str,
    prev_hash: &'a str,
}

impl Hashed<'_> {
    /// The previous hash, then the canonical JSON of the other fields written in
    /// key order directly: action, actor, at, chain, details, entity, entity_id,
    /// prev_hash, seq, study.
    fn input(&self, details: impl FnOnce(&mut String)) -> String {
        let mut out = String::with_capacity(512 + self.prev_hash.len() * 2);
        out.push_str(self.prev_hash);
        out.push_str("{\"action\":");
        push_json_string(self.action, &mut out);
        out.push_str(",\"actor\":");
        push_json_string(self.actor, &mut out);
        out.push_str(",\"at\":");
        push_json_string(&format_at(self.at), &mut out);
        out.push_str(",\"chain\":");
        push_json_string(self.chain, &mut out);
        out.push_str(",\"details\":");
        details(&mut out);
        out.push_str(",\"entity\":");
        push_json_string(self.entity, &mut out);
        out.push_str(",\"entity_id\":");
        push_json_string(self.entity_id, &mut out);
        out.push_str(",\"prev_hash\":");
        push_json_string(self.prev_hash, &mut out);
        out.push_str(",\"seq\":");
        out.push_str(&self.seq.to_string());
        out.push_str(",\"study\":");
        match self.study {
            Some(study) => push_json_string(study, &mut out),
            None => out.push_str("null"),
        }
        out.push('}');
        out
    }
}

/// A string as JSON writes it (quoted and escaped), as `Value::String` prints.
fn push_json_string(s: &str, out: &mut String) {
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str("null"),
    }
}

/// JSON with object keys sorted at every depth and no insignificant white space.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json_string(key, out);
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Why a chain failed verification, naming the first bad event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    pub chain: String,
    pub first_bad_seq: i64,
    pub reason: String,
}

/// The verified summary of one chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainSummary {
    pub chain: String,
    pub events: i64,
    pub head: String,
}

/// Checks one chain fed in `seq` order, a page at a time: gapless numbering from 1,
/// each event linked to the one before, each hash recomputed; then, at `finish`,
/// that the stored head (the last sequence number and hash the writers recorded)
/// matches the last event, so that events removed from the end are found too.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    chain: String,
    next_seq: i64,
    prev_hash: String,
}

impl ChainVerifier {
    pub fn new(chain: &str) -> Self {
        Self { chain: chain.to_string(), next_seq: 1, prev_hash: GENESIS_HASH.to_string() }
    }

    fn broken(&self, seq: i64, reason: impl Into<String>) -> ChainBreak {
        ChainBreak { chain: self.chain.clone(), first_bad_seq: seq, reason: reason.into() }
    }

    /// The sequence number of the last event accepted (0 before any).
    pub fn last_seq(&self) -> i64 {
        self.next_seq - 1
    }

    pub fn feed(&mut self, event: &Event) -> Result<(), ChainBreak> {
        self.feed_hashed(event.link(), &event.compute_hash())
    }

    /// `feed` with the event's hash already recomputed (`computed`), so that a
    /// page of events can be hashed in parallel and then checked in order.
    pub fn feed_hashed(&mut self, event: Link<'_>, computed: &str) -> Result<(), ChainBreak> {
        let expected = self.next_seq;
        if event.seq != expected {
            return Err(self.broken(
                expected,
                format!("event {expected} is missing (found {} next)", event.seq),
            ));
        }
        if event.chain != self.chain {
            return Err(self.broken(event.seq, "the event names another chain"));
        }
        if event.prev_hash != self.prev_hash {
            return Err(
                self.broken(event.seq, "prev_hash does not match the previous event's hash")
            );
        }
        if computed != event.hash {
            return Err(self.broken(event.seq, "the event's content does not match its hash"));
        }
        self.prev_hash = event.hash.to_string();
        self.next_seq += 1;
        Ok(())
    }

    pub fn finish(self, head: Option<(i64, &str)>) -> Result<ChainSummary, ChainBreak> {
        let last_seq = self.last_seq();
        match head {
            None => Err(self.broken(1, "the chain has events but no recorded head")),
            Some((head_seq, head_hash)) if head_seq != last_seq || head_hash != self.prev_hash => {
                Err(self.broken(
                    last_seq + 1,
                    format!("the chain head records {head_seq} events but {last_seq} were found"),
                ))
            }
            Some(_) => {
                Ok(ChainSummary { chain: self.chain, events: last_seq, head: self.prev_hash })
            }
        }
    }
}

/// Verifies a whole chain held in memory (see `ChainVerifier`).
pub fn verify_chain(
    chain: &str,
    events: &[Event],
    head: Option<(i64, &str)>,
) -> Result<ChainSummary, ChainBreak> {
    let mut verifier = ChainVerifier::new(chain);
    for event in events {
        verifier.feed(event)?;
    }
    verifier.finish(head)
}

/// The outcome of verifying every chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Verification {
    Ok {
        ok: bool,
        events: i64,
        chains: Vec<ChainSummary>,
        /// Signed checkpoints that every chain still extends (0 when none were given).
        checkpoints: usize,
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

    pub fn broken(b: ChainBreak, events_checked: i64) -> Self {
        Verification::Broken {
            ok: false,
            chain: b.chain,
            first_bad_seq: b.first_bad_seq,
            reason: b.reason,
            events_checked,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The direct writer gives exactly the bytes of the published definition:
        /// the previous hash, then the canonical JSON of the hashed fields.
        #[test]
        fn the_hashed_input_is_the_published_canonical_json(
            actor in "\\PC{0,20}",
            action in proptest::sample::select(vec!["consent.given", "study.created", "x"]),
            study in proptest::option::of("[a-z0-9-]{1,12}"),
            entity_id in "\\PC{0,8}",
            note in "\\PC{0,30}",
            flag in any::<bool>(),
            n in any::<i64>(),
        ) {
            let new = NewEvent::new(actor, action, "thing", entity_id)
                .with(json!({"z": note, "a": {"y": flag, "b": [n, "é\"\\\n"]}, "m": null}));
            let new = match &study {
                Some(slug) => new.in_study(slug),
                None => new,
            };
            let event = Event::next(&chain_for(study.as_deref()), 41, "ab".repeat(32).as_str(), Utc::now(), new);
            let published = format!("{}{}", event.prev_hash, canonical_json(&event.hashed_fields()));
            prop_assert_eq!(event.hashed_input(), published);
        }
    }

    fn chain(n: usize) -> Vec<Event> {
        let mut events: Vec<Event> = Vec::new();
        for i in 0..n {
            let (seq, prev) =
                events.last().map(|e| (e.seq, e.hash.clone())).unwrap_or((0, GENESIS_HASH.into()));
            let new = NewEvent::new("user:1", "study.created", "study", i)
                .in_study("s-1")
                .with(json!({"b": 1, "a": [2, {"z": 1, "y": 2}]}));
            events.push(Event::next("study:s-1", seq, &prev, Utc::now(), new));
        }
        events
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let v = json!({"b": 1, "a": {"d": [1, {"f": null, "e": "x"}], "c": true}});
        assert_eq!(canonical_json(&v), r#"{"a":{"c":true,"d":[1,{"e":"x","f":null}]},"b":1}"#);
        assert_eq!(canonical_json(&json!("é\"")), "\"é\\\"\"");
    }

    #[test]
    fn a_sound_chain_verifies() {
        let events = chain(5);
        let head = events.last().map(|e| (e.seq, e.hash.as_str()));
        let summary = verify_chain("study:s-1", &events, head).unwrap_or_else(|b| panic!("{b:?}"));
        assert_eq!(summary.events, 5);
        let empty = verify_chain("study:s-1", &[], Some((0, GENESIS_HASH)));
        assert_eq!(empty.map(|s| s.head), Ok(GENESIS_HASH.to_string()));
        assert!(
            verify_chain("study:s-1", &events, None).is_err(),
            "a chain without a head is broken"
        );
    }

    #[test]
    fn an_edited_event_is_named() {
        let mut events = chain(5);
        events[2].details = json!({"b": 2});
        let b = verify_chain("study:s-1", &events, Some((5, &events[4].hash))).err();
        assert_eq!(b.map(|b| b.first_bad_seq), Some(3));
    }

    #[test]
    fn a_rehashed_edit_breaks_the_next_link() {
        let mut events = chain(4);
        events[1].actor = "user:2".into();
        events[1].hash = events[1].compute_hash();
        let b = verify_chain("study:s-1", &events, Some((4, &events[3].hash))).err();
        assert_eq!(b.map(|b| (b.first_bad_seq, b.reason.contains("prev_hash"))), Some((3, true)));
    }

    #[test]
    fn gaps_and_truncation_are_found() {
        let mut events = chain(4);
        events.remove(1);
        let head = (4, events[2].hash.clone());
        let b = verify_chain("study:s-1", &events, Some((head.0, &head.1))).err();
        assert_eq!(b.map(|b| b.first_bad_seq), Some(2));
        let events = chain(4);
        let head = (4, events[3].hash.clone());
        let truncated = &events[..3];
        let b = verify_chain("study:s-1", truncated, Some((head.0, &head.1))).err();
        assert_eq!(b.map(|b| b.first_bad_seq), Some(4));
    }

    fn stored_as(e: &Event, details: &str) -> StoredEvent {
        StoredEvent {
            chain: e.chain.clone(),
            seq: e.seq,
            at: e.at,
            actor: e.actor.clone(),
            action: e.action.clone(),
            study: e.study.clone(),
            entity: e.entity.clone(),
            entity_id: e.entity_id.clone(),
            details: details.to_string(),
            prev_hash: e.prev_hash.clone(),
            hash: e.hash.clone(),
        }
    }

    #[test]
    fn a_stored_event_hashes_as_the_event_it_describes() {
        let events = chain(3);
        for e in &events {
            let as_written = serde_json::to_string(&e.details).unwrap_or_default();
            assert_eq!(as_written, canonical_json(&e.details), "the writer stores canonical JSON");
            assert_eq!(stored_as(e, &as_written).compute_hash(), e.hash);
            let spaced = r#"{ "b": 1, "a": [2, {"y": 2, "z": 1}] }"#;
            assert_eq!(stored_as(e, spaced).compute_hash(), e.hash, "same value, other text");
            assert_ne!(stored_as(e, r#"{"a":[2,{"y":2,"z":1}],"b":2}"#).compute_hash(), e.hash);
            assert_ne!(stored_as(e, "not json").compute_hash(), e.hash);
            assert_eq!(stored_as(e, &as_written).into_event(), e.clone());
        }
    }

    #[test]
    fn timestamps_are_hashed_at_microseconds() {
        let at = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap_or_default();
        assert_eq!(format_at(&storable(at)), "2023-11-14T22:13:20.123456Z");
    }
}
