//! Pages that read: a participant's GET pages (and the public ad) begin no write
//! transaction and run a bounded number of statements (the numbers are in BENCHMARKS.md; run with
//! `--nocapture` to see them).

use rocket::http::Status;
use serde_json::json;

use super::participant_traps::consented_on_this_browser;

/// The participant's GET pages, each with the most statements it may run.
const PAGES: [(&str, u64); 8] = [
    ("/participant", 11),
    ("/participant/consent", 5),
    ("/participant/receipt", 5),
    ("/participant/questionnaires/demographics", 7),
    ("/participant/questionnaires/platform-usage", 7),
    ("/participant/availability", 9),
    ("/participant/withdraw", 4),
    ("/participant/link", 1),
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

db_test!(the_public_ad_page_only_reads, |app| {
    let s = crate::tests::recruitment::with_screening(&app).await;
    let (writes, queries) = (app.db.writes_begun(), app.db.queries_run());
    let res = app.client.get("/ads/moodle-mbbs").dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    let ran = app.db.queries_run() - queries;
    assert_eq!(app.db.writes_begun(), writes, "the ad page began a write transaction");
    assert!(ran <= 5, "the ad page ran {ran} statements");
    println!("statements for /ads/moodle-mbbs ({:?}): {ran}", app.db.backend());
    let (_, ads) = app.get_json("/api/v1/studies/study-one/ads", Some(&s.coord)).await;
    assert_eq!(ads[0]["views"], json!(1), "and the visit is counted");
});
