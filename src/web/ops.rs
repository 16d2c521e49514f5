//! Operations: `/healthz` (a database round trip) and `/metrics` (Prometheus text).

use std::sync::Arc;

use rocket::http::{ContentType, Status};
use rocket::serde::json::{Json, Value, json};
use rocket::{State, get, routes};

use super::fairings::Metrics;
use crate::service::AppState;

#[get("/healthz")]
async fn healthz(state: &State<AppState>) -> (Status, Json<Value>) {
    match state.db.ping().await {
        Ok(()) => (Status::Ok, Json(json!({"status": "ok"}))),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (Status::ServiceUnavailable, Json(json!({"status": "unavailable"})))
        }
    }
}

#[get("/metrics")]
fn metrics(
    state: &State<AppState>,
    metrics: &State<Arc<Metrics>>,
) -> Result<(ContentType, String), Status> {
    if !state.config.metrics_enabled {
        return Err(Status::NotFound);
    }
    let content_type = ContentType::new("text", "plain").with_params([("version", "0.0.4")]);
    Ok((content_type, metrics.render()))
}

pub fn routes() -> Vec<rocket::Route> {
    routes![healthz, metrics]
}
