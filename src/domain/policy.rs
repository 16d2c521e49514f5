//! Who may do what on a study (SPEC §4). A staff member sees a study through study
//! membership; admins and ethics officers see every study. Anything a person cannot
//! see is reported as not found, so that a study's existence is not revealed.

use serde::Serialize;

use super::fields::FieldError;
use super::user::Role;

text_enum! {
    /// A membership role on one study.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum StudyRole {
        Coordinator = "coordinator",
        Facilitator = "facilitator",
    }
    else "unknown_role", "Study role must be coordinator or facilitator."
}

impl StudyRole {
    /// The membership a staff account may hold: coordinators may join as either,
    /// facilitators only as facilitators. Admins and ethics officers see every study
    /// already and are not members.
    pub fn for_account(account: Role, requested: &str) -> Result<StudyRole, FieldError> {
        let requested: StudyRole = requested.parse()?;
        match (account, requested) {
            (Role::Coordinator, r) => Ok(r),
            (Role::Facilitator, StudyRole::Facilitator) => Ok(StudyRole::Facilitator),
            (Role::Facilitator, StudyRole::Coordinator) => Err(FieldError::new(
                "role_mismatch",
                "A facilitator account can only join a study as a facilitator.",
            )),
            (Role::Admin | Role::EthicsOfficer, _) => Err(FieldError::new(
                "not_a_member_role",
                "Admins and ethics officers see every study already; they are not added as staff.",
            )),
        }
    }
}

/// The capacity in which a staff member acts on one study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Capacity {
    /// A coordinator member, or an admin (who may do all a coordinator may, everywhere).
    Coordinator,
    Facilitator,
    /// Reads every study; approves consent forms; suspends and resumes recruitment.
    EthicsOfficer,
}

impl Capacity {
    /// `None` means the study is invisible to this person: answer 404.
    pub fn on_study(account: Role, membership: Option<StudyRole>) -> Option<Capacity> {
        match account {
            Role::Admin => Some(Capacity::Coordinator),
            Role::EthicsOfficer => Some(Capacity::EthicsOfficer),
            Role::Coordinator | Role::Facilitator => membership.map(|m| match m {
                StudyRole::Coordinator => Capacity::Coordinator,
                StudyRole::Facilitator => Capacity::Facilitator,
            }),
        }
    }
}

/// Whether an account may create studies at all.
pub fn may_create_study(account: Role) -> bool {
    matches!(account, Role::Admin | Role::Coordinator)
}

/// Whether an account may read the outbox (admins; coordinators, their studies').
pub fn may_read_outbox(account: Role) -> bool {
    matches!(account, Role::Admin | Role::Coordinator)
}

/// Whether an account may read the audit log and verify it.
pub fn may_read_audit(account: Role) -> bool {
    matches!(account, Role::Admin | Role::EthicsOfficer)
}

/// Whether participants' names and typed signatures are hidden from someone acting
/// in `capacity` until they give a reason: ethics officers audit by code.
pub fn names_masked(capacity: Capacity) -> bool {
    capacity == Capacity::EthicsOfficer
}

/// Whether someone acting in `capacity` may record a renewal: it moves the expiry
/// that gates recruitment and consent, so only the committee's side may.
pub fn may_renew_approval(capacity: Capacity) -> bool {
    capacity == Capacity::EthicsOfficer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_follows_membership() {
        assert_eq!(Capacity::on_study(Role::Coordinator, None), None);
        assert_eq!(Capacity::on_study(Role::Facilitator, None), None);
        assert_eq!(
            Capacity::on_study(Role::Coordinator, Some(StudyRole::Facilitator)),
            Some(Capacity::Facilitator)
        );
        assert_eq!(Capacity::on_study(Role::Admin, None), Some(Capacity::Coordinator));
        assert_eq!(Capacity::on_study(Role::EthicsOfficer, None), Some(Capacity::EthicsOfficer));
    }

    #[test]
    fn membership_roles_fit_the_account() {
        assert_eq!(
            StudyRole::for_account(Role::Coordinator, "facilitator"),
            Ok(StudyRole::Facilitator)
        );
        assert!(StudyRole::for_account(Role::Facilitator, "coordinator").is_err());
        assert!(StudyRole::for_account(Role::EthicsOfficer, "facilitator").is_err());
        assert!(StudyRole::for_account(Role::Coordinator, "owner").is_err());
    }

    #[test]
    fn audit_and_creation_rights() {
        assert!(may_read_audit(Role::EthicsOfficer) && may_read_audit(Role::Admin));
        assert!(!may_read_audit(Role::Facilitator) && !may_read_audit(Role::Coordinator));
        assert!(may_create_study(Role::Coordinator) && !may_create_study(Role::EthicsOfficer));
    }
}
