//! Logs: `tracing` to standard error, human-readable or JSON lines. Handlers opt in
//! to identifiers; names, e-mail addresses, answers and tokens are never logged.
//! Whatever a dependency logs passes the same redaction on its way out: a token
//! (`cpt_…`, `cst_…`) or a participant link path (`/p/…`) never reaches the log,
//! whoever wrote the line (Rocket's own "No matching routes for POST /p/cpt_…").

use std::io::{IsTerminal, Write};
use std::sync::LazyLock;

use regex::Regex;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,rocket=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(Redacted);
    let result = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Human => builder.with_target(false).try_init(),
    };
    // A second initialisation (as in tests) keeps the first subscriber.
    let _ = result;
}

static SECRETS: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\b(cpt|cst)_[0-9A-Za-z]+|/p/[^\s/?#<\x22\\]+").ok());

/// `line` with every token and participant-link path replaced.
pub fn redact(line: &str) -> std::borrow::Cow<'_, str> {
    if !(line.contains("cpt_") || line.contains("cst_") || line.contains("/p/")) {
        return line.into();
    }
    match SECRETS.as_ref() {
        Some(re) => re.replace_all(line, |c: &regex::Captures<'_>| match c.get(1) {
            Some(prefix) => format!("{}_[redacted]", prefix.as_str()),
            None => "/p/[redacted]".to_string(),
        }),
        None => "[a log line was withheld: redaction is unavailable]\n".into(),
    }
}

/// Standard error, one event at a time, redacted: the formatter writes each event
/// into one writer, which passes it on when it is dropped.
struct Redacted;

struct RedactedEvent(Vec<u8>);

impl<'a> MakeWriter<'a> for Redacted {
    type Writer = RedactedEvent;

    fn make_writer(&'a self) -> Self::Writer {
        RedactedEvent(Vec::with_capacity(256))
    }
}

impl Write for RedactedEvent {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactedEvent {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.0);
        let _ = std::io::stderr().lock().write_all(redact(&text).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn tokens_and_links_are_redacted() {
        let token = format!("cpt_{}", "ab".repeat(32));
        let line = format!("No matching routes for POST /p/{token}?x=1. Bearer cst_deadBEEF9 ok\n");
        let clean = redact(&line);
        assert_eq!(
            clean,
            "No matching routes for POST /p/[redacted]?x=1. Bearer cst_[redacted] ok\n"
        );
        let json = format!("{{\"message\":\"GET /p/{token}\",\"t\":\"{token}\"}}");
        assert_eq!(redact(&json), "{\"message\":\"GET /p/[redacted]\",\"t\":\"cpt_[redacted]\"}");
        assert_eq!(redact("route=/p/<token> status=303"), "route=/p/<token> status=303");
        assert_eq!(redact("nothing to hide"), "nothing to hide");
    }
}
