//! Logs: `tracing` to standard error, human-readable or JSON lines. Handlers opt in
//! to identifiers; names, e-mail addresses, answers and tokens are never logged.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,rocket=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Human => builder.with_target(false).try_init(),
    };
    // A second initialisation (as in tests) keeps the first subscriber.
    let _ = result;
}
