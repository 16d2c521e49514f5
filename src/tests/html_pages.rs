//! Staff pages: sign-in with CSRF, the dashboard, a study's page, sign-out.

use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::Client;

use super::helpers::{PASSWORD, TestApp};

pub(super) fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or("")
        .to_string()
}

pub(super) async fn sign_in(client: &Client, email: &str, password: &str) -> Status {
    let page = client.get("/staff/login").dispatch().await.into_string().await.unwrap_or_default();
    let csrf = csrf_of(&page);
    assert_eq!(csrf.len(), 64, "the login form carries a CSRF token");
    let res = client
        .post("/staff/login")
        .header(ContentType::Form)
        .body(format!("csrf_token={csrf}&email={email}&password={password}"))
        .dispatch()
        .await;
    res.status()
}

pub(super) async fn page(app: &TestApp, path: &str) -> (Status, String) {
    let res = app.client.get(path.to_string()).dispatch().await;
    let status = res.status();
    (status, res.into_string().await.unwrap_or_default())
}

db_test!(sign_in_dashboard_and_sign_out, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    app.create_study(&coord, "study-one").await;
    let res = app.client.get("/staff").dispatch().await;
    assert_eq!(
        (res.status(), res.headers().get_one("Location")),
        (Status::SeeOther, Some("/staff/login"))
    );

    assert_eq!(
        sign_in(&app.client, "coord@example.org", "wrong-password-here").await,
        Status::Unauthorized
    );
    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let (status, html) = page(&app, "/staff").await;
    assert_eq!(status, Status::Ok);
    assert!(
        html.contains("Social media use in medical education")
            && html.contains("CF15&#x2f;2639-2015001090"),
        "{html}"
    );
    let (status, html) = page(&app, "/staff/studies/study-one").await;
    assert_eq!(status, Status::Ok);
    assert!(
        html.contains("Monash University Human Research Ethics Committee")
            && html.contains("coord@example.org")
    );
    assert_eq!(page(&app, "/staff/studies/not-mine").await.0, Status::NotFound);

    let csrf = csrf_of(&page(&app, "/staff").await.1);
    let res = app
        .client
        .post("/staff/logout")
        .header(ContentType::Form)
        .body(format!("csrf_token={csrf}"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(page(&app, "/staff").await.0, Status::SeeOther, "the session has ended");
});

db_test!(forms_without_the_csrf_token_are_refused, |app| {
    app.staff("coord@example.org", "coordinator").await;
    let client = &app.client;
    client.get("/staff/login").dispatch().await;
    for body in [
        format!("csrf_token={}&email=coord@example.org&password={PASSWORD}", "0".repeat(64)),
        format!("email=coord@example.org&password={PASSWORD}"),
    ] {
        let res = client.post("/staff/login").header(ContentType::Form).body(body).dispatch().await;
        assert_eq!(res.status(), Status::Forbidden);
    }
    assert_eq!(page(&app, "/staff").await.0, Status::SeeOther, "no session was made");
    assert_eq!(sign_in(client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let res = client
        .post("/staff/logout")
        .header(ContentType::Form)
        .body("csrf_token=forged")
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Forbidden);
    assert_eq!(page(&app, "/staff").await.0, Status::Ok, "a forged sign-out does nothing");
});

pub(super) async fn post_form(app: &TestApp, path: &str, body: String) -> (Status, Option<String>) {
    let res =
        app.client.post(path.to_string()).header(ContentType::Form).body(body).dispatch().await;
    (res.status(), res.headers().get_one("Location").map(str::to_string))
}

pub(super) async fn sign_out(app: &TestApp) {
    let csrf = csrf_of(&page(app, "/staff").await.1);
    post_form(app, "/staff/logout", format!("csrf_token={csrf}")).await;
}

db_test!(running_a_study_from_its_page, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    app.staff("eth@example.org", "ethics_officer").await;
    app.create_study(&coord, "study-one").await;
    let form = serde_json::json!({
        "version": "1", "language": "en-AU", "title": "Consent", "body_markdown": "## Statement\nWhat it involves.",
        "items": [{"key": "take_part", "text": "I agree to take part.", "required": true}],
    });
    app.post_json("/api/v1/studies/study-one/consent-forms", Some(&coord), form).await;
    let path = "/staff/studies/study-one";

    // The ethics officer previews and approves the draft.
    assert_eq!(sign_in(&app.client, "eth@example.org", PASSWORD).await, Status::SeeOther);
    let (_, html) = page(&app, path).await;
    assert!(html.contains("Review and approve"), "{html}");
    assert!(!html.contains("Invite a participant"), "ethics officers do not invite");
    let (status, preview) = page(&app, "/staff/studies/study-one/consent-forms/1/preview").await;
    assert_eq!(status, Status::Ok);
    assert!(
        preview.contains("Preview")
            && preview.contains("I agree to take part.")
            && preview.contains("disabled")
    );
    let csrf = csrf_of(&html);
    let (status, location) = post_form(
        &app,
        "/staff/studies/study-one/consent-forms/1/approve",
        format!("csrf_token={csrf}"),
    )
    .await;
    assert_eq!((status, location.as_deref()), (Status::SeeOther, Some(path)));
    let (_, html) = page(&app, path).await;
    assert!(html.contains("version 1 (en-AU) is now active"), "{html}");
    sign_out(&app).await;

    // The coordinator opens recruitment and invites someone.
    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let (_, html) = page(&app, path).await;
    assert!(html.contains("Open recruitment"), "{html}");
    let csrf = csrf_of(&html);
    post_form(
        &app,
        "/staff/studies/study-one/status",
        format!("csrf_token={csrf}&status=recruiting&reason="),
    )
    .await;
    let (_, html) = page(&app, path).await;
    assert!(html.contains("The study is now recruiting"), "{html}");
    post_form(
        &app,
        "/staff/studies/study-one/status",
        format!("csrf_token={csrf}&status=suspended"),
    )
    .await;
    let (_, html) = page(&app, path).await;
    assert!(
        html.contains("Only an ethics officer can suspend"),
        "a refused move is explained: {html}"
    );
    post_form(
        &app,
        "/staff/studies/study-one/participants",
        format!("csrf_token={csrf}&name=Pat&email=pat%40student.example.edu"),
    )
    .await;
    let (_, html) = page(&app, path).await;
    assert!(
        html.contains("was mailed to pat@student.example.edu") && !html.contains("cpt_"),
        "{html}"
    );
    let mail = app.mailbox().await;
    let token = mail[0].body.split("/p/").nth(1).and_then(|r| r.split_whitespace().next());
    let token = token.unwrap_or_default().to_string();
    assert!(token.starts_with("cpt_"), "the link went to the participant");

    let (_, f) = app.get_json("/api/v1/participant/consent-form", Some(&token)).await;
    let body = serde_json::json!({
        "version": "1", "form_hash": f["form_hash"], "read_confirmed": true,
        "items": {"take_part": true}, "signature": {"typed_name": "Pat Example"},
    });
    assert_eq!(
        app.post_json("/api/v1/participant/consent", Some(&token), body).await.0,
        Status::Created
    );
    let (_, html) = page(&app, path).await;
    assert!(
        html.contains("P001") && html.contains("Pat Example") && html.contains("/consents/1/pdf"),
        "{html}"
    );
    let pdf = app.client.get("/staff/studies/study-one/consents/1/pdf").dispatch().await;
    assert_eq!((pdf.status(), pdf.content_type()), (Status::Ok, Some(ContentType::PDF)));
});

// The pages built into the binary (no CONSENTRY_TEMPLATE_DIR) escape what they show
// and come with their static files.
db_test!(built_in_pages_escape_and_serve_their_static_files, ["template_dir" => serde_json::Value::Null], |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    let mut body = crate::tests::helpers::study_body("study-one", -30, 365);
    body["title"] = serde_json::json!("<script>alert(1)</script> study");
    assert_eq!(app.post_json("/api/v1/studies", Some(&coord), body).await.0, Status::Created);
    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let (status, html) = page(&app, "/staff/studies/study-one").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; study"), "{html}");
    assert!(!html.contains("<script>alert(1)"));
    let css = app.client.get("/static/app.css").dispatch().await;
    assert_eq!(css.status(), Status::Ok);
    assert_eq!(css.content_type(), Some(ContentType::CSS));
    assert_eq!(app.client.get("/static/nothing.js").dispatch().await.status(), Status::NotFound);
    assert_eq!(app.client.get("/static/../Cargo.toml").dispatch().await.status(), Status::NotFound);
});
