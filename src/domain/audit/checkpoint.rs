//! Signed checkpoints: every chain's head at a moment, signed with a key that lives
//! outside the database (Ed25519), written where the database's administrators cannot
//! reach. A chain that no longer extends a checkpoint (events rewritten and rehashed,
//! removed from the end with the head moved back, or a chain deleted) is found by
//! comparing each signed head with the event now stored at that position.

use std::collections::{BTreeMap, HashMap};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::{ChainBreak, Link, canonical_json};

/// One chain's position when the checkpoint was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub chain: String,
    pub seq: i64,
    pub head: String,
}

/// What a checkpoint states: every chain's head at `at` (RFC 3339, UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub at: String,
    pub chains: Vec<Mark>,
}

impl Statement {
    /// The bytes signed: the statement's canonical JSON.
    pub fn message(&self) -> Vec<u8> {
        canonical_json(&serde_json::json!({"at": self.at, "chains": self.chains})).into_bytes()
    }
}

/// A signed statement, as one JSON line of the checkpoint file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    #[serde(flatten)]
    pub statement: Statement,
    /// The signer's public key, hex: says which key to check with, proves nothing alone.
    pub key: String,
    /// The Ed25519 signature of `statement.message()`, hex.
    pub signature: String,
}

/// Signs `statement` with `key`.
pub fn sign(statement: Statement, key: &SigningKey) -> Checkpoint {
    let signature = key.sign(&statement.message());
    Checkpoint {
        key: hex::encode(key.verifying_key().as_bytes()),
        signature: hex::encode(signature.to_bytes()),
        statement,
    }
}

/// Why a key or a checkpoint cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the key is not 32 bytes of hex")]
    Malformed,
    #[error("the signature does not verify with the public key given")]
    BadSignature,
}

fn bytes32(text: &str) -> Result<[u8; 32], KeyError> {
    let bytes = hex::decode(text.trim()).map_err(|_| KeyError::Malformed)?;
    bytes.try_into().map_err(|_| KeyError::Malformed)
}

/// A signing key from its hex form (as `consentry audit keygen` writes it).
pub fn signing_key(hex_text: &str) -> Result<SigningKey, KeyError> {
    bytes32(hex_text).map(|b| SigningKey::from_bytes(&b))
}

/// A public key from its hex form.
pub fn verifying_key(hex_text: &str) -> Result<VerifyingKey, KeyError> {
    VerifyingKey::from_bytes(&bytes32(hex_text)?).map_err(|_| KeyError::Malformed)
}

impl Checkpoint {
    /// Whether `key` signed this statement.
    pub fn check_signature(&self, key: &VerifyingKey) -> Result<(), KeyError> {
        let raw: [u8; 64] = hex::decode(&self.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(KeyError::BadSignature)?;
        key.verify(&self.statement.message(), &Signature::from_bytes(&raw))
            .map_err(|_| KeyError::BadSignature)
    }
}

/// Where a checkpoint came from, for naming it when it no longer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub origin: String,
    pub checkpoint: Checkpoint,
}

/// Compares the stored events with every signed mark while the chains are read: feed
/// each event seen (`see`), then `finish` names the first checkpoint, in the order
/// given, that no longer holds.
#[derive(Debug)]
pub struct CheckpointCheck {
    placed: Vec<Placed>,
    /// chain → seq → (the hash signed, the checkpoints that signed it).
    wanted: HashMap<String, BTreeMap<i64, Vec<(usize, String)>>>,
    failures: BTreeMap<usize, ChainBreak>,
}

impl CheckpointCheck {
    /// Checks every signature with `key` first: a checkpoint that `key` did not sign
    /// fails as it is read.
    pub fn new(placed: Vec<Placed>, key: &VerifyingKey) -> Self {
        Self::within(placed, key, None)
    }

    /// As `new`, comparing only the marks of `chain` (an audit pack holds one chain;
    /// each checkpoint's signature still covers every chain it signed).
    pub fn scoped(placed: Vec<Placed>, key: &VerifyingKey, chain: &str) -> Self {
        Self::within(placed, key, Some(chain))
    }

    fn within(placed: Vec<Placed>, key: &VerifyingKey, only: Option<&str>) -> Self {
        let mut wanted: HashMap<String, BTreeMap<i64, Vec<(usize, String)>>> = HashMap::new();
        let mut failures = BTreeMap::new();
        for (i, p) in placed.iter().enumerate() {
            if let Err(e) = p.checkpoint.check_signature(key) {
                failures.insert(
                    i,
                    ChainBreak {
                        chain: "checkpoints".into(),
                        first_bad_seq: 0,
                        reason: format!("checkpoint {}: {e}", p.origin),
                    },
                );
                continue;
            }
            let marks = p.checkpoint.statement.chains.iter();
            for mark in marks.filter(|m| m.seq > 0 && only.is_none_or(|c| c == m.chain)) {
                wanted
                    .entry(mark.chain.clone())
                    .or_default()
                    .entry(mark.seq)
                    .or_default()
                    .push((i, mark.head.clone()));
            }
        }
        Self { placed, wanted, failures }
    }

