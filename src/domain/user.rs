//! Staff accounts: roles, e-mail addresses, names and the password policy.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::fields::{FieldError, FieldErrors, required_text};

text_enum! {
    /// A staff member's account role (SPEC §4). Participants are not staff and have no role here.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Role {
        Admin = "admin",
        Coordinator = "coordinator",
        Facilitator = "facilitator",
        EthicsOfficer = "ethics_officer",
    }
    else "unknown_role", "Role must be one of admin, coordinator, facilitator, ethics_officer."
}

impl Role {
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Coordinator => "Coordinator",
            Role::Facilitator => "Facilitator",
            Role::EthicsOfficer => "Ethics officer",
        }
    }
}

/// An e-mail address, trimmed and lower-cased, checked for a plausible shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_lowercase();
        let invalid =
            || FieldError::new("invalid_email", "Enter an e-mail address like name@example.org.");
        if value.is_empty() {
            return Err(FieldError::new("required", "E-mail address is required."));
        }
        if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = value.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A staff account as the service knows it (never with its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
}

impl User {
    /// How the audit log names this person: an identifier, never a name or address.
    pub fn actor(&self) -> String {
        format!("user:{}", self.id)
    }
}

/// What a staff token opens: the JSON API (a bearer token) or a browser session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Api,
    Session,
    /// A one-time link that sets an account's password; it signs no one in.
    PasswordReset,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Api => "api",
            TokenKind::Session => "session",
            TokenKind::PasswordReset => "password_reset",
        }
    }
}

/// How long a password link works.
pub const PASSWORD_LINK_HOURS: i64 = 24;

pub const PASSWORD_MIN: usize = 12;
pub const PASSWORD_MAX: usize = 256;

/// The least zxcvbn score a staff password needs: more than 10^8 guesses.
const MIN_STRENGTH: zxcvbn::Score = zxcvbn::Score::Three;

/// The password policy: long enough and hard enough to guess (zxcvbn's estimate,
/// which knows common passwords, words, names, dates, keyboard runs and repeats,
/// and the account's own address and name given in `about`), short enough to hash
/// cheaply. A refusal says why, in words.
pub fn check_password(password: &str, about: &[&str]) -> Result<(), FieldError> {
    let n = password.chars().count();
    if n < PASSWORD_MIN {
        return Err(FieldError::new(
            "too_short",
            format!("Password must be at least {PASSWORD_MIN} characters."),
        ));
    }
    if n > PASSWORD_MAX {
        return Err(FieldError::new(
            "too_long",
            format!("Password must be at most {PASSWORD_MAX} characters."),
        ));
    }
    let estimate = zxcvbn::zxcvbn(password, about);
    if estimate.score() < MIN_STRENGTH {
        let feedback = estimate.feedback();
        let warning = feedback.and_then(|f| f.warning()).map(|w| format!(" {w}"));
        let tips: Vec<String> = feedback
            .map(|f| f.suggestions().iter().map(ToString::to_string).collect())
            .unwrap_or_default();
        return Err(FieldError::new(
            "too_weak",
            format!(
                "This password would be too easy to guess.{} {}",
                warning.unwrap_or_default(),
                if tips.is_empty() {
                    "Use a few unrelated words, or a password manager's random password.".into()
                } else {
                    tips.join(" ")
                }
            ),
        ));
    }
    Ok(())
}

/// A staff account to be created, every field checked.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub password: String,
}

impl NewUser {
    pub fn parse(email: &str, name: &str, role: &str, password: &str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let local = email.split('@').next().unwrap_or_default();
        let mut about = vec![email, local, name];
        about.extend(name.split_whitespace());
        about.extend(local.split(['.', '_', '-', '+']));
        errors.take("password", check_password(password, &about));
        let email = errors.take("email", Email::parse(email));
        let name = errors.take("name", required_text(name, "Name", 200));
        let role = errors.take("role", role.parse::<Role>());
        match (email, name, role) {
            (Some(email), Some(name), Some(role)) if errors.is_empty() => {
                Ok(Self { email, name, role, password: password.to_string() })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::parse("  Cora@Example.ORG ").map(|e| e.0), Ok("cora@example.org".into()));
        for bad in ["", "not-an-email", "a@b", "a@.b.c", "a b@c.d", "@c.d", "a@c..d"] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn roles_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("participant".parse::<Role>().is_err());
    }

    #[test]
    fn new_user_names_every_bad_field() {
        let errors = NewUser::parse("x", "", "boss", "short").err().unwrap_or_default();
        for field in ["email", "name", "role", "password"] {
            assert!(errors.contains(field), "{field} missing from {errors:?}");
        }
        assert!(NewUser::parse("a@b.org", "A", "admin", "long-enough-pass").is_ok());
    }

    #[test]
    fn guessable_passwords_are_refused_with_a_reason() {
        for weak in
            ["password1234", "            ", "qwertyuiop12", "aaaaaaaaaaaaaaaa", "Password123!"]
        {
            let e = check_password(weak, &[]).err().map(|e| (e.code, e.message));
            assert!(
                matches!(&e, Some(("too_weak", m)) if m.starts_with("This password would be too easy to guess.") && m.len() > 45),
                "{weak:?}: {e:?}"
            );
        }
        let e = NewUser::parse(
            "cora.ordinator@example.org",
            "Cora Ordinator",
            "admin",
            "cora.ordinator2026",
        );
        assert!(
            e.is_err_and(|e| e.contains("password")),
            "the account's own name and address do not make a password"
        );
        for strong in
            ["Str0ng-pass-for-tests", "correct horse battery staple", "a long enough passphrase"]
        {
            assert_eq!(check_password(strong, &[]), Ok(()), "{strong}");
        }
    }
}
