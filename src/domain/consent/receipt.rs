//! The machine-readable consent receipt (fields after ISO/IEC TS 27560): who
//! consented to what, under which notice and approval, when, how, and how to
//! withdraw.

use serde::Serialize;

use super::ConsentRecord;

pub const SCHEMA: &str = "consentry-receipt/1 (fields after ISO/IEC TS 27560)";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub schema: &'static str,
    pub record_id: String,
    /// A change of optional choices: the `record_id` of the record it amends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amends: Option<String>,
    pub record_sha256: String,
    pub pdf_sha256: String,
    pub subject: Subject,
    pub controller: Controller,
    pub purposes: Vec<Purpose>,
    pub notice: Notice,
    pub items: Vec<Item>,
    /// The knowledge review answered before signing, per question.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub knowledge_review: Vec<super::review::CheckOutcome>,
    pub timestamp: String,
    pub method: &'static str,
    pub identity_check: String,
    pub jurisdiction: Jurisdiction,
    /// `active` or `withdrawn`.
    pub state: &'static str,
    pub withdrawal: HowToWithdraw,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Controller {
    pub name: String,
    pub contact: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Purpose {
    pub purpose: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    pub title: String,
    pub version: String,
    pub sha256: String,
    pub language: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub key: String,
    pub text: String,
    pub required: bool,
    /// What the optional item governs (`verbatim_quotes`, …), when anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub governs: Option<super::Governs>,
    /// `given` or `not_given`.
    pub state: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jurisdiction {
    pub ethics_committee: String,
    pub approval_reference: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HowToWithdraw {
    pub how: &'static str,
    pub url: String,
    pub api: &'static str,
}

/// What the receipt says about the study beyond the record itself.
pub struct About<'a> {
    pub contact_name: &'a str,
    pub contact_email: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    /// The participant's page, where they can withdraw.
    pub page_url: String,
    pub withdrawn: bool,
}

impl Receipt {
    pub fn new(
        record: &ConsentRecord,
        record_sha256: &str,
        pdf_sha256: &str,
        about: About<'_>,
    ) -> Self {
        Receipt {
            schema: SCHEMA,
            record_id: record.record_id.clone(),
            amends: record.amends.clone(),
            record_sha256: record_sha256.to_string(),
            pdf_sha256: pdf_sha256.to_string(),
            subject: Subject { code: record.participant_code.clone() },
            controller: Controller {
                name: about.contact_name.to_string(),
                contact: about.contact_email.to_string(),
            },
            purposes: vec![Purpose {
                purpose: about.title.to_string(),
                description: about.summary.to_string(),
            }],
            notice: Notice {
                title: record.form_title.clone(),
                version: record.form_version.clone(),
                sha256: record.form_hash.clone(),
                language: record.language.clone(),
            },
            items: record
                .items
                .iter()
                .map(|i| Item {
                    key: i.key.clone(),
                    text: i.text.clone(),
                    required: i.required,
                    governs: i.governs,
                    state: if i.agreed { "given" } else { "not_given" },
                })
                .collect(),
            knowledge_review: record.checks.clone(),
            timestamp: record.signed_at.clone(),
            method: if record.drawn_signature_sha256.is_some() {
                "online: typed name and drawn signature"
            } else {
                "online: typed name"
            },
            identity_check: record.identity_check.clone(),
            jurisdiction: Jurisdiction {
                ethics_committee: record.committee.clone(),
                approval_reference: record.ethics_reference.clone(),
            },
            state: if about.withdrawn { "withdrawn" } else { "active" },
            withdrawal: HowToWithdraw {
                how: "Withdraw at any time from your page, or tell the researchers; it has no consequence for your studies.",
                url: about.page_url,
                api: "POST /api/v1/participant/withdraw {\"scope\": \"future_only\" | \"withdraw_data\"}",
            },
        }
    }
}
