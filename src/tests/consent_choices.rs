//! Consent in depth: optional items that declare what they govern, and each effect
//! of that declaration — the facilitator's warnings for audio recording, the
//! export's `may_quote` column, and the rows of those who declined data sharing.

use rocket::http::Status;
use serde_json::{Value, json};

use super::consent_flow::{Study, invite, recruiting_study};
use super::helpers::{PASSWORD, TestApp, fields};
use super::html_pages::{csrf_of, page, post_form, sign_in};

const STUDY: &str = "/api/v1/studies/study-one";
const REF: &str = "CF15/2639-2015001090";

fn form(version: &str, items: Value) -> Value {
    json!({"version": version, "language": "en-AU", "title": "Consent to take part",
           "body_markdown": "## Explanatory statement\nThe optional items are your choice.",
           "items": items})
}

/// Drafts and approves a version with these items; its form hash.
async fn approved(app: &TestApp, s: &Study, version: &str, items: Value) -> String {
    let path = format!("{STUDY}/consent-forms");
    let (status, v) = app.post_json(&path, Some(&s.coord), form(version, items)).await;
    assert_eq!(status, Status::Created, "{v}");
    let today = chrono::Utc::now().date_naive().to_string();
    let (status, a) = app
        .post_json(
            &format!("{path}/{version}/approve"),
            Some(&s.ethics),
            json!({"approval_reference": REF, "approved_on": today}),
        )
        .await;
    assert_eq!(status, Status::Ok, "{a}");
    v["form_hash"].as_str().unwrap_or_default().to_string()
}

/// A new participant signs `version` with these answers; their token and code.
async fn signed(
    app: &TestApp,
    s: &Study,
    email: &str,
    (version, hash): (&str, &str),
    items: Value,
) -> (String, String) {
    let token = invite(app, s, email).await;
    let (status, v) = app
        .post_json(
            "/api/v1/participant/consent",
            Some(&token),
            json!({"version": version, "form_hash": hash, "read_confirmed": true,
                   "items": items, "signature": {"typed_name": "Sam Student"}}),
        )
        .await;
    assert_eq!(status, Status::Created, "{v}");
    let code = v["participant_code"].as_str().unwrap_or_default().to_string();
    (token, code)
}

db_test!(an_optional_item_declares_what_it_governs, |app| {
    let s = recruiting_study(&app).await;
    let path = format!("{STUDY}/consent-forms");
    let bad = json!([
        {"key": "take_part", "text": "I agree to take part.", "required": true, "governs": "audio_recording"},
        {"key": "quotes", "text": "Quote me.", "required": false, "governs": "quotes"},
        {"key": "summary", "text": "Send me the results.", "required": false, "governs": "results_summary"},
        {"key": "summary_too", "text": "Send them again.", "required": false, "governs": "results_summary"},
    ]);
    let (status, v) = app.post_json(&path, Some(&s.coord), form("2", bad)).await;
    assert_eq!(status, Status::UnprocessableEntity, "{v}");
    assert_eq!(fields(&v), ["items[0].governs", "items[1].governs", "items[3].governs"], "{v}");

    let good = json!([
        {"key": "take_part", "text": "I agree to take part.", "required": true},
        {"key": "quotes", "text": "Quote me.", "required": false, "governs": "verbatim_quotes"},
    ]);
    let hash = approved(&app, &s, "2", good).await;
    assert_ne!(hash, s.form_hash);
    let (_, list) = app.get_json(&path, Some(&s.coord)).await;
    let v2 = list.as_array().into_iter().flatten().find(|f| f["version"] == "2").cloned();
    let items = v2.map(|f| f["items"].clone()).unwrap_or_default();
    assert_eq!(items[1]["governs"], "verbatim_quotes", "{items}");
    assert!(items[0].get("governs").is_none(), "nothing governed, nothing said: {items}");
    let token = invite(&app, &s, "p@example.org").await;
    let (_, shown) = app.get_json("/api/v1/participant/consent-form", Some(&token)).await;
    assert_eq!(shown["items"][1]["governs"], "verbatim_quotes", "{shown}");
});

