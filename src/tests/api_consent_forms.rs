//! Consent-form versions: drafted by coordinators, approved by ethics officers,
//! one active version at a time; recruitment opens only with one.

use rocket::http::Status;
use serde_json::{Value, json};

use super::helpers::{TestApp, fields, study_body};

fn form(version: &str, body: &str) -> Value {
    json!({
        "version": version,
        "language": "en-AU",
        "title": "Consent to take part",
        "body_markdown": body,
        "items": [
            {"key": "read_statement", "text": "I have read and understood the explanatory statement.", "required": true},
            {"key": "take_part", "text": "I agree to take part in a focus group of 45 to 60 minutes.", "required": true},
            {"key": "audio_recording", "text": "I agree to the discussion being audio-recorded and transcribed.", "required": true},
            {"key": "verbatim_quotes", "text": "I agree to be quoted verbatim without my name.", "required": false},
        ],
    })
}

fn approval(reference: &str) -> Value {
    json!({"approval_reference": reference, "approved_on": chrono::Utc::now().date_naive().to_string()})
}

struct Cast {
    coord: String,
    ethics: String,
    fac: String,
    outsider: String,
}

async fn cast(app: &TestApp) -> Cast {
    let coord = app.staff("coord@example.org", "coordinator").await;
    let ethics = app.staff("eth@example.org", "ethics_officer").await;
    let fac = app.staff("fac@example.org", "facilitator").await;
    let outsider = app.staff("other@example.org", "coordinator").await;
    app.create_study(&coord, "study-one").await;
    app.add_staff(&coord, "study-one", "fac@example.org", "facilitator").await;
    Cast { coord, ethics, fac, outsider }
}

const FORMS: &str = "/api/v1/studies/study-one/consent-forms";

db_test!(drafting, |app| {
    let c = cast(&app).await;
    let (status, v) =
        app.post_json(FORMS, Some(&c.coord), form("1", "## Explanatory statement")).await;
    assert_eq!(status, Status::Created, "{v}");
    assert_eq!((v["version"].as_str(), v["state"].as_str()), (Some("1"), Some("draft")));
    let hash = v["form_hash"].as_str().unwrap_or_default().to_string();
    assert!(hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()), "{hash}");
    let items: Vec<crate::domain::consent::ConsentItem> =
        serde_json::from_value(v["items"].clone()).expect("items");
    let expected = crate::domain::consent::form_hash(
        "Consent to take part",
        "en-AU",
        "## Explanatory statement",
        &items,
        &Default::default(),
    );
    assert_eq!(hash, expected, "the hash is the canonical one");

    let (status, v) = app.post_json(FORMS, Some(&c.coord), form("1", "Another text")).await;
    assert_eq!(status, Status::Conflict, "a version number is never reused: {v}");
    let (status, v) = app
        .post_json(FORMS, Some(&c.coord), json!({"version": "v1", "language": "English", "title": "", "body_markdown": "", "items": []}))
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(fields(&v), ["body_markdown", "items", "language", "title", "version"]);

    assert_eq!(app.post_json(FORMS, Some(&c.fac), form("2", "x")).await.0, Status::Forbidden);
    assert_eq!(app.post_json(FORMS, Some(&c.ethics), form("2", "x")).await.0, Status::Forbidden);
    assert_eq!(app.post_json(FORMS, Some(&c.outsider), form("2", "x")).await.0, Status::NotFound);
    assert_eq!(
        app.post_json(FORMS, Some(&c.outsider), json!({})).await.0,
        Status::NotFound,
        "no field errors for outsiders"
    );

    let (status, v) = app.get_json(&format!("{FORMS}/1"), Some(&c.fac)).await;
    assert_eq!(
        (status, v["body_markdown"].as_str()),
        (Status::Ok, Some("## Explanatory statement"))
    );
    assert_eq!(app.get_json(&format!("{FORMS}/9"), Some(&c.coord)).await.0, Status::NotFound);
    assert_eq!(app.get_json(FORMS, Some(&c.outsider)).await.0, Status::NotFound);
});

