//! Knowledge review: questions on the statement that a participant answers
//! correctly before signing — part of the approved version, every answer kept, the
//! outcome in the signed record and on the PDF, the first-try rates for the
//! committee and the report, and a limit of tries that sends the participant to
//! the researchers.

use rocket::http::Status;
use serde_json::{Value, json};

use super::consent_flow::{Study, invite, recruiting_study};
use super::helpers::{PASSWORD, TestApp, fields};
use super::html_pages::{csrf_of, page, post_form, sign_in};
use crate::store::testing::scalar;

const STUDY: &str = "/api/v1/studies/study-one";
const REF: &str = "CF15/2639-2015001090";
const WITHDRAW: &str = "If you withdraw after your group met, what happens to what you said?";

fn checks() -> Value {
    json!([
        {"key": "withdraw", "question": WITHDRAW,
         "options": ["It is deleted", "It stays but is not quoted"],
         "answer": "It stays but is not quoted",
         "explanation": "See Withdrawing: what was said stays in the transcript, unquoted."},
        {"key": "marks", "question": "Does taking part change your marks?",
         "options": ["Yes", "No"], "answer": "No",
         "explanation": "See Taking part is voluntary."},
    ])
}

fn form(version: &str, checks: Value, max_tries: Option<u32>) -> Value {
    json!({"version": version, "language": "en-AU", "title": "Consent to take part",
           "body_markdown": "## Explanatory statement\nYou may withdraw at any time.",
           "items": [{"key": "take_part", "text": "I agree to take part.", "required": true}],
           "checks": checks, "max_tries": max_tries})
}

/// Drafts and approves version 2 with the two questions; its form hash.
async fn approved(app: &TestApp, s: &Study, max_tries: Option<u32>) -> String {
    let path = format!("{STUDY}/consent-forms");
    let (status, v) = app.post_json(&path, Some(&s.coord), form("2", checks(), max_tries)).await;
    assert_eq!(status, Status::Created, "{v}");
    let today = chrono::Utc::now().date_naive().to_string();
    let (status, a) = app
        .post_json(
            &format!("{path}/2/approve"),
            Some(&s.ethics),
            json!({"approval_reference": REF, "approved_on": today}),
        )
        .await;
    assert_eq!(status, Status::Ok, "{a}");
    v["form_hash"].as_str().unwrap_or_default().to_string()
}

async fn answer(app: &TestApp, token: &str, hash: &str, answers: Value) -> (Status, Value) {
    app.post_json(
        "/api/v1/participant/consent/checks",
        Some(token),
        json!({"version": "2", "form_hash": hash, "answers": answers}),
    )
    .await
}

async fn sign(app: &TestApp, token: &str, hash: &str) -> (Status, Value) {
    app.post_json(
        "/api/v1/participant/consent",
        Some(token),
        json!({"version": "2", "form_hash": hash, "read_confirmed": true,
               "items": {"take_part": true}, "signature": {"typed_name": "Sam Student"}}),
    )
    .await
}

fn pdf_text(pdf: &[u8]) -> String {
    let doc = printpdf::PdfDocument::parse(pdf, &printpdf::PdfParseOptions::default(), &mut vec![])
        .unwrap_or_else(|e| panic!("{e}"));
    doc.extract_text().into_iter().flatten().collect::<Vec<_>>().join(" ")
}

db_test!(the_questions_are_part_of_the_approved_version, |app| {
    let s = recruiting_study(&app).await;
    let path = format!("{STUDY}/consent-forms");
    let bad = json!([
        {"key": "q", "question": "Can you stop?", "options": ["Yes", "No"], "answer": "Maybe",
         "explanation": "See Withdrawing."},
        {"key": "r", "question": "Paid?", "options": ["No"], "answer": "No", "explanation": "x"},
    ]);
    let (status, v) = app.post_json(&path, Some(&s.coord), form("2", bad, Some(40))).await;
    assert_eq!(status, Status::UnprocessableEntity, "{v}");
    assert_eq!(fields(&v), ["checks[0].answer", "checks[1].options", "max_tries"], "{v}");

    let (_, without) = app.post_json(&path, Some(&s.coord), form("3", json!([]), None)).await;
    let hash = approved(&app, &s, Some(3)).await;
    assert_ne!(hash, without["form_hash"], "the questions are hashed with the version");
    let (_, staff) = app.get_json(&format!("{path}/2"), Some(&s.coord)).await;
    assert_eq!(staff["checks"][0]["answer"], "It stays but is not quoted", "{staff}");
    assert_eq!(staff["max_tries"], 3);

    let token = invite(&app, &s, "p@example.org").await;
    let (_, shown) = app.get_json("/api/v1/participant/consent-form", Some(&token)).await;
    let first = &shown["review"]["checks"][0];
    assert_eq!(first["question"], WITHDRAW, "{shown}");
    assert!(first.get("answer").is_none(), "the answer is not given away: {shown}");
    assert!(first.get("explanation").is_none(), "nor the explanation before an answer");
    assert_eq!(shown["review"]["passed"], false);
    let (_, plain) = app.get_json("/api/v1/participant/consent-form", Some(&s.coord)).await;
    assert!(plain.get("review").is_none(), "a staff token is no participant: {plain}");
});

