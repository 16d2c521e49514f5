//! A participant on their phone: the private link, their page, signing without
//! JavaScript (errors shown, answers kept), the signed copy, and withdrawal.

use rocket::http::{ContentType, Status};

use super::consent_flow::{invite, recruiting_study};
use super::helpers::TestApp;

async fn page(app: &TestApp, path: &str) -> (Status, String) {
    let res = app.client.get(path.to_string()).header(ContentType::HTML).dispatch().await;
    let status = res.status();
    (status, res.into_string().await.unwrap_or_default())
}

fn value_of(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    html.split(&marker).nth(1).and_then(|r| r.split('"').next()).unwrap_or("").to_string()
}

async fn post(app: &TestApp, path: &str, body: String) -> (Status, Option<String>, String) {
    let res =
        app.client.post(path.to_string()).header(ContentType::Form).body(body).dispatch().await;
    let status = res.status();
    let location = res.headers().get_one("Location").map(str::to_string);
    (status, location, res.into_string().await.unwrap_or_default())
}

db_test!(signing_on_a_phone_without_javascript, |app| {
    let s = recruiting_study(&app).await;
    let token = invite(&app, &s, "p1@student.example.edu").await;

    assert_eq!(page(&app, "/participant").await.0, Status::SeeOther, "no session, no page");
    let res = app.client.get(format!("/p/{token}")).dispatch().await;
    assert_eq!(
        (res.status(), res.headers().get_one("Location")),
        (Status::SeeOther, Some("/participant"))
    );
    assert_eq!(res.headers().get_one("Referrer-Policy"), Some("no-referrer"));
    assert_eq!(page(&app, "/p/cpt_not-a-real-token").await.0, Status::NotFound);

    let (status, html) = page(&app, "/participant").await;
    assert_eq!(status, Status::Ok);
    assert!(
        html.contains("CF15&#x2f;2639-2015001090") && html.contains("give your consent"),
        "{html}"
    );
    assert!(html.contains("/participant/withdraw"), "every page says how to withdraw");

    let (status, form) = page(&app, "/participant/consent").await;
    assert_eq!(status, Status::Ok);
    assert!(
        form.contains("Explanatory statement")
            && form.contains("required")
            && form.contains("optional")
    );
    assert!(
        form.contains("<label for=\"field-signature.typed_name\">"),
        "the name field is labelled"
    );
    let csrf = value_of(&form, "csrf_token");
    let hash = value_of(&form, "form_hash");
    assert_eq!(hash, s.form_hash);

    // Missing the required recording item and the certification: errors, answers kept.
    let partial = format!(
        "csrf_token={csrf}&version=1&form_hash={hash}&items[read_statement]=true&signature.typed_name=Zo%C3%AB+O%E2%80%99Brien"
    );
    let (status, _, html) = post(&app, "/participant/consent", partial).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(
        html.contains("There is a problem")
            && html.contains("href=\"#field-items.audio_recording\""),
        "{html}"
    );
    assert!(html.contains("value=\"Zoë O’Brien\""), "the typed name is kept");
    let (status, _, _) = post(&app, "/participant/consent", "version=1".to_string()).await;
    assert_eq!(status, Status::Forbidden, "no CSRF token, no consent");

    let full = format!(
        "csrf_token={csrf}&version=1&form_hash={hash}&items[read_statement]=true&items[audio_recording]=true\
         &signature.typed_name=Zo%C3%AB+O%E2%80%99Brien&read_confirmed=true"
    );
    let (status, location, _) = post(&app, "/participant/consent", full).await;
    assert_eq!((status, location.as_deref()), (Status::SeeOther, Some("/participant")));
    let (_, html) = page(&app, "/participant").await;
    assert!(html.contains("P001") && html.contains("Consent given (version 1"), "{html}");
    let pdf = app.client.get("/api/v1/participant/consent.pdf").dispatch().await;
    assert_eq!(pdf.status(), Status::Ok, "the signed copy opens from the page (cookie session)");
    assert_eq!(pdf.content_type(), Some(ContentType::PDF));

    let (_, html) = page(&app, "/participant/withdraw").await;
    let csrf = value_of(&html, "csrf_token");
    let (status, _, html) = post(&app, "/participant/withdraw", format!("csrf_token={csrf}")).await;
    assert_eq!(status, Status::UnprocessableEntity, "a choice is needed: {html}");
    let (status, _, _) =
        post(&app, "/participant/withdraw", format!("csrf_token={csrf}&scope=future_only&reason="))
            .await;
    assert_eq!(status, Status::SeeOther);
    let (_, html) = page(&app, "/participant").await;
    assert!(html.contains("You have withdrawn"), "{html}");
});

db_test!(the_identity_check_on_the_page, |app| {
    let s = recruiting_study(&app).await;
    let res = app
        .client
        .put("/api/v1/studies/study-one/settings")
        .header(ContentType::JSON)
        .header(rocket::http::Header::new("Authorization", format!("Bearer {}", s.coord)))
        .body(serde_json::json!({"identity_check": "email_code"}).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let token = invite(&app, &s, "pat@student.example.edu").await;
    app.client.get(format!("/p/{token}")).dispatch().await;

    let (_, html) = page(&app, "/participant/consent").await;
    assert!(
        html.contains("a quick check that it is you") && !html.contains("Sign and give consent"),
        "{html}"
    );
    let csrf = value_of(&html, "csrf_token");
    let (status, location, _) =
        post(&app, "/participant/identity/code", format!("csrf_token={csrf}")).await;
    assert_eq!(status, Status::SeeOther);
    let (_, html) = page(&app, location.as_deref().unwrap_or("/participant/consent")).await;
    assert!(html.contains("We sent a six-digit code to p•••@student.example.edu"), "{html}");

    let (status, _, html) =
        post(&app, "/participant/identity/verify", format!("csrf_token={csrf}&code=12")).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(html.contains("tries left"), "{html}");
    let mail = app.mailbox().await;
    let code = mail[0].subject.rsplit(": ").next().unwrap_or_default().to_string();
    let (status, location, _) =
        post(&app, "/participant/identity/verify", format!("csrf_token={csrf}&code={code}")).await;
    assert_eq!((status, location.as_deref()), (Status::SeeOther, Some("/participant/consent")));
    let (_, html) = page(&app, "/participant/consent").await;
    assert!(html.contains("Sign and give consent"), "signing is open now");
});
