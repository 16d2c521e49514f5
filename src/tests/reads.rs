//! Pages that read: a participant's GET pages (and the public ad) begin no write
//! transaction and run a bounded number of statements (the numbers are in BENCHMARKS.md; run with
//! `--nocapture` to see them).

use rocket::http::Status;
use serde_json::json;

use super::consent_flow::{STUDY, invite, signing};
use super::helpers::{Backend, TestApp};
use super::participant_traps::consented_on_this_browser;
use crate::store::testing::{query_plan, record_statements, recorded_statements};

/// The participant's GET pages, each with the most statements it may run.
/// The participant and their study are one statement, so are a study's instruments
/// and their definitions, and a participant's booked session; a list with nothing
/// to look up is not a statement.
const PAGES: [(&str, u64); 8] = [
    ("/participant", 7),
    ("/participant/consent", 2),
    ("/participant/receipt", 2),
    ("/participant/questionnaires/demographics", 3),
    ("/participant/questionnaires/platform-usage", 3),
    ("/participant/availability", 4),
    ("/participant/withdraw", 1),
    ("/participant/link", 0),
];

db_test!(a_participants_pages_only_read, |app| {
    consented_on_this_browser(&app).await;
    let res = app.client.get("/participant/questionnaires/demographics").dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    let mut seen = Vec::new();
    for (path, most) in PAGES {
        let (writes, queries) = (app.db.writes_begun(), app.db.queries_run());
        let res = app.client.get(path).dispatch().await;
        assert_eq!(res.status(), Status::Ok, "{path}");
        let ran = app.db.queries_run() - queries;
        assert_eq!(app.db.writes_begun(), writes, "{path} began a write transaction");
        seen.push((path, ran, most));
    }
    let listed: Vec<String> = seen.iter().map(|(p, ran, _)| format!("{p}: {ran}")).collect();
    println!("statements per page ({:?}): {}", app.db.backend(), listed.join(", "));
    for (path, ran, most) in seen {
        assert!(ran <= most, "{path} ran {ran} statements, more than {most}");
    }

    // The signed PDF is a download, not a page: SPEC §4 makes every access to a
    // consent PDF an audit event, so it is the one GET that writes.
    let writes = app.db.writes_begun();
    let res = app.client.get("/participant/consent.pdf").dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(app.db.writes_begun(), writes + 1, "the download is recorded");
});

/// The statements a write transaction adds to a count: `BEGIN IMMEDIATE` and
/// `COMMIT` on SQLite, which PostgreSQL's count leaves out.
fn begin_and_commit(app: &TestApp) -> u64 {
    if app.db.backend() == sea_orm::DbBackend::Sqlite { 2 } else { 0 }
}

// A signing and a questionnaire save run a bounded number of statements (on SQLite
// with `BEGIN IMMEDIATE` and `COMMIT`, which PostgreSQL's count leaves out): the
// participant is reloaded with their study in one statement, the code counter and
// the audit chain's head are each one statement once they exist.
db_test!(a_signing_and_a_save_run_a_bounded_number_of_statements, |app| {
    let s = consented_on_this_browser(&app).await;
    let other = invite(&app, &s, "kim@student.example.edu").await;
    let queries = app.db.queries_run();
    let (status, v) = app
        .post_json("/api/v1/participant/consent", Some(&other), signing(&s, "Kim Student", true))
        .await;
    assert_eq!(status, Status::Created, "{v}");
    let signed = app.db.queries_run() - queries;
    let answers = json!({"answers": {"gender": "female", "age": 22,
        "entry_pathway": "graduate", "year_of_course": 1}});
    let queries = app.db.queries_run();
    let (status, v) = app
        .put_json("/api/v1/participant/questionnaires/demographics", Some(&other), answers)
        .await;
    assert_eq!(status, Status::Ok, "{v}");
    let saved = app.db.queries_run() - queries;
    println!("statements ({:?}): signing {signed}, saving answers {saved}", app.db.backend());
    assert!(signed <= 12 + begin_and_commit(&app), "a signing ran {signed} statements");
    assert!(saved <= 9 + begin_and_commit(&app), "saving answers ran {saved} statements");
});