db_test!(signing_waits_until_every_question_is_answered_right, |app| {
    let s = recruiting_study(&app).await;
    let hash = approved(&app, &s, None).await;
    let token = invite(&app, &s, "p@example.org").await;

    let (status, v) = sign(&app, &token, &hash).await;
    assert_eq!(status, Status::UnprocessableEntity, "{v}");
    assert_eq!(fields(&v), ["checks"], "{v}");

    // Refused whole, counting nothing: an open question unanswered, an answer not
    // offered, a question the form does not have.
    let refused = [
        json!({"withdraw": "It is deleted"}),
        json!({"withdraw": "It is deleted", "marks": "Perhaps"}),
        json!({"withdraw": "It is deleted", "marks": "No", "extra": "Yes"}),
    ];
    for answers in refused {
        let (status, v) = answer(&app, &token, &hash, answers.clone()).await;
        assert_eq!(status, Status::UnprocessableEntity, "{answers}: {v}");
    }
    let (status, v) = answer(&app, &token, &"0".repeat(64), json!({})).await;
    assert_eq!(status, Status::Conflict, "another text: {v}");

    let (status, v) =
        answer(&app, &token, &hash, json!({"withdraw": "It is deleted", "marks": "No"})).await;
    assert_eq!(status, Status::Ok, "{v}");
    assert_eq!(v["passed"], false);
    assert_eq!(v["checks"][0]["answered_correctly"], false);
    assert_eq!(v["checks"][0]["tries"], 1, "the refused submissions counted nothing: {v}");
    assert!(v["checks"][0]["explanation"].as_str().unwrap_or_default().contains("Withdrawing"));
    assert_eq!(v["checks"][1]["answered_correctly"], true);
    assert!(v["checks"][1].get("explanation").is_none(), "right: no explanation");
    assert_eq!(sign(&app, &token, &hash).await.0, Status::UnprocessableEntity);

    let (status, v) =
        answer(&app, &token, &hash, json!({"withdraw": "It stays but is not quoted"})).await;
    assert_eq!((status, v["passed"].clone()), (Status::Ok, json!(true)), "{v}");
    let (status, given) = sign(&app, &token, &hash).await;
    assert_eq!(status, Status::Created, "{given}");
    let review = &given["receipt"]["knowledge_review"];
    assert_eq!(review[0]["tries"], 2, "{given}");
    assert_eq!(review[0]["first_try_correct"], false);
    assert_eq!(review[1]["first_try_correct"], true);

    let (_, _, pdf) = app.get_bytes("/api/v1/participant/consent.pdf", &token).await;
    let text = pdf_text(&pdf);
    for expected in
        ["Knowledge review", WITHDRAW, "Correct after 2 tries", "Correct at the first try"]
    {
        assert!(text.contains(expected), "{expected} not on the PDF: {text}");
    }
    let (_, again) = answer(&app, &token, &hash, json!({"withdraw": "It is deleted"})).await;
    assert_eq!(again["checks"][0]["tries"], 2, "a question answered right stays right: {again}");

    // The committee's figures: one person answered each question.
    let (_, report) = app.get_json(&format!("{STUDY}/report"), Some(&s.coord)).await;
    let rates = &report["understanding"][0];
    assert_eq!(rates["version"], "2", "{report}");
    assert_eq!(
        (rates["rates"][0]["answered"].clone(), rates["rates"][0]["first_try_correct"].clone()),
        (json!(1), json!(0))
    );
    assert_eq!(rates["rates"][1]["first_try_correct"], 1);
});

