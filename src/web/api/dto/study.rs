//! Studies, their approval, settings, staff and status.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::audit::format_at;
use crate::domain::policy::{Capacity, StudyRole};
use crate::domain::study::Study;
use crate::domain::study::approval::{
    Approval, ApprovalInput, EXPIRY_WARNING_DAYS, expires_within,
};
use crate::domain::user::User;

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct EthicsInput {
    pub committee: String,
    pub reference: String,
    /// `YYYY-MM-DD`
    #[schema(format = Date, example = "2026-01-15")]
    pub approved_on: String,
    /// `YYYY-MM-DD`, after `approved_on`
    #[schema(format = Date, example = "2027-01-15")]
    pub expires_on: String,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct ContactInput {
    pub name: String,
    pub email: String,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct CreateStudy {
    /// Lower-case letters, digits and single hyphens, 3 to 64 long.
    #[schema(
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$",
        min_length = 3,
        max_length = 64,
        example = "social-media-med-ed"
    )]
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub ethics: EthicsInput,
    pub contact: ContactInput,
    /// `none` (default) or `email_code`: a code e-mailed to participants must be entered before signing.
    #[schema(nullable = false)]
    pub identity_check: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct StudySettings {
    /// `none` or `email_code`; left as it is when absent.
    #[schema(nullable = false)]
    pub identity_check: Option<String>,
    /// Published outputs (report PDF and CSV) show non-zero counts below this as
    /// `<k`; 0 turns suppression off, at most 100. Left as it is when absent.
    #[schema(nullable = false, minimum = 0, maximum = 100)]
    pub suppress_below: Option<i64>,
    /// Hours before a focus group that the server reminds its members (0: no
    /// reminders), at most 168. Left as it is when absent.
    #[schema(nullable = false, minimum = 0, maximum = 168)]
    pub reminder_hours: Option<i64>,
    /// The IANA time zone pages and mail show times in (`Australia/Melbourne`);
    /// the API always speaks UTC. Left as it is when absent.
    #[schema(nullable = false, example = "Australia/Melbourne")]
    pub timezone: Option<String>,
    /// When true, every eligible enrolment answers 202 and continues only from the
    /// e-mailed link, so no one learns whether an address is enrolled (and a new
    /// respondent waits for the mail). Left as it is when absent.
    #[schema(nullable = false)]
    pub confirm_email_first: Option<bool>,
    /// An address for concerns and complaints independent of the researchers
    /// (usually the ethics office), shown on every participant page; "" clears it.
    /// Left as it is when absent.
    #[schema(nullable = false, example = "research-ethics@example.edu")]
    pub complaints_email: Option<String>,
    /// The same contact's telephone number; "" clears it. Left as it is when absent.
    #[schema(nullable = false, example = "+61 3 9905 2052")]
    pub complaints_phone: Option<String>,
    /// What `export.csv` does with the rows of participants who declined the
    /// consent item that governs data sharing: `leave_out` (the default) or `flag`
    /// (kept, with `shares_data` 0). Left as it is when absent.
    #[schema(nullable = false, example = "leave_out")]
    pub declined_data_sharing: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EthicsDto {
    pub committee: String,
    pub reference: String,
    pub approved_on: String,
    pub expires_on: String,
    /// True from the day after `expires_on`: no recruitment or consent then.
    pub expired: bool,
    /// True in the last 30 days before `expires_on`: time to ask for a renewal.
    pub expires_soon: bool,
}

impl EthicsDto {
    pub fn new(study: &Study, today: NaiveDate) -> Self {
        Self {
            committee: study.ethics.committee.clone(),
            reference: study.ethics.reference.clone(),
            approved_on: study.ethics.approved_on.to_string(),
            expires_on: study.ethics.expires_on.to_string(),
            expired: study.approval_expired(today),
            expires_soon: expires_within(&study.ethics, today, EXPIRY_WARNING_DAYS).is_some(),
        }
    }
}

/// An amendment (a new consent text, site or facilitator, under its own reference)
/// or a renewal (a new expiry) the committee granted.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct RecordApproval {
    /// `amendment` or `renewal`.
    #[schema(example = "amendment")]
    pub kind: String,
    /// The amendment's reference or letter; for a renewal, empty means the study's own.
    #[schema(example = "CF15/2639-2015001090-A1")]
    pub reference: String,
    #[schema(example = "2026-06-01")]
    pub approved_on: String,
    /// A renewal's new expiry (after the current one).
    #[schema(nullable = false, example = "2028-01-15")]
    pub expires_on: Option<String>,
    /// What the amendment approves; optional for a renewal.
    #[schema(nullable = false)]
    pub summary: Option<String>,
}

impl RecordApproval {
    pub fn input(&self) -> ApprovalInput<'_> {
        ApprovalInput {
            kind: &self.kind,
            reference: &self.reference,
            approved_on: &self.approved_on,
            expires_on: self.expires_on.as_deref(),
            summary: self.summary.as_deref(),
        }
    }
}