/// A focus group in four days led by fac@example.org, with these members; its id.
async fn session_with(app: &TestApp, s: &Study, codes: &[&str]) -> i64 {
    let fg = "/api/v1/studies/study-one/focus-groups";
    let starts = (chrono::Utc::now() + chrono::Duration::days(4)).to_rfc3339();
    let (status, g) = app
        .post_json(
            fg,
            Some(&s.coord),
            json!({"title": "Evening group", "starts_at": starts, "duration_minutes": 60,
                   "location": "Room 1", "facilitator_email": "fac@example.org", "capacity": 6}),
        )
        .await;
    assert_eq!(status, Status::Created, "{g}");
    let g = g["id"].as_i64().unwrap_or_default();
    for code in codes {
        let (status, v) = app
            .post_json(
                &format!("{fg}/{g}/members"),
                Some(&s.coord),
                json!({"participant_code": code}),
            )
            .await;
        assert_eq!(status, Status::Created, "{v}");
    }
    g
}

db_test!(audio_warnings_follow_the_item_that_governs_recording, |app| {
    let s = recruiting_study(&app).await;
    // The item governing recording never says "audio"; another item does but
    // governs nothing: only the declaration counts.
    let hash = approved(
        &app,
        &s,
        "2",
        json!([
            {"key": "take_part", "text": "I agree to take part.", "required": true},
            {"key": "taping", "text": "I agree to the discussion being taped.", "required": false, "governs": "audio_recording"},
            {"key": "audio_diary", "text": "I will keep an audio diary.", "required": false},
        ]),
    )
    .await;
    let v2 = ("2", hash.as_str());
    let (_, quiet) = signed(
        &app,
        &s,
        "quiet@example.org",
        v2,
        json!({"take_part": true, "taping": false, "audio_diary": true}),
    )
    .await;
    let (_, diarist) = signed(
        &app,
        &s,
        "diary@example.org",
        v2,
        json!({"take_part": true, "taping": true, "audio_diary": false}),
    )
    .await;
    let g = session_with(&app, &s, &[&quiet, &diarist]).await;
    let invitations = format!("/api/v1/studies/study-one/focus-groups/{g}/invitations");
    let (status, v) = app.post_json(&invitations, Some(&s.coord), json!({})).await;
    assert_eq!(status, Status::Accepted, "{v}");

    let mail = app.mailbox().await;
    let to = |who: &str, kind: &str| {
        mail.iter()
            .find(|m| m.to == who && m.kind == kind)
            .map(|m| m.body.clone())
            .unwrap_or_default()
    };
    let note = "You did not agree to audio recording";
    for kind in ["focus_group_invitation", "focus_group_reminder"] {
        assert!(to("quiet@example.org", kind).contains(note), "{kind}: {mail:?}");
        assert!(!to("diary@example.org", kind).contains(note), "{kind}");
        assert!(!to("diary@example.org", kind).is_empty(), "{kind} sent");
    }

    assert_eq!(sign_in(&app.client, "fac@example.org", PASSWORD).await, Status::SeeOther);
    let (status, html) =
        page(&app, &format!("/staff/studies/study-one/focus-groups/{g}/sheet")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("1 member(s) did not agree to audio recording"), "{html}");
    let row =
        |code: &str| html.split("<tr").find(|r| r.contains(code)).unwrap_or_default().to_string();
    assert!(row(&quiet).contains("No audio recording."), "{html}");
    assert!(!row(&diarist).contains("No audio recording."), "{html}");
});