db_test!(after_max_tries_the_participant_talks_to_the_researchers, |app| {
    let s = recruiting_study(&app).await;
    let hash = approved(&app, &s, Some(2)).await;
    let token = invite(&app, &s, "p@example.org").await;
    for _ in 0..2 {
        let wrong = json!({"withdraw": "It is deleted", "marks": "No"});
        let (status, v) = answer(&app, &token, &hash, wrong).await;
        assert_eq!(status, Status::Ok, "{v}");
    }
    let (_, shown) = app.get_json("/api/v1/participant/consent-form", Some(&token)).await;
    assert_eq!(shown["review"]["locked"], true, "{shown}");
    let message = shown["review"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("talk to the researchers"), "{message}");
    let (status, v) =
        answer(&app, &token, &hash, json!({"withdraw": "It stays but is not quoted"})).await;
    assert_eq!(status, Status::Conflict, "no more tries: {v}");
    let (status, v) = sign(&app, &token, &hash).await;
    assert_eq!(status, Status::Conflict, "{v}");
    assert!(v["error"]["message"].as_str().unwrap_or_default().contains("talk to the researchers"));

    // They talk; the coordinator allows new tries from the participant's record.
    let id = scalar(
        &app.db,
        "SELECT p.id FROM participants p JOIN participant_contacts c ON c.participant_id = p.id \
         WHERE c.email = 'p@example.org'",
    )
    .await;
    let record = format!("/staff/studies/study-one/people/{id}");
    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let (_, roster) = page(&app, "/staff/studies/study-one/participants").await;
    assert!(roster.contains("used every try on a question"), "the list says who: {roster}");
    let (_, html) = page(&app, &record).await;
    assert!(html.contains("Allow new tries"), "{html}");
    let csrf = csrf_of(&html);
    let reopen = format!("{record}/review/reopen");
    let (status, to) = post_form(&app, &reopen, format!("csrf_token={csrf}")).await;
    assert_eq!((status, to.as_deref()), (Status::SeeOther, Some(record.as_str())));
    let (_, html) = page(&app, &record).await;
    assert!(!html.contains("Allow new tries"), "{html}");
    let (status, _) = post_form(&app, &reopen, format!("csrf_token={csrf}")).await;
    assert_eq!(status, Status::SeeOther, "refused (nothing to reopen) and said on the page");
    let (_, html) = page(&app, &record).await;
    assert!(html.contains("nothing to reopen"), "{html}");
    let events = crate::store::audit::by_action(app.db.conn(), "consent.review_reopened")
        .await
        .expect("audit");
    assert_eq!(events.len(), 1);

    let (status, v) =
        answer(&app, &token, &hash, json!({"withdraw": "It stays but is not quoted"})).await;
    assert_eq!((status, v["passed"].clone()), (Status::Ok, json!(true)), "{v}");
    let (status, given) = sign(&app, &token, &hash).await;
    assert_eq!(status, Status::Created, "{given}");
    assert_eq!(given["receipt"]["knowledge_review"][0]["tries"], 3, "every try is on record");
});

db_test!(only_the_study_coordinator_allows_new_tries, |app| {
    let s = recruiting_study(&app).await;
    let hash = approved(&app, &s, Some(1)).await;
    let token = invite(&app, &s, "p@example.org").await;
    answer(&app, &token, &hash, json!({"withdraw": "It is deleted", "marks": "No"})).await;
    let id = scalar(
        &app.db,
        "SELECT p.id FROM participants p JOIN participant_contacts c ON c.participant_id = p.id \
         WHERE c.email = 'p@example.org'",
    )
    .await;
    let state = app.state();
    for who in ["eth@example.org", "fac@example.org"] {
        let r =
            crate::service::consent::reopen_review(state, &user(&app, who).await, "study-one", id)
                .await;
        assert!(
            matches!(
                r,
                Err(crate::error::AppError::Forbidden(_) | crate::error::AppError::NotFound)
            ),
            "{who}: {r:?}"
        );
    }
    let coord = user(&app, "coord@example.org").await;
    let r = crate::service::consent::reopen_review(state, &coord, "study-one", id + 1000).await;
    assert!(matches!(r, Err(crate::error::AppError::NotFound)), "{r:?}");
    assert!(crate::service::consent::reopen_review(state, &coord, "study-one", id).await.is_ok());
});

