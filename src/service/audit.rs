//! Reading and verifying the audit log, for ethics officers and admins.

use super::AppState;
use crate::audit::{self, checkpoints};
use crate::domain::audit::{ChainBreak, Event, Search, Verification};
use crate::domain::policy::may_read_audit;
use crate::domain::user::User;
use crate::error::{AppError, AppResult};
use crate::store;

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

/// The audit log viewer's page: up to `limit` events matching `search`, newest first.
#[tracing::instrument(skip_all)]
pub async fn search(
    state: &AppState,
    user: &User,
    search: &Search<'_>,
    limit: u64,
) -> AppResult<Vec<(i64, Event)>> {
    require_reader(user)?;
    store::audit::search(state.db.conn(), search, limit).await
}

/// Every chain and signed consent recomputed, and, where the server signs
/// checkpoints, every chain checked against each of them.
#[tracing::instrument(skip_all)]
pub async fn verify(state: &AppState, user: &User) -> AppResult<Verification> {
    require_reader(user)?;
    let check = match state.config.checkpoints() {
        None => None,
        Some((key_file, dir)) => {
            let public = checkpoints::public_key_path(&key_file);
            match checkpoints::check(&dir, &public) {
                Ok(check) => Some(check),
                Err(checkpoints::FileError::NotACheckpoint { origin }) => {
                    return Ok(Verification::broken(
                        ChainBreak {
                            chain: "checkpoints".into(),
                            first_bad_seq: 0,
                            reason: format!("{origin} is not a checkpoint (the file was altered)"),
                        },
                        0,
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    audit::verify(&state.db, check).await
}

/// Signs the chains' heads once more as the server stops, when it signs checkpoints.
pub async fn checkpoint_at_shutdown(state: &AppState) {
    let Some((key_file, dir)) = state.config.checkpoints() else {
        return;
    };
    let taken = match checkpoints::signing_key(&key_file) {
        Ok(key) => checkpoints::take(&state.db, &key, &dir).await.map(|_| ()),
        Err(e) => Err(e.into()),
    };
    if let Err(e) = taken {
        tracing::error!(error = %e, "audit checkpoint at shutdown");
    }
}