/// `export.csv` as rows of cells.
async fn export(app: &TestApp, s: &Study, file: &str) -> Vec<Vec<String>> {
    let (status, _, bytes) = app.get_bytes(&format!("{STUDY}/{file}"), &s.coord).await;
    assert_eq!(status, Status::Ok);
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

fn cell(rows: &[Vec<String>], code: &str, column: &str) -> Option<String> {
    let at = rows.first()?.iter().position(|c| c == column)?;
    rows.iter().find(|r| r.first().map(String::as_str) == Some(code))?.get(at).cloned()
}

db_test!(the_export_follows_quotes_and_data_sharing, |app| {
    let s = recruiting_study(&app).await;
    let v1 = signing_v1(&app, &s, "early@example.org").await;
    let rows = export(&app, &s, "export.csv").await;
    assert!(
        !rows[0].contains(&"may_quote".to_string()),
        "no version governs quotes yet: no column {rows:?}"
    );
    let hash = approved(
        &app,
        &s,
        "2",
        json!([
            {"key": "take_part", "text": "I agree to take part.", "required": true},
            {"key": "quotes", "text": "You may quote me word for word.", "required": false, "governs": "verbatim_quotes"},
            {"key": "share", "text": "My de-identified answers may be shared with other researchers.", "required": false, "governs": "data_sharing"},
        ]),
    )
    .await;
    let v2 = ("2", hash.as_str());
    let (_, open) = signed(
        &app,
        &s,
        "open@example.org",
        v2,
        json!({"take_part": true, "quotes": true, "share": true}),
    )
    .await;
    let (_, private) = signed(
        &app,
        &s,
        "private@example.org",
        v2,
        json!({"take_part": true, "quotes": false, "share": false}),
    )
    .await;

    let rows = export(&app, &s, "export.csv").await;
    assert_eq!(cell(&rows, &open, "may_quote").as_deref(), Some("1"), "{rows:?}");
    assert_eq!(cell(&rows, &v1, "may_quote").as_deref(), Some(""), "v1 did not ask");
    assert!(
        !rows.iter().any(|r| r.first() == Some(&private)),
        "by default the rows of those who declined sharing are left out: {rows:?}"
    );
    assert!(!rows[0].contains(&"shares_data".to_string()));
    let book = export(&app, &s, "codebook.csv").await;
    assert!(book.iter().any(|r| r.first().map(String::as_str) == Some("may_quote")), "{book:?}");

    let (status, v) = app
        .put_json(
            &format!("{STUDY}/settings"),
            Some(&s.coord),
            json!({"declined_data_sharing": "keep"}),
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity, "{v}");
    assert_eq!(fields(&v), ["declined_data_sharing"]);
    let (status, v) = app
        .put_json(
            &format!("{STUDY}/settings"),
            Some(&s.coord),
            json!({"declined_data_sharing": "flag"}),
        )
        .await;
    assert_eq!(status, Status::Ok, "{v}");
    assert_eq!(v["declined_data_sharing"], "flag");
    let rows = export(&app, &s, "export.csv").await;
    assert_eq!(cell(&rows, &private, "shares_data").as_deref(), Some("0"), "{rows:?}");
    assert_eq!(cell(&rows, &private, "may_quote").as_deref(), Some("0"));
    assert_eq!(cell(&rows, &open, "shares_data").as_deref(), Some("1"));
    assert_eq!(cell(&rows, &v1, "shares_data").as_deref(), Some(""));
});

/// A participant who signs version 1 (whose items govern nothing); their code.
async fn signing_v1(app: &TestApp, s: &Study, email: &str) -> String {
    let items = json!({"read_statement": true, "audio_recording": true, "verbatim_quotes": true});
    signed(app, s, email, ("1", &s.form_hash), items).await.1
}

/// Items of a version that asks whether the participant wants the results summary.
fn asks_for_the_summary() -> Value {
    json!([
        {"key": "take_part", "text": "I agree to take part.", "required": true},
        {"key": "results", "text": "Send me a summary of the results.", "required": false, "governs": "results_summary"},
    ])
}

db_test!(the_results_summary_goes_only_to_those_who_asked_for_it, |app| {
    let s = recruiting_study(&app).await;
    let early = signing_v1(&app, &s, "early@example.org").await;
    let summary_path = format!("{STUDY}/results-summary");
    let text = json!({"summary": "Students used video platforms most; thank you."});
    let (status, v) = app.post_json(&summary_path, Some(&s.coord), text.clone()).await;
    assert_eq!(status, Status::Conflict, "no form asks yet: {v}");

    let hash = approved(&app, &s, "2", asks_for_the_summary()).await;
    let v2 = ("2", hash.as_str());
    let yes = json!({"take_part": true, "results": true});
    signed(&app, &s, "wants@example.org", v2, yes.clone()).await;
    signed(&app, &s, "declines@example.org", v2, json!({"take_part": true, "results": false}))
        .await;
    let (gone, _) = signed(&app, &s, "gone@example.org", v2, yes).await;
    let (status, _) = app
        .post_json("/api/v1/participant/withdraw", Some(&gone), json!({"scope": "future_only"}))
        .await;
    assert_eq!(status, Status::Ok);

    let (status, v) = app.post_json(&summary_path, Some(&s.coord), text.clone()).await;
    assert_eq!(status, Status::Conflict, "not before the study closes: {v}");
    let (status, v) = app
        .post_json(&format!("{STUDY}/status"), Some(&s.coord), json!({"status": "closed"}))
        .await;
    assert_eq!(status, Status::Ok, "{v}");
    let (status, v) = app.post_json(&summary_path, Some(&s.coord), json!({"summary": "  "})).await;
    assert_eq!((status, fields(&v)), (Status::UnprocessableEntity, vec!["summary".to_string()]));
    let (status, _) = app.post_json(&summary_path, Some(&s.fac), text.clone()).await;
    assert_eq!(status, Status::Forbidden, "a facilitator does not send it");

    let (status, v) = app.post_json(&summary_path, Some(&s.coord), text.clone()).await;
    assert_eq!(status, Status::Accepted, "{v}");
    assert_eq!(v["queued"], 1);
    let sent: Vec<_> =
        app.mailbox().await.into_iter().filter(|m| m.kind == "results_summary").collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to, "wants@example.org");
    assert!(sent[0].body.contains("Students used video platforms most"), "{}", sent[0].body);
    let (status, _) = app.post_json(&summary_path, Some(&s.coord), text).await;
    assert_eq!(status, Status::Conflict, "sent once");
    let events = crate::store::audit::by_action(
        app.db.conn(),
        crate::service::consent::choices::RESULTS_SENT,
    )
    .await
    .expect("audit");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].details["recipients"], 1);
    assert!(!early.is_empty());

    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let (status, html) = page(&app, "/staff/studies/study-one/results-summary").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("<strong>1</strong> participant(s) asked"), "{html}");
    assert!(html.contains("was sent on") && !html.contains("name=\"summary\""), "{html}");
});

