//! The error contract, health, metrics, OpenAPI completeness and security headers.

use rocket::http::{ContentType, Header, Status};
use serde_json::{Value, json};

use super::helpers::{Backend, TestApp, body, fields};

db_test!(errors_are_json_under_api, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    let (status, v) = app.get_json("/api/v1/no-such-route", Some(&coord)).await;
    assert_eq!((status, v["error"]["code"].as_str()), (Status::NotFound, Some("not_found")));
    let (status, v) = app.post_raw("/api/v1/studies", Some(&coord), "{\"slug\": ").await;
    assert_eq!((status, v["error"]["code"].as_str()), (Status::BadRequest, Some("bad_request")));
    let (status, v) = app.post_raw("/api/v1/studies", Some(&coord), "[1, 2]").await;
    assert_eq!(status, Status::UnprocessableEntity, "{v}");
    let (status, v) = app
        .post_raw("/api/v1/studies", Some(&coord), "{\"ethics\": {\"approved_on\": 20260101}}")
        .await;
    assert_eq!(
        (status, fields(&v)),
        (Status::UnprocessableEntity, vec!["ethics.approved_on".to_string()])
    );
    let (status, v) = app.post_raw("/api/v1/studies", None, "{}").await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (Status::Unauthorized, Some("unauthenticated"))
    );
    let res = app.client.put("/api/v1/studies").dispatch().await;
    let (status, v) = body(res).await;
    assert!(
        status.code >= 400 && status.code < 500 && v["error"]["code"].is_string(),
        "{status} {v}"
    );
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_fault_shows_a_request_id_and_no_internals() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await.expect("app");
    let coord = app.staff("coord@example.org", "coordinator").await;
    app.db.clone().close().await.expect("close the pool");
    let res = app
        .client
        .get("/api/v1/studies")
        .header(Header::new("Authorization", format!("Bearer {coord}")))
        .header(Header::new("X-Request-Id", "req-42"))
        .dispatch()
        .await;
    assert_eq!(res.headers().get_one("X-Request-Id"), Some("req-42"));
    assert_eq!(res.headers().get_one("Retry-After"), Some("5"), "an outage says when to retry");
    let (status, v) = body(res).await;
    assert_eq!(status, Status::ServiceUnavailable);
    assert_eq!(v["error"]["code"], "unavailable");
    assert_eq!(v["error"]["request_id"], "req-42");
    let text = v.to_string().to_lowercase();
    assert!(!text.contains("pool") && !text.contains("sqlx") && !text.contains("sqlite"), "{v}");
    let res = app.client.get("/healthz").dispatch().await;
    assert_eq!(res.status(), Status::Ok, "liveness does not wait on the database");
    let res = app.client.get("/readyz").dispatch().await;
    assert_eq!(res.status(), Status::ServiceUnavailable);
    let (_, v) = body(res).await;
    assert_eq!(v["status"], "unavailable");
    assert!(v["reason"].as_str().is_some_and(|r| r.contains("database")), "{v}");
    let metrics = app.client.get("/metrics").dispatch().await.into_string().await;
    let metrics = metrics.unwrap_or_default();
    assert!(metrics.contains("consentry_database_errors_total 1"), "{metrics}");
    assert!(metrics.contains("consentry_http_server_errors_total 2"), "{metrics}");
}

