//! Durable consents per second against a bare durable SQLite commit loop, in the
//! same run, on the same disk, with the same connection settings (WAL,
//! `synchronous=FULL`, the single-writer lock).
//!
//!   cargo bench --bench consent              (200 of each)
//!   CONSENTRY_BENCH_N=1000 CONSENTRY_BENCH_CLIENTS=32 cargo bench --bench consent
//!
//! Each consent is the whole signing transaction: rules, gapless code, the PDF
//! rendered and stored, the receipt mail queued, the audit event appended. Consents
//! are sent one at a time, then by `CONSENTRY_BENCH_CLIENTS` (16) participants at
//! once, as a recruitment mail-out brings them; those share transactions.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{Duration, Utc};
use consentry::config::AppConfig;
use consentry::domain::consent::{ConsentFormDraft, ItemInput, SignRequest};
use consentry::domain::study::{NewStudy, StudyInput};
use consentry::domain::user::NewUser;
use consentry::service::{self, Actor, AppState};
use consentry::store::Db;
use sea_orm::ConnectionTrait;

fn main() {
    let n: usize =
        std::env::var("CONSENTRY_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let dir = std::env::temp_dir().join(format!("consentry-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let clients: usize =
        std::env::var("CONSENTRY_BENCH_CLIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(16);
    rt.block_on(async {
        let baseline = bare_commits(&dir, n).await;
        let alone = consents(&dir.join("alone"), n, 1).await;
        let together = consents(&dir.join("together"), n, clients).await;
        println!(
            "bare durable SQLite commits: {n} in {:.2} s = {baseline:.1}/s",
            n as f64 / baseline
        );
        for (label, rate) in [("one at a time", alone), (&format!("{clients} at once"), together)]
        {
            println!(
                "durable consents, {label}: {n} in {:.2} s = {rate:.1}/s; ratio to commits {:.2} (target at least 0.5)",
                n as f64 / rate,
                rate / baseline
            );
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// Commits per second of one small insert per transaction.
async fn bare_commits(dir: &std::path::Path, n: usize) -> f64 {
    let db =
        Db::connect(&format!("sqlite://{}/bare.db?mode=rwc", dir.display()), 5).await.expect("db");
    db.conn()
        .execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
        .await
        .expect("table");
    let started = Instant::now();
    for i in 0..n {
        let tx = db.begin_write().await.expect("tx");
        tx.conn()
            .execute_unprepared(&format!("INSERT INTO t (payload) VALUES ('consent {i}')"))
            .await
            .expect("insert");
        tx.commit().await.expect("commit");
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// Consents per second through the signing service, sent by `clients` at once.
async fn consents(dir: &std::path::Path, n: usize, clients: usize) -> f64 {
    std::fs::create_dir_all(dir).expect("temp dir");
    let url = format!("sqlite://{}/consentry.db?mode=rwc", dir.display());
    let db = Db::connect(&url, 5).await.expect("db");
    db.migrate().await.expect("migrate");
    let config = AppConfig {
        database_url: url,
        secret_key: Some("a bench key of at least thirty-two bytes".into()),
        ..AppConfig::default()
    };
    let state = std::sync::Arc::new(AppState::new(db, config));
    let user = |email: &str, role: &str| {
        NewUser::parse(email, "Bench", role, "bench-password-long").expect("user")
    };
    let coord = service::user::create(&state, Actor::Cli, user("c@bench.test", "coordinator"))
        .await
        .expect("coord");
    let ethics = service::user::create(&state, Actor::Cli, user("e@bench.test", "ethics_officer"))
        .await
        .expect("eth");
    let today = Utc::now().date_naive();
    let (approved, expires) =
        ((today - Duration::days(1)).to_string(), (today + Duration::days(365)).to_string());
    let study = NewStudy::parse(&StudyInput {
        slug: "bench",
        title: "Benchmark study",
        summary: "",
        committee: "HREC",
        reference: "BENCH-1",
        approved_on: &approved,
        expires_on: &expires,
        contact_name: "Bench",
        contact_email: "c@bench.test",
        identity_check: "none",
    });
    service::study::create(&state, &coord, study).await.expect("study");
    let body = "## Explanatory statement\n".to_string()
        + &"What taking part involves, its risks and benefits. ".repeat(80);
    let items =
        [("take_part", true), ("audio_recording", true), ("quotes", false)].map(|(k, r)| {
            ItemInput {
                key: k.into(),
                text: format!("I agree to {k}."),
                required: r,
                governs: String::new(),
            }
        });
    let draft =
        ConsentFormDraft::parse("1", "en-AU", "Consent", &body, &items, &Default::default());
    let form = service::consent::form::draft(&state, &coord, "bench", draft).await.expect("draft");
    service::consent::form::approve(
        &state,
        &ethics,
        "bench",
        "1",
        None,
        "BENCH-1",
        &today.to_string(),
    )
    .await
    .expect("approve");
    service::study::change_status(&state, &coord, "bench", "recruiting", None).await.expect("open");

    let mut people = Vec::with_capacity(n);
    for i in 0..n {
        let inv = service::participant::invite(
            &state,
            &coord,
            "bench",
            "Participant",
            &format!("p{i}@bench.test"),
        )
        .await
        .expect("invite");
        people.push(inv.participant().clone());
    }
    let record = service::consent::latest(&state, &people[0]).await.expect("read");
    assert!(record.is_none());
    let items: BTreeMap<String, bool> =
        [("take_part", true), ("audio_recording", true)].map(|(k, v)| (k.to_string(), v)).into();
    let request = SignRequest {
        version: "1".into(),
        form_hash: form.form_hash.clone(),
        items,
        typed_name: "Zoë O’Brien-Nguyễn".into(),
        drawn_svg: None,
        read_confirmed: true,
    };
    let people = std::sync::Arc::new(people);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (state, people, next, request) =
                (state.clone(), people.clone(), next.clone(), request.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(p) = people.get(i) else { break };
                    service::consent::give(&state, p, request.clone()).await.expect("consent");
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("client");
    }
    n as f64 / started.elapsed().as_secs_f64()
}
