//! Consent-form versions (SPEC §6): what a draft must hold, its canonical hash, and
//! the rules for approving one; the signed record. `signature` checks a drawn
//! signature; `identity` is the optional e-mailed code before signing.

pub mod diff;
pub mod identity;
pub mod language;
pub mod receipt;
pub mod review;
pub mod signature;

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use crate::domain::audit::{canonical_json, sha256_hex};
use crate::domain::consent::review::{CheckInput, CheckOutcome, Review};
use crate::domain::fields::{FieldError, FieldErrors, required_text};
use crate::domain::study::approval::{Approval, ApprovalDraft, on_record};
use crate::domain::study::{Study, StudyStatus, parse_date};

pub const MAX_ITEMS: usize = 50;
pub const MAX_BODY_CHARS: usize = 200_000;

text_enum! {
    /// What an optional item's answer decides elsewhere in the study: each value has
    /// one effect, enforced in one place (README, "Optional items that act").
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Governs {
        /// The facilitator must not record them: their sessions warn per member.
        AudioRecording = "audio_recording",
        /// The export's `may_quote` column.
        VerbatimQuotes = "verbatim_quotes",
        /// Only they are mailed the results summary when the study closes.
        ResultsSummary = "results_summary",
        /// Only they may be listed for a future study's direct invitation.
        FutureContact = "future_contact",
        /// The export leaves out or flags the rows of those who did not agree.
        DataSharing = "data_sharing",
    }
    else "unknown_governs", "An item can govern audio_recording, verbatim_quotes, results_summary, future_contact or data_sharing."
}

/// One statement the participant agrees to (or not, when it is optional).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ConsentItem {
    pub key: String,
    pub text: String,
    pub required: bool,
    /// What the answer to this optional item decides, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub governs: Option<Governs>,
}

/// The raw fields of an item as a request carries them.
#[derive(Debug, Clone, Default)]
pub struct ItemInput {
    pub key: String,
    pub text: String,
    pub required: bool,
    /// Empty, or one of [`Governs`]'s words.
    pub governs: String,
}

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum FormState {
        Draft = "draft",
        Active = "active",
        Superseded = "superseded",
    }
    else "unknown_state", "Unknown consent-form state."
}

/// A version label: digits and dots, like `1` or `2.1`.
pub fn parse_version(raw: &str) -> Result<String, FieldError> {
    let v = raw.trim();
    let ok = !v.is_empty()
        && v.len() <= 20
        && v.split('.').all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()));
    if ok {
        Ok(v.to_string())
    } else {
        Err(FieldError::new("invalid_version", "Version must be digits and dots, like 1 or 2.1."))
    }
}

/// A BCP 47 language tag in its common shape (`en`, `en-AU`, `zh-Hant-TW`).
pub fn parse_language(raw: &str) -> Result<String, FieldError> {
    let tag = raw.trim();
    let mut parts = tag.split('-');
    let primary_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()));
    let rest_ok =
        parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if primary_ok && rest_ok && tag.len() <= 35 {
        Ok(tag.to_string())
    } else {
        Err(FieldError::new("invalid_language", "Language must be a BCP 47 tag such as en-AU."))
    }
}

/// A consent-form version as drafted, every field checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentFormDraft {
    pub version: String,
    pub language: String,
    pub title: String,
    pub body_markdown: String,
    pub items: Vec<ConsentItem>,
    /// The knowledge-review questions, when the version has any.
    pub review: Review,
}

/// The knowledge review of a draft as a request carries it.
#[derive(Debug, Clone, Default)]
pub struct ReviewInput {
    pub checks: Vec<CheckInput>,
    /// 0 or `None`: as many tries as needed.
    pub max_tries: Option<u32>,
}

