//! One error type for the whole service. Each variant decides the HTTP status and a
//! stable snake_case code; the web layer renders it as the JSON error of SPEC §5 or
//! as an HTML page. Internal errors keep their detail for the log only.

use crate::domain::FieldErrors;

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum AppError {
    #[error("validation failed")]
    Validation(FieldErrors),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("gone: {0}")]
    Gone(String),
    #[error("too many attempts")]
    TooMany,
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// The database cannot be reached or written now (an outage, a full or
    /// read-only disk): 503, try again shortly.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Db(String),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn status(&self) -> u16 {
        match self {
            AppError::Validation(_) => 422,
            AppError::BadRequest(_) => 400,
            AppError::Unauthenticated(_) => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound => 404,
            AppError::Conflict(_) => 409,
            AppError::Gone(_) => 410,
            AppError::TooMany => 429,
            AppError::UnsupportedMediaType(_) => 415,
            AppError::Unavailable(_) => 503,
            AppError::Db(_) | AppError::Internal(_) => 500,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "validation_failed",
            AppError::BadRequest(_) => "bad_request",
            AppError::Unauthenticated(_) => "unauthenticated",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::Gone(_) => "gone",
            AppError::TooMany => "too_many_attempts",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::Unavailable(_) => "unavailable",
            AppError::Db(_) | AppError::Internal(_) => "internal_error",
        }
    }

    /// The sentence shown to the client. Internal errors never show their detail.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Validation(_) => "Some fields need attention.".into(),
            AppError::BadRequest(m)
            | AppError::Unauthenticated(m)
            | AppError::Forbidden(m)
            | AppError::Conflict(m)
            | AppError::Gone(m)
            | AppError::UnsupportedMediaType(m) => m.clone(),
            AppError::NotFound => "Not found.".into(),
            AppError::TooMany => "Too many attempts: wait a few minutes and try again.".into(),
            AppError::Unavailable(_) => {
                "The service cannot store anything right now; nothing was saved. Try again in a minute.".into()
            }
            AppError::Db(_) | AppError::Internal(_) => "Something went wrong on our side.".into(),
        }
    }

    pub fn fields(&self) -> Option<&FieldErrors> {
        match self {
            AppError::Validation(f) => Some(f),
            _ => None,
        }
    }

    pub fn is_internal(&self) -> bool {
        self.status() >= 500
    }

    pub fn field(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        AppError::Validation(FieldErrors::single(field, code, message))
    }
}

impl From<FieldErrors> for AppError {
    fn from(errors: FieldErrors) -> Self {
        AppError::Validation(errors)
    }
}

impl From<csv::Error> for AppError {
    fn from(e: csv::Error) -> Self {
        AppError::Internal(format!("csv: {e}"))
    }
}

impl From<crate::domain::focus_group::CannotJoin> for AppError {
    fn from(e: crate::domain::focus_group::CannotJoin) -> Self {
        AppError::Conflict(e.to_string())
    }
}
