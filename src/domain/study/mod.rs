//! Studies: their slug, the ethics approval they run under, and the status machine.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

pub mod approval;

use super::fields::{FieldError, FieldErrors, required_text};
use super::user::Email;

/// A study's address: lower-case letters, digits and single hyphens, 3 to 64 long.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        let valid_chars =
            s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if s.len() < 3
            || s.len() > 64
            || !valid_chars
            || s.starts_with('-')
            || s.ends_with('-')
            || s.contains("--")
        {
            return Err(FieldError::new(
                "invalid_slug",
                "The short name (slug) must be 3 to 64 lower-case letters, digits and single hyphens, like social-media-med-ed.",
            ));
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum StudyStatus {
        Draft = "draft",
        Recruiting = "recruiting",
        Paused = "paused",
        Suspended = "suspended",
        Closed = "closed",
    }
    else "unknown_status", "Status must be one of draft, recruiting, paused, suspended, closed."
}

/// The human research ethics committee's approval a study runs under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EthicsApproval {
    pub committee: String,
    pub reference: String,
    pub approved_on: NaiveDate,
    pub expires_on: NaiveDate,
}

impl EthicsApproval {
    /// Checks every field, naming each bad one under `prefix` (e.g. `ethics.reference`).
    pub fn parse(
        prefix: &str,
        committee: &str,
        reference: &str,
        approved_on: &str,
        expires_on: &str,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let key = |field: &str| format!("{prefix}.{field}");
        let committee = errors.take(&key("committee"), required_text(committee, "Committee", 300));
        let reference =
            errors.take(&key("reference"), required_text(reference, "Approval reference", 100));
        let approved_on =
            errors.take(&key("approved_on"), parse_date(approved_on, "Approval date"));
        let expires_on = errors.take(&key("expires_on"), parse_date(expires_on, "Expiry date"));
        if let (Some(a), Some(e)) = (approved_on, expires_on)
            && e <= a
        {
            errors.add(
                &key("expires_on"),
                "before_approval",
                "Expiry date must be after the approval date.",
            );
        }
        match (committee, reference, approved_on, expires_on) {
            (Some(committee), Some(reference), Some(approved_on), Some(expires_on))
                if errors.is_empty() =>
            {
                Ok(Self { committee, reference, approved_on, expires_on })
            }
            _ => Err(errors),
        }
    }

    /// An approval is valid through its expiry date and expired from the day after.
    pub fn is_expired(&self, today: NaiveDate) -> bool {
        today > self.expires_on
    }
}

/// How a participant's identity is checked before they sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityCheck {
    /// The private link is the only check.
    None,
    /// A six-digit code e-mailed to the participant must be entered before signing.
    EmailCode,
}

impl IdentityCheck {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityCheck::None => "none",
            IdentityCheck::EmailCode => "email_code",
        }
    }
}

impl FromStr for IdentityCheck {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "" | "none" => Ok(IdentityCheck::None),
            "email_code" => Ok(IdentityCheck::EmailCode),
            _ => Err(FieldError::new(
                "unknown_identity_check",
                "Identity check must be none or email_code.",
            )),
        }
    }
}

text_enum! {
    /// What the answers export does with the rows of participants who declined the
    /// consent item that governs sharing de-identified data.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum DeclinedSharing {
        /// Their rows are not in `export.csv` (the default).
        #[default]
        LeaveOut = "leave_out",
        /// Their rows are in it, with `shares_data` 0.
        Flag = "flag",
    }
    else "unknown_declined_data_sharing", "Choose leave_out or flag."
}

/// A study as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Study {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub status: StudyStatus,
    pub status_reason: Option<String>,
    pub ethics: EthicsApproval,
    pub contact_name: String,
    pub contact_email: String,
    pub identity_check: IdentityCheck,
    /// Published outputs show non-zero counts below this as `<k`; 0 turns it off.
    pub suppress_below: u32,
    /// Hours before a focus group that members are reminded (0: no reminders).
    pub reminder_hours: u32,
    /// The zone pages and mail show times in (the API speaks UTC).
    pub timezone: Zone,
    /// Every eligible enrolment continues only from the e-mailed link, so the answer
    /// to an enrolment never tells whether an address is enrolled already.
    pub confirm_email_first: bool,
    /// A contact independent of the researchers for concerns and complaints
    /// (usually the ethics committee's office), shown on every participant page.
    pub complaints_email: Option<String>,
    pub complaints_phone: Option<String>,
    /// What the export does with the rows of those who declined the consent item
    /// that governs data sharing.
    pub declined_data_sharing: DeclinedSharing,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A complaints telephone number as typed: digits, spaces, `+ - ( ) .`, at most 40.