    pub fn len(&self) -> usize {
        self.placed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.placed.is_empty()
    }

    fn fail(&mut self, index: usize, chain: &str, seq: i64, what: &str) {
        let origin = &self.placed[index].origin;
        let at = &self.placed[index].checkpoint.statement.at;
        self.failures.entry(index).or_insert_with(|| ChainBreak {
            chain: chain.to_string(),
            first_bad_seq: seq,
            reason: format!("the checkpoint signed at {at} ({origin}) no longer holds: {what}"),
        });
    }

    /// An event read back from its chain.
    pub fn see(&mut self, event: Link<'_>) {
        let Some(signed) =
            self.wanted.get_mut(event.chain).and_then(|seqs| seqs.remove(&event.seq))
        else {
            return;
        };
        for (index, head) in signed {
            if head != event.hash {
                let what = format!("event {} has another hash than the one signed", event.seq);
                self.fail(index, event.chain, event.seq, &what);
            }
        }
    }

    /// How many checkpoints hold, or the first that does not.
    pub fn finish(mut self) -> Result<usize, ChainBreak> {
        let missing: Vec<(String, i64, usize)> = self
            .wanted
            .drain()
            .flat_map(|(chain, seqs)| {
                seqs.into_iter().flat_map(move |(seq, signed)| {
                    let chain = chain.clone();
                    signed.into_iter().map(move |(i, _)| (chain.clone(), seq, i))
                })
            })
            .collect();
        for (chain, seq, index) in missing {
            self.fail(index, &chain, seq, &format!("event {seq} of {chain} is gone"));
        }
        match self.failures.into_values().next() {
            Some(first) => Err(first),
            None => Ok(self.placed.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit::{Event, GENESIS_HASH, NewEvent};
    use chrono::Utc;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    fn chain(name: &str, n: usize) -> Vec<Event> {
        let mut events: Vec<Event> = Vec::new();
        for i in 0..n {
            let (seq, prev) =
                events.last().map(|e| (e.seq, e.hash.clone())).unwrap_or((0, GENESIS_HASH.into()));
            let new = NewEvent::new("user:1", "study.created", "study", i);
            events.push(Event::next(name, seq, &prev, Utc::now(), new));
        }
        events
    }

    fn taken(events: &[Event], k: &SigningKey) -> Placed {
        let last = events.last().map(|e| (e.seq, e.hash.clone())).unwrap_or_default();
        let statement = Statement {
            at: "2026-12-04T10:00:00Z".into(),
            chains: vec![Mark { chain: "study:s".into(), seq: last.0, head: last.1 }],
        };
        Placed { origin: "line 1".into(), checkpoint: sign(statement, k) }
    }

    fn check(placed: Vec<Placed>, events: &[Event], k: &VerifyingKey) -> Result<usize, ChainBreak> {
        let mut c = CheckpointCheck::new(placed, k);
        events.iter().for_each(|e| c.see(e.link()));
        c.finish()
    }

    #[test]
    fn a_chain_that_extends_its_checkpoint_holds() {
        let events = chain("study:s", 5);
        let placed = taken(&events[..3], &key(1));
        assert_eq!(check(vec![placed], &events, &key(1).verifying_key()), Ok(1));
    }

    #[test]
    fn truncation_rewriting_and_a_deleted_chain_are_named() {
        let events = chain("study:s", 5);
        let placed = taken(&events, &key(1));
        let public = key(1).verifying_key();
        let truncated = check(vec![placed.clone()], &events[..2], &public).unwrap_err();
        assert!(truncated.reason.contains("event 5 of study:s is gone"), "{truncated:?}");
        let rewritten = chain("study:s", 5);
        let broken = check(vec![placed.clone()], &rewritten, &public).unwrap_err();
        assert_eq!(broken.first_bad_seq, 5);
        assert!(broken.reason.contains("another hash"), "{broken:?}");
        let deleted = check(vec![placed], &[], &public).unwrap_err();
        assert!(deleted.reason.contains("line 1"), "{deleted:?}");
    }

    #[test]
    fn a_checkpoint_signed_by_another_key_or_altered_fails() {
        let events = chain("study:s", 3);
        let placed = taken(&events, &key(2));
        let other = check(vec![placed.clone()], &events, &key(1).verifying_key()).unwrap_err();
        assert!(other.reason.contains("does not verify"), "{other:?}");
        let mut altered = taken(&events, &key(1));
        altered.checkpoint.statement.chains[0].seq = 2;
        let e = check(vec![altered], &events, &key(1).verifying_key()).unwrap_err();
        assert!(e.reason.contains("does not verify"), "{e:?}");
    }

    #[test]
    fn keys_read_back_from_hex() {
        let k = key(7);
        let again = signing_key(&hex::encode(k.to_bytes())).map(|k| k.to_bytes());
        assert_eq!(again, Ok(k.to_bytes()));
        assert_eq!(verifying_key("zz").map(|_| ()), Err(KeyError::Malformed));
    }
}
