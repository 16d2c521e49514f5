//! A study's approval history: amendments recorded by hand or by approving a consent
//! form under a new reference, renewals that move the expiry, each audited and
//! visible, and the reference a version was approved under carried to what
//! participants sign.

use rocket::http::Status;
use serde_json::{Value, json};

use super::consent_flow::{invite, recruiting_study, signing};
use super::helpers::{TestApp, fields, study_body};

const STUDY: &str = "/api/v1/studies/study-one";
const APPROVALS: &str = "/api/v1/studies/study-one/approvals";

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

fn days(n: i64) -> String {
    (today() + chrono::Duration::days(n)).to_string()
}

fn form(version: &str) -> Value {
    json!({
        "version": version, "language": "en-AU", "title": "Consent to take part",
        "body_markdown": format!("## Explanatory statement (v{version})\nA new site joins the study."),
        "items": [{"key": "read_statement", "text": "I have read the explanatory statement.", "required": true}],
    })
}

fn kinds_and_references(history: &Value) -> Vec<(String, String)> {
    history["approvals"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (a["kind"].as_str().unwrap_or("").into(), a["reference"].as_str().unwrap_or("").into())
        })
        .collect()
}

async fn actions(app: &TestApp, token: &str) -> Vec<String> {
    let (_, events) = app.get_json("/api/v1/audit?study=study-one", Some(token)).await;
    events["events"]
        .as_array()
        .or(events.as_array())
        .into_iter()
        .flatten()
        .map(|e| e["action"].as_str().unwrap_or("").to_string())
        .collect()
}

db_test!(a_consent_form_approved_under_a_new_reference_records_the_amendment, |app| {
    let s = recruiting_study(&app).await;
    let (status, _) =
        app.post_json(&format!("{STUDY}/consent-forms"), Some(&s.coord), form("2")).await;
    assert_eq!(status, Status::Created);
    let amendment = "CF15/2639-2015001090-A1";
    let (status, v) = app
        .post_json(
            &format!("{STUDY}/consent-forms/2/approve"),
            Some(&s.ethics),
            json!({"approval_reference": amendment, "approved_on": today().to_string()}),
        )
        .await;
    assert_eq!(status, Status::Ok, "{v}");
    assert_eq!(v["approval_reference"], amendment);

    let (status, history) = app.get_json(APPROVALS, Some(&s.fac)).await;
    assert_eq!(status, Status::Ok, "the study's staff read the history: {history}");
    assert_eq!(
        kinds_and_references(&history),
        [
            ("initial".to_string(), "CF15/2639-2015001090".to_string()),
            ("amendment".to_string(), amendment.to_string())
        ]
    );
    assert_eq!(history["approvals"][1]["summary"], "Consent form version 2");
    assert!(actions(&app, &s.ethics).await.contains(&"study.amendment_recorded".to_string()));

    // What the participant reads and signs names the amendment it runs under.
    let token = invite(&app, &s, "p1@student.example.edu").await;
    let (_, shown) = app.get_json("/api/v1/participant/consent-form", Some(&token)).await;
    assert_eq!(shown["ethics"]["reference"], amendment, "{shown}");
    let mut body = signing(&s, "Pat Example", true);
    body["version"] = json!("2");
    body["form_hash"] = shown["form_hash"].clone();
    body["items"] = json!({"read_statement": true});
    let (status, given) = app.post_json("/api/v1/participant/consent", Some(&token), body).await;
    assert_eq!(status, Status::Created, "{given}");
    assert_eq!(given["ethics_reference"], amendment);
    let (_, receipt) = app.get_json("/api/v1/participant/consent/receipt", Some(&token)).await;
    assert!(receipt.to_string().contains(amendment), "{receipt}");
});

