//! The participant's side of the API (their own record only, by their private
//! token) and the coordinator's direct invitation.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, get, post};

use super::dto::{ErrorBody, InvitationDto, InviteParticipant, PortalDto};
use super::dto::{FromStudyDto, InviteFromStudy};
use super::dto::{LinkRequestedDto, RequestLink};
use crate::service::participant::Invitation;
use crate::service::{AppState, consent, participant};
use crate::web::api::responses::{
    CoordinatorAction, CoordinatorEdit, MalformedBody, NoParticipantToken, NoToken, NotCoordinator,
};
use crate::web::errors::ApiResult;
use crate::web::guards::{ParticipantUser, StaffUser};
use crate::web::json::JsonBody;

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/participants", tag = "participants",
    request_body = InviteParticipant,
    responses(
        (status = 201, description = "A new participant: the private link (shown once, and mailed)", body = InvitationDto),
        (status = 202, description = "The address is in the study already: nothing is replaced, and a new link is mailed to it", body = InvitationDto),
        CoordinatorEdit,
        (status = 410, description = "The study is suspended or closed", body = ErrorBody),
        (status = 429, description = "Three links went to that address in the last hour", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/participants", data = "<body>")]
pub async fn invite(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    body: JsonBody<InviteParticipant>,
) -> ApiResult<(Status, Json<InvitationDto>)> {
    let inv = participant::invite(state, &staff.0, slug, &body.0.name, &body.0.email).await?;
    let status = match inv {
        Invitation::New { .. } => Status::Created,
        Invitation::Known { .. } => Status::Accepted,
    };
    Ok((status, Json(InvitationDto::from(inv))))
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/participants/from-study", tag = "participants",
    request_body = InviteFromStudy,
    responses(
        (status = 202, description = "Each participant of the earlier study whose latest consent agreed to future contact, who has not withdrawn and is not in this study yet, is invited with a private link only they receive; audited", body = FromStudyDto),
        CoordinatorEdit,
        (status = 409, description = "No consent-form version of the earlier study has an item governing `future_contact`", body = ErrorBody),
        (status = 410, description = "This study is suspended or closed", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/participants/from-study", data = "<body>")]
pub async fn invite_from_study(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    body: JsonBody<InviteFromStudy>,
) -> ApiResult<(Status, Json<FromStudyDto>)> {
    let reached = participant::invite_from_study(state, &staff.0, slug, &body.0.study).await?;
    Ok((
        Status::Accepted,
        Json(FromStudyDto { invited: reached.invited, already_in_study: reached.already }),
    ))
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/participants/{code}/link", tag = "participants",
    responses(
        (status = 202, description = "A new link is on its way to the participant's address on record; the links they hold keep working", body = LinkRequestedDto),
        NoToken,
        NotCoordinator,
        (status = 404, description = "No such study or participant, or not one of yours", body = ErrorBody),
        (status = 429, description = "Three links went to that address in the last hour", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/participants/<code>/link")]
pub async fn send_link(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    code: &str,
) -> ApiResult<(Status, Json<LinkRequestedDto>)> {
    participant::send_link(state, &staff.0, slug, code).await?;
    Ok((Status::Accepted, Json(LinkRequestedDto { sent: true })))
}

#[utoipa::path(
    get, path = "/api/v1/participant", tag = "participants",
    security(("participant" = [])),
    responses(
        (status = 200, description = "The participant's status and next steps", body = PortalDto),
        NoParticipantToken,
    )
)]
#[get("/participant")]
pub async fn portal(state: &State<AppState>, me: ParticipantUser) -> ApiResult<Json<PortalDto>> {
    let p = consent::portal(state, &me.participant).await?;
    Ok(Json(PortalDto::new(&me.study, &me.participant, p.latest, p.steps, p.booked)))
}

#[utoipa::path(
    post, path = "/api/v1/participant/link", tag = "participants",
    request_body = RequestLink,
    security(()),
    responses(
        (status = 202, description = "The same answer for every address: if it is on record in a study, a new link is mailed to it (at most three an hour); links already sent keep working", body = LinkRequestedDto),
        MalformedBody,
        (status = 422, description = "Not an e-mail address", body = ErrorBody),
    )
)]
#[post("/participant/link", data = "<body>")]
pub async fn request_link(
    state: &State<AppState>,
    body: JsonBody<RequestLink>,
) -> ApiResult<(Status, Json<LinkRequestedDto>)> {
    participant::request_link(state, &body.0.email).await?;
    Ok((Status::Accepted, Json(LinkRequestedDto { sent: true })))
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/reminders", tag = "participants",
    responses(
        (status = 202, description = "Reminders queued for participants with open steps (at most one per 48 hours each)", body = super::dto::RemindersDto),
        CoordinatorAction,
        (status = 410, description = "The study is not recruiting or paused", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/reminders")]
pub async fn remind(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
) -> ApiResult<(Status, Json<super::dto::RemindersDto>)> {
    let queued = participant::remind(state, &staff.0, slug).await?;
    Ok((Status::Accepted, Json(super::dto::RemindersDto { queued })))
}
