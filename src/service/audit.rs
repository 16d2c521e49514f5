//! Reading and verifying the audit log, for ethics officers and admins.

use super::AppState;
use crate::audit;
use crate::domain::audit::Event;
use crate::domain::audit::Verification;
use crate::domain::policy::may_read_audit;
use crate::domain::user::User;
use crate::error::{AppError, AppResult};

fn require_reader(user: &User) -> AppResult<()> {
    if may_read_audit(user.role) {
        Ok(())
    } else {
        Err(AppError::Forbidden("Only ethics officers and admins read the audit log.".into()))
    }
}

/// Up to `limit` events of a study's chain (or the system chain) after `after`.
#[tracing::instrument(skip_all)]
pub async fn events(
    state: &AppState,
    user: &User,
    study: Option<&str>,
    after: i64,
    limit: u64,
) -> AppResult<Vec<Event>> {
    require_reader(user)?;
    if let Some(slug) = study {
        super::study::get(state, user, slug).await?;
    }
    audit::events(&state.db, study, after, limit).await
}

/// Every chain and signed consent recomputed.
#[tracing::instrument(skip_all)]
pub async fn verify(state: &AppState, user: &User) -> AppResult<Verification> {
    require_reader(user)?;
    audit::verify(&state.db).await
}
