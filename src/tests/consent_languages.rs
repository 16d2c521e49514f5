//! Consent in several languages: one text per language of a version, each approved
//! on its own and asking the same things; the participant reads the language their
//! browser asks for (or the one they pick), and signs the version in it — the
//! record, receipt and PDF in that language, re-consent per version.

use rocket::http::{Header, Status};
use serde_json::{Value, json};

use super::consent_flow::{Study, invite, recruiting_study, signing};
use super::helpers::{TestApp, fields};
use super::html_pages::page;

const STUDY: &str = "/api/v1/studies/study-one";
const REF: &str = "CF15/2639-2015001090";
const FRENCH: &str = "Cette étude porte sur l’usage des réseaux sociaux par les étudiants.";

fn french(items: Value) -> Value {
    json!({"version": "1", "language": "fr", "title": "Consentement à participer",
           "body_markdown": format!("## Note d’information\n{FRENCH}"),
           "items": items})
}

fn french_items() -> Value {
    json!([
        {"key": "read_statement", "text": "J’ai lu la note d’information.", "required": true},
        {"key": "audio_recording", "text": "J’accepte l’enregistrement audio du groupe.", "required": true},
        {"key": "verbatim_quotes", "text": "J’accepte d’être cité mot pour mot, sans mon nom.", "required": false},
    ])
}

async fn approve(
    app: &TestApp,
    s: &Study,
    version: &str,
    language: Option<&str>,
) -> (Status, Value) {
    let today = chrono::Utc::now().date_naive().to_string();
    app.post_json(
        &format!("{STUDY}/consent-forms/{version}/approve"),
        Some(&s.ethics),
        json!({"approval_reference": REF, "approved_on": today, "language": language}),
    )
    .await
}

/// The participant's form as their browser asks for it.
async fn form_for(app: &TestApp, token: &str, query: &str, accept: &str) -> Value {
    let res = app
        .client
        .get(format!("/api/v1/participant/consent-form{query}"))
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .header(Header::new("Accept-Language", accept.to_string()))
        .dispatch()
        .await;
    serde_json::from_str(&res.into_string().await.unwrap_or_default()).unwrap_or_default()
}

/// Version 1 in English (approved by `recruiting_study`) and in French, approved.
async fn in_two_languages(app: &TestApp) -> (Study, String) {
    let s = recruiting_study(app).await;
    let forms = format!("{STUDY}/consent-forms");
    let (status, v) = app.post_json(&forms, Some(&s.coord), french(french_items())).await;
    assert_eq!(status, Status::Created, "{v}");
    let (status, v) = approve(app, &s, "1", None).await;
    assert_eq!(status, Status::Ok, "the only draft of version 1 is approved: {v}");
    assert_eq!(v["language"], "fr");
    let hash = v["form_hash"].as_str().unwrap_or_default().to_string();
    (s, hash)
}

db_test!(a_translation_asks_the_same_things_in_other_words, |app| {
    let s = recruiting_study(&app).await;
    let forms = format!("{STUDY}/consent-forms");
    let fewer = json!([{"key": "read_statement", "text": "J’ai lu la note.", "required": true}]);
    let (status, v) = app.post_json(&forms, Some(&s.coord), french(fewer)).await;
    assert_eq!(status, Status::UnprocessableEntity, "{v}");
    assert_eq!(fields(&v), ["items"], "{v}");
    let (status, v) = app.post_json(&forms, Some(&s.coord), french(french_items())).await;
    assert_eq!(status, Status::Created, "{v}");
    let (status, v) = app.post_json(&forms, Some(&s.coord), french(french_items())).await;
    assert_eq!(status, Status::Conflict, "one text per language: {v}");
    let (_, list) = app.get_json(&forms, Some(&s.coord)).await;
    let texts: Vec<(&str, &str)> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| Some((f["language"].as_str()?, f["state"].as_str()?)))
        .collect();
    assert_eq!(texts, [("en-AU", "active"), ("fr", "draft")]);
    let (_, fr) = app.get_json(&format!("{forms}/1?language=fr"), Some(&s.coord)).await;
    assert_eq!(fr["title"], "Consentement à participer", "{fr}");
    let (status, v) = approve(&app, &s, "1", Some("fr")).await;
    assert_eq!(status, Status::Ok, "{v}");
    let (_, list) = app.get_json(&forms, Some(&s.coord)).await;
    let states: Vec<&str> =
        list.as_array().into_iter().flatten().filter_map(|f| f["state"].as_str()).collect();
    assert_eq!(states, ["active", "active"], "a translation joins the version in force");

    // A new version supersedes every language of the old one, which can no longer
    // be translated.
    let v2 = json!({"version": "2", "language": "en-AU", "title": "Consent", "body_markdown": "## Statement\nNew.",
                    "items": [{"key": "read_statement", "text": "I have read it.", "required": true}]});
    let (status, v) = app.post_json(&forms, Some(&s.coord), v2).await;
    assert_eq!(status, Status::Created, "{v}");
    assert_eq!(approve(&app, &s, "2", None).await.0, Status::Ok);
    let (_, list) = app.get_json(&forms, Some(&s.coord)).await;
    let states: Vec<&str> =
        list.as_array().into_iter().flatten().filter_map(|f| f["state"].as_str()).collect();
    assert_eq!(states, ["superseded", "superseded", "active"]);
    let mut german = french(french_items());
    german["language"] = json!("de");
    let (status, v) = app.post_json(&forms, Some(&s.coord), german).await;
    assert_eq!(status, Status::Conflict, "{v}");
});

