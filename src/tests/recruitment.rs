//! Recruitment through ads: writing ads, screening with eligibility and quotas by
//! stratum (no overshoot under concurrent enrolments), attribution and the funnel,
//! and the public page with its no-JavaScript enrolment form.

use rocket::http::{ContentType, Status};
use serde_json::{Value, json};

use super::consent_flow::{Study, recruiting_study};
use super::helpers::{TestApp, fields, join_all};
use crate::store::testing::scalar;

const STUDY: &str = "/api/v1/studies/study-one";

fn iso(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()
}

fn ad_body(code: &str) -> Value {
    json!({"code": code, "channel": "lms", "title": "Do you use social media to study?",
           "body_markdown": "Join a one-hour focus group.", "opens_at": iso(-1), "closes_at": iso(30)})
}

pub(super) async fn with_screening(app: &TestApp) -> Study {
    let s = recruiting_study(app).await;
    let (status, v) = app
        .post_json(
            &format!("{STUDY}/instruments"),
            Some(&s.coord),
            json!({"key": "screening-medical-students", "version": 1, "stage": "screening",
                   "eligible_if": "enrolled_in_medicine == true"}),
        )
        .await;
    assert_eq!(status, Status::Created, "{v}");
    let (status, v) =
        app.post_json(&format!("{STUDY}/ads"), Some(&s.coord), ad_body("moodle-mbbs")).await;
    assert_eq!(status, Status::Created, "{v}");
    s
}

pub(super) async fn enrol(
    app: &TestApp,
    name: &str,
    email: &str,
    enrolled: bool,
    pathway: &str,
) -> (Status, Value) {
    app.post_json(
        "/api/v1/ads/moodle-mbbs/enrol",
        None,
        json!({"name": name, "email": email,
               "answers": {"enrolled_in_medicine": enrolled, "entry_pathway": pathway}}),
    )
    .await
}

