//! Consent pages: the form a participant signs (and staff preview), withdrawing,
//! and the rows of a study's forms and register.

use serde::Serialize;

use super::{Block, ParticipantFrame, Refusal, blocks};
use super::{FormView, StaffFrame};
use crate::domain::consent::review::{Progress, Review};
use crate::domain::consent::{ConsentForm, Governs};
use crate::domain::study::Study;
use crate::web::html::consent::DraftForm;

/// The consent page: the same page for a participant signing and for staff
/// previewing a version (then nothing is ticked and nothing can be signed).
#[derive(Serialize)]
pub struct ConsentPage {
    #[serde(flatten)]
    pub frame: ParticipantFrame,
    pub preview: bool,
    pub form: FormHead,
    pub statement: Vec<Block>,
    pub items: Vec<ItemBox>,
    pub typed_name: String,
    /// The drawing sent with a refused form, drawn again on the pad by its script.
    pub drawn_svg: String,
    pub read_confirmed: bool,
    /// The participant has withdrawn: the page says so and offers no form.
    pub withdrawn: bool,
    pub errors: Vec<(String, Vec<String>)>,
    pub name_errors: Vec<String>,
    pub read_errors: Vec<String>,
    pub signature_errors: Vec<String>,
    pub message: Option<String>,
    pub identity_required: bool,
    pub identity_sent_to: Option<String>,
    pub identity_error: Option<String>,
    /// The knowledge review, when the version asks questions.
    pub review: Option<ReviewBox>,
    /// The other languages the version in force can be read in (empty when one).
    pub languages: Vec<LanguageLink>,
}

/// A link of the language switcher: the tag, the language's own name, and
/// whether it is the text shown.
#[derive(Serialize)]
pub struct LanguageLink {
    pub tag: String,
    pub name: String,
    pub current: bool,
}

impl LanguageLink {
    /// The switcher for texts in `languages`, `shown` the current one; empty when
    /// there is only one text.
    pub fn all(languages: &[String], shown: &str) -> Vec<Self> {
        if languages.len() < 2 {
            return Vec::new();
        }
        languages
            .iter()
            .map(|tag| Self {
                tag: tag.clone(),
                name: crate::domain::consent::language::autonym(tag).to_string(),
                current: crate::domain::consent::language::same_tag(tag, shown),
            })
            .collect()
    }
}

/// The knowledge-review section of the consent page: questions still open (with
/// the explanation after a wrong answer), those answered, or whom to talk to.
#[derive(Serialize)]
pub struct ReviewBox {
    pub passed: bool,
    pub locked: bool,
    pub talk_to: Option<String>,
    pub max_tries: Option<u32>,
    pub questions: Vec<QuestionBox>,
    pub errors: Vec<String>,
}

#[derive(Serialize)]
pub struct QuestionBox {
    pub key: String,
    pub question: String,
    pub options: Vec<(String, bool)>,
    pub correct: bool,
    pub tries: u32,
    /// Shown after a wrong answer (and on the staff preview).
    pub explanation: Option<String>,
    /// The correct answer: on the staff preview only.
    pub answer: Option<String>,
    pub errors: Vec<String>,
}

impl ReviewBox {
    /// The questions as a participant sees them: `chosen` keeps the answers of a
    /// refused submission.
    pub fn for_participant(
        review: &Review,
        progress: &Progress,
        chosen: Option<&std::collections::BTreeMap<String, String>>,
        refusal: &Refusal,
        talk_to: String,
    ) -> Self {
        let locked = progress.locked();
        Self {
            passed: progress.passed(),
            locked,
            talk_to: locked.then_some(talk_to),
            max_tries: review.max_tries,
            questions: review
                .checks
                .iter()
                .map(|c| {
                    let standing = progress.get(&c.key);
                    let picked = chosen.and_then(|m| m.get(&c.key));
                    QuestionBox {
                        key: c.key.clone(),
                        question: c.question.clone(),
                        options: c
                            .options
                            .iter()
                            .map(|o| (o.clone(), picked.is_some_and(|p| p == o)))
                            .collect(),
                        correct: standing.is_some_and(|s| s.correct),
                        tries: standing.map_or(0, |s| s.tries),
                        explanation: standing
                            .and_then(|s| s.last_wrong.as_ref())
                            .map(|_| c.explanation.clone()),
                        answer: None,
                        errors: refusal.field(&format!("checks.{}", c.key)),
                    }
                })
                .collect(),
            errors: refusal.field("checks"),
        }
    }

