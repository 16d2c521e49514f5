//! Ads, enrolment and strata.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ContactDto, EthicsRefDto, QuestionnaireDto};
use crate::domain::audit::format_at;
use crate::domain::recruitment::{Ad, Funnel, Stratum};
use crate::service::recruitment::{Enrolment, PublicAd};

/// What an ineligible respondent is told: kind, and silent about the rule.
pub const NOT_ELIGIBLE: &str = "Thank you for your interest. From your answers, this study is not able to include you. Nothing you entered has been kept.";

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

impl From<Funnel> for FunnelDto {
    fn from(f: Funnel) -> Self {
        Self { screened: f.screened, eligible: f.eligible, consented: f.consented }
    }
}

impl AdDto {
    /// `url` is the ad's public address.
    pub fn new(ad: &Ad, funnel: Funnel, url: String) -> Self {
        Self {
            code: ad.code.clone(),
            channel: ad.channel.as_str().to_string(),
            title: ad.title.clone(),
            body_markdown: ad.body_markdown.clone(),
            opens_at: format_at(&ad.opens_at),
            closes_at: format_at(&ad.closes_at),
            closed_at: ad.closed_at.as_ref().map(format_at),
            open: ad.not_open(chrono::Utc::now()).is_none(),
            url,
            views: ad.views,
            funnel: FunnelDto::from(funnel),
        }
    }
}

impl From<&PublicAd> for PublicAdDto {
    fn from(p: &PublicAd) -> Self {
        let s = &p.study;
        Self {
            code: p.ad.code.clone(),
            channel: p.ad.channel.as_str().to_string(),
            title: p.ad.title.clone(),
            body_markdown: p.ad.body_markdown.clone(),
            opens_at: format_at(&p.ad.opens_at),
            closes_at: format_at(&p.ad.closes_at),
            open: p.closed_because.is_none(),
            closed_reason: p.closed_because.clone(),
            study: PublicStudyDto {
                title: s.title.clone(),
                summary: s.summary.clone(),
                ethics: EthicsRefDto::from(s),
                contact: ContactDto::from(s),
            },
            screening: p.screening.as_deref().map(QuestionnaireDto::unanswered),
        }
    }
}

impl From<Enrolment> for EnrolDto {
    fn from(e: Enrolment) -> Self {
        let nothing = Self {
            eligible: true,
            participant_token: None,
            portal_url: None,
            reason: None,
            sent: None,
        };
        match e {
            Enrolment::Enrolled { token, portal_url, .. } => {
                Self { participant_token: Some(token), portal_url: Some(portal_url), ..nothing }
            }
            Enrolment::Sent => Self { sent: Some(true), ..nothing },
            Enrolment::Ineligible => {
                Self { eligible: false, reason: Some(NOT_ELIGIBLE.into()), ..nothing }
            }
        }
    }
}

impl StratumDto {
    pub fn new(s: Stratum, f: Funnel) -> Self {
        Self {
            question: s.question_key,
            value: s.value,
            target: s.target,
            cap: s.cap,
            screened: f.screened,
            eligible: f.eligible,
            consented: f.consented,
        }
    }
}
