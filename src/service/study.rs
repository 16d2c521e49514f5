//! Studies: creation under an ethics approval, membership, and the status machine.

use chrono::Utc;
use serde_json::{Value, json};

use super::AppState;
use crate::audit;
use crate::domain::FieldErrors;
use crate::domain::audit::{NewEvent, sha256_hex};
use crate::domain::policy::{Capacity, StudyRole, may_create_study};
use crate::domain::study::approval::{Approval, ApprovalDraft, ApprovalInput, ApprovalKind};
use crate::domain::study::{
    NewStudy, StatusAuthority, Study, StudyStatus, TransitionContext, TransitionError, Zone,
    check_transition, parse_reminder_hours, parse_suppress_below,
};
use crate::domain::user::{Email, User};
use crate::error::{AppError, AppResult};
use crate::service::access;
use crate::store::{self};

/// Creates a study in draft. `new` is the parsed request: the caller's right to
/// create studies is checked before its field errors are reported.
#[tracing::instrument(skip_all)]
pub async fn create(
    state: &AppState,
    user: &User,
    new: Result<NewStudy, FieldErrors>,
) -> AppResult<Study> {
    if !may_create_study(user.role) {
        return Err(AppError::Forbidden("Only coordinators and admins create studies.".into()));
    }
    let new = new?;
    let now = Utc::now();
    let tx = state.db.begin_write().await?;
    let study = store::study::insert(tx.conn(), &new, user.id, now).await?;
    if user.role == crate::domain::user::Role::Coordinator {
        store::study::upsert_member(tx.conn(), study.id, user.id, StudyRole::Coordinator, now)
            .await?;
    }
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "study.created", "study", study.id).in_study(&study.slug).with(
            json!({
                "status": study.status,
                "ethics": {
                    "committee": study.ethics.committee,
                    "reference": study.ethics.reference,
                    "approved_on": study.ethics.approved_on.to_string(),
                    "expires_on": study.ethics.expires_on.to_string(),
                }
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(study = %study.slug, "study created");
    Ok(study)
}

#[tracing::instrument(skip_all)]
pub async fn list(state: &AppState, user: &User) -> AppResult<Vec<(Study, Capacity)>> {
    store::study::list_for_staff(state.db.conn(), user).await
}

/// The study if `user` may see it, else 404 (its existence is not revealed).
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn get(state: &AppState, user: &User, slug: &str) -> AppResult<(Study, Capacity)> {
    access::study(state.db.conn(), user, slug).await
}

/// A study's staff list, for those who may see the study.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn members(
    state: &AppState,
    user: &User,
    slug: &str,
) -> AppResult<Vec<(User, StudyRole)>> {
    let (study, _) = get(state, user, slug).await?;
    store::study::members(state.db.conn(), study.id).await
}

/// Adds a staff account to a study (or changes its study role).
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn add_staff(
    state: &AppState,
    user: &User,
    slug: &str,
    email: &str,
    role: &str,
) -> AppResult<(User, StudyRole)> {
    let mut errors = FieldErrors::new();
    let email = errors.take("email", Email::parse(email));
    let requested = errors.take("role", role.parse::<StudyRole>());
    let tx = state.db.begin_write().await?;
    let study = access::coordinated(tx.conn(), user, slug).await?;
    let (Some(email), Some(_)) = (email, requested) else { return Err(errors.into()) };
    let member = store::user::find_by_email(tx.conn(), &email)
        .await?
        .filter(|m| m.active)
        .ok_or_else(|| {
            AppError::field(
                "email",
                "no_account",
                "No active staff account has this e-mail address; an admin creates it first.",
            )
        })?;
    let study_role = StudyRole::for_account(member.role, role).map_err(|e| {
        let mut f = FieldErrors::new();
        f.add("role", e.code, e.message);
        AppError::Validation(f)
    })?;
    let changed =
        store::study::upsert_member(tx.conn(), study.id, member.id, study_role, Utc::now()).await?;
    if changed {
        audit::record(
            tx.conn(),
            NewEvent::new(user.actor(), "study.staff_added", "user", member.id)
                .in_study(&study.slug)
                .with(json!({"role": study_role})),
        )
        .await?;
    }
    tx.commit().await?;
    Ok((member, study_role))
}

/// Takes a staff member off a study. A study keeps at least one coordinator, and a
/// facilitator stays while they run one of its sessions still to come.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn remove_staff(
    state: &AppState,
    user: &User,
    slug: &str,
    member_id: i64,
) -> AppResult<User> {
    let tx = state.db.begin_write().await?;
    let study = access::coordinated(tx.conn(), user, slug).await?;
    let members = store::study::members(tx.conn(), study.id).await?;
    let Some((member, role)) = members.iter().find(|(m, _)| m.id == member_id).cloned() else {
        return Err(AppError::NotFound);
    };
    let coordinators = members.iter().filter(|(_, r)| *r == StudyRole::Coordinator).count();
    if role == StudyRole::Coordinator && coordinators == 1 {
        return Err(AppError::Conflict(
            "A study keeps at least one coordinator: add another before removing this one.".into(),
        ));
    }
    let upcoming =
        store::focus_group::upcoming_for_facilitator(tx.conn(), member.id, Utc::now()).await?;
    if let Some(g) = upcoming.iter().find(|g| g.study_id == study.id) {
        return Err(AppError::Conflict(format!(
            "{} facilitates \"{}\", still to come: give that session another facilitator first.",
            member.name, g.title
        )));
    }
    store::study::remove_member(tx.conn(), study.id, member.id).await?;
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "study.staff_removed", "user", member.id)
            .in_study(&study.slug)
            .with(json!({"role": role})),
    )
    .await?;
    tx.commit().await?;
    Ok(member)
}

