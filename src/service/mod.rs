//! Use-cases. Each opens its transaction, applies the domain rules, calls the store,
//! records the audit event in the same transaction, and commits.

pub mod auth;
pub mod consent;
pub mod consent_forms;
pub mod demo;
pub mod focus_groups;
pub mod identity;
pub mod outbox;
pub mod participants;
pub mod questionnaires;
pub mod recruitment;
pub mod report;
pub mod studies;
pub mod users;

use std::sync::Arc;

use crate::config::AppConfig;
use crate::forms::questionnaire::Catalogue;
use crate::store::Db;

/// What every use-case needs: the database, the configuration and the in-memory
/// sign-in throttle. Built once at start and shared; there is no global state.
pub struct AppState {
    pub db: Db,
    pub config: AppConfig,
    pub throttle: auth::LoginThrottle,
    /// The questionnaires loaded from the forms folder at start.
    pub forms: Arc<Catalogue>,
}

impl AppState {
    /// A state with no questionnaires loaded; see `with_forms`.
    pub fn new(db: Db, config: AppConfig) -> Self {
        Self { db, config, throttle: auth::LoginThrottle::default(), forms: Arc::default() }
    }

    pub fn with_forms(self, forms: Catalogue) -> Self {
        Self { forms: Arc::new(forms), ..self }
    }
}

/// Who did something, as the audit log names them.
#[derive(Debug, Clone)]
pub enum Actor<'a> {
    Staff(&'a crate::domain::user::User),
    /// The command line on the server (creating the first admin, loading the demo).
    Cli,
}

impl Actor<'_> {
    pub fn audit_name(&self) -> String {
        match self {
            Actor::Staff(u) => u.actor(),
            Actor::Cli => "cli".to_string(),
        }
    }
}