impl ConsentFormDraft {
    pub fn parse(
        version: &str,
        language: &str,
        title: &str,
        body_markdown: &str,
        items: &[ItemInput],
        review: &ReviewInput,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let version = errors.take("version", parse_version(version));
        let language = errors.take("language", parse_language(language));
        let title = errors.take("title", required_text(title, "Title", 300));
        let body = errors.take(
            "body_markdown",
            required_text(body_markdown, "The explanatory statement", MAX_BODY_CHARS),
        );
        if items.is_empty() {
            errors.add("items", "required", "A consent form needs at least one item.");
        }
        if items.len() > MAX_ITEMS {
            errors.add(
                "items",
                "too_many",
                format!("A consent form has at most {MAX_ITEMS} items."),
            );
        }
        let mut seen = HashSet::new();
        let mut governed = HashSet::new();
        let mut parsed = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let key = item.key.trim();
            let key_ok = !key.is_empty()
                && key.len() <= 64
                && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !key_ok {
                errors.add(
                    &format!("items[{i}].key"),
                    "invalid_key",
                    "Item keys are lower-case letters, digits and underscores.",
                );
            } else if !seen.insert(key.to_string()) {
                errors.add(
                    &format!("items[{i}].key"),
                    "duplicate_key",
                    format!("Item key {key} is used twice."),
                );
            }
            let text = errors
                .take(&format!("items[{i}].text"), required_text(&item.text, "Item text", 2000));
            let governs = errors.take(
                &format!("items[{i}].governs"),
                parse_governs(&item.governs, item.required, &mut governed),
            );
            if let (Some(text), Some(governs)) = (text, governs) {
                parsed.push(ConsentItem {
                    key: key.to_string(),
                    text,
                    required: item.required,
                    governs,
                });
            }
        }
        let checks = review::parse_checks(&review.checks, &mut errors);
        let max_tries = errors
            .take("max_tries", review::parse_max_tries(review.max_tries, !review.checks.is_empty()))
            .flatten();
        let review = Review { checks, max_tries };
        match (version, language, title, body) {
            (Some(version), Some(language), Some(title), Some(body_markdown))
                if errors.is_empty() =>
            {
                Ok(Self { version, language, title, body_markdown, items: parsed, review })
            }
            _ => Err(errors),
        }
    }

    /// SHA-256 over the canonical JSON of title, language, body, items and knowledge
    /// review: the fingerprint a participant's consent is tied to.
    pub fn form_hash(&self) -> String {
        form_hash(&self.title, &self.language, &self.body_markdown, &self.items, &self.review)
    }
}

impl ConsentFormDraft {
    /// Every text of the draft that the signed PDF prints, with its field name.
    fn printed(&self) -> Vec<(String, &str)> {
        let mut texts = vec![
            ("title".to_string(), self.title.as_str()),
            ("body_markdown".to_string(), self.body_markdown.as_str()),
        ];
        for (i, item) in self.items.iter().enumerate() {
            texts.push((format!("items[{i}].text"), item.text.as_str()));
        }
        for (i, c) in self.review.checks.iter().enumerate() {
            texts.push((format!("checks[{i}].question"), c.question.as_str()));
            texts.push((format!("checks[{i}].explanation"), c.explanation.as_str()));
            for o in &c.options {
                texts.push((format!("checks[{i}].options"), o.as_str()));
            }
        }
        texts
    }

    /// The fields holding characters that `can_print` says the signed PDF's fonts
    /// cannot draw, each naming them: a version that would print as empty boxes is
    /// refused when drafted, never found on a signed copy.
    pub fn unprintable(&self, can_print: impl Fn(char) -> bool) -> FieldErrors {
        let mut errors = FieldErrors::new();
        for (field, text) in self.printed() {
            let mut missing: Vec<char> = Vec::new();
            for c in text.chars().filter(|c| !c.is_whitespace() && !c.is_control()) {
                if !can_print(c) && !missing.contains(&c) {
                    missing.push(c);
                }
            }
            if !missing.is_empty() && !errors.contains(&field) {
                let named: Vec<String> =
                    missing.iter().map(|c| format!("{c} (U+{:04X})", u32::from(*c))).collect();
                errors.add(
                    &field,
                    "unprintable",
                    format!(
                        "The signed PDF's fonts cannot print {}; use other characters.",
                        named.join(", ")
                    ),
                );
            }
        }
        errors
    }
}

/// What an item governs: nothing when `raw` is empty; an effect only an optional item
/// may carry (a required one is agreed by everyone), and each effect once a form.
fn parse_governs(
    raw: &str,
    required: bool,
    seen: &mut HashSet<Governs>,
) -> Result<Option<Governs>, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let governs: Governs = raw.parse()?;
    if required {
        return Err(FieldError::new(
            "governs_required_item",
            "Only an optional item can govern an effect: everyone agrees to a required one.",
        ));
    }
    if !seen.insert(governs) {
        return Err(FieldError::new(
            "duplicate_governs",
            format!("Another item already governs {governs}."),
        ));
    }
    Ok(Some(governs))
}

