//! Knowledge review before signing: the participant answers the questions of the
//! version in force; every answer is kept, a wrong one shows its explanation, and
//! signing waits until each question was answered correctly. A question answered
//! wrongly `max_tries` times asks the participant to talk to the researchers.

use std::collections::BTreeMap;

use super::*;
use crate::domain::consent::review::{Attempt, Progress, Review, VersionRates};

/// What a participant sends: the version they read and an answer per open question.
#[derive(Debug, Clone, Default)]
pub struct Answers {
    pub version: String,
    pub form_hash: String,
    pub answers: BTreeMap<String, String>,
}

/// The version in force and where the participant stands on its questions.
#[derive(Debug, Clone)]
pub struct ReviewState {
    /// The text shown, in the language asked for.
    pub form: ConsentForm,
    pub progress: Progress,
    /// The languages of the texts in force, in the order drafted.
    pub languages: Vec<String>,
}

/// Where a participant stands on the questions of `form`'s version: answers given
/// on any language's text of it count (`texts`: the texts of the version), since
/// every text asks the same questions.
pub(super) async fn progress_on(
    db: &impl Conn,
    participant_id: i64,
    form: &ConsentForm,
    texts: &[ConsentForm],
) -> AppResult<Progress> {
    if form.review.is_empty() {
        return Ok(form.review.progress(&[], 0));
    }
    let (attempts, fresh_from) = attempts_of(db, participant_id, form, texts).await?;
    Ok(form.review.progress(&attempts, fresh_from))
}

/// A participant's answers on `form`'s version (every language's text), oldest
/// first, and from which of them tries count towards the limit.
async fn attempts_of(
    db: &impl Conn,
    participant_id: i64,
    form: &ConsentForm,
    texts: &[ConsentForm],
) -> AppResult<(Vec<Attempt>, usize)> {
    let ids: Vec<i64> = texts
        .iter()
        .filter(|t| t.version == form.version)
        .map(|t| t.id)
        .chain(std::iter::once(form.id))
        .collect();
    let rows = store::consent::review::of_participant(db, participant_id, &ids).await?;
    let cut = store::consent::review::reopened_after(db, participant_id, &form.version).await?;
    let fresh_from = cut.map_or(0, |last| rows.iter().take_while(|(id, _)| *id <= last).count());
    Ok((rows.into_iter().map(|(_, a)| a).collect(), fresh_from))
}

/// The participants of a study who ran out of tries on the version in force, for
/// the coordinator's list (three queries, whatever the number of people).
pub(crate) async fn out_of_tries_in(
    db: &impl Conn,
    study_id: i64,
) -> AppResult<std::collections::HashSet<i64>> {
    let mut locked = std::collections::HashSet::new();
    let texts = store::consent::form::active_texts(db, study_id).await?;
    let Some(form) = texts.first().filter(|f| !f.review.is_empty()) else {
        return Ok(locked);
    };
    let ids: Vec<i64> = texts.iter().map(|t| t.id).collect();
    let mut by_person: std::collections::BTreeMap<i64, Vec<(i64, Attempt)>> =
        std::collections::BTreeMap::new();
    for (participant, id, attempt) in store::consent::review::of_texts(db, &ids).await? {
        by_person.entry(participant).or_default().push((id, attempt));
    }
    let people: Vec<i64> = by_person.keys().copied().collect();
    let cuts = store::consent::review::reopenings(db, &form.version, &people).await?;
    for (participant, rows) in by_person {
        let fresh_from = cuts
            .get(&participant)
            .map_or(0, |last| rows.iter().take_while(|(id, _)| id <= last).count());
        let attempts: Vec<Attempt> = rows.into_iter().map(|(_, a)| a).collect();
        if form.review.progress(&attempts, fresh_from).locked() {
            locked.insert(participant);
        }
    }
    Ok(locked)
}