    /// The questions with their answers and explanations, for staff.
    pub fn preview(review: &Review) -> Self {
        Self {
            passed: false,
            locked: false,
            talk_to: None,
            max_tries: review.max_tries,
            questions: review
                .checks
                .iter()
                .map(|c| QuestionBox {
                    key: c.key.clone(),
                    question: c.question.clone(),
                    options: c.options.iter().map(|o| (o.clone(), false)).collect(),
                    correct: false,
                    tries: 0,
                    explanation: Some(c.explanation.clone()),
                    answer: Some(c.answer.clone()),
                    errors: Vec::new(),
                })
                .collect(),
            errors: Vec::new(),
        }
    }
}

#[derive(Serialize)]
pub struct FormHead {
    pub version: String,
    pub title: String,
    pub form_hash: String,
    pub language: String,
    pub state: &'static str,
}

/// One consent item's checkbox.
#[derive(Serialize)]
pub struct ItemBox {
    pub key: String,
    pub text: String,
    pub required: bool,
    pub checked: bool,
    pub errors: Vec<String>,
}

/// What the participant entered, shown again when the form comes back.
#[derive(Default)]
pub struct Entered<'a> {
    pub items: Option<&'a std::collections::BTreeMap<String, bool>>,
    pub typed_name: &'a str,
    pub drawn_svg: &'a str,
    pub read_confirmed: bool,
}

/// The identity-check box: where a code was sent, or what went wrong.
#[derive(Default)]
pub struct IdentityBox {
    pub required: bool,
    pub sent_to: Option<String>,
    pub error: Option<String>,
}

impl ConsentPage {
    /// A version exactly as participants will see it, for staff (with the answers
    /// to its knowledge-review questions).
    pub fn preview(study: &Study, form: &ConsentForm) -> Self {
        let mut page = Self::build(
            ParticipantFrame::new(study, "").at("/staff".into()),
            form,
            true,
            Entered::default(),
            &Refusal::default(),
            IdentityBox::default(),
        );
        page.review = (!form.review.is_empty()).then(|| ReviewBox::preview(&form.review));
        page
    }

    /// The form in force for a participant to sign, with what they entered and why
    /// it was refused.
    pub fn signing(
        frame: ParticipantFrame,
        form: &ConsentForm,
        entered: Entered<'_>,
        refusal: &Refusal,
        identity: IdentityBox,
    ) -> Self {
        Self::build(frame, form, false, entered, refusal, identity)
    }

    fn build(
        frame: ParticipantFrame,
        form: &ConsentForm,
        preview: bool,
        entered: Entered<'_>,
        refusal: &Refusal,
        identity: IdentityBox,
    ) -> Self {
        let items = form
            .items
            .iter()
            .map(|i| ItemBox {
                key: i.key.clone(),
                text: i.text.clone(),
                required: i.required,
                checked: entered.items.is_some_and(|m| m.get(&i.key).copied().unwrap_or(false)),
                errors: refusal.field(&format!("items.{}", i.key)),
            })
            .collect();
        Self {
            frame,
            preview,
            form: FormHead {
                version: form.version.clone(),
                title: form.title.clone(),
                form_hash: form.form_hash.clone(),
                language: form.language.clone(),
                state: form.state.as_str(),
            },
            statement: blocks(&form.body_markdown),
            items,
            typed_name: entered.typed_name.to_string(),
            drawn_svg: entered.drawn_svg.to_string(),
            read_confirmed: entered.read_confirmed,
            withdrawn: false,
            errors: refusal.in_page_order(
                &std::iter::once(("checks".to_string(), String::new()))
                    .chain(
                        form.review
                            .checks
                            .iter()
                            .map(|c| (format!("checks.{}", c.key), c.question.clone())),
                    )
                    .chain(form.items.iter().map(|i| (format!("items.{}", i.key), i.text.clone())))
                    .chain([
                        ("signature.typed_name".to_string(), "Your full name".to_string()),
                        ("signature.drawn_svg".to_string(), "Your drawn signature".to_string()),
                        ("read_confirmed".to_string(), String::new()),
                    ])
                    .collect::<Vec<_>>(),
            ),
            name_errors: refusal.field("signature.typed_name"),
            read_errors: refusal.field("read_confirmed"),
            signature_errors: refusal.field("signature.drawn_svg"),
            message: refusal.message.clone(),
            identity_required: identity.required,
            identity_sent_to: identity.sent_to,
            identity_error: identity.error,
            review: None,
            languages: Vec::new(),
        }
    }
}