/// Moves a study along the status machine (SPEC §5).
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn change_status(
    state: &AppState,
    user: &User,
    slug: &str,
    status: &str,
    reason: Option<&str>,
) -> AppResult<Study> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 2000) {
        return Err(AppError::field(
            "reason",
            "too_long",
            "Reason must be at most 2000 characters.",
        ));
    }
    let tx = state.db.begin_write().await?;
    let (study, capacity) = access::study(tx.conn(), user, slug).await?;
    let authority = match capacity {
        Capacity::Coordinator => StatusAuthority::Coordinator,
        Capacity::EthicsOfficer => StatusAuthority::EthicsOfficer,
        Capacity::Facilitator => {
            return Err(AppError::Forbidden("Facilitators cannot change a study's status.".into()));
        }
    };
    let to: StudyStatus = status.parse().map_err(|e: crate::domain::fields::FieldError| {
        AppError::field("status", e.code, e.message)
    })?;
    let ctx = TransitionContext {
        approval_expired: study.approval_expired(Utc::now().date_naive()),
        has_active_consent_form: store::consent::form::has_active(tx.conn(), study.id).await?,
    };
    check_transition(study.status, to, authority, ctx).map_err(|e| match e {
        TransitionError::NotAllowed(m) => AppError::Forbidden(m),
        TransitionError::Conflict(m) => AppError::Conflict(m),
        TransitionError::ApprovalExpired => AppError::Gone(format!(
            "The ethics approval {} expired on {}; recruitment cannot open until it is renewed.",
            study.ethics.reference, study.ethics.expires_on
        )),
    })?;
    let now = Utc::now();
    store::study::set_status(tx.conn(), study.id, to, reason, now).await?;
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "study.status_changed", "study", study.id)
            .in_study(&study.slug)
            .with(json!({
                "from": study.status,
                "to": to,
                "reason_sha256": reason.map(|r| sha256_hex(r.as_bytes())),
            })),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(study = %study.slug, from = %study.status, to = %to, "study status changed");
    Ok(Study { status: to, status_reason: reason.map(str::to_string), updated_at: now, ..study })
}

/// Settings a coordinator may change; `None` leaves a setting as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct SettingsChange<'a> {
    /// The identity check before signing: `none` or `email_code`.
    pub identity_check: Option<&'a str>,
    /// The small-cell threshold of published outputs (0 turns suppression off).
    pub suppress_below: Option<i64>,
    /// Hours before a focus group that members are reminded (0: none).
    pub reminder_hours: Option<i64>,
    /// The IANA zone pages and mail show times in.
    pub timezone: Option<&'a str>,
    /// Every eligible enrolment continues only from the e-mailed link.
    pub confirm_email_first: Option<bool>,
    /// The complaints contact's address and telephone; empty text clears one.
    pub complaints_email: Option<&'a str>,
    pub complaints_phone: Option<&'a str>,
    /// `leave_out` or `flag`: the export's rows of those who declined data sharing.
    pub declined_data_sharing: Option<&'a str>,
}

