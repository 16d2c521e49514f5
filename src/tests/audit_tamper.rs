//! A database administrator's attacks on the audit trail, made with SQL on the
//! database as they would be, hashes recomputed with the published algorithm: each
//! passes the chain's own verification, and each is found by the signed checkpoints
//! (or, for a flipped consent item, by the record the signed PDF carries).

use std::path::{Path, PathBuf};

use rocket::http::Status;
use serde_json::{Value, json};

use super::consent_flow::{Study, invite, recruiting_study, signing};
use super::helpers::{Backend, TestApp};
use crate::audit::{self, checkpoints};
use crate::domain::audit::{Event, Verification, canonical_json, sha256_hex};
use crate::store::testing::{scalar, try_execute};

const CHAIN: &str = "study:study-one";

/// A new, empty folder of this test's own, removed with everything in it when the
/// test ends.
fn fresh_dir() -> TempDir {
    let mut b = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut b);
    let dir = std::env::temp_dir().join(format!("consentry-checkpoints-{}", hex::encode(b)));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    TempDir(dir)
}

struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A study with two signed consents, three changes of its settings after them, and a
/// signed checkpoint of every chain; the key
/// and the checkpoints live in `dir`.
async fn checkpointed(app: &TestApp, dir: &Path) -> Study {
    let s = signed_and_checkpointed(app, dir).await;
    drop_guards(app).await;
    s
}

async fn signed_and_checkpointed(app: &TestApp, dir: &Path) -> Study {
    let s = recruiting_study(app).await;
    for (i, name) in ["Pat Example", "Sam Example"].into_iter().enumerate() {
        let token = invite(app, &s, &format!("p{i}@student.example.edu")).await;
        let (status, v) = app
            .post_json("/api/v1/participant/consent", Some(&token), signing(&s, name, true))
            .await;
        assert_eq!(status, Status::Created, "{v}");
    }
    for hours in [12, 24, 48] {
        let settings = "/api/v1/studies/study-one/settings";
        let (status, v) =
            app.put_json(settings, Some(&s.coord), json!({"reminder_hours": hours})).await;
        assert_eq!(status, Status::Ok, "{v}");
    }
    let key_file = dir.join("audit.key");
    checkpoints::keygen(&key_file).unwrap_or_else(|e| panic!("{e}"));
    let key = checkpoints::signing_key(&key_file).unwrap_or_else(|e| panic!("{e}"));
    crate::service::audit::take_checkpoint(app.state(), &key, dir)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    s
}

async fn verify(app: &TestApp, dir: Option<&Path>) -> Verification {
    let check = dir
        .map(|d| checkpoints::check(d, &d.join("audit.key.pub")).unwrap_or_else(|e| panic!("{e}")));
    audit::verify(&app.db, check).await.unwrap_or_else(|e| panic!("{e}"))
}

fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// What an administrator does first: drops the triggers that keep the events
/// append-only (the statement differs between SQLite and PostgreSQL).
async fn drop_guards(app: &TestApp) {
    for trigger in ["audit_events_no_update", "audit_events_no_delete"] {
        let on_postgres = format!("DROP TRIGGER {trigger} ON audit_events");
        if try_execute(&app.db, &on_postgres).await.is_err() {
            sql(app, &format!("DROP TRIGGER {trigger}")).await;
        }
    }
}