pub fn form_hash(
    title: &str,
    language: &str,
    body_markdown: &str,
    items: &[ConsentItem],
    review: &Review,
) -> String {
    // `governs` joins an item's hashed fields only when it is set, and the knowledge
    // review joins the form's only when it has questions, so a version drafted
    // before either existed keeps its hash.
    let item = |i: &ConsentItem| {
        let mut v = json!({"key": i.key, "text": i.text, "required": i.required});
        if let (Some(g), Some(map)) = (i.governs, v.as_object_mut()) {
            map.insert("governs".into(), json!(g.as_str()));
        }
        v
    };
    let mut value = json!({
        "title": title,
        "language": language,
        "body": body_markdown,
        "items": items.iter().map(item).collect::<Vec<_>>(),
    });
    if let (false, Some(map)) = (review.checks.is_empty(), value.as_object_mut()) {
        map.insert("checks".into(), json!(review.checks));
        map.insert("max_tries".into(), json!(review.max_tries));
    }
    sha256_hex(canonical_json(&value).as_bytes())
}

/// A stored consent-form version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentForm {
    pub id: i64,
    pub study_id: i64,
    pub version: String,
    pub language: String,
    pub title: String,
    pub body_markdown: String,
    pub items: Vec<ConsentItem>,
    pub review: Review,
    pub form_hash: String,
    pub state: FormState,
    pub approval_reference: Option<String>,
    pub approved_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalError {
    Fields(FieldErrors),
    /// 409: the version is not a draft, or the study is closed.
    Conflict(String),
    /// 410: the study's ethics approval has expired.
    Expired,
}

/// An ethics officer's approval of a consent-form version, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormApproval {
    pub reference: String,
    pub approved_on: NaiveDate,
    /// The amendment to record with it, when the reference is not on record yet.
    pub amendment: Option<ApprovalDraft>,
}

/// Checks an ethics officer's approval of `form` for `study` on `today`. The reference
/// is the study's own or an amendment's (`history`); one not on record yet is an
/// amendment approved with the form, recorded in the same step.
pub fn check_approval(
    study: &Study,
    history: &[Approval],
    form: &ConsentForm,
    reference: &str,
    approved_on: &str,
    today: NaiveDate,
) -> Result<FormApproval, ApprovalError> {
    let mut errors = FieldErrors::new();
    let reference = reference.trim();
    if reference.is_empty() {
        errors.add("approval_reference", "required", "Approval reference is required.");
    } else if reference.chars().count() > 100 {
        errors.add("approval_reference", "too_long", "Keep the reference under 100 characters.");
    }
    let date = errors.take("approved_on", parse_date(approved_on, "Approval date"));
    if let Some(d) = date {
        if d > today {
            errors.add("approved_on", "in_future", "Approval date cannot be in the future.");
        } else if d < study.ethics.approved_on {
            errors.add(
                "approved_on",
                "before_study_approval",
                "Approval date cannot be before the study's ethics approval.",
            );
        }
    }
    let Some(date) = date.filter(|_| errors.is_empty()) else {
        return Err(ApprovalError::Fields(errors));
    };
    if form.state != FormState::Draft {
        return Err(ApprovalError::Conflict(format!(
            "Version {} is {} already; only a draft can be approved.",
            form.version, form.state
        )));
    }
    if study.status == StudyStatus::Closed {
        return Err(ApprovalError::Conflict("The study is closed.".into()));
    }
    if study.approval_expired(today) {
        return Err(ApprovalError::Expired);
    }
    let amendment = (!on_record(&study.ethics, history, reference))
        .then(|| ApprovalDraft::for_consent_form(reference, date, &form.version));
    Ok(FormApproval { reference: reference.to_string(), approved_on: date, amendment })
}

