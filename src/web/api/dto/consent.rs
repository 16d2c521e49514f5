//! Consent-form versions, signing, withdrawal, the identity check and the register.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::consent::SignRequest;
use crate::domain::consent::receipt::Receipt;
use crate::domain::study::Study;
use crate::service::consent::{Given, ReconsentDue};

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct ConsentItemInput {
    /// Lower-case letters, digits and underscores, unique in the form.
    pub key: String,
    pub text: String,
    pub required: bool,
    /// What an optional item's answer decides elsewhere in the study:
    /// `audio_recording`, `verbatim_quotes`, `results_summary`, `future_contact` or
    /// `data_sharing`, each at most once a form. Omitted: nothing.
    #[schema(nullable = false)]
    pub governs: Option<String>,
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
    /// Knowledge-review questions answered correctly before signing; none when empty.
    pub checks: Vec<CheckInputDto>,
    /// Wrong answers a question allows before the participant is asked to talk to the
    /// researchers; omitted or 0 for as many tries as needed.
    #[schema(nullable = false)]
    pub max_tries: Option<u32>,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct CheckInputDto {
    /// Lower-case letters, digits and underscores, unique in the form.
    pub key: String,
    pub question: String,
    /// Two to eight, each once.
    pub options: Vec<String>,
    /// The correct option, word for word.
    pub answer: String,
    /// Shown to the participant after a wrong answer.
    pub explanation: String,
}

impl From<CheckInputDto> for crate::domain::consent::review::CheckInput {
    fn from(c: CheckInputDto) -> Self {
        Self {
            key: c.key,
            question: c.question,
            options: c.options,
            answer: c.answer,
            explanation: c.explanation,
        }
    }
}

/// A knowledge-review question: staff see its answer and explanation; a participant
/// sees where they stand on it instead (and the explanation after a wrong answer).
#[derive(Serialize, ToSchema)]
pub struct CheckDto {
    pub key: String,
    pub question: String,
    pub options: Vec<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// The participant answered it correctly (participant view only).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answered_correctly: Option<bool>,
    /// Answers the participant gave to it so far (participant view only).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tries: Option<u32>,
}

impl CheckDto {
    pub fn for_staff(c: &crate::domain::consent::review::Check) -> Self {
        Self {
            key: c.key.clone(),
            question: c.question.clone(),
            options: c.options.clone(),
            answer: Some(c.answer.clone()),
            explanation: Some(c.explanation.clone()),
            answered_correctly: None,
            tries: None,
        }
    }

    pub fn for_participant(
        c: &crate::domain::consent::review::Check,
        progress: &crate::domain::consent::review::Progress,
    ) -> Self {
        let standing = progress.get(&c.key);
        Self {
            key: c.key.clone(),
            question: c.question.clone(),
            options: c.options.clone(),
            answer: None,
            explanation: standing
                .and_then(|s| s.last_wrong.as_ref())
                .map(|_| c.explanation.clone()),
            answered_correctly: Some(standing.is_some_and(|s| s.correct)),
            tries: Some(standing.map_or(0, |s| s.tries)),
        }
    }
}

/// Where a participant stands on the knowledge review of the version in force.
#[derive(Serialize, ToSchema)]
pub struct ReviewDto {
    /// Every question answered correctly: the form can be signed.
    pub passed: bool,
    /// A question ran out of tries: talk to the researchers before signing.
    pub locked: bool,
    /// Whom to talk to, when locked.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tries: Option<u32>,
    pub checks: Vec<CheckDto>,
}

impl ReviewDto {
    pub fn new(state: &crate::service::consent::ReviewState, study: &Study) -> Self {
        let review = &state.form.review;
        let locked = state.progress.locked();
        Self {
            passed: state.progress.passed(),
            locked,
            message: locked.then(|| crate::service::consent::talk_to_the_researchers(study)),
            max_tries: review.max_tries,
            checks: review
                .checks
                .iter()
                .map(|c| CheckDto::for_participant(c, &state.progress))
                .collect(),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct AnswerChecks {
    pub version: String,
    pub form_hash: String,
    /// Question key to the option chosen, word for word, for every question not yet
    /// answered correctly.
    pub answers: std::collections::BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct ApproveConsentForm {
    /// Which language's text of the version is approved (BCP 47); needed only when
    /// more than one is a draft.
    #[schema(nullable = false)]
    pub language: Option<String>,
    /// The study's ethics approval reference, or an amendment's: one not on record yet
    /// is recorded as an amendment of the study's approval in the same step (audited).
    pub approval_reference: String,
    /// `YYYY-MM-DD`, not in the future.
    pub approved_on: String,
}

#[derive(Serialize, ToSchema)]
pub struct ConsentItemDto {
    pub key: String,
    pub text: String,
    pub required: bool,
    /// What the optional item governs; absent when nothing.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub governs: Option<String>,
}

impl From<&crate::domain::consent::ConsentItem> for ConsentItemDto {
    fn from(i: &crate::domain::consent::ConsentItem) -> Self {
        Self {
            key: i.key.clone(),
            text: i.text.clone(),
            required: i.required,
            governs: i.governs.map(|g| g.to_string()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ConsentFormDto {
    pub version: String,
    pub language: String,
    pub title: String,
    pub body_markdown: String,
    pub items: Vec<ConsentItemDto>,
    /// The knowledge-review questions, with their answers and explanations.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckDto>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tries: Option<u32>,
    /// SHA-256 over the canonical title, language, body, items and knowledge review.
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
            items: f.items.iter().map(ConsentItemDto::from).collect(),
            checks: f.review.checks.iter().map(CheckDto::for_staff).collect(),
            max_tries: f.review.max_tries,
            form_hash: f.form_hash.clone(),
            state: f.state.as_str().to_string(),
            approval_reference: f.approval_reference.clone(),
            approved_on: f.approved_on.map(|d| d.to_string()),
        }
    }
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
    pub receipt: crate::domain::consent::receipt::Receipt,
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
    /// Every language the version in force has a text in (BCP 47), this one included:
    /// ask for another with `?language=`.
    pub languages: Vec<String>,
    /// The knowledge review to pass before signing (`POST /participant/consent/checks`);
    /// absent when the version asks no questions.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<ReviewDto>,
}

#[derive(Serialize, ToSchema)]
pub struct EthicsRefDto {
    pub committee: String,
    pub reference: String,
}

#[derive(Serialize, ToSchema)]
pub struct RegisterEntryDto {
    pub consent_id: i64,
    pub participant_code: String,
    pub version: String,
    /// The language of the text signed (BCP 47).
    pub language: String,
    pub form_hash: String,
    /// The approval reference the version was signed under.
    pub ethics_reference: String,
    pub signed_at: String,
    #[schema(value_type = Object)]
    pub items: serde_json::Map<String, serde_json::Value>,
    pub typed_name: String,
    pub drawn_signature: bool,
    #[schema(nullable = true)]
    pub withdrawal: Option<WithdrawalDto>,
    pub record_sha256: String,
    pub pdf_sha256: String,
    pub pdf_url: String,
    /// A change of optional choices: the `consent_id` of the record it amends.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amends: Option<i64>,
    /// The knowledge review answered before signing: per question, its words, the
    /// answers it took and whether the first was right.
    #[schema(value_type = Vec<Object>)]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub knowledge_review: Vec<crate::domain::consent::review::CheckOutcome>,
}

/// A participant's withdrawal as the register shows it.
#[derive(Serialize, ToSchema)]
pub struct WithdrawalDto {
    /// `future_only` or `withdraw_data`.
    pub scope: String,
    pub at: String,
}

impl RegisterEntryDto {
    /// The register line of `e`, with the address of its PDF in study `slug`.
    pub fn new(slug: &str, e: crate::service::consent::RegisterEntry) -> Self {
        RegisterEntryDto {
            pdf_url: format!("/api/v1/studies/{slug}/consents/{}/pdf", e.consent_id),
            consent_id: e.consent_id,
            participant_code: e.participant_code,
            version: e.version,
            language: e.language,
            form_hash: e.form_hash,
            ethics_reference: e.ethics_reference,
            signed_at: e.signed_at,
            items: e.items.into_iter().map(|(k, v)| (k, serde_json::Value::Bool(v))).collect(),
            typed_name: e.typed_name,
            drawn_signature: e.drawn_signature,
            withdrawal: e.withdrawal.map(|w| WithdrawalDto {
                scope: w.scope.as_str().to_string(),
                at: crate::domain::audit::format_at(&w.at),
            }),
            record_sha256: e.record_sha256,
            pdf_sha256: e.pdf_sha256,
            amends: e.amends,
            knowledge_review: e.checks.clone(),
        }
    }
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

impl From<&Study> for EthicsRefDto {
    fn from(s: &Study) -> Self {
        Self { committee: s.ethics.committee.clone(), reference: s.ethics.reference.clone() }
    }
}

impl From<ReconsentDue> for ReconsentDueDto {
    fn from(d: ReconsentDue) -> Self {
        Self {
            participant_code: d.participant_code,
            signed_version: d.signed_version,
            signed_at: d.signed_at,
            active_version: d.active_version,
        }
    }
}

impl ParticipantFormDto {
    pub fn new(state: crate::service::consent::ReviewState, study: &Study) -> Self {
        let review = (!state.form.review.is_empty()).then(|| ReviewDto::new(&state, study));
        let f = state.form;
        Self {
            review,
            languages: state.languages,
            version: f.version,
            title: f.title,
            language: f.language,
            body_markdown: f.body_markdown,
            items: f.items.iter().map(ConsentItemDto::from).collect(),
            form_hash: f.form_hash,
            ethics: EthicsRefDto {
                committee: study.ethics.committee.clone(),
                reference: f
                    .approval_reference
                    .clone()
                    .unwrap_or_else(|| study.ethics.reference.clone()),
            },
        }
    }
}

impl ConsentGivenDto {
    pub fn new(given: &Given, receipt: Receipt) -> Self {
        Self {
            consent_id: given.consent_id,
            participant_code: given.record.participant_code.clone(),
            signed_at: given.record.signed_at.clone(),
            version: given.record.form_version.clone(),
            ethics_reference: given.record.ethics_reference.clone(),
            record_sha256: given.record_sha256.clone(),
            pdf_sha256: given.pdf_sha256.clone(),
            receipt,
        }
    }
}

impl From<GiveConsent> for SignRequest {
    fn from(b: GiveConsent) -> Self {
        Self {
            version: b.version,
            form_hash: b.form_hash,
            items: b.items,
            typed_name: b.signature.typed_name,
            drawn_svg: b.signature.drawn_svg,
            read_confirmed: b.read_confirmed,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct ResultsSummaryInput {
    /// Plain text, at most 20,000 characters: the message each recipient reads
    /// between a greeting and the study's footer.
    pub summary: String,
}

#[derive(Serialize, ToSchema)]
pub struct SummaryQueuedDto {
    /// Messages queued, one per participant who asked for the summary.
    pub queued: usize,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct ChangeChoices {
    /// Each optional item the participant now agrees to, as `key: true`; an optional
    /// item left out (or false) is declined. A required item cannot be declined here.
    #[schema(value_type = Object)]
    pub items: std::collections::BTreeMap<String, bool>,
    pub signature: SignatureInput,
}

/// One of a participant's own consent records.
#[derive(Serialize, ToSchema)]
pub struct ConsentHistoryDto {
    pub consent_id: i64,
    pub signed_at: String,
    pub version: String,
    /// Each item's key and whether it was agreed.
    #[schema(value_type = Object)]
    pub items: serde_json::Map<String, serde_json::Value>,
    /// For a change of choices: the `record_id` of the record it amends.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amends: Option<String>,
    pub record_id: String,
    pub record_sha256: String,
    pub pdf_sha256: String,
    pub pdf_url: String,
}

impl From<&Given> for ConsentHistoryDto {
    fn from(g: &Given) -> Self {
        Self {
            consent_id: g.consent_id,
            signed_at: g.record.signed_at.clone(),
            version: g.record.form_version.clone(),
            items: g
                .record
                .items
                .iter()
                .map(|i| (i.key.clone(), serde_json::Value::Bool(i.agreed)))
                .collect(),
            amends: g.record.amends.clone(),
            record_id: g.record.record_id.clone(),
            record_sha256: g.record_sha256.clone(),
            pdf_sha256: g.pdf_sha256.clone(),
            pdf_url: format!("/api/v1/participant/consents/{}/pdf", g.consent_id),
        }
    }
}
