//! Participants: their research code, their status and withdrawal.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// The research code given at consent: `P001`, `P002`, … per study, without gaps.
pub fn participant_code(n: i64) -> String {
    format!("P{n:03}")
}

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum WithdrawalScope {
        /// No further participation; what was given stays in the study.
        FutureOnly = "future_only",
        /// No further participation, and answers are excluded from reports and exports.
        WithdrawData = "withdraw_data",
    }
    else "unknown_scope", "Scope must be future_only or withdraw_data."
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Withdrawal {
    pub scope: WithdrawalScope,
    pub at: DateTime<Utc>,
}

/// A participant as the study knows them: no name or address here (those live
/// apart, for coordinators only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Participant {
    pub id: i64,
    pub study_id: i64,
    pub code: Option<String>,
    pub withdrawal: Option<Withdrawal>,
    pub created_at: DateTime<Utc>,
}

impl Participant {
    /// How the audit log names this participant: their code once they have one.
    pub fn actor(&self) -> String {
        match &self.code {
            Some(code) => format!("participant:{code}"),
            None => format!("participant:#{}", self.id),
        }
    }

    pub fn status(&self) -> &'static str {
        match (&self.withdrawal, &self.code) {
            (Some(_), _) => "withdrawn",
            (None, Some(_)) => "consented",
            (None, None) => "invited",
        }
    }
}

/// One step on a participant's page, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextStep {
    /// `consent`, `reconsent`, `questionnaire` or `availability`.
    pub step: &'static str,
    /// `todo`, `in_progress` or `done`.
    pub state: &'static str,
    /// The questionnaire's key, for a questionnaire step.
    pub key: Option<String>,
    /// What the step is called on the page (a questionnaire's title).
    pub title: Option<String>,
    pub version: Option<String>,
}

impl NextStep {
    pub fn new(step: &'static str, done: bool, version: Option<String>) -> Self {
        NextStep {
            step,
            state: if done { "done" } else { "todo" },
            key: None,
            title: None,
            version,
        }
    }

    pub fn done(&self) -> bool {
        self.state == "done"
    }
}

/// The consent steps: consent to the version in force, or — when a newer version
/// replaced the one signed — read it and consent again. None after withdrawal.
pub fn consent_steps(signed: Option<&str>, active: Option<&str>, withdrawn: bool) -> Vec<NextStep> {
    if withdrawn {
        return Vec::new();
    }
    match (signed, active) {
        (None, active) => {
            vec![NextStep::new("consent", false, active.map(str::to_string))]
        }
        (Some(s), Some(a)) if s != a => vec![
            NextStep::new("consent", true, Some(s.to_string())),
            NextStep::new("reconsent", false, Some(a.to_string())),
        ],
        (Some(s), _) => {
            vec![NextStep::new("consent", true, Some(s.to_string()))]
        }
    }
}

/// At most one reminder per participant in this many hours.
pub const REMINDER_GAP_HOURS: i64 = 48;

/// Whether a participant with `open_steps` still to do should be reminded now.
pub fn due_reminder(
    open_steps: usize,
    reminded_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    open_steps > 0
        && reminded_at.is_none_or(|at| now - at >= chrono::Duration::hours(REMINDER_GAP_HOURS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_steps_follow_versions() {
        assert_eq!(
            consent_steps(None, Some("1"), false),
            [NextStep::new("consent", false, Some("1".into()))]
        );
        assert_eq!(consent_steps(Some("1"), Some("1"), false).len(), 1);
        let re = consent_steps(Some("1"), Some("2"), false);
        assert_eq!(
            (re[1].step, re[1].done(), re[1].version.as_deref()),
            ("reconsent", false, Some("2"))
        );
        assert!(consent_steps(Some("1"), Some("2"), true).is_empty());
    }

    #[test]
    fn reminders_wait_between_sends_and_need_an_open_step() {
        let now = Utc::now();
        assert!(due_reminder(1, None, now));
        assert!(!due_reminder(0, None, now));
        assert!(!due_reminder(2, Some(now - chrono::Duration::hours(47)), now));
        assert!(due_reminder(2, Some(now - chrono::Duration::hours(48)), now));
    }

    #[test]
    fn codes_are_padded_and_grow() {
        assert_eq!(participant_code(1), "P001");
        assert_eq!(participant_code(23), "P023");
        assert_eq!(participant_code(1234), "P1234");
    }

    #[test]
    fn status_follows_consent_and_withdrawal() {
        let mut p = Participant {
            id: 7,
            study_id: 1,
            code: None,
            withdrawal: None,
            created_at: Utc::now(),
        };
        assert_eq!((p.status(), p.actor()), ("invited", "participant:#7".to_string()));
        p.code = Some("P001".into());
        assert_eq!((p.status(), p.actor()), ("consented", "participant:P001".to_string()));
        p.withdrawal = Some(Withdrawal { scope: WithdrawalScope::WithdrawData, at: Utc::now() });
        assert_eq!(p.status(), "withdrawn");
        assert!("later".parse::<WithdrawalScope>().is_err());
    }
}
