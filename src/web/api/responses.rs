//! The error answers most routes share, declared once each for the OpenAPI
//! document; a route lists them beside its own responses. Every one carries the
//! error shape `ErrorBody`.

use utoipa::IntoResponses;

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
