//! What the optional consent items govern, as coordinators act on it: the results
//! summary mailed to those who asked for it.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, post};

use crate::service::{AppState, consent};
use crate::web::api::dto::{ErrorBody, ResultsSummaryInput, SummaryQueuedDto};
use crate::web::api::responses::{CoordinatorAction, MalformedBody};
use crate::web::errors::ApiResult;
use crate::web::guards::StaffUser;
use crate::web::json::JsonBody;

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/results-summary", tag = "consent",
    request_body = ResultsSummaryInput,
    responses(
        (status = 202, description = "One message queued for each participant whose latest consent asked for the summary (never anyone who withdrew); audited", body = SummaryQueuedDto),
        MalformedBody,
        CoordinatorAction,
        (status = 409, description = "The study is not closed, no consent-form version has an item governing `results_summary`, or the summary was sent already", body = ErrorBody),
        (status = 422, description = "The summary is empty or too long", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/results-summary", data = "<body>")]
pub async fn results_summary(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    body: JsonBody<ResultsSummaryInput>,
) -> ApiResult<(Status, Json<SummaryQueuedDto>)> {
    let queued =
        consent::choices::send_results_summary(state, &staff.0, slug, &body.0.summary).await?;
    Ok((Status::Accepted, Json(SummaryQueuedDto { queued })))
}