db_test!(the_participant_reads_and_signs_in_their_language, |app| {
    let (s, fr_hash) = in_two_languages(&app).await;
    let token = invite(&app, &s, "p@example.org").await;
    let shown = form_for(&app, &token, "", "fr-CA, en;q=0.5").await;
    assert_eq!(shown["language"], "fr", "{shown}");
    assert_eq!(shown["languages"], json!(["en-AU", "fr"]));
    assert!(shown["body_markdown"].as_str().unwrap_or_default().contains(FRENCH));
    let picked = form_for(&app, &token, "?language=en-AU", "fr").await;
    assert_eq!(picked["language"], "en-AU", "the choice wins over the browser");
    assert_eq!(form_for(&app, &token, "", "de").await["language"], "en-AU", "else the first");

    let mut body = signing(&s, "Zoé Étudiante", true);
    body["form_hash"] = json!(fr_hash);
    let (status, given) = app.post_json("/api/v1/participant/consent", Some(&token), body).await;
    assert_eq!(status, Status::Created, "{given}");
    assert_eq!(given["receipt"]["notice"]["language"], "fr", "{given}");
    assert_eq!(given["receipt"]["items"][0]["text"], "J’ai lu la note d’information.");
    let (_, _, pdf) = app.get_bytes("/api/v1/participant/consent.pdf", &token).await;
    let doc =
        printpdf::PdfDocument::parse(&pdf, &printpdf::PdfParseOptions::default(), &mut vec![])
            .unwrap_or_else(|e| panic!("{e}"));
    let text = doc.extract_text().into_iter().flatten().collect::<Vec<_>>().join(" ");
    for expected in [
        "Consentement à participer",
        "Note d’information",
        "J’accepte l’enregistrement",
        "Language signed",
    ] {
        assert!(text.contains(expected), "{expected} not on the PDF: {text}");
    }

    // Consent is to the version: the English text of it is not signed again.
    let (status, v) =
        app.post_json("/api/v1/participant/consent", Some(&token), signing(&s, "Zoé", true)).await;
    assert_eq!(status, Status::Conflict, "{v}");
    let (_, register) = app.get_json(&format!("{STUDY}/consents"), Some(&s.coord)).await;
    assert_eq!(register[0]["language"], "fr", "the register says the language signed: {register}");
    let (_, due) = app.get_json(&format!("{STUDY}/reconsent"), Some(&s.coord)).await;
    assert_eq!(due.as_array().map(Vec::len), Some(0), "nobody to ask again: {due}");

    // A change of choices is signed in the language of the text it amends.
    let change = json!({"items": {}, "signature": {"typed_name": "Zoé Étudiante"}});
    let (status, v) =
        app.post_json("/api/v1/participant/consent/choices", Some(&token), change).await;
    assert_eq!(status, Status::Created, "{v}");
    assert_eq!(v["receipt"]["notice"]["language"], "fr");
});

db_test!(the_consent_page_offers_each_language_without_javascript, |app| {
    let (s, _) = in_two_languages(&app).await;
    let token = invite(&app, &s, "p@example.org").await;
    app.client.get(format!("/p/{token}")).dispatch().await;
    let res = app
        .client
        .get("/participant/consent")
        .header(Header::new("Accept-Language", "fr"))
        .dispatch()
        .await;
    let html = res.into_string().await.unwrap_or_default();
    assert!(
        html.contains(FRENCH.replace('’', "&#x27;").as_str()) || html.contains(FRENCH),
        "{html}"
    );
    assert!(html.contains("lang=\"fr\""), "the text says its language: {html}");
    assert!(html.contains("href=\"?language=en-AU\"") && html.contains(">English</a>"), "{html}");
    let (_, html) = page(&app, "/participant/consent?language=en-AU").await;
    assert!(html.contains("This study explores how students use social media."), "{html}");
    assert!(html.contains("name=\"language\" value=\"en-AU\""));
    let (_, html) = page(&app, "/participant/consent").await;
    assert!(html.contains("This study explores"), "the choice is remembered: {html}");
});

db_test!(
    questionnaires_speak_the_language_of_the_consent,
    ["forms_dir" => serde_json::json!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/tests/fixtures/translated"))],
    |app| {
        let (s, fr_hash) = in_two_languages(&app).await;
        let (status, v) = app
            .post_json(
                &format!("{STUDY}/instruments"),
                Some(&s.coord),
                json!({"key": "about-you", "version": 1, "stage": "after_consent"}),
            )
            .await;
        assert_eq!(status, Status::Created, "{v}");
        for (email, hash, expected, other) in [
            ("fr@example.org", Some(fr_hash.as_str()), "Quel est votre genre ?", "What is your gender?"),
            ("en@example.org", None, "What is your gender?", "Quel est votre genre"),
        ] {
            let token = invite(&app, &s, email).await;
            let mut body = signing(&s, "Sam", false);
            if let Some(h) = hash {
                body["form_hash"] = json!(h);
            }
            let (status, v) = app.post_json("/api/v1/participant/consent", Some(&token), body).await;
            assert_eq!(status, Status::Created, "{v}");
            app.client.get(format!("/p/{token}")).dispatch().await;
            let (status, html) = page(&app, "/participant/questionnaires/about-you").await;
            assert_eq!(status, Status::Ok, "{html}");
            assert!(html.contains(expected) && !html.contains(other), "{email}: {html}");
            if hash.is_some() {
                assert!(html.contains("lang=\"fr\"") && html.contains("Femme"), "{html}");
                assert!(html.contains("Another word"), "an untranslated choice keeps its words");
            }
        }
    }
);
