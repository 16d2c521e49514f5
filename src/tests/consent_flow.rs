//! Written informed consent through the JSON API: invitation, signing, the signed
//! PDF, receipt, register, withdrawal, re-consent and verification.

use rocket::http::Status;
use serde_json::{Value, json};

use super::helpers::{TestApp, fields};
use crate::domain::audit::sha256_hex;

const REF: &str = "CF15/2639-2015001090";
pub(super) const STUDY: &str = "/api/v1/studies/study-one";

pub(super) struct Study {
    pub(super) coord: String,
    pub(super) ethics: String,
    pub(super) fac: String,
    pub(super) form_hash: String,
}

fn form(version: &str) -> Value {
    json!({
        "version": version, "language": "en-AU", "title": "Consent to take part",
        "body_markdown": format!("## Explanatory statement (v{version})\nThis study explores how students use social media."),
        "items": [
            {"key": "read_statement", "text": "I have read the explanatory statement.", "required": true},
            {"key": "audio_recording", "text": "I agree to the focus group being audio-recorded.", "required": true},
            {"key": "verbatim_quotes", "text": "I agree to be quoted verbatim without my name.", "required": false},
        ],
    })
}

async fn approve(app: &TestApp, s: &Study, version: &str) -> String {
    let (_, v) =
        app.post_json(&format!("{STUDY}/consent-forms"), Some(&s.coord), form(version)).await;
    let today = chrono::Utc::now().date_naive().to_string();
    let (status, _) = app
        .post_json(
            &format!("{STUDY}/consent-forms/{version}/approve"),
            Some(&s.ethics),
            json!({"approval_reference": REF, "approved_on": today}),
        )
        .await;
    assert_eq!(status, Status::Ok);
    v["form_hash"].as_str().unwrap_or_default().to_string()
}

pub(super) async fn recruiting_study(app: &TestApp) -> Study {
    let coord = app.staff("coord@example.org", "coordinator").await;
    let ethics = app.staff("eth@example.org", "ethics_officer").await;
    let fac = app.staff("fac@example.org", "facilitator").await;
    app.create_study(&coord, "study-one").await;
    app.post_json(
        &format!("{STUDY}/staff"),
        Some(&coord),
        json!({"email": "fac@example.org", "role": "facilitator"}),
    )
    .await;
    let mut s = Study { coord, ethics, fac, form_hash: String::new() };
    s.form_hash = approve(app, &s, "1").await;
    let (status, _) = app
        .post_json(&format!("{STUDY}/status"), Some(&s.coord), json!({"status": "recruiting"}))
        .await;
    assert_eq!(status, Status::Ok);
    s
}

pub(super) async fn invite(app: &TestApp, s: &Study, email: &str) -> String {
    let (status, v) = app
        .post_json(
            &format!("{STUDY}/participants"),
            Some(&s.coord),
            json!({"name": "Zoë O’Brien-Nguyễn", "email": email}),
        )
        .await;
    assert_eq!(status, Status::Created, "{v}");
    v["participant_token"].as_str().unwrap_or_default().to_string()
}

pub(super) fn signing(s: &Study, name: &str, quotes: bool) -> Value {
    json!({
        "version": "1", "form_hash": s.form_hash, "read_confirmed": true,
        "items": {"read_statement": true, "audio_recording": true, "verbatim_quotes": quotes},
        "signature": {"typed_name": name},
    })
}