/// The withdrawal form, with the messages of a refused attempt.
#[derive(Serialize)]
pub struct WithdrawPage {
    #[serde(flatten)]
    pub frame: ParticipantFrame,
    pub errors: Vec<String>,
    /// Withdrawn already: the page says so instead of asking again.
    pub withdrawn: bool,
}

#[derive(Serialize)]
pub struct FormRow {
    pub version: String,
    pub language: String,
    pub title: String,
    pub state: &'static str,
    pub hash_prefix: String,
    pub approved_on: Option<String>,
    pub items: usize,
}

impl From<&ConsentForm> for FormRow {
    fn from(f: &ConsentForm) -> Self {
        Self {
            version: f.version.clone(),
            language: f.language.clone(),
            title: f.title.clone(),
            state: f.state.as_str(),
            hash_prefix: f.form_hash.chars().take(12).collect(),
            approved_on: f.approved_on.map(|d| d.to_string()),
            items: f.items.len(),
        }
    }
}

#[derive(Serialize)]
pub struct RegisterRow {
    pub consent_id: i64,
    pub code: String,
    pub version: String,
    pub language: String,
    pub reference: String,
    pub signed_at: String,
    pub agreed: String,
    pub typed_name: String,
    pub withdrawn: Option<String>,
    /// A change of optional choices rather than a consent as first given.
    pub amends: bool,
}

impl RegisterRow {
    /// The register line of `e`; the typed name left out when `names_hidden`.
    pub fn new(
        e: &crate::service::consent::RegisterEntry,
        names_hidden: bool,
        zone: crate::domain::study::Zone,
    ) -> Self {
        let agreed: Vec<&str> =
            e.items.iter().filter(|(_, agreed)| *agreed).map(|(k, _)| k.as_str()).collect();
        Self {
            consent_id: e.consent_id,
            code: e.participant_code.clone(),
            version: e.version.clone(),
            language: e.language.clone(),
            reference: e.ethics_reference.clone(),
            signed_at: super::in_words_raw(&e.signed_at, zone),
            agreed: agreed.join(", "),
            typed_name: if names_hidden { String::new() } else { e.typed_name.clone() },
            withdrawn: e.withdrawal.as_ref().map(|w| w.scope.as_str().replace('_', " ")),
            amends: e.amends.is_some(),
        }
    }
}

/// One participant's consent story: each consent, under its approval, with its items.
#[derive(Serialize)]
pub struct StoryPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub slug: String,
    pub title: String,
    pub code: String,
    /// Names are hidden until the viewer gives a reason (ethics officers).
    pub names_hidden: bool,
    pub consents: Vec<StoryConsent>,
    /// The withdrawal's scope and time, when they withdrew.
    pub withdrawn: Option<(String, String)>,
}

#[derive(Serialize)]
pub struct StoryConsent {
    pub consent_id: i64,
    pub version: String,
    pub language: String,
    pub reference: String,
    pub signed_at: String,
    pub items: Vec<(String, bool)>,
    pub typed_name: String,
    pub drawn_signature: bool,
    pub record_sha256: String,
    /// A change of optional choices: what changed from the record before it.
    pub changed: Option<Vec<(String, bool)>>,
    /// The knowledge review: each question and how it went, in words.
    pub checks: Vec<(String, String)>,
}

