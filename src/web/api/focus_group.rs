//! Focus groups: scheduling and membership for coordinators, attendance and the
//! session log for facilitators, and the participant's availability.

use rocket::http::{ContentType, Status};
use rocket::serde::json::Json;
use rocket::{State, delete, get, post, put};

use super::dto::{
    AttendanceDto, AttendanceInput, AvailabilityDto, AvailabilityInput, ConflictDto, ErrorBody,
    FocusGroupDto, FocusGroupInput, InvitationsQueuedDto, MemberDto, MemberInput, PlanDto,
    SessionLogDto, SessionLogInput,
};
use crate::error::AppError;
use crate::service::AppState;
use crate::service::focus_group::{self, Attendance, NewGroup, Start};
use crate::web::api::responses::{
    CoordinatorAction, MalformedBody, NoParticipantToken, NoToken, NotCoordinator, Refused,
    StudyRead,
};
use crate::web::errors::ApiResult;
use crate::web::guards::{ParticipantUser, StaffUser};
use crate::web::json::JsonBody;

fn group_id(raw: &str) -> Result<i64, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/focus-groups", tag = "focus groups",
    request_body = FocusGroupInput,
    responses(
        (status = 201, description = "The session", body = FocusGroupDto),
        MalformedBody,
        CoordinatorAction,
        (status = 410, description = "The study is suspended or closed", body = ErrorBody),
        (status = 422, description = "A field was refused (the facilitator needs an active facilitator or coordinator account; one not on the study's staff joins it)", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/focus-groups", data = "<body>")]
pub async fn create(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    body: JsonBody<FocusGroupInput>,
) -> ApiResult<(Status, Json<FocusGroupDto>)> {
    let s = focus_group::create(state, &staff.0, slug, new_group(&body.0)).await?;
    Ok((Status::Created, Json(FocusGroupDto::from(s))))
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/focus-groups", tag = "focus groups",
    responses(
        (status = 200, description = "Sessions in time order with their members (a facilitator sees their own)", body = Vec<FocusGroupDto>),
        StudyRead,
        (status = 403, description = "Ethics officers do not run focus groups", body = ErrorBody),
    )
)]
#[get("/studies/<slug>/focus-groups")]
pub async fn list(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
) -> ApiResult<Json<Vec<FocusGroupDto>>> {
    let all = focus_group::list(state, &staff.0, slug).await?;
    Ok(Json(all.into_iter().map(FocusGroupDto::from).collect()))
}

fn new_group(b: &FocusGroupInput) -> NewGroup<'_> {
    NewGroup {
        title: &b.title,
        start: Start::Instant(&b.starts_at),
        duration_minutes: b.duration_minutes,
        location: &b.location,
        facilitator_email: &b.facilitator_email,
        capacity: b.capacity,
    }
}