db_test!(invitations, |app| {
    let s = recruiting_study(&app).await;
    let outsider = app.staff("other@example.org", "coordinator").await;
    let path = format!("{STUDY}/participants");
    let (status, v) = app
        .post_json(
            &path,
            Some(&s.coord),
            json!({"name": "Sam", "email": "sam@student.example.edu"}),
        )
        .await;
    assert_eq!(status, Status::Created);
    let token = v["participant_token"].as_str().unwrap_or_default().to_string();
    assert!(token.starts_with("cpt_") && token.len() >= 4 + 32);
    assert_eq!(v["portal_url"].as_str(), Some(format!("http://consentry.test/p/{token}").as_str()));
    assert_eq!(v["sent"], true);

    let (status, again) = app
        .post_json(
            &path,
            Some(&s.coord),
            json!({"name": "Sam", "email": "SAM@student.example.edu"}),
        )
        .await;
    assert_eq!(
        (status, &again),
        (Status::Accepted, &json!({"sent": true})),
        "the same address is the same participant, and its coordinator gets no link"
    );
    assert_eq!(
        app.get_json("/api/v1/participant", Some(&token)).await.0,
        Status::Ok,
        "the link they hold keeps working"
    );
    assert_eq!(
        crate::store::testing::scalar(
            &app.db,
            "SELECT COUNT(*) FROM outbox WHERE kind = 'new_link' AND to_address = 'sam@student.example.edu'"
        )
        .await,
        1,
        "a new link is mailed to the address on record"
    );

    assert_eq!(
        app.post_json(&path, Some(&s.fac), json!({"name": "A", "email": "a@b.org"})).await.0,
        Status::Forbidden
    );
    assert_eq!(
        app.post_json(&path, Some(&outsider), json!({"name": "A", "email": "a@b.org"})).await.0,
        Status::NotFound
    );
    let (status, v) =
        app.post_json(&path, Some(&s.coord), json!({"name": "", "email": "nope"})).await;
    assert_eq!(
        (status, fields(&v)),
        (Status::UnprocessableEntity, vec!["email".to_string(), "name".to_string()])
    );
    // Tokens do not cross over.
    assert_eq!(app.get_json("/api/v1/participant", Some(&s.coord)).await.0, Status::Unauthorized);
    assert_eq!(app.get_json("/api/v1/studies", Some(&token)).await.0, Status::Unauthorized);
    let log = app
        .get_json("/api/v1/audit?study=study-one&limit=1000", Some(&s.ethics))
        .await
        .1
        .to_string();
    assert!(
        !log.contains("sam@student.example.edu") && !log.contains("Sam\""),
        "no contact details in the audit log"
    );
});

db_test!(signing_the_consent, |app| {
    let s = recruiting_study(&app).await;
    let p = invite(&app, &s, "p1@student.example.edu").await;

    let (status, portal) = app.get_json("/api/v1/participant", Some(&p)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        (portal["status"].as_str(), portal["study"]["ethics"]["reference"].as_str()),
        (Some("invited"), Some(REF))
    );
    assert_eq!(portal["next_steps"], json!([{"step": "consent", "state": "todo", "version": "1"}]));
    let (_, f) = app.get_json("/api/v1/participant/consent-form", Some(&p)).await;
    assert_eq!(
        (f["form_hash"].as_str(), f["ethics"]["reference"].as_str()),
        (Some(s.form_hash.as_str()), Some(REF))
    );

    let mut missing = signing(&s, "Zoë O’Brien-Nguyễn", false);
    missing["items"]["audio_recording"] = json!(false);
    missing["read_confirmed"] = json!(false);
    let (status, v) = app.post_json("/api/v1/participant/consent", Some(&p), missing).await;
    assert_eq!(
        (status, fields(&v)),
        (
            Status::UnprocessableEntity,
            vec!["items.audio_recording".to_string(), "read_confirmed".to_string()]
        )
    );
    let mut stale = signing(&s, "Zoë O’Brien-Nguyễn", false);
    stale["form_hash"] = json!("0".repeat(64));
    assert_eq!(
        app.post_json("/api/v1/participant/consent", Some(&p), stale).await.0,
        Status::Conflict
    );
    assert_eq!(
        app.get_json("/api/v1/participant/consent.pdf", Some(&p)).await.0,
        Status::NotFound,
        "no PDF before consent"
    );

    let (status, given) = app
        .post_json(
            "/api/v1/participant/consent",
            Some(&p),
            signing(&s, "Zoë O’Brien-Nguyễn", false),
        )
        .await;
    assert_eq!(status, Status::Created, "{given}");
    assert_eq!(
        (given["participant_code"].as_str(), given["ethics_reference"].as_str()),
        (Some("P001"), Some(REF))
    );
    assert_eq!(given["receipt"]["items"][2]["state"], "not_given");
    let (status, _, pdf) = app.get_bytes("/api/v1/participant/consent.pdf", &p).await;
    assert_eq!(status, Status::Ok);
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(
        given["pdf_sha256"].as_str(),
        Some(sha256_hex(&pdf).as_str()),
        "byte-identical to the PDF hashed at signing"
    );

    // A retry of the same consent is safe; a different one is refused.
    let (status, retry) = app
        .post_json(
            "/api/v1/participant/consent",
            Some(&p),
            signing(&s, "Zoë O’Brien-Nguyễn", false),
        )
        .await;
    assert_eq!((status, retry["consent_id"].clone()), (Status::Ok, given["consent_id"].clone()));
    assert_eq!(
        app.post_json("/api/v1/participant/consent", Some(&p), signing(&s, "Zoe", true)).await.0,
        Status::Conflict
    );

    let (status, receipt) = app.get_json("/api/v1/participant/consent/receipt", Some(&p)).await;
    assert_eq!(status, Status::Ok);
    for key in [
        "record_id",
        "subject",
        "controller",
        "purposes",
        "notice",
        "items",
        "timestamp",
        "method",
        "jurisdiction",
        "withdrawal",
    ] {
        assert!(!receipt[key].is_null(), "receipt lacks {key}: {receipt}");
    }
    assert_eq!(receipt["notice"]["sha256"].as_str(), Some(s.form_hash.as_str()));

    let second = invite(&app, &s, "p2@student.example.edu").await;
    let (_, v) = app
        .post_json("/api/v1/participant/consent", Some(&second), signing(&s, "Second Person", true))
        .await;
    assert_eq!(v["participant_code"], "P002");
    let (_, portal) = app.get_json("/api/v1/participant", Some(&p)).await;
    assert_eq!(
        (portal["status"].as_str(), portal["code"].as_str()),
        (Some("consented"), Some("P001"))
    );
});

