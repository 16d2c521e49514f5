//! Use-cases. Each opens its transaction, applies the domain rules, calls the store,
//! records the audit event in the same transaction, and commits.

pub(crate) mod access;
pub mod audit;
pub mod auth;
pub mod consent;
pub mod demo;
pub mod focus_group;
pub mod mail;
pub mod participant;
pub mod questionnaire;
pub mod recruitment;
pub mod report;
pub mod study;
pub mod user;

use std::sync::Arc;

use crate::config::{AppConfig, IpBlock};
use crate::error::AppError;
use crate::forms::questionnaire::Catalogue;
use crate::keys::Keys;
use crate::store::Db;

/// What every use-case needs: the database, the configuration and the keys derived
/// from its secret. Built once at start and shared; there is no global state.
pub struct AppState {
    pub db: Db,
    pub config: AppConfig,
    /// `None` when no `CONSENTRY_SECRET_KEY` is configured (command-line tasks that
    /// neither mail secrets nor hash addresses); `serve` always has one.
    keys: Option<Keys>,
    /// The proxies whose `X-Real-IP` names the client (`CONSENTRY_TRUSTED_PROXIES`).
    pub proxies: Vec<IpBlock>,
    /// The questionnaires loaded from the forms folder at start.
    pub forms: Arc<Catalogue>,
    /// Visits of the public ads not written to the database yet.
    pub ad_views: Arc<recruitment::AdViews>,
    /// Consents waiting for the transaction that signs them together.
    pub signing: Arc<consent::SigningQueue>,
}

impl AppState {
    /// A state with no questionnaires loaded; see `with_forms`.
    pub fn new(db: Db, config: AppConfig) -> Self {
        let keys = config.secret_key.as_deref().map(Keys::derive);
        let proxies = config.proxies().unwrap_or_default();
        Self {
            db,
            config,
            keys,
            proxies,
            forms: Arc::default(),
            ad_views: Arc::default(),
            signing: Arc::default(),
        }
    }

    /// The keys derived from `CONSENTRY_SECRET_KEY`.
    pub fn keys(&self) -> Result<&Keys, AppError> {
        self.keys.as_ref().ok_or_else(|| {
            AppError::Internal("this needs CONSENTRY_SECRET_KEY, which is not set".into())
        })
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
