//! Ads, enrolment and strata.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ContactDto, EthicsRefDto, QuestionnaireDto};

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct AdInput {
    /// The ad's short link, e.g. `moodle-mbbs` (`/ads/moodle-mbbs`); unique.
    pub code: String,
    /// `lms`, `email`, `poster`, `social` or `other`.
    pub channel: String,
    pub title: String,
    pub body_markdown: String,
    /// RFC 3339.
    pub opens_at: String,
    /// RFC 3339, after `opens_at`.
    pub closes_at: String,
}

#[derive(Serialize, ToSchema, Default)]
pub struct FunnelDto {
    pub screened: i64,
    pub eligible: i64,
    pub consented: i64,
}

#[derive(Serialize, ToSchema)]
pub struct AdDto {
    pub code: String,
    pub channel: String,
    pub title: String,
    pub body_markdown: String,
    pub opens_at: String,
    pub closes_at: String,
    pub closed_at: Option<String>,
    /// True when it takes respondents now.
    pub open: bool,
    pub url: String,
    pub views: i64,
    pub funnel: FunnelDto,
}

#[derive(Serialize, ToSchema)]
pub struct PublicStudyDto {
    pub title: String,
    /// What taking part involves.
    pub summary: String,
    pub ethics: EthicsRefDto,
    pub contact: ContactDto,
}

#[derive(Serialize, ToSchema)]
pub struct PublicAdDto {
    pub code: String,
    pub channel: String,
    pub title: String,
    pub body_markdown: String,
    pub opens_at: String,
    pub closes_at: String,
    /// True when it takes respondents now; otherwise `closed_reason` says why.
    pub open: bool,
    pub closed_reason: Option<String>,
    pub study: PublicStudyDto,
    /// The screening questions every respondent answers, if the study has any.
    pub screening: Option<QuestionnaireDto>,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct EnrolInput {
    pub name: String,
    pub email: String,
    /// The screening answers by question key.
    #[schema(value_type = Object)]
    pub answers: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
pub struct EnrolDto {
    pub eligible: bool,
    /// `cpt_…`: a new participant's private token (also mailed as a link).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub portal_url: Option<String>,
    /// For someone not eligible: a kind sentence that does not reveal the rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// 202: a link is on its way to the address on record, and no token is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent: Option<bool>,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct StratumInput {
    /// A question of the study's screening questionnaire.
    pub question: String,
    /// The answer that defines the stratum, e.g. `graduate` (or `true`, `3`).
    pub value: String,
    /// The goal shown on the dashboard.
    pub target: i64,
    /// A hard limit on enrolments in the stratum; withdrawn people free their place.
    #[schema(nullable = false)]
    pub cap: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct StratumDto {
    pub question: String,
    pub value: String,
    pub target: i32,
    pub cap: Option<i32>,
    pub screened: i64,
    pub eligible: i64,
    pub consented: i64,
}