db_test!(the_register_and_staff_copies, |app| {
    let s = recruiting_study(&app).await;
    let p = invite(&app, &s, "p1@student.example.edu").await;
    let (_, given) = app
        .post_json("/api/v1/participant/consent", Some(&p), signing(&s, "Pat Example", true))
        .await;
    let path = format!("{STUDY}/consents");
    assert_eq!(app.get_json(&path, Some(&s.fac)).await.0, Status::Forbidden);
    assert_eq!(app.get_json(&path, Some(&p)).await.0, Status::Unauthorized);
    let (status, reg) = app.get_json(&path, Some(&s.ethics)).await;
    assert_eq!(status, Status::Ok);
    let entry = &reg[0];
    assert_eq!(
        (
            entry["participant_code"].as_str(),
            entry["version"].as_str(),
            entry["typed_name"].as_str()
        ),
        (Some("P001"), Some("1"), Some("Pat Example"))
    );
    assert_eq!(entry["items"]["verbatim_quotes"], true);
    assert_eq!(entry["pdf_sha256"], given["pdf_sha256"]);
    let (status, _, pdf) =
        app.get_bytes(entry["pdf_url"].as_str().unwrap_or_default(), &s.coord).await;
    assert_eq!(
        (status, sha256_hex(&pdf)),
        (Status::Ok, given["pdf_sha256"].as_str().unwrap_or_default().to_string())
    );
    assert_eq!(
        app.get_bytes(&format!("{STUDY}/consents/999/pdf"), &s.coord).await.0,
        Status::NotFound
    );

    let (_, log) = app.get_json("/api/v1/audit?study=study-one&limit=1000", Some(&s.ethics)).await;
    let actions: Vec<_> = log["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"consent.register_viewed") && actions.contains(&"consent.pdf_viewed"),
        "{actions:?}"
    );
    let given_event = log["events"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["action"] == "consent.given")
        .cloned()
        .unwrap_or_default();
    assert_eq!(given_event["details"]["pdf_sha256"], given["pdf_sha256"]);
    assert_eq!(given_event["details"]["record_sha256"], given["record_sha256"]);
    assert!(!log.to_string().contains("Pat Example"), "no names in the audit log");
});

