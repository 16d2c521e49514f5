//! Staff pages: sign-in with CSRF, the dashboard, a study's page, sign-out.

use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::Client;

use super::helpers::{PASSWORD, TestApp};

fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or("")
        .to_string()
}

async fn sign_in(client: &Client, email: &str, password: &str) -> Status {
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

async fn page(app: &TestApp, path: &str) -> (Status, String) {
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
