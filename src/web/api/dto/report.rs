//! The report.

use serde::Serialize;
use utoipa::ToSchema;

/// The report (SPEC §8). `questions` maps instrument key → question key →
/// `{type, label, n, skipped, counts?, percent?, mean?, median?, q1?, q3?, min?, max?}`.
#[derive(Serialize, ToSchema)]
pub struct ReportDto {
    pub study: String,
    pub title: String,
    pub ethics_reference: String,
    pub generated_at: String,
    #[schema(value_type = Object)]
    pub enrolment: serde_json::Value,
    #[schema(value_type = Vec<Object>)]
    pub by_ad: serde_json::Value,
    #[schema(value_type = Vec<Object>)]
    pub by_channel: serde_json::Value,
    #[schema(value_type = Vec<Object>)]
    pub strata: serde_json::Value,
    #[schema(value_type = Object)]
    pub questions: serde_json::Value,
    #[schema(value_type = Object)]
    pub respondents: serde_json::Value,
    #[schema(value_type = Object)]
    pub excluded: serde_json::Value,
    #[schema(value_type = Object)]
    pub focus_groups: serde_json::Value,
    /// With `?by=QUESTION`: `{question, label, groups: [{value, label, respondents,
    /// questions}]}`, the same statistics within each group of respondents.
    #[schema(value_type = Object, nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<serde_json::Value>,
    pub suppressed_below: u32,
}
