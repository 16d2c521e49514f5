//! The staff sign-in page.

use serde::Serialize;

#[derive(Serialize)]
pub struct LoginPage {
    pub csrf: String,
    pub form: LoginForm,
    /// What the last step said (a password just set).
    pub notice: Option<String>,
}

#[derive(Serialize, Default)]
pub struct LoginForm {
    pub email: String,
    pub error: Option<String>,
}

impl LoginPage {
    /// The empty form, or the address given with what went wrong.
    pub fn new(csrf: &str, email: &str, error: Option<&str>) -> Self {
        Self {
            csrf: csrf.to_string(),
            form: LoginForm { email: email.to_string(), error: error.map(str::to_string) },
            notice: None,
        }
    }
}

/// The start page has nothing of its own to show.
#[derive(Serialize)]
pub struct StartPage {}
