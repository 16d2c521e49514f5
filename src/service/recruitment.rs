//! Purposive recruitment: coordinators write ads and set quotas by stratum; anyone
//! answering an ad is screened against the study's screening questionnaire and, if
//! eligible and their stratum has room, becomes a participant with a private link.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use serde_json::{Map, Value, json};

use super::AppState;
use crate::audit;
use crate::domain::FieldErrors;
use crate::domain::audit::{NewEvent, sha256_hex};
use crate::domain::fields::required_text;
use crate::domain::participant::Participant;
use crate::domain::questionnaire::answers::{self, Answers, Mode};
use crate::domain::questionnaire::{FormDefinition, Instrument, ResponseStatus, Stage};
use crate::domain::recruitment::{self, Ad, AdDraft, Funnel, Stratum, StratumDraft};
use crate::domain::study::{Study, StudyStatus};
use crate::domain::user::{Email, User};
use crate::error::{AppError, AppResult};
use crate::service::access;
use crate::store::recruitment::{By, NewScreening};
use crate::store::{self, Conn, Db};

#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn create_ad(
    state: &AppState,
    user: &User,
    slug: &str,
    draft: Result<AdDraft, FieldErrors>,
) -> AppResult<Ad> {
    let tx = state.db.begin_write().await?;
    let study = access::coordinated(tx.conn(), user, slug).await?;
    let draft = draft?;
    access::open_for_changes(&study)?;
    let ad =
        store::recruitment::insert_ad(tx.conn(), study.id, &draft, user.id, Utc::now()).await?;
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "ad.created", "ad", ad.id).in_study(&study.slug).with(json!({
            "code": ad.code,
            "channel": ad.channel.as_str(),
            "opens_at": ad.opens_at.to_rfc3339(),
            "closes_at": ad.closes_at.to_rfc3339(),
            "text_sha256": sha256_hex(format!("{}\n{}", ad.title, ad.body_markdown).as_bytes()),
        })),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(study = %study.slug, ad = %ad.code, "ad created");
    Ok(ad)
}

async fn own_ad(db: &impl Conn, study: &Study, code: &str) -> AppResult<Ad> {
    store::recruitment::ad_by_code(db, code)
        .await?
        .filter(|a| a.study_id == study.id)
        .ok_or(AppError::NotFound)
}

/// Edits an ad's channel, text and window; its code is its short link and stays.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn update_ad(
    state: &AppState,
    user: &User,
    slug: &str,
    code: &str,
    draft: Result<AdDraft, FieldErrors>,
) -> AppResult<Ad> {
    let tx = state.db.begin_write().await?;
    let study = access::coordinated(tx.conn(), user, slug).await?;
    let ad = own_ad(tx.conn(), &study, code).await?;
    let draft = draft?;
    if draft.code != ad.code {
        return Err(FieldErrors::single(
            "code",
            "immutable",
            "An ad's code cannot change: it is its link.",
        )
        .into());
    }
    store::recruitment::update_ad(tx.conn(), ad.id, &draft).await?;
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "ad.updated", "ad", ad.id).in_study(&study.slug).with(json!({
            "code": ad.code,
            "channel": draft.channel.as_str(),
            "opens_at": draft.opens_at.to_rfc3339(),
            "closes_at": draft.closes_at.to_rfc3339(),
            "text_sha256": sha256_hex(format!("{}\n{}", draft.title, draft.body_markdown).as_bytes()),
        })),
    )
    .await?;
    tx.commit().await?;
    own_ad(state.db.conn(), &study, code).await
}

#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn close_ad(state: &AppState, user: &User, slug: &str, code: &str) -> AppResult<Ad> {
    let tx = state.db.begin_write().await?;
    let study = access::coordinated(tx.conn(), user, slug).await?;
    let ad = own_ad(tx.conn(), &study, code).await?;
    if ad.closed_at.is_none() {
        store::recruitment::close_ad(tx.conn(), ad.id, Utc::now()).await?;
        audit::record(
            tx.conn(),
            NewEvent::new(user.actor(), "ad.closed", "ad", ad.id)
                .in_study(&study.slug)
                .with(json!({"code": ad.code})),
        )
        .await?;
    }
    tx.commit().await?;
    own_ad(state.db.conn(), &study, code).await
}