db_test!(writing_ads, |app| {
    let s = with_screening(&app).await;
    let (status, v) =
        app.post_json(&format!("{STUDY}/ads"), Some(&s.coord), ad_body("moodle-mbbs")).await;
    assert_eq!(status, Status::Conflict, "codes are unique: {v}");
    let (status, v) = app
        .post_json(
            &format!("{STUDY}/ads"),
            Some(&s.coord),
            json!({"code": "Bad Code", "channel": "radio", "title": "", "body_markdown": "x",
                   "opens_at": iso(2), "closes_at": iso(1)}),
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(fields(&v), ["channel", "closes_at", "code", "title"], "{v}");
    let (status, _) =
        app.post_json(&format!("{STUDY}/ads"), Some(&s.fac), ad_body("by-facilitator")).await;
    assert_eq!(status, Status::Forbidden);
    let outsider = app.staff("other@example.org", "coordinator").await;
    let (status, _) =
        app.post_json(&format!("{STUDY}/ads"), Some(&outsider), ad_body("by-outsider")).await;
    assert_eq!(status, Status::NotFound);

    let (status, public) = app.get_json("/api/v1/ads/moodle-mbbs", None).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(public["study"]["ethics"]["reference"], "CF15/2639-2015001090");
    assert_eq!(public["open"], true);
    assert_eq!(public["screening"]["questions"][0]["key"], "enrolled_in_medicine");
    assert_eq!(app.get_json("/api/v1/ads/nothing-here", None).await.0, Status::NotFound);

    let mut edited = ad_body("moodle-mbbs");
    edited["title"] = json!("Medical students: do you study on social media?");
    let (status, v) =
        app.put_json(&format!("{STUDY}/ads/moodle-mbbs"), Some(&s.coord), edited).await;
    assert_eq!(
        (status, v["title"].as_str()),
        (Status::Ok, Some("Medical students: do you study on social media?"))
    );
    let (status, v) =
        app.post_json(&format!("{STUDY}/ads/moodle-mbbs/close"), Some(&s.coord), json!({})).await;
    assert_eq!((status, v["open"].as_bool()), (Status::Ok, Some(false)));
    let (status, v) = enrol(&app, "Late", "late@student.example.edu", true, "graduate").await;
    assert_eq!(status, Status::Gone, "a closed ad takes no one: {v}");
    let (_, public) = app.get_json("/api/v1/ads/moodle-mbbs", None).await;
    assert!(public["closed_reason"].as_str().unwrap_or_default().contains("closed"), "{public}");
    assert_eq!(
        scalar(&app.db, "SELECT COUNT(*) FROM audit_events WHERE action LIKE 'ad.%'").await,
        3
    );
});

db_test!(screening_and_enrolment, |app| {
    let s = with_screening(&app).await;
    let (status, v) = app
        .post_json(
            &format!("{STUDY}/strata"),
            Some(&s.coord),
            json!({"question": "entry_pathway", "value": "graduate", "target": 12}),
        )
        .await;
    assert_eq!(status, Status::Created, "{v}");
    for (body, field) in [
        (json!({"question": "entry_pathway", "value": "postgraduate", "target": 1}), "value"),
        (json!({"question": "shoe_size", "value": "9", "target": 1}), "question"),
        (json!({"question": "entry_pathway", "value": "undergraduate", "target": -1}), "target"),
    ] {
        let (status, v) = app.post_json(&format!("{STUDY}/strata"), Some(&s.coord), body).await;
        assert_eq!(status, Status::UnprocessableEntity, "{v}");
        assert_eq!(fields(&v), [field], "{v}");
    }

    let (status, v) = enrol(&app, "Ana", "ana@student.example.edu", true, "graduate").await;
    assert_eq!(status, Status::Created, "{v}");
    assert_eq!(v["eligible"], true);
    let token = v["participant_token"].as_str().unwrap_or_default().to_string();
    assert!(token.starts_with("cpt_"));
    assert_eq!(v["portal_url"].as_str(), Some(format!("http://consentry.test/p/{token}").as_str()));
    let (status, me) = app.get_json("/api/v1/participant", Some(&token)).await;
    assert_eq!((status, me["next_steps"][0]["step"].as_str()), (Status::Ok, Some("consent")));

    let (status, v) = enrol(&app, "Ben", "ben@example.org", false, "undergraduate").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(v["eligible"], false);
    assert!(v["reason"].as_str().unwrap_or_default().contains("not able to include you"));
    assert!(v.get("participant_token").is_none());
    assert_eq!(
        scalar(
            &app.db,
            "SELECT COUNT(*) FROM participant_contacts WHERE email = 'ben@example.org'"
        )
        .await,
        0,
        "nothing kept about an ineligible person"
    );

    let (status, v) = app
        .post_json(
            "/api/v1/ads/moodle-mbbs/enrol",
            None,
            json!({"name": "", "email": "not-an-email", "answers": {}}),
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(fields(&v), ["email", "enrolled_in_medicine", "entry_pathway", "name"], "{v}");
    let (status, v) = app
        .post_json("/api/v1/ads/moodle-mbbs/enrol", None,
            json!({"name": "C", "email": "c@example.org", "answers": {"enrolled_in_medicine": "yes", "entry_pathway": "graduate", "hobby": "x"}}))
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(fields(&v), ["enrolled_in_medicine", "hobby"], "{v}");

    let (status, again) = enrol(&app, "Ana", "ANA@student.example.edu", true, "graduate").await;
    assert_eq!(status, Status::Accepted, "{again}");
    assert_eq!(again, json!({"eligible": true, "sent": true}), "a known address gets no token");
    assert_eq!(
        scalar(&app.db, "SELECT COUNT(*) FROM participants").await,
        1,
        "not a second participant"
    );
    assert_eq!(
        scalar(&app.db, "SELECT COUNT(*) FROM outbox WHERE kind IN ('invitation', 'new_link')")
            .await,
        2,
        "a link is mailed each time"
    );
    assert_eq!(
        scalar(&app.db, "SELECT COUNT(*) FROM answers a JOIN study_instruments i ON i.id = a.instrument_id WHERE i.stage = 'screening'").await,
        2,
        "the eligible person's screening answers are kept for the strata and the report"
    );

    let (_, ads) = app.get_json(&format!("{STUDY}/ads"), Some(&s.coord)).await;
    assert_eq!(ads[0]["funnel"], json!({"screened": 2, "eligible": 1, "consented": 0}), "{ads}");
    let (_, strata) = app.get_json(&format!("{STUDY}/strata"), Some(&s.coord)).await;
    assert_eq!(strata[0]["value"], "graduate");
    assert_eq!(
        (strata[0]["screened"].as_i64(), strata[0]["eligible"].as_i64()),
        (Some(1), Some(1)),
        "{strata}"
    );
});

db_test!(a_capped_stratum_never_overshoots, |app| {
    let s = with_screening(&app).await;
    let (status, _) = app
        .post_json(
            &format!("{STUDY}/strata"),
            Some(&s.coord),
            json!({"question": "entry_pathway", "value": "graduate", "target": 3, "cap": 3}),
        )
        .await;
    assert_eq!(status, Status::Created);
    let emails: Vec<String> = (0..8).map(|i| format!("g{i}@student.example.edu")).collect();
    let results = join_all(emails.iter().map(|e| enrol(&app, "Grad", e, true, "graduate"))).await;
    let created = results.iter().filter(|(s, _)| *s == Status::Created).count();
    let full = results.iter().filter(|(s, _)| *s == Status::Conflict).count();
    assert_eq!((created, full), (3, 5), "{results:?}");
    assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM participants").await, 3);
    let (status, _) = enrol(&app, "Under", "u@student.example.edu", true, "undergraduate").await;
    assert_eq!(status, Status::Created, "other strata are not capped");

    // A withdrawal frees a place.
    let first = results
        .iter()
        .find(|(s, _)| *s == Status::Created)
        .map(|(_, v)| v["participant_token"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    let (status, _) = app
        .post_json("/api/v1/participant/withdraw", Some(&first), json!({"scope": "future_only"}))
        .await;
    assert_eq!(status, Status::Ok);
    let (status, v) = enrol(&app, "Grad", "g9@student.example.edu", true, "graduate").await;
    assert_eq!(status, Status::Created, "{v}");
});

db_test!(enrolment_waits_for_recruitment, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    app.create_study(&coord, "study-one").await;
    let (status, v) =
        app.post_json(&format!("{STUDY}/ads"), Some(&coord), ad_body("moodle-mbbs")).await;
    assert_eq!(status, Status::Created, "{v}");
    let (status, public) = app.get_json("/api/v1/ads/moodle-mbbs", None).await;
    assert_eq!((status, public["open"].as_bool()), (Status::Ok, Some(false)));
    assert!(
        public["closed_reason"].as_str().unwrap_or_default().contains("not recruiting"),
        "{public}"
    );
    let (status, v) = enrol(&app, "Early", "early@student.example.edu", true, "graduate").await;
    assert_eq!(status, Status::Gone, "{v}");
});

db_test!(the_ad_page_and_its_form, |app| {
    let _s = with_screening(&app).await;
    let res = app.client.get("/ads/moodle-mbbs").header(ContentType::HTML).dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    let page = res.into_string().await.unwrap_or_default();
    assert!(page.contains("CF15&#x2f;2639-2015001090"), "the approval reference is shown");
    assert!(page.contains("property=\"og:title\""), "it previews when shared");
    assert!(page.contains("What taking part involves"));
    assert!(page.contains(
        "<legend>Are you currently enrolled in the medical degree (MBBS or MD)?</legend>"
    ));
    let csrf = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or("")
        .to_string();

    let post = |body: String| {
        let app = &app;
        async move {
            let res = app
                .client
                .post("/ads/moodle-mbbs/enrol")
                .header(ContentType::Form)
                .body(body)
                .dispatch()
                .await;
            let status = res.status();
            let location = res.headers().get_one("Location").map(str::to_string);
            (status, location, res.into_string().await.unwrap_or_default())
        }
    };
    let (status, _, page) =
        post(format!("csrf_token={csrf}&name=&email=x&a%5Benrolled_in_medicine%5D=yes")).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(
        page.contains("href=\"#field-name\"") && page.contains("href=\"#field-entry_pathway\""),
        "{page}"
    );
    assert!(page.contains("value=\"yes\" checked"), "answers are kept");

    let (status, _, page) = post(format!(
        "csrf_token={csrf}&name=Nia&email=nia%40example.org&a%5Benrolled_in_medicine%5D=no&a%5Bentry_pathway%5D=graduate"
    ))
    .await;
    assert_eq!(status, Status::Ok);
    assert!(page.contains("Thank you for your interest"), "{page}");

    let (status, location, _) = post(format!(
        "csrf_token={csrf}&name=Mo&email=mo%40student.example.edu&a%5Benrolled_in_medicine%5D=yes&a%5Bentry_pathway%5D=undergraduate"
    ))
    .await;
    assert_eq!((status, location.as_deref()), (Status::SeeOther, Some("/participant")));
    let res = app.client.get("/participant").dispatch().await;
    assert_eq!(res.status(), Status::Ok, "signed in on this browser");
    let poster = app.client.get("/ads/moodle-mbbs/poster.pdf").dispatch().await;
    assert_eq!((poster.status(), poster.content_type()), (Status::Ok, Some(ContentType::PDF)));
    assert!(poster.into_bytes().await.unwrap_or_default().starts_with(b"%PDF-"));
    let (_, ads) = app.get_json(&format!("{STUDY}/ads"), Some(&_s.coord)).await;
    assert_eq!(ads[0]["views"], 1, "the poster is not a view");
    assert_eq!(ads[0]["funnel"]["screened"], 2);
});

db_test!(the_coordinator_sees_the_funnel_and_the_mail, |app| {
    let s = with_screening(&app).await;
    app.post_json(
        &format!("{STUDY}/strata"),
        Some(&s.coord),
        json!({"question": "entry_pathway", "value": "graduate", "target": 12}),
    )
    .await;
    enrol(&app, "Ana", "ana@student.example.edu", true, "graduate").await;
    enrol(&app, "Ben", "ben@example.org", false, "graduate").await;
    let status = crate::tests::html_pages::sign_in(
        &app.client,
        "coord@example.org",
        crate::tests::helpers::PASSWORD,
    )
    .await;
    assert_eq!(status, Status::SeeOther);
    let page = app
        .client
        .get("/staff/studies/study-one")
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap_or_default();
    assert!(page.contains("Recruitment") && page.contains("/ads/moodle-mbbs"), "{page}");
    assert!(
        page.contains(
            "<td data-label=\"Channel\">Learning-management system</td><td data-label=\"Page visits\">0</td><td data-label=\"Screened\">2</td><td data-label=\"Eligible\">1</td><td data-label=\"Consented\">0</td>"
        ),
        "views, screened, eligible, consented: {page}"
    );
    assert!(page.contains("entry_pathway = graduate"), "strata are shown");
    assert!(
        page.contains("eligible if <code>enrolled_in_medicine == true</code>"),
        "the screening rule is shown"
    );
    let csrf = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or("")
        .to_string();
    let res = app
        .client
        .post("/staff/studies/study-one/reminders")
        .header(ContentType::Form)
        .body(format!("csrf_token={csrf}"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::SeeOther, "the reminders button works");
    let mail = app.client.get("/staff/outbox").dispatch().await;
    assert_eq!(mail.status(), Status::Ok);
    let mail = mail.into_string().await.unwrap_or_default();
    assert!(
        mail.contains("ana@student.example.edu") && !mail.contains("ben@example.org"),
        "{mail}"
    );
});

db_test!(reminders_go_to_people_with_open_steps, |app| {
    let s = with_screening(&app).await;
    let (status, _) = app.attach(&s.coord, "study-one", "demographics", "after_consent").await;
    assert_eq!(status, Status::Created);
    let mut tokens = Vec::new();
    for i in 0..4 {
        let (_, v) = enrol(&app, "P", &format!("r{i}@student.example.edu"), true, "graduate").await;
        tokens.push(v["participant_token"].as_str().unwrap_or_default().to_string());
    }
    // 0 has not consented; 1 consented but has a questionnaire open; 2 has done it all; 3 withdrew.
    for t in &tokens[1..3] {
        app.post_json(
            "/api/v1/participant/consent",
            Some(t),
            crate::tests::consent_flow::signing(&s, "P", true),
        )
        .await;
    }
    let (status, _) = app
        .put_json("/api/v1/participant/questionnaires/demographics", Some(&tokens[2]),
            json!({"answers": {"gender": "female", "age": 22, "entry_pathway": "graduate", "year_of_course": 1}}))
        .await;
    assert_eq!(status, Status::Ok);
    app.post_json(
        "/api/v1/participant/withdraw",
        Some(&tokens[3]),
        json!({"scope": "future_only"}),
    )
    .await;

    let (status, v) = app.post_json(&format!("{STUDY}/reminders"), Some(&s.coord), json!({})).await;
    assert_eq!((status, v["queued"].as_i64()), (Status::Accepted, Some(2)), "{v}");
    let coord = s.coord.clone();
    let body = |to: &str| {
        let app = &app;
        let to = to.to_string();
        let coord = coord.clone();
        async move {
            let (_, mail) = app.get_json("/api/v1/outbox", Some(&coord)).await;
            mail.as_array()
                .into_iter()
                .flatten()
                .find(|m| m["kind"] == "reminder" && m["to"] == to.as_str())
                .map(|m| m["body"].as_str().unwrap_or_default().to_string())
        }
    };
    assert!(
        body("r0@student.example.edu")
            .await
            .is_some_and(|b| b.contains("decide whether to give your consent"))
    );
    assert!(
        body("r1@student.example.edu")
            .await
            .is_some_and(|b| b.contains("answer the questionnaire \"About you\""))
    );
    assert!(body("r2@student.example.edu").await.is_none(), "nothing open: no reminder");
    assert!(body("r3@student.example.edu").await.is_none(), "withdrawn: never reminded");
    assert_eq!(
        app.get_json("/api/v1/participant", Some(&tokens[0])).await.0,
        Status::Ok,
        "a reminder adds a link and replaces none"
    );

    let (_, again) = app.post_json(&format!("{STUDY}/reminders"), Some(&s.coord), json!({})).await;
    assert_eq!(again["queued"], 0, "not twice within 48 hours");
    assert_eq!(
        app.post_json(&format!("{STUDY}/reminders"), Some(&s.fac), json!({})).await.0,
        Status::Forbidden
    );
});

db_test!(opening_an_ad_writes_nothing_and_its_visits_are_written_in_one_batch, |app| {
    let s = with_screening(&app).await;
    for _ in 0..3 {
        let res = app.client.get("/ads/moodle-mbbs").dispatch().await;
        assert_eq!(res.status(), Status::Ok);
    }
    let (status, _) = app.get_json("/api/v1/ads/moodle-mbbs", None).await;
    assert_eq!(status, Status::Ok);
    let stored = "SELECT views FROM ads WHERE code = 'moodle-mbbs'";
    assert_eq!(scalar(&app.db, stored).await, 0, "a visit is not a write");
    let (_, ads) = app.get_json(&format!("{STUDY}/ads"), Some(&s.coord)).await;
    assert_eq!(ads[0]["views"], 4, "the funnel counts the visits not written yet");

    let written = crate::service::recruitment::flush_ad_views(app.state()).await;
    assert_eq!(written.ok(), Some(1), "one ad's visits written");
    assert_eq!(scalar(&app.db, stored).await, 4);
    let (_, ads) = app.get_json(&format!("{STUDY}/ads"), Some(&s.coord)).await;
    assert_eq!(ads[0]["views"], 4, "and counted once");
    let again = crate::service::recruitment::flush_ad_views(app.state()).await;
    assert_eq!(again.ok(), Some(0), "nothing left to write");
});

db_test!(ad_visits_survive_a_write_that_fails_and_are_written_once_it_works, |app| {
    if app.db.backend() != sea_orm::DbBackend::Sqlite {
        return; // The fault is injected on SQLite's writer connection.
    }
    let s = with_screening(&app).await;
    for _ in 0..2 {
        assert_eq!(app.client.get("/ads/moodle-mbbs").dispatch().await.status(), Status::Ok);
    }
    let read_only = ["PRAGMA query_only = ON".to_string()];
    crate::store::testing::writer_faults(&app.db, &read_only).await;
    let failed = crate::service::recruitment::flush_ad_views(app.state()).await;
    assert!(failed.is_err(), "a read-only disk refuses the write");
    let stored = "SELECT views FROM ads WHERE code = 'moodle-mbbs'";
    assert_eq!(scalar(&app.db, stored).await, 0);
    let (_, ads) = app.get_json(&format!("{STUDY}/ads"), Some(&s.coord)).await;
    assert_eq!(ads[0]["views"], 2, "the visits stay counted");

    crate::store::testing::writer_faults(&app.db, &[]).await;
    let written = crate::service::recruitment::flush_ad_views(app.state()).await;
    assert_eq!(written.ok(), Some(1));
    assert_eq!(scalar(&app.db, stored).await, 2, "written once the disk takes writes");
});
