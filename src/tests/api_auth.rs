//! Staff accounts and sign-in through the JSON API.

use rocket::http::Status;
use serde_json::json;

use super::helpers::{PASSWORD, fields};

db_test!(token_for_good_credentials, |app| {
    let admin = app.staff("admin@example.org", "admin").await;
    assert!(admin.starts_with("cst_") && admin.len() >= 4 + 32, "{admin}");
    let (status, v) = app
        .post_json(
            "/api/v1/auth/token",
            None,
            json!({"email": "ADMIN@example.org ", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(v["role"], "admin");
    let expires = v["expires_at"].as_str().unwrap_or_default();
    assert!(chrono::DateTime::parse_from_rfc3339(expires).is_ok(), "{expires}");
    // The token works, and it is stored only as a hash.
    assert_eq!(app.get_json("/api/v1/users", Some(&admin)).await.0, Status::Ok);
    let count =
        |hash: &str| format!("SELECT COUNT(*) FROM staff_tokens WHERE token_hash = '{hash}'");
    assert_eq!(crate::store::testing::scalar(&app.db, &count(&admin)).await, 0);
    let hashed = crate::domain::audit::sha256_hex(admin.as_bytes());
    assert_eq!(crate::store::testing::scalar(&app.db, &count(&hashed)).await, 1);
});

db_test!(wrong_or_missing_credentials, |app| {
    app.staff("coord@example.org", "coordinator").await;
    let (status, v) = app
        .post_json(
            "/api/v1/auth/token",
            None,
            json!({"email": "coord@example.org", "password": "nope-nope-nope"}),
        )
        .await;
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(v["error"]["code"], "unauthenticated");
    let (status, _) = app
        .post_json(
            "/api/v1/auth/token",
            None,
            json!({"email": "nobody@example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, Status::Unauthorized, "an unknown account looks like a wrong password");
    let (status, v) = app.post_json("/api/v1/auth/token", None, json!({})).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(fields(&v), ["email", "password"]);
    // Tokens of the wrong kind or made up are refused.
    for bad in ["cpt_0123456789abcdef0123456789abcdef", "cst_madeup", "garbage"] {
        assert_eq!(
            app.get_json("/api/v1/studies", Some(bad)).await.0,
            Status::Unauthorized,
            "{bad}"
        );
    }
});

db_test!(
    repeated_failures_are_throttled_and_audited,
    ["login_max_failures_per_account" => 3],
    |app| {
        app.staff("coord@example.org", "coordinator").await;
        let wrong = json!({"email": "coord@example.org", "password": "wrong-password-1"});
        for _ in 0..3 {
            assert_eq!(
                app.post_json("/api/v1/auth/token", None, wrong.clone()).await.0,
                Status::Unauthorized
            );
        }
        let right = json!({"email": "coord@example.org", "password": PASSWORD});
        let (status, v) = app.post_json("/api/v1/auth/token", None, right).await;
        assert_eq!(status, Status::TooManyRequests, "this address waits for this account: {v}");
        assert_eq!(v["error"]["code"], "too_many_attempts");

        let admin = app.staff("admin@example.org", "admin").await;
        let (_, log) = app.get_json("/api/v1/audit?limit=1000", Some(&admin)).await;
        let throttled: Vec<_> = log["events"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["action"] == "auth.throttled")
            .collect();
        assert_eq!(throttled.len(), 1, "{log}");
        assert_eq!(
            throttled[0]["details"]["limits"],
            json!(["sign_in_pair", "sign_in_account"]),
            "{log}"
        );
        assert!(
            !log.to_string().contains("coord@example.org"),
            "no e-mail addresses in the audit log"
        );
    }
);

db_test!(
    failures_from_one_address_are_throttled,
    ["login_max_failures_per_address" => 4],
    |app| {
        app.staff("coord@example.org", "coordinator").await;
        let attempt = |i: usize, from: &str| {
            app.client
                .post("/api/v1/auth/token")
                .remote(from.parse().expect("an address"))
                .header(rocket::http::ContentType::JSON)
                .body(
                    json!({"email": format!("guess{i}@example.org"), "password": "wrong-password"})
                        .to_string(),
                )
        };
        for i in 0..4 {
            assert_eq!(attempt(i, "203.0.113.9:5000").dispatch().await.status(), Status::Unauthorized);
        }
        assert_eq!(attempt(9, "203.0.113.9:5000").dispatch().await.status(), Status::TooManyRequests);
        // Another address is not affected.
        let other = app
            .client
            .post("/api/v1/auth/token")
            .remote("198.51.100.7:5000".parse().expect("an address"))
            .header(rocket::http::ContentType::JSON)
            .body(json!({"email": "coord@example.org", "password": PASSWORD}).to_string())
            .dispatch()
            .await;
        assert_eq!(other.status(), Status::Ok);
    }
);

db_test!(admins_create_staff_accounts, |app| {
    let admin = app.staff("admin@example.org", "admin").await;
    let coord = app.staff("coord@example.org", "coordinator").await;
    let body = json!({"email": "eth@example.org", "name": "Eth Officer", "role": "ethics_officer", "password": PASSWORD});
    assert_eq!(app.post_json("/api/v1/users", None, body.clone()).await.0, Status::Unauthorized);
    assert_eq!(
        app.post_json("/api/v1/users", Some(&coord), body.clone()).await.0,
        Status::Forbidden
    );
    let (status, v) = app.post_json("/api/v1/users", Some(&admin), body.clone()).await;
    assert_eq!(status, Status::Created, "{v}");
    assert_eq!(
        (v["email"].as_str(), v["role"].as_str()),
        (Some("eth@example.org"), Some("ethics_officer"))
    );
    assert!(v.get("password").is_none() && v.get("password_hash").is_none());
    let (status, v) = app.post_json("/api/v1/users", Some(&admin), body).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(fields(&v), ["email"], "a taken address is named");
    let (status, v) = app
        .post_json(
            "/api/v1/users",
            Some(&admin),
            json!({"email": "x", "name": " ", "role": "boss", "password": "short"}),
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(fields(&v), ["email", "name", "password", "role"]);
    // The new account signs in with its password.
    assert!(app.token("eth@example.org", PASSWORD).await.starts_with("cst_"));
    let (status, list) = app.get_json("/api/v1/users", Some(&admin)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(list.as_array().map(Vec::len), Some(3));
});
