//! Staff accounts for admins, and the page a password link opens.

use serde::Serialize;

use super::{FormView, Refusal, StaffFrame};
use crate::domain::user::User;
use crate::error::AppError;
use crate::web::html::page::Page;
use crate::web::html::user::AccountForm;

#[derive(Serialize)]
pub struct AccountRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub active: bool,
    /// The viewer's own account: not switched off from here.
    pub me: bool,
}

#[derive(Serialize)]
pub struct AccountsPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub accounts: Vec<AccountRow>,
    pub roles: Vec<(&'static str, &'static str)>,
    pub form: FormView<AccountForm>,
}

impl AccountsPage {
    pub fn new(frame: StaffFrame, me: i64, accounts: &[User], form: FormView<AccountForm>) -> Self {
        Self {
            frame,
            accounts: accounts
                .iter()
                .map(|u| AccountRow {
                    id: u.id,
                    name: u.name.clone(),
                    email: u.email.clone(),
                    role: u.role.label(),
                    active: u.active,
                    me: u.id == me,
                })
                .collect(),
            roles: crate::domain::user::Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect(),
            form,
        }
    }
}

/// The password page: the form for the link's owner, or why the link is dead.
#[derive(Serialize, Default)]
pub struct PasswordPage {
    pub csrf: String,
    pub live: bool,
    pub name: String,
    pub email: String,
    pub errors: std::collections::BTreeMap<String, Vec<String>>,
    pub summary: Vec<(String, Vec<String>)>,
}

impl PasswordPage {
    pub fn form(csrf: &str, u: &User, refusal: Option<&AppError>) -> Self {
        let refusal = Refusal::of(refusal);
        Self {
            csrf: csrf.to_string(),
            live: true,
            name: u.name.clone(),
            email: u.email.clone(),
            summary: refusal.listed(),
            errors: refusal.fields,
        }
    }

    pub fn dead(csrf: &str) -> Self {
        Self { csrf: csrf.to_string(), ..Self::default() }
    }

    pub fn render(self) -> Page {
        Page::render("user/password", self)
    }
}