db_test!(an_amendment_recorded_first_is_used_by_a_later_approval, |app| {
    let s = recruiting_study(&app).await;
    let amendment = json!({
        "kind": "amendment", "reference": "A2-LETTER", "approved_on": today().to_string(),
        "summary": "A second site: Clayton campus",
    });
    let (status, v) = app.post_json(APPROVALS, Some(&s.coord), amendment.clone()).await;
    assert_eq!(status, Status::Created, "a coordinator records the letter: {v}");
    let (status, v) = app.post_json(APPROVALS, Some(&s.ethics), amendment).await;
    assert_eq!((status, fields(&v)), (Status::UnprocessableEntity, vec!["reference".to_string()]));

    app.post_json(&format!("{STUDY}/consent-forms"), Some(&s.coord), form("2")).await;
    let (status, _) = app
        .post_json(
            &format!("{STUDY}/consent-forms/2/approve"),
            Some(&s.ethics),
            json!({"approval_reference": "A2-LETTER", "approved_on": today().to_string()}),
        )
        .await;
    assert_eq!(status, Status::Ok);
    let (_, history) = app.get_json(APPROVALS, Some(&s.ethics)).await;
    assert_eq!(kinds_and_references(&history).len(), 2, "no second entry: {history}");
});

db_test!(a_renewal_lifts_an_expired_study, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    let ethics = app.staff("eth@example.org", "ethics_officer").await;
    let (status, _) =
        app.post_json("/api/v1/studies", Some(&coord), study_body("study-one", -400, -1)).await;
    assert_eq!(status, Status::Created);
    let (_, study) = app.get_json(STUDY, Some(&coord)).await;
    assert_eq!(study["ethics"]["expired"], true, "{study}");

    let renewal = |expires: &str| json!({"kind": "renewal", "approved_on": today().to_string(), "expires_on": expires});
    let (status, v) = app.post_json(APPROVALS, Some(&ethics), renewal(&days(-10))).await;
    assert_eq!((status, fields(&v)), (Status::UnprocessableEntity, vec!["expires_on".to_string()]));
    let (status, v) = app.post_json(APPROVALS, Some(&ethics), renewal(&days(20))).await;
    assert_eq!(status, Status::Created, "{v}");
    assert_eq!(v["ethics"]["expires_on"], days(20));
    assert_eq!(
        (v["ethics"]["expired"].clone(), v["ethics"]["expires_soon"].clone()),
        (json!(false), json!(true))
    );
    assert_eq!(v["approvals"][1]["summary"], format!("Renewed until {}", days(20)));
    let (_, study) = app.get_json(STUDY, Some(&coord)).await;
    assert_eq!(study["ethics"]["expired"], false, "the renewal lifts the study: {study}");
    assert!(actions(&app, &ethics).await.contains(&"study.approval_renewed".to_string()));
});

db_test!(who_may_record_approvals, |app| {
    let s = recruiting_study(&app).await;
    let outsider = app.staff("other@example.org", "coordinator").await;
    let amendment = json!({
        "kind": "amendment", "reference": "A9", "approved_on": today().to_string(), "summary": "x",
    });
    assert_eq!(
        app.post_json(APPROVALS, Some(&s.fac), amendment.clone()).await.0,
        Status::Forbidden
    );
    assert_eq!(
        app.post_json(APPROVALS, Some(&outsider), amendment.clone()).await.0,
        Status::NotFound
    );
    assert_eq!(app.get_json(APPROVALS, Some(&outsider)).await.0, Status::NotFound);
    assert_eq!(app.post_json(APPROVALS, None, amendment).await.0, Status::Unauthorized);
    let renewal = json!({
        "kind": "renewal", "approved_on": today().to_string(), "expires_on": days(800),
    });
    let (status, v) = app.post_json(APPROVALS, Some(&s.coord), renewal).await;
    assert_eq!(status, Status::Forbidden, "only the committee's side moves the expiry: {v}");
    let (status, v) = app
        .post_json(
            APPROVALS,
            Some(&s.coord),
            json!({"kind": "initial", "approved_on": "2099-01-01"}),
        )
        .await;
    assert_eq!(
        (status, fields(&v)),
        (Status::UnprocessableEntity, vec!["approved_on".to_string(), "kind".to_string()])
    );
});