impl StoryPage {
    pub fn new(
        frame: StaffFrame,
        study: &crate::domain::study::Study,
        code: &str,
        entries: &[crate::service::consent::RegisterEntry],
        names_hidden: bool,
    ) -> Self {
        Self {
            frame,
            names_hidden,
            slug: study.slug.clone(),
            title: study.title.clone(),
            code: code.trim().to_uppercase(),
            withdrawn: entries.iter().find_map(|e| e.withdrawal.as_ref()).map(|w| {
                (w.scope.as_str().replace('_', " "), super::in_words(w.at, study.timezone))
            }),
            consents: entries
                .iter()
                .map(|e| StoryConsent {
                    changed: e
                        .amends
                        .and_then(|id| entries.iter().find(|x| x.consent_id == id))
                        .map(|before| {
                            e.items
                                .iter()
                                .filter(|item| !before.items.contains(item))
                                .cloned()
                                .collect()
                        }),
                    consent_id: e.consent_id,
                    version: e.version.clone(),
                    language: e.language.clone(),
                    reference: e.ethics_reference.clone(),
                    signed_at: super::in_words_raw(&e.signed_at, study.timezone),
                    items: e.items.clone(),
                    typed_name: if names_hidden { String::new() } else { e.typed_name.clone() },
                    drawn_signature: e.drawn_signature,
                    record_sha256: e.record_sha256.clone(),
                    checks: e.checks.iter().map(|c| (c.question.clone(), c.in_words())).collect(),
                })
                .collect(),
        }
    }
}

/// The page that drafts a consent-form version: the fields (or a pasted file), the
/// versions so far, and, when asked, the statement as participants will see it.
#[derive(Serialize)]
pub struct DraftPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub slug: String,
    pub title: String,
    pub versions: Vec<FormRow>,
    pub form: FormView<DraftForm>,
    /// The statement rendered as on the consent page, when previewing.
    pub preview: Option<Vec<Block>>,
    /// What an optional item may govern, as (value, words) for the select.
    pub governs_options: Vec<(&'static str, &'static str)>,
}

/// What an item governing `g` does, in a coordinator's words.
pub fn governs_words(g: Governs) -> &'static str {
    match g {
        Governs::AudioRecording => {
            "Audio recording: facilitators are warned not to record those who decline"
        }
        Governs::VerbatimQuotes => "Verbatim quotes: the export's may_quote column",
        Governs::ResultsSummary => "Results summary: mailed only to those who agree",
        Governs::FutureContact => {
            "Future contact: only those who agree can be invited to a later study"
        }
        Governs::DataSharing => {
            "Sharing de-identified data: the export leaves out or flags those who decline"
        }
    }
}

impl DraftPage {
    pub fn new(
        frame: StaffFrame,
        study: &crate::domain::study::Study,
        forms: &[crate::domain::consent::ConsentForm],
        values: DraftForm,
        refusal: Option<&crate::error::AppError>,
        preview: bool,
    ) -> Self {
        Self {
            frame,
            slug: study.slug.clone(),
            title: study.title.clone(),
            versions: forms.iter().map(FormRow::from).collect(),
            preview: preview.then(|| blocks(values.body_markdown())),
            form: FormView::new(values, refusal),
            governs_options: Governs::ALL.iter().map(|g| (g.as_str(), governs_words(*g))).collect(),
        }
    }
}

/// A draft consent-form version beside the one in force, for approval.
#[derive(Serialize)]
pub struct ReviewPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub slug: String,
    pub title: String,
    pub version: String,
    pub language: String,
    pub state: &'static str,
    /// The text compared with: the version in force, in this language when it has it.
    pub active_version: Option<String>,
    pub active_language: Option<String>,
    pub lines: Vec<crate::domain::consent::diff::Line>,
    pub items: Vec<crate::domain::consent::diff::ItemChange>,
    /// This version's knowledge-review questions, approved with it.
    pub review: Review,
    pub can_approve: bool,
    pub study_reference: String,
    pub today: String,
    /// References on record (the study's and its amendments'), newest last.
    pub references: Vec<String>,
}

