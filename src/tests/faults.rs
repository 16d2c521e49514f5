//! Faults an operator meets, on SQLite: the disk fills up in the middle of a burst
//! of consents, or the database file turns read-only. Every 2xx must be stored,
//! every failure must be a 5xx with a request id, and writes must work again once
//! the fault is gone, without a restart.

use rocket::http::Status;
use serde_json::{Value, json};

use super::consent_flow::{Study, invite, recruiting_study, signing};
use super::helpers::{Backend, TestApp, join_all};
use crate::domain::audit::Verification;
use crate::store::testing::{scalar, writer_faults};

/// Signs for every token at once; each answer's status and body.
async fn sign_all(app: &TestApp, s: &Study, tokens: &[String]) -> Vec<(Status, Value)> {
    join_all(tokens.iter().map(|t| {
        app.post_json("/api/v1/participant/consent", Some(t), signing(s, "Pat Example", true))
    }))
    .await
}

async fn invited(app: &TestApp, s: &Study, n: usize) -> Vec<String> {
    let mut tokens = Vec::new();
    for i in 0..n {
        tokens.push(invite(app, s, &format!("p{i}@student.example.edu")).await);
    }
    tokens
}

/// Every 2xx answer's consent (or change of choices) is stored, once, and nothing
/// else is; codes are gapless; the audit chain verifies.
async fn nothing_acknowledged_is_lost(app: &TestApp, acknowledged: &[i64]) {
    let stored = scalar(&app.db, "SELECT COUNT(*) FROM consents").await;
    assert_eq!(stored, i64::try_from(acknowledged.len()).unwrap_or(-1), "stored = acknowledged");
    for id in acknowledged {
        assert_eq!(
            scalar(&app.db, &format!("SELECT COUNT(*) FROM consents WHERE id = {id}")).await,
            1,
            "acknowledged consent {id} is stored"
        );
    }
    // A change of choices adds a record but no code: one code per consenting person.
    let consenting = scalar(&app.db, "SELECT COUNT(DISTINCT participant_id) FROM consents").await;
    let codes =
        scalar(&app.db, "SELECT COUNT(DISTINCT code) FROM participants WHERE code IS NOT NULL")
            .await;
    assert_eq!(codes, consenting, "one code per consenting participant");
    let highest = scalar(
        &app.db,
        "SELECT COALESCE(MAX(CAST(SUBSTR(code, 2) AS BIGINT)), 0) FROM participants",
    )
    .await;
    assert_eq!(highest, consenting, "codes P001… have no gaps");
    assert!(
        matches!(crate::audit::verify(&app.db, None).await, Ok(Verification::Ok { .. })),
        "the audit chain verifies"
    );
}

fn consent_id(v: &Value) -> i64 {
    v["consent_id"].as_i64().unwrap_or_else(|| panic!("no consent id in {v}"))
}