db_test!(the_consent_page_asks_the_questions_without_javascript, |app| {
    let s = recruiting_study(&app).await;
    approved(&app, &s, None).await;
    let token = invite(&app, &s, "p@example.org").await;
    app.client.get(format!("/p/{token}")).dispatch().await;
    let (status, html) = page(&app, "/participant/consent").await;
    assert_eq!(status, Status::Ok);
    assert!(
        html.contains("Check your understanding") && html.contains("name=\"answers[withdraw]\"")
    );
    assert!(!html.contains("Sign and give consent"), "no signing before the answers: {html}");
    let csrf = csrf_of(&html);
    let hash_field = |html: &str| {
        html.split("name=\"form_hash\" value=\"").nth(1).unwrap_or_default()[..64].to_string()
    };
    let hash = hash_field(&html);
    let body = |answers: &str| format!("csrf_token={csrf}&version=2&form_hash={hash}{answers}");

    let (status, _) =
        post_form(&app, "/participant/consent/checks", body("&answers%5Bmarks%5D=No")).await;
    assert_eq!(status, Status::UnprocessableEntity, "a question left open");
    let res = app
        .client
        .post("/participant/consent/checks")
        .header(rocket::http::ContentType::Form)
        .body(body("&answers%5Bmarks%5D=No"))
        .dispatch()
        .await;
    let html = res.into_string().await.unwrap_or_default();
    assert!(html.contains("Choose an answer to: If you withdraw"), "named in its words: {html}");
    assert!(html.contains("value=\"No\" checked"), "the answer given is kept: {html}");

    let (status, to) = post_form(
        &app,
        "/participant/consent/checks",
        body("&answers%5Bwithdraw%5D=It+is+deleted&answers%5Bmarks%5D=No"),
    )
    .await;
    assert_eq!((status, to.as_deref()), (Status::SeeOther, Some("/participant/consent#review")));
    let (_, html) = page(&app, "/participant/consent").await;
    assert!(
        html.contains("That answer is not right") && html.contains("See Withdrawing"),
        "{html}"
    );
    assert!(html.contains("answered correctly"), "the right one is marked: {html}");
    assert!(!html.contains("name=\"answers[marks]\""), "and not asked again");

    let (status, to) = post_form(
        &app,
        "/participant/consent/checks",
        body("&answers%5Bwithdraw%5D=It+stays+but+is+not+quoted"),
    )
    .await;
    assert_eq!((status, to.as_deref()), (Status::SeeOther, Some("/participant/consent#sign")));
    let (_, html) = page(&app, "/participant/consent").await;
    assert!(html.contains("Sign and give consent") && html.contains("answered the questions"));
});

db_test!(the_committee_sees_which_part_of_the_statement_is_misread, |app| {
    let s = recruiting_study(&app).await;
    let hash = approved(&app, &s, None).await;
    for (i, withdraw) in ["It is deleted", "It stays but is not quoted"].iter().enumerate() {
        let token = invite(&app, &s, &format!("p{i}@example.org")).await;
        let (status, v) =
            answer(&app, &token, &hash, json!({"withdraw": withdraw, "marks": "No"})).await;
        assert_eq!(status, Status::Ok, "{v}");
    }
    assert_eq!(sign_in(&app.client, "eth@example.org", PASSWORD).await, Status::SeeOther);
    let (_, html) = page(&app, "/staff/studies/study-one").await;
    assert!(html.contains("Understanding of the statement"), "{html}");
    let row = html.split(WITHDRAW).nth(1).unwrap_or_default();
    assert!(row.contains("<td data-label=\"Answered\">2</td>"), "{row}");
    assert!(row.contains("1 (50%)"), "half were right the first time: {row}");

    // The staff preview shows each question with its correct answer.
    let (_, preview) = page(&app, "/staff/studies/study-one/consent-forms/2/preview").await;
    assert!(preview.contains(WITHDRAW) && preview.contains("correct answer"), "{preview}");
});

async fn user(app: &TestApp, email: &str) -> crate::domain::user::User {
    let email = crate::domain::user::Email::parse(email).unwrap_or_else(|e| panic!("{e:?}"));
    crate::store::user::find_by_email(app.db.conn(), &email)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("a user"))
}