/// Opens a closed ad again: its link takes respondents within its window (a study
/// open for changes only).
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn reopen_ad(state: &AppState, user: &User, slug: &str, code: &str) -> AppResult<Ad> {
    let tx = state.db.begin_write().await?;
    let study = access::coordinated(tx.conn(), user, slug).await?;
    let ad = own_ad(tx.conn(), &study, code).await?;
    access::open_for_changes(&study)?;
    if ad.closed_at.is_some() {
        store::recruitment::reopen_ad(tx.conn(), ad.id).await?;
        audit::record(
            tx.conn(),
            NewEvent::new(user.actor(), "ad.reopened", "ad", ad.id)
                .in_study(&study.slug)
                .with(json!({"code": ad.code})),
        )
        .await?;
    }
    tx.commit().await?;
    own_ad(state.db.conn(), &study, code).await
}

/// A study's ads with their funnel (views, screened, eligible, consented).
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn ads(state: &AppState, user: &User, slug: &str) -> AppResult<Vec<(Ad, Funnel)>> {
    let (study, _) = access::study(state.db.conn(), user, slug).await?;
    let ads = store::recruitment::ads_of(state.db.conn(), study.id).await?;
    let funnel = store::recruitment::funnel(state.db.conn(), study.id, By::Ad).await?;
    Ok(ads
        .into_iter()
        .map(|mut a| {
            a.views += state.ad_views.pending(a.id);
            let f = funnel.get(&a.id).copied().unwrap_or_default();
            (a, f)
        })
        .collect())
}

/// The study's screening questionnaire, if it has one.
#[tracing::instrument(skip_all)]
pub async fn screening(
    state: &AppState,
    db: &impl Conn,
    study_id: i64,
) -> AppResult<Option<(Instrument, Arc<FormDefinition>)>> {
    let instrument = store::questionnaire::instruments(db, study_id)
        .await?
        .into_iter()
        .find(|i| i.stage == Stage::Screening);
    match instrument {
        None => Ok(None),
        Some(i) => {
            let d = super::questionnaire::definition_of(state, db, &i).await?;
            Ok(Some((i, d)))
        }
    }
}

