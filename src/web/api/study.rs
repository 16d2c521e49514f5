//! Studies: create, list, read, staff, status.

use chrono::Utc;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, delete, get, post, put};

use super::dto::{
    AddStaff, ApprovalHistoryDto, ChangeStatus, CreateStudy, ErrorBody, RecordApproval,
    StaffMemberDto, StudyDto, StudySettings,
};
use crate::domain::study::{NewStudy, StudyInput};
use crate::error::AppError;
use crate::service::{AppState, study};
use crate::web::api::responses::{CoordinatorAction, MalformedBody, NoToken, NotYours, StudyRead};
use crate::web::errors::ApiResult;
use crate::web::guards::StaffUser;
use crate::web::json::JsonBody;

fn today() -> chrono::NaiveDate {
    Utc::now().date_naive()
}

#[utoipa::path(
    post, path = "/api/v1/studies", tag = "studies",
    request_body = CreateStudy,
    responses(
        (status = 201, description = "Study created in draft; the creator is its coordinator", body = StudyDto),
        MalformedBody,
        NoToken,
        (status = 403, description = "Only coordinators and admins create studies", body = ErrorBody),
        (status = 422, description = "A field was refused (a slug in use is refused here)", body = ErrorBody),
    )
)]
#[post("/studies", data = "<body>")]
pub async fn create(
    state: &State<AppState>,
    staff: StaffUser,
    body: JsonBody<CreateStudy>,
) -> ApiResult<(Status, Json<StudyDto>)> {
    let b = body.0;
    let new = NewStudy::parse(&StudyInput {
        slug: &b.slug,
        title: &b.title,
        summary: &b.summary,
        committee: &b.ethics.committee,
        reference: &b.ethics.reference,
        approved_on: &b.ethics.approved_on,
        expires_on: &b.ethics.expires_on,
        contact_name: &b.contact.name,
        contact_email: &b.contact.email,
        identity_check: b.identity_check.as_deref().unwrap_or("none"),
    });
    let study = study::create(state, &staff.0, new).await?;
    let (study, capacity) = study::get(state, &staff.0, &study.slug).await?;
    Ok((Status::Created, Json(StudyDto::new(&study, capacity, today()))))
}