// Consents that arrive together share transactions (one flush of the disk for
// many), and each is still answered on its own: a refused request does not stop
// the others, a participant who sends twice gets one record, and every 2xx is stored.
db_test!(consents_sent_together_are_signed_together_and_answered_apart, |app| {
    use crate::tests::consent_flow::{invite, recruiting_study, signing};
    let s = recruiting_study(&app).await;
    let mut tokens = Vec::new();
    for i in 0..20 {
        tokens.push(invite(&app, &s, &format!("p{i}@student.example.edu")).await);
    }
    let mut requests: Vec<(&String, Value)> =
        tokens[..19].iter().map(|t| (t, signing(&s, "Pat Example", true))).collect();
    requests.push((&tokens[0], signing(&s, "Pat Example", true)));
    requests.push((&tokens[19], signing(&s, "", true)));
    let writes = app.db.writes_begun();
    let answers = crate::tests::helpers::join_all(
        requests
            .iter()
            .map(|(t, body)| app.post_json("/api/v1/participant/consent", Some(t), body.clone())),
    )
    .await;
    let transactions = app.db.writes_begun() - writes;
    assert!(transactions <= 10, "21 requests sent together took {transactions} transactions");

    let (refused, v) = &answers[20];
    assert_eq!(*refused, Status::UnprocessableEntity, "{v}");
    assert!(v.to_string().contains("signature.typed_name"), "the refusal names the field: {v}");
    let (first, again) = (&answers[0], &answers[19]);
    let mut statuses = [first.0.code, again.0.code];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 201], "one record for the participant who sent twice");
    assert_eq!(consent_id(&first.1), consent_id(&again.1));
    let mut acknowledged = Vec::new();
    for ((token, _), (status, v)) in requests.iter().zip(&answers).take(19) {
        assert!(status.code == 201 || status.code == 200, "{status} {v}");
        acknowledged.push(consent_id(v));
        // Each answer is the participant's own: the PDF stored for them is the one
        // it names, and carries their code and record.
        let (status, _, pdf) = app.get_bytes("/api/v1/participant/consent.pdf", token).await;
        assert_eq!(status, Status::Ok);
        let pdf_sha256 = crate::domain::audit::sha256_hex(&pdf);
        assert_eq!(Some(pdf_sha256.as_str()), v["pdf_sha256"].as_str());
        let record: Value = crate::pdf::consent::embedded_record(&pdf)
            .and_then(|r| serde_json::from_str(&r).ok())
            .unwrap_or_default();
        assert_eq!(record["participant_code"], v["participant_code"], "{record}");
        assert_eq!(record["record_id"], v["receipt"]["record_id"], "{record}");
    }
    nothing_acknowledged_is_lost(&app, &acknowledged).await;
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_acknowledges_only_what_it_stored_and_recovers() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await.expect("app");
    let s = recruiting_study(&app).await;
    let tokens = invited(&app, &s, 24).await;
    let (first, rest) = tokens.split_at(4);
    let mut acknowledged: Vec<i64> =
        sign_all(&app, &s, first).await.iter().map(|(_, v)| consent_id(v)).collect();

    // The disk is full: not one page more than the database has now.
    let pages = scalar(&app.db, "PRAGMA page_count").await;
    writer_faults(&app.db, &[format!("PRAGMA max_page_count = {pages}")]).await;
    let answers = sign_all(&app, &s, rest).await;
    let mut failed = Vec::new();
    for (token, (status, v)) in rest.iter().zip(&answers) {
        match status.code {
            201 => acknowledged.push(consent_id(v)),
            500..=599 => {
                assert!(v["error"]["request_id"].is_string(), "a 5xx names its request: {v}");
                failed.push(token.clone());
            }
            _ => panic!("neither stored nor a server fault: {status} {v}"),
        }
    }
    assert!(failed.len() >= rest.len() / 2, "the disk filled up: {} failed", failed.len());
    let ready = app.client.get("/readyz").dispatch().await;
    assert_eq!(ready.status(), Status::ServiceUnavailable, "not ready while the disk is full");
    nothing_acknowledged_is_lost(&app, &acknowledged).await;

    // Space is freed; no restart.
    writer_faults(&app.db, &[]).await;
    assert_eq!(app.client.get("/readyz").dispatch().await.status(), Status::Ok);
    for (status, v) in sign_all(&app, &s, &failed).await {
        assert_eq!(status, Status::Created, "{v}");
        acknowledged.push(consent_id(&v));
    }
    assert_eq!(acknowledged.len(), tokens.len());
    nothing_acknowledged_is_lost(&app, &acknowledged).await;
    for (status, v) in sign_all(&app, &s, &tokens).await {
        assert_eq!(status, Status::Ok, "a repeat returns the stored consent: {v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_is_written_again_once_it_can_be() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await.expect("app");
    let s = recruiting_study(&app).await;
    let tokens = invited(&app, &s, 6).await;
    writer_faults(&app.db, &["PRAGMA query_only = ON".to_string()]).await;
    for (status, v) in sign_all(&app, &s, &tokens[..3]).await {
        assert_eq!(status, Status::ServiceUnavailable, "{v}");
        assert_eq!(v["error"]["code"], "unavailable");
        assert!(v["error"]["request_id"].is_string());
    }
    let (status, _) = app
        .post_json(
            "/api/v1/studies/study-one/participants",
            Some(&s.coord),
            json!({"name": "Late", "email": "late@student.example.edu"}),
        )
        .await;
    assert_eq!(status, Status::ServiceUnavailable);
    let ready = app.client.get("/readyz").dispatch().await;
    assert_eq!(ready.status(), Status::ServiceUnavailable);
    nothing_acknowledged_is_lost(&app, &[]).await;

    // Permissions restored; no restart.
    writer_faults(&app.db, &[]).await;
    let mut acknowledged = Vec::new();
    for (status, v) in sign_all(&app, &s, &tokens).await {
        assert_eq!(status, Status::Created, "{v}");
        acknowledged.push(consent_id(&v));
    }
    nothing_acknowledged_is_lost(&app, &acknowledged).await;
    assert_eq!(app.client.get("/readyz").dispatch().await.status(), Status::Ok);
}

/// Free bytes on the filesystem holding `dir` (from `df`, which every Linux has).
fn free_bytes(dir: &std::path::Path) -> u64 {
    let out = std::process::Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(dir)
        .output()
        .expect("df runs");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().nth(1).and_then(|l| l.trim().parse().ok()).expect("df prints the free bytes")
}

/// A real disk filling up under a burst of consents: here SQLite fails while
/// writing the log at commit and rolls the transaction back by itself, which left
/// a pooled connection inside a transaction that "committed" into nothing.
/// `scripts/full-disk-test.sh` mounts a small tmpfs and points
/// `CONSENTRY_FULL_DISK_DIR` at it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a small filesystem of its own: scripts/full-disk-test.sh"]
async fn a_real_full_disk_acknowledges_only_what_it_stored() {
    let dir = std::path::PathBuf::from(
        std::env::var("CONSENTRY_FULL_DISK_DIR")
            .expect("CONSENTRY_FULL_DISK_DIR names a small filesystem"),
    );
    let app = TestApp::on(super::helpers::TestDb::sqlite_in(&dir), &[]).await;
    let s = recruiting_study(&app).await;
    let tokens = invited(&app, &s, 60).await;
    let filler = dir.join("filler");
    let leave = 400_000;
    std::fs::write(
        &filler,
        vec![0u8; usize::try_from(free_bytes(&dir).saturating_sub(leave)).unwrap_or(0)],
    )
    .expect("fill the disk");
    let mut acknowledged = Vec::new();
    let mut failed = Vec::new();
    for chunk in tokens.chunks(8) {
        for (token, (status, v)) in chunk.iter().zip(sign_all(&app, &s, chunk).await) {
            match status.code {
                201 => acknowledged.push(consent_id(&v)),
                500..=599 => {
                    assert!(v["error"]["request_id"].is_string(), "{v}");
                    failed.push(token.clone());
                }
                _ => panic!("{status} {v}"),
            }
        }
    }
    println!("full disk: {} acknowledged, {} refused with a 5xx", acknowledged.len(), failed.len());
    assert!(!failed.is_empty(), "the disk filled up");
    assert_eq!(app.client.get("/readyz").dispatch().await.status(), Status::ServiceUnavailable);

    std::fs::remove_file(&filler).expect("free the disk");
    assert_eq!(app.client.get("/readyz").dispatch().await.status(), Status::Ok);
    for chunk in failed.chunks(8) {
        for (status, v) in sign_all(&app, &s, chunk).await {
            assert_eq!(status, Status::Created, "{v}");
            acknowledged.push(consent_id(&v));
        }
    }
    println!("after freeing it: {} acknowledged in all", acknowledged.len());
    nothing_acknowledged_is_lost(&app, &acknowledged).await;
    let restarted = app.test_db.connect().await;
    let stored = scalar(&restarted, "SELECT COUNT(*) FROM consents").await;
    assert_eq!(stored, 60, "another connection sees every acknowledged consent");
}

/// A TCP relay to PostgreSQL that can be cut (every connection dropped, new ones
/// refused) and restored on the same port: an outage of the database's network.
struct Relay {
    port: u16,
    open: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
}

impl Relay {
    async fn start(target: std::net::SocketAddr) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (open, _) = tokio::sync::watch::channel(true);
        let open = std::sync::Arc::new(open);
        let state = open.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !*state.borrow() {
                    continue;
                }
                let mut cut = state.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.wait_for(|open| !open) => {}
                    }
                });
            }
        });
        Relay { port, open }
    }

    fn cut(&self) {
        self.open.send_replace(false);
    }

    fn restore(&self) {
        self.open.send_replace(true);
    }
}

