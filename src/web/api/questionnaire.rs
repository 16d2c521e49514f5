//! Questionnaires: coordinators attach them to a study; participants read and
//! answer their own.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, get, post, put};

use super::dto::{
    AnswersSavedDto, AttachInstrument, ErrorBody, InstrumentDto, QuestionnaireDto,
    QuestionnaireSummaryDto, SubmitAnswers,
};
use crate::service::AppState;
use crate::service::questionnaire::{self, Attach, Submit};
use crate::web::api::responses::{CoordinatorAction, MalformedBody, NoParticipantToken, StudyRead};
use crate::web::errors::ApiResult;
use crate::web::guards::{ParticipantUser, StaffUser};
use crate::web::json::JsonBody;

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/instruments", tag = "questionnaires",
    request_body = AttachInstrument,
    responses(
        (status = 201, description = "Attached", body = InstrumentDto),
        MalformedBody,
        CoordinatorAction,
        (status = 409, description = "Attached already, a second screening questionnaire, or the study is closed", body = ErrorBody),
        (status = 422, description = "Unknown key or version, bad stage, or an eligible_if that does not fit the form", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/instruments", data = "<body>")]
pub async fn attach(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    body: JsonBody<AttachInstrument>,
) -> ApiResult<(Status, Json<InstrumentDto>)> {
    let b = body.0;
    let req = Attach { key: b.key, version: b.version, stage: b.stage, eligible_if: b.eligible_if };
    let (instrument, definition) = questionnaire::attach(state, &staff.0, slug, req).await?;
    Ok((Status::Created, Json(InstrumentDto::new(&instrument, &definition))))
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/instruments", tag = "questionnaires",
    responses(
        (status = 200, description = "The study's questionnaires in order", body = Vec<InstrumentDto>),
        StudyRead,
    )
)]
#[get("/studies/<slug>/instruments")]
pub async fn list(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
) -> ApiResult<Json<Vec<InstrumentDto>>> {
    let all = questionnaire::list(state, &staff.0, slug).await?;
    Ok(Json(all.iter().map(|(i, d)| InstrumentDto::new(i, d)).collect()))
}

#[utoipa::path(
    get, path = "/api/v1/participant/questionnaires", tag = "participants",
    security(("participant" = [])),
    responses(
        (status = 200, description = "The participant's questionnaires in order", body = Vec<QuestionnaireSummaryDto>),
        NoParticipantToken,
        (status = 403, description = "Before consent, or after withdrawal", body = ErrorBody),
    )
)]
#[get("/participant/questionnaires")]
pub async fn mine(
    state: &State<AppState>,
    me: ParticipantUser,
) -> ApiResult<Json<Vec<QuestionnaireSummaryDto>>> {
    let all = questionnaire::for_participant(state, &me.participant).await?;
    Ok(Json(all.iter().map(QuestionnaireSummaryDto::from).collect()))
}

#[utoipa::path(
    get, path = "/api/v1/participant/questionnaires/{key}", tag = "participants",
    security(("participant" = [])),
    responses(
        (status = 200, description = "The definition and the answers saved so far", body = QuestionnaireDto),
        NoParticipantToken,
        (status = 403, description = "Before consent, or after withdrawal", body = ErrorBody),
        (status = 404, description = "The study asks no such questionnaire", body = ErrorBody),
    )
)]
#[get("/participant/questionnaires/<key>")]
pub async fn definition(
    state: &State<AppState>,
    me: ParticipantUser,
    key: &str,
) -> ApiResult<Json<QuestionnaireDto>> {
    let q = questionnaire::open(state, &me.participant, key).await?;
    Ok(Json(QuestionnaireDto::from(&q)))
}

#[utoipa::path(
    put, path = "/api/v1/participant/questionnaires/{key}", tag = "participants",
    request_body = SubmitAnswers,
    security(("participant" = [])),
    responses(
        (status = 200, description = "Saved; a later PUT revises the answers", body = AnswersSavedDto),
        MalformedBody,
        NoParticipantToken,
        (status = 403, description = "Before consent, or after withdrawal", body = ErrorBody),
        (status = 404, description = "The study asks no such questionnaire", body = ErrorBody),
        (status = 409, description = "The study is closed", body = ErrorBody),
        (status = 410, description = "The study is suspended", body = ErrorBody),
        (status = 422, description = "Answers refused; `fields` is keyed by question", body = ErrorBody),
    )
)]
#[put("/participant/questionnaires/<key>", data = "<body>")]
pub async fn answer(
    state: &State<AppState>,
    me: ParticipantUser,
    key: &str,
    body: JsonBody<SubmitAnswers>,
) -> ApiResult<Json<AnswersSavedDto>> {
    let q = questionnaire::answer(state, &me.participant, key, &body.0.answers, Submit::Complete)
        .await?;
    Ok(Json(AnswersSavedDto::from(&q)))
}