db_test!(the_public_ad_page_only_reads, |app| {
    let s = crate::tests::recruitment::with_screening(&app).await;
    let (writes, queries) = (app.db.writes_begun(), app.db.queries_run());
    let res = app.client.get("/ads/moodle-mbbs").dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    let ran = app.db.queries_run() - queries;
    assert_eq!(app.db.writes_begun(), writes, "the ad page began a write transaction");
    println!("statements for /ads/moodle-mbbs ({:?}): {ran}", app.db.backend());
    // The ad with its study, then the study's screening instrument.
    assert!(ran <= 2, "the ad page ran {ran} statements");
    let (_, ads) = app.get_json("/api/v1/studies/study-one/ads", Some(&s.coord)).await;
    assert_eq!(ads[0]["views"], json!(1), "and the visit is counted");

    let queries = app.db.queries_run();
    let (status, v) = crate::tests::recruitment::enrol(
        &app,
        "Kim Student",
        "kim@student.example.edu",
        true,
        "graduate",
    )
    .await;
    assert_eq!(status, Status::Created, "{v}");
    let ran = app.db.queries_run() - queries;
    println!("statements for an enrolment ({:?}): {ran}", app.db.backend());
    // The participant's row carries the ad and stratum they came from as it is
    // inserted, not by an update after it.
    assert!(ran <= 14 + begin_and_commit(&app), "an enrolment ran {ran} statements");
});

/// Tables that hold a study's set-up, a handful of rows however many take part:
/// reading one whole is cheap.
const SET_UP: [&str; 9] = [
    "studies",
    "consent_forms",
    "consent_form_texts",
    "instruments",
    "questionnaires",
    "focus_groups",
    "ads",
    "users",
    "study_members",
];

/// The tables a step of SQLite's plan reads whole ("SCAN t", "SCAN t USING INDEX
/// …"), other than a study's set-up.
fn scanned_growing_table(step: &str) -> Option<String> {
    let table = step.strip_prefix("SCAN ")?.split_whitespace().next()?;
    // Tables are named in lower case; "SCAN CONSTANT ROW", "SCAN 4-ROW VALUES
    // CLAUSE" and "SCAN (subquery-1)" read no table.
    let named = table.starts_with(|c: char| c.is_ascii_lowercase())
        && table.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    (named && !SET_UP.contains(&table)).then(|| table.to_string())
}

// A page's cost must not grow with the study: on SQLite (whose planner answers
// EXPLAIN QUERY PLAN the same on a small test database as on a large one) no
// statement of a participant's pages, or of signing, answering a questionnaire or
// withdrawing, reads a whole table that grows with participants (consents,
// answers, the audit trail…).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_or_consent_reads_a_table_that_grows_with_participants() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await.expect("app");
    let s = consented_on_this_browser(&app).await;
    let other = invite(&app, &s, "kim@student.example.edu").await;
    record_statements(&app.db);
    for (path, _) in PAGES {
        let res = app.client.get(path).dispatch().await;
        assert_eq!(res.status(), Status::Ok, "{path}");
    }
    let (status, v) = app
        .post_json("/api/v1/participant/consent", Some(&other), signing(&s, "Kim Student", true))
        .await;
    assert_eq!(status, Status::Created, "{v}");
    let answers = json!({"answers": {"gender": "female", "age": 22, "entry_pathway": "graduate", "year_of_course": 1}});
    let (status, v) = app
        .put_json("/api/v1/participant/questionnaires/demographics", Some(&other), answers)
        .await;
    assert_eq!(status, Status::Ok, "{v}");
    let (status, v) = app
        .post_json("/api/v1/participant/withdraw", Some(&other), json!({"scope": "future_only"}))
        .await;
    assert!(status.code < 300, "{status} {v}");
    let statements = recorded_statements(&app.db);
    assert!(statements.len() > PAGES.len(), "the statements were recorded: {statements:?}");
    let scans = whole_table_reads(&app, &statements).await;
    assert!(scans.is_empty(), "whole tables read:\n{}", scans.join("\n"));
}

