//! The ethics console in the browser: every study under its committee, and the
//! audit log with its filters, pages and "Verify now"; for ethics officers and
//! admins only.

use rocket::http::Status;
use serde_json::json;

use super::consent_flow::{invite, recruiting_study, signing};
use super::helpers::{PASSWORD, TestApp};
use super::html_pages::{csrf_of, page, post_form, sign_in, sign_out};
use crate::store::testing::try_execute;

async fn signed_study(app: &TestApp) -> super::consent_flow::Study {
    let s = recruiting_study(app).await;
    let token = invite(app, &s, "p1@student.example.edu").await;
    let (status, _) = app
        .post_json("/api/v1/participant/consent", Some(&token), signing(&s, "Pat Example", true))
        .await;
    assert_eq!(status, Status::Created);
    s
}

db_test!(the_console_lists_every_study_for_ethics_officers_only, |app| {
    signed_study(&app).await;
    assert_eq!(sign_in(&app.client, "eth@example.org", PASSWORD).await, Status::SeeOther);
    let (status, html) = page(&app, "/staff/ethics").await;
    assert_eq!(status, Status::Ok, "{html}");
    assert!(
        html.contains("CF15&#x2f;2639-2015001090") && html.contains("Monash University"),
        "{html}"
    );
    assert!(html.contains("<td>1 · 0</td>"), "one consented, none withdrawn: {html}");
    assert!(html.contains("href=\"/staff/audit\""), "{html}");
    sign_out(&app).await;
    for who in ["coord@example.org", "fac@example.org"] {
        assert_eq!(sign_in(&app.client, who, PASSWORD).await, Status::SeeOther);
        assert_eq!(page(&app, "/staff/ethics").await.0, Status::Forbidden, "{who}");
        assert_eq!(page(&app, "/staff/audit").await.0, Status::Forbidden, "{who}");
        sign_out(&app).await;
    }
});

db_test!(the_audit_log_filters_pages_and_verifies, |app| {
    let s = signed_study(&app).await;
    for hours in 0..105 {
        let path = "/api/v1/studies/study-one/settings";
        app.put_json(path, Some(&s.coord), json!({"reminder_hours": hours % 100})).await;
    }
    assert_eq!(sign_in(&app.client, "eth@example.org", PASSWORD).await, Status::SeeOther);

    let (status, html) = page(&app, "/staff/audit?study=study-one&action=consent.").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("<td>consent.given</td>"), "{html}");
    assert!(!html.contains("<td>study.settings_changed</td>"), "only consent events: {html}");

    let (_, html) = page(&app, "/staff/audit?study=study-one").await;
    let older = html
        .split("href=\"/staff/audit?")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("a link to older events: {html}"))
        .replace("&amp;", "&");
    let (status, html) = page(&app, &format!("/staff/audit?{older}")).await;
    assert_eq!(status, Status::Ok);
    assert!(
        html.contains("<td>study.created</td>"),
        "the oldest events are on the next page: {html}"
    );

    let csrf = csrf_of(&html);
    let (status, to) = post_form(&app, "/staff/audit/verify", format!("csrf_token={csrf}")).await;
    assert_eq!((status, to.as_deref()), (Status::SeeOther, Some("/staff/audit")));
    let (_, html) = page(&app, "/staff/audit").await;
    assert!(html.contains("Verified:") && html.contains("are intact"), "{html}");

    for trigger in ["audit_events_no_update"] {
        if try_execute(&app.db, &format!("DROP TRIGGER {trigger} ON audit_events")).await.is_err() {
            try_execute(&app.db, &format!("DROP TRIGGER {trigger}"))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    try_execute(
        &app.db,
        "UPDATE audit_events SET actor = 'forged' WHERE chain = 'study:study-one' AND seq = 2",
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    post_form(&app, "/staff/audit/verify", format!("csrf_token={}", csrf_of(&html))).await;
    let (_, html) = page(&app, "/staff/audit").await;
    assert!(html.contains("Broken: chain study:study-one, first bad event 2"), "{html}");
});

db_test!(an_ethics_officer_finds_a_participant_and_their_signed_pdf, |app| {
    signed_study(&app).await;
    assert_eq!(sign_in(&app.client, "eth@example.org", PASSWORD).await, Status::SeeOther);
    let res = app.client.get("/staff/studies/study-one/participants?code=p001").dispatch().await;
    assert_eq!(res.status(), Status::SeeOther);
    let to = res.headers().get_one("Location").unwrap_or_default().to_string();
    assert_eq!(to, "/staff/studies/study-one/participants/P001");
    let (status, html) = page(&app, &to).await;
    assert_eq!(status, Status::Ok, "{html}");
    assert!(
        html.contains("Version 1 (en-AU), signed") && html.contains("audio_recording"),
        "{html}"
    );
    let signed = html.split("Version 1 (en-AU), signed ").nth(1).and_then(|r| r.split('<').next());
    let months = ["January", "February", "March", "April", "May", "June", "July", "August"];
    let months = [&months[..], &["September", "October", "November", "December"]].concat();
    assert!(
        signed.is_some_and(|t| months.iter().any(|m| t.contains(m)) && !t.contains("+00:00")),
        "the signing time in words on the study's clock: {signed:?}"
    );
    assert!(html.contains("CF15&#x2f;2639-2015001090"), "the approval it was signed under: {html}");
    let pdf = html
        .split("href=\"")
        .find(|r| r.contains("/pdf\""))
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("a PDF link: {html}"))
        .replace("&#x2f;", "/");
    let res = app.client.get(pdf).dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.content_type(), Some(rocket::http::ContentType::PDF), "shown inline");
    assert_eq!(page(&app, "/staff/studies/study-one/participants/P999").await.0, Status::NotFound);
    let viewed = crate::store::testing::scalar(
        &app.db,
        "SELECT COUNT(*) FROM audit_events WHERE action = 'consent.story_viewed'",
    )
    .await;
    assert_eq!(viewed, 1, "opening the story is an access event");
    sign_out(&app).await;
    assert_eq!(sign_in(&app.client, "fac@example.org", PASSWORD).await, Status::SeeOther);
    assert_eq!(page(&app, "/staff/studies/study-one/participants/P001").await.0, Status::Forbidden);
});