async fn events(app: &TestApp, chain: &str) -> Vec<Event> {
    crate::store::audit::page(app.db.conn(), chain, 0, 10_000)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn sql(app: &TestApp, statement: &str) {
    try_execute(&app.db, statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
}

/// Changes event `seq` of `chain` with `change`, then recomputes its hash and every
/// later one and moves the head, as an attacker who knows the algorithm would.
async fn rewrite(app: &TestApp, chain: &str, seq: i64, change: impl Fn(&mut Event)) {
    let mut all = events(app, chain).await;
    let mut prev = None;
    for event in all.iter_mut().filter(|e| e.seq >= seq) {
        if event.seq == seq {
            change(event);
        }
        if let Some(p) = prev.take() {
            event.prev_hash = p;
        }
        event.hash = event.compute_hash();
        prev = Some(event.hash.clone());
        sql(
            app,
            &format!(
                "UPDATE audit_events SET actor = {}, details = {}, prev_hash = {}, hash = {} \
                 WHERE chain = {} AND seq = {}",
                quoted(&event.actor),
                quoted(&canonical_json(&event.details)),
                quoted(&event.prev_hash),
                quoted(&event.hash),
                quoted(chain),
                event.seq
            ),
        )
        .await;
    }
    if let Some(last) = all.last() {
        sql(
            app,
            &format!(
                "UPDATE audit_chain_heads SET seq = {}, hash = {} WHERE chain = {}",
                last.seq,
                quoted(&last.hash),
                quoted(chain)
            ),
        )
        .await;
    }
}

fn broken_at_checkpoint(v: &Verification) -> bool {
    matches!(v, Verification::Broken { reason, .. }
        if reason.contains("checkpoint") && reason.contains("checkpoints.jsonl line 1"))
}

db_test!(a_checkpointed_trail_verifies_with_its_checkpoints, |app| {
    let dir = fresh_dir();
    checkpointed(&app, &dir).await;
    let result = verify(&app, Some(&dir)).await;
    assert!(matches!(result, Verification::Ok { checkpoints: 1, .. }), "{result:?}");
    let recorded = scalar(
        &app.db,
        "SELECT COUNT(*) FROM audit_events WHERE chain = 'system' AND action = 'audit.checkpoint'",
    )
    .await;
    assert_eq!(recorded, 1, "the checkpoint is recorded on the system chain");
});

db_test!(truncation_with_the_head_moved_back_is_found, |app| {
    let dir = fresh_dir();
    checkpointed(&app, &dir).await;
    let last =
        scalar(&app.db, &format!("SELECT MAX(seq) FROM audit_events WHERE chain = '{CHAIN}'"))
            .await;
    sql(&app, &format!("DELETE FROM audit_events WHERE chain = '{CHAIN}' AND seq > {}", last - 3))
        .await;
    let head = events(&app, CHAIN).await.pop().unwrap_or_else(|| panic!("events left"));
    sql(
        &app,
        &format!(
            "UPDATE audit_chain_heads SET seq = {}, hash = '{}' WHERE chain = '{CHAIN}'",
            head.seq, head.hash
        ),
    )
    .await;
    assert!(verify(&app, None).await.is_ok(), "the chain alone cannot tell");
    let result = verify(&app, Some(&dir)).await;
    assert!(broken_at_checkpoint(&result), "{result:?}");
    assert!(
        matches!(result, Verification::Broken { ref chain, .. } if chain == CHAIN),
        "{result:?}"
    );
});

db_test!(a_rewritten_and_rehashed_event_is_found, |app| {
    let dir = fresh_dir();
    checkpointed(&app, &dir).await;
    rewrite(&app, CHAIN, 2, |e| e.actor = "user:999".into()).await;
    assert!(verify(&app, None).await.is_ok(), "the chain alone cannot tell");
    let result = verify(&app, Some(&dir)).await;
    assert!(broken_at_checkpoint(&result), "{result:?}");
});

db_test!(a_deleted_study_chain_is_found, |app| {
    let dir = fresh_dir();
    checkpointed(&app, &dir).await;
    sql(&app, "DELETE FROM consents").await;
    sql(&app, &format!("DELETE FROM audit_events WHERE chain = '{CHAIN}'")).await;
    sql(&app, &format!("DELETE FROM audit_chain_heads WHERE chain = '{CHAIN}'")).await;
    assert!(verify(&app, None).await.is_ok(), "the chain alone cannot tell");
    let result = verify(&app, Some(&dir)).await;
    assert!(broken_at_checkpoint(&result), "{result:?}");
});

db_test!(a_flipped_consent_item_is_found_by_its_pdf, |app| {
    let dir = fresh_dir();
    checkpointed(&app, &dir).await;
    let consent = crate::store::consent::record::page(app.db.conn(), 0, 1)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .pop()
        .unwrap_or_else(|| panic!("a consent"));
    let mut record: Value = serde_json::from_str(&consent.record_json).unwrap_or_default();
    let items = record["items"].as_array_mut().unwrap_or_else(|| panic!("items"));
    let audio = items
        .iter_mut()
        .find(|i| i["key"] == "audio_recording")
        .unwrap_or_else(|| panic!("the audio item"));
    assert_eq!(audio["agreed"], true);
    audio["agreed"] = json!(false);
    let flipped = canonical_json(&record);
    let flipped_hash = sha256_hex(flipped.as_bytes());
    sql(
        &app,
        &format!(
            "UPDATE consents SET record_json = {}, record_sha256 = '{flipped_hash}' WHERE id = {}",
            quoted(&flipped),
            consent.id
        ),
    )
    .await;
    let given = events(&app, CHAIN)
        .await
        .into_iter()
        .find(|e| e.action == "consent.given" && e.entity_id == consent.id.to_string())
        .unwrap_or_else(|| panic!("its event"));
    rewrite(&app, CHAIN, given.seq, |e| e.details["record_sha256"] = json!(flipped_hash)).await;
    let result = verify(&app, None).await;
    assert!(
        matches!(result, Verification::Broken { ref reason, .. } if reason.contains("signed PDF carries another record")),
        "{result:?}"
    );
});

db_test!(a_changed_consent_form_is_found_by_its_approval, |app| {
    let dir = fresh_dir();
    checkpointed(&app, &dir).await;
    assert!(verify(&app, None).await.is_ok());
    sql(&app, "UPDATE consent_forms SET body_markdown = body_markdown || ' Or not.'").await;
    let result = verify(&app, None).await;
    assert!(
        matches!(result, Verification::Broken { ref reason, .. } if reason.contains("no longer matches the hash it was approved with")),
        "{result:?}"
    );
});

/// The server verifies against the checkpoints it signs (`/api/v1/audit/verify`).
async fn the_server_checks_its_checkpoints(backend: Backend) {
    let dir = fresh_dir();
    let settings =
        [("audit_key_file", json!(dir.join("audit.key"))), ("checkpoint_dir", json!(*dir))];
    let Some(app) = TestApp::spawn(backend, &settings).await else { return };
    let s = checkpointed(&app, &dir).await;
    let (status, v) = app.get_json("/api/v1/audit/verify", Some(&s.ethics)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!((v["ok"].clone(), v["checkpoints"].clone()), (json!(true), json!(1)), "{v}");
    assert_eq!(
        crate::tests::html_pages::sign_in(&app.client, "eth@example.org", super::helpers::PASSWORD)
            .await,
        Status::SeeOther
    );
    let (_, html) = crate::tests::html_pages::page(&app, "/staff/audit").await;
    let public = std::fs::read_to_string(dir.join("audit.key.pub")).unwrap_or_default();
    assert!(html.contains(public.trim()) && html.contains("Checkpoints on file"), "{html}");
    rewrite(&app, CHAIN, 1, |e| e.actor = "user:999".into()).await;
    let (_, v) = app.get_json("/api/v1/audit/verify", Some(&s.ethics)).await;
    assert_eq!(v["ok"], false, "{v}");
    assert!(v["reason"].as_str().unwrap_or("").contains("checkpoints.jsonl line 1"), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_checks_its_checkpoints_sqlite() {
    the_server_checks_its_checkpoints(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_checks_its_checkpoints_postgres() {
    the_server_checks_its_checkpoints(Backend::Postgres).await;
}

/// `deploy/postgres/app-role.sql`: the server's own role appends to the trail and
/// moves the head, but cannot change or remove an event, even with the triggers gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_application_role_only_adds_to_the_trail() {
    let Some(test_db) = super::helpers::TestDb::new(Backend::Postgres).await else { return };
    let owner = test_db.connect().await;
    let role = format!("consentry_app_{}", hex::encode(rand::random::<[u8; 6]>()));
    let script = include_str!("../../deploy/postgres/app-role.sql").replace("consentry_app", &role);
    sql_on(&owner, &script).await;
    for trigger in ["audit_events_no_update", "audit_events_no_delete"] {
        sql_on(&owner, &format!("DROP TRIGGER {trigger} ON audit_events")).await;
    }
    let (base, name) = test_db.url.rsplit_once('/').unwrap_or_else(|| panic!("a URL"));
    let host = base.rsplit_once('@').map(|(_, h)| h).unwrap_or(base);
    let app = crate::store::Db::connect(&format!("postgres://{role}@{host}/{name}"), 2)
        .await
        .unwrap_or_else(|e| panic!("connect as {role}: {e}"));
    for i in 0..3 {
        let tx = app.begin_write().await.unwrap_or_else(|e| panic!("{e}"));
        let event = crate::domain::audit::NewEvent::new("user:1", "test.appended", "test", i);
        audit::record(tx.conn(), event).await.unwrap_or_else(|e| panic!("append: {e}"));
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
    }
    for forbidden in [
        "UPDATE audit_events SET actor = 'forged' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 3",
        "DELETE FROM audit_chain_heads",
        "UPDATE study_approvals SET reference = 'forged'",
    ] {
        let refused = try_execute(&app, forbidden).await;
        assert!(
            refused.as_ref().is_err_and(|e| e.to_string().contains("permission denied")),
            "{forbidden}: {refused:?}"
        );
    }
    assert!(audit::verify(&app, None).await.is_ok_and(|v| v.is_ok()));
    app.close().await.ok();
    sql_on(&owner, &format!("DROP OWNED BY {role}; DROP ROLE {role}")).await;
    owner.close().await.ok();
}

async fn sql_on(db: &crate::store::Db, statement: &str) {
    try_execute(db, statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
}

/// An ethics officer downloads a study's audit pack and it checks out with the public
/// key alone; a pack altered afterwards, or checked with another key, does not.
async fn the_audit_pack_verifies_offline(backend: Backend) {
    let dir = fresh_dir();
    let settings =
        [("audit_key_file", json!(dir.join("audit.key"))), ("checkpoint_dir", json!(*dir))];
    let Some(app) = TestApp::spawn(backend, &settings).await else { return };
    let s = signed_and_checkpointed(&app, &dir).await;
    let public =
        checkpoints::public_key(&dir.join("audit.key.pub")).unwrap_or_else(|e| panic!("{e}"));

    let path = "/api/v1/studies/study-one/audit-pack";
    assert_eq!(app.get_bytes(path, &s.coord).await.0, Status::Forbidden);
    let (status, kind, zip) = app.get_bytes(path, &s.ethics).await;
    assert_eq!((status, kind.as_str()), (Status::Ok, "application/zip"));
    let checked = audit::pack::verify(&zip, &public).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((checked.chain.as_str(), checked.pdfs, checked.checkpoints), (CHAIN, 2, 1));

    let (_, _, one) = app.get_bytes(&format!("{path}?participant=P001"), &s.ethics).await;
    assert_eq!(audit::pack::verify(&one, &public).map(|c| c.pdfs), Ok(1));
    assert_eq!(
        app.get_bytes(&format!("{path}?participant=P404"), &s.ethics).await.0,
        Status::NotFound
    );

    let other = crate::domain::audit::checkpoint::signing_key(&"07".repeat(32))
        .unwrap_or_else(|e| panic!("{e}"))
        .verifying_key();
    let refused = audit::pack::verify(&zip, &other).unwrap_err();
    assert!(refused.contains("does not verify"), "{refused}");
    let swapped = repack(&zip, |name, bytes| {
        if name.starts_with("consents/P001") {
            bytes.extend_from_slice(b"%% appended");
        }
    });
    let altered = audit::pack::verify(&swapped, &public).unwrap_err();
    assert!(altered.contains("is not a PDF the chain recorded"), "{altered}");
    let downloads =
        scalar(&app.db, "SELECT COUNT(*) FROM audit_events WHERE action = 'audit.pack_downloaded'")
            .await;
    assert_eq!(downloads, 2, "each download is audited");
}

/// The same ZIP with `change` applied to each entry.
fn repack(zip: &[u8], change: impl Fn(&str, &mut Vec<u8>)) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap_or_else(|e| panic!("{e}"));
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap_or_else(|e| panic!("{e}"));
        let name = file.name().to_string();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap_or_else(|e| panic!("{e}"));
        change(&name, &mut bytes);
        out.start_file(name, options).unwrap_or_else(|e| panic!("{e}"));
        out.write_all(&bytes).unwrap_or_else(|e| panic!("{e}"));
    }
    out.finish().unwrap_or_else(|e| panic!("{e}")).into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_pack_verifies_offline_sqlite() {
    the_audit_pack_verifies_offline(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_pack_verifies_offline_postgres() {
    the_audit_pack_verifies_offline(Backend::Postgres).await;
}

/// With `CONSENTRY_CHECKPOINT_MAIL_TO`, each checkpoint also leaves the machine: the
/// outbox holds a message to the ethics office with the signed line attached.
async fn checkpoints_are_mailed_to_the_ethics_office(backend: Backend) {
    let dir = fresh_dir();
    let settings = [
        ("audit_key_file", json!(dir.join("audit.key"))),
        ("checkpoint_dir", json!(*dir)),
        ("checkpoint_mail_to", json!("ethics@uni.example.edu")),
    ];
    let Some(app) = TestApp::spawn(backend, &settings).await else { return };
    signed_and_checkpointed(&app, &dir).await;
    let shipped = std::fs::read_to_string(dir.join(checkpoints::FILE)).unwrap_or_default();
    let mail = app.mailbox().await;
    let sent = mail
        .iter()
        .find(|m| m.kind == "audit_checkpoint")
        .unwrap_or_else(|| panic!("a checkpoint message among {} kinds", mail.len()));
    assert_eq!(sent.to, "ethics@uni.example.edu");
    assert!(sent.body.contains("verify-audit --checkpoints"), "{}", sent.body);
    let attached = sent.attachment.as_ref().map(|a| String::from_utf8_lossy(&a.bytes).to_string());
    assert_eq!(attached.as_deref(), Some(shipped.as_str()), "the same signed line as the file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_are_mailed_to_the_ethics_office_sqlite() {
    checkpoints_are_mailed_to_the_ethics_office(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_are_mailed_to_the_ethics_office_postgres() {
    checkpoints_are_mailed_to_the_ethics_office(Backend::Postgres).await;
}