pub fn parse_phone(raw: &str) -> Result<Option<String>, FieldError> {
    let phone = raw.trim();
    if phone.is_empty() {
        return Ok(None);
    }
    let allowed = |c: char| c.is_ascii_digit() || " +-().".contains(c);
    if phone.chars().count() > 40
        || !phone.chars().all(allowed)
        || !phone.chars().any(|c| c.is_ascii_digit())
    {
        return Err(FieldError::new(
            "invalid",
            "Enter a telephone number: digits, spaces and + - ( ), at most 40 characters.",
        ));
    }
    Ok(Some(phone.to_string()))
}

impl Study {
    pub fn approval_expired(&self, today: NaiveDate) -> bool {
        self.ethics.is_expired(today)
    }
}

/// The largest small-cell threshold a study may set.
pub const MAX_SUPPRESS_BELOW: i64 = 100;

/// A study's small-cell threshold: a whole number from 0 (off) to 100.
pub fn parse_suppress_below(raw: i64) -> Result<u32, FieldError> {
    if (0..=MAX_SUPPRESS_BELOW).contains(&raw) {
        Ok(u32::try_from(raw).unwrap_or(0))
    } else {
        Err(FieldError::new(
            "out_of_range",
            format!("Must be a whole number from 0 (no suppression) to {MAX_SUPPRESS_BELOW}."),
        ))
    }
}

/// A study's time zone, by its IANA name (`Australia/Melbourne`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Zone(pub chrono_tz::Tz);

impl Zone {
    pub fn parse(raw: &str) -> Result<Zone, FieldError> {
        raw.trim().parse::<chrono_tz::Tz>().map(Zone).map_err(|_| {
            FieldError::new(
                "unknown_timezone",
                "Give an IANA time zone name, such as Australia/Melbourne or UTC.",
            )
        })
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// `at` as the clock on the wall in this zone shows it.
    pub fn local(self, at: DateTime<Utc>) -> DateTime<chrono_tz::Tz> {
        at.with_timezone(&self.0)
    }

    /// A wall-clock time in this zone (`2026-03-08T14:00`, as a form's
    /// `datetime-local` sends it) as a UTC instant; `None` when the clock skips it.
    pub fn from_local(self, wall: chrono::NaiveDateTime) -> Option<DateTime<Utc>> {
        use chrono::TimeZone;
        self.0.from_local_datetime(&wall).earliest().map(|t| t.with_timezone(&Utc))
    }
}

impl Zone {
    /// A date and a time of day typed in a form (`2026-03-08`, `14:00`; an empty
    /// time is `default_time`) as a UTC instant on this zone's clock. `label` names
    /// the date in its errors, which are in words, never a format's name.
    pub fn wall_time(
        self,
        date: &str,
        time: &str,
        default_time: &str,
        label: &str,
    ) -> Result<DateTime<Utc>, FieldError> {
        let date = parse_date(date, label)?;
        let time = match time.trim() {
            "" => default_time,
            t => t,
        };
        let time = chrono::NaiveTime::parse_from_str(time, "%H:%M")
            .or_else(|_| chrono::NaiveTime::parse_from_str(time, "%H:%M:%S"))
            .map_err(|_| {
                FieldError::new("invalid_time", "Give the time as hours and minutes, like 14:30.")
            })?;
        self.from_local(date.and_time(time)).ok_or_else(|| {
            FieldError::new(
                "skipped_time",
                format!(
                    "{time} does not exist on that day in {} (the clocks go forward); pick another time.",
                    self.name()
                ),
            )
        })
    }
}

impl Serialize for Zone {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// The longest reminder lead time a study may set: a week.
pub const MAX_REMINDER_HOURS: i64 = 168;

/// Hours before a focus group that its members are reminded: 0 (none) to 168.
pub fn parse_reminder_hours(raw: i64) -> Result<u32, FieldError> {
    if (0..=MAX_REMINDER_HOURS).contains(&raw) {
        Ok(u32::try_from(raw).unwrap_or(0))
    } else {
        Err(FieldError::new(
            "out_of_range",
            format!(
                "Must be a whole number of hours from 0 (no reminders) to {MAX_REMINDER_HOURS}."
            ),
        ))
    }
}

pub fn parse_date(raw: &str, label: &str) -> Result<NaiveDate, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(FieldError::new("required", format!("{label} is required.")));
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        FieldError::new("invalid_date", format!("{label} must be a date like 2026-03-31."))
    })
}

/// A study to be created, every field checked.
#[derive(Debug, Clone)]
pub struct NewStudy {
    pub slug: Slug,
    pub title: String,
    pub summary: String,
    pub ethics: EthicsApproval,
    pub contact_name: String,
    pub contact_email: Email,
    pub identity_check: IdentityCheck,
}