#[utoipa::path(
    get, path = "/api/v1/studies", tag = "studies",
    responses(
        (status = 200, description = "The studies the caller may see, newest first", body = Vec<StudyDto>),
        NoToken,
    )
)]
#[get("/studies")]
pub async fn list(state: &State<AppState>, staff: StaffUser) -> ApiResult<Json<Vec<StudyDto>>> {
    let today = today();
    let all = study::list(state, &staff.0).await?;
    Ok(Json(all.iter().map(|(s, c)| StudyDto::new(s, *c, today)).collect()))
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}", tag = "studies",
    responses(
        (status = 200, description = "The study", body = StudyDto),
        StudyRead,
    )
)]
#[get("/studies/<slug>")]
pub async fn get(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
) -> ApiResult<Json<StudyDto>> {
    let (study, capacity) = study::get(state, &staff.0, slug).await?;
    Ok(Json(StudyDto::new(&study, capacity, today())))
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/staff", tag = "studies",
    responses(
        (status = 200, description = "The study's staff", body = Vec<StaffMemberDto>),
        StudyRead,
    )
)]
#[get("/studies/<slug>/staff")]
pub async fn staff_list(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
) -> ApiResult<Json<Vec<StaffMemberDto>>> {
    let members = study::members(state, &staff.0, slug).await?;
    Ok(Json(members.iter().map(|(u, r)| StaffMemberDto::new(u, *r)).collect()))
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/staff", tag = "studies",
    request_body = AddStaff,
    responses(
        (status = 201, description = "The staff member is on the study", body = StaffMemberDto),
        MalformedBody,
        CoordinatorAction,
        (status = 422, description = "Unknown account or a role it cannot hold", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/staff", data = "<body>")]
pub async fn add_staff(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    body: JsonBody<AddStaff>,
) -> ApiResult<(Status, Json<StaffMemberDto>)> {
    let (member, role) =
        study::add_staff(state, &staff.0, slug, &body.0.email, &body.0.role).await?;
    Ok((Status::Created, Json(StaffMemberDto::new(&member, role))))
}

#[utoipa::path(
    delete, path = "/api/v1/studies/{slug}/staff/{user_id}", tag = "studies",
    params(("slug" = String, Path, description = "The study's slug"), ("user_id" = i64, Path, description = "The staff account's id")),
    responses(
        (status = 204, description = "The staff member is off the study (audited)"),
        NoToken,
        (status = 403, description = "Only the study's coordinators change its staff", body = ErrorBody),
        (status = 404, description = "No such study, or the account is not on it", body = ErrorBody),
        (status = 409, description = "The study's last coordinator, or a facilitator with a session to come", body = ErrorBody),
    )
)]
#[delete("/studies/<slug>/staff/<user_id>")]
pub async fn remove_staff(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    user_id: &str,
) -> ApiResult<Status> {
    // An id that is not a number names no account: 404, as for any other.
    let user_id: i64 = user_id.parse().map_err(|_| AppError::NotFound)?;
    study::remove_staff(state, &staff.0, slug, user_id).await?;
    Ok(Status::NoContent)
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/status", tag = "studies",
    request_body = ChangeStatus,
    responses(
        (status = 200, description = "The study in its new status", body = StudyDto),
        MalformedBody,
        StudyRead,
        (status = 403, description = "The caller's role may not make this move", body = ErrorBody),
        (status = 409, description = "The move does not fit the study's state (e.g. no active consent form)", body = ErrorBody),
        (status = 410, description = "The ethics approval has expired", body = ErrorBody),
        (status = 422, description = "Unknown status", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/status", data = "<body>")]
pub async fn change_status(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    body: JsonBody<ChangeStatus>,
) -> ApiResult<Json<StudyDto>> {
    let b = body.0;
    let study = study::change_status(state, &staff.0, slug, &b.status, b.reason.as_deref()).await?;
    let (_, capacity) = study::get(state, &staff.0, &study.slug).await?;
    Ok(Json(StudyDto::new(&study, capacity, today())))
}

#[utoipa::path(
    put, path = "/api/v1/studies/{slug}/settings", tag = "studies",
    request_body = StudySettings,
    responses(
        (status = 200, description = "The study with its new settings", body = StudyDto),
        MalformedBody,
        CoordinatorAction,
        (status = 409, description = "The study is closed", body = ErrorBody),
        (status = 422, description = "Unknown identity check, or a threshold outside 0–100", body = ErrorBody),
    )
)]
#[put("/studies/<slug>/settings", data = "<body>")]
pub async fn settings(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    body: JsonBody<StudySettings>,
) -> ApiResult<Json<StudyDto>> {
    let b = body.0;
    let change = study::SettingsChange {
        identity_check: b.identity_check.as_deref(),
        suppress_below: b.suppress_below,
        reminder_hours: b.reminder_hours,
        timezone: b.timezone.as_deref(),
        confirm_email_first: b.confirm_email_first,
        complaints_email: b.complaints_email.as_deref(),
        complaints_phone: b.complaints_phone.as_deref(),
        declined_data_sharing: b.declined_data_sharing.as_deref(),
    };
    let study = study::change_settings(state, &staff.0, slug, change).await?;
    let (_, capacity) = study::get(state, &staff.0, &study.slug).await?;
    Ok(Json(StudyDto::new(&study, capacity, today())))
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/approvals", tag = "studies",
    responses(
        (status = 200, description = "The approval in force and its history: the initial approval, amendments and renewals, oldest first", body = ApprovalHistoryDto),
        StudyRead,
    )
)]
#[get("/studies/<slug>/approvals")]
pub async fn approvals(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
) -> ApiResult<Json<ApprovalHistoryDto>> {
    let (study, history) = study::approvals(state, &staff.0, slug).await?;
    Ok(Json(ApprovalHistoryDto::new(&study, &history, today())))
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/approvals", tag = "studies",
    request_body = RecordApproval,
    responses(
        (status = 201, description = "Recorded (audited); a renewal moves the expiry", body = ApprovalHistoryDto),
        MalformedBody,
        NoToken,
        (status = 403, description = "Facilitators do not record approvals", body = ErrorBody),
        NotYours,
        (status = 422, description = "Unknown kind, a reference on record already, a date in the future or before the study's approval, a renewal that does not move the expiry on, or an amendment without a summary", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/approvals", data = "<body>")]
pub async fn record_approval(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    body: JsonBody<RecordApproval>,
) -> ApiResult<(Status, Json<ApprovalHistoryDto>)> {
    let (study, history) = study::record_approval(state, &staff.0, slug, &body.0.input()).await?;
    Ok((Status::Created, Json(ApprovalHistoryDto::new(&study, &history, today()))))
}