db_test!(withdrawal_keeps_the_record, |app| {
    let s = recruiting_study(&app).await;
    let p = invite(&app, &s, "p1@student.example.edu").await;
    app.post_json("/api/v1/participant/consent", Some(&p), signing(&s, "Pat Example", true)).await;
    let (status, v) = app
        .post_json("/api/v1/participant/withdraw", Some(&p), json!({"scope": "everything"}))
        .await;
    assert_eq!((status, fields(&v)), (Status::UnprocessableEntity, vec!["scope".to_string()]));
    let (status, v) = app
        .post_json(
            "/api/v1/participant/withdraw",
            Some(&p),
            json!({"scope": "withdraw_data", "reason": "Changed my mind"}),
        )
        .await;
    assert_eq!(
        (status, v["status"].as_str(), v["scope"].as_str()),
        (Status::Ok, Some("withdrawn"), Some("withdraw_data"))
    );
    assert_eq!(
        app.post_json("/api/v1/participant/withdraw", Some(&p), json!({"scope": "future_only"}))
            .await
            .0,
        Status::Conflict
    );
    assert_eq!(
        app.post_json("/api/v1/participant/consent", Some(&p), signing(&s, "Pat Example", true))
            .await
            .0,
        Status::Conflict
    );
    let (_, reg) = app.get_json(&format!("{STUDY}/consents"), Some(&s.ethics)).await;
    assert_eq!(reg.as_array().map(Vec::len), Some(1), "the consent record stays");
    assert_eq!(reg[0]["withdrawal"]["scope"], "withdraw_data");
    let (_, receipt) = app.get_json("/api/v1/participant/consent/receipt", Some(&p)).await;
    assert_eq!(receipt["state"], "withdrawn");
    let (_, portal) = app.get_json("/api/v1/participant", Some(&p)).await;
    assert_eq!(
        (portal["status"].as_str(), portal["next_steps"].as_array().map(Vec::len)),
        (Some("withdrawn"), Some(0))
    );
    let log = app
        .get_json("/api/v1/audit?study=study-one&limit=1000", Some(&s.ethics))
        .await
        .1
        .to_string();
    assert!(log.contains("participant.withdrew") && !log.contains("Changed my mind"));
});

db_test!(when_consent_cannot_be_given, |app| {
    let s = recruiting_study(&app).await;
    let p = invite(&app, &s, "p1@student.example.edu").await;
    app.post_json(&format!("{STUDY}/status"), Some(&s.coord), json!({"status": "paused"})).await;
    let q = invite(&app, &s, "p2@student.example.edu").await;
    assert_eq!(
        app.post_json("/api/v1/participant/consent", Some(&q), signing(&s, "Quinn", true)).await.0,
        Status::Created,
        "paused still takes consent"
    );
    app.post_json(&format!("{STUDY}/status"), Some(&s.ethics), json!({"status": "suspended"}))
        .await;
    assert_eq!(
        app.post_json("/api/v1/participant/consent", Some(&p), signing(&s, "Pat", true)).await.0,
        Status::Gone
    );
    app.post_json(&format!("{STUDY}/status"), Some(&s.coord), json!({"status": "closed"})).await;
    assert_eq!(
        app.post_json("/api/v1/participant/consent", Some(&p), signing(&s, "Pat", true)).await.0,
        Status::Gone
    );
});