#[utoipa::path(
    put, path = "/api/v1/studies/{slug}/focus-groups/{id}", tag = "focus groups",
    request_body = FocusGroupInput,
    responses(
        (status = 200, description = "The session; a new time, length, place or title raises its SEQUENCE and sends invited members the updated event", body = FocusGroupDto),
        MalformedBody,
        NoToken,
        NotCoordinator,
        (status = 404, description = "No such session", body = ErrorBody),
        (status = 409, description = "Cancelled, fewer places than members, or the new facilitator declared a conflict with a member", body = ErrorBody),
        Refused,
    )
)]
#[put("/studies/<slug>/focus-groups/<id>", data = "<body>")]
pub async fn reschedule(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    id: &str,
    body: JsonBody<FocusGroupInput>,
) -> ApiResult<Json<FocusGroupDto>> {
    let s =
        focus_group::reschedule(state, &staff.0, slug, group_id(id)?, new_group(&body.0)).await?;
    Ok(Json(FocusGroupDto::from(s)))
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/focus-groups/{id}/cancel", tag = "focus groups",
    responses(
        (status = 200, description = "Cancelled and kept for the record; invited members are sent METHOD:CANCEL and their reminders withdrawn", body = FocusGroupDto),
        NoToken,
        NotCoordinator,
        (status = 404, description = "No such session", body = ErrorBody),
        (status = 409, description = "Cancelled already", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/focus-groups/<id>/cancel")]
pub async fn cancel(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    id: &str,
) -> ApiResult<Json<FocusGroupDto>> {
    let s = focus_group::cancel(state, &staff.0, slug, group_id(id)?).await?;
    Ok(Json(FocusGroupDto::from(s)))
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/focus-groups/{id}", tag = "focus groups",
    responses(
        (status = 200, description = "The session with its members", body = FocusGroupDto),
        NoToken,
        (status = 403, description = "Ethics officers do not run focus groups", body = ErrorBody),
        (status = 404, description = "No such session, or not yours", body = ErrorBody),
    )
)]
#[get("/studies/<slug>/focus-groups/<id>", rank = 2)]
pub async fn get(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    id: &str,
) -> ApiResult<Json<FocusGroupDto>> {
    let s = focus_group::get(state, &staff.0, slug, group_id(id)?).await?;
    Ok(Json(FocusGroupDto::from(s)))
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/focus-groups/plan", tag = "focus groups",
    responses(
        (status = 200, description = "A proposed allocation from availability, strata and capacity; nothing is applied", body = PlanDto),
        CoordinatorAction,
    )
)]
#[post("/studies/<slug>/focus-groups/plan")]
pub async fn plan(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
) -> ApiResult<Json<PlanDto>> {
    let p = focus_group::plan(state, &staff.0, slug).await?;
    Ok(Json(PlanDto::from(p)))
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/focus-groups/{id}/members", tag = "focus groups",
    request_body = MemberInput,
    responses(
        (status = 201, description = "The participant is a member", body = MemberDto),
        MalformedBody,
        NoToken,
        NotCoordinator,
        (status = 404, description = "No such session", body = ErrorBody),
        (status = 409, description = "Not consented, withdrawn, in another session, the session is full, or its facilitator declared a conflict", body = ErrorBody),
        (status = 422, description = "No participant with that code", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/focus-groups/<id>/members", data = "<body>")]
pub async fn add_member(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    id: &str,
    body: JsonBody<MemberInput>,
) -> ApiResult<(Status, Json<MemberDto>)> {
    let m = focus_group::add_member(state, &staff.0, slug, group_id(id)?, &body.0.participant_code)
        .await?;
    Ok((Status::Created, Json(MemberDto::from(m))))
}

#[utoipa::path(
    delete, path = "/api/v1/studies/{slug}/focus-groups/{id}/members/{code}", tag = "focus groups",
    responses(
        (status = 204, description = "Removed; an invited member is sent a calendar cancellation"),
        NoToken,
        NotCoordinator,
        (status = 404, description = "No such session, or the participant is not in it", body = ErrorBody),
        (status = 422, description = "No participant with that code", body = ErrorBody),
    )
)]
#[delete("/studies/<slug>/focus-groups/<id>/members/<code>")]
pub async fn remove_member(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    id: &str,
    code: &str,
) -> ApiResult<Status> {
    focus_group::remove_member(state, &staff.0, slug, group_id(id)?, code).await?;
    Ok(Status::NoContent)
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/focus-groups/{id}/invitations", tag = "focus groups",
    responses(
        (status = 202, description = "One invitation per member queued with its .ics, and a reminder for the day before", body = InvitationsQueuedDto),
        NoToken,
        NotCoordinator,
        (status = 404, description = "No such session", body = ErrorBody),
        (status = 409, description = "The session has started", body = ErrorBody),
        (status = 410, description = "The study is suspended or closed", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/focus-groups/<id>/invitations")]
pub async fn invitations(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    id: &str,
) -> ApiResult<(Status, Json<InvitationsQueuedDto>)> {
    let queued = focus_group::invite(state, &staff.0, slug, group_id(id)?).await?;
    Ok((Status::Accepted, Json(InvitationsQueuedDto { queued })))
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/focus-groups/{id}/invite.ics", tag = "focus groups",
    responses(
        (status = 200, description = "The session as an RFC 5545 calendar", content_type = "text/calendar", body = String),
        NoToken,
        (status = 403, description = "Ethics officers do not run focus groups", body = ErrorBody),
        (status = 404, description = "No such session, or not yours", body = ErrorBody),
    )
)]
#[get("/studies/<slug>/focus-groups/<id>/invite.ics")]
pub async fn ics(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    id: &str,
) -> ApiResult<(ContentType, String)> {
    let text = focus_group::ics(state, &staff.0, slug, group_id(id)?).await?;
    Ok((ContentType::new("text", "calendar").with_params(("charset", "utf-8")), text))
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/focus-groups/{id}/attendance", tag = "focus groups",
    request_body = AttendanceInput,
    responses(
        (status = 200, description = "Recorded", body = AttendanceDto),
        MalformedBody,
        NoToken,
        (status = 403, description = "Ethics officers do not run focus groups", body = ErrorBody),
        (status = 404, description = "No such session, or not yours", body = ErrorBody),
        (status = 422, description = "No such participant, or not a member", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/focus-groups/<id>/attendance", data = "<body>")]
pub async fn attendance(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    id: &str,
    body: JsonBody<AttendanceInput>,
) -> ApiResult<Json<AttendanceDto>> {
    let b = body.0;
    let marks = Attendance::One { code: &b.participant_code, attended: b.attended };
    focus_group::attendance(state, &staff.0, slug, group_id(id)?, marks).await?;
    Ok(Json(AttendanceDto {
        participant_code: b.participant_code.trim().to_uppercase(),
        attended: b.attended,
    }))
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/focus-groups/{id}/log", tag = "focus groups",
    request_body = SessionLogInput,
    responses(
        (status = 200, description = "Recorded (a later log replaces it); feeds the saturation chart", body = SessionLogDto),
        MalformedBody,
        NoToken,
        (status = 403, description = "Ethics officers do not run focus groups", body = ErrorBody),
        (status = 404, description = "No such session, or not yours", body = ErrorBody),
        Refused,
    )
)]
#[post("/studies/<slug>/focus-groups/<id>/log", data = "<body>")]
pub async fn log(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    id: &str,
    body: JsonBody<SessionLogInput>,
) -> ApiResult<Json<SessionLogDto>> {
    let b = body.0;
    let l = focus_group::log(
        state,
        &staff.0,
        slug,
        group_id(id)?,
        b.actual_minutes,
        b.new_codes,
        &b.notes,
    )
    .await?;
    Ok(Json(SessionLogDto::from(l)))
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/focus-groups/conflicts", tag = "focus groups",
    request_body = MemberInput,
    responses(
        (status = 201, description = "The conflict is recorded: you will not be given a session with this participant"),
        MalformedBody,
        StudyRead,
        (status = 403, description = "Ethics officers do not run focus groups", body = ErrorBody),
        (status = 422, description = "No participant with that code", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/focus-groups/conflicts", data = "<body>")]
pub async fn declare_conflict(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    body: JsonBody<MemberInput>,
) -> ApiResult<Status> {
    focus_group::declare_conflict(state, &staff.0, slug, &body.0.participant_code).await?;
    Ok(Status::Created)
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/focus-groups/conflicts", tag = "focus groups",
    responses(
        (status = 200, description = "Declared conflicts: every one for coordinators, a facilitator's own", body = Vec<ConflictDto>),
        StudyRead,
        (status = 403, description = "Ethics officers do not run focus groups", body = ErrorBody),
    )
)]
#[get("/studies/<slug>/focus-groups/conflicts")]
pub async fn list_conflicts(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
) -> ApiResult<Json<Vec<ConflictDto>>> {
    let all = focus_group::conflicts(state, &staff.0, slug).await?;
    Ok(Json(all.into_iter().map(ConflictDto::from).collect()))
}

#[utoipa::path(
    delete, path = "/api/v1/studies/{slug}/focus-groups/conflicts/{code}", tag = "focus groups",
    responses(
        (status = 204, description = "Your conflict with this participant is withdrawn"),
        NoToken,
        (status = 403, description = "Ethics officers do not run focus groups", body = ErrorBody),
        (status = 404, description = "No such study, or you declared no conflict with this participant", body = ErrorBody),
        (status = 422, description = "No participant with that code", body = ErrorBody),
    )
)]
#[delete("/studies/<slug>/focus-groups/conflicts/<code>")]
pub async fn withdraw_conflict(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    code: &str,
) -> ApiResult<Status> {
    focus_group::withdraw_conflict(state, &staff.0, slug, code).await?;
    Ok(Status::NoContent)
}

#[utoipa::path(
    get, path = "/api/v1/participant/availability", tag = "participants",
    security(("participant" = [])),
    responses(
        (status = 200, description = "The sessions chosen and every upcoming session", body = AvailabilityDto),
        NoParticipantToken,
    )
)]
#[get("/participant/availability")]
pub async fn my_availability(
    state: &State<AppState>,
    me: ParticipantUser,
) -> ApiResult<Json<AvailabilityDto>> {
    Ok(Json(AvailabilityDto::from(focus_group::availability(state, &me.participant).await?)))
}

#[utoipa::path(
    put, path = "/api/v1/participant/availability", tag = "participants",
    request_body = AvailabilityInput,
    security(("participant" = [])),
    responses(
        (status = 200, description = "Saved (replaces the earlier choice)", body = AvailabilityDto),
        MalformedBody,
        NoParticipantToken,
        (status = 409, description = "Not consented yet, or withdrawn", body = ErrorBody),
        (status = 422, description = "A slot is not an upcoming session of the study", body = ErrorBody),
    )
)]
#[put("/participant/availability", data = "<body>")]
pub async fn set_availability(
    state: &State<AppState>,
    me: ParticipantUser,
    body: JsonBody<AvailabilityInput>,
) -> ApiResult<Json<AvailabilityDto>> {
    let choices = focus_group::set_availability(state, &me.participant, &body.0.slots).await?;
    Ok(Json(AvailabilityDto::from(choices)))
}
