//! The study area's staff pages: the dashboard of one's studies and a study's page.

use crate::domain::study::approval::{Approval, ApprovalKind, EXPIRY_WARNING_DAYS, expires_within};
use crate::service::study::StudyOverview;
use chrono::{NaiveDate, Utc};
use serde::Serialize;

use super::consent::{FormRow, RegisterRow};
use super::{FormView, StaffFrame};
use crate::domain::focus_group::when;
use crate::domain::policy::Capacity;
use crate::domain::policy::StudyRole;
use crate::domain::questionnaire::{FormDefinition, Instrument};
use crate::domain::recruitment::{Ad, Funnel, Stratum};
use crate::domain::study::Study;
use crate::domain::user::User;
use crate::service::consent::ReconsentDue;
use crate::service::focus_group::Session;
use crate::web::html::study::{ApprovalForm, SettingsForm, StaffForm, StudyForm};

#[derive(Serialize)]
pub struct DashboardPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub studies: Vec<StudyRow>,
    pub sessions: Vec<MySession>,
}

/// A focus-group session the signed-in person facilitates.
#[derive(Serialize)]
pub struct MySession {
    pub slug: String,
    pub study: String,
    pub id: i64,
    pub title: String,
    pub when: String,
    pub location: String,
    pub members: usize,
}

impl MySession {
    pub fn new(study: &Study, s: &Session) -> Self {
        Self {
            slug: study.slug.clone(),
            study: study.title.clone(),
            id: s.group.id,
            title: s.group.title.clone(),
            when: when(&s.group, study.timezone),
            location: s.group.location.clone(),
            members: s.members.len(),
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
    /// Days left when the approval expires within the warning period.
    pub expires_in_days: Option<i64>,
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
            expires_in_days: expires_within(&s.ethics, today, EXPIRY_WARNING_DAYS),
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
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: &'static str,
}

impl MemberRow {
    pub fn new(u: User, r: StudyRole) -> Self {
        Self { id: u.id, name: u.name, email: u.email, role: r.as_str() }
    }
}

/// A move that is asked again: what it does, and the button that does it.
#[derive(Serialize)]
pub struct ConfirmMove {
    pub title: &'static str,
    pub button: &'static str,
    pub status: String,
    pub effects: Vec<String>,
}

/// The page that asks before closing or suspending a study.
#[derive(Serialize)]
pub struct ConfirmPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub slug: String,
    pub title: String,
    pub reason: String,
    pub confirm: ConfirmMove,
}

/// A study's approval history and the form that records an amendment or renewal.
#[derive(Serialize)]
pub struct ApprovalsPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub study: StudyRow,
    pub approvals: Vec<ApprovalRow>,
    /// Ethics officers record renewals too.
    pub renews: bool,
    pub form: FormView<ApprovalForm>,
}

/// The form that creates a study.
#[derive(Serialize)]
pub struct NewStudyPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub form: FormView<StudyForm>,
}

/// A study's settings form.
#[derive(Serialize)]
pub struct SettingsPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub slug: String,
    pub title: String,
    pub form: FormView<SettingsForm>,
}

/// A study's staff, with the forms that add and remove them (coordinators).
#[derive(Serialize)]
pub struct StaffPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub slug: String,
    pub title: String,
    pub manages: bool,
    pub members: Vec<MemberRow>,
    pub form: FormView<StaffForm>,
}

/// A study's page: its approval, status, staff, forms, register, recruitment and
/// questionnaires, with the actions the viewer's capacity allows.
#[derive(Serialize)]
pub struct StudyPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub study: StudyRow,
    /// The study's clock, which every time on the page is on.
    pub zone: &'static str,
    pub summary: String,
    pub approved_on: String,
    pub status_reason: Option<String>,
    pub identity_check: &'static str,
    pub contact_name: String,
    pub contact_email: String,
    #[serde(flatten)]
    pub lists: StudyLists,
    pub is_coordinator: bool,
    pub is_ethics: bool,
    /// Names and typed signatures hidden until the viewer gives a reason.
    pub names_hidden: bool,
    /// What is left to do before recruiting, while the study is a draft.
    pub setup: Vec<SetupStep>,
}

