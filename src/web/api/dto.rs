//! Request and response bodies of the JSON API. Requests default missing fields to
//! empty so that the domain reports every missing field at once, by name.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::audit::Event;
use crate::domain::policy::{Capacity, StudyRole};
use crate::domain::study::Study;
use crate::domain::user::User;

/// The error shape of every non-2xx answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `validation_failed`, `not_found`.
    pub code: String,
    /// A human sentence.
    pub message: String,
    /// Field name to the reasons it was refused (422 only).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<std::collections::BTreeMap<String, Vec<String>>>,
    /// Present on 5xx answers: quote it when reporting the problem.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(default)]
#[derive(Default)]
pub struct TokenRequest {
    pub email: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// A bearer token starting `cst_`; shown once.
    pub token: String,
    pub role: String,
    pub expires_at: String,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct CreateUser {
    pub email: String,
    pub name: String,
    /// `admin`, `coordinator`, `facilitator` or `ethics_officer`.
    pub role: String,
    /// At least 12 characters.
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserDto {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    /// False once an admin has switched the account off: it cannot sign in.
    pub active: bool,
}

/// What an admin changes on a staff account.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ChangeUser {
    /// Switch the account on or off; off also ends every token and session.
    #[schema(nullable = false)]
    pub active: Option<bool>,
    /// End every token and session of the account now.
    pub revoke_tokens: bool,
}

impl From<&User> for UserDto {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role.as_str().to_string(),
            active: u.active,
        }
    }
}

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
}