/// The raw fields of a study as a request carries them.
#[derive(Debug, Clone, Default)]
pub struct StudyInput<'a> {
    pub slug: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    pub committee: &'a str,
    pub reference: &'a str,
    pub approved_on: &'a str,
    pub expires_on: &'a str,
    pub contact_name: &'a str,
    pub contact_email: &'a str,
    /// `none` (or empty) or `email_code`.
    pub identity_check: &'a str,
}

impl NewStudy {
    pub fn parse(input: &StudyInput<'_>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let slug = errors.take("slug", Slug::parse(input.slug));
        let title = errors.take("title", required_text(input.title, "Title", 300));
        let summary = if input.summary.trim().is_empty() {
            Some(String::new())
        } else {
            errors.take("summary", required_text(input.summary, "Summary", 5000))
        };
        let ethics = match EthicsApproval::parse(
            "ethics",
            input.committee,
            input.reference,
            input.approved_on,
            input.expires_on,
        ) {
            Ok(e) => Some(e),
            Err(e) => {
                errors.merge(e);
                None
            }
        };
        let contact_name =
            errors.take("contact.name", required_text(input.contact_name, "Contact name", 200));
        let contact_email = errors.take("contact.email", Email::parse(input.contact_email));
        let identity_check =
            errors.take("identity_check", input.identity_check.trim().parse::<IdentityCheck>());
        match (slug, title, summary, ethics, contact_name, contact_email, identity_check) {
            (
                Some(slug),
                Some(title),
                Some(summary),
                Some(ethics),
                Some(contact_name),
                Some(contact_email),
                Some(identity_check),
            ) if errors.is_empty() => Ok(Self {
                slug,
                title,
                summary,
                ethics,
                contact_name,
                contact_email,
                identity_check,
            }),
            _ => Err(errors),
        }
    }
}

/// Who is asking to move a study: coordinators (and admins) run it, ethics officers
/// may suspend it and lift their suspension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusAuthority {
    Coordinator,
    EthicsOfficer,
}

/// What else the status machine needs to know about the study.
#[derive(Debug, Clone, Copy)]
pub struct TransitionContext {
    pub approval_expired: bool,
    pub has_active_consent_form: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    /// This role may not make this move (403).
    NotAllowed(String),
    /// The move does not fit the study's state (409).
    Conflict(String),
    /// The ethics approval has expired (410).
    ApprovalExpired,
}

/// The status machine of SPEC §5.
///
/// Coordinators open recruitment from `draft` or `paused`, pause it, and close the
/// study (closing is final). Ethics officers suspend a study that is not closed and
/// may reopen recruitment after their suspension. Opening recruitment needs a live
/// approval (else 410) and an active consent-form version (else 409).
pub fn check_transition(
    from: StudyStatus,
    to: StudyStatus,
    who: StatusAuthority,
    ctx: TransitionContext,
) -> Result<(), TransitionError> {
    use StatusAuthority::*;
    use StudyStatus::*;
    use TransitionError::*;

    if from == to {
        return Err(Conflict(format!("The study is already {from}.")));
    }
    if from == Closed {
        return Err(Conflict("The study is closed; closing is final.".into()));
    }
    match (who, to) {
        (_, Draft) => return Err(Conflict("A study cannot return to draft.".into())),
        (Coordinator, Recruiting) if from == Suspended => {
            return Err(NotAllowed("Only an ethics officer can lift a suspension.".into()));
        }
        (Coordinator, Recruiting) => {}
        (Coordinator, Paused) if from != Recruiting => {
            return Err(Conflict("Only a recruiting study can be paused.".into()));
        }
        (Coordinator, Paused) | (Coordinator, Closed) => {}
        (Coordinator, Suspended) => {
            return Err(NotAllowed("Only an ethics officer can suspend a study.".into()));
        }
        (EthicsOfficer, Suspended) => {}
        (EthicsOfficer, Recruiting) if from != Suspended => {
            return Err(NotAllowed(
                "An ethics officer may only reopen recruitment after a suspension.".into(),
            ));
        }
        (EthicsOfficer, Recruiting) => {}
        (EthicsOfficer, Paused | Closed) => {
            return Err(NotAllowed(
                "An ethics officer may only suspend a study or lift a suspension.".into(),
            ));
        }
    }
    if to == Recruiting {
        if ctx.approval_expired {
            return Err(ApprovalExpired);
        }
        if !ctx.has_active_consent_form {
            return Err(Conflict(
                "Recruitment needs an active consent form: draft one and have it approved first."
                    .into(),
            ));
        }
    }
    Ok(())
}

