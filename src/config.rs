//! The service's configuration: one Figment (`Rocket.toml`, then `CONSENTRY_*`
//! environment variables) extracted into a typed, validated `AppConfig`. Nothing
//! reads configuration from anywhere else.

use std::path::PathBuf;

use std::net::IpAddr;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://consentry.db?mode=rwc";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct AppConfig {
    pub database_url: String,
    pub address: String,
    pub port: u16,
    /// Rocket's key for private cookies (base64 of 32 or 64 bytes). Required outside
    /// debug builds; `serve --demo` makes a throw-away one when it is unset.
    pub secret_key: Option<String>,
    /// A folder of form files (`questionnaires/`, `consent/`) instead of the seed
    /// study's forms built into the binary.
    pub forms_dir: Option<String>,
    /// A folder of page templates (with `static/`) instead of the built-in ones.
    pub template_dir: Option<String>,
    pub public_url: String,
    pub smtp_url: Option<String>,
    /// The sender of mail, e.g. `Study team <research@example.edu>`.
    pub mail_from: String,
    pub log_format: LogFormat,
    /// Lifetime of a staff API token, in hours.
    pub token_ttl_hours: i64,
    /// Lifetime of a staff browser session, in hours.
    pub session_ttl_hours: i64,
    /// Failed sign-ins for one account within the window before it is throttled.
    pub login_max_failures_per_account: u32,
    /// Failed sign-ins from one address within the window before it is throttled.
    pub login_max_failures_per_address: u32,
    pub login_window_minutes: i64,
    /// Addresses of the reverse proxies whose `X-Real-IP` header names the client
    /// (comma-separated addresses or CIDR blocks, e.g. `127.0.0.1, 10.0.0.0/8`).
    /// Empty: the header is ignored and the connection's address is the client's.
    pub trusted_proxies: String,
    /// Days a participant's private link works (each link has its own expiry).
    pub participant_link_days: i64,
    /// Serve `/metrics` (disable it when the port is public and no proxy guards it).
    pub metrics_enabled: bool,
    /// Size of the database connection pool.
    pub db_max_connections: u32,
    /// How long a request waits for a database connection before it is answered
    /// 503 (an outage fails fast instead of hanging), in milliseconds.
    pub db_acquire_timeout_ms: u64,
    /// The audit signing key (`consentry audit keygen` writes it, and its public key
    /// beside it as `<file>.pub`). Keep it off the database's machine or at least out
    /// of its administrators' reach. Unset: no checkpoints are signed.
    pub audit_key_file: Option<String>,
    /// Where signed checkpoints are appended (`checkpoints.jsonl`); ship it elsewhere.
    pub checkpoint_dir: Option<String>,
    /// Minutes between the server's checkpoints (it takes one at shutdown too); 0: only
    /// `consentry audit checkpoint` takes them.
    pub checkpoint_minutes: u64,
    /// An address (the ethics office's) each checkpoint is mailed to through the
    /// outbox, so a copy leaves the machine; unset: the file only.
    pub checkpoint_mail_to: Option<String>,
}

impl std::fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppConfig")
            .field("database_url", &redact_url(&self.database_url))
            .field("address", &self.address)
            .field("port", &self.port)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "<set>"))
            .field("forms_dir", &self.forms_dir)
            .field("template_dir", &self.template_dir)
            .field("public_url", &self.public_url)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("log_format", &self.log_format)
            .field("audit_key_file", &self.audit_key_file)
            .field("checkpoint_dir", &self.checkpoint_dir)
            .finish_non_exhaustive()
    }
}

/// A connection URL with any password replaced, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            let user = creds.split(':').next().unwrap_or_default();
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            database_url: DEFAULT_DATABASE_URL.into(),
            address: "127.0.0.1".into(),
            port: 8000,
            secret_key: None,
            forms_dir: None,
            template_dir: None,
            public_url: "http://127.0.0.1:8000".into(),
            smtp_url: None,
            mail_from: "Consentry <consentry@localhost>".into(),
            log_format: LogFormat::Human,
            token_ttl_hours: 12,
            session_ttl_hours: 8,
            login_max_failures_per_account: 5,
            login_max_failures_per_address: 20,
            login_window_minutes: 15,
            trusted_proxies: String::new(),
            participant_link_days: 60,
            metrics_enabled: true,
            db_max_connections: 10,
            db_acquire_timeout_ms: 3000,
            audit_key_file: None,
            checkpoint_dir: None,
            checkpoint_minutes: 60,
            checkpoint_mail_to: None,
        }
    }
}

/// A `CONSENTRY_TRUSTED_PROXIES` entry that is neither an address nor a CIDR block.
#[derive(Debug, PartialEq, Eq)]
pub struct NotABlock(pub String);

/// An address or a CIDR block of addresses (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpBlock {
    network: IpAddr,
    prefix: u8,
}