/// Allows a participant who used every try on a question new tries, once the
/// researchers have talked with them: the answers so far stay (and still count in
/// the record's tries) but no longer count towards the limit. Coordinators only;
/// audited as `consent.review_reopened`.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn reopen_review(
    state: &AppState,
    user: &User,
    slug: &str,
    participant_id: i64,
) -> AppResult<()> {
    let tx = state.db.begin_write().await?;
    let study = crate::service::access::coordinated(tx.conn(), user, slug).await?;
    let participant = store::participant::find(tx.conn(), participant_id)
        .await?
        .filter(|p| p.study_id == study.id)
        .ok_or(AppError::NotFound)?;
    let texts = store::consent::form::active_texts(tx.conn(), study.id).await?;
    let form = texts
        .first()
        .cloned()
        .ok_or_else(|| AppError::Conflict("The study has no consent form in force.".into()))?;
    if !progress_on(tx.conn(), participant.id, &form, &texts).await?.locked() {
        return Err(AppError::Conflict(
            "They have tries left on every question: there is nothing to reopen.".into(),
        ));
    }
    let ids: Vec<i64> = texts.iter().filter(|t| t.version == form.version).map(|t| t.id).collect();
    let last = store::consent::review::of_participant(tx.conn(), participant.id, &ids)
        .await?
        .last()
        .map_or(0, |(id, _)| *id);
    store::consent::review::reopen(
        tx.conn(),
        participant.id,
        &form.version,
        last,
        user.id,
        Utc::now(),
    )
    .await?;
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "consent.review_reopened", "participant", participant.id)
            .in_study(&study.slug)
            .with(json!({"version": form.version})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Refuses signing until every question of the version was answered correctly.
pub(super) fn require_passed(study: &Study, progress: &Progress) -> AppResult<()> {
    if progress.locked() {
        return Err(AppError::Conflict(talk_to_the_researchers(study)));
    }
    if !progress.passed() {
        return Err(AppError::field(
            "checks",
            "review_not_passed",
            "Answer the questions about the explanatory statement before you sign.",
        ));
    }
    Ok(())
}

/// What a participant who ran out of tries is told.
pub fn talk_to_the_researchers(study: &Study) -> String {
    format!(
        "Please talk to the researchers before you sign, so they can explain the part of the \
         statement the questions are about: {} ({}).",
        study.contact_name, study.contact_email
    )
}

/// The version in force in the language asked for, and where the participant
/// stands on its questions.
#[tracing::instrument(skip_all)]
pub async fn review_state(
    state: &AppState,
    participant: &Participant,
    want: &LanguageChoice,
) -> AppResult<ReviewState> {
    let db = state.db.conn();
    let texts = store::consent::form::active_texts(db, participant.study_id).await?;
    let form = super::signing::pick_text(&texts, want)?;
    let progress = progress_on(db, participant.id, &form, &texts).await?;
    let languages = texts.iter().map(|t| t.language.clone()).collect();
    Ok(ReviewState { form, progress, languages })
}

/// Keeps a participant's answers to the open questions and says where they stand.
/// A submission with a missing or unknown answer is refused whole and counts nothing.
#[tracing::instrument(skip_all)]
pub async fn answer(
    state: &AppState,
    participant: &Participant,
    sent: Answers,
) -> AppResult<ReviewState> {
    let tx = state.db.begin_write().await?;
    let (participant, study) = reload(tx.conn(), participant).await?;
    check_can_consent(&study)?;
    if participant.withdrawal.is_some() {
        return Err(AppError::Conflict("You have withdrawn from this study.".into()));
    }
    let texts = store::consent::form::active_texts(tx.conn(), study.id).await?;
    if texts.is_empty() {
        return Err(AppError::Conflict("The study has no consent form in force.".into()));
    }
    let form = texts
        .iter()
        .find(|t| t.version == sent.version.trim() && t.form_hash == sent.form_hash.trim())
        .cloned()
        .ok_or_else(|| {
            AppError::Conflict(
                "The consent form differs from the one in force; reload it and read it again."
                    .into(),
            )
        })?;
    let Review { checks, .. } = &form.review;
    if checks.is_empty() {
        return Err(AppError::Conflict(
            "This consent form asks no questions: read it and sign.".into(),
        ));
    }
    let before = progress_on(tx.conn(), participant.id, &form, &texts).await?;
    if before.locked() {
        return Err(AppError::Conflict(talk_to_the_researchers(&study)));
    }
    let given = crate::domain::consent::review::grade(checks, &before, &sent.answers)
        .map_err(AppError::Validation)?;
    store::consent::review::insert(
        tx.conn(),
        participant.id,
        form.id,
        &given,
        storable(Utc::now()),
    )
    .await?;
    let progress = progress_on(tx.conn(), participant.id, &form, &texts).await?;
    tx.commit().await?;
    let languages = texts.iter().map(|t| t.language.clone()).collect();
    Ok(ReviewState { form, progress, languages })
}

/// The first-try rates of every version of a study that asks questions, for its
/// coordinators and ethics officers: which part of the statement is misread.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn understanding(
    state: &AppState,
    user: &User,
    slug: &str,
) -> AppResult<Vec<VersionRates>> {
    let db = state.db.conn();
    let (study, capacity) = crate::service::access::study(db, user, slug).await?;
    super::register::require_register_reader(capacity)?;
    first_try_rates(db, study.id).await
}

/// The first-try rates of every version of `study` that asks questions: each
/// participant's first answer to each question, whichever language's text they read,
/// under the words of the version's first text.
pub(crate) async fn first_try_rates(db: &impl Conn, study_id: i64) -> AppResult<Vec<VersionRates>> {
    let forms = store::consent::form::list(db, study_id).await?;
    let mut out: Vec<VersionRates> = Vec::new();
    for form in forms.iter().filter(|f| !f.review.is_empty()) {
        if out.iter().any(|v| v.version == form.version) {
            continue;
        }
        let ids: Vec<i64> =
            forms.iter().filter(|f| f.version == form.version).map(|f| f.id).collect();
        let first = store::consent::review::first_answers(db, &ids).await?;
        out.push(VersionRates {
            version: form.version.clone(),
            rates: crate::domain::consent::review::first_try_rates(&form.review.checks, &first),
        });
    }
    Ok(out)
}