/// What a participant sends to sign a consent form.
#[derive(Debug, Clone, Default)]
pub struct SignRequest {
    pub version: String,
    pub form_hash: String,
    pub items: std::collections::BTreeMap<String, bool>,
    pub typed_name: String,
    pub drawn_svg: Option<String>,
    pub read_confirmed: bool,
}

/// One item as decided: its text as shown, whether it was required, what it
/// governs, and the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ItemDecision {
    pub key: String,
    pub text: String,
    pub required: bool,
    pub agreed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub governs: Option<Governs>,
}

/// The answer to the item that governs `effect`: `None` when no item governs it.
pub fn choice(items: &[ItemDecision], effect: Governs) -> Option<bool> {
    items.iter().find(|i| i.governs == Some(effect)).map(|i| i.agreed)
}

/// A signing request that passed every rule of SPEC §6 against the active form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub items: Vec<ItemDecision>,
    pub typed_name: String,
    pub drawn_svg: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionError {
    Fields(FieldErrors),
    /// 409: the participant was shown another version or another text.
    Stale(String),
}

/// Checks a signing request against the active form.
pub fn decide(form: &ConsentForm, req: &SignRequest) -> Result<Decision, DecisionError> {
    if req.version.trim() != form.version {
        return Err(DecisionError::Stale(format!(
            "Version {} is not the consent form in force; read version {} and sign that.",
            req.version.trim(),
            form.version
        )));
    }
    if req.form_hash.trim() != form.form_hash {
        return Err(DecisionError::Stale(
            "The consent form differs from the one in force; reload it, read it and sign again."
                .into(),
        ));
    }
    let mut errors = FieldErrors::new();
    if !req.read_confirmed {
        errors.add(
            "read_confirmed",
            "required",
            "Confirm that you have read the explanatory statement.",
        );
    }
    let typed_name =
        errors.take("signature.typed_name", required_text(&req.typed_name, "Your full name", 200));
    let drawn_svg = match req.drawn_svg.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(svg) => errors
            .take("signature.drawn_svg", crate::domain::consent::signature::parse_drawing(svg))
            .map(|_| Some(svg.to_string())),
        None => Some(None),
    };
    for key in req.items.keys() {
        if !form.items.iter().any(|i| &i.key == key) {
            errors.add(
                &format!("items.{key}"),
                "unknown_item",
                format!("{key} is not an item of this consent form."),
            );
        }
    }
    let mut items = Vec::with_capacity(form.items.len());
    for item in &form.items {
        let agreed = req.items.get(&item.key).copied().unwrap_or(false);
        if item.required && !agreed {
            errors.add(
                &format!("items.{}", item.key),
                "required_item",
                format!("Taking part needs your agreement to: {}", item.text),
            );
        }
        items.push(ItemDecision {
            key: item.key.clone(),
            text: item.text.clone(),
            required: item.required,
            agreed,
            governs: item.governs,
        });
    }
    match (typed_name, drawn_svg) {
        (Some(typed_name), Some(drawn_svg)) if errors.is_empty() => {
            Ok(Decision { items, typed_name, drawn_svg })
        }
        _ => Err(DecisionError::Fields(errors)),
    }
}

/// The meaning of the signature, printed on every copy (21 CFR 11.50).
pub const SIGNATURE_MEANING: &str = "Consent to take part in this research";

/// The meaning of the signature on a change of optional choices.
pub const AMENDMENT_MEANING: &str =
    "Change to the optional choices of my consent to take part in this research";

/// The items of `after` whose answer differs from the same item in `before`: what a
/// change of choices changed.
pub fn changed<'a>(before: &[ItemDecision], after: &'a [ItemDecision]) -> Vec<&'a ItemDecision> {
    after
        .iter()
        .filter(|now| !before.iter().any(|b| b.key == now.key && b.agreed == now.agreed))
        .collect()
}

/// The audit actions that record a signed consent record: each carries the record's
/// and its PDF's hashes, and the verifier checks every one.
pub const SIGNED_ACTIONS: [&str; 2] = ["consent.given", "consent.amended"];