db_test!(health_and_metrics, |app| {
    let res = app.client.get("/healthz").dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    let res = app.client.get("/readyz").dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    app.get_json("/api/v1/studies", None).await;
    let res = app.client.get("/metrics").dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(
        res.content_type().map(|c| c.to_string()),
        Some("text/plain; version=0.0.4".to_string())
    );
    let text = res.into_string().await.unwrap_or_default();
    assert!(text.contains("consentry_http_requests_total{method=\"GET\",route=\"/api/v1/studies\",status=\"401\"} 1"), "{text}");
    assert!(text.contains("consentry_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"+Inf\"} 1"), "{text}");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_be_turned_off() {
    let app =
        TestApp::spawn(Backend::Sqlite, &[("metrics_enabled", json!(false))]).await.expect("app");
    assert_eq!(app.client.get("/metrics").dispatch().await.status(), Status::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_route_is_in_the_openapi_document() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await.expect("app");
    let res = app.client.get("/api/v1/openapi.json").dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    let doc: Value =
        serde_json::from_str(&res.into_string().await.unwrap_or_default()).expect("json");
    assert!(doc["openapi"].as_str().unwrap_or("").starts_with("3.1"), "OpenAPI 3.1");
    let documented = &doc["paths"];
    for route in app.client.rocket().routes() {
        let uri = route.uri.to_string();
        if !uri.starts_with("/api/v1/") || uri == "/api/v1/openapi.json" {
            continue;
        }
        let path = uri.split('?').next().unwrap_or("").replace('<', "{").replace('>', "}");
        let method = route.method.as_str().to_lowercase();
        assert!(documented[&path][&method].is_object(), "{method} {path} is not documented");
    }
}

db_test!(security_headers_everywhere, |app| {
    for path in ["/healthz", "/api/v1/studies", "/staff/login", "/no-such-page"] {
        let res = app.client.get(path).dispatch().await;
        let h = res.headers();
        assert_eq!(h.get_one("Referrer-Policy"), Some("no-referrer"), "{path}");
        assert_eq!(h.get_one("X-Content-Type-Options"), Some("nosniff"), "{path}");
        assert!(
            h.get_one("Content-Security-Policy")
                .is_some_and(|c| c.contains("frame-ancestors 'none'")),
            "{path}"
        );
        assert!(h.get_one("X-Request-Id").is_some(), "{path}");
    }
    let res = app.client.get("/no-such-page").header(ContentType::HTML).dispatch().await;
    assert_eq!(res.status(), Status::NotFound);
    assert!(res.into_string().await.unwrap_or_default().contains("Page not found"));
});

/// What the test subscriber writes, kept to be read back.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut held) = self.0.lock() {
            held.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        self.0.lock().map(|held| String::from_utf8_lossy(&held).into_owned()).unwrap_or_default()
    }
}

/// Posts `body` to `path` with `bearer` and the request id `id`, and returns the
/// status and what was logged meanwhile.
async fn logged_post(
    app: &crate::tests::helpers::TestApp,
    path: &str,
    bearer: &str,
    id: &str,
    body: String,
) -> (Status, String) {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber =
        tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let res = app
        .client
        .post(path.to_string())
        .header(ContentType::JSON)
        .header(Header::new("Authorization", format!("Bearer {bearer}")))
        .header(Header::new("X-Request-Id", id.to_string()))
        .body(body)
        .dispatch()
        .await;
    let status = res.status();
    drop(guard);
    (status, logs.text())
}

db_test!(service_logs_name_their_request_and_use_case, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    let body = crate::tests::helpers::study_body("study-one", -30, 365).to_string();
    let (status, text) = crate::tests::errors_and_ops::logged_post(
        &app,
        "/api/v1/studies",
        &coord,
        "trace-me-7",
        body,
    )
    .await;
    assert_eq!(status, Status::Created);
    let line = text.lines().find(|l| l.contains("study created")).unwrap_or_default();
    assert!(line.contains("request_id=trace-me-7"), "the request span is on the line: {text}");
    assert!(line.contains("route=/api/v1/studies"), "{line}");
    assert!(line.contains("}:create:"), "the use case's span is on the line: {line}");
});

// Consents are signed in batches by a task of their own; each one's log line still
// names the request that sent it.
db_test!(a_consent_signed_in_a_batch_is_logged_under_its_request, |app| {
    use crate::tests::consent_flow::{invite, recruiting_study, signing};
    let s = recruiting_study(&app).await;
    let token = invite(&app, &s, "p1@student.example.edu").await;
    let body = signing(&s, "Pat Example", true).to_string();
    let path = "/api/v1/participant/consent";
    let (status, text) =
        crate::tests::errors_and_ops::logged_post(&app, path, &token, "trace-consent-9", body)
            .await;
    assert_eq!(status, Status::Created);
    // Other tests log their own consents meanwhile: this request's line is the one
    // that names it.
    let line = text
        .lines()
        .find(|l| l.contains("consent given") && l.contains("request_id=trace-consent-9"))
        .unwrap_or_default();
    assert!(!line.is_empty(), "the request's id is on the consent's line: {text}");
    assert!(line.contains("code=P001"), "{line}");
});