#[derive(Serialize, ToSchema)]
pub struct EthicsDto {
    pub committee: String,
    pub reference: String,
    pub approved_on: String,
    pub expires_on: String,
    /// True from the day after `expires_on`: no recruitment or consent then.
    pub expired: bool,
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
            ethics: EthicsDto {
                committee: study.ethics.committee.clone(),
                reference: study.ethics.reference.clone(),
                approved_on: study.ethics.approved_on.to_string(),
                expires_on: study.ethics.expires_on.to_string(),
                expired: study.approval_expired(today),
            },
            contact: ContactDto {
                name: study.contact_name.clone(),
                email: study.contact_email.clone(),
            },
            identity_check: study.identity_check.as_str().to_string(),
            suppress_below: study.suppress_below,
            reminder_hours: study.reminder_hours,
            timezone: study.timezone.name().to_string(),
            confirm_email_first: study.confirm_email_first,
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

#[derive(Serialize, ToSchema)]
pub struct AuditEventDto {
    pub chain: String,
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub study: Option<String>,
    pub entity: String,
    pub entity_id: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

impl From<&Event> for AuditEventDto {
    fn from(e: &Event) -> Self {
        Self {
            chain: e.chain.clone(),
            seq: e.seq,
            at: crate::domain::audit::format_at(&e.at),
            actor: e.actor.clone(),
            action: e.action.clone(),
            study: e.study.clone(),
            entity: e.entity.clone(),
            entity_id: e.entity_id.clone(),
            details: e.details.clone(),
            prev_hash: e.prev_hash.clone(),
            hash: e.hash.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub chain: String,
    pub events: Vec<AuditEventDto>,
    /// Pass as `after` to read on; absent when this page reached the end.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ChainSummaryDto {
    pub chain: String,
    pub events: i64,
    pub head: String,
}

/// `{ok: true, events, chains}` or `{ok: false, chain, first_bad_seq, reason, events_checked}`.
#[derive(Serialize, ToSchema)]
pub struct VerifyDto {
    pub ok: bool,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<i64>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chains: Option<Vec<ChainSummaryDto>>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad_seq: Option<i64>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events_checked: Option<i64>,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct ConsentItemInput {
    /// Lower-case letters, digits and underscores, unique in the form.
    pub key: String,
    pub text: String,
    pub required: bool,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct CreateConsentForm {
    /// Digits and dots, like `1` or `2.1`; never reused in a study.
    pub version: String,
    /// BCP 47, e.g. `en-AU`.
    pub language: String,
    pub title: String,
    /// The explanatory statement, in Markdown.
    pub body_markdown: String,
    pub items: Vec<ConsentItemInput>,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct ApproveConsentForm {
    /// The study's ethics approval reference.
    pub approval_reference: String,
    /// `YYYY-MM-DD`, not in the future.
    pub approved_on: String,
}

#[derive(Serialize, ToSchema)]
pub struct ConsentItemDto {
    pub key: String,
    pub text: String,
    pub required: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ConsentFormDto {
    pub version: String,
    pub language: String,
    pub title: String,
    pub body_markdown: String,
    pub items: Vec<ConsentItemDto>,
    /// SHA-256 over the canonical title, language, body and items.
    pub form_hash: String,
    /// `draft`, `active` or `superseded`.
    pub state: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_reference: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_on: Option<String>,
}

impl From<&crate::domain::consent::ConsentForm> for ConsentFormDto {
    fn from(f: &crate::domain::consent::ConsentForm) -> Self {
        Self {
            version: f.version.clone(),
            language: f.language.clone(),
            title: f.title.clone(),
            body_markdown: f.body_markdown.clone(),
            items: f
                .items
                .iter()
                .map(|i| ConsentItemDto {
                    key: i.key.clone(),
                    text: i.text.clone(),
                    required: i.required,
                })
                .collect(),
            form_hash: f.form_hash.clone(),
            state: f.state.as_str().to_string(),
            approval_reference: f.approval_reference.clone(),
            approved_on: f.approved_on.map(|d| d.to_string()),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct InviteParticipant {
    pub name: String,
    pub email: String,
}

#[derive(Serialize, ToSchema)]
pub struct InvitationDto {
    /// Starts `cpt_`; shown once, for a new participant only. The participant's
    /// private link is `portal_url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub portal_url: Option<String>,
    /// A link is on its way to the participant's address (always true).
    pub sent: bool,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct SignatureInput {
    pub typed_name: String,
    /// An SVG of strokes from the signature pad: `<svg viewBox=…>` with `<path d="M… L…"/>` only.
    #[schema(nullable = false)]
    pub drawn_svg: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct GiveConsent {
    pub version: String,
    pub form_hash: String,
    /// Item key to agreed; optional items left out count as not agreed.
    pub items: std::collections::BTreeMap<String, bool>,
    pub signature: SignatureInput,
    pub read_confirmed: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ConsentGivenDto {
    pub consent_id: i64,
    pub participant_code: String,
    pub signed_at: String,
    pub version: String,
    pub ethics_reference: String,
    pub record_sha256: String,
    pub pdf_sha256: String,
    #[schema(value_type = Object)]
    pub receipt: serde_json::Value,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct Withdraw {
    /// `future_only` or `withdraw_data`.
    pub scope: String,
    #[schema(nullable = false)]
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ParticipantFormDto {
    pub version: String,
    pub title: String,
    pub language: String,
    pub body_markdown: String,
    pub items: Vec<ConsentItemDto>,
    pub form_hash: String,
    pub ethics: EthicsRefDto,
}

#[derive(Serialize, ToSchema)]
pub struct EthicsRefDto {
    pub committee: String,
    pub reference: String,
}

#[derive(Serialize, ToSchema)]
pub struct NextStepDto {
    /// `consent`, `reconsent`, `questionnaire` or `availability`.
    pub step: String,
    /// `todo` or `done`.
    pub state: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PortalStudyDto {
    pub slug: String,
    pub title: String,
    pub ethics: EthicsRefDto,
    pub contact: ContactDto,
}

#[derive(Serialize, ToSchema)]
pub struct PortalConsentDto {
    pub version: String,
    pub signed_at: String,
    pub pdf_sha256: String,
}

#[derive(Serialize, ToSchema)]
pub struct PortalDto {
    pub study: PortalStudyDto,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `invited`, `consented` or `withdrawn`.
    pub status: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent: Option<PortalConsentDto>,
    pub next_steps: Vec<NextStepDto>,
    /// The focus group the participant is booked into, if any.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub focus_group: Option<SlotDto>,
}

#[derive(Serialize, ToSchema)]
pub struct RegisterEntryDto {
    pub consent_id: i64,
    pub participant_code: String,
    pub version: String,
    pub form_hash: String,
    pub signed_at: String,
    #[schema(value_type = Object)]
    pub items: serde_json::Map<String, serde_json::Value>,
    pub typed_name: String,
    pub drawn_signature: bool,
    #[schema(value_type = Option<Object>)]
    pub withdrawal: Option<serde_json::Value>,
    pub record_sha256: String,
    pub pdf_sha256: String,
    pub pdf_url: String,
}

#[derive(Serialize, ToSchema)]
pub struct MailDto {
    pub id: i64,
    /// `invitation`, `consent_receipt`, `withdrawal`, `identity_code`, `reminder`,
    /// `focus_group_invitation`, `focus_group_reminder`, `focus_group_cancellation`.
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<String>,
    /// `queued`, `sending`, `sent`, `kept` (no SMTP configured), `failed` or
    /// `cancelled` (a reminder withdrawn before it was due).
    pub status: String,
    pub attempts: i32,
    pub created_at: String,
    /// Not sent before this time: a reminder's due time, or the next retry.
    pub due_at: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
}

/// "Send me a new link": the address the participant gave the study.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct RequestLink {
    pub email: String,
}

/// The same answer for every well-formed address.
#[derive(Serialize, ToSchema)]
pub struct LinkRequestedDto {
    /// Always true: if the address is on record, a link is on its way to it.
    pub sent: bool,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct EnterCode {
    /// The six digits from the e-mail.
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReconsentDueDto {
    pub participant_code: String,
    pub signed_version: String,
    pub signed_at: String,
    pub active_version: String,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct AttachInstrument {
    /// The questionnaire's key in the forms folder, e.g. `demographics`.
    pub key: String,
    /// The questionnaire's version, e.g. `1`.
    pub version: i64,
    /// `screening` (answered with an ad's enrolment) or `after_consent`.
    pub stage: String,
    /// For a screening questionnaire: who is eligible, e.g. `enrolled_in_medicine == true`.
    #[schema(nullable = false)]
    pub eligible_if: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct InstrumentDto {
    pub key: String,
    pub version: u32,
    pub title: String,
    /// SHA-256 of the form file the answers are given against.
    pub form_hash: String,
    pub stage: String,
    pub eligible_if: Option<String>,
    pub questions: usize,
}

#[derive(Serialize, ToSchema)]
pub struct QuestionnaireSummaryDto {
    pub key: String,
    pub version: u32,
    pub title: String,
    /// `not_started`, `in_progress` or `complete`.
    pub status: String,
}

#[derive(Serialize, ToSchema)]
pub struct ChoiceDto {
    pub value: String,
    pub label: String,
}

#[derive(Serialize, ToSchema)]
pub struct QuestionDto {
    pub key: String,
    /// text | long_text | integer | number | single_choice | multi_choice | scale | yes_no | date | email
    #[serde(rename = "type")]
    pub kind: String,
    pub label: String,
    pub help: Option<String>,
    pub required: bool,
    pub section: Option<String>,
    pub choices: Vec<ChoiceDto>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub pattern: Option<String>,
    pub min_choices: Option<usize>,
    pub max_choices: Option<usize>,
    /// When set, the question is asked only when this holds (SPEC §9).
    pub show_if: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct QuestionnaireDto {
    pub key: String,
    pub version: u32,
    pub title: String,
    pub description: Option<String>,
    pub form_hash: String,
    /// `not_started`, `in_progress` or `complete`.
    pub status: String,
    pub revision: i32,
    pub questions: Vec<QuestionDto>,
    /// The answers saved so far, by question key.
    #[schema(value_type = Object)]
    pub answers: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct SubmitAnswers {
    /// Question key to answer: text, number, boolean or list of choices (SPEC §9).
    #[schema(value_type = Object)]
    pub answers: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
pub struct AnswersSavedDto {
    pub key: String,
    pub version: u32,
    pub form_hash: String,
    /// `complete`.
    pub status: String,
    /// 1 for the first save, raised by each revision.
    pub revision: i32,
    #[schema(value_type = Object)]
    pub answers: serde_json::Map<String, serde_json::Value>,
}

impl QuestionDto {
    pub fn from(q: &crate::domain::questionnaire::Question) -> Self {
        QuestionDto {
            key: q.key.clone(),
            kind: q.kind.as_str().to_string(),
            label: q.label.clone(),
            help: q.help.clone(),
            required: q.required,
            section: q.section.clone(),
            choices: q
                .choices
                .iter()
                .map(|c| ChoiceDto { value: c.value.clone(), label: c.label.clone() })
                .collect(),
            min: q.min,
            max: q.max,
            min_length: q.min_length,
            max_length: Some(q.length_limit()).filter(|_| q.kind.is_textual()),
            pattern: q.pattern.as_ref().map(|p| p.source.clone()),
            min_choices: q.min_choices,
            max_choices: q.max_choices,
            show_if: q.show_if.as_ref().map(|(s, _)| s.clone()),
        }
    }
}

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

#[derive(Serialize, ToSchema)]
pub struct RemindersDto {
    /// Reminders queued now (each with a fresh link).
    pub queued: usize,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct FocusGroupInput {
    #[schema(example = "Focus group 1")]
    pub title: String,
    /// RFC 3339, in the future.
    #[schema(example = "2026-03-08T09:00:00Z")]
    pub starts_at: String,
    /// 15 to 480.
    #[schema(example = 60)]
    pub duration_minutes: i64,
    #[schema(example = "Clayton campus, room 1.01")]
    pub location: String,
    /// A member of the study's staff who will run the session.
    #[schema(example = "di@example.org")]
    pub facilitator_email: String,
    /// 1 to 100 places.
    #[schema(example = 8)]
    pub capacity: i64,
}

#[derive(Serialize, ToSchema)]
pub struct FacilitatorDto {
    pub email: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct MemberDto {
    pub participant_code: String,
    pub first_name: String,
    /// `null` until recorded.
    pub attended: Option<bool>,
    pub invited_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SessionLogDto {
    pub actual_minutes: i32,
    pub new_codes: i32,
    pub notes: String,
    pub logged_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct FocusGroupDto {
    pub id: i64,
    pub title: String,
    pub starts_at: String,
    pub ends_at: String,
    pub duration_minutes: i32,
    pub location: String,
    pub facilitator: FacilitatorDto,
    pub capacity: i32,
    /// Raised at every reschedule (the calendar's SEQUENCE).
    pub sequence: i32,
    /// Set when the session was cancelled (it is kept for the record).
    pub cancelled_at: Option<String>,
    pub members: Vec<MemberDto>,
    /// How many participants said they can attend.
    pub available: usize,
    pub log: Option<SessionLogDto>,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct MemberInput {
    #[schema(example = "P001")]
    pub participant_code: String,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct AttendanceInput {
    #[schema(example = "P001")]
    pub participant_code: String,
    pub attended: bool,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct SessionLogInput {
    /// 1 to 600.
    #[schema(example = 50)]
    pub actual_minutes: i64,
    /// Codes this session raised that earlier sessions had not.
    #[schema(example = 6)]
    pub new_codes: i64,
    pub notes: String,
}

#[derive(Serialize, ToSchema)]
pub struct AttendanceDto {
    pub participant_code: String,
    pub attended: bool,
}

#[derive(Serialize, ToSchema)]
pub struct InvitationsQueuedDto {
    /// Invitations queued, one per member.
    pub queued: usize,
}

#[derive(Serialize, ToSchema)]
pub struct PlacementDto {
    pub participant_code: String,
    pub focus_group_id: i64,
}

#[derive(Serialize, ToSchema)]
pub struct UnplacedDto {
    pub participant_code: String,
    pub reason: String,
}

/// A proposed allocation; nothing is applied.
#[derive(Serialize, ToSchema)]
pub struct PlanDto {
    pub placements: Vec<PlacementDto>,
    pub unplaced: Vec<UnplacedDto>,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct AvailabilityInput {
    /// Ids of upcoming focus groups of the participant's study.
    pub slots: Vec<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct SlotDto {
    pub id: i64,
    pub title: String,
    pub starts_at: String,
    pub ends_at: String,
    pub location: String,
    pub chosen: bool,
}

#[derive(Serialize, ToSchema)]
pub struct AvailabilityDto {
    /// The chosen sessions' ids.
    pub slots: Vec<i64>,
    /// Every upcoming session of the study.
    pub sessions: Vec<SlotDto>,
}

#[derive(Serialize, ToSchema)]
pub struct ConflictDto {
    pub facilitator_email: String,
    pub participant_code: String,
    pub declared_at: String,
}