impl ReviewPage {
    pub fn new(
        frame: StaffFrame,
        study: &crate::domain::study::Study,
        capacity: crate::domain::policy::Capacity,
        draft: &crate::domain::consent::ConsentForm,
        active: Option<&crate::domain::consent::ConsentForm>,
        history: &[crate::domain::study::approval::Approval],
    ) -> Self {
        let (lines, items) = crate::domain::consent::diff::between(active, draft);
        let mut references: Vec<String> = Vec::new();
        for r in
            std::iter::once(&study.ethics.reference).chain(history.iter().map(|a| &a.reference))
        {
            if !references.contains(r) {
                references.push(r.clone());
            }
        }
        Self {
            frame,
            slug: study.slug.clone(),
            title: study.title.clone(),
            version: draft.version.clone(),
            language: draft.language.clone(),
            state: draft.state.as_str(),
            active_version: active.map(|a| a.version.clone()),
            active_language: active.map(|a| a.language.clone()),
            lines,
            items,
            review: draft.review.clone(),
            can_approve: capacity == crate::domain::policy::Capacity::EthicsOfficer
                && draft.state == crate::domain::consent::FormState::Draft,
            study_reference: study.ethics.reference.clone(),
            today: chrono::Utc::now().date_naive().to_string(),
            references,
        }
    }
}

/// The participant's consent receipt as a page: what they signed, under which
/// approval, what they agreed to, and the fingerprints that prove the record.
#[derive(Serialize)]
pub struct ReceiptPage {
    #[serde(flatten)]
    pub frame: ParticipantFrame,
    pub code: String,
    pub typed_name: String,
    pub signed_at: String,
    pub form_title: String,
    pub version: String,
    /// The language of the text signed (BCP 47).
    pub language: String,
    pub committee: String,
    pub reference: String,
    /// Each item's text and whether it was agreed.
    pub items: Vec<(String, bool, bool)>,
    pub identity_check: String,
    pub record_id: String,
    pub record_sha256: String,
    pub pdf_sha256: String,
    pub withdrawn: bool,
    pub meaning: String,
    /// Every signed record, oldest first (shown when there is more than one).
    pub history: Vec<HistoryLine>,
}

/// One of the participant's signed records on their receipt page.
#[derive(Serialize)]
pub struct HistoryLine {
    pub consent_id: i64,
    pub signed_at: String,
    pub version: String,
    pub amends: bool,
    /// For a change: what changed, in the items' words.
    pub changed: String,
}

