//! Typed contexts for templates: one struct per template, built from domain and
//! service values, never database rows. Each area's pages are in its own module;
//! this one holds what every page shares.

pub mod audit;
pub mod auth;
pub mod consent;
pub mod focus_group;
pub mod mail;
pub mod participant;
pub mod questionnaire;
pub mod recruitment;
pub mod report;
pub mod study;
pub mod user;

use std::collections::BTreeMap;

use rocket::request::FlashMessage;
use serde::Serialize;

use crate::domain::focus_group::{FocusGroup, when};
use crate::domain::study::Study;
use crate::domain::user::User;
use crate::error::AppError;
pub use crate::web::download::Download;

/// What every staff page has: who is signed in, the CSRF token for its forms, and
/// the message left by the last action (`(kind, text)`, kind `success` or `error`).
#[derive(Serialize)]
pub struct StaffFrame {
    pub viewer: Viewer,
    pub csrf: String,
    pub flash: Option<(String, String)>,
}

impl StaffFrame {
    pub fn new(user: &User, csrf: String, flash: Option<FlashMessage<'_>>) -> Self {
        Self {
            viewer: Viewer::from(user),
            csrf,
            flash: flash.map(|f| (f.kind().to_string(), f.message().to_string())),
        }
    }
}

/// What every participant page has: the study banner, the CSRF token, where the
/// logo leads (their own page, never the staff side) and the word after an action.
#[derive(Serialize)]
pub struct ParticipantFrame {
    pub study: StudyBanner,
    pub csrf: String,
    pub home: String,
    pub notice: Option<String>,
    /// Withdrawn: no page offers to withdraw again.
    pub withdrawn: bool,
}

impl ParticipantFrame {
    pub fn new(study: &Study, csrf: &str) -> Self {
        Self {
            study: StudyBanner::from(study),
            csrf: csrf.to_string(),
            home: "/participant".into(),
            notice: None,
            withdrawn: false,
        }
    }

    /// For a page seen before the participant has a session (an ad): the logo
    /// leads back to `home`.
    pub fn at(mut self, home: String) -> Self {
        self.home = home;
        self
    }

    /// The confirmation a redirect left for this page.
    pub fn told(mut self, flash: Option<rocket::request::FlashMessage<'_>>) -> Self {
        self.notice = flash.map(|f| f.message().to_string());
        self
    }
}

/// A refused submission's field errors by field name, and its message when the
/// refusal is not about one field.
#[derive(Default)]
pub struct Refusal {
    pub fields: BTreeMap<String, Vec<String>>,
    pub message: Option<String>,
}

impl Refusal {
    pub fn of(error: Option<&AppError>) -> Self {
        let Some(e) = error else { return Self::default() };
        match e.fields() {
            Some(f) => Self { fields: f.messages(), message: None },
            None => Self { fields: BTreeMap::new(), message: Some(e.public_message()) },
        }
    }

    /// The errors of one field.
    pub fn field(&self, name: &str) -> Vec<String> {
        self.fields.get(name).cloned().unwrap_or_default()
    }

    /// Every field error, in field-name order, for the summary at the top.
    pub fn listed(&self) -> Vec<(String, Vec<String>)> {
        self.fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// The summary at the top of a participant's page: the fields in the order the
    /// page shows them, each message naming its question (`order` pairs a field
    /// with its label), then any other field.
    pub fn in_page_order(&self, order: &[(String, String)]) -> Vec<(String, Vec<String>)> {
        let listed = order.iter().filter_map(|(key, label)| {
            let messages = self.fields.get(key)?;
            Some((key.clone(), messages.iter().map(|m| naming(label, m)).collect()))
        });
        let others = self
            .fields
            .iter()
            .filter(|(k, _)| !order.iter().any(|(key, _)| key == *k))
            .map(|(k, v)| (k.clone(), v.clone()));
        listed.chain(others).collect()
    }

    /// Every message as one list, the field names left out.
    pub fn messages(&self) -> Vec<String> {
        self.fields.values().flatten().cloned().chain(self.message.clone()).collect()
    }
}

/// A message led by the question it is about, unless it names it already:
/// "Age in years: Must be at most 80."
pub fn naming(label: &str, message: &str) -> String {
    let label = label.trim();
    if label.is_empty() || message.to_lowercase().contains(&label.to_lowercase()) {
        message.to_string()
    } else if label.ends_with(['?', ':', '.']) {
        format!("{label} {message}")
    } else {
        format!("{label}: {message}")
    }
}

/// A staff form as its page shows it: what was typed (the form's own values, or
/// its defaults on a fresh page) and, after a refusal, each field's errors in words
/// (shown beside the field and listed at the top) and a message about the whole
/// form. Every staff form re-renders through this, so nothing typed is lost.
#[derive(Serialize)]
pub struct FormView<T> {
    pub values: T,
    pub errors: BTreeMap<String, Vec<String>>,
    pub summary: Vec<(String, Vec<String>)>,
    pub problem: Option<String>,
}

impl<T: Serialize> FormView<T> {
    /// The form with `values`, and the errors of `refusal` when it was refused.
    pub fn new(values: T, refusal: Option<&AppError>) -> Self {
        let refusal = Refusal::of(refusal);
        Self { values, summary: refusal.listed(), errors: refusal.fields, problem: refusal.message }
    }

