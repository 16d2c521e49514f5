//! A study's approval history: the initial approval, then amendments (a new consent
//! text, a new site, a new facilitator: each under its own reference or letter) and
//! renewals (a new expiry). Entries are added, never changed.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::{EthicsApproval, parse_date};
use crate::domain::fields::{FieldErrors, required_text};

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum ApprovalKind {
        Initial = "initial",
        Amendment = "amendment",
        Renewal = "renewal",
    }
    else "unknown_kind", "Kind must be amendment or renewal."
}

/// One entry of the history, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub kind: ApprovalKind,
    pub reference: String,
    pub approved_on: NaiveDate,
    /// The expiry this entry set (the initial approval and renewals).
    pub expires_on: Option<NaiveDate>,
    pub summary: String,
    pub recorded_at: DateTime<Utc>,
}

/// An amendment or a renewal to record, every field checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalDraft {
    pub kind: ApprovalKind,
    pub reference: String,
    pub approved_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub summary: String,
}

/// What an amendment or renewal says, as typed.
#[derive(Debug, Clone, Default)]
pub struct ApprovalInput<'a> {
    pub kind: &'a str,
    pub reference: &'a str,
    pub approved_on: &'a str,
    pub expires_on: Option<&'a str>,
    pub summary: Option<&'a str>,
}

/// Whether `reference` is on record for the study: its own, or one of its history.
pub fn on_record(ethics: &EthicsApproval, history: &[Approval], reference: &str) -> bool {
    ethics.reference == reference || history.iter().any(|a| a.reference == reference)
}

/// Checks a date the committee gave: not in the future, not before the study's own
/// approval.
fn committee_date(
    errors: &mut FieldErrors,
    ethics: &EthicsApproval,
    raw: &str,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let date = errors.take("approved_on", parse_date(raw, "Approval date"))?;
    if date > today {
        errors.add("approved_on", "in_future", "Approval date cannot be in the future.");
    } else if date < ethics.approved_on {
        errors.add(
            "approved_on",
            "before_study_approval",
            "Approval date cannot be before the study's ethics approval.",
        );
    }
    Some(date)
}

impl ApprovalDraft {
    /// An amendment or renewal of the study approved under `ethics` (its current
    /// expiry), with `history` on record, as of `today`.
    pub fn parse(
        ethics: &EthicsApproval,
        history: &[Approval],
        input: &ApprovalInput<'_>,
        today: NaiveDate,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let kind = match errors.take("kind", input.kind.trim().parse::<ApprovalKind>()) {
            Some(ApprovalKind::Initial) => {
                errors.add(
                    "kind",
                    "initial",
                    "The initial approval is the study's own; record an amendment or a renewal.",
                );
                None
            }
            other => other,
        };
        let approved_on = committee_date(&mut errors, ethics, input.approved_on, today);
        let summary = input.summary.map(str::trim).unwrap_or_default();
        let typed_reference = input.reference.trim();
        let (reference, expires_on, summary) = match kind {
            Some(ApprovalKind::Renewal) => {
                let reference = if typed_reference.is_empty() {
                    ethics.reference.as_str()
                } else {
                    typed_reference
                };
                let expires_on = errors.take(
                    "expires_on",
                    parse_date(input.expires_on.unwrap_or_default(), "New expiry date"),
                );
                if let Some(e) = expires_on
                    && e <= ethics.expires_on
                {
                    errors.add(
                        "expires_on",
                        "not_later",
                        format!(
                            "A renewal's expiry must be after the current one ({}).",
                            ethics.expires_on
                        ),
                    );
                }
                let summary = match (summary.is_empty(), expires_on) {
                    (true, Some(e)) => format!("Renewed until {e}"),
                    _ => summary.to_string(),
                };
                (
                    errors.take("reference", required_text(reference, "Reference", 100)),
                    expires_on,
                    summary,
                )
            }
            None => (None, None, String::new()),
            Some(_) => {
                let reference = errors
                    .take("reference", required_text(typed_reference, "Amendment reference", 100));
                if let Some(r) = &reference
                    && on_record(ethics, history, r)
                {
                    errors.add("reference", "on_record", format!("{r} is on record already."));
                }
                if summary.is_empty() {
                    errors.add(
                        "summary",
                        "required",
                        "Say what the amendment approves (e.g. a new consent text, a new site).",
                    );
                } else if summary.chars().count() > 2000 {
                    errors.add("summary", "too_long", "Keep the summary under 2,000 characters.");
                }
                (reference, None, summary.to_string())
            }
        };
        match (kind, reference, approved_on) {
            (Some(kind), Some(reference), Some(approved_on)) if errors.is_empty() => {
                Ok(Self { kind, reference, approved_on, expires_on, summary })
            }
            _ => Err(errors),
        }
    }