/// A participant's change of optional choices, checked against the items of their
/// latest record: the new items (each required one as it was) and the typed name.
/// Every optional item not in `choices` is declined, as an unticked box is.
pub fn amend(
    earlier: &[ItemDecision],
    choices: &std::collections::BTreeMap<String, bool>,
    typed_name: &str,
) -> Result<(Vec<ItemDecision>, String), FieldErrors> {
    let mut errors = FieldErrors::new();
    let name =
        errors.take("signature.typed_name", required_text(typed_name, "Your full name", 200));
    for (key, agreed) in choices {
        match earlier.iter().find(|i| &i.key == key) {
            None => errors.add(
                &format!("items.{key}"),
                "unknown_item",
                format!("{key} is not an item of your consent form."),
            ),
            Some(i) if i.required && !agreed => errors.add(
                &format!("items.{key}"),
                "required_item",
                format!(
                    "\"{}\" is needed to take part, so it cannot be changed here: to stop, withdraw from the study.",
                    i.text
                ),
            ),
            Some(_) => {}
        }
    }
    let items: Vec<ItemDecision> = earlier
        .iter()
        .map(|i| ItemDecision {
            agreed: i.required || choices.get(&i.key).copied().unwrap_or(false),
            ..i.clone()
        })
        .collect();
    if errors.is_empty() && items == earlier {
        errors.add("items", "unchanged", "Nothing changed: your choices are as they were.");
    }
    match name {
        Some(name) if errors.is_empty() => Ok((items, name)),
        _ => Err(errors),
    }
}

/// The signed consent record: everything the signature binds, hashed as canonical
/// JSON. Its hash is carried by the audit event, so neither can change unnoticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ConsentRecord {
    pub record_id: String,
    pub study: String,
    pub study_title: String,
    pub committee: String,
    pub ethics_reference: String,
    pub participant_code: String,
    pub form_version: String,
    pub form_title: String,
    pub form_hash: String,
    pub language: String,
    pub items: Vec<ItemDecision>,
    pub typed_name: String,
    pub drawn_signature_sha256: Option<String>,
    pub signed_at: String,
    pub identity_check: String,
    pub meaning: String,
    /// For a change of optional choices: the `record_id` of the record it amends.
    /// Absent on a consent as first given, so such records hash as they always did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amends: Option<String>,
    /// The knowledge review answered before signing, per question; absent when the
    /// version asks none (and on a change of choices, which asks none again).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckOutcome>,
}

impl ConsentRecord {
    pub fn canonical(&self) -> String {
        canonical_json(&serde_json::to_value(self).unwrap_or_default())
    }

    pub fn sha256(&self) -> String {
        sha256_hex(self.canonical().as_bytes())
    }

