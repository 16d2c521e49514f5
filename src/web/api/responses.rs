//! The error answers most routes share, declared once each for the OpenAPI
//! document; a route lists them beside its own responses. Every one carries the
//! error shape `ErrorBody`.

use std::collections::BTreeMap;

use utoipa::IntoResponses;
use utoipa::openapi::{RefOr, Response};

use super::dto::ErrorBody;

/// 400: the body is not JSON, or not of the expected shape.
#[derive(IntoResponses)]
#[response(status = 400, description = "Malformed body")]
pub struct MalformedBody(#[allow(dead_code)] ErrorBody);

/// 401 for staff routes.
#[derive(IntoResponses)]
#[response(status = 401, description = "No or bad token")]
pub struct NoToken(#[allow(dead_code)] ErrorBody);

/// 401 for a participant's routes.
#[derive(IntoResponses)]
#[response(status = 401, description = "No or bad participant token")]
pub struct NoParticipantToken(#[allow(dead_code)] ErrorBody);

/// 403: a study's staff member who is not one of its coordinators.
#[derive(IntoResponses)]
#[response(status = 403, description = "Not a coordinator of the study")]
pub struct NotCoordinator(#[allow(dead_code)] ErrorBody);

/// 404: a study that does not exist or that the caller is not on (never revealed).
#[derive(IntoResponses)]
#[response(status = 404, description = "No such study, or not one of yours")]
pub struct NotYours(#[allow(dead_code)] ErrorBody);

/// 422: a field was refused; `fields` names each one and why.
#[derive(IntoResponses)]
#[response(status = 422, description = "A field was refused")]
pub struct Refused(#[allow(dead_code)] ErrorBody);

/// Declares a set of the answers above that many routes give together, so a route
/// names one set: its `IntoResponses` is the union of its members'.
macro_rules! answers {
    ($(#[$doc:meta])* $name:ident = $($member:ident),+) => {
        $(#[$doc])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                let mut all = BTreeMap::new();
                $(all.extend(<$member as IntoResponses>::responses());)+
                all
            }
        }
    };
}

answers! {
    /// A staff route on one study: 401 without a token, 404 for a study the caller is not on.
    StudyRead = NoToken, NotYours
}

answers! {
    /// A coordinator's action on one study: 401, 403 for its other staff, 404.
    CoordinatorAction = NoToken, NotCoordinator, NotYours
}

answers! {
    /// A coordinator's change to one study, with a body: 400, 401, 403, 404 and 422.
    CoordinatorEdit = MalformedBody, NoToken, NotCoordinator, NotYours, Refused
}