    /// The amendment a consent-form approval records when it names a reference not on
    /// record yet.
    pub fn for_consent_form(reference: &str, approved_on: NaiveDate, version: &str) -> Self {
        Self {
            kind: ApprovalKind::Amendment,
            reference: reference.to_string(),
            approved_on,
            expires_on: None,
            summary: format!("Consent form version {version}"),
        }
    }
}

/// How many days before expiry pages warn that a renewal is due.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// Days from `today` to the approval's expiry when it falls within `days` (0: it
/// expires today); `None` when further away or expired already.
pub fn expires_within(ethics: &EthicsApproval, today: NaiveDate, days: i64) -> Option<i64> {
    let left = (ethics.expires_on - today).num_days();
    (0..=days).contains(&left).then_some(left)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    fn ethics() -> EthicsApproval {
        EthicsApproval {
            committee: "MUHREC".into(),
            reference: "CF15/2639".into(),
            approved_on: d("2026-01-15"),
            expires_on: d("2027-01-15"),
        }
    }

    fn keys(r: Result<ApprovalDraft, FieldErrors>) -> Vec<String> {
        r.err().map(|e| e.messages().into_keys().collect()).unwrap_or_default()
    }

    #[test]
    fn amendments_need_a_new_reference_and_a_summary() {
        let today = d("2026-06-01");
        let input = ApprovalInput {
            kind: "amendment",
            reference: "CF15/2639-A1",
            approved_on: "2026-05-01",
            summary: Some("New site: Clayton"),
            ..Default::default()
        };
        let ok = ApprovalDraft::parse(&ethics(), &[], &input, today);
        assert_eq!(ok.map(|a| (a.kind, a.expires_on)), Ok((ApprovalKind::Amendment, None)));
        let again = ApprovalInput { reference: "CF15/2639", summary: None, ..input.clone() };
        assert_eq!(
            keys(ApprovalDraft::parse(&ethics(), &[], &again, today)),
            ["reference", "summary"]
        );
        let future = ApprovalInput { approved_on: "2026-07-01", ..input };
        assert_eq!(keys(ApprovalDraft::parse(&ethics(), &[], &future, today)), ["approved_on"]);
    }

    #[test]
    fn renewals_move_the_expiry_forward_only() {
        let today = d("2027-02-01");
        let input = ApprovalInput {
            kind: "renewal",
            reference: "",
            approved_on: "2027-01-20",
            expires_on: Some("2028-01-15"),
            summary: None,
        };
        let renewal =
            ApprovalDraft::parse(&ethics(), &[], &input, today).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(renewal.reference, "CF15/2639");
        assert_eq!(renewal.expires_on, Some(d("2028-01-15")));
        assert_eq!(renewal.summary, "Renewed until 2028-01-15");
        let earlier = ApprovalInput { expires_on: Some("2026-12-31"), ..input.clone() };
        assert_eq!(keys(ApprovalDraft::parse(&ethics(), &[], &earlier, today)), ["expires_on"]);
        let initial = ApprovalInput { kind: "initial", ..input };
        assert_eq!(keys(ApprovalDraft::parse(&ethics(), &[], &initial, today)), ["kind"]);
    }

    #[test]
    fn expiry_warnings_start_thirty_days_out() {
        assert_eq!(expires_within(&ethics(), d("2026-12-16"), 30), Some(30));
        assert_eq!(expires_within(&ethics(), d("2027-01-15"), 30), Some(0));
        assert_eq!(expires_within(&ethics(), d("2026-12-15"), 30), None);
        assert_eq!(expires_within(&ethics(), d("2027-01-16"), 30), None);
    }
}
