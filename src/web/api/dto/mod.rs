//! Request and response bodies of the JSON API, one file per area, each with its
//! conversions from the domain. Requests default missing fields to empty so that
//! the domain reports every missing field at once, by name. The error shape every
//! non-2xx answer shares is here.

mod audit;
mod auth;
mod consent;
mod focus_group;
mod mail;
mod participant;
mod questionnaire;
mod recruitment;
mod report;
mod study;
mod user;

pub use self::audit::*;
pub use self::auth::*;
pub use self::consent::*;
pub use self::focus_group::*;
pub use self::mail::*;
pub use self::participant::*;
pub use self::questionnaire::*;
pub use self::recruitment::*;
pub use self::report::*;
pub use self::study::*;
pub use self::user::*;

use serde::Serialize;
use utoipa::ToSchema;

/// The error shape of every non-2xx answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `validation_failed`, `not_found`.
    pub code: String,
    /// A human sentence.
    pub message: String,
    /// Field name to the reasons it was refused (422 only).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<std::collections::BTreeMap<String, Vec<String>>>,
    /// Present on 5xx answers: quote it when reporting the problem.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}
