//! The report.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::report::figures::{
    AdRow, CrossTab, Enrolment, Excluded, FocusGroups, QuestionStats, Report, StratumRow,
};

/// The report (SPEC §8). `questions` maps instrument key → question key →
/// `{type, label, n, skipped, counts?, percent?, mean?, median?, q1?, q3?, min?, max?}`.
#[derive(Serialize, ToSchema)]
pub struct ReportDto {
    pub study: String,
    pub title: String,
    pub ethics_reference: String,
    pub generated_at: String,
    #[schema(value_type = Object)]
    pub enrolment: Enrolment,
    #[schema(value_type = Vec<Object>)]
    pub by_ad: Vec<AdRow>,
    #[schema(value_type = Vec<Object>)]
    pub by_channel: Vec<AdRow>,
    #[schema(value_type = Vec<Object>)]
    pub strata: Vec<StratumRow>,
    #[schema(value_type = Object)]
    pub questions: BTreeMap<String, BTreeMap<String, QuestionStats>>,
    #[schema(value_type = Object)]
    pub respondents: BTreeMap<String, i64>,
    #[schema(value_type = Object)]
    pub excluded: Excluded,
    #[schema(value_type = Object)]
    pub focus_groups: FocusGroups,
    /// With `?by=QUESTION`: `{question, label, groups: [{value, label, respondents,
    /// questions}]}`, the same statistics within each group of respondents.
    #[schema(value_type = Object, nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<CrossTab>,
    /// Per consent-form version with knowledge-review questions: `{version, rates:
    /// [{key, question, answered, first_try_correct}]}`.
    #[schema(value_type = Vec<Object>)]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub understanding: Vec<crate::domain::consent::review::VersionRates>,
    pub suppressed_below: u32,
}

impl From<Report> for ReportDto {
    fn from(r: Report) -> Self {
        Self {
            study: r.study,
            title: r.title,
            ethics_reference: r.ethics_reference,
            generated_at: r.generated_at,
            enrolment: r.enrolment,
            by_ad: r.by_ad,
            by_channel: r.by_channel,
            strata: r.strata,
            questions: r.questions,
            respondents: r.respondents,
            excluded: r.excluded,
            focus_groups: r.focus_groups,
            understanding: r.understanding,
            by: r.crosstab,
            suppressed_below: r.suppressed_below,
        }
    }
}