#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn add_stratum(
    state: &AppState,
    user: &User,
    slug: &str,
    question: &str,
    value: &str,
    target: i64,
    cap: Option<i64>,
) -> AppResult<Stratum> {
    let tx = state.db.begin_write().await?;
    let study = access::coordinated(tx.conn(), user, slug).await?;
    let screening = screening(state, tx.conn(), study.id).await?;
    let draft = StratumDraft::parse(
        question,
        value,
        target,
        cap,
        screening.as_ref().map(|(_, d)| d.as_ref()),
    )?;
    let stratum =
        store::recruitment::insert_stratum(tx.conn(), study.id, &draft, Utc::now()).await?;
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "stratum.created", "stratum", stratum.id)
            .in_study(&study.slug)
            .with(json!({
                "question": stratum.question_key,
                "value": stratum.value,
                "target": stratum.target,
                "cap": stratum.cap,
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(stratum)
}

/// A study's strata with screened, eligible and consented counts.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn strata(
    state: &AppState,
    user: &User,
    slug: &str,
) -> AppResult<Vec<(Stratum, Funnel)>> {
    let (study, _) = access::study(state.db.conn(), user, slug).await?;
    let strata = store::recruitment::strata_of(state.db.conn(), study.id).await?;
    let funnel = store::recruitment::funnel(state.db.conn(), study.id, By::Stratum).await?;
    Ok(strata
        .into_iter()
        .map(|s| {
            let f = funnel.get(&s.id).copied().unwrap_or_default();
            (s, f)
        })
        .collect())
}

/// An ad as the public sees it.
#[derive(Debug, Clone)]
pub struct PublicAd {
    pub ad: Ad,
    pub study: Study,
    pub screening: Option<Arc<FormDefinition>>,
    /// Why the ad takes no respondents now, if it does not.
    pub closed_because: Option<String>,
}

fn refusal(ad: &Ad, study: &Study) -> Option<String> {
    let now = Utc::now();
    if let Some(why) = ad.not_open(now) {
        return Some(why);
    }
    if study.status != StudyStatus::Recruiting {
        return Some(format!(
            "The study is not recruiting at the moment (it is {}).",
            study.status
        ));
    }
    if study.approval_expired(now.date_naive()) {
        return Some("The study's ethics approval has expired, so it cannot recruit.".into());
    }
    None
}

/// The public ad by code, counting the view (in memory, see [`AdViews`]) when
/// `count_view`. Reads only.
#[tracing::instrument(skip_all)]
pub async fn public_ad(state: &AppState, code: &str, count_view: bool) -> AppResult<PublicAd> {
    let db = state.db.conn();
    let (ad, study) =
        store::recruitment::ad_with_study(db, code).await?.ok_or(AppError::NotFound)?;
    if count_view {
        state.ad_views.count(ad.id);
    }
    let screening = screening(state, db, study.id).await?.map(|(_, d)| d);
    let closed_because = refusal(&ad, &study);
    Ok(PublicAd { ad, study, screening, closed_because })
}

/// Visits of the public ad pages, counted in memory so that opening an ad writes
/// nothing, and added to each ad's stored count in one transaction by
/// [`flush_ad_views`] every few seconds and when the server stops. A crash loses at
/// most the visits since the last flush: a count, never anything a person entered.
/// The recruitment page adds this instance's pending visits to the stored count.
#[derive(Debug, Default)]
pub struct AdViews(std::sync::Mutex<HashMap<i64, i64>>);

impl AdViews {
    fn counts(&self) -> std::sync::MutexGuard<'_, HashMap<i64, i64>> {
        // The map holds plain counts: one left by a panicking holder is still valid.
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One more visit of the ad.
    pub fn count(&self, ad_id: i64) {
        *self.counts().entry(ad_id).or_default() += 1;
    }

    /// Visits of the ad not written yet.
    pub fn pending(&self, ad_id: i64) -> i64 {
        self.counts().get(&ad_id).copied().unwrap_or(0)
    }

    fn take(&self) -> HashMap<i64, i64> {
        std::mem::take(&mut *self.counts())
    }

    fn restore(&self, taken: HashMap<i64, i64>) {
        let mut counts = self.counts();
        for (ad, n) in taken {
            *counts.entry(ad).or_default() += n;
        }
    }
}

/// Writes the visits counted since the last flush, every ad in one transaction;
/// on failure they stay counted for the next. Returns how many ads were updated.
#[tracing::instrument(skip_all)]
pub async fn flush_ad_views(state: &AppState) -> AppResult<usize> {
    write_views(&state.db, &state.ad_views).await
}

async fn write_views(db: &Db, views: &AdViews) -> AppResult<usize> {
    let taken = views.take();
    if taken.is_empty() {
        return Ok(0);
    }
    let written = async {
        let tx = db.begin_write().await?;
        for (ad, n) in &taken {
            store::recruitment::add_views(tx.conn(), *ad, *n).await?;
        }
        tx.commit().await
    }
    .await;
    match written {
        Ok(()) => Ok(taken.len()),
        Err(e) => {
            views.restore(taken);
            Err(e)
        }
    }
}

/// Writes the ads' visits every `every` until the server stops (and
/// [`flush_ad_views`] once more at shutdown).
pub fn spawn_ad_view_writer(state: &AppState, every: std::time::Duration) {
    let (db, views) = (state.db.clone(), state.ad_views.clone());
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            if let Err(e) = write_views(&db, &views).await {
                tracing::warn!(error = %e, "ad visits not written yet; trying again");
            }
        }
    });
}

/// The ad as a printable poster (PDF) with its short link.
#[tracing::instrument(skip_all)]
pub async fn poster(state: &AppState, code: &str) -> AppResult<Vec<u8>> {
    let p = public_ad(state, code, false).await?;
    let link = state.config.public_link(&format!("/ads/{}", p.ad.code));
    let contact = format!("{} <{}>", p.study.contact_name, p.study.contact_email);
    crate::pdf::poster::render(&crate::pdf::poster::Poster {
        title: &p.ad.title,
        body_markdown: &p.ad.body_markdown,
        study_title: &p.study.title,
        summary: &p.study.summary,
        committee: &p.study.ethics.committee,
        reference: &p.study.ethics.reference,
        contact: &contact,
        link: &link,
    })
}