db_test!(names_stay_hidden_from_ethics_officers_until_they_say_why, |app| {
    signed_study(&app).await;
    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let (_, html) = page(&app, "/staff/studies/study-one").await;
    assert!(html.contains("Pat Example"), "coordinators run the study by name: {html}");
    sign_out(&app).await;

    assert_eq!(sign_in(&app.client, "eth@example.org", PASSWORD).await, Status::SeeOther);
    for path in ["/staff/studies/study-one", "/staff/studies/study-one/participants/P001"] {
        let (status, html) = page(&app, path).await;
        assert_eq!(status, Status::Ok);
        assert!(!html.contains("Pat Example") && html.contains("hidden"), "{path}: {html}");
    }
    let story = "/staff/studies/study-one/participants/P001";
    let (_, html) = page(&app, story).await;
    let ask = |reason: &str| {
        format!("csrf_token={}&back={}&reason={reason}", csrf_of(&html), story.replace('/', "%2F"))
    };
    let (status, to) = post_form(&app, "/staff/studies/study-one/reveal", ask("")).await;
    assert_eq!((status, to.as_deref()), (Status::SeeOther, Some(story)));
    let (_, shown) = page(&app, story).await;
    assert!(!shown.contains("Pat Example") && shown.contains("Say why"), "{shown}");
    let (status, _) = post_form(
        &app,
        "/staff/studies/study-one/reveal",
        ask("The+participant+asked+for+their+record"),
    )
    .await;
    assert_eq!(status, Status::SeeOther);
    let (_, shown) = page(&app, story).await;
    assert!(shown.contains("Pat Example"), "{shown}");
    let (_, study) = page(&app, "/staff/studies/study-one").await;
    assert!(study.contains("Pat Example"), "{study}");
    let (_, log) = page(&app, "/staff/audit?action=consent.identities_revealed").await;
    assert!(log.contains("The participant asked for their record"), "the reason is audited: {log}");
});

db_test!(the_audit_log_lists_who_viewed_what, |app| {
    signed_study(&app).await;
    assert_eq!(sign_in(&app.client, "eth@example.org", PASSWORD).await, Status::SeeOther);
    page(&app, "/staff/studies/study-one").await;
    page(&app, "/staff/studies/study-one/participants/P001").await;
    let (status, html) = page(&app, "/staff/audit?access=true").await;
    assert_eq!(status, Status::Ok);
    assert!(
        html.contains("consent.register_viewed") && html.contains("consent.story_viewed"),
        "{html}"
    );
    assert!(
        !html.contains("<td>consent.given</td>") && !html.contains("<td>study.created</td>"),
        "{html}"
    );
    assert!(
        html.contains("signs no checkpoints"),
        "the page says what verification cannot prove: {html}"
    );
});