    /// Whether `decision` is the same consent again (a retry after a lost answer).
    pub fn same_as(&self, form_hash: &str, decision: &Decision) -> bool {
        self.form_hash == form_hash
            && self.items == decision.items
            && self.typed_name == decision.typed_name
            && self.drawn_signature_sha256
                == decision.drawn_svg.as_ref().map(|s| sha256_hex(s.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::study::EthicsApproval;

    fn item(key: &str, required: bool) -> ItemInput {
        ItemInput {
            key: key.into(),
            text: format!("I agree to {key}."),
            required,
            governs: String::new(),
        }
    }

    fn draft() -> ConsentFormDraft {
        ConsentFormDraft::parse(
            "1",
            "en-AU",
            "Consent",
            "## Statement",
            &[item("take_part", true), item("quotes", false)],
            &ReviewInput::default(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn d(s: &str) -> NaiveDate {
        parse_date(s, "d").unwrap_or_default()
    }

    fn study() -> Study {
        Study {
            id: 1,
            slug: "s-1".into(),
            title: "T".into(),
            summary: String::new(),
            status: StudyStatus::Draft,
            status_reason: None,
            ethics: EthicsApproval {
                committee: "HREC".into(),
                reference: "CF15/2639".into(),
                approved_on: d("2026-01-01"),
                expires_on: d("2026-12-31"),
            },
            contact_name: "C".into(),
            contact_email: "c@example.org".into(),
            identity_check: crate::domain::study::IdentityCheck::None,
            suppress_below: 5,
            reminder_hours: 24,
            timezone: crate::domain::study::Zone::default(),
            confirm_email_first: false,
            complaints_email: None,
            complaints_phone: None,
            declined_data_sharing: Default::default(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    fn stored(state: FormState) -> ConsentForm {
        let f = draft();
        ConsentForm {
            id: 1,
            study_id: 1,
            form_hash: f.form_hash(),
            version: f.version,
            language: f.language,
            title: f.title,
            body_markdown: f.body_markdown,
            items: f.items,
            review: f.review,
            state,
            approval_reference: None,
            approved_on: None,
        }
    }

    #[test]
    fn versions_and_languages() {
        for ok in ["1", "2.1", "10.0.3"] {
            assert!(parse_version(ok).is_ok(), "{ok}");
        }
        for bad in ["", "v1", "1.", ".1", "1..2", "1a"] {
            assert!(parse_version(bad).is_err(), "{bad}");
        }
        for ok in ["en", "en-AU", "zh-Hant-TW"] {
            assert!(parse_language(ok).is_ok(), "{ok}");
        }
        for bad in ["", "e", "english", "en_AU", "en-"] {
            assert!(parse_language(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn drafts_name_every_bad_field() {
        let e = ConsentFormDraft::parse(
            "x",
            "",
            " ",
            "",
            &[item("Bad Key", true), item("ok", true), item("ok", false)],
            &ReviewInput::default(),
        )
        .err()
        .unwrap_or_default();
        for f in ["version", "language", "title", "body_markdown", "items[0].key", "items[2].key"] {
            assert!(e.contains(f), "{f} missing from {e:?}");
        }
        assert!(
            ConsentFormDraft::parse("1", "en", "T", "B", &[], &ReviewInput::default())
                .err()
                .unwrap_or_default()
                .contains("items")
        );
    }

    #[test]
    fn the_hash_covers_text_and_items_but_not_the_version() {
        let a = draft();
        let mut b = a.clone();
        b.version = "2".into();
        assert_eq!(a.form_hash(), b.form_hash());
        let mut c = a.clone();
        c.items[1].required = true;
        assert_ne!(a.form_hash(), c.form_hash());
        let mut e = a.clone();
        e.body_markdown.push('.');
        assert_ne!(a.form_hash(), e.form_hash());
        assert_eq!(a.form_hash().len(), 64);
    }

    fn governing(key: &str, required: bool, governs: &str) -> ItemInput {
        ItemInput { governs: governs.into(), ..item(key, required) }
    }

    #[test]
    fn an_optional_item_may_govern_one_effect() {
        let d = ConsentFormDraft::parse(
            "1",
            "en",
            "T",
            "B",
            &[item("take_part", true), governing("quotes", false, " verbatim_quotes ")],
            &ReviewInput::default(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(d.items[1].governs, Some(Governs::VerbatimQuotes));
        assert_eq!(d.items[0].governs, None);

        let e = ConsentFormDraft::parse(
            "1",
            "en",
            "T",
            "B",
            &[
                governing("take_part", true, "audio_recording"),
                governing("a", false, "quotes"),
                governing("b", false, "results_summary"),
                governing("c", false, "results_summary"),
            ],
            &ReviewInput::default(),
        )
        .err()
        .unwrap_or_default();
        let code =
            |f: &str| e.iter().find(|(k, _)| *k == f).and_then(|(_, l)| l.first()).map(|x| x.code);
        assert_eq!(code("items[0].governs"), Some("governs_required_item"));
        assert_eq!(code("items[1].governs"), Some("unknown_governs"));
        assert_eq!(code("items[2].governs"), None);
        assert_eq!(code("items[3].governs"), Some("duplicate_governs"));
    }

    #[test]
    fn governs_joins_the_hash_only_where_set() {
        // The hash of a form whose items govern nothing is what it was before
        // items could govern anything (pinned from that code).
        let a = draft();
        assert_eq!(a.form_hash(), PINNED_HASH);
        let mut b = a.clone();
        b.items[1].governs = Some(Governs::VerbatimQuotes);
        assert_ne!(a.form_hash(), b.form_hash());
        let mut c = b.clone();
        c.items[1].governs = Some(Governs::DataSharing);
        assert_ne!(b.form_hash(), c.form_hash());
    }

    #[test]
    fn the_knowledge_review_joins_the_hash_only_when_it_asks_something() {
        let a = draft();
        let mut b = a.clone();
        b.review.max_tries = Some(3);
        assert_eq!(a.form_hash(), b.form_hash(), "no questions: the hash is as before");
        let mut errors = FieldErrors::new();
        let checks = review::parse_checks(
            &[CheckInput {
                key: "withdraw".into(),
                question: "Can you withdraw?".into(),
                options: vec!["Yes, at any time".into(), "No".into()],
                answer: "Yes, at any time".into(),
                explanation: "See Withdrawing.".into(),
            }],
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors:?}");
        let mut c = a.clone();
        c.review.checks = checks;
        assert_ne!(a.form_hash(), c.form_hash());
        let mut d = c.clone();
        d.review.max_tries = Some(2);
        assert_ne!(c.form_hash(), d.form_hash(), "the number of tries is part of the version");
        let mut e = c.clone();
        e.review.checks[0].explanation.push('.');
        assert_ne!(c.form_hash(), e.form_hash(), "so is each explanation");
    }

    #[test]
    fn characters_the_fonts_lack_are_named_per_field() {
        let mut d = draft();
        d.body_markdown.push_str(" 研究 and 研 again");
        d.items[1].text.push('✓');
        let latin_only = |c: char| c.is_ascii() || c == '✓';
        let e = d.unprintable(latin_only);
        let messages = e.messages();
        assert_eq!(messages.keys().collect::<Vec<_>>(), ["body_markdown"]);
        let m = &messages["body_markdown"][0];
        assert!(m.contains("研 (U+7814), 究 (U+7A76)"), "each character once, in order: {m}");
        assert!(draft().unprintable(latin_only).is_empty());
    }

    const PINNED_HASH: &str = "e09460315ab9db74395cf1df5ff8fe2d6c96b3316f26581dd126c8226e2fe944";

    #[test]
    fn a_decision_carries_what_each_item_governs() {
        let mut form = stored(FormState::Active);
        form.items[1].governs = Some(Governs::VerbatimQuotes);
        let d = decide(&form, &request(&[("take_part", true)])).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(choice(&d.items, Governs::VerbatimQuotes), Some(false));
        assert_eq!(choice(&d.items, Governs::AudioRecording), None);
        let json = serde_json::to_string(&d.items[0]).unwrap_or_default();
        assert!(!json.contains("governs"), "an item that governs nothing keeps its old shape");
    }

    #[test]
    fn a_change_keeps_required_items_and_declines_what_is_left_out() {
        let d =
            decide(&stored(FormState::Active), &request(&[("take_part", true), ("quotes", true)]))
                .unwrap_or_else(|e| panic!("{e:?}"));
        let none = std::collections::BTreeMap::new();
        let (items, name) = amend(&d.items, &none, " Sam ").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(name, "Sam");
        assert_eq!(
            items.iter().map(|i| (i.key.as_str(), i.agreed)).collect::<Vec<_>>(),
            [("take_part", true), ("quotes", false)],
            "the required item stays agreed; the optional one left out is declined"
        );
        let same: std::collections::BTreeMap<String, bool> = [("quotes".to_string(), true)].into();
        let e = amend(&d.items, &same, "Sam").err().unwrap_or_default();
        assert!(e.contains("items"), "nothing changed: {e:?}");
        let stop: std::collections::BTreeMap<String, bool> =
            [("take_part".to_string(), false), ("nope".to_string(), true)].into();
        let e = amend(&d.items, &stop, "").err().unwrap_or_default();
        for f in ["items.take_part", "items.nope", "signature.typed_name"] {
            assert!(e.contains(f), "{f}: {e:?}");
        }
    }

    fn request(items: &[(&str, bool)]) -> SignRequest {
        let f = draft();
        SignRequest {
            version: "1".into(),
            form_hash: f.form_hash(),
            items: items.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            typed_name: "Zoë O’Brien-Nguyễn".into(),
            drawn_svg: None,
            read_confirmed: true,
        }
    }

    #[test]
    fn a_complete_request_is_decided() {
        let d = decide(&stored(FormState::Active), &request(&[("take_part", true)]))
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            d.items.iter().map(|i| (i.key.as_str(), i.agreed)).collect::<Vec<_>>(),
            [("take_part", true), ("quotes", false)]
        );
        assert_eq!(d.typed_name, "Zoë O’Brien-Nguyễn");
    }

    #[test]
    fn every_rule_names_its_field() {
        let mut r = request(&[("take_part", false), ("extra", true)]);
        r.typed_name = "  ".into();
        r.read_confirmed = false;
        r.drawn_svg = Some("<svg><script/></svg>".into());
        let Err(DecisionError::Fields(e)) = decide(&stored(FormState::Active), &r) else {
            panic!("fields expected")
        };
        let keys: Vec<_> = e.messages().into_keys().collect();
        assert_eq!(
            keys,
            [
                "items.extra",
                "items.take_part",
                "read_confirmed",
                "signature.drawn_svg",
                "signature.typed_name"
            ]
        );
    }

    #[test]
    fn another_version_or_text_is_stale() {
        let mut r = request(&[("take_part", true)]);
        r.version = "2".into();
        assert!(matches!(decide(&stored(FormState::Active), &r), Err(DecisionError::Stale(_))));
        let mut r = request(&[("take_part", true)]);
        r.form_hash = "0".repeat(64);
        assert!(matches!(decide(&stored(FormState::Active), &r), Err(DecisionError::Stale(_))));
    }

    #[test]
    fn the_record_hash_binds_every_field() {
        let d = decide(&stored(FormState::Active), &request(&[("take_part", true)]))
            .unwrap_or_else(|e| panic!("{e:?}"));
        let record = ConsentRecord {
            record_id: "r1".into(),
            study: "s-1".into(),
            study_title: "T".into(),
            committee: "HREC".into(),
            ethics_reference: "CF15/2639".into(),
            participant_code: "P001".into(),
            form_version: "1".into(),
            form_title: "Consent".into(),
            form_hash: draft().form_hash(),
            language: "en-AU".into(),
            items: d.items.clone(),
            typed_name: d.typed_name.clone(),
            drawn_signature_sha256: None,
            signed_at: "2026-01-01T00:00:00.000000Z".into(),
            identity_check: "none".into(),
            meaning: SIGNATURE_MEANING.into(),
            amends: None,
            checks: Vec::new(),
        };
        assert!(record.same_as(&draft().form_hash(), &d));
        let mut other = record.clone();
        other.items[1].agreed = true;
        assert_ne!(record.sha256(), other.sha256());
        assert!(!other.same_as(&draft().form_hash(), &d));
        let parsed: ConsentRecord =
            serde_json::from_str(&record.canonical()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.sha256(), record.sha256());
    }

    #[test]
    fn approval_rules() {
        let today = d("2026-06-01");
        let s = study();
        let approved =
            check_approval(&s, &[], &stored(FormState::Draft), "CF15/2639", "2026-05-01", today);
        assert_eq!(approved.map(|a| (a.approved_on, a.amendment)), Ok((d("2026-05-01"), None)));
        let amended =
            check_approval(&s, &[], &stored(FormState::Draft), "CF15/2639-A2", "2026-05-01", today);
        assert_eq!(
            amended.map(|a| a.amendment.map(|m| (m.reference, m.summary))),
            Ok(Some(("CF15/2639-A2".to_string(), "Consent form version 1".to_string())))
        );
        let fields = |r: Result<FormApproval, ApprovalError>| match r {
            Err(ApprovalError::Fields(f)) => f.messages().into_keys().collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            fields(check_approval(&s, &[], &stored(FormState::Draft), " ", "2026-05-01", today)),
            ["approval_reference"]
        );
        assert_eq!(
            fields(check_approval(
                &s,
                &[],
                &stored(FormState::Draft),
                "CF15/2639",
                "2026-07-01",
                today
            )),
            ["approved_on"]
        );
        assert_eq!(
            fields(check_approval(
                &s,
                &[],
                &stored(FormState::Draft),
                "CF15/2639",
                "2025-07-01",
                today
            )),
            ["approved_on"]
        );
        assert!(matches!(
            check_approval(&s, &[], &stored(FormState::Active), "CF15/2639", "2026-05-01", today),
            Err(ApprovalError::Conflict(_))
        ));
        assert_eq!(
            check_approval(
                &s,
                &[],
                &stored(FormState::Draft),
                "CF15/2639",
                "2026-05-01",
                d("2027-01-02")
            )
            .map(|a| a.approved_on),
            Err(ApprovalError::Expired)
        );
    }
}