/// The outcome of answering an ad.
#[derive(Debug, Clone)]
pub enum Enrolment {
    /// A new participant, with their first private link (also mailed).
    Enrolled { participant: Participant, token: String, portal_url: String },
    /// Eligible, and a link is on its way to the address on record: the address was
    /// enrolled already (nothing is replaced), or the study confirms addresses first.
    /// The answer is the same either way.
    Sent,
    /// Not eligible; nothing about the person is kept.
    Ineligible,
}

/// What a respondent tells the ad, checked: their name and address, their
/// screening answers, and whether those make them eligible.
struct Respondent {
    name: String,
    email: Email,
    answers: Answers,
    eligible: bool,
}

/// Checks the enrolment form: every refused field is reported at once, the
/// screening answers by question key.
fn check_respondent(
    name: &str,
    email: &str,
    raw: &Map<String, Value>,
    screening: Option<&(Instrument, Arc<FormDefinition>)>,
) -> AppResult<Respondent> {
    let mut errors = FieldErrors::new();
    let name = errors.take("name", required_text(name, "Name", 200));
    let email = errors.take("email", Email::parse(email));
    let (answers, eligible) = match screening {
        Some((instrument, definition)) => match answers::validate(definition, raw, Mode::STRICT) {
            Ok(a) => {
                let rule =
                    instrument.eligible_if.as_deref().map(|e| definition.check_expression(e));
                let eligible = match rule {
                    None => true,
                    Some(Ok(expr)) => a.satisfy(&expr),
                    Some(Err(e)) => {
                        return Err(AppError::Internal(format!(
                            "stored eligible_if no longer checks: {e}"
                        )));
                    }
                };
                (a, eligible)
            }
            Err(e) => {
                errors.merge(e);
                (Answers::default(), false)
            }
        },
        None => {
            for key in raw.keys() {
                errors.add(key, "unknown", "This study asks no screening questions.");
            }
            (Answers::default(), true)
        }
    };
    errors.into_result()?;
    let (Some(name), Some(email)) = (name, email) else {
        return Err(AppError::Internal("enrol: checked fields missing".into()));
    };
    Ok(Respondent { name, email, answers, eligible })
}

/// One answer to one ad: where the screening rows and audit events of an
/// enrolment attempt go.
struct Visit<'a> {
    study: &'a Study,
    ad: &'a Ad,
    stratum: Option<&'a Stratum>,
    now: chrono::DateTime<Utc>,
}

impl Visit<'_> {
    /// Keeps the screening's outcome (never who it was, unless they are a
    /// participant); with `audited`, records it as an `enrolment.screened` event
    /// carrying those details.
    async fn screened(
        &self,
        db: &impl Conn,
        outcome: &'static str,
        eligible: bool,
        participant_id: Option<i64>,
        audited: Option<Value>,
    ) -> AppResult<()> {
        let row = NewScreening {
            study_id: self.study.id,
            ad_id: self.ad.id,
            stratum_id: self.stratum.map(|s| s.id),
            eligible,
            outcome,
            participant_id,
        };
        let id = store::recruitment::insert_screening(db, row, self.now).await?;
        if let Some(details) = audited {
            audit::record(
                db,
                NewEvent::new("public", "enrolment.screened", "screening", id)
                    .in_study(&self.study.slug)
                    .with(details),
            )
            .await?;
        }
        Ok(())
    }

    fn origin(&self) -> String {
        format!("ad:{}", self.ad.code)
    }
}

/// Whether the respondent's stratum has a cap and every place under it is taken
/// (the stratum is locked first, so two respondents cannot take the last place).
async fn stratum_full(db: &impl Conn, stratum: Option<&Stratum>) -> AppResult<bool> {
    let Some((s, cap)) = stratum.and_then(|s| s.cap.map(|cap| (s, cap))) else {
        return Ok(false);
    };
    store::recruitment::lock_stratum(db, s.id).await?;
    let taken = store::recruitment::places_taken(db, s.id).await?;
    Ok(taken >= u64::try_from(cap).unwrap_or(0))
}

/// What a respondent whose stratum is full is told.
const STRATUM_FULL: &str = "Thank you for your interest. The study has all the participants it needs from your group, so it cannot take you now.";