/// Changes the study's settings; every change is audited with its old and new value.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn change_settings(
    state: &AppState,
    user: &User,
    slug: &str,
    change: SettingsChange<'_>,
) -> AppResult<Study> {
    let tx = state.db.begin_write().await?;
    let study = access::coordinated(tx.conn(), user, slug).await?;
    let mut errors = FieldErrors::new();
    let check = match change.identity_check {
        Some(raw) => errors.take("identity_check", raw.trim().parse()),
        None => Some(study.identity_check),
    };
    let suppress_below = match change.suppress_below {
        Some(raw) => errors.take("suppress_below", parse_suppress_below(raw)),
        None => Some(study.suppress_below),
    };
    let reminder_hours = match change.reminder_hours {
        Some(raw) => errors.take("reminder_hours", parse_reminder_hours(raw)),
        None => Some(study.reminder_hours),
    };
    let timezone = match change.timezone {
        Some(raw) => errors.take("timezone", Zone::parse(raw)),
        None => Some(study.timezone),
    };
    let complaints_email = match change.complaints_email.map(str::trim) {
        Some("") => Some(None),
        Some(raw) => {
            errors.take("complaints_email", Email::parse(raw)).map(|e| Some(e.as_str().to_string()))
        }
        None => Some(study.complaints_email.clone()),
    };
    let complaints_phone = match change.complaints_phone {
        Some(raw) => errors.take("complaints_phone", crate::domain::study::parse_phone(raw)),
        None => Some(study.complaints_phone.clone()),
    };
    let declined_data_sharing = match change.declined_data_sharing {
        Some(raw) => errors.take("declined_data_sharing", raw.trim().parse()),
        None => Some(study.declined_data_sharing),
    };
    let (
        Some(check),
        Some(suppress_below),
        Some(reminder_hours),
        Some(timezone),
        Some(complaints_email),
        Some(complaints_phone),
        Some(declined_data_sharing),
    ) = (
        check,
        suppress_below,
        reminder_hours,
        timezone,
        complaints_email,
        complaints_phone,
        declined_data_sharing,
    )
    else {
        return Err(errors.into());
    };
    access::open_for_changes(&study)?;
    let updated = Study {
        identity_check: check,
        suppress_below,
        reminder_hours,
        timezone,
        confirm_email_first: change.confirm_email_first.unwrap_or(study.confirm_email_first),
        complaints_email,
        complaints_phone,
        declined_data_sharing,
        updated_at: Utc::now(),
        ..study.clone()
    };
    store::study::set_settings(tx.conn(), &updated).await?;
    let mut changed = serde_json::Map::new();
    let mut note = |key: &str, from: Value, to: Value| {
        if from != to {
            changed.insert(key.into(), json!({"from": from, "to": to}));
        }
    };
    note("identity_check", json!(study.identity_check), json!(updated.identity_check));
    note("suppress_below", json!(study.suppress_below), json!(updated.suppress_below));
    note("reminder_hours", json!(study.reminder_hours), json!(updated.reminder_hours));
    note("timezone", json!(study.timezone), json!(updated.timezone));
    note("complaints_email", json!(study.complaints_email), json!(updated.complaints_email));
    note("complaints_phone", json!(study.complaints_phone), json!(updated.complaints_phone));
    note(
        "declined_data_sharing",
        json!(study.declined_data_sharing),
        json!(updated.declined_data_sharing),
    );
    note(
        "confirm_email_first",
        json!(study.confirm_email_first),
        json!(updated.confirm_email_first),
    );
    if !changed.is_empty() {
        audit::record(
            tx.conn(),
            NewEvent::new(user.actor(), "study.settings_changed", "study", study.id)
                .in_study(&study.slug)
                .with(Value::Object(changed)),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(updated)
}

/// The statuses `user` may move the study to now (for offering buttons).
#[tracing::instrument(skip_all)]
pub async fn moves_on_offer(
    state: &AppState,
    study: &Study,
    capacity: Capacity,
) -> AppResult<Vec<StudyStatus>> {
    let who = match capacity {
        Capacity::Coordinator => StatusAuthority::Coordinator,
        Capacity::EthicsOfficer => StatusAuthority::EthicsOfficer,
        Capacity::Facilitator => return Ok(Vec::new()),
    };
    let ctx = TransitionContext {
        approval_expired: study.approval_expired(Utc::now().date_naive()),
        has_active_consent_form: store::consent::form::has_active(state.db.conn(), study.id)
            .await?,
    };
    Ok(crate::domain::study::allowed_transitions(study.status, who, ctx))
}

/// The study's approval history, oldest first (anyone who sees the study).
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn approvals(
    state: &AppState,
    user: &User,
    slug: &str,
) -> AppResult<(Study, Vec<Approval>)> {
    let snapshot = state.db.begin_snapshot().await?;
    let (study, _) = access::study(snapshot.conn(), user, slug).await?;
    let history = store::study::approvals(snapshot.conn(), study.id).await?;
    snapshot.finish().await?;
    Ok((study, history))
}

/// Records an amendment or a renewal the committee granted: an ethics officer or a
/// coordinator of the study. A renewal moves the expiry (and so can lift an expired
/// study); nothing on record changes.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn record_approval(
    state: &AppState,
    user: &User,
    slug: &str,
    input: &ApprovalInput<'_>,
) -> AppResult<(Study, Vec<Approval>)> {
    let tx = state.db.begin_write().await?;
    let (study, capacity) = access::study(tx.conn(), user, slug).await?;
    if capacity == Capacity::Facilitator {
        return Err(AppError::Forbidden(
            "Ethics officers and the study's coordinators record its approvals.".into(),
        ));
    }
    let now = Utc::now();
    let history = store::study::approvals(tx.conn(), study.id).await?;
    let draft = ApprovalDraft::parse(&study.ethics, &history, input, now.date_naive())
        .map_err(AppError::Validation)?;
    if draft.kind == ApprovalKind::Renewal && !crate::domain::policy::may_renew_approval(capacity) {
        return Err(AppError::Forbidden(
            "Only an ethics officer records a renewal: it moves the expiry that gates \
             recruitment and consent."
                .into(),
        ));
    }
    record_approval_in(tx.conn(), &study, user, &draft, now).await?;
    let study = access::study(tx.conn(), user, slug).await?.0;
    let history = store::study::approvals(tx.conn(), study.id).await?;
    tx.commit().await?;
    Ok((study, history))
}

/// Adds `draft` to the history of `study` and audits it, inside the caller's
/// transaction (recording an approval, or approving a consent form under a new
/// amendment reference).
pub(crate) async fn record_approval_in(
    tx: &impl store::Conn,
    study: &Study,
    user: &User,
    draft: &ApprovalDraft,
    now: chrono::DateTime<Utc>,
) -> AppResult<()> {
    store::study::add_approval(tx, study.id, draft, Some(user.id), now).await?;
    let action = match draft.kind {
        ApprovalKind::Renewal => "study.approval_renewed",
        _ => "study.amendment_recorded",
    };
    audit::record(
        tx,
        NewEvent::new(user.actor(), action, "study", study.id).in_study(&study.slug).with(json!({
            "reference": draft.reference,
            "approved_on": draft.approved_on.to_string(),
            "expires_on": draft.expires_on.map(|d| d.to_string()),
            "previous_expiry": study.ethics.expires_on.to_string(),
            "summary_sha256": sha256_hex(draft.summary.as_bytes()),
        })),
    )
    .await?;
    Ok(())
}

/// One study as the ethics console lists it.
#[derive(Debug, Clone)]
pub struct StudyOverview {
    pub study: Study,
    pub approvals: Vec<Approval>,
    pub consented: i64,
    pub withdrawn: i64,
}

/// Every study with its approvals and consent counts, for ethics officers and admins.
#[tracing::instrument(skip_all)]
pub async fn overview(state: &AppState, user: &User) -> AppResult<Vec<StudyOverview>> {
    if !crate::domain::policy::may_read_audit(user.role) {
        return Err(AppError::Forbidden(
            "The ethics console is for ethics officers and admins.".into(),
        ));
    }
    let snapshot = state.db.begin_snapshot().await?;
    let studies = store::study::list_for_staff(snapshot.conn(), user).await?;
    let mut approvals = store::study::all_approvals(snapshot.conn()).await?;
    let counts = store::study::consent_counts(snapshot.conn()).await?;
    snapshot.finish().await?;
    Ok(studies
        .into_iter()
        .map(|(study, _)| {
            let (consented, withdrawn) = counts.get(&study.id).copied().unwrap_or_default();
            StudyOverview {
                approvals: approvals.remove(&study.id).unwrap_or_default(),
                study,
                consented,
                withdrawn,
            }
        })
        .collect())
}