db_test!(only_those_who_agreed_to_future_contact_are_invited_to_a_later_study, |app| {
    let s = recruiting_study(&app).await;
    let from = "/api/v1/studies/study-two/participants/from-study";
    let (status, v) = app.create_study(&s.coord, "study-two").await;
    assert_eq!(status, Status::Created, "{v}");
    let (status, v) = app.post_json(from, Some(&s.coord), json!({"study": "study-one"})).await;
    assert_eq!(status, Status::Conflict, "no version of study-one asks yet: {v}");

    let hash = approved(
        &app,
        &s,
        "2",
        json!([
            {"key": "take_part", "text": "I agree to take part.", "required": true},
            {"key": "later", "text": "You may contact me about future studies.", "required": false, "governs": "future_contact"},
        ]),
    )
    .await;
    let v2 = ("2", hash.as_str());
    let yes = json!({"take_part": true, "later": true});
    signed(&app, &s, "keen@example.org", v2, yes.clone()).await;
    signed(&app, &s, "not@example.org", v2, json!({"take_part": true, "later": false})).await;
    signed(&app, &s, "both@example.org", v2, yes.clone()).await;
    let (left, _) = signed(&app, &s, "left@example.org", v2, yes).await;
    let (status, _) = app
        .post_json("/api/v1/participant/withdraw", Some(&left), json!({"scope": "future_only"}))
        .await;
    assert_eq!(status, Status::Ok);
    let (status, _) = app
        .post_json(
            "/api/v1/studies/study-two/participants",
            Some(&s.coord),
            json!({"name": "Bo Both", "email": "both@example.org"}),
        )
        .await;
    assert_eq!(status, Status::Created);

    let stranger = app.staff("other@example.org", "coordinator").await;
    app.create_study(&stranger, "study-three").await;
    let (status, v) = app
        .post_json(
            "/api/v1/studies/study-three/participants/from-study",
            Some(&stranger),
            json!({"study": "study-one"}),
        )
        .await;
    assert_eq!((status, fields(&v)), (Status::UnprocessableEntity, vec!["study".to_string()]));
    let (status, v) = app.post_json(from, Some(&s.coord), json!({"study": "study-two"})).await;
    assert_eq!((status, fields(&v)), (Status::UnprocessableEntity, vec!["study".to_string()]));

    let before = app.mailbox().await.len();
    let (status, v) = app.post_json(from, Some(&s.coord), json!({"study": "study-one"})).await;
    assert_eq!(status, Status::Accepted, "{v}");
    assert_eq!((v["invited"].as_u64(), v["already_in_study"].as_u64()), (Some(1), Some(1)));
    let mail = app.mailbox().await;
    assert_eq!(mail.len(), before + 1, "one message, to the one who agreed and is new");
    let new = &mail[0];
    assert_eq!(new.to, "keen@example.org");
    assert!(new.body.contains("you agreed to be contacted about future studies"), "{}", new.body);
    assert!(new.body.contains("/p/"), "their own private link: {}", new.body);
    let link = new.body.split_whitespace().find(|w| w.contains("/p/")).unwrap_or_default();
    let (_, outbox) = app.get_json("/api/v1/outbox", Some(&s.coord)).await;
    assert!(!link.is_empty() && !outbox.to_string().contains(link), "staff never read the link");

    // The same through the participants page: nobody new is left to invite.
    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let (_, html) = page(&app, "/staff/studies/study-two/participants").await;
    assert!(html.contains("Invite people from an earlier study"), "{html}");
    assert!(html.contains("<option value=\"study-one\""), "{html}");
    let csrf = csrf_of(&html);
    let (status, to) = post_form(
        &app,
        "/staff/studies/study-two/participants/from-study",
        format!("csrf_token={csrf}&study=study-one"),
    )
    .await;
    assert_eq!(status, Status::SeeOther);
    let (_, html) = page(&app, to.as_deref().unwrap_or_default()).await;
    assert!(html.contains("0 invitation(s)") && html.contains("2 of those who agreed"), "{html}");
});