impl HistoryLine {
    /// The lines of `all`, each change described against the record before it.
    pub fn of(
        all: &[crate::service::consent::Given],
        zone: crate::domain::study::Zone,
    ) -> Vec<Self> {
        let mut before: Option<&crate::domain::consent::ConsentRecord> = None;
        let mut out = Vec::with_capacity(all.len());
        for g in all {
            let r = &g.record;
            let changed = match (&r.amends, before) {
                (Some(_), Some(b)) => crate::domain::consent::changed(&b.items, &r.items)
                    .into_iter()
                    .map(|i| {
                        format!(
                            "{}: {}",
                            if i.agreed { "now agreed" } else { "now not agreed" },
                            i.text
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                _ => String::new(),
            };
            out.push(Self {
                consent_id: g.consent_id,
                signed_at: super::in_words_raw(&r.signed_at, zone),
                version: r.form_version.clone(),
                amends: r.amends.is_some(),
                changed,
            });
            before = Some(r);
        }
        out
    }
}

/// The page where a participant changes their optional choices.
#[derive(Serialize)]
pub struct ChoicesPage {
    #[serde(flatten)]
    pub frame: ParticipantFrame,
    pub version: String,
    /// The items needed to take part, in their words (not changeable here).
    pub required: Vec<String>,
    /// The optional items: key, text and whether the box is ticked.
    pub optional: Vec<(String, String, bool)>,
    pub typed_name: String,
    /// When the page cannot change anything (withdrawn, study closed, nothing
    /// optional, not consented): why.
    pub closed: Option<String>,
    pub errors: Vec<(String, Vec<String>)>,
    pub name_errors: Vec<String>,
    /// The study checks identity and the participant has not entered a code lately.
    pub identity_required: bool,
    pub identity_sent_to: Option<String>,
    pub identity_error: Option<String>,
    /// Where the identity forms come back to.
    pub identity_back: &'static str,
}

impl ChoicesPage {
    /// The identity check's part of the page.
    pub fn with_identity(mut self, identity: IdentityBox) -> Self {
        self.identity_required = identity.required;
        self.identity_sent_to = identity.sent_to;
        self.identity_error = identity.error;
        self
    }

    /// The page with nothing to change (`closed` says why).
    pub fn empty(frame: ParticipantFrame) -> Self {
        Self {
            frame,
            version: String::new(),
            required: Vec::new(),
            optional: Vec::new(),
            typed_name: String::new(),
            closed: None,
            errors: Vec::new(),
            name_errors: Vec::new(),
            identity_required: false,
            identity_sent_to: None,
            identity_error: None,
            identity_back: "choices",
        }
    }

    /// The page for `record` (their latest), with `ticked` overriding the record's
    /// answers when a refused form is shown again.
    pub fn new(
        frame: ParticipantFrame,
        record: &crate::domain::consent::ConsentRecord,
        ticked: Option<&std::collections::BTreeMap<String, bool>>,
        typed_name: &str,
        refusal: Option<&crate::error::AppError>,
    ) -> Self {
        let refusal = Refusal::of(refusal);
        let mut errors = refusal.listed();
        if let Some(m) = &refusal.message {
            errors.push((String::new(), vec![m.clone()]));
        }
        Self {
            frame,
            version: record.form_version.clone(),
            required: record.items.iter().filter(|i| i.required).map(|i| i.text.clone()).collect(),
            optional: record
                .items
                .iter()
                .filter(|i| !i.required)
                .map(|i| {
                    let on = ticked.map_or(i.agreed, |t| t.get(&i.key).copied().unwrap_or(false));
                    (i.key.clone(), i.text.clone(), on)
                })
                .collect(),
            typed_name: typed_name.to_string(),
            closed: None,
            name_errors: refusal.field("signature.typed_name"),
            errors,
            identity_required: false,
            identity_sent_to: None,
            identity_error: None,
            identity_back: "choices",
        }
    }
}

impl ReceiptPage {
    pub fn new(
        frame: ParticipantFrame,
        given: &crate::service::consent::Given,
        zone: crate::domain::study::Zone,
    ) -> Self {
        let r = &given.record;
        Self {
            withdrawn: frame.withdrawn,
            frame,
            code: r.participant_code.clone(),
            typed_name: r.typed_name.clone(),
            signed_at: super::in_words_raw(&r.signed_at, zone),
            form_title: r.form_title.clone(),
            language: r.language.clone(),
            version: r.form_version.clone(),
            committee: r.committee.clone(),
            reference: r.ethics_reference.clone(),
            items: r.items.iter().map(|i| (i.text.clone(), i.required, i.agreed)).collect(),
            identity_check: match r.identity_check.as_str() {
                "email_code" => "a code sent to your e-mail address".into(),
                _ => "your private link".into(),
            },
            record_id: r.record_id.clone(),
            record_sha256: given.record_sha256.clone(),
            pdf_sha256: given.pdf_sha256.clone(),
            meaning: r.meaning.clone(),
            history: Vec::new(),
        }
    }
}

/// The results summary's page: who asked for it, whether it went, and the form.
#[derive(Serialize)]
pub struct SummaryPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub slug: String,
    pub title: String,
    pub closed: bool,
    pub asked_on_form: bool,
    pub asked: usize,
    /// When it was sent (on the study's clock) and to how many.
    pub sent: Option<(String, u64)>,
    pub form: FormView<crate::web::html::consent::SummaryForm>,
}

impl SummaryPage {
    pub fn new(
        frame: StaffFrame,
        study: &Study,
        status: &crate::service::consent::choices::SummaryStatus,
        form: FormView<crate::web::html::consent::SummaryForm>,
    ) -> Self {
        Self {
            frame,
            slug: study.slug.clone(),
            title: study.title.clone(),
            closed: study.status == crate::domain::study::StudyStatus::Closed,
            asked_on_form: status.asked_on_form,
            asked: status.asked,
            sent: status.sent.map(|(at, n)| {
                (study.timezone.local(at).format("%-d %B %Y, %H:%M").to_string(), n)
            }),
            form,
        }
    }
}
