//! Typed contexts for templates: pages get these, never database rows.

use rocket::http::{ContentType, Header};
use rocket::response::Responder;
use serde::Serialize;

use crate::domain::policy::Capacity;
use crate::domain::study::Study;
use crate::domain::user::User;

#[derive(Serialize)]
pub struct Viewer {
    pub name: String,
    pub role: &'static str,
    pub role_label: &'static str,
    pub is_admin: bool,
}

impl From<&User> for Viewer {
    fn from(u: &User) -> Self {
        Self {
            name: u.name.clone(),
            role: u.role.as_str(),
            role_label: u.role.label(),
            is_admin: u.role == crate::domain::user::Role::Admin,
        }
    }
}

#[derive(Serialize)]
pub struct StudyRow {
    pub slug: String,
    pub title: String,
    pub status: &'static str,
    pub reference: String,
    pub committee: String,
    pub expires_on: String,
    pub expired: bool,
    pub capacity: &'static str,
}

impl StudyRow {
    pub fn new(s: &Study, c: Capacity, today: chrono::NaiveDate) -> Self {
        Self {
            slug: s.slug.clone(),
            title: s.title.clone(),
            status: s.status.as_str(),
            reference: s.ethics.reference.clone(),
            committee: s.ethics.committee.clone(),
            expires_on: s.ethics.expires_on.to_string(),
            expired: s.approval_expired(today),
            capacity: match c {
                Capacity::Coordinator => "Coordinator",
                Capacity::Facilitator => "Facilitator",
                Capacity::EthicsOfficer => "Ethics officer",
            },
        }
    }
}

#[derive(Serialize)]
pub struct MemberRow {
    pub name: String,
    pub email: String,
    pub role: &'static str,
}

#[derive(Serialize)]
pub struct FormRow {
    pub version: String,
    pub title: String,
    pub state: &'static str,
    pub hash_prefix: String,
    pub approved_on: Option<String>,
    pub items: usize,
}

impl From<&crate::domain::consent::ConsentForm> for FormRow {
    fn from(f: &crate::domain::consent::ConsentForm) -> Self {
        Self {
            version: f.version.clone(),
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
    pub signed_at: String,
    pub agreed: String,
    pub typed_name: String,
    pub withdrawn: Option<String>,
}

impl From<&crate::service::consent::RegisterEntry> for RegisterRow {
    fn from(e: &crate::service::consent::RegisterEntry) -> Self {
        let agreed: Vec<&str> =
            e.items.iter().filter(|(_, agreed)| *agreed).map(|(k, _)| k.as_str()).collect();
        Self {
            consent_id: e.consent_id,
            code: e.participant_code.clone(),
            version: e.version.clone(),
            signed_at: e.signed_at.chars().take(16).collect::<String>().replace('T', " "),
            agreed: agreed.join(", "),
            typed_name: e.typed_name.clone(),
            withdrawn: e.withdrawal.as_ref().map(|w| w.scope.as_str().replace('_', " ")),
        }
    }
}

#[derive(Serialize, Default)]
pub struct LoginForm {
    pub email: String,
    pub error: Option<String>,
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

/// A file to save (`Content-Disposition: attachment`) under `name`.
pub struct Download {
    kind: ContentType,
    name: String,
    bytes: Vec<u8>,
}

impl Download {
    pub fn new(kind: ContentType, name: String, bytes: Vec<u8>) -> Self {
        Self { kind, name, bytes }
    }
}

impl<'r> Responder<'r, 'static> for Download {
    fn respond_to(self, req: &'r rocket::Request<'_>) -> rocket::response::Result<'static> {
        let mut res = (self.kind, self.bytes).respond_to(req)?;
        res.set_header(Header::new(
            "Content-Disposition",
            format!("attachment; filename=\"{}\"", self.name),
        ));
        Ok(res)
    }
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