/// What a study's page lists besides the study itself.
#[derive(Serialize)]
pub struct StudyLists {
    pub members: Vec<MemberRow>,
    pub forms: Vec<FormRow>,
    pub register: Vec<RegisterRow>,
    pub reconsent: Vec<ReconsentDue>,
    pub moves: Vec<&'static str>,
    pub instruments: Vec<InstrumentRow>,
    pub ads: Vec<AdRow>,
    pub strata: Vec<StratumRow>,
    pub approvals: Vec<ApprovalRow>,
    /// How many consents the register holds before the filter.
    pub register_total: usize,
    pub filter: RegisterFilter,
    /// First-try rates of each version's knowledge-review questions.
    pub understanding: Vec<UnderstandingTable>,
}

/// One consent-form version's knowledge-review questions with their first-try rates.
#[derive(Serialize)]
pub struct UnderstandingTable {
    pub version: String,
    pub rows: Vec<UnderstandingRow>,
}

#[derive(Serialize)]
pub struct UnderstandingRow {
    pub question: String,
    pub answered: u32,
    pub first_try_correct: u32,
    pub percent: Option<u32>,
}

impl From<&crate::domain::consent::review::VersionRates> for UnderstandingTable {
    fn from(v: &crate::domain::consent::review::VersionRates) -> Self {
        Self {
            version: v.version.clone(),
            rows: v
                .rates
                .iter()
                .map(|r| UnderstandingRow {
                    question: r.question.clone(),
                    answered: r.answered,
                    first_try_correct: r.first_try_correct,
                    percent: r.percent(),
                })
                .collect(),
        }
    }
}

