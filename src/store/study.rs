//! Studies and study membership. Every read that serves a staff member goes through
//! `get_for_staff` or `list_for_staff`, which decide visibility in one place.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entity::{consents, participants, studies, study_approvals, study_staff};
use super::{Conn, decode};
use crate::domain::policy::{Capacity, StudyRole};
use crate::domain::study::approval::{Approval, ApprovalDraft, ApprovalKind};
use crate::domain::study::{
    DeclinedSharing, EthicsApproval, IdentityCheck, NewStudy, Study, StudyStatus, Zone,
};
use crate::domain::user::{Role, User};
use crate::error::AppError;

pub(super) fn to_domain(m: studies::Model) -> Result<Study, AppError> {
    Ok(Study {
        id: m.id,
        status: decode::<StudyStatus>("study status", &m.status)?,
        slug: m.slug,
        title: m.title,
        summary: m.summary,
        status_reason: m.status_reason,
        ethics: EthicsApproval {
            committee: m.ethics_committee,
            reference: m.ethics_reference,
            approved_on: m.approved_on,
            expires_on: m.expires_on,
        },
        contact_name: m.contact_name,
        contact_email: m.contact_email,
        identity_check: decode::<IdentityCheck>("identity check", &m.identity_check)?,
        suppress_below: u32::try_from(m.suppress_below).unwrap_or(5),
        reminder_hours: u32::try_from(m.focus_group_reminder_hours).unwrap_or(24),
        timezone: Zone::parse(&m.timezone).unwrap_or_default(),
        confirm_email_first: m.confirm_email_first,
        complaints_email: m.complaints_email,
        complaints_phone: m.complaints_phone,
        declined_data_sharing: decode::<DeclinedSharing>(
            "declined data sharing",
            &m.declined_data_sharing,
        )?,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

pub async fn insert(
    db: &impl Conn,
    new: &NewStudy,
    created_by: i64,
    now: DateTime<Utc>,
) -> Result<Study, AppError> {
    let model = studies::ActiveModel {
        slug: Set(new.slug.as_str().to_string()),
        title: Set(new.title.clone()),
        summary: Set(new.summary.clone()),
        status: Set(StudyStatus::Draft.as_str().to_string()),
        status_reason: Set(None),
        ethics_committee: Set(new.ethics.committee.clone()),
        ethics_reference: Set(new.ethics.reference.clone()),
        approved_on: Set(new.ethics.approved_on),
        expires_on: Set(new.ethics.expires_on),
        contact_name: Set(new.contact_name.clone()),
        contact_email: Set(new.contact_email.as_str().to_string()),
        created_by: Set(created_by),
        created_at: Set(now),
        updated_at: Set(now),
        identity_check: Set(new.identity_check.as_str().to_string()),
        suppress_below: Set(5),
        focus_group_reminder_hours: Set(24),
        timezone: Set(Zone::default().name().to_string()),
        confirm_email_first: Set(false),
        declined_data_sharing: Set(DeclinedSharing::default().as_str().to_string()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(super::taken(|| {
        AppError::field("slug", "taken", "A study with this slug exists already.")
    }))?;
    let initial = ApprovalDraft {
        kind: ApprovalKind::Initial,
        reference: new.ethics.reference.clone(),
        approved_on: new.ethics.approved_on,
        expires_on: Some(new.ethics.expires_on),
        summary: "The study's initial approval".into(),
    };
    add_approval(db, model.id, &initial, Some(created_by), now).await?;
    to_domain(model)
}

fn approval(m: study_approvals::Model) -> Result<Approval, AppError> {
    Ok(Approval {
        kind: decode::<ApprovalKind>("approval kind", &m.kind)?,
        reference: m.reference,
        approved_on: m.approved_on,
        expires_on: m.expires_on,
        summary: m.summary,
        recorded_at: m.recorded_at,
    })
}

/// The study's approval history, oldest first.
pub async fn approvals(db: &impl Conn, study_id: i64) -> Result<Vec<Approval>, AppError> {
    study_approvals::Entity::find()
        .filter(study_approvals::Column::StudyId.eq(study_id))
        .order_by_asc(study_approvals::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(approval)
        .collect()
}

/// Adds an entry to the history; a renewal also moves the study's expiry.
pub async fn add_approval(
    db: &impl Conn,
    study_id: i64,
    draft: &ApprovalDraft,
    recorded_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    study_approvals::ActiveModel {
        study_id: Set(study_id),
        kind: Set(draft.kind.as_str().to_string()),
        reference: Set(draft.reference.clone()),
        approved_on: Set(draft.approved_on),
        expires_on: Set(draft.expires_on),
        summary: Set(draft.summary.clone()),
        recorded_by: Set(recorded_by),
        recorded_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    if let (ApprovalKind::Renewal, Some(expires_on)) = (draft.kind, draft.expires_on) {
        studies::Entity::update_many()
            .col_expr(studies::Column::ExpiresOn, Expr::value(expires_on))
            .col_expr(studies::Column::UpdatedAt, Expr::value(now))
            .filter(studies::Column::Id.eq(study_id))
            .exec(db)
            .await?;
    }
    Ok(())
}

pub async fn find_by_slug(db: &impl Conn, slug: &str) -> Result<Option<Study>, AppError> {
    studies::Entity::find()
        .filter(studies::Column::Slug.eq(slug))
        .one(db)
        .await?
        .map(to_domain)
        .transpose()
}

pub async fn find_by_id(db: &impl Conn, id: i64) -> Result<Option<Study>, AppError> {
    studies::Entity::find_by_id(id).one(db).await?.map(to_domain).transpose()
}

async fn membership(
    db: &impl Conn,
    study_id: i64,
    user_id: i64,
) -> Result<Option<StudyRole>, AppError> {
    let row = study_staff::Entity::find_by_id((study_id, user_id)).one(db).await?;
    row.map(|m| decode::<StudyRole>("study role", &m.role)).transpose()
}

/// The study and the capacity `user` acts in on it; `None` when it is not theirs to see.
pub async fn get_for_staff(
    db: &impl Conn,
    user: &User,
    slug: &str,
) -> Result<Option<(Study, Capacity)>, AppError> {
    let Some(study) = find_by_slug(db, slug).await? else { return Ok(None) };
    let member = match user.role {
        Role::Coordinator | Role::Facilitator => membership(db, study.id, user.id).await?,
        Role::Admin | Role::EthicsOfficer => None,
    };
    Ok(Capacity::on_study(user.role, member).map(|c| (study, c)))
}

/// Every study `user` may see, newest first, with the capacity they act in.
pub async fn list_for_staff(
    db: &impl Conn,
    user: &User,
) -> Result<Vec<(Study, Capacity)>, AppError> {
    let all_visible = matches!(user.role, Role::Admin | Role::EthicsOfficer);
    let mut query = studies::Entity::find()
        .order_by_desc(studies::Column::CreatedAt)
        .order_by_desc(studies::Column::Id);
    let mut roles = std::collections::HashMap::new();
    if !all_visible {
        let rows = study_staff::Entity::find()
            .filter(study_staff::Column::UserId.eq(user.id))
            .all(db)
            .await?;
        for row in rows {
            roles.insert(row.study_id, decode::<StudyRole>("study role", &row.role)?);
        }
        query = query.filter(studies::Column::Id.is_in(roles.keys().copied().collect::<Vec<_>>()));
    }
    let mut out = Vec::new();
    for model in query.all(db).await? {
        let member = roles.get(&model.id).copied();
        if let Some(capacity) = Capacity::on_study(user.role, member) {
            out.push((to_domain(model)?, capacity));
        }
    }
    Ok(out)
}

/// Adds or changes a member; returns false when they already held that role.
pub async fn upsert_member(
    db: &impl Conn,
    study_id: i64,
    user_id: i64,
    role: StudyRole,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    match membership(db, study_id, user_id).await? {
        Some(current) if current == role => Ok(false),
        Some(_) => {
            study_staff::Entity::update_many()
                .col_expr(study_staff::Column::Role, Expr::value(role.as_str()))
                .filter(study_staff::Column::StudyId.eq(study_id))
                .filter(study_staff::Column::UserId.eq(user_id))
                .exec(db)
                .await?;
            Ok(true)
        }
        None => {
            study_staff::ActiveModel {
                study_id: Set(study_id),
                user_id: Set(user_id),
                role: Set(role.as_str().to_string()),
                added_at: Set(now),
            }
            .insert(db)
            .await?;
            Ok(true)
        }
    }
}

/// Takes a member off a study; returns false when they were not on it.
pub async fn remove_member(db: &impl Conn, study_id: i64, user_id: i64) -> Result<bool, AppError> {
    let done = study_staff::Entity::delete_many()
        .filter(study_staff::Column::StudyId.eq(study_id))
        .filter(study_staff::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(done.rows_affected > 0)
}

/// A study's staff with their membership role, in the order they joined.
pub async fn members(db: &impl Conn, study_id: i64) -> Result<Vec<(User, StudyRole)>, AppError> {
    let rows = study_staff::Entity::find()
        .filter(study_staff::Column::StudyId.eq(study_id))
        .order_by_asc(study_staff::Column::AddedAt)
        .order_by_asc(study_staff::Column::UserId)
        .all(db)
        .await?;
    let users = super::user::models_by_id(db, rows.iter().map(|r| r.user_id)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(user) = users.get(&row.user_id) {
            out.push((
                super::user::to_domain(user.clone())?,
                decode::<StudyRole>("study role", &row.role)?,
            ));
        }
    }
    Ok(out)
}

pub async fn set_status(
    db: &impl Conn,
    study_id: i64,
    status: StudyStatus,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    studies::Entity::update_many()
        .col_expr(studies::Column::Status, Expr::value(status.as_str()))
        .col_expr(studies::Column::StatusReason, Expr::value(reason.map(str::to_string)))
        .col_expr(studies::Column::UpdatedAt, Expr::value(now))
        .filter(studies::Column::Id.eq(study_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Writes the settings `study` carries (identity check, threshold, reminder lead
/// time, time zone, confirming the address first) and its `updated_at`.
pub async fn set_settings(db: &impl Conn, study: &Study) -> Result<(), AppError> {
    studies::Entity::update_many()
        .col_expr(studies::Column::IdentityCheck, Expr::value(study.identity_check.as_str()))
        .col_expr(
            studies::Column::SuppressBelow,
            Expr::value(i32::try_from(study.suppress_below).unwrap_or(5)),
        )
        .col_expr(
            studies::Column::FocusGroupReminderHours,
            Expr::value(i32::try_from(study.reminder_hours).unwrap_or(24)),
        )
        .col_expr(studies::Column::Timezone, Expr::value(study.timezone.name()))
        .col_expr(studies::Column::ConfirmEmailFirst, Expr::value(study.confirm_email_first))
        .col_expr(studies::Column::ComplaintsEmail, Expr::value(study.complaints_email.clone()))
        .col_expr(studies::Column::ComplaintsPhone, Expr::value(study.complaints_phone.clone()))
        .col_expr(
            studies::Column::DeclinedDataSharing,
            Expr::value(study.declined_data_sharing.as_str()),
        )
        .col_expr(studies::Column::UpdatedAt, Expr::value(study.updated_at))
        .filter(studies::Column::Id.eq(study.id))
        .exec(db)
        .await?;
    Ok(())
}

/// Per study: people who signed a consent, and people who withdrew.
pub async fn consent_counts(
    db: &impl Conn,
) -> Result<std::collections::BTreeMap<i64, (i64, i64)>, AppError> {
    use sea_orm::QuerySelect;
    use sea_orm::sea_query::Func;
    let signed: Vec<(i64, i64)> = consents::Entity::find()
        .select_only()
        .column(consents::Column::StudyId)
        .column_as(
            Expr::from(Func::count_distinct(Expr::col(consents::Column::ParticipantId))),
            "n",
        )
        .group_by(consents::Column::StudyId)
        .into_tuple()
        .all(db)
        .await?;
    let withdrawn: Vec<(i64, i64)> = participants::Entity::find()
        .select_only()
        .column(participants::Column::StudyId)
        .column_as(Expr::from(Func::count(Expr::col(participants::Column::Id))), "n")
        .filter(participants::Column::WithdrawnAt.is_not_null())
        .group_by(participants::Column::StudyId)
        .into_tuple()
        .all(db)
        .await?;
    let mut counts: std::collections::BTreeMap<i64, (i64, i64)> =
        signed.into_iter().map(|(study, n)| (study, (n, 0))).collect();
    for (study, n) in withdrawn {
        counts.entry(study).or_default().1 = n;
    }
    Ok(counts)
}

/// Every study's approval history, by study id.
pub async fn all_approvals(
    db: &impl Conn,
) -> Result<std::collections::BTreeMap<i64, Vec<Approval>>, AppError> {
    let mut all: std::collections::BTreeMap<i64, Vec<Approval>> = Default::default();
    for m in
        study_approvals::Entity::find().order_by_asc(study_approvals::Column::Id).all(db).await?
    {
        all.entry(m.study_id).or_default().push(approval(m)?);
    }
    Ok(all)
}
