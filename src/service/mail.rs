//! Reading the outbox: admins see all mail, coordinators the mail of their studies.

use super::AppState;
use crate::domain::policy::Capacity;
use crate::domain::user::{Role, User};
use crate::error::{AppError, AppResult};
use crate::store;
pub use crate::store::mail::StoredMail;

#[tracing::instrument(skip_all)]
pub async fn list(state: &AppState, user: &User, limit: u64) -> AppResult<Vec<StoredMail>> {
    if !crate::domain::policy::may_read_outbox(user.role) {
        return Err(AppError::Forbidden("Only admins and coordinators read the outbox.".into()));
    }
    match user.role {
        Role::Admin => store::mail::recent(state.db.conn(), None, limit).await,
        Role::Coordinator => {
            let ids: Vec<i64> = store::study::list_for_staff(state.db.conn(), user)
                .await?
                .into_iter()
                .filter(|(_, c)| *c == Capacity::Coordinator)
                .map(|(s, _)| s.id)
                .collect();
            store::mail::recent(state.db.conn(), Some(&ids), limit).await
        }
        Role::Facilitator | Role::EthicsOfficer => Ok(Vec::new()),
    }
}
