//! Typed contexts for templates: pages get these, never database rows.

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

#[derive(Serialize, Default)]
pub struct LoginForm {
    pub email: String,
    pub error: Option<String>,
}