impl IpBlock {
    pub fn parse(raw: &str) -> Option<IpBlock> {
        let (addr, prefix) = match raw.split_once('/') {
            Some((a, p)) => (a.trim().parse::<IpAddr>().ok()?, Some(p.trim().parse::<u8>().ok()?)),
            None => (raw.trim().parse::<IpAddr>().ok()?, None),
        };
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(bits);
        (prefix <= bits).then_some(IpBlock { network: addr, prefix })
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(addr),
            v4 => v4,
        };
        let (a, n, bits) = match (addr, self.network) {
            (IpAddr::V4(a), IpAddr::V4(n)) => {
                (u128::from(u32::from(a)), u128::from(u32::from(n)), 32)
            }
            (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
            _ => return false,
        };
        let shift = bits - u32::from(self.prefix);
        shift >= bits || (a >> shift) == (n >> shift)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration could not be read: {0}")]
    Read(#[from] Box<figment::Error>),
    #[error("configuration is invalid: {0}")]
    Invalid(String),
}

/// The one Figment: defaults, then `Rocket.toml` (its `[default]` table and the
/// table of the active profile), then `CONSENTRY_*` variables. Rocket reads its own
/// keys (`address`, `port`, `secret_key`, `limits`, …) from this same Figment.
pub fn figment() -> Figment {
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    let toml_path = std::env::var("CONSENTRY_CONFIG").unwrap_or_else(|_| "Rocket.toml".into());
    Figment::from(Serialized::defaults(AppConfig::default()))
        .merge(Toml::file(toml_path).nested())
        .merge(Env::prefixed("CONSENTRY_").ignore(&["CONFIG", "TEST_DATABASE_URL"]).global())
        .select(profile)
}

impl AppConfig {
    pub fn from_figment(figment: &Figment) -> Result<Self, ConfigError> {
        let mut config: AppConfig = figment.extract().map_err(Box::new)?;
        // Unless it is set, the public address follows where the server listens, so
        // the links it prints and mails work on another port too.
        if config.public_url == AppConfig::default().public_url {
            let host = match config.address.as_str() {
                "0.0.0.0" | "::" => "localhost",
                other => other,
            };
            config.public_url = format!("http://{host}:{}", config.port);
        }
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if !(self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            return invalid("CONSENTRY_DATABASE_URL must start with sqlite: or postgres://".into());
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return invalid("CONSENTRY_PUBLIC_URL must be an http:// or https:// address".into());
        }
        if self.token_ttl_hours < 1 || self.session_ttl_hours < 1 {
            return invalid("token and session lifetimes must be at least one hour".into());
        }
        if self.login_max_failures_per_account == 0 || self.login_max_failures_per_address == 0 {
            return invalid("login failure limits must be at least 1".into());
        }
        if self.login_window_minutes < 1 {
            return invalid("CONSENTRY_LOGIN_WINDOW_MINUTES must be at least 1".into());
        }
        if !(1..=3650).contains(&self.participant_link_days) {
            return invalid("CONSENTRY_PARTICIPANT_LINK_DAYS must be between 1 and 3650".into());
        }
        if self.audit_key_file.is_some() != self.checkpoint_dir.is_some() {
            return invalid(
                "CONSENTRY_AUDIT_KEY_FILE and CONSENTRY_CHECKPOINT_DIR go together: set both or neither"
                    .into(),
            );
        }
        if let Some(to) = &self.checkpoint_mail_to
            && crate::domain::user::Email::parse(to).is_err()
        {
            return invalid(format!(
                "CONSENTRY_CHECKPOINT_MAIL_TO: {to:?} is not an e-mail address"
            ));
        }
        if let Err(NotABlock(bad)) = self.proxies() {
            return invalid(format!(
                "CONSENTRY_TRUSTED_PROXIES: {bad:?} is not an address or CIDR block (e.g. 10.0.0.0/8)"
            ));
        }
        for (name, dir) in [
            ("CONSENTRY_FORMS_DIR", &self.forms_dir),
            ("CONSENTRY_TEMPLATE_DIR", &self.template_dir),
        ] {
            if let Some(dir) = dir
                && !std::path::Path::new(dir).is_dir()
            {
                return invalid(format!("{name}: {dir} is not a folder that can be read"));
            }
        }
        if !(100..=120_000).contains(&self.db_acquire_timeout_ms) {
            return invalid(
                "CONSENTRY_DB_ACQUIRE_TIMEOUT_MS must be between 100 and 120000".into(),
            );
        }
        if self.db_max_connections == 0 {
            return invalid("CONSENTRY_DB_MAX_CONNECTIONS must be at least 1".into());
        }
        if let Some(key) = &self.secret_key
            && key.trim().len() < 32
        {
            return invalid(
                "CONSENTRY_SECRET_KEY must be a base64 key of at least 32 bytes (openssl rand -base64 32)"
                    .into(),
            );
        }
        Ok(())
    }

    /// The trusted proxies, parsed; the first entry that is not an address or block
    /// on error.
    pub fn proxies(&self) -> Result<Vec<IpBlock>, NotABlock> {
        self.trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| IpBlock::parse(p).ok_or_else(|| NotABlock(p.to_string())))
            .collect()
    }

    /// The signing key's file and the checkpoint folder, when both are set.
    pub fn checkpoints(&self) -> Option<(PathBuf, PathBuf)> {
        let key = self.audit_key_file.as_ref()?;
        let dir = self.checkpoint_dir.as_ref()?;
        Some((PathBuf::from(key), PathBuf::from(dir)))
    }

    /// The public address of a path, for links in mail and printed output.
    pub fn public_link(&self, path: &str) -> String {
        format!("{}{}", self.public_url.trim_end_matches('/'), path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert!(AppConfig::default().validate().is_ok());
    }

    #[test]
    fn bad_values_are_named() {
        let c = AppConfig { database_url: "mysql://x".into(), ..AppConfig::default() };
        assert!(c.validate().is_err());
        let c = AppConfig { secret_key: Some("short".into()), ..AppConfig::default() };
        assert!(c.validate().is_err());
    }

    #[test]
    fn checkpoint_settings_go_together_and_name_themselves() {
        let named = |c: AppConfig| match c.validate() {
            Err(ConfigError::Invalid(m)) => m,
            other => format!("{other:?}"),
        };
        let half = AppConfig { audit_key_file: Some("/k".into()), ..AppConfig::default() };
        assert!(named(half).contains("CONSENTRY_CHECKPOINT_DIR"));
        let both = AppConfig {
            audit_key_file: Some("/k".into()),
            checkpoint_dir: Some("/d".into()),
            ..AppConfig::default()
        };
        assert!(both.clone().validate().is_ok());
        let bad_mail = AppConfig { checkpoint_mail_to: Some("ethics office".into()), ..both };
        assert!(named(bad_mail).contains("CONSENTRY_CHECKPOINT_MAIL_TO"));
    }

    #[test]
    fn proxy_blocks_match_their_addresses() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let block = IpBlock::parse("10.0.0.0/8");
        assert!(block.is_some_and(|b| b.contains(ip("10.200.3.4"))));
        assert!(block.is_some_and(|b| !b.contains(ip("11.0.0.1"))));
        assert!(IpBlock::parse("127.0.0.1").is_some_and(|b| b.contains(ip("::ffff:127.0.0.1"))));
        assert!(IpBlock::parse("127.0.0.1").is_some_and(|b| !b.contains(ip("127.0.0.2"))));
        assert!(IpBlock::parse("::1").is_some_and(|b| b.contains(ip("::1"))));
        assert!(IpBlock::parse("0.0.0.0/0").is_some_and(|b| b.contains(ip("8.8.8.8"))));
        assert!(IpBlock::parse("fd00::/8").is_some_and(|b| b.contains(ip("fd12::1"))));
        for bad in ["10.0.0.0/33", "nginx", "10.0.0/8", ""] {
            assert_eq!(IpBlock::parse(bad), None, "{bad}");
        }
        let c = AppConfig { trusted_proxies: "127.0.0.1, proxy".into(), ..AppConfig::default() };
        assert!(c.validate().is_err());
        let c =
            AppConfig { trusted_proxies: " 127.0.0.1 ,10.0.0.0/8".into(), ..AppConfig::default() };
        assert_eq!(c.proxies().map(|p| p.len()), Ok(2));
    }

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/consentry"),
            "postgres://app:***@db:5432/consentry"
        );
        let c = AppConfig {
            database_url: "postgres://a:pw@h/db".into(),
            secret_key: Some("k".repeat(44)),
            ..AppConfig::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("pw@") && !shown.contains(&"k".repeat(44)));
    }

    #[test]
    fn the_public_address_follows_the_listener_unless_set() {
        let base = Figment::from(Serialized::defaults(AppConfig::default()));
        let at = |f: Figment| AppConfig::from_figment(&f).map(|c| c.public_url).ok();
        assert_eq!(at(base.clone()).as_deref(), Some("http://127.0.0.1:8000"));
        assert_eq!(
            at(base.clone().merge(("port", 8124))).as_deref(),
            Some("http://127.0.0.1:8124")
        );
        assert_eq!(
            at(base.clone().merge(("address", "0.0.0.0")).merge(("port", 80))).as_deref(),
            Some("http://localhost:80")
        );
        let set = base.merge(("port", 8124)).merge(("public_url", "https://consent.example.edu"));
        assert_eq!(at(set).as_deref(), Some("https://consent.example.edu"));
    }
}