    /// The errors of fields `from` shown under the form field `to` instead, when
    /// one form field carries several request fields.
    pub fn shown_under(mut self, from: &[&str], to: &str) -> Self {
        for name in from {
            if let Some(list) = self.errors.remove(*name) {
                self.errors.entry(to.to_string()).or_default().extend(list);
            }
        }
        self.summary = self.errors.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        self
    }
}

/// A time as the study's clock shows it, in words: `4 December 2026, 14:05`.
pub fn in_words(at: chrono::DateTime<chrono::Utc>, zone: crate::domain::study::Zone) -> String {
    zone.local(at).format("%-d %B %Y, %H:%M").to_string()
}

/// The same for a time kept as RFC 3339 text; shown as kept if it does not read.
pub fn in_words_raw(raw: &str, zone: crate::domain::study::Zone) -> String {
    chrono::DateTime::parse_from_rfc3339(raw)
        .map_or_else(|_| raw.to_string(), |t| in_words(t.with_timezone(&chrono::Utc), zone))
}

/// A participant's place in a focus group, as their pages show it.
#[derive(Serialize)]
pub struct Booking {
    pub title: String,
    pub when: String,
    pub location: String,
}

impl Booking {
    pub fn new(g: &FocusGroup, zone: crate::domain::study::Zone) -> Self {
        Self { title: g.title.clone(), when: when(g, zone), location: g.location.clone() }
    }
}

/// The error page.
#[derive(Serialize)]
pub struct ErrorPage {
    pub title: &'static str,
    pub status: u16,
    pub message: String,
    pub fields: Vec<(String, Vec<String>)>,
    pub request_id: Option<String>,
    /// Where "Go to the start page" leads: a participant's own page for them.
    pub home: &'static str,
}

#[derive(Serialize)]
pub struct Viewer {
    pub name: String,
    pub role: &'static str,
    pub role_label: &'static str,
    pub is_admin: bool,
    /// Ethics officers and admins: the ethics console and the audit log.
    pub reads_audit: bool,
    /// Coordinators and admins create studies.
    pub creates_studies: bool,
    /// Coordinators and admins read the outbox.
    pub reads_outbox: bool,
}

impl From<&User> for Viewer {
    fn from(u: &User) -> Self {
        Self {
            name: u.name.clone(),
            role: u.role.as_str(),
            role_label: u.role.label(),
            is_admin: u.role == crate::domain::user::Role::Admin,
            reads_audit: crate::domain::policy::may_read_audit(u.role),
            creates_studies: crate::domain::policy::may_create_study(u.role),
            reads_outbox: crate::domain::policy::may_read_outbox(u.role),
        }
    }
}

/// What every participant page shows about the study: its title, the approval it
/// runs under, and whom to contact.
#[derive(Serialize)]
pub struct StudyBanner {
    pub title: String,
    pub summary: String,
    pub committee: String,
    pub reference: String,
    pub contact_name: String,
    pub contact_email: String,
    pub complaints_email: Option<String>,
    pub complaints_phone: Option<String>,
}

impl From<&Study> for StudyBanner {
    fn from(s: &Study) -> Self {
        Self {
            title: s.title.clone(),
            summary: s.summary.clone(),
            committee: s.ethics.committee.clone(),
            reference: s.ethics.reference.clone(),
            contact_name: s.contact_name.clone(),
            contact_email: s.contact_email.clone(),
            complaints_email: s.complaints_email.clone(),
            complaints_phone: s.complaints_phone.clone(),
        }
    }
}

/// A block of the explanatory statement, for templates (Markdown subset: headings,
/// bullets, paragraphs; the text is escaped by the template).
#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct Block {
    pub kind: &'static str,
    pub text: String,
}

pub fn blocks(markdown: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut paragraph: Vec<String> = Vec::new();
    let flush = |out: &mut Vec<Block>, paragraph: &mut Vec<String>| {
        if !paragraph.is_empty() {
            out.push(Block { kind: "p", text: paragraph.join(" ") });
            paragraph.clear();
        }
    };
    for raw in markdown.lines() {
        let line = raw.trim().replace("**", "").replace("__", "");
        if line.is_empty() {
            flush(&mut out, &mut paragraph);
        } else if let Some(h) = line.strip_prefix('#') {
            flush(&mut out, &mut paragraph);
            out.push(Block { kind: "h", text: h.trim_start_matches('#').trim().to_string() });
        } else if let Some(item) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
            flush(&mut out, &mut paragraph);
            out.push(Block { kind: "li", text: item.to_string() });
        } else {
            paragraph.push(line);
        }
    }
    flush(&mut out, &mut paragraph);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_blocks() {
        let b = blocks("## Why\nWe ask **you**\nbecause.\n\n- one\n* two");
        let kinds: Vec<_> = b.iter().map(|b| (b.kind, b.text.as_str())).collect();
        assert_eq!(
            kinds,
            [("h", "Why"), ("p", "We ask you because."), ("li", "one"), ("li", "two")]
        );
    }
}
