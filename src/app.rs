//! Assembles the Rocket application: state, routes, catchers, fairings, templates.

use std::sync::Arc;

use figment::Figment;
use rocket::fairing::AdHoc;
use rocket::fs::FileServer;
use rocket::{Build, Rocket, catchers};
use rocket_dyn_templates::Template;
use rocket_dyn_templates::minijinja::AutoEscape;

use crate::service::AppState;
use crate::web::html::page::Pages;
use crate::web::{self, fairings};

/// Request size limits unless the configuration sets its own: a consent statement
/// or a consent-form file posted from a page fits well within them.
fn limits() -> rocket::data::Limits {
    use rocket::data::{Limits, ToByteUnit};
    Limits::default()
        .limit("json", 1.mebibytes())
        .limit("form", 256.kibibytes())
        .limit("data-form", 2.mebibytes())
        .limit("string", 256.kibibytes())
}

/// The application on `state`, configured by `figment` (see `config::figment`).
/// Pages and static files come from `CONSENTRY_TEMPLATE_DIR` when it is set, else
/// from the binary itself.
pub fn build(state: AppState, figment: Figment) -> Rocket<Build> {
    let template_dir = state.config.template_dir.clone();
    let figment = Figment::from(rocket::Config::default())
        .merge(("log_level", "off"))
        .merge(("cli_colors", false))
        .merge(("limits", limits()))
        .merge(figment)
        // The client's address comes from `web::guards::client_addr`, which trusts
        // `X-Real-IP` only from the configured proxies.
        .merge(("ip_header", false));
    let metrics = Arc::new(fairings::Metrics::default());
    // The templates the fairing loads (and in a debug build reloads after an edit),
    // for `Page`s to be drawn with.
    let pages = Pages::default();
    let keeper = pages.clone();
    let rocket = match template_dir {
        Some(dir) => rocket::custom(figment.merge(("template_dir", dir.clone())))
            .attach(Template::custom(move |engines| keeper.keep(&engines.minijinja)))
            .mount("/static", FileServer::from(format!("{dir}/static"))),
        None => rocket::custom(figment.merge(("template_dir", no_template_folder())))
            .attach(Template::try_custom(move |engines| {
                // Every page is HTML: escape everything written into one. Set before
                // the templates are added, which fixes their escaping.
                engines.minijinja.set_auto_escape_callback(|_| AutoEscape::Html);
                for (name, source) in crate::assets::templates() {
                    engines.minijinja.add_template_owned(name, source)?;
                }
                keeper.keep(&engines.minijinja);
                Ok(())
            }))
            .mount("/", web::assets::routes()),
    };
    rocket
        .attach(AdHoc::on_shutdown("ad visits and audit checkpoint", |rocket| {
            Box::pin(async move {
                if let Some(state) = rocket.state::<AppState>() {
                    if let Err(e) = crate::service::recruitment::flush_ad_views(state).await {
                        tracing::error!(error = %e, "ad visits could not be written at shutdown");
                    }
                    crate::service::audit::checkpoint_at_shutdown(state).await;
                }
            })
        }))
        .manage(state)
        .manage(pages)
        .manage(metrics.clone())
        .attach(fairings::Telemetry { metrics })
        .attach(fairings::SecurityHeaders)
        .mount("/api/v1", fairings::traced(web::api::routes()))
        .mount("/", web::ops::routes())
        .mount("/", fairings::traced(web::html::routes()))
        .register("/api", catchers![web::errors::api_catcher])
        .register("/", catchers![web::errors::page_catcher])
}

/// Why the server did not start, or stopped, as one sentence naming the setting.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("cannot listen on {address}:{port} (CONSENTRY_ADDRESS, CONSENTRY_PORT): {source}")]
    Listen { address: String, port: u16, source: Box<rocket::Error> },
    #[error("the server could not start or stopped: {0}")]
    Stopped(Box<rocket::Error>),
}

/// Serves until the process is stopped; a failure to start (the port taken, the
/// templates unreadable) as one sentence naming the setting.
pub async fn launch(state: AppState, figment: Figment) -> Result<(), LaunchError> {
    let (address, port) = (state.config.address.clone(), state.config.port);
    build(state, figment).launch().await.map(|_| ()).map_err(|e| match e.kind() {
        rocket::error::ErrorKind::Bind(_) => {
            LaunchError::Listen { address, port, source: Box::new(e) }
        }
        _ => LaunchError::Stopped(Box::new(e)),
    })
}

/// The template engine reads a folder before it takes built-in templates: a new,
/// empty one of this process's own (made here, so nobody else put files in it), or
/// where no folder can be made (a read-only system), `/dev/null`, which holds none.
fn no_template_folder() -> String {
    let mut suffix = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut suffix);
    let dir = std::env::temp_dir().join(format!("consentry-templates-{}", hex::encode(suffix)));
    match std::fs::create_dir(&dir) {
        Ok(()) => dir.display().to_string(),
        Err(_) => "/dev/null".to_string(),
    }
}
