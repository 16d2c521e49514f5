//! `serve --demo`: the seed study, its staff of every role, its approved consent
//! form and a participant link — loaded twice without change.

use rocket::http::Status;

use crate::service::demo::{self, DEMO_LOGINS, DEMO_SLUG};

db_test!(the_demo_loads_twice_and_works, |app| {
    let first = demo::load(app.state()).await.expect("demo loads");
    let second = demo::load(app.state()).await.expect("demo loads again");
    assert_ne!(first.participant_link, second.participant_link, "a fresh link at every start");
    for login in DEMO_LOGINS {
        assert!(
            app.token(login.email, login.password).await.starts_with("cst_"),
            "{} signs in",
            login.email
        );
    }
    let coord = app.token("coordinator@demo.consentry.test", "demo-coordinator-password").await;
    let (status, studies) = app.get_json("/api/v1/studies", Some(&coord)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(studies.as_array().map(Vec::len), Some(1), "loaded once");
    assert_eq!(studies[0]["slug"], DEMO_SLUG);
    assert_eq!(studies[0]["status"], "recruiting");
    assert_eq!(studies[0]["ethics"]["reference"], "CF15/2639-2015001090");
    let (_, forms) =
        app.get_json(&format!("/api/v1/studies/{DEMO_SLUG}/consent-forms"), Some(&coord)).await;
    let texts: Vec<(&str, &str)> = forms
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| Some((f["language"].as_str()?, f["state"].as_str()?)))
        .collect();
    assert_eq!(texts, [("en-AU", "active"), ("fr", "active")], "version 1 in two languages");

    let token = second.participant_link.rsplit('/').next().unwrap_or_default().to_string();
    let (_, form) = app.get_json("/api/v1/participant/consent-form", Some(&token)).await;
    let governed: Vec<&str> = form["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["governs"].as_str())
        .collect();
    assert_eq!(governed, ["verbatim_quotes", "results_summary"], "{form}");
    let questions = form["review"]["checks"].as_array().map(Vec::len);
    assert_eq!(questions, Some(2), "two knowledge-review questions: {form}");
    let answers = serde_json::json!({
        "version": "1", "form_hash": form["form_hash"],
        "answers": {"withdraw_after_group": "It stays in the transcript but is not quoted",
                    "marks_unaffected": "No, it has no effect on them"},
    });
    let (status, review) =
        app.post_json("/api/v1/participant/consent/checks", Some(&token), answers).await;
    assert_eq!(
        (status, review["passed"].clone()),
        (Status::Ok, serde_json::json!(true)),
        "{review}"
    );
    let body = serde_json::json!({
        "version": "1", "form_hash": form["form_hash"], "read_confirmed": true,
        "items": {"read_statement": true, "take_part": true, "audio_recording": true,
                  "verbatim_quotes": true},
        "signature": {"typed_name": "Demo Participant"},
    });
    let (status, v) = app.post_json("/api/v1/participant/consent", Some(&token), body).await;
    assert_eq!(status, Status::Created, "{v}");
    assert_eq!(v["participant_code"], "P004", "three demo participants signed before");
    // Later, no longer to be quoted: a second signed record, both listed.
    let change = serde_json::json!({"items": {}, "signature": {"typed_name": "Demo Participant"}});
    let (status, v) =
        app.post_json("/api/v1/participant/consent/choices", Some(&token), change).await;
    assert_eq!(status, Status::Created, "{v}");
    let (_, mine) = app.get_json("/api/v1/participant/consents", Some(&token)).await;
    assert_eq!(mine.as_array().map(Vec::len), Some(2), "{mine}");
    let ethics = app.token("ethics@demo.consentry.test", "demo-ethics-password").await;
    let (_, register) =
        app.get_json(&format!("/api/v1/studies/{DEMO_SLUG}/consents"), Some(&ethics)).await;
    assert_eq!(register.as_array().map(Vec::len), Some(5), "four consents and one change");
    let (_, report) =
        app.get_json(&format!("/api/v1/studies/{DEMO_SLUG}/report"), Some(&coord)).await;
    let rates = &report["understanding"][0]["rates"];
    assert_eq!(rates[0]["answered"], 4, "{report}");
    assert_eq!(rates[0]["first_try_correct"], 3, "one demo participant slipped once");
    assert_eq!(rates[1]["first_try_correct"], 4);
    let (_, instruments) =
        app.get_json(&format!("/api/v1/studies/{DEMO_SLUG}/instruments"), Some(&coord)).await;
    let keys: Vec<&str> =
        instruments.as_array().into_iter().flatten().filter_map(|i| i["key"].as_str()).collect();
    assert_eq!(keys, ["screening-medical-students", "demographics", "platform-usage"]);
    let (_, ads) = app.get_json(&format!("/api/v1/studies/{DEMO_SLUG}/ads"), Some(&coord)).await;
    assert_eq!(ads[0]["code"], "moodle-mbbs");
    assert_eq!(ads[0]["funnel"]["screened"], 4);
    assert_eq!(ads[0]["funnel"]["eligible"], 3);
    let (_, strata) =
        app.get_json(&format!("/api/v1/studies/{DEMO_SLUG}/strata"), Some(&coord)).await;
    assert_eq!(strata.as_array().map(Vec::len), Some(2));
    let (status, mine) = app.get_json("/api/v1/participant/questionnaires", Some(&token)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(mine.as_array().map(Vec::len), Some(2), "{mine}");
    let admin = app.token("admin@demo.consentry.test", "demo-admin-password").await;
    assert_eq!(app.get_json("/api/v1/audit/verify", Some(&admin)).await.1["ok"], true);
});