/// Makes an eligible respondent a participant: their record and first link, where
/// they came from, their screening answers, and the audit event.
async fn admit_respondent(
    state: &AppState,
    db: &impl Conn,
    visit: &Visit<'_>,
    who: &Respondent,
    screening: Option<&(Instrument, Arc<FormDefinition>)>,
) -> AppResult<(Participant, super::participant::NewLink)> {
    let (study, ad, now) = (visit.study, visit.ad, visit.now);
    let stratum_id = visit.stratum.map(|s| s.id);
    let origin = visit.origin();
    let source = store::participant::Source { label: &origin, ad_id: Some(ad.id), stratum_id };
    let (participant, link) =
        super::participant::admit(state, db, study, &who.name, &who.email, source, None, now)
            .await?;
    visit.screened(db, "enrolled", true, Some(participant.id), None).await?;
    if let Some((instrument, _)) = screening {
        let rows = who.answers.rows();
        store::questionnaire::save_response(
            db,
            store::questionnaire::Save {
                study_id: study.id,
                participant_id: participant.id,
                instrument_id: instrument.id,
                definition_id: instrument.definition_id,
                form_hash: &instrument.form_hash,
                status: ResponseStatus::Complete,
                rows: &rows,
                now,
            },
            None,
        )
        .await?;
    }
    let keys = state.keys()?;
    audit::record(
        db,
        NewEvent::new("public", "participant.enrolled", "participant", participant.id)
            .in_study(&study.slug)
            .with(json!({
                "ad": ad.code,
                "stratum": stratum_id,
                "screening_form_hash": screening.map(|(i, _)| i.form_hash.clone()),
                "email_hmac": keys.address_hash(who.email.as_str()),
                "confirm_email_first": study.confirm_email_first,
            })),
    )
    .await?;
    Ok((participant, link))
}

/// Screens a respondent and, when eligible and their stratum has room, enrols them.
/// 410 when the ad or study does not take respondents, 422 naming each field (the
/// screening answers by question key), 409 when the stratum is full.
#[tracing::instrument(skip_all)]
pub async fn enrol(
    state: &AppState,
    code: &str,
    name: &str,
    email: &str,
    raw: &Map<String, Value>,
) -> AppResult<Enrolment> {
    let tx = state.db.begin_write().await?;
    let db = tx.conn();
    let (ad, study) =
        store::recruitment::ad_with_study(db, code).await?.ok_or(AppError::NotFound)?;
    if let Some(why) = refusal(&ad, &study) {
        return Err(AppError::Gone(why));
    }
    let screening = screening(state, db, study.id).await?;
    let who = check_respondent(name, email, raw, screening.as_ref())?;
    let strata = store::recruitment::strata_of(db, study.id).await?;
    let stratum = recruitment::matching(&strata, &who.answers);
    let visit = Visit { study: &study, ad: &ad, stratum, now: Utc::now() };

    if !who.eligible {
        let details = json!({"ad": ad.code, "eligible": false});
        visit.screened(db, "ineligible", false, None, Some(details)).await?;
        tx.commit().await?;
        return Ok(Enrolment::Ineligible);
    }
    if let Some(existing) = store::participant::find_by_email(db, study.id, &who.email).await? {
        // The same address again: no second participant, no link replaced, no
        // token given to whoever typed the address; a new link goes to the address.
        visit.screened(db, "returning", true, Some(existing.id), None).await?;
        let origin = visit.origin();
        super::participant::mail_link(state, db, &existing, &study, "public", &origin, visit.now)
            .await?;
        tx.commit().await?;
        return Ok(Enrolment::Sent);
    }
    if stratum_full(db, stratum).await? {
        let details = json!({
            "ad": ad.code, "eligible": true, "capped": true, "stratum": stratum.map(|s| s.id),
        });
        visit.screened(db, "capped", true, None, Some(details)).await?;
        tx.commit().await?;
        return Err(AppError::Conflict(STRATUM_FULL.into()));
    }
    let (participant, link) = admit_respondent(state, db, &visit, &who, screening.as_ref()).await?;
    tx.commit().await?;
    tracing::info!(study = %study.slug, ad = %ad.code, "participant enrolled");
    if study.confirm_email_first {
        return Ok(Enrolment::Sent);
    }
    Ok(Enrolment::Enrolled { participant, token: link.token, portal_url: link.url })
}
