//! The access checks every use case repeats, in one place: the study as the caller
//! may see it (404 for a study they are not on, so its existence is not revealed),
//! the coordinator's capacity (403), and a study still open for changes (409).
//! The rules themselves are the domain's (`domain::policy`); these apply them to
//! what the store finds.

use crate::domain::policy::Capacity;
use crate::domain::study::{Study, StudyStatus};
use crate::domain::user::User;
use crate::error::{AppError, AppResult};
use crate::store::{self, Conn};

/// The study `slug` and the capacity `user` acts in on it; 404 when they may not
/// see it.
pub(crate) async fn study(db: &impl Conn, user: &User, slug: &str) -> AppResult<(Study, Capacity)> {
    store::study::get_for_staff(db, user, slug).await?.ok_or(AppError::NotFound)
}

/// 403 unless the capacity is a coordinator's (admins act as coordinators).
pub(crate) fn coordinator(capacity: Capacity) -> AppResult<()> {
    match capacity {
        Capacity::Coordinator => Ok(()),
        _ => Err(AppError::Forbidden("Only the study's coordinators can do this.".into())),
    }
}

/// The study `slug`, for one of its coordinators: 404 when `user` may not see it,
/// 403 when they see it in another capacity.
pub(crate) async fn coordinated(db: &impl Conn, user: &User, slug: &str) -> AppResult<Study> {
    let (study, capacity) = study(db, user, slug).await?;
    coordinator(capacity)?;
    Ok(study)
}

/// 409 once the study is closed: nothing about it changes any more.
pub(crate) fn open_for_changes(study: &Study) -> AppResult<()> {
    if study.status == StudyStatus::Closed {
        Err(AppError::Conflict("The study is closed.".into()))
    } else {
        Ok(())
    }
}