db_test!(reconsent_to_a_new_version, |app| {
    let s = recruiting_study(&app).await;
    let p = invite(&app, &s, "p1@student.example.edu").await;
    app.post_json("/api/v1/participant/consent", Some(&p), signing(&s, "Pat Example", false)).await;
    let v2 = approve(&app, &s, "2").await;
    let (status, due) = app.get_json(&format!("{STUDY}/reconsent"), Some(&s.ethics)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(due[0]["participant_code"], "P001");
    assert_eq!(
        (due[0]["signed_version"].as_str(), due[0]["active_version"].as_str()),
        (Some("1"), Some("2"))
    );
    assert_eq!(
        app.get_json(&format!("{STUDY}/reconsent"), Some(&s.fac)).await.0,
        Status::Forbidden
    );
    let (_, portal) = app.get_json("/api/v1/participant", Some(&p)).await;
    assert_eq!(
        portal["next_steps"][1],
        json!({"step": "reconsent", "state": "todo", "version": "2"})
    );
    assert_eq!(
        app.post_json("/api/v1/participant/consent", Some(&p), signing(&s, "Pat Example", false))
            .await
            .0,
        Status::Conflict,
        "v1 is superseded"
    );
    let mut again = signing(&s, "Pat Example", true);
    again["version"] = json!("2");
    again["form_hash"] = json!(v2);
    let (status, v) = app.post_json("/api/v1/participant/consent", Some(&p), again).await;
    assert_eq!(
        (status, v["participant_code"].as_str(), v["version"].as_str()),
        (Status::Created, Some("P001"), Some("2"))
    );
    let (_, reg) = app.get_json(&format!("{STUDY}/consents"), Some(&s.coord)).await;
    let versions: Vec<_> =
        reg.as_array().into_iter().flatten().filter_map(|e| e["version"].as_str()).collect();
    assert_eq!(versions, ["1", "2"], "both consents stay on record");
    assert_eq!(
        app.get_json(&format!("{STUDY}/reconsent"), Some(&s.coord)).await.1,
        json!([]),
        "nobody is due any more"
    );
});

db_test!(altered_consents_are_found, |app| {
    let s = recruiting_study(&app).await;
    for i in 0..2 {
        let p = invite(&app, &s, &format!("p{i}@student.example.edu")).await;
        app.post_json("/api/v1/participant/consent", Some(&p), signing(&s, "Pat Example", true))
            .await;
    }
    let (_, v) = app.get_json("/api/v1/audit/verify", Some(&s.ethics)).await;
    assert_eq!(v["ok"], true, "{v}");

    crate::store::testing::try_execute(&app.db, "UPDATE consents SET record_json = REPLACE(record_json, '\"agreed\":true', '\"agreed\":false') WHERE id = 2")
        .await
        .expect("tamper");
    let (_, v) = app.get_json("/api/v1/audit/verify", Some(&s.ethics)).await;
    assert_eq!(
        (v["ok"].as_bool(), v["chain"].as_str()),
        (Some(false), Some("study:study-one")),
        "{v}"
    );
    assert!(v["reason"].as_str().unwrap_or("").contains("consent 2's record"), "{v}");
    let seq = v["first_bad_seq"].as_i64().unwrap_or(0);
    let (_, log) = app
        .get_json(
            &format!("/api/v1/audit?study=study-one&after={}&limit=1", seq - 1),
            Some(&s.ethics),
        )
        .await;
    assert_eq!(
        (log["events"][0]["action"].as_str(), log["events"][0]["entity_id"].as_str()),
        (Some("consent.given"), Some("2"))
    );
});

db_test!(codes_have_no_gaps_under_concurrent_consents, |app| {
    let s = recruiting_study(&app).await;
    let mut tokens = Vec::new();
    for i in 0..8 {
        tokens.push(invite(&app, &s, &format!("p{i}@student.example.edu")).await);
    }
    let signings = tokens.iter().map(|t| {
        let app = &app;
        let body = signing(&s, "Pat Example", true);
        async move { app.post_json("/api/v1/participant/consent", Some(t), body).await }
    });
    let results = crate::tests::helpers::join_all(signings).await;
    let mut codes: Vec<String> = results
        .iter()
        .map(|(status, v)| {
            assert_eq!(*status, Status::Created, "{v}");
            v["participant_code"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    codes.sort();
    let expected: Vec<String> = (1..=8).map(|n| format!("P{n:03}")).collect();
    assert_eq!(codes, expected);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_altered_pdf_is_found() {
    let app = TestApp::spawn(super::helpers::Backend::Sqlite, &[]).await.expect("app");
    let s = recruiting_study(&app).await;
    let p = invite(&app, &s, "p1@student.example.edu").await;
    app.post_json("/api/v1/participant/consent", Some(&p), signing(&s, "Pat Example", true)).await;
    crate::store::testing::try_execute(
        &app.db,
        "UPDATE consents SET pdf = X'255044462D' WHERE id = 1",
    )
    .await
    .expect("tamper");
    let (_, v) = app.get_json("/api/v1/audit/verify", Some(&s.ethics)).await;
    assert_eq!(v["ok"], false);
    assert!(v["reason"].as_str().unwrap_or("").contains("PDF"), "{v}");
}