db_test!(the_register_filters_by_version_state_and_date, |app| {
    let s = signed_study(&app).await;
    let token = invite(&app, &s, "p2@student.example.edu").await;
    app.post_json("/api/v1/participant/consent", Some(&token), signing(&s, "Sam Example", true))
        .await;
    app.post_json("/api/v1/participant/withdraw", Some(&token), json!({"scope": "future_only"}))
        .await;
    assert_eq!(sign_in(&app.client, "eth@example.org", PASSWORD).await, Status::SeeOther);
    let count = |html: &str| html.matches("/participants/P00").count();
    let (_, all) = page(&app, "/staff/studies/study-one").await;
    assert!(all.contains("2 of 2 consents shown"), "{all}");
    let (_, withdrawn) = page(&app, "/staff/studies/study-one?state=withdrawn").await;
    assert!(
        withdrawn.contains("1 of 2 consents shown") && withdrawn.contains("P002"),
        "{withdrawn}"
    );
    assert_eq!(count(&withdrawn), 1);
    let (_, none) = page(&app, "/staff/studies/study-one?version=9").await;
    assert!(none.contains("0 of 2 consents shown"), "{none}");
    let today = chrono::Utc::now().date_naive();
    let (_, dated) = page(&app, &format!("/staff/studies/study-one?from={today}&to={today}")).await;
    assert!(dated.contains("2 of 2 consents shown"), "{dated}");
    let tomorrow = today + chrono::Duration::days(1);
    let (_, later) = page(&app, &format!("/staff/studies/study-one?from={tomorrow}")).await;
    assert!(later.contains("0 of 2 consents shown"), "{later}");
    let (_, backlog) = page(&app, "/staff/studies/study-one?state=reconsent").await;
    assert!(backlog.contains("0 of 2 consents shown"), "nobody owes a new consent yet: {backlog}");
});

// Every new page and route of the ethics console, for each kind of account: who may
// open it (200), who is refused (403), and who does not see the study at all (404).
db_test!(each_role_meets_the_console_as_it_should, |app| {
    signed_study(&app).await;
    app.staff("admin@example.org", "admin").await;
    app.staff("other@example.org", "coordinator").await;
    let pages = [
        "/staff/ethics",
        "/staff/audit",
        "/staff/studies/study-one/participants/P001",
        "/staff/studies/study-one/consent-forms/1/review",
        "/staff/studies/study-one/audit-pack",
    ];
    let expected: [(&str, [u16; 5]); 5] = [
        ("admin@example.org", [200, 200, 200, 200, 200]),
        ("eth@example.org", [200, 200, 200, 200, 200]),
        ("coord@example.org", [403, 403, 200, 200, 403]),
        ("fac@example.org", [403, 403, 403, 200, 403]),
        ("other@example.org", [403, 403, 404, 404, 403]),
    ];
    for (who, codes) in expected {
        assert_eq!(sign_in(&app.client, who, PASSWORD).await, Status::SeeOther, "{who}");
        for (path, code) in pages.iter().zip(codes) {
            assert_eq!(page(&app, path).await.0.code, code, "{who} {path}");
        }
        sign_out(&app).await;
    }
    for (who, want) in [
        ("admin@example.org", (200, 200)),
        ("eth@example.org", (200, 200)),
        ("coord@example.org", (200, 403)),
        ("fac@example.org", (200, 403)),
        ("other@example.org", (404, 403)),
    ] {
        let token = app.token(who, PASSWORD).await;
        let approvals =
            app.get_json("/api/v1/studies/study-one/approvals", Some(&token)).await.0.code;
        let pack = app.get_bytes("/api/v1/studies/study-one/audit-pack", &token).await.0.code;
        assert_eq!((approvals, pack), want, "{who}");
    }
});

db_test!(the_audit_log_filters_by_entity_and_time, |app| {
    signed_study(&app).await;
    assert_eq!(sign_in(&app.client, "eth@example.org", PASSWORD).await, Status::SeeOther);
    let (_, html) = page(&app, "/staff/audit?study=study-one&entity=consent").await;
    assert!(html.contains("<td>consent.given</td>"), "{html}");
    assert!(!html.contains("<td>study.created</td>"), "{html}");
    let today = chrono::Utc::now().date_naive();
    let (_, html) =
        page(&app, &format!("/staff/audit?study=study-one&from={today}&to={today}")).await;
    assert!(html.contains("<td>study.created</td>"), "{html}");
    let tomorrow = today + chrono::Duration::days(1);
    let (_, html) = page(&app, &format!("/staff/audit?study=study-one&from={tomorrow}")).await;
    assert!(html.contains("No events match"), "{html}");
    let (_, html) = page(&app, "/staff/audit?from=not-a-date").await;
    assert!(
        html.contains("<td>study.created</td>"),
        "a date that does not read is no filter: {html}"
    );
});