db_test!(the_study_page_shows_the_history_warns_and_records, |app| {
    use crate::tests::html_pages::{csrf_of, page, post_form, sign_in};
    let coord = app.staff("coord@example.org", "coordinator").await;
    app.staff("eth@example.org", "ethics_officer").await;
    let (status, _) =
        app.post_json("/api/v1/studies", Some(&coord), study_body("study-one", -300, 10)).await;
    assert_eq!(status, Status::Created);
    assert_eq!(
        sign_in(&app.client, "eth@example.org", crate::tests::helpers::PASSWORD).await,
        Status::SeeOther
    );
    let (status, html) = page(&app, "/staff/studies/study-one").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("The approval expires in 10 day(s)"), "{html}");
    assert!(html.contains("Initial approval"), "{html}");

    let body = format!(
        "csrf_token={}&kind=renewal&reference=&approved_on={}&expires_on={}&summary=",
        csrf_of(&html),
        today(),
        days(375)
    );
    let (status, to) = post_form(&app, "/staff/studies/study-one/approvals", body).await;
    assert_eq!((status, to.as_deref()), (Status::SeeOther, Some("/staff/studies/study-one")));
    let (_, html) = page(&app, "/staff/studies/study-one").await;
    assert!(html.contains(&format!("Renewed until {}", days(375))), "{html}");
    assert!(!html.contains("The approval expires in"), "no warning after the renewal: {html}");

    let refused = format!(
        "csrf_token={}&kind=amendment&reference=&approved_on={}&expires_on=&summary=",
        csrf_of(&html),
        today()
    );
    let res = app
        .client
        .post("/staff/studies/study-one/approvals")
        .header(rocket::http::ContentType::Form)
        .body(refused)
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity, "the form comes back");
    let html = res.into_string().await.unwrap_or_default();
    assert!(
        html.contains("id=\"error-field-reference-1\">Amendment reference is required"),
        "the refusal is shown beside its field: {html}"
    );
});

db_test!(an_ethics_officer_reviews_the_changes_and_approves_under_an_amendment, |app| {
    use crate::tests::html_pages::{csrf_of, page, post_form, sign_in};
    let s = recruiting_study(&app).await;
    let mut v2 = form("2");
    v2["items"] = json!([
        {"key": "read_statement", "text": "I have read the explanatory statement.", "required": true},
        {"key": "video_recording", "text": "I agree to the focus group being video-recorded.", "required": false},
    ]);
    let (status, _) = app.post_json(&format!("{STUDY}/consent-forms"), Some(&s.coord), v2).await;
    assert_eq!(status, Status::Created);
    assert_eq!(
        sign_in(&app.client, "eth@example.org", crate::tests::helpers::PASSWORD).await,
        Status::SeeOther
    );
    let (status, html) = page(&app, "/staff/studies/study-one/consent-forms/2/review").await;
    assert_eq!(status, Status::Ok, "{html}");
    assert!(html.contains("Compared with version 1"), "{html}");
    assert!(html.contains("Added: </span>A new site joins the study."), "{html}");
    assert!(html.contains("diff-removed"), "{html}");
    assert!(html.contains("video_recording</td><td>added"), "{html}");
    assert!(html.contains("audio_recording</td><td>removed"), "{html}");

    let body = format!(
        "csrf_token={}&approval_reference=CF15%2F2639-A3&approved_on={}",
        csrf_of(&html),
        today()
    );
    let (status, _) =
        post_form(&app, "/staff/studies/study-one/consent-forms/2/approve", body).await;
    assert_eq!(status, Status::SeeOther);
    let (_, history) = app.get_json(APPROVALS, Some(&s.ethics)).await;
    assert_eq!(
        kinds_and_references(&history).last(),
        Some(&("amendment".to_string(), "CF15/2639-A3".to_string())),
        "{history}"
    );
    let (_, forms) = app.get_json(&format!("{STUDY}/consent-forms/2"), Some(&s.ethics)).await;
    assert_eq!(
        (forms["state"].clone(), forms["approval_reference"].clone()),
        (json!("active"), json!("CF15/2639-A3"))
    );
});
