//! The study report: the coordinator's JSON, the published outputs (`report.csv`,
//! `report.pdf`, small cells suppressed) and the answer exports with their codebook
//! and R and SPSS syntax.

use rocket::http::ContentType;
use rocket::serde::json::Json;
use rocket::{State, get};

use super::dto::{ErrorBody, ReportDto};
use crate::service::report::{Export, Output};
use crate::service::{AppState, report};
use crate::web::api::responses::CoordinatorAction;
use crate::web::errors::ApiResult;
use crate::web::guards::StaffUser;

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/report", tag = "report",
    params(
        ("by" = Option<String>, Query, description = "A screening question to cross-tabulate every question by", example = "entry_pathway"),
    ),
    responses(
        (status = 200, description = "Raw counts and statistics", body = ReportDto),
        CoordinatorAction,
        (status = 422, description = "`by` is not a screening question of the study", body = ErrorBody),
    )
)]
#[get("/studies/<slug>/report?<by>")]
pub async fn json(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    by: Option<&str>,
) -> ApiResult<Json<ReportDto>> {
    let r = report::report(state, &staff.0, slug, by).await?;
    Ok(Json(ReportDto::from(r)))
}

/// A CSV download in UTF-8.
pub struct Csv(Vec<u8>);

impl<'r> rocket::response::Responder<'r, 'static> for Csv {
    fn respond_to(self, req: &'r rocket::Request<'_>) -> rocket::response::Result<'static> {
        let csv = rocket::http::ContentType::new("text", "csv").with_params(("charset", "utf-8"));
        (csv, self.0).respond_to(req)
    }
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/export.csv", tag = "report",
    responses(
        (status = 200, description = "One row per participant code whose answers count; multi_choice as question__choice 0/1 columns", content_type = "text/csv", body = String),
        CoordinatorAction,
    )
)]
#[get("/studies/<slug>/export.csv")]
pub async fn export_csv(state: &State<AppState>, staff: StaffUser, slug: &str) -> ApiResult<Csv> {
    Ok(Csv(report::export(state, &staff.0, slug, Export::Answers).await?.into_bytes()))
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/codebook.csv", tag = "report",
    responses(
        (status = 200, description = "Every export column with its questionnaire, question, type, label and values", content_type = "text/csv", body = String),
        CoordinatorAction,
    )
)]
#[get("/studies/<slug>/codebook.csv")]
pub async fn codebook_csv(state: &State<AppState>, staff: StaffUser, slug: &str) -> ApiResult<Csv> {
    Ok(Csv(report::export(state, &staff.0, slug, Export::Codebook).await?.into_bytes()))
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/report.csv", tag = "report",
    params(
        ("by" = Option<String>, Query, description = "A screening question to break every question down by", example = "entry_pathway"),
    ),
    responses(
        (status = 200, description = "Every published figure, one per line (`section,instrument,table,row,column,value`), non-zero counts below the study's threshold shown as `<k` with complementary suppression", content_type = "text/csv", body = String),
        CoordinatorAction,
        (status = 422, description = "`by` is not a screening question of the study", body = ErrorBody),
    )
)]
#[get("/studies/<slug>/report.csv?<by>")]
pub async fn report_csv(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    by: Option<&str>,
) -> ApiResult<Csv> {
    Ok(Csv(report::output(state, &staff.0, slug, by, Output::Csv).await?))
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/report.pdf", tag = "report",
    params(
        ("by" = Option<String>, Query, description = "A screening question to break every question down by", example = "entry_pathway"),
    ),
    responses(
        (status = 200, description = "Title page, methods, then every section's tables and bar charts, small cells suppressed", content_type = "application/pdf", body = Vec<u8>),
        CoordinatorAction,
        (status = 422, description = "`by` is not a screening question of the study", body = ErrorBody),
    )
)]
#[get("/studies/<slug>/report.pdf?<by>")]
pub async fn report_pdf(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    by: Option<&str>,
) -> ApiResult<(ContentType, Vec<u8>)> {
    Ok((ContentType::PDF, report::output(state, &staff.0, slug, by, Output::Pdf).await?))
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/export.R", tag = "report",
    responses(
        (status = 200, description = "R code that reads export.csv with column classes, factor labels and variable labels", content_type = "text/plain", body = String),
        CoordinatorAction,
    )
)]
#[get("/studies/<slug>/export.R")]
pub async fn export_r(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
) -> ApiResult<(ContentType, String)> {
    Ok((ContentType::Plain, report::export(state, &staff.0, slug, Export::R).await?))
}

#[utoipa::path(
    get, path = "/api/v1/studies/{slug}/export.sps", tag = "report",
    responses(
        (status = 200, description = "SPSS syntax that reads export.csv with formats, variable labels and value labels", content_type = "text/plain", body = String),
        CoordinatorAction,
    )
)]
#[get("/studies/<slug>/export.sps")]
pub async fn export_sps(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
) -> ApiResult<(ContentType, String)> {
    Ok((ContentType::Plain, report::export(state, &staff.0, slug, Export::Spss).await?))
}