/// The statuses `who` may move a study to now, in the order of the status machine.
pub fn allowed_transitions(
    from: StudyStatus,
    who: StatusAuthority,
    ctx: TransitionContext,
) -> Vec<StudyStatus> {
    StudyStatus::ALL
        .into_iter()
        .filter(|to| check_transition(from, *to, who, ctx).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::StatusAuthority::*;
    use super::StudyStatus::*;
    use super::*;

    const READY: TransitionContext =
        TransitionContext { approval_expired: false, has_active_consent_form: true };

    fn date(s: &str) -> NaiveDate {
        parse_date(s, "d").unwrap_or_default()
    }

    #[test]
    fn slugs() {
        for ok in ["abc", "social-media-med-ed", "a1-b2"] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "Bad Slug!", "-abc", "abc-", "a--b", "ABC", &"x".repeat(65)] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn approval_must_expire_after_it_is_given() {
        let e = EthicsApproval::parse("ethics", "HREC", "CF15/2639", "2026-01-01", "2025-12-31")
            .err()
            .unwrap_or_default();
        assert!(e.contains("ethics.expires_on"));
        let e = EthicsApproval::parse("ethics", "HREC", "  ", "2026-01-01", "2026-01-01")
            .err()
            .unwrap_or_default();
        assert!(e.contains("ethics.reference") && e.contains("ethics.expires_on"));
        assert!(EthicsApproval::parse("ethics", "", "R", "01/01/2026", "x").is_err());
    }

    #[test]
    fn approval_expires_the_day_after_its_expiry_date() {
        let a = EthicsApproval::parse("ethics", "HREC", "R1", "2026-01-01", "2026-06-30")
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(!a.is_expired(date("2026-06-30")));
        assert!(a.is_expired(date("2026-07-01")));
    }

    #[test]
    fn coordinators_run_the_study() {
        assert_eq!(check_transition(Draft, Recruiting, Coordinator, READY), Ok(()));
        assert_eq!(check_transition(Recruiting, Paused, Coordinator, READY), Ok(()));
        assert_eq!(check_transition(Paused, Recruiting, Coordinator, READY), Ok(()));
        assert_eq!(check_transition(Paused, Closed, Coordinator, READY), Ok(()));
        assert_eq!(check_transition(Suspended, Closed, Coordinator, READY), Ok(()));
        assert!(matches!(
            check_transition(Draft, Paused, Coordinator, READY),
            Err(TransitionError::Conflict(_))
        ));
        assert!(matches!(
            check_transition(Recruiting, Suspended, Coordinator, READY),
            Err(TransitionError::NotAllowed(_))
        ));
        assert!(matches!(
            check_transition(Suspended, Recruiting, Coordinator, READY),
            Err(TransitionError::NotAllowed(_))
        ));
    }

    #[test]
    fn ethics_officers_suspend_and_resume() {
        assert_eq!(check_transition(Recruiting, Suspended, EthicsOfficer, READY), Ok(()));
        assert_eq!(check_transition(Paused, Suspended, EthicsOfficer, READY), Ok(()));
        assert_eq!(check_transition(Suspended, Recruiting, EthicsOfficer, READY), Ok(()));
        for to in [Paused, Closed] {
            assert!(matches!(
                check_transition(Recruiting, to, EthicsOfficer, READY),
                Err(TransitionError::NotAllowed(_))
            ));
        }
        assert!(matches!(
            check_transition(Paused, Recruiting, EthicsOfficer, READY),
            Err(TransitionError::NotAllowed(_))
        ));
    }

    #[test]
    fn closed_is_final_and_same_state_is_a_conflict() {
        for to in StudyStatus::ALL {
            for who in [Coordinator, EthicsOfficer] {
                assert!(check_transition(Closed, to, who, READY).is_err());
            }
        }
        assert!(matches!(
            check_transition(Recruiting, Recruiting, Coordinator, READY),
            Err(TransitionError::Conflict(_))
        ));
    }

    #[test]
    fn the_moves_on_offer() {
        assert_eq!(allowed_transitions(Draft, Coordinator, READY), [Recruiting, Closed]);
        assert_eq!(allowed_transitions(Recruiting, EthicsOfficer, READY), [Suspended]);
        let no_form = TransitionContext { has_active_consent_form: false, ..READY };
        assert_eq!(allowed_transitions(Draft, Coordinator, no_form), [Closed]);
        assert!(allowed_transitions(Closed, Coordinator, READY).is_empty());
    }

    #[test]
    fn recruitment_needs_a_live_approval_and_an_active_form() {
        let expired = TransitionContext { approval_expired: true, ..READY };
        assert_eq!(
            check_transition(Draft, Recruiting, Coordinator, expired),
            Err(TransitionError::ApprovalExpired)
        );
        assert_eq!(
            check_transition(Suspended, Recruiting, EthicsOfficer, expired),
            Err(TransitionError::ApprovalExpired)
        );
        let no_form = TransitionContext { has_active_consent_form: false, ..READY };
        assert!(matches!(
            check_transition(Draft, Recruiting, Coordinator, no_form),
            Err(TransitionError::Conflict(_))
        ));
        assert_eq!(check_transition(Recruiting, Closed, Coordinator, expired), Ok(()));
    }
}