/// Each read of a whole table that grows with participants among `statements`,
/// with the plan's step and the statement.
async fn whole_table_reads(app: &TestApp, statements: &[String]) -> Vec<String> {
    let mut scans = Vec::new();
    for sql in statements {
        let verb = sql.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        // An empty `IN` list is written `WHERE 1 = 2`: it reads no row.
        let reads = ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH"].contains(&verb.as_str());
        if !reads || sql.contains("WHERE 1 = 2") {
            continue;
        }
        for step in query_plan(&app.db, sql).await {
            if let Some(table) = scanned_growing_table(&step) {
                scans.push(format!("{table}: {step} in {sql}"));
            }
        }
    }
    scans
}

// A study's staff pages read that study's rows, not every study's: a deployment
// with many studies answers each as fast as one with a single study.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_studys_staff_reads_do_not_read_every_studys_rows() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await.expect("app");
    let s = consented_on_this_browser(&app).await;
    record_statements(&app.db);
    let pages = [
        "",
        "/ads",
        "/strata",
        "/instruments",
        "/focus-groups",
        "/focus-groups/conflicts",
        "/report",
        "/export.csv",
        "/report.csv",
        "/consents",
        "/reconsent",
        "/consent-forms",
        "/staff",
        "/approvals",
    ];
    let coordinator = pages.iter().map(|page| (format!("{STUDY}{page}"), &s.coord));
    // An ethics officer's reads of the study: its audit trail and one participant's
    // audit pack.
    let ethics = [
        "/api/v1/audit?study=study-one&limit=100".to_string(),
        format!("{STUDY}/audit-pack?participant=P001"),
    ]
    .into_iter()
    .map(|path| (path, &s.ethics));
    for (path, token) in coordinator.chain(ethics) {
        let (status, _, _) = app.get_bytes(&path, token).await;
        assert_eq!(status, Status::Ok, "{path}");
    }
    let statements = recorded_statements(&app.db);
    assert!(statements.len() > pages.len(), "the statements were recorded: {statements:?}");
    let scans = whole_table_reads(&app, &statements).await;
    assert!(scans.is_empty(), "whole tables read:\n{}", scans.join("\n"));
}

#[test]
fn a_scan_of_a_growing_table_is_told_from_a_search_or_the_set_up() {
    assert_eq!(scanned_growing_table("SCAN consents"), Some("consents".into()));
    assert_eq!(
        scanned_growing_table("SCAN participants USING COVERING INDEX ix"),
        Some("participants".into())
    );
    assert_eq!(scanned_growing_table("SEARCH consents USING INDEX ix (participant_id=?)"), None);
    assert_eq!(scanned_growing_table("SCAN studies"), None);
    assert_eq!(scanned_growing_table("SCAN CONSTANT ROW"), None);
    assert_eq!(scanned_growing_table("SCAN 4-ROW VALUES CLAUSE"), None);
    assert_eq!(scanned_growing_table("SCAN (subquery-1)"), None);
    assert_eq!(scanned_growing_table("USE TEMP B-TREE FOR ORDER BY"), None);
}

/// The participant's page says which consent version is in force and lists the
/// questionnaires: it reads versions and titles, not the texts of the consent forms
/// in force (statement and items) or the stored questionnaire files.
#[tokio::test]
async fn the_portal_reads_no_forms_text() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await.expect("app");
    consented_on_this_browser(&app).await;
    record_statements(&app.db);
    let res = app.client.get("/participant").dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    assert!(res.into_string().await.unwrap_or_default().contains("About you"));
    let statements = recorded_statements(&app.db);
    let texts: Vec<&String> = statements
        .iter()
        .filter(|s| {
            s.contains("body_markdown") || s.contains(r#""questionnaire_definitions"."source""#)
        })
        .collect();
    assert!(texts.is_empty(), "the portal read form texts: {texts:?}");
}