db_test!(a_participant_changes_a_choice_and_every_effect_follows, |app| {
    let s = recruiting_study(&app).await;
    let hash = approved(
        &app,
        &s,
        "2",
        json!([
            {"key": "take_part", "text": "I agree to take part.", "required": true},
            {"key": "quotes", "text": "You may quote me word for word.", "required": false, "governs": "verbatim_quotes"},
            {"key": "taping", "text": "The discussion may be taped.", "required": false, "governs": "audio_recording"},
        ]),
    )
    .await;
    let all_in = json!({"take_part": true, "quotes": true, "taping": true});
    let (me, code) = signed(&app, &s, "sam@example.org", ("2", &hash), all_in).await;
    let (other, _) = signed(
        &app,
        &s,
        "other@example.org",
        ("2", &hash),
        json!({"take_part": true, "quotes": true, "taping": true}),
    )
    .await;
    let g = session_with(&app, &s, &[&code]).await;

    let path = "/api/v1/participant/consent/choices";
    let change =
        |items: Value, name: &str| json!({"items": items, "signature": {"typed_name": name}});
    for (body, field) in [
        (change(json!({"quotes": true, "taping": true}), "Sam"), "items"),
        (change(json!({"take_part": false, "quotes": true}), "Sam"), "items.take_part"),
        (change(json!({"shouting": true}), "Sam"), "items.shouting"),
        (change(json!({"quotes": false}), " "), "signature.typed_name"),
    ] {
        let (status, v) = app.post_json(path, Some(&me), body).await;
        assert_eq!(status, Status::UnprocessableEntity, "{v}");
        assert!(fields(&v).contains(&field.to_string()), "{field}: {v}");
    }

    // Stop being quoted and recorded: unticked optional items are declined.
    let (status, v) =
        app.post_json(path, Some(&me), change(json!({"take_part": true}), "Sam Student")).await;
    assert_eq!(status, Status::Created, "{v}");
    assert_eq!(v["participant_code"], code.as_str(), "the same participant code");
    assert!(v["receipt"]["amends"].is_string(), "the receipt names the amended record: {v}");
    assert_eq!(v["receipt"]["items"][1]["governs"], "verbatim_quotes", "{v}");
    let (_, history) = app.get_json("/api/v1/participant/consents", Some(&me)).await;
    let records = history.as_array().cloned().unwrap_or_default();
    assert_eq!(records.len(), 2, "{history}");
    assert_eq!(records[1]["amends"], records[0]["record_id"], "{history}");
    assert_eq!(records[1]["items"], json!({"take_part": true, "quotes": false, "taping": false}));
    let (status, _, pdf) =
        app.get_bytes(records[1]["pdf_url"].as_str().unwrap_or_default(), &me).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(crate::domain::audit::sha256_hex(&pdf), records[1]["pdf_sha256"]);
    let carried = crate::pdf::consent::embedded_record(&pdf).unwrap_or_default();
    assert!(carried.contains("\"amends\""), "the PDF carries the amending record: {carried}");
    let (status, _, _) =
        app.get_bytes(records[0]["pdf_url"].as_str().unwrap_or_default(), &other).await;
    assert_eq!(status, Status::NotFound, "another participant's record is not theirs to read");

    // Every effect follows the latest record at once.
    let rows = export(&app, &s, "export.csv").await;
    assert_eq!(cell(&rows, &code, "may_quote").as_deref(), Some("0"), "{rows:?}");
    let (_, register) = app.get_json("/api/v1/studies/study-one/consents", Some(&s.coord)).await;
    let mine: Vec<&Value> = register
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["participant_code"] == code.as_str())
        .collect();
    assert_eq!(mine.len(), 2, "{register}");
    assert_eq!(mine[1]["amends"], mine[0]["consent_id"]);
    let amended =
        crate::store::audit::by_action(app.db.conn(), "consent.amended").await.expect("audit");
    assert_eq!(amended.len(), 1);
    assert_eq!(amended[0].details["changed"], json!({"quotes": false, "taping": false}));
    let verified = crate::audit::verify(&app.db, None).await.expect("verify runs");
    assert!(
        matches!(verified, crate::domain::audit::Verification::Ok { ok: true, .. }),
        "{verified:?}"
    );
    assert_eq!(sign_in(&app.client, "fac@example.org", PASSWORD).await, Status::SeeOther);
    let (_, html) = page(&app, &format!("/staff/studies/study-one/focus-groups/{g}/sheet")).await;
    assert!(html.contains("1 member(s) did not agree to audio recording"), "{html}");

    // Once withdrawn, choices no longer change.
    let (status, _) = app
        .post_json("/api/v1/participant/withdraw", Some(&other), json!({"scope": "future_only"}))
        .await;
    assert_eq!(status, Status::Ok);
    let (status, v) =
        app.post_json(path, Some(&other), change(json!({"take_part": true}), "Other")).await;
    assert_eq!(status, Status::Conflict, "{v}");
});

