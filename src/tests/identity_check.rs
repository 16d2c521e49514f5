//! The optional identity check: a code e-mailed to the participant must be entered
//! before signing; the signed record says which check was used.

use rocket::http::{ContentType, Status};
use serde_json::{Value, json};

use super::consent_flow::{invite, recruiting_study};
use super::helpers::{TestApp, fields};

const STUDY: &str = "/api/v1/studies/study-one";

pub(super) async fn latest_code(app: &TestApp) -> String {
    let mail = app.mailbox().await;
    assert_eq!(mail[0].kind, "identity_code");
    mail[0].subject.rsplit(": ").next().unwrap_or_default().to_string()
}

fn signing(form_hash: &Value) -> Value {
    json!({
        "version": "1", "form_hash": form_hash, "read_confirmed": true,
        "items": {"read_statement": true, "audio_recording": true}, "signature": {"typed_name": "Pat Example"},
    })
}

db_test!(a_code_is_needed_before_signing, |app| {
    let s = recruiting_study(&app).await;
    let p = invite(&app, &s, "pat@student.example.edu").await;
    assert_eq!(
        app.post_json("/api/v1/participant/identity/code", Some(&p), json!({})).await.0,
        Status::Conflict,
        "not asked for yet"
    );

    let settings = format!("{STUDY}/settings");
    assert_eq!(app.client.put(settings.clone()).dispatch().await.status(), Status::Unauthorized);
    let put = |token: String, value: &'static str| {
        let app = &app;
        let settings = settings.clone();
        async move {
            let res = app
                .client
                .put(settings)
                .header(ContentType::JSON)
                .header(rocket::http::Header::new("Authorization", format!("Bearer {token}")))
                .body(json!({"identity_check": value}).to_string())
                .dispatch()
                .await;
            crate::tests::helpers::body(res).await
        }
    };
    assert_eq!(put(s.fac.clone(), "email_code").await.0, Status::Forbidden);
    let (status, v) = put(s.coord.clone(), "sms").await;
    assert_eq!(
        (status, fields(&v)),
        (Status::UnprocessableEntity, vec!["identity_check".to_string()])
    );
    let (status, v) = put(s.coord.clone(), "email_code").await;
    assert_eq!((status, v["identity_check"].as_str()), (Status::Ok, Some("email_code")));

    let (_, form) = app.get_json("/api/v1/participant/consent-form", Some(&p)).await;
    let (status, v) =
        app.post_json("/api/v1/participant/consent", Some(&p), signing(&form["form_hash"])).await;
    assert_eq!(status, Status::Forbidden, "{v}");

    let (status, v) = app.post_json("/api/v1/participant/identity/code", Some(&p), json!({})).await;
    assert_eq!(
        (status, v["sent_to"].as_str()),
        (Status::Accepted, Some("p•••@student.example.edu"))
    );
    let code = latest_code(&app).await;
    assert_eq!(code.len(), 6);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, v) = app
        .post_json("/api/v1/participant/identity/verify", Some(&p), json!({"code": wrong}))
        .await;
    assert_eq!((status, fields(&v)), (Status::UnprocessableEntity, vec!["code".to_string()]));
    let (status, _) =
        app.post_json("/api/v1/participant/identity/verify", Some(&p), json!({"code": code})).await;
    assert_eq!(status, Status::Ok);

    let (status, v) =
        app.post_json("/api/v1/participant/consent", Some(&p), signing(&form["form_hash"])).await;
    assert_eq!(status, Status::Created, "{v}");
    assert_eq!(v["receipt"]["identity_check"], "email_code", "the record names the check used");
    let log = app
        .get_json("/api/v1/audit?study=study-one&limit=1000", Some(&s.ethics))
        .await
        .1
        .to_string();
    assert!(
        log.contains("identity.code_checked") && !log.contains(&format!("\"{code}\"")),
        "codes never reach the log"
    );
});

db_test!(codes_are_rate_limited, |app| {
    let s = recruiting_study(&app).await;
    let p = invite(&app, &s, "pat@student.example.edu").await;
    let res = app
        .client
        .put(format!("{STUDY}/settings"))
        .header(ContentType::JSON)
        .header(rocket::http::Header::new("Authorization", format!("Bearer {}", s.coord)))
        .body(json!({"identity_check": "email_code"}).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    for _ in 0..crate::domain::consent::identity::MAX_CODES_PER_HOUR {
        assert_eq!(
            app.post_json("/api/v1/participant/identity/code", Some(&p), json!({})).await.0,
            Status::Accepted
        );
    }
    assert_eq!(
        app.post_json("/api/v1/participant/identity/code", Some(&p), json!({})).await.0,
        Status::TooManyRequests
    );
    for _ in 0..crate::domain::consent::identity::MAX_TRIES {
        app.post_json("/api/v1/participant/identity/verify", Some(&p), json!({"code": "x"})).await;
    }
    let code = latest_code(&app).await;
    let (status, _) =
        app.post_json("/api/v1/participant/identity/verify", Some(&p), json!({"code": code})).await;
    assert_eq!(status, Status::TooManyRequests, "five wrong tries spend the code");
});
