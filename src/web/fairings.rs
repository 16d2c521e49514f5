//! Fairings: a request id on every request and response, one log line per request
//! (route template, never the raw path, which can hold a participant's token),
//! Prometheus counters and a latency histogram, and the security headers.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rand::RngCore;
use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::route::{self, Handler, Route};
use rocket::{Data, Request, Response};
use tracing::Instrument;

/// This request's id: the caller's `X-Request-Id` when it is a short token, else new.
#[derive(Debug, Clone)]
pub struct RequestId(String);

impl RequestId {
    pub fn of(req: &Request<'_>) -> RequestId {
        req.local_cache(|| {
            let incoming = req.headers().get_one("X-Request-Id").filter(|v| {
                !v.is_empty()
                    && v.len() <= 64
                    && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
            RequestId(match incoming {
                Some(v) => v.to_string(),
                None => {
                    let mut bytes = [0u8; 12];
                    rand::rng().fill_bytes(&mut bytes);
                    hex::encode(bytes)
                }
            })
        })
        .clone()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

struct Started(Instant);

const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// A route's handler run inside a `request` span carrying the request id and the
/// route template, so that every line logged while it runs (by the handler, the
/// service use case and the store) names its request.
#[derive(Clone)]
struct Traced(Box<dyn Handler>);

#[rocket::async_trait]
impl Handler for Traced {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> route::Outcome<'r> {
        let span = tracing::info_span!(
            "request",
            request_id = %RequestId::of(req),
            method = %req.method(),
            route = %req.route().map(|r| r.uri.to_string()).unwrap_or_default(),
        );
        self.0.handle(req, data).instrument(span).await
    }
}

/// `routes` with each handler run inside its request's span.
pub fn traced(routes: Vec<Route>) -> Vec<Route> {
    routes
        .into_iter()
        .map(|mut r| {
            r.handler = Box::new(Traced(r.handler));
            r
        })
        .collect()
}

/// Request counts by method, route and status, and latency by method and route.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
    server_errors: std::sync::atomic::AtomicU64,
    database_errors: std::sync::atomic::AtomicU64,
}

impl Metrics {
    /// A request failed because of the database (an error, an outage, a full disk).
    pub fn database_error(&self) {
        self.database_errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if status >= 500 {
            self.server_errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        if let Ok(mut map) = self.requests.lock() {
            *map.entry((method.to_string(), route.to_string(), status)).or_default() += 1;
        }
        if let Ok(mut map) = self.latency.lock() {
            let h = map.entry((method.to_string(), route.to_string())).or_default();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += seconds;
        }
    }

    /// The Prometheus text exposition format.
    pub fn render(&self) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        let mut out = format!(
            "# HELP consentry_http_server_errors_total Answers with a 5xx status.\n\
             # TYPE consentry_http_server_errors_total counter\n\
             consentry_http_server_errors_total {}\n\
             # HELP consentry_database_errors_total Requests that failed because of the database (errors, outages, a full or read-only disk).\n\
             # TYPE consentry_database_errors_total counter\n\
             consentry_database_errors_total {}\n",
            self.server_errors.load(Relaxed),
            self.database_errors.load(Relaxed),
        );
        out.push_str(
            "# HELP consentry_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE consentry_http_requests_total counter\n");
        if let Ok(map) = self.requests.lock() {
            for ((method, route, status), n) in map.iter() {
                out.push_str(&format!(
                    "consentry_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}\n",
                    escape(route)
                ));
            }
        }
        out.push_str(
            "# HELP consentry_http_request_duration_seconds Time to answer, by method and route.\n",
        );
        out.push_str("# TYPE consentry_http_request_duration_seconds histogram\n");
        if let Ok(map) = self.latency.lock() {
            for ((method, route), h) in map.iter() {
                let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
                for (i, bound) in BUCKETS.iter().enumerate() {
                    out.push_str(&format!(
                        "consentry_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}\n",
                        h.counts[i]
                    ));
                }
                out.push_str(&format!(
                    "consentry_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\n",
                    h.count
                ));
                out.push_str(&format!(
                    "consentry_http_request_duration_seconds_sum{{{labels}}} {}\n",
                    h.sum
                ));
                out.push_str(&format!(
                    "consentry_http_request_duration_seconds_count{{{labels}}} {}\n",
                    h.count
                ));
            }
        }
        out
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Request id, timing, the per-request log line and metrics.
pub struct Telemetry {
    pub metrics: Arc<Metrics>,
}

#[rocket::async_trait]
impl Fairing for Telemetry {
    fn info(&self) -> Info {
        Info { name: "request id, log and metrics", kind: Kind::Request | Kind::Response }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        req.local_cache(|| Started(Instant::now()));
        RequestId::of(req);
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let id = RequestId::of(req);
        let seconds = req.local_cache(|| Started(Instant::now())).0.elapsed().as_secs_f64();
        let route =
            req.route().map(|r| r.uri.to_string()).unwrap_or_else(|| "unmatched".to_string());
        let method = req.method().as_str();
        let status = res.status().code;
        self.metrics.observe(method, &route, status, seconds);
        tracing::info!(
            request_id = %id,
            method,
            route = %route,
            status,
            ms = (seconds * 1000.0).round() as u64,
            "request"
        );
        res.set_header(Header::new("X-Request-Id", id.to_string()));
    }
}

/// The same protective headers on every answer.
pub struct SecurityHeaders;

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info { name: "security headers", kind: Kind::Response }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        res.set_raw_header(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        );
        res.set_raw_header("Referrer-Policy", "no-referrer");
        res.set_raw_header("X-Content-Type-Options", "nosniff");
        res.set_raw_header("X-Frame-Options", "DENY");
        res.set_raw_header("Cross-Origin-Opener-Policy", "same-origin");
        res.set_raw_header("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
        if !req.uri().path().starts_with("/static/") {
            res.set_raw_header("Cache-Control", "no-store");
        }
    }
}