/// PostgreSQL goes away: requests fail fast with 503 and Retry-After instead of
/// hanging for the pool's timeout, readiness says so, and both recover by
/// themselves when it comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_outage_fails_fast_and_recovers() {
    let Some(test_db) = super::helpers::TestDb::new(Backend::Postgres).await else { return };
    test_db.connect().await.close().await.expect("migrated");
    let target = std::net::SocketAddr::from(([127, 0, 0, 1], 5432));
    let relay = Relay::start(target).await;
    let via_relay = test_db.url.replace("127.0.0.1:5432", &format!("127.0.0.1:{}", relay.port));
    assert_ne!(via_relay, test_db.url, "the test database is on 127.0.0.1:5432");
    let timeouts = crate::store::Timeouts { acquire: std::time::Duration::from_millis(500) };
    let db = crate::store::Db::connect_with(&via_relay, 4, timeouts).await.expect("connect");
    let client = super::helpers::instance(&test_db, db, &[]).await;
    let studies = |token: String| {
        let client = &client;
        async move {
            let started = std::time::Instant::now();
            let res = client
                .get("/api/v1/studies")
                .header(rocket::http::Header::new("Authorization", format!("Bearer {token}")))
                .dispatch()
                .await;
            let retry = res.headers().get_one("Retry-After").map(str::to_string);
            (res.status(), retry, started.elapsed())
        }
    };
    let app_state = client.rocket().state::<crate::service::AppState>().expect("state");
    let new = crate::domain::user::NewUser::parse(
        "c@example.org",
        "C",
        "coordinator",
        super::helpers::PASSWORD,
    )
    .expect("user");
    crate::service::user::create(app_state, crate::service::Actor::Cli, new).await.expect("user");
    let (token, _) = crate::service::auth::issue_token(
        app_state,
        &crate::store::user::find_by_email(
            app_state.db.conn(),
            &crate::domain::user::Email::parse("c@example.org").expect("email"),
        )
        .await
        .expect("read")
        .expect("user"),
        crate::domain::user::TokenKind::Api,
    )
    .await
    .expect("token");
    assert_eq!(studies(token.clone()).await.0, Status::Ok);

    relay.cut();
    for _ in 0..3 {
        let (status, retry, took) = studies(token.clone()).await;
        assert_eq!((status, retry.as_deref()), (Status::ServiceUnavailable, Some("5")));
        assert!(took < std::time::Duration::from_secs(5), "failed fast: {took:?}");
    }
    let ready = client.get("/readyz").dispatch().await;
    assert_eq!(ready.status(), Status::ServiceUnavailable);
    assert_eq!(client.get("/healthz").dispatch().await.status(), Status::Ok);

    relay.restore();
    let mut recovered = false;
    for _ in 0..40 {
        if studies(token.clone()).await.0 == Status::Ok {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(recovered, "requests work again without a restart");
    assert_eq!(client.get("/readyz").dispatch().await.status(), Status::Ok);
}

/// The console's new writes (an amendment, a reason to show names, an audit pack's
/// download record, a checkpoint) on a read-only database: none is acknowledged and
/// none is stored; once the database takes writes again they all work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consoles_writes_are_refused_not_lost_on_a_read_only_database() {
    let dir = std::env::temp_dir().join(format!("consentry-fault-cp-{}", std::process::id()));
    let settings = [
        ("audit_key_file", json!(dir.join("audit.key"))),
        ("checkpoint_dir", json!(dir.join("shipped"))),
    ];
    let app = TestApp::spawn(Backend::Sqlite, &settings).await.expect("app");
    let s = recruiting_study(&app).await;
    std::fs::create_dir_all(&dir).expect("key folder");
    let _ = std::fs::remove_file(dir.join("audit.key"));
    let _ = std::fs::remove_file(dir.join("audit.key.pub"));
    crate::audit::checkpoints::keygen(&dir.join("audit.key")).expect("keygen");
    let key = crate::audit::checkpoints::signing_key(&dir.join("audit.key")).expect("key");
    let amendment = json!({
        "kind": "amendment", "reference": "A1", "summary": "A new site",
        "approved_on": chrono::Utc::now().date_naive().to_string(),
    });
    let events = || scalar(&app.db, "SELECT COUNT(*) FROM audit_events");
    let before = events().await;

    writer_faults(&app.db, &["PRAGMA query_only = ON".to_string()]).await;
    let path = "/api/v1/studies/study-one/approvals";
    let (status, v) = app.post_json(path, Some(&s.ethics), amendment.clone()).await;
    assert_eq!(status, Status::ServiceUnavailable, "{v}");
    let pack = app.get_bytes("/api/v1/studies/study-one/audit-pack", &s.ethics).await.0;
    assert_eq!(pack, Status::ServiceUnavailable, "no pack leaves unrecorded");
    let taken =
        crate::service::audit::take_checkpoint(app.state(), &key, &dir.join("shipped")).await;
    assert!(taken.is_err(), "a checkpoint that cannot be recorded is an error");
    assert_eq!(events().await, before, "nothing was recorded");
    assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM study_approvals").await, 1);

    writer_faults(&app.db, &[]).await;
    assert_eq!(app.post_json(path, Some(&s.ethics), amendment).await.0, Status::Created);
    assert_eq!(
        app.get_bytes("/api/v1/studies/study-one/audit-pack", &s.ethics).await.0,
        Status::Ok
    );
    crate::service::audit::take_checkpoint(app.state(), &key, &dir.join("shipped"))
        .await
        .expect("a checkpoint once the database takes writes");
    assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM study_approvals").await, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A change of optional choices is a signed write too: while the database refuses
/// writes (read-only, then full) the change is answered 503 and leaves nothing —
/// no record, no receipt, no audit event — and once writes work again the same
/// change is stored and answered 201.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_of_choices_is_stored_only_when_it_is_acknowledged() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await.expect("app");
    let s = recruiting_study(&app).await;
    let token = invited(&app, &s, 1).await.remove(0);
    let (status, v) = app
        .post_json("/api/v1/participant/consent", Some(&token), signing(&s, "Sam Student", true))
        .await;
    assert_eq!(status, Status::Created, "{v}");
    let first = consent_id(&v);
    let change = json!({"items": {}, "signature": {"typed_name": "Sam Student"}});
    let path = "/api/v1/participant/consent/choices";
    let count = |sql: &'static str| scalar(&app.db, sql);
    let mails = count("SELECT COUNT(*) FROM outbox").await;
    let pages = scalar(&app.db, "PRAGMA page_count").await;
    for fault in ["PRAGMA query_only = ON".to_string(), format!("PRAGMA max_page_count = {pages}")]
    {
        writer_faults(&app.db, &[fault]).await;
        let (status, v) = app.post_json(path, Some(&token), change.clone()).await;
        assert_eq!(status, Status::ServiceUnavailable, "{v}");
        assert_eq!(count("SELECT COUNT(*) FROM consents").await, 1, "nothing stored");
        assert_eq!(count("SELECT COUNT(*) FROM outbox").await, mails, "no receipt queued");
        let amended = "SELECT COUNT(*) FROM audit_events WHERE action = 'consent.amended'";
        assert_eq!(count(amended).await, 0, "no event");
    }
    writer_faults(&app.db, &[]).await;
    let (status, v) = app.post_json(path, Some(&token), change).await;
    assert_eq!(status, Status::Created, "{v}");
    nothing_acknowledged_is_lost(&app, &[first, consent_id(&v)]).await;
}
