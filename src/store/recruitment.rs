//! Ads, strata and screenings, and the counts of the recruitment funnel.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entity::{ads, participants, screenings, strata, studies};
use super::{Conn, decode};
use crate::domain::recruitment::{Ad, AdDraft, Channel, Funnel, Stratum, StratumDraft};
use crate::error::AppError;

fn ad(m: ads::Model) -> Result<Ad, AppError> {
    Ok(Ad {
        id: m.id,
        study_id: m.study_id,
        code: m.code,
        channel: decode::<Channel>("ad channel", &m.channel)?,
        title: m.title,
        body_markdown: m.body_markdown,
        opens_at: m.opens_at,
        closes_at: m.closes_at,
        closed_at: m.closed_at,
        views: m.views,
    })
}

pub async fn insert_ad(
    db: &impl Conn,
    study_id: i64,
    draft: &AdDraft,
    created_by: i64,
    now: DateTime<Utc>,
) -> Result<Ad, AppError> {
    let m = ads::ActiveModel {
        study_id: Set(study_id),
        code: Set(draft.code.clone()),
        channel: Set(draft.channel.as_str().to_string()),
        title: Set(draft.title.clone()),
        body_markdown: Set(draft.body_markdown.clone()),
        opens_at: Set(draft.opens_at),
        closes_at: Set(draft.closes_at),
        closed_at: Set(None),
        views: Set(0),
        created_by: Set(created_by),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(super::taken(|| {
        AppError::Conflict(format!("The ad code {} is taken; choose another.", draft.code))
    }))?;
    ad(m)
}

/// Changes an ad's text, channel and window (its code stays: it is the short link).
pub async fn update_ad(db: &impl Conn, id: i64, draft: &AdDraft) -> Result<(), AppError> {
    ads::ActiveModel {
        id: Set(id),
        channel: Set(draft.channel.as_str().to_string()),
        title: Set(draft.title.clone()),
        body_markdown: Set(draft.body_markdown.clone()),
        opens_at: Set(draft.opens_at),
        closes_at: Set(draft.closes_at),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

pub async fn close_ad(db: &impl Conn, id: i64, now: DateTime<Utc>) -> Result<(), AppError> {
    ads::Entity::update_many()
        .col_expr(ads::Column::ClosedAt, Expr::value(now))
        .filter(ads::Column::Id.eq(id))
        .filter(ads::Column::ClosedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Takes a closed ad back: it answers again within its window.
pub async fn reopen_ad(db: &impl Conn, id: i64) -> Result<(), AppError> {
    ads::Entity::update_many()
        .col_expr(ads::Column::ClosedAt, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(ads::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn ad_by_code(db: &impl Conn, code: &str) -> Result<Option<Ad>, AppError> {
    ads::Entity::find().filter(ads::Column::Code.eq(code)).one(db).await?.map(ad).transpose()
}

/// The ad with code `code` and its study, read in one statement.
pub async fn ad_with_study(
    db: &impl Conn,
    code: &str,
) -> Result<Option<(Ad, crate::domain::study::Study)>, AppError> {
    let its_study =
        ads::Entity::belongs_to(studies::Entity).from(ads::Column::StudyId).to(studies::Column::Id);
    let found = ads::Entity::find()
        .filter(ads::Column::Code.eq(code))
        .join(JoinType::InnerJoin, its_study.into())
        .select_also(studies::Entity)
        .one(db)
        .await?;
    match found {
        Some((a, Some(study))) => Ok(Some((ad(a)?, super::study::to_domain(study)?))),
        Some((_, None)) => Err(AppError::Internal("ad without a study".into())),
        None => Ok(None),
    }
}

pub async fn ads_of(db: &impl Conn, study_id: i64) -> Result<Vec<Ad>, AppError> {
    ads::Entity::find()
        .filter(ads::Column::StudyId.eq(study_id))
        .order_by_asc(ads::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(ad)
        .collect()
}

/// Adds `n` visits to an ad's page count (one statement, no transaction of its own).
pub async fn add_views(db: &impl Conn, ad_id: i64, n: i64) -> Result<(), AppError> {
    ads::Entity::update_many()
        .col_expr(ads::Column::Views, Expr::col(ads::Column::Views).add(n))
        .filter(ads::Column::Id.eq(ad_id))
        .exec(db)
        .await?;
    Ok(())
}

fn stratum(m: strata::Model) -> Stratum {
    Stratum {
        id: m.id,
        study_id: m.study_id,
        question_key: m.question_key,
        value: m.value,
        target: m.target,
        cap: m.cap,
    }
}

pub async fn insert_stratum(
    db: &impl Conn,
    study_id: i64,
    draft: &StratumDraft,
    now: DateTime<Utc>,
) -> Result<Stratum, AppError> {
    let m = strata::ActiveModel {
        study_id: Set(study_id),
        question_key: Set(draft.question_key.clone()),
        value: Set(draft.value.clone()),
        target: Set(draft.target),
        cap: Set(draft.cap),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(super::taken(|| {
        AppError::Conflict(format!(
            "A stratum {} = {} exists already in this study.",
            draft.question_key, draft.value
        ))
    }))?;
    Ok(stratum(m))
}

pub async fn strata_of(db: &impl Conn, study_id: i64) -> Result<Vec<Stratum>, AppError> {
    Ok(strata::Entity::find()
        .filter(strata::Column::StudyId.eq(study_id))
        .order_by_asc(strata::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(stratum)
        .collect())
}

/// Locks a stratum's row for the rest of the transaction (PostgreSQL `FOR UPDATE`;
/// on SQLite the write transaction already excludes other writers), so that two
/// enrolments cannot both take its last place.
pub async fn lock_stratum(db: &impl Conn, id: i64) -> Result<(), AppError> {
    strata::Entity::find_by_id(id).lock_exclusive().one(db).await?.ok_or(AppError::NotFound)?;
    Ok(())
}

/// Participants holding a place in a stratum: enrolled and not withdrawn.
pub async fn places_taken(db: &impl Conn, stratum_id: i64) -> Result<u64, AppError> {
    Ok(participants::Entity::find()
        .filter(participants::Column::StratumId.eq(stratum_id))
        .filter(participants::Column::WithdrawnAt.is_null())
        .count(db)
        .await?)
}

/// One screening, eligible or not; `outcome` is `enrolled`, `ineligible`,
/// `capped` or `returning` (a known address asking again).
pub struct NewScreening {
    pub study_id: i64,
    pub ad_id: i64,
    pub stratum_id: Option<i64>,
    pub eligible: bool,
    pub outcome: &'static str,
    pub participant_id: Option<i64>,
}

pub async fn insert_screening(
    db: &impl Conn,
    s: NewScreening,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let m = screenings::ActiveModel {
        study_id: Set(s.study_id),
        ad_id: Set(s.ad_id),
        stratum_id: Set(s.stratum_id),
        eligible: Set(s.eligible),
        outcome: Set(s.outcome.to_string()),
        participant_id: Set(s.participant_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(m.id)
}

/// Funnel counts grouped by ad (`by = Ad`) or by stratum, for one study. Returning
/// addresses are not screened twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Ad,
    Stratum,
}

pub async fn funnel(
    db: &impl Conn,
    study_id: i64,
    by: By,
) -> Result<BTreeMap<i64, Funnel>, AppError> {
    let (screen_col, participant_col) = match by {
        By::Ad => (screenings::Column::AdId, participants::Column::AdId),
        By::Stratum => (screenings::Column::StratumId, participants::Column::StratumId),
    };
    let screened: Vec<(Option<i64>, bool, i64)> = screenings::Entity::find()
        .select_only()
        .column(screen_col)
        .column(screenings::Column::Eligible)
        .column_as(screenings::Column::Id.count(), "n")
        .filter(screenings::Column::StudyId.eq(study_id))
        .filter(screenings::Column::Outcome.ne("returning"))
        .group_by(screen_col)
        .group_by(screenings::Column::Eligible)
        .into_tuple()
        .all(db)
        .await?;
    let consented: Vec<(Option<i64>, i64)> = participants::Entity::find()
        .select_only()
        .column(participant_col)
        .column_as(participants::Column::Id.count(), "n")
        .filter(participants::Column::StudyId.eq(study_id))
        .filter(participants::Column::Code.is_not_null())
        .group_by(participant_col)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: BTreeMap<i64, Funnel> = BTreeMap::new();
    for (key, eligible, n) in screened {
        let Some(key) = key else { continue };
        let f = out.entry(key).or_default();
        f.screened += n;
        if eligible {
            f.eligible += n;
        }
    }
    for (key, n) in consented {
        if let Some(key) = key {
            out.entry(key).or_default().consented += n;
        }
    }
    Ok(out)
}
