//! Assembles the Rocket application: state, routes, catchers, fairings, templates.

use std::sync::Arc;

use figment::Figment;
use rocket::fs::FileServer;
use rocket::{Build, Rocket, catchers};
use rocket_dyn_templates::Template;

use crate::service::AppState;
use crate::web::{self, fairings};

/// The application on `state`, configured by `figment` (see `config::figment`).
pub fn build(state: AppState, figment: Figment) -> Rocket<Build> {
    let figment = Figment::from(rocket::Config::default())
        .merge(("log_level", "off"))
        .merge(("cli_colors", false))
        .merge(figment)
        // The client's address comes from `web::guards::client_addr`, which trusts
        // `X-Real-IP` only from the configured proxies.
        .merge(("ip_header", false));
    let template_dir: String =
        figment.extract_inner("template_dir").unwrap_or_else(|_| "templates".to_string());
    let metrics = Arc::new(fairings::Metrics::default());
    rocket::custom(figment)
        .manage(state)
        .manage(metrics.clone())
        .attach(fairings::Telemetry { metrics })
        .attach(fairings::SecurityHeaders)
        .attach(Template::fairing())
        .mount("/api/v1", web::api::routes())
        .mount("/", web::ops::routes())
        .mount("/", web::html::routes())
        .mount("/static", FileServer::from(format!("{template_dir}/static")))
        .register("/api", catchers![web::errors::api_catcher])
        .register("/", catchers![web::errors::page_catcher])
}