db_test!(the_choices_page_changes_a_choice_without_javascript, |app| {
    let s = recruiting_study(&app).await;
    let (token, _) = signed(
        &app,
        &s,
        "sam@example.org",
        ("1", &s.form_hash),
        json!({"read_statement": true, "audio_recording": true, "verbatim_quotes": true}),
    )
    .await;
    app.client.get(format!("/p/{token}")).dispatch().await;
    let (_, html) = page(&app, "/participant").await;
    assert!(html.contains("/participant/choices"), "the page offers it: {html}");
    let (status, html) = page(&app, "/participant/choices").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("name=\"items[verbatim_quotes]\"") && html.contains("checked"), "{html}");
    assert!(!html.contains("name=\"items[read_statement]\""), "required items are not boxes");
    let csrf = csrf_of(&html);
    let (status, _) = post_form(
        &app,
        "/participant/choices",
        format!("csrf_token={csrf}&items%5Bverbatim_quotes%5D=true&signature.typed_name="),
    )
    .await;
    assert_eq!(status, Status::UnprocessableEntity, "no name, no change");
    let res = app
        .client
        .post("/participant/choices")
        .header(rocket::http::ContentType::Form)
        .body(format!("csrf_token={csrf}&signature.typed_name=Sam+Student"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::SeeOther);
    let (_, html) = page(&app, "/participant/receipt").await;
    assert!(html.contains("Your choices are changed"), "{html}");
    assert!(
        html.contains("All your signed records") && html.contains("change of choices"),
        "{html}"
    );
    assert!(html.contains("now not agreed: I agree to be quoted verbatim"), "{html}");
    assert!(
        html.contains("Change to the optional choices of my consent to take part in this research")
    );
});

