//! What participants chose on the optional items that govern something, and the
//! effects that act on a whole study at once: the results summary, mailed only to
//! those who asked for it. (The export's columns are the report's; the audio
//! warnings are the focus groups'.) Every effect follows each participant's latest
//! consent record.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::audit;
use crate::domain::audit::{NewEvent, sha256_hex};
use crate::domain::consent::{self, ConsentRecord, FormState, Governs};
use crate::domain::fields::required_text;
use crate::domain::study::StudyStatus;
use crate::domain::user::User;
use crate::error::{AppError, AppResult};
use crate::mail::compose;
use crate::service::{AppState, access};
use crate::store::{self, Conn};

/// The audit action of the results summary's sending.
pub const RESULTS_SENT: &str = "study.results_summary_sent";

/// The longest results summary, in characters.
pub const MAX_SUMMARY_CHARS: usize = 20_000;

/// What the items of the study's approved consent-form versions govern.
pub async fn governed(db: &impl Conn, study_id: i64) -> AppResult<BTreeSet<Governs>> {
    let forms = store::consent::form::list(db, study_id).await?;
    Ok(forms
        .iter()
        .filter(|f| f.state != FormState::Draft)
        .flat_map(|f| f.items.iter().filter_map(|i| i.governs))
        .collect())
}

/// Each participant's latest consent record, by participant id.
pub async fn latest_records(
    db: &impl Conn,
    study_id: i64,
) -> AppResult<BTreeMap<i64, ConsentRecord>> {
    let mut out = BTreeMap::new();
    for c in store::consent::record::of_study(db, study_id).await? {
        if let Some(r) = c.record {
            out.insert(c.participant_id, r);
        }
    }
    Ok(out)
}

/// Mails the results summary, once the study is closed, to each participant whose
/// latest consent agreed to the item that governs it — never to anyone who
/// withdrew, nor to anyone whose form did not ask. Sent once; audited with the
/// number of recipients and the summary's hash. Returns how many were queued.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn send_results_summary(
    state: &AppState,
    user: &User,
    slug: &str,
    summary: &str,
) -> AppResult<usize> {
    let summary = required_text(summary, "The summary", MAX_SUMMARY_CHARS)
        .map_err(|e| AppError::field("summary", e.code, e.message))?;
    let tx = state.db.begin_write().await?;
    let study = access::coordinated(tx.conn(), user, slug).await?;
    if study.status != StudyStatus::Closed {
        return Err(AppError::Conflict(
            "The results summary is sent once the study is closed.".into(),
        ));
    }
    if !governed(tx.conn(), study.id).await?.contains(&Governs::ResultsSummary) {
        return Err(AppError::Conflict(
            "No version of the consent form asks whether participants want the results \
             summary (an optional item that governs results_summary), so no one asked for it."
                .into(),
        ));
    }
    // The study's audit chain is locked before "sent already?" is asked, so two
    // sends at once (on PostgreSQL, in two transactions) take turns: the second sees
    // the first's event and is refused.
    store::audit::lock_head(tx.conn(), &crate::domain::audit::chain_for(Some(&study.slug))).await?;
    let earlier = store::audit::by_action(tx.conn(), RESULTS_SENT).await?;
    if earlier.iter().any(|e| e.study.as_deref() == Some(study.slug.as_str())) {
        return Err(AppError::Conflict("The results summary has been sent already.".into()));
    }
    let records = latest_records(tx.conn(), study.id).await?;
    let mut queued = 0;
    for (participant, _) in store::participant::active_in_study(tx.conn(), study.id).await? {
        let asked = records
            .get(&participant.id)
            .and_then(|r| consent::choice(&r.items, Governs::ResultsSummary));
        if asked != Some(true) {
            continue;
        }
        let Some((name, email)) = store::participant::contact(tx.conn(), participant.id).await?
        else {
            continue;
        };
        let first = crate::domain::focus_group::first_name(&name);
        let message = compose::results_summary(&study, &email, &first, &summary);
        crate::mail::enqueue(tx.conn(), state.keys()?, &message).await?;
        queued += 1;
    }
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), RESULTS_SENT, "study", study.id)
            .in_study(&study.slug)
            .with(json!({"recipients": queued, "summary_sha256": sha256_hex(summary.as_bytes())})),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(study = %study.slug, queued, "results summary queued");
    Ok(queued)
}

/// Where a study's results summary stands, for the coordinator's page.
#[derive(Debug, Clone)]
pub struct SummaryStatus {
    /// A version of the consent form has an item governing the summary.
    pub asked_on_form: bool,
    /// Participants who have not withdrawn and whose latest consent asked for it.
    pub asked: usize,
    /// When it was sent, and to how many, if it has been.
    pub sent: Option<(chrono::DateTime<chrono::Utc>, u64)>,
}

/// Where the study's results summary stands; for its coordinators.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn summary_status(
    state: &AppState,
    user: &User,
    slug: &str,
) -> AppResult<(crate::domain::study::Study, SummaryStatus)> {
    let db = state.db.conn();
    let study = access::coordinated(db, user, slug).await?;
    let asked_on_form = governed(db, study.id).await?.contains(&Governs::ResultsSummary);
    let records = latest_records(db, study.id).await?;
    let asked = store::participant::active_in_study(db, study.id)
        .await?
        .iter()
        .filter(|(p, _)| {
            records.get(&p.id).and_then(|r| consent::choice(&r.items, Governs::ResultsSummary))
                == Some(true)
        })
        .count();
    let sent = store::audit::by_action(db, RESULTS_SENT)
        .await?
        .into_iter()
        .find(|e| e.study.as_deref() == Some(study.slug.as_str()))
        .map(|e| (e.at, e.details["recipients"].as_u64().unwrap_or_default()));
    Ok((study, SummaryStatus { asked_on_form, asked, sent }))
}
