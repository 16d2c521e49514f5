//! The command line (SPEC §3): serve, migrate, user add, verify-audit, forms check,
//! consent-form draft, report.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rand::RngCore;

use std::path::PathBuf;

use crate::audit::{self, checkpoints};
use crate::config::{self, AppConfig, redact_url};
use crate::domain::audit::Verification;
use crate::domain::user::NewUser;
use crate::service::user::AccountChange;
use crate::service::{self, Actor, AppState};
use crate::store::Db;

#[derive(Parser)]
#[command(
    name = "consentry",
    version,
    about = "Survey and informed-consent management for human research"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations, then serve HTTP.
    Serve {
        /// Load the demo study and its staff first, and print their logins.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Manage staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Recompute every audit chain and every signed consent; with --checkpoints,
    /// prove each chain still extends every signed checkpoint. Exit 1 when one is broken.
    VerifyAudit {
        /// A folder of checkpoint files (`*.jsonl`), e.g. the copy shipped off the server.
        #[arg(long)]
        checkpoints: Option<PathBuf>,
        /// The public key to check them with (default: CONSENTRY_AUDIT_KEY_FILE + .pub).
        #[arg(long, requires = "checkpoints")]
        public_key: Option<PathBuf>,
    },
    /// The audit trail's signing key and checkpoints.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Form files: check a folder of questionnaires and consent forms.
    Forms {
        #[command(subcommand)]
        command: FormsCommand,
    },
    /// Consent-form versions from files under forms/consent/.
    ConsentForm {
        #[command(subcommand)]
        command: ConsentFormCommand,
    },
    /// A study's report, offline: the coordinator's JSON (raw counts), or the
    /// published CSV or PDF (small cells suppressed). Audited as an export by `cli`.
    Report {
        /// The study's slug.
        study: String,
        #[arg(long, value_enum, default_value = "json")]
        format: ReportFormat,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Also break every question down by this screening question.
        #[arg(long)]
        by: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Write a new Ed25519 key pair: the signing key to CONSENTRY_AUDIT_KEY_FILE (or
    /// --out), readable by its owner only, and the public key beside it as FILE.pub.
    Keygen {
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Sign every chain's head now: the checkpoint is appended to
    /// CONSENTRY_CHECKPOINT_DIR/checkpoints.jsonl and recorded on the system chain.
    Checkpoint,
    /// A study's audit pack (ZIP): signed PDFs, receipts, its chain, the checkpoints
    /// that cover it, the public key, VERIFY.md and a summary; audited as by `cli`.
    Pack {
        /// The study's slug.
        study: String,
        /// Only this participant's consents (a code such as P001).
        #[arg(long)]
        participant: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Check an audit pack with a public key alone; exit 1 when something does not hold.
    VerifyPack {
        file: PathBuf,
        /// The public key the ethics office holds (default: the pack's own audit.key.pub,
        /// which proves nothing about who made the pack).
        #[arg(long)]
        public_key: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ReportFormat {
    Json,
    Csv,
    Pdf,
}

#[derive(Subcommand)]
enum FormsCommand {
    /// Load every file under DIR/questionnaires/ and DIR/consent/ and report each
    /// mistake as FILE:LINE: KEY: MESSAGE; exit 1 when there is one.
    Check {
        /// The forms folder (default: CONSENTRY_FORMS_DIR, else forms).
        dir: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum ConsentFormCommand {
    /// Draft a consent-form version for a study from a file, on behalf of one of its coordinators.
    Draft {
        /// The study's slug.
        #[arg(long)]
        study: String,
        /// A consent-form file, e.g. forms/consent/social-media-medical-education.toml.
        #[arg(long)]
        file: std::path::PathBuf,
        /// The version label, e.g. 1 or 2.1 (never reused in a study).
        #[arg(long)]
        version: String,
        /// The e-mail address of a coordinator of the study, recorded as the author.
        #[arg(long)]
        by: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a staff account.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, coordinator, facilitator or ethics_officer
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input (else one is generated and printed once).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Switch an account off: it cannot sign in, and its tokens and sessions end.
    Deactivate {
        #[arg(long)]
        email: String,
    },
    /// Switch an account back on.
    Activate {
        #[arg(long)]
        email: String,
    },
    /// End every token and browser session of an account now.
    RevokeTokens {
        #[arg(long)]
        email: String,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let figment = config::figment();
    let config = match AppConfig::from_figment(&figment) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("consentry: {e}");
            return ExitCode::FAILURE;
        }
    };
    crate::telemetry::init(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("consentry: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config, figment)) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("consentry: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Why a command stopped: printed as one line (`consentry: …`) before exit 1.
#[derive(Debug, thiserror::Error)]
enum Stop {
    /// An argument the command refused, by its flag.
    #[error("{flag}: {reason}")]
    Argument { flag: &'static str, reason: String },
    /// Arguments that name a staff account that does not exist.
    #[error("{flag}: no staff account {email}")]
    NoAccount { flag: &'static str, email: crate::domain::user::Email },
    #[error("--format pdf needs --out FILE")]
    PdfNeedsFile,
    /// A file of the command's own (a form, a password on stdin) that does not read.
    #[error("{0}")]
    Unreadable(String),
    #[error("no study {study}{}", who.as_ref().map(|w| format!(" that {w} works on")).unwrap_or_default())]
    NoStudy { study: String, who: Option<crate::domain::user::Email> },
    #[error("cannot open the database (CONSENTRY_DATABASE_URL={url}): {source}")]
    Database { url: String, source: crate::error::AppError },
    #[error("migrations failed: {0}")]
    Migrations(crate::error::AppError),
    #[error("the forms in {dir} have problems (consentry forms check):\n{}", problems.join("\n"))]
    Forms { dir: String, problems: Vec<String> },
    #[error("CONSENTRY_SECRET_KEY is required (openssl rand -base64 32)")]
    NoSecretKey,
    #[error("cannot write {what}: {source}")]
    Write { what: String, source: std::io::Error },
    #[error("cannot read {what}: {source}")]
    Read { what: String, source: std::io::Error },
    /// What the service refused or failed at, as the command line says it.
    #[error("{}", explain(.0))]
    Refused(crate::error::AppError),
    #[error(transparent)]
    Mail(#[from] crate::mail::sender::SetupError),
    #[error(transparent)]
    Checkpoint(#[from] crate::audit::checkpoints::FileError),
    /// A command that needs a setting which is not set.
    #[error("{0} is not set")]
    Unset(&'static str),
    #[error(transparent)]
    Launch(#[from] crate::app::LaunchError),
}

impl Stop {
    /// A refusal of a command about `study`: a study that does not exist is named.
    fn about_study(study: &str, e: crate::error::AppError) -> Self {
        match e {
            crate::error::AppError::NotFound => Stop::NoStudy { study: study.into(), who: None },
            other => Stop::Refused(other),
        }
    }
}

impl From<crate::error::AppError> for Stop {
    fn from(e: crate::error::AppError) -> Self {
        Stop::Refused(e)
    }
}

/// A refusal as the command line prints it: each field's reasons under its flag
/// (`--email: …`); a failure of the server's own, in full (the operator reads it);
/// else the message an API caller would read.
fn explain(e: &crate::error::AppError) -> String {
    match e.fields() {
        Some(fields) => fields
            .messages()
            .into_iter()
            .map(|(field, reasons)| format!("--{}: {}", field.replace('_', "-"), reasons.join(" ")))
            .collect::<Vec<_>>()
            .join("\n"),
        None if e.status() >= 500 => e.to_string(),
        None => e.public_message(),
    }
}

async fn open(config: &AppConfig) -> Result<Db, Stop> {
    let timeouts = crate::store::Timeouts {
        acquire: std::time::Duration::from_millis(config.db_acquire_timeout_ms),
    };
    let db = Db::connect_with(&config.database_url, config.db_max_connections, timeouts)
        .await
        .map_err(|e| Stop::Database { url: redact_url(&config.database_url), source: e.into() })?;
    db.migrate().await.map_err(|e| Stop::Migrations(e.into()))?;
    Ok(db)
}

fn random_password() -> String {
    let mut bytes = [0u8; 15];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A throw-away 256-bit key, hex encoded as Rocket reads it.
fn random_secret_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

async fn run(
    command: Command,
    config: AppConfig,
    figment: figment::Figment,
) -> Result<ExitCode, Stop> {
    match command {
        Command::Migrate => {
            open(&config).await?;
            println!("migrations applied to {}", redact_url(&config.database_url));
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { demo } => serve(config, figment, demo).await,
        Command::Forms { command: FormsCommand::Check { dir } } => {
            let source = match dir {
                Some(dir) => crate::forms::Source::Folder(dir),
                None => crate::forms::Source::configured(config.forms_dir.as_deref()),
            };
            let dir = source.describe();
            let report = crate::forms::check(&source);
            for line in &report.questionnaires {
                println!("ok questionnaire {line}");
            }
            for line in &report.consent_forms {
                println!("ok consent form {line}");
            }
            for e in &report.errors {
                eprintln!("{e}");
            }
            if report.errors.is_empty() {
                println!(
                    "{}: {} questionnaires and {} consent forms load",
                    dir,
                    report.questionnaires.len(),
                    report.consent_forms.len()
                );
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("{}: {} problems", dir, report.errors.len());
                Ok(ExitCode::FAILURE)
            }
        }
        Command::User { command: UserCommand::Add { email, name, role, password_stdin } } => {
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .map_err(|source| Stop::Read { what: "the password".into(), source })?;
                (line.trim_end_matches(['\r', '\n']).to_string(), false)
            } else {
                (random_password(), true)
            };
            let new = NewUser::parse(&email, &name, &role, &password)
                .map_err(|errors| Stop::Refused(crate::error::AppError::Validation(errors)))?;
            let db = open(&config).await?;
            let state = AppState::new(db, config);
            let user = service::user::create(&state, Actor::Cli, new).await?;
            println!("created {} {} (id {})", user.role, user.email, user.id);
            if generated {
                println!("password: {password}");
                println!("(shown once: store it now)");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command: UserCommand::Deactivate { email } } => {
            let change = AccountChange { active: Some(false), revoke_tokens: true };
            change_account(config, &email, change, "switched off; its tokens and sessions ended")
                .await
        }
        Command::User { command: UserCommand::Activate { email } } => {
            let change = AccountChange { active: Some(true), revoke_tokens: false };
            change_account(config, &email, change, "switched on").await
        }
        Command::User { command: UserCommand::RevokeTokens { email } } => {
            let change = AccountChange { active: None, revoke_tokens: true };
            change_account(config, &email, change, "has no live tokens or sessions now").await
        }
        Command::ConsentForm {
            command: ConsentFormCommand::Draft { study, file, version, by },
        } => {
            let draft =
                crate::forms::consent::draft_from_file(&file, &version).map_err(|errors| {
                    Stop::Unreadable(
                        errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"),
                    )
                })?;
            let db = open(&config).await?;
            let state = AppState::new(db, config);
            let email = crate::domain::user::Email::parse(&by)
                .map_err(|e| Stop::Argument { flag: "--by", reason: e.message })?;
            let author = crate::store::user::find_by_email(state.db.conn(), &email)
                .await?
                .ok_or_else(|| Stop::NoAccount { flag: "--by", email: email.clone() })?;
            let form = service::consent::form::draft(&state, &author, &study, Ok(draft))
                .await
                .map_err(|e| match e {
                    crate::error::AppError::NotFound => {
                        Stop::NoStudy { study: study.clone(), who: Some(email.clone()) }
                    }
                    other => Stop::Refused(other),
                })?;
            println!(
                "drafted {study} consent form version {} in {} (form hash {})",
                form.version, form.language, form.form_hash
            );
            println!(
                "an ethics officer approves it: POST /api/v1/studies/{study}/consent-forms/{}/approve {{\"language\": \"{}\", …}}",
                form.version, form.language
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { command: AuditCommand::Keygen { out } } => {
            let file = match out {
                Some(file) => file,
                None => key_file(&config)?,
            };
            let public = checkpoints::keygen(&file)?;
            println!("signing key written to {} (owner only)", file.display());
            println!(
                "public key {} written to {}",
                hex::encode(public.as_bytes()),
                checkpoints::public_key_path(&file).display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { command: AuditCommand::Checkpoint } => {
            let (key_file, dir) =
                config.checkpoints().ok_or(Stop::Unset("CONSENTRY_AUDIT_KEY_FILE"))?;
            let key = checkpoints::signing_key(&key_file)?;
            let db = open(&config).await?;
            let state = AppState::new(db, config);
            let signed = service::audit::take_checkpoint(&state, &key, &dir).await?;
            println!(
                "checkpoint of {} chains signed at {} and written to {}",
                signed.statement.chains.len(),
                signed.statement.at,
                dir.join(checkpoints::FILE).display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { command: AuditCommand::Pack { study, participant, out } } => {
            let db = open(&config).await?;
            let state = AppState::new(db, config);
            let pack = service::audit::pack(&state, Actor::Cli, &study, participant.as_deref())
                .await
                .map_err(|e| Stop::about_study(&study, e))?;
            std::fs::write(&out, &pack.zip)
                .map_err(|source| Stop::Write { what: out.display().to_string(), source })?;
            println!("wrote {} ({} bytes)", out.display(), pack.zip.len());
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { command: AuditCommand::VerifyPack { file, public_key } } => {
            let bytes = std::fs::read(&file)
                .map_err(|source| Stop::Read { what: file.display().to_string(), source })?;
            let key = match public_key {
                Some(path) => checkpoints::public_key(&path)?,
                None => {
                    eprintln!(
                        "note: checking with the key inside the pack; give --public-key to prove who signed it"
                    );
                    audit::pack::key_inside(&bytes).map_err(Stop::Unreadable)?
                }
            };
            match audit::pack::verify(&bytes, &key) {
                Ok(c) => {
                    println!(
                        "ok {}: {} events, {} signed PDFs, {} checkpoints hold",
                        c.chain, c.events, c.pdfs, c.checkpoints
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(reason) => {
                    println!("broken: {reason}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Report { study, format, out, by } => {
            let format = match format {
                ReportFormat::Json => None,
                ReportFormat::Csv => Some(service::report::Output::Csv),
                ReportFormat::Pdf => Some(service::report::Output::Pdf),
            };
            if format == Some(service::report::Output::Pdf) && out.is_none() {
                return Err(Stop::PdfNeedsFile);
            }
            let db = open(&config).await?;
            let state = AppState::new(db, config);
            let bytes = service::report::offline(&state, &study, by.as_deref(), format)
                .await
                .map_err(|e| Stop::about_study(&study, e))?;
            match out {
                Some(path) => {
                    std::fs::write(&path, &bytes).map_err(|source| Stop::Write {
                        what: path.display().to_string(),
                        source,
                    })?;
                    eprintln!("wrote {} ({} bytes)", path.display(), bytes.len());
                }
                None => std::io::stdout()
                    .write_all(&bytes)
                    .map_err(|source| Stop::Write { what: "the report".into(), source })?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::VerifyAudit { checkpoints: folder, public_key } => {
            let check = match folder {
                None => None,
                Some(dir) => {
                    let public = match public_key {
                        Some(file) => file,
                        None => checkpoints::public_key_path(&key_file(&config)?),
                    };
                    Some(checkpoints::check(&dir, &public)?)
                }
            };
            let db = open(&config).await?;
            match audit::verify(&db, check).await? {
                Verification::Ok { events, chains, checkpoints: held, .. } => {
                    println!("ok {events} events in {} chains", chains.len());
                    for c in chains {
                        println!("  {} {} events, head {}", c.chain, c.events, c.head);
                    }
                    if held > 0 {
                        println!("every chain extends all {held} signed checkpoints");
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Verification::Broken { chain, first_bad_seq, reason, events_checked, .. } => {
                    println!(
                        "broken: chain {chain}, first bad event seq {first_bad_seq}: {reason}"
                    );
                    println!("({events_checked} events verified before it)");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

/// The signing key's file from CONSENTRY_AUDIT_KEY_FILE.
fn key_file(config: &AppConfig) -> Result<PathBuf, Stop> {
    config.audit_key_file.as_ref().map(PathBuf::from).ok_or(Stop::Unset("CONSENTRY_AUDIT_KEY_FILE"))
}

/// Applies `change` to the account with this address, as the command line.
async fn change_account(
    config: AppConfig,
    email: &str,
    change: AccountChange,
    done: &str,
) -> Result<ExitCode, Stop> {
    let address = crate::domain::user::Email::parse(email)
        .map_err(|e| Stop::Argument { flag: "--email", reason: e.message })?;
    let db = open(&config).await?;
    let state = AppState::new(db, config);
    let user = crate::store::user::find_by_email(state.db.conn(), &address)
        .await?
        .ok_or_else(|| Stop::NoAccount { flag: "--email", email: address.clone() })?;
    service::user::change(&state, Actor::Cli, user.id, change).await?;
    println!("{address} {done}");
    Ok(ExitCode::SUCCESS)
}

/// The questionnaires of the forms folder (or the built-in forms); any broken file
/// stops the start.
fn load_forms(config: &AppConfig) -> Result<crate::forms::questionnaire::Catalogue, Stop> {
    let source = crate::forms::Source::configured(config.forms_dir.as_deref());
    let catalogue =
        crate::forms::questionnaire::Catalogue::load(&source).map_err(|errors| Stop::Forms {
            dir: source.describe(),
            problems: errors.iter().map(ToString::to_string).collect(),
        })?;
    tracing::info!(questionnaires = catalogue.len(), forms = %source.describe(), "forms loaded");
    Ok(catalogue)
}

async fn serve(
    mut config: AppConfig,
    mut figment: figment::Figment,
    demo: bool,
) -> Result<ExitCode, Stop> {
    if config.secret_key.is_none() {
        if demo || cfg!(debug_assertions) {
            let key = random_secret_key();
            figment = figment.merge(("secret_key", key.clone()));
            config.secret_key = Some(key);
            tracing::warn!(
                "no CONSENTRY_SECRET_KEY: using a throw-away key; sessions end when the server stops"
            );
        } else {
            return Err(Stop::NoSecretKey);
        }
    }
    let delivery =
        crate::mail::sender::Delivery::from_config(config.smtp_url.as_deref(), &config.mail_from)?;
    let forms = load_forms(&config)?;
    let db = open(&config).await?;
    let state = AppState::new(db.clone(), config.clone()).with_forms(forms);
    service::questionnaire::sync_catalogue(&state).await?;
    if let Some((key_file, dir)) = config.checkpoints() {
        let key = checkpoints::signing_key(&key_file)?;
        let mail_to = match config.checkpoint_mail_to.clone() {
            Some(to) => Some((to, state.keys()?.clone())),
            None => None,
        };
        checkpoints::spawn(db.clone(), key, dir, config.checkpoint_minutes, mail_to);
        tracing::info!(every_minutes = config.checkpoint_minutes, "audit checkpoints are signed");
    }
    crate::mail::sender::spawn(db, state.keys()?.clone(), delivery);
    service::recruitment::spawn_ad_view_writer(&state, std::time::Duration::from_secs(5));
    if config.smtp_url.is_none() {
        tracing::info!("no CONSENTRY_SMTP_URL: mail is kept in the outbox (GET /api/v1/outbox)");
    }
    if demo {
        let loaded = service::demo::load(&state).await?;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "Demo study \"{}\" ({}) is ready.",
            service::demo::DEMO_TITLE,
            service::demo::DEMO_REFERENCE
        );
        let _ = writeln!(
            out,
            "Sign in at {}/staff/login with (demo only, never in production):",
            config.public_url.trim_end_matches('/')
        );
        for l in loaded.logins {
            let _ = writeln!(out, "  {:<15} {:<40} {}", l.role, l.email, l.password);
        }
        let _ = writeln!(
            out,
            "A demo participant's private link (new at every start; open it on a phone):"
        );
        let _ = writeln!(out, "  {}", loaded.participant_link);
        let _ = writeln!(
            out,
            "The study's Moodle ad, open to anyone: {}/ads/{}",
            config.public_url.trim_end_matches('/'),
            service::demo::DEMO_AD
        );
        let _ = out.flush();
    }
    tracing::info!(address = %config.address, port = config.port, database = %redact_url(&config.database_url), "serving");
    crate::app::launch(state, figment).await?;
    Ok(ExitCode::SUCCESS)
}