db_test!(a_study_that_checks_identity_checks_it_before_a_change_too, |app| {
    let s = recruiting_study(&app).await;
    let (token, _) = signed(
        &app,
        &s,
        "sam@example.org",
        ("1", &s.form_hash),
        json!({"read_statement": true, "audio_recording": true, "verbatim_quotes": true}),
    )
    .await;
    let (status, _) = app
        .put_json(
            &format!("{STUDY}/settings"),
            Some(&s.coord),
            json!({"identity_check": "email_code"}),
        )
        .await;
    assert_eq!(status, Status::Ok);
    let path = "/api/v1/participant/consent/choices";
    let stop_quotes = json!({"items": {}, "signature": {"typed_name": "Sam Student"}});
    let (status, v) = app.post_json(path, Some(&token), stop_quotes.clone()).await;
    assert_eq!(status, Status::Forbidden, "no code entered: {v}");

    // The page asks for the code first, and its forms come back to it.
    app.client.get(format!("/p/{token}")).dispatch().await;
    let (_, html) = page(&app, "/participant/choices").await;
    assert!(html.contains("First, a quick check that it is you"), "{html}");
    assert!(!html.contains("Sign the change"), "no change before the check: {html}");
    assert!(html.contains("name=\"back\" value=\"choices\""), "{html}");
    let csrf = csrf_of(&html);
    let (status, to) =
        post_form(&app, "/participant/identity/code", format!("csrf_token={csrf}&back=choices"))
            .await;
    assert_eq!(status, Status::SeeOther);
    let to = to.unwrap_or_default();
    assert!(to.starts_with("/participant/choices?sent="), "{to}");
    let (_, html) = page(&app, &to).await;
    assert!(html.contains("We sent a six-digit code"), "{html}");
    let code = crate::tests::identity_check::latest_code(&app).await;
    let (status, to) = post_form(
        &app,
        "/participant/identity/verify",
        format!("csrf_token={csrf}&back=choices&code={code}"),
    )
    .await;
    assert_eq!((status, to.as_deref()), (Status::SeeOther, Some("/participant/choices")));
    let (_, html) = page(&app, "/participant/choices").await;
    assert!(html.contains("Sign the change"), "{html}");

    let (status, v) = app.post_json(path, Some(&token), stop_quotes).await;
    assert_eq!(status, Status::Created, "{v}");
    assert_eq!(v["receipt"]["identity_check"], "email_code", "the record names the check");
});

db_test!(the_results_summary_sent_three_times_at_once_goes_out_once, |app| {
    let s = recruiting_study(&app).await;
    let hash = approved(&app, &s, "2", asks_for_the_summary()).await;
    signed(
        &app,
        &s,
        "wants@example.org",
        ("2", &hash),
        json!({"take_part": true, "results": true}),
    )
    .await;
    let close = json!({"status": "closed"});
    assert_eq!(
        app.post_json(&format!("{STUDY}/status"), Some(&s.coord), close).await.0,
        Status::Ok
    );
    let path = format!("{STUDY}/results-summary");
    let text = json!({"summary": "Thank you for taking part."});
    let (a, b, c) = tokio::join!(
        app.post_json(&path, Some(&s.coord), text.clone()),
        app.post_json(&path, Some(&s.coord), text.clone()),
        app.post_json(&path, Some(&s.coord), text.clone()),
    );
    let mut statuses = [a.0, b.0, c.0].map(|s| s.code);
    statuses.sort_unstable();
    assert_eq!(statuses, [202, 409, 409], "{a:?} {b:?} {c:?}");
    let sent = app.mailbox().await.into_iter().filter(|m| m.kind == "results_summary").count();
    assert_eq!(sent, 1, "one message, not one per request");
    let events = crate::store::audit::by_action(
        app.db.conn(),
        crate::service::consent::choices::RESULTS_SENT,
    )
    .await
    .expect("audit");
    assert_eq!(events.len(), 1);
});