db_test!(approval_activates_one_version, |app| {
    let c = cast(&app).await;
    app.post_json(FORMS, Some(&c.coord), form("1", "First statement")).await;
    let approve = |v: &str| format!("{FORMS}/{v}/approve");

    assert_eq!(
        app.post_json(&approve("1"), Some(&c.coord), approval("CF15/2639-2015001090")).await.0,
        Status::Forbidden
    );
    let (status, v) = app.post_json(&approve("1"), Some(&c.ethics), approval("  ")).await;
    assert_eq!(
        (status, fields(&v)),
        (Status::UnprocessableEntity, vec!["approval_reference".to_string()])
    );
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Duration::days(1)).to_string();
    let (status, v) = app
        .post_json(
            &approve("1"),
            Some(&c.ethics),
            json!({"approval_reference": "CF15/2639-2015001090", "approved_on": tomorrow}),
        )
        .await;
    assert_eq!(
        (status, fields(&v)),
        (Status::UnprocessableEntity, vec!["approved_on".to_string()])
    );
    assert_eq!(
        app.post_json(&approve("7"), Some(&c.ethics), approval("CF15/2639-2015001090")).await.0,
        Status::NotFound
    );

    // Recruitment cannot open before a version is active.
    let status_path = "/api/v1/studies/study-one/status";
    assert_eq!(
        app.post_json(status_path, Some(&c.coord), json!({"status": "recruiting"})).await.0,
        Status::Conflict
    );

    let (status, v) =
        app.post_json(&approve("1"), Some(&c.ethics), approval("CF15/2639-2015001090")).await;
    assert_eq!((status, v["state"].as_str()), (Status::Ok, Some("active")), "{v}");
    assert_eq!(v["approval_reference"], "CF15/2639-2015001090");
    assert_eq!(
        app.post_json(&approve("1"), Some(&c.ethics), approval("CF15/2639-2015001090")).await.0,
        Status::Conflict
    );
    let (status, v) =
        app.post_json(status_path, Some(&c.coord), json!({"status": "recruiting"})).await;
    assert_eq!((status, v["status"].as_str()), (Status::Ok, Some("recruiting")), "{v}");

    // A new version supersedes the old one; both stay on record.
    app.post_json(FORMS, Some(&c.coord), form("1.1", "Amended statement")).await;
    app.post_json(&approve("1.1"), Some(&c.ethics), approval("CF15/2639-2015001090")).await;
    let (_, list) = app.get_json(FORMS, Some(&c.ethics)).await;
    let states: Vec<_> = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| (f["version"].as_str().unwrap_or(""), f["state"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(states, [("1", "superseded"), ("1.1", "active")]);

    let (_, log) = app.get_json("/api/v1/audit?study=study-one", Some(&c.ethics)).await;
    let approvals: Vec<_> = log["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["action"] == "consent_form.approved")
        .collect();
    assert_eq!(approvals.len(), 2);
    assert_eq!(approvals[1]["details"]["superseded_version"], "1");
    assert_eq!(approvals[1]["details"]["form_hash"].as_str().map(str::len), Some(64));
});

db_test!(no_approval_after_expiry, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    let ethics = app.staff("eth@example.org", "ethics_officer").await;
    app.post_json("/api/v1/studies", Some(&coord), study_body("old-study", -400, -1)).await;
    app.post_json("/api/v1/studies/old-study/consent-forms", Some(&coord), form("1", "Text")).await;
    let (status, v) = app
        .post_json(
            "/api/v1/studies/old-study/consent-forms/1/approve",
            Some(&ethics),
            json!({"approval_reference": "CF15/2639-2015001090", "approved_on": (chrono::Utc::now().date_naive() - chrono::Duration::days(5)).to_string()}),
        )
        .await;
    assert_eq!(status, Status::Gone, "{v}");
});

db_test!(text_the_pdf_fonts_cannot_print_is_refused_when_drafted, |app| {
    let c = cast(&app).await;
    // DejaVu Sans draws Latin, Greek, Cyrillic and Vietnamese, not CJK ideographs.
    let (status, v) = app
        .post_json(
            FORMS,
            Some(&c.coord),
            form("1", "## Déclaration\nΕνημέρωση, Информация, 研究说明"),
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity, "{v}");
    assert_eq!(fields(&v), ["body_markdown"], "{v}");
    let message = v["error"]["fields"]["body_markdown"][0].as_str().unwrap_or_default();
    assert!(message.contains("研 (U+7814)") && message.contains("说 (U+8BF4)"), "{message}");
    assert!(!message.contains('Ε') && !message.contains('И'), "only what cannot print: {message}");
    let (_, list) = app.get_json(FORMS, Some(&c.coord)).await;
    assert_eq!(list.as_array().map(Vec::len), Some(0), "nothing was drafted");
    let (status, v) = app
        .post_json(
            FORMS,
            Some(&c.coord),
            form("1", "## Déclaration\nΕνημέρωση, Информация, Tiếng Việt"),
        )
        .await;
    assert_eq!(status, Status::Created, "{v}");
});
