//! `verify-audit`'s speed: a chain of events (1,000,000 by default, in ten study
//! chains of events the size of a questionnaire's) loaded into a fresh SQLite file, then verified
//! the way `consentry verify-audit` does; the baseline is `sha256sum` (and SHA-256
//! in this process) over exactly the bytes the verification hashes, in the same run.
//!
//!   cargo bench --bench audit
//!   CONSENTRY_BENCH_EVENTS=100000 cargo bench --bench audit

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Write;
use std::time::Instant;

use chrono::Utc;
use consentry::domain::audit::{Event, GENESIS_HASH, NewEvent};
use consentry::store::{self, Db};
use serde_json::json;
use sha2::{Digest, Sha256};

const CHAINS: usize = 10;

fn main() {
    let n: usize = std::env::var("CONSENTRY_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("consentry-audit-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let db = Db::connect(&format!("sqlite://{}/audit.db?mode=rwc", dir.display()), 5)
            .await
            .expect("db");
        db.migrate().await.expect("migrations");
        let hashed = dir.join("hashed.bin");
        let started = Instant::now();
        let bytes = load(&db, n, &hashed).await;
        println!(
            "loaded {n} events ({:.0} MB hashed) in {:.1} s",
            bytes as f64 / 1e6,
            started.elapsed().as_secs_f64()
        );

        let started = Instant::now();
        let verdict = consentry::audit::verify(&db, None).await.expect("verify");
        let verify = started.elapsed().as_secs_f64();
        assert!(verdict.is_ok(), "the loaded chains verify: {verdict:?}");

        let started = Instant::now();
        let out = std::process::Command::new("sha256sum").arg(&hashed).output();
        let sum = started.elapsed().as_secs_f64();
        let sum_ok = out.is_ok_and(|o| o.status.success());

        let data = std::fs::read(&hashed).expect("hashed bytes");
        let started = Instant::now();
        let digest = Sha256::digest(&data);
        let inline = started.elapsed().as_secs_f64();
        std::hint::black_box(digest);

        let mb = bytes as f64 / 1e6;
        println!(
            "verify: {n} events in {verify:.2} s = {:.0} events/s, {:.0} MB/s hashed (target: 1,000,000 in 3 s)",
            n as f64 / verify,
            mb / verify
        );
        if sum_ok {
            println!("sha256sum over the same bytes: {sum:.2} s = {:.0} MB/s", mb / sum);
            println!("ratio verify/sha256sum throughput: {:.3}", sum / verify);
        } else {
            println!("sha256sum did not run here");
        }
        println!(
            "SHA-256 in this process over the same bytes: {inline:.2} s = {:.0} MB/s; ratio {:.3}",
            mb / inline,
            inline / verify
        );
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes `n` events in `CHAINS` chains, a thousand rows a statement, and the bytes
/// each event's hash covers to `hashed`; returns how many bytes that is.
async fn load(db: &Db, n: usize, hashed: &std::path::Path) -> usize {
    let mut file = std::io::BufWriter::new(std::fs::File::create(hashed).expect("file"));
    let mut bytes = 0;
    let at = Utc::now();
    for c in 0..CHAINS {
        let chain = format!("study:bench-{c}");
        let tx = db.begin_write().await.expect("tx");
        store::audit::lock_head(tx.conn(), &chain).await.expect("head");
        let (mut seq, mut hash) = (0, GENESIS_HASH.to_string());
        let mut batch = Vec::with_capacity(1000);
        for i in 0..n / CHAINS {
            let code = format!("P{:05}", i + 1);
            // Consent-sized details, under an action without a stored record to
            // compare (`consent.given` events are checked against their consents).
            let new = NewEvent::new(
                format!("participant:{code}"),
                "questionnaire.answered",
                "response",
                i,
            )
            .in_study(&format!("bench-{c}"))
            .with(json!({
                "participant_code": code,
                "questionnaire": "platform-usage",
                "version": 1,
                "form_hash": "9f2c1e4b7a0d3f6c8e5b2a1d4c7f0e3b6a9d2c5f8e1b4a7d0c3f6e9b2a5d8c1f",
                "answers_sha256": format!("{:064x}", i),
                "revision": 1 + i % 3,
                "status": "complete",
                "shown": {"frequency_youtube": true, "educator_involvement_how": i % 2 == 0},
            }));
            let event = Event::next(&chain, seq, &hash, at, new);
            let input = event.hashed_input();
            bytes += input.len();
            file.write_all(input.as_bytes()).expect("write");
            seq = event.seq;
            hash = event.hash.clone();
            batch.push(event);
            if batch.len() == 1000 {
                store::audit::append_many(tx.conn(), &batch).await.expect("append");
                batch.clear();
            }
        }
        store::audit::append_many(tx.conn(), &batch).await.expect("append");
        tx.commit().await.expect("commit");
    }
    file.flush().expect("flush");
    bytes
}