/// The register's filters, from the page's query: a version, a state (`active`,
/// `withdrawn`, `reconsent` for the re-consent backlog) and signing dates.
#[derive(Serialize, Default, rocket::form::FromForm)]
pub struct RegisterFilter {
    pub version: Option<String>,
    pub state: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl RegisterFilter {
    fn given(value: &Option<String>) -> Option<&str> {
        value.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }

    /// Whether the register line `e` passes; `reconsent` is the backlog.
    pub fn keeps(
        &self,
        e: &crate::service::consent::RegisterEntry,
        reconsent: &[crate::service::consent::ReconsentDue],
    ) -> bool {
        let day = e.signed_at.get(..10).unwrap_or_default();
        Self::given(&self.version).is_none_or(|v| v == e.version)
            && Self::given(&self.from).is_none_or(|from| day >= from)
            && Self::given(&self.to).is_none_or(|to| day <= to)
            && match Self::given(&self.state) {
                Some("active") => e.withdrawal.is_none(),
                Some("withdrawn") => e.withdrawal.is_some(),
                Some("reconsent") => reconsent.iter().any(|r| {
                    r.participant_code == e.participant_code && r.signed_version == e.version
                }),
                _ => true,
            }
    }
}

/// One entry of the approval history.
#[derive(Serialize)]
pub struct ApprovalRow {
    pub kind: &'static str,
    pub reference: String,
    pub approved_on: String,
    pub expires_on: Option<String>,
    pub summary: String,
}

impl From<&Approval> for ApprovalRow {
    fn from(a: &Approval) -> Self {
        Self {
            kind: match a.kind {
                ApprovalKind::Initial => "Initial approval",
                ApprovalKind::Amendment => "Amendment",
                ApprovalKind::Renewal => "Renewal",
            },
            reference: a.reference.clone(),
            approved_on: a.approved_on.to_string(),
            expires_on: a.expires_on.map(|d| d.to_string()),
            summary: a.summary.clone(),
        }
    }
}

/// One step of taking a new study to recruiting, with a link to where it is done.
#[derive(Serialize)]
pub struct SetupStep {
    pub label: &'static str,
    pub href: String,
    pub done: bool,
    pub note: Option<&'static str>,
}

/// The steps from a new study to recruiting, shown while the study is a draft.
fn setup_steps(study: &Study, lists: &StudyLists) -> Vec<SetupStep> {
    if study.status != crate::domain::study::StudyStatus::Draft {
        return Vec::new();
    }
    let base = format!("/staff/studies/{}", study.slug);
    let approved = lists.forms.iter().any(|f| f.state == "active");
    let drafted = lists.forms.iter().any(|f| f.state == "draft");
    let step = |label, path: &str, done, note| SetupStep {
        label,
        href: format!("{base}{path}"),
        done,
        note,
    };
    vec![
        step("Check the settings (time zone, identity check)", "/settings", false, None),
        step("Add the study's staff", "/staff", lists.members.len() > 1, None),
        step(
            "Write the consent form",
            "/consent-forms/new",
            approved || drafted,
            (drafted && !approved).then_some("drafted: an ethics officer approves it"),
        ),
        step("Consent form approved by an ethics officer", "#consent-forms", approved, None),
        step("Attach the questionnaires", "/questionnaires", !lists.instruments.is_empty(), None),
        step(
            "Write an ad, and strata if you recruit by quota",
            "/recruitment",
            !lists.ads.is_empty(),
            None,
        ),
        step(
            "Open recruitment",
            "#status",
            false,
            (!approved).then_some("once the consent form is approved"),
        ),
    ]
}

impl StudyPage {
    pub fn new(frame: StaffFrame, study: Study, capacity: Capacity, lists: StudyLists) -> Self {
        let today = Utc::now().date_naive();
        Self {
            setup: if capacity == Capacity::Coordinator {
                setup_steps(&study, &lists)
            } else {
                Vec::new()
            },
            frame,
            study: StudyRow::new(&study, capacity, today),
            zone: study.timezone.name(),
            summary: study.summary,
            approved_on: study.ethics.approved_on.to_string(),
            status_reason: study.status_reason,
            identity_check: study.identity_check.as_str(),
            contact_name: study.contact_name,
            contact_email: study.contact_email,
            lists,
            is_coordinator: capacity == Capacity::Coordinator,
            is_ethics: capacity == Capacity::EthicsOfficer,
            names_hidden: false,
        }
    }
}

#[derive(Serialize)]
pub struct InstrumentRow {
    pub key: String,
    pub version: u32,
    pub title: String,
    pub stage: &'static str,
    pub eligible_if: Option<String>,
    pub questions: usize,
    pub hash_prefix: String,
}

impl InstrumentRow {
    pub fn new(i: &Instrument, d: &FormDefinition) -> Self {
        Self {
            key: i.key.clone(),
            version: i.version,
            title: d.title.clone(),
            stage: i.stage.as_str(),
            eligible_if: i.eligible_if.clone(),
            questions: d.questions.len(),
            hash_prefix: i.form_hash.get(..12).unwrap_or("").to_string(),
        }
    }
}

#[derive(Serialize)]
pub struct AdRow {
    pub code: String,
    pub title: String,
    pub channel: &'static str,
    pub open: bool,
    pub closes_at: String,
    pub views: i64,
    #[serde(flatten)]
    pub funnel: Funnel,
}

impl AdRow {
    pub fn new(a: &Ad, f: &Funnel, zone: crate::domain::study::Zone) -> Self {
        Self {
            code: a.code.clone(),
            title: a.title.clone(),
            channel: a.channel.label(),
            open: a.not_open(Utc::now()).is_none(),
            closes_at: super::in_words(a.closes_at, zone),
            views: a.views,
            funnel: *f,
        }
    }
}

#[derive(Serialize)]
pub struct StratumRow {
    pub question: String,
    pub value: String,
    pub target: i32,
    pub cap: Option<i32>,
    #[serde(flatten)]
    pub funnel: Funnel,
}

impl StratumRow {
    pub fn new(s: &Stratum, f: &Funnel) -> Self {
        Self {
            question: s.question_key.clone(),
            value: s.value.clone(),
            target: s.target,
            cap: s.cap,
            funnel: *f,
        }
    }
}

/// Today's date, for approval expiry on the dashboard.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// The ethics console's first page: every study under its committee.
#[derive(Serialize)]
pub struct EthicsPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub studies: Vec<EthicsRow>,
}

#[derive(Serialize)]
pub struct EthicsRow {
    pub study: StudyRow,
    pub approved_on: String,
    pub amendments: usize,
    pub renewals: usize,
    pub consented: i64,
    pub withdrawn: i64,
}

impl EthicsRow {
    pub fn new(o: &StudyOverview, today: chrono::NaiveDate) -> Self {
        let count = |kind| o.approvals.iter().filter(|a| a.kind == kind).count();
        Self {
            study: StudyRow::new(&o.study, Capacity::EthicsOfficer, today),
            approved_on: o.study.ethics.approved_on.to_string(),
            amendments: count(ApprovalKind::Amendment),
            renewals: count(ApprovalKind::Renewal),
            consented: o.consented,
            withdrawn: o.withdrawn,
        }
    }
}
