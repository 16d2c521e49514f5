//! The audit chain: who may read it, that it verifies, that edits made behind the
//! service's back are found and named, and that concurrent writers keep one chain.

use rocket::http::Status;
use serde_json::json;

use super::helpers::{Backend, TestApp, TestDb};
use crate::audit;
use crate::domain::audit::NewEvent;
use crate::domain::audit::Verification;
use crate::store::testing::{scalar, try_execute};

db_test!(readers_and_verification, |app| {
    let admin = app.staff("admin@example.org", "admin").await;
    let coord = app.staff("coord@example.org", "coordinator").await;
    let fac = app.staff("fac@example.org", "facilitator").await;
    let ethics = app.staff("eth@example.org", "ethics_officer").await;
    app.create_study(&coord, "study-one").await;
    app.add_staff(&coord, "study-one", "fac@example.org", "facilitator").await;

    for who in [&coord, &fac] {
        assert_eq!(app.get_json("/api/v1/audit/verify", Some(who)).await.0, Status::Forbidden);
        assert_eq!(
            app.get_json("/api/v1/audit?study=study-one", Some(who)).await.0,
            Status::Forbidden
        );
    }
    assert_eq!(app.get_json("/api/v1/audit/verify", None).await.0, Status::Unauthorized);

    let (status, v) = app.get_json("/api/v1/audit/verify", Some(&ethics)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(v["ok"], true, "{v}");
    let stored = scalar(&app.db, "SELECT COUNT(*) FROM audit_events").await;
    assert_eq!(v["events"].as_i64(), Some(stored));
    let chains: Vec<_> = v["chains"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["chain"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(chains, ["study:study-one", "system"]);

    let (status, log) = app.get_json("/api/v1/audit?study=study-one", Some(&admin)).await;
    assert_eq!(status, Status::Ok);
    let actions: Vec<_> = log["events"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["action"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(actions, ["study.created", "study.staff_added"]);
    assert_eq!(log["events"][0]["prev_hash"], "0".repeat(64));
    assert_eq!(log["events"][1]["prev_hash"], log["events"][0]["hash"]);

    let (_, page) = app.get_json("/api/v1/audit?study=study-one&limit=1", Some(&admin)).await;
    assert_eq!(
        (page["events"].as_array().map(Vec::len), page["next_after"].as_i64()),
        (Some(1), Some(1))
    );
    let (_, page) = app.get_json("/api/v1/audit?study=study-one&after=1", Some(&admin)).await;
    assert_eq!(page["events"][0]["seq"], 2);
    assert_eq!(app.get_json("/api/v1/audit?study=no-such", Some(&admin)).await.0, Status::NotFound);
    assert_eq!(
        app.get_json("/api/v1/audit?limit=0", Some(&admin)).await.0,
        Status::UnprocessableEntity
    );
    assert_eq!(
        app.get_json("/api/v1/audit?limit=abc", Some(&admin)).await.0,
        Status::UnprocessableEntity
    );
});

db_test!(the_table_is_append_only, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    app.create_study(&coord, "study-one").await;
    let update = try_execute(&app.db, "UPDATE audit_events SET actor = 'user:999'").await;
    assert!(update.is_err_and(|e| e.to_string().contains("append-only")), "UPDATE must be refused");
    let delete = try_execute(&app.db, "DELETE FROM audit_events").await;
    assert!(delete.is_err_and(|e| e.to_string().contains("append-only")), "DELETE must be refused");
});

db_test!(an_edit_behind_the_service_is_named, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    let ethics = app.staff("eth@example.org", "ethics_officer").await;
    app.staff("fac@example.org", "facilitator").await;
    app.create_study(&coord, "study-one").await;
    app.add_staff(&coord, "study-one", "fac@example.org", "facilitator").await;
    app.post_json("/api/v1/studies/study-one/status", Some(&coord), json!({"status": "closed"}))
        .await;

    // Someone with database access disables the guard and rewrites history.
    let disable = match app.test_db.backend {
        Backend::Sqlite => "DROP TRIGGER audit_events_no_update",
        Backend::Postgres => "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update",
    };
    try_execute(&app.db, disable).await.expect("the guard can be removed by a superuser");
    try_execute(
        &app.db,
        "UPDATE audit_events SET details = '{\"role\":\"coordinator\"}' WHERE chain = 'study:study-one' AND seq = 2",
    )
    .await
    .expect("tampering");

    let (status, v) = app.get_json("/api/v1/audit/verify", Some(&ethics)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["chain"], "study:study-one");
    assert_eq!(v["first_bad_seq"], 2);
    assert!(v["reason"].as_str().unwrap_or("").contains("hash"));
});

db_test!(the_trail_reads_back_as_the_pool_reads_it, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    app.staff("fac@example.org", "facilitator").await;
    app.create_study(&coord, "study-one").await;
    app.add_staff(&coord, "study-one", "fac@example.org", "facilitator").await;
    let tx = app.db.begin_write().await.expect("write");
    crate::audit::record(
        tx.conn(),
        NewEvent::new("user:1", "study.created", "study", "x")
            .with(json!({"name": "Zoë \"Ł\" 田中", "n": 1.5, "list": [true, null]})),
    )
    .await
    .expect("event");
    tx.commit().await.expect("commit");

    let snapshot = app.db.begin_snapshot().await.expect("snapshot");
    let trail = crate::store::audit::TrailReader::open(&app.db, &snapshot).await.expect("reader");
    let heads = trail.heads().await.expect("heads");
    assert_eq!(heads, crate::store::audit::heads(app.db.conn()).await.expect("heads"));
    let mut chains = trail.chains_with_events().await.expect("chains");
    chains.sort();
    assert_eq!(chains, ["study:study-one", "system"]);
    for chain in &chains {
        let pooled = crate::store::audit::stored_page(app.db.conn(), chain, 0, 100).await;
        let pooled = pooled.expect("page");
        assert!(!pooled.is_empty());
        assert_eq!(trail.page(chain, 0, 100).await.expect("page"), pooled);
        assert_eq!(trail.page(chain, 1, 1).await.expect("page"), pooled[1..2]);
        assert!(pooled.iter().all(|e| e.compute_hash() == e.hash), "{pooled:?}");
    }
});

db_test!(the_same_details_stored_as_other_text_still_verify, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    app.staff("fac@example.org", "facilitator").await;
    app.create_study(&coord, "study-one").await;
    app.add_staff(&coord, "study-one", "fac@example.org", "facilitator").await;
    let disable = match app.test_db.backend {
        Backend::Sqlite => "DROP TRIGGER audit_events_no_update",
        Backend::Postgres => "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update",
    };
    try_execute(&app.db, disable).await.expect("the guard can be removed by a superuser");
    let details = crate::store::audit::page(app.db.conn(), "study:study-one", 1, 1)
        .await
        .expect("page")
        .remove(0)
        .details;
    let spaced = serde_json::to_string_pretty(&details).expect("json");
    assert_ne!(spaced, details.to_string());
    let sql = format!(
        "UPDATE audit_events SET details = '{}' WHERE chain = 'study:study-one' AND seq = 2",
        spaced.replace('\'', "''")
    );
    try_execute(&app.db, &sql).await.expect("rewritten");
    let verdict = audit::verify(&app.db, None).await.expect("verify");
    assert!(verdict.is_ok(), "{verdict:?}");
});

/// Two instances (two connection pools) append to one chain at once; the chain
/// stays unbroken and gapless. On PostgreSQL this exercises the head row lock.
async fn two_writers(backend: Backend) {
    let Some(test_db) = TestDb::new(backend).await else { return };
    let first = test_db.connect().await;
    let second = test_db.connect().await;
    let mut tasks = Vec::new();
    for (w, db) in [first.clone(), second.clone()].into_iter().enumerate() {
        for i in 0..15 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let tx = db.begin_write().await?;
                audit::record(
                    tx.conn(),
                    NewEvent::new(format!("writer:{w}"), "test.appended", "test", i)
                        .in_study("shared"),
                )
                .await?;
                tx.commit().await
            }));
        }
    }
    for t in tasks {
        t.await.expect("task").expect("append commits");
    }
    match audit::verify(&first, None).await.expect("verify runs") {
        Verification::Ok { events, chains, .. } => {
            assert_eq!(events, 30);
            assert_eq!(chains.len(), 1);
        }
        broken => panic!("chain forked or broke: {broken:?}"),
    }
    let max =
        scalar(&second, "SELECT MAX(seq) FROM audit_events WHERE chain = 'study:shared'").await;
    assert_eq!(max, 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_writers_keep_one_chain_sqlite() {
    two_writers(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_writers_keep_one_chain_postgres() {
    two_writers(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_head_is_named() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await.expect("app");
    let coord = app.staff("coord@example.org", "coordinator").await;
    app.create_study(&coord, "study-one").await;
    try_execute(&app.db, "DELETE FROM audit_chain_heads WHERE chain = 'study:study-one'")
        .await
        .expect("delete head");
    let result = audit::verify(&app.db, None).await.expect("verify runs");
    assert!(
        matches!(result, Verification::Broken { ref chain, .. } if chain == "study:study-one"),
        "{result:?}"
    );
}
