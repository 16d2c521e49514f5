//! Operations: `/healthz` (liveness: the process answers), `/readyz` (readiness: the
//! database answers in time and, on SQLite, can be written) and `/metrics`
//! (Prometheus text).

use std::sync::Arc;

use rocket::http::{ContentType, Status};
use rocket::serde::json::{Json, Value, json};
use rocket::{State, get, routes};

use super::fairings::Metrics;
use crate::error::AppError;
use crate::service::AppState;

/// Liveness: answers as long as the process serves requests; it never waits for the
/// database, so an outage there does not get the process restarted.
#[get("/healthz")]
fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness: 200 when the database answers within the acquire timeout and, on
/// SQLite, the writer can begin a transaction; 503 with the reason otherwise.
#[get("/readyz")]
async fn readyz(state: &State<AppState>) -> (Status, Json<Value>) {
    match state.db.ready().await {
        Ok(()) => (Status::Ok, Json(json!({"status": "ready"}))),
        Err(e) => {
            let reason = match e {
                AppError::Unavailable(reason) => reason,
                other => other.to_string(),
            };
            tracing::warn!(reason = %reason, "not ready");
            (Status::ServiceUnavailable, Json(json!({"status": "unavailable", "reason": reason})))
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
    let mut text = metrics.render();
    text.push_str(&format!(
        "# HELP consentry_database_statements_total Statements run on the database by this instance.\n\
         # TYPE consentry_database_statements_total counter\n\
         consentry_database_statements_total {}\n\
         # HELP consentry_database_write_transactions_total Write transactions begun by this instance.\n\
         # TYPE consentry_database_write_transactions_total counter\n\
         consentry_database_write_transactions_total {}\n",
        state.db.queries_run(),
        state.db.writes_begun(),
    ));
    Ok((content_type, text))
}

pub fn routes() -> Vec<rocket::Route> {
    routes![healthz, readyz, metrics]
}