/// One entry of a study's approval history.
#[derive(Serialize, ToSchema)]
pub struct ApprovalDto {
    /// `initial`, `amendment` or `renewal`.
    pub kind: String,
    pub reference: String,
    pub approved_on: String,
    /// The expiry this entry set (initial approval and renewals).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<String>,
    pub summary: String,
    pub recorded_at: String,
}

/// The approval in force and every entry that made it, oldest first.
#[derive(Serialize, ToSchema)]
pub struct ApprovalHistoryDto {
    pub ethics: EthicsDto,
    pub approvals: Vec<ApprovalDto>,
}

impl ApprovalHistoryDto {
    pub fn new(study: &Study, history: &[Approval], today: NaiveDate) -> Self {
        Self {
            ethics: EthicsDto::new(study, today),
            approvals: history
                .iter()
                .map(|a| ApprovalDto {
                    kind: a.kind.as_str().to_string(),
                    reference: a.reference.clone(),
                    approved_on: a.approved_on.to_string(),
                    expires_on: a.expires_on.map(|d| d.to_string()),
                    summary: a.summary.clone(),
                    recorded_at: format_at(&a.recorded_at),
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ContactDto {
    pub name: String,
    pub email: String,
}

#[derive(Serialize, ToSchema)]
pub struct StudyDto {
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// `draft`, `recruiting`, `paused`, `suspended` or `closed`.
    pub status: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    pub ethics: EthicsDto,
    pub contact: ContactDto,
    /// `none` or `email_code`.
    pub identity_check: String,
    /// Small-cell threshold of the published outputs (0: off).
    pub suppress_below: u32,
    /// Hours before a focus group that members are reminded (0: none).
    pub reminder_hours: u32,
    /// The IANA time zone pages and mail show times in.
    pub timezone: String,
    /// Every eligible enrolment answers 202 and continues only from the e-mailed link.
    pub confirm_email_first: bool,
    /// The complaints contact independent of the researchers, when set.
    pub complaints_email: Option<String>,
    pub complaints_phone: Option<String>,
    /// `leave_out` or `flag`: the export's rows of those who declined data sharing.
    pub declined_data_sharing: String,
    /// The capacity the caller acts in: `coordinator`, `facilitator` or `ethics_officer`.
    pub your_role: String,
    pub created_at: String,
    pub updated_at: String,
}

fn capacity_name(c: Capacity) -> &'static str {
    match c {
        Capacity::Coordinator => "coordinator",
        Capacity::Facilitator => "facilitator",
        Capacity::EthicsOfficer => "ethics_officer",
    }
}

impl StudyDto {
    pub fn new(study: &Study, capacity: Capacity, today: chrono::NaiveDate) -> Self {
        Self {
            slug: study.slug.clone(),
            title: study.title.clone(),
            summary: study.summary.clone(),
            status: study.status.as_str().to_string(),
            status_reason: study.status_reason.clone(),
            ethics: EthicsDto::new(study, today),
            contact: ContactDto {
                name: study.contact_name.clone(),
                email: study.contact_email.clone(),
            },
            identity_check: study.identity_check.as_str().to_string(),
            suppress_below: study.suppress_below,
            reminder_hours: study.reminder_hours,
            timezone: study.timezone.name().to_string(),
            confirm_email_first: study.confirm_email_first,
            complaints_email: study.complaints_email.clone(),
            complaints_phone: study.complaints_phone.clone(),
            declined_data_sharing: study.declined_data_sharing.as_str().to_string(),
            your_role: capacity_name(capacity).to_string(),
            created_at: study.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            updated_at: study.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct AddStaff {
    pub email: String,
    /// `coordinator` or `facilitator`.
    pub role: String,
}

#[derive(Serialize, ToSchema)]
pub struct StaffMemberDto {
    pub id: i64,
    pub email: String,
    pub name: String,
    /// The role on this study.
    pub role: String,
}

impl StaffMemberDto {
    pub fn new(user: &User, role: StudyRole) -> Self {
        Self {
            id: user.id,
            email: user.email.clone(),
            name: user.name.clone(),
            role: role.as_str().to_string(),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct ChangeStatus {
    /// `recruiting`, `paused`, `closed` (coordinators); `suspended`, `recruiting` (ethics officers).
    pub status: String,
    #[schema(nullable = false)]
    pub reason: Option<String>,
}

impl From<&Study> for ContactDto {
    fn from(s: &Study) -> Self {
        Self { name: s.contact_name.clone(), email: s.contact_email.clone() }
    }
}
