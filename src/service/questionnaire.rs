//! Questionnaires in a study: coordinators attach loaded definitions; consented
//! participants answer them, and may revise their answers until the study closes.
//! Every save is one transaction with its audit event; answers are stored
//! normalised and stamped with the definition's key, version and file hash.

use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use serde_json::{Map, Value, json};

use super::AppState;
use crate::audit;
use crate::domain::FieldErrors;
use crate::domain::audit::{NewEvent, canonical_json, sha256_hex};
use crate::domain::participant::{NextStep, Participant};
use crate::domain::questionnaire::answers::{self, Answers, Mode};
use crate::domain::questionnaire::{FormDefinition, Instrument, Response, ResponseStatus, Stage};
use crate::domain::study::{Study, StudyStatus};
use crate::domain::user::User;
use crate::error::{AppError, AppResult};
use crate::forms::questionnaire::parse_str;
use crate::service::access;
use crate::store::questionnaire::StoredDefinition;
use crate::store::{self, Conn};

/// What a coordinator asks to attach.
#[derive(Debug, Clone)]
pub struct Attach {
    pub key: String,
    pub version: i64,
    pub stage: String,
    pub eligible_if: Option<String>,
}

/// Attaches a loaded questionnaire to a study. Unknown keys and versions, a bad
/// stage and an `eligible_if` that does not fit the form are 422 naming the field.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn attach(
    state: &AppState,
    user: &User,
    slug: &str,
    req: Attach,
) -> AppResult<(Instrument, Arc<FormDefinition>)> {
    let tx = state.db.begin_write().await?;
    let study = access::coordinated(tx.conn(), user, slug).await?;
    access::open_for_changes(&study)?;
    let mut errors = FieldErrors::new();
    let stage = errors.take("stage", req.stage.parse::<Stage>());
    let version = u32::try_from(req.version).ok().filter(|v| *v > 0);
    let loaded = match version {
        None => {
            errors.add("version", "invalid", "Version must be a positive whole number.");
            None
        }
        Some(v) => match state.forms.get(&req.key, v) {
            Some(f) => Some(f.clone()),
            None if state.forms.has_key(&req.key) => {
                errors.add(
                    "version",
                    "unknown",
                    format!("Version {v} of {} is not loaded.", req.key),
                );
                None
            }
            None => {
                errors.add(
                    "key",
                    "unknown",
                    format!("No questionnaire {:?} is loaded from the forms folder.", req.key),
                );
                None
            }
        },
    };
    let eligible_if = req.eligible_if.as_deref().map(str::trim).filter(|e| !e.is_empty());
    if let (Some(stage), Some(expression)) = (stage, eligible_if) {
        if stage != Stage::Screening {
            errors.add(
                "eligible_if",
                "not_screening",
                "Only a screening questionnaire decides eligibility.",
            );
        } else if let Some(f) = &loaded
            && let Err(e) = f.definition.check_expression(expression)
        {
            errors.add("eligible_if", "invalid", e.to_string());
        }
    }
    errors.into_result()?;
    let (Some(stage), Some(loaded)) = (stage, loaded) else {
        return Err(AppError::Internal("attach: checked fields missing".into()));
    };
    let existing = store::questionnaire::instruments(tx.conn(), study.id).await?;
    if stage == Stage::Screening && existing.iter().any(|i| i.stage == Stage::Screening) {
        return Err(AppError::Conflict(
            "This study has a screening questionnaire already; a study screens with one.".into(),
        ));
    }
    let now = Utc::now();
    let def = ensure_definition(tx.conn(), &loaded.definition, &loaded.source, now).await?;
    let instrument = store::questionnaire::insert_instrument(
        tx.conn(),
        study.id,
        &def,
        stage,
        eligible_if,
        user.id,
        now,
    )
    .await?;
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "instrument.attached", "instrument", instrument.id)
            .in_study(&study.slug)
            .with(json!({
                "key": instrument.key,
                "version": instrument.version,
                "form_hash": instrument.form_hash,
                "stage": stage.as_str(),
                "eligible_if": eligible_if,
            })),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(study = %study.slug, key = %instrument.key, "instrument attached");
    Ok((instrument, loaded.definition.clone()))
}

/// Checks an eligibility rule against a loaded questionnaire without attaching
/// anything (the attach form's check as the coordinator types): the parser's own
/// message and column under `eligible_if`, or nothing when it reads.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn check_rule(state: &AppState, user: &User, slug: &str, req: &Attach) -> AppResult<()> {
    access::coordinated(state.db.conn(), user, slug).await?;
    let expression = req.eligible_if.as_deref().map(str::trim).unwrap_or_default();
    let loaded = u32::try_from(req.version).ok().and_then(|v| state.forms.get(&req.key, v));
    let Some(loaded) = loaded else {
        return Err(AppError::field("key", "unknown", "Choose a loaded questionnaire first."));
    };
    if expression.is_empty() {
        return Ok(());
    }
    loaded
        .definition
        .check_expression(expression)
        .map(|_| ())
        .map_err(|e| AppError::field("eligible_if", "invalid", e.to_string()))
}

/// The stored definition for a loaded file, added the first time a study uses it.
async fn ensure_definition(
    db: &impl Conn,
    def: &FormDefinition,
    source: &str,
    now: chrono::DateTime<Utc>,
) -> AppResult<StoredDefinition> {
    match store::questionnaire::find_definition(db, &def.key, def.version).await? {
        None => {
            store::questionnaire::insert_definition(
                db,
                &def.key,
                def.version,
                &def.form_hash,
                source,
                now,
            )
            .await
        }
        Some(stored) if stored.form_hash == def.form_hash => Ok(stored),
        Some(stored) => {
            if store::questionnaire::has_responses(db, stored.id).await? {
                return Err(AppError::Conflict(format!(
                    "{} version {} has answers under a different text; give the changed file a new version.",
                    def.key, def.version
                )));
            }
            store::questionnaire::replace_definition(db, stored.id, &def.form_hash, source).await?;
            Ok(StoredDefinition {
                form_hash: def.form_hash.clone(),
                source: source.to_string(),
                ..stored
            })
        }
    }
}

/// At start: a loaded file whose key and version already have answers under a
/// different text is refused (the message says which file and what to do); one
/// without answers replaces the stored text, with an audit event.
#[tracing::instrument(skip_all)]
pub async fn sync_catalogue(state: &AppState) -> AppResult<usize> {
    let tx = state.db.begin_write().await?;
    let stored = store::questionnaire::all_definitions(tx.conn()).await?;
    let mut problems = Vec::new();
    let mut replaced = 0;
    for s in stored {
        let Some(loaded) = state.forms.get(&s.key, s.version) else { continue };
        if loaded.definition.form_hash == s.form_hash {
            continue;
        }
        let answered = store::questionnaire::has_responses(tx.conn(), s.id).await?;
        if answered {
            problems.push(format!(
                "{}: {} version {} already has answers given against a different text of this file \
                 (stored hash {}, file hash {}). Restore the text it had, or give the changed file \
                 version {} so that existing answers keep their meaning.",
                loaded.path.display(),
                s.key,
                s.version,
                &s.form_hash[..12.min(s.form_hash.len())],
                &loaded.definition.form_hash[..12],
                s.version + 1
            ));
            continue;
        }
        store::questionnaire::replace_definition(
            tx.conn(),
            s.id,
            &loaded.definition.form_hash,
            &loaded.source,
        )
        .await?;
        audit::record(
            tx.conn(),
            NewEvent::new("system", "questionnaire.text_replaced", "questionnaire", s.id).with(
                json!({
                    "key": s.key,
                    "version": s.version,
                    "old_form_hash": s.form_hash,
                    "form_hash": loaded.definition.form_hash,
                }),
            ),
        )
        .await?;
        replaced += 1;
    }
    if !problems.is_empty() {
        return Err(AppError::Conflict(problems.join("\n")));
    }
    tx.commit().await?;
    Ok(replaced)
}

/// The definition an instrument uses: the loaded file when its text is the one
/// stored, else the stored text itself (the file changed or went away).
pub(crate) async fn definition_of(
    state: &AppState,
    db: &impl Conn,
    instrument: &Instrument,
) -> AppResult<Arc<FormDefinition>> {
    if let Some(loaded) = state.forms.get(&instrument.key, instrument.version)
        && loaded.definition.form_hash == instrument.form_hash
    {
        return Ok(loaded.definition.clone());
    }
    let stored =
        store::questionnaire::definition_by_id(db, instrument.definition_id).await?.ok_or_else(
            || AppError::Internal(format!("instrument {} lost its definition", instrument.id)),
        )?;
    let path = format!("stored:{}@{}", stored.key, stored.version);
    parse_str(Path::new(&path), &stored.source).map(Arc::new).map_err(|e| {
        AppError::Internal(format!(
            "stored definition {} no longer loads: {:?}",
            stored.id,
            e.first()
        ))
    })
}

/// A study's instruments with their definitions, for staff.
pub async fn list(
    state: &AppState,
    user: &User,
    slug: &str,
) -> AppResult<Vec<(Instrument, Arc<FormDefinition>)>> {
    let (study, _) = access::study(state.db.conn(), user, slug).await?;
    let mut out = Vec::new();
    for i in store::questionnaire::instruments(state.db.conn(), study.id).await? {
        let d = definition_of(state, state.db.conn(), &i).await?;
        out.push((i, d));
    }
    Ok(out)
}

/// One questionnaire as a participant sees it: the definition, their saved answers.
#[derive(Debug, Clone)]
pub struct Questionnaire {
    pub instrument: Instrument,
    pub definition: Arc<FormDefinition>,
    pub response: Option<Response>,
    pub answers: Answers,
}

impl Questionnaire {
    /// `not_started`, `in_progress` or `complete`.
    pub fn status(&self) -> &'static str {
        match &self.response {
            None => "not_started",
            Some(r) => r.status.as_str(),
        }
    }
}

/// Questionnaires open only to participants who consented and have not withdrawn.
fn check_open(participant: &Participant) -> AppResult<()> {
    if participant.withdrawal.is_some() {
        return Err(AppError::Forbidden(
            "You have withdrawn from this study, so its questionnaires are closed to you.".into(),
        ));
    }
    if participant.code.is_none() {
        return Err(AppError::Forbidden(
            "Questionnaires open once you have given your consent.".into(),
        ));
    }
    Ok(())
}

fn check_study_takes_answers(study: &Study) -> AppResult<()> {
    match study.status {
        StudyStatus::Closed => {
            Err(AppError::Conflict("The study is closed; answers can no longer be changed.".into()))
        }
        StudyStatus::Suspended => {
            Err(AppError::Gone("The study is suspended; answers cannot be saved now.".into()))
        }
        _ => Ok(()),
    }
}

/// The participant's questionnaires after consent, each with its answers, or only
/// the one keyed `answers_of` with its answers (the others with their status alone).
async fn after_consent(
    state: &AppState,
    db: &impl Conn,
    participant: &Participant,
    answers_of: Option<&str>,
) -> AppResult<Vec<Questionnaire>> {
    let instruments = store::questionnaire::instruments(db, participant.study_id).await?;
    let responses = store::questionnaire::responses_of(db, participant.id).await?;
    let mut out = Vec::new();
    for instrument in instruments.into_iter().filter(|i| i.stage == Stage::AfterConsent) {
        let definition = definition_of(state, db, &instrument).await?;
        let response = responses.iter().find(|r| r.instrument_id == instrument.id).cloned();
        let wanted = answers_of.is_none_or(|key| key == instrument.key);
        let answers = match &response {
            Some(r) if wanted => {
                Answers::from_rows(&definition, &store::questionnaire::answer_rows(db, r.id).await?)
            }
            _ => Answers::default(),
        };
        out.push(Questionnaire { instrument, definition, response, answers });
    }
    Ok(out)
}

/// The participant's questionnaires, in order (403 before consent or after withdrawal).
#[tracing::instrument(skip_all)]
pub async fn for_participant(
    state: &AppState,
    participant: &Participant,
) -> AppResult<Vec<Questionnaire>> {
    let p = store::participant::find(state.db.conn(), participant.id)
        .await?
        .ok_or(AppError::NotFound)?;
    check_open(&p)?;
    after_consent(state, state.db.conn(), &p, None).await
}

/// The participant's questionnaires in order, with the answers of the one keyed
/// `key` only (a page shows one; the others count for its progress line). The
/// participant is the one the request authenticated (403 before consent or after
/// withdrawal; 404 when the study has no such questionnaire).
#[tracing::instrument(skip_all)]
pub async fn opening(
    state: &AppState,
    participant: &Participant,
    key: &str,
) -> AppResult<Vec<Questionnaire>> {
    check_open(participant)?;
    let mut all = after_consent(state, state.db.conn(), participant, Some(key)).await?;
    if !all.iter().any(|q| q.instrument.key == key) {
        return Err(AppError::NotFound);
    }
    // In the language of the consent they signed, where the file has its words.
    if all.iter().any(|q| !q.definition.translations.is_empty()) {
        let signed =
            store::consent::record::of_participant(state.db.conn(), participant.id).await?;
        if let Some(language) = signed.last().and_then(|c| c.record.as_ref()).map(|r| &r.language) {
            for q in &mut all {
                if !q.definition.translations.is_empty() {
                    q.definition = Arc::new(q.definition.in_language(language));
                }
            }
        }
    }
    Ok(all)
}

/// One of the participant's questionnaires by key (404 when the study has none).
#[tracing::instrument(skip_all)]
pub async fn open(
    state: &AppState,
    participant: &Participant,
    key: &str,
) -> AppResult<Questionnaire> {
    opening(state, participant, key)
        .await?
        .into_iter()
        .find(|q| q.instrument.key == key)
        .ok_or(AppError::NotFound)
}

/// The portal's questionnaire steps: none before consent or after withdrawal.
#[tracing::instrument(skip_all)]
pub async fn steps(state: &AppState, participant: &Participant) -> AppResult<Vec<NextStep>> {
    if check_open(participant).is_err() {
        return Ok(Vec::new());
    }
    let instruments =
        store::questionnaire::instruments(state.db.conn(), participant.study_id).await?;
    let responses = store::questionnaire::responses_of(state.db.conn(), participant.id).await?;
    let mut out = Vec::new();
    for i in instruments.into_iter().filter(|i| i.stage == Stage::AfterConsent) {
        let title = definition_of(state, state.db.conn(), &i).await?.title.clone();
        let st = match responses.iter().find(|r| r.instrument_id == i.id).map(|r| r.status) {
            None => "todo",
            Some(ResponseStatus::InProgress) => "in_progress",
            Some(ResponseStatus::Complete) => "done",
        };
        out.push(NextStep {
            step: "questionnaire",
            state: st,
            key: Some(i.key),
            title: Some(title),
            version: Some(i.version.to_string()),
        });
    }
    Ok(out)
}

/// How a submission is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submit {
    /// Final: every rule, required answers included (the JSON API).
    Complete,
    /// Final from a page: as `Complete`, but answers to questions a script hid are
    /// dropped rather than refused.
    Page,
    /// Save to finish later (pages only): required answers may be open, answers to
    /// questions a script hid are dropped. A completed response cannot go back to a draft.
    Draft,
}

/// Saves a participant's answers to `key`. Field errors name question keys.
#[tracing::instrument(skip_all)]
pub async fn answer(
    state: &AppState,
    participant: &Participant,
    key: &str,
    raw: &Map<String, Value>,
    submit: Submit,
) -> AppResult<Questionnaire> {
    let tx = state.db.begin_write().await?;
    let (p, study) = store::participant::with_study(tx.conn(), participant.id)
        .await?
        .ok_or(AppError::NotFound)?;
    check_open(&p)?;
    let mut q = after_consent(state, tx.conn(), &p, Some(key))
        .await?
        .into_iter()
        .find(|q| q.instrument.key == key)
        .ok_or(AppError::NotFound)?;
    check_study_takes_answers(&study)?;
    let was_complete = q.response.as_ref().is_some_and(|r| r.status == ResponseStatus::Complete);
    let (mode, status) = match submit {
        Submit::Complete => (Mode::STRICT, ResponseStatus::Complete),
        Submit::Page => (Mode { require: true, drop_hidden: true }, ResponseStatus::Complete),
        Submit::Draft if was_complete => {
            (Mode { require: true, drop_hidden: true }, ResponseStatus::Complete)
        }
        Submit::Draft => (Mode { require: false, drop_hidden: true }, ResponseStatus::InProgress),
    };
    let validated = answers::validate(&q.definition, raw, mode)?;
    let now = Utc::now();
    let rows = validated.rows();
    let response = store::questionnaire::save_response(
        tx.conn(),
        store::questionnaire::Save {
            study_id: study.id,
            participant_id: p.id,
            instrument_id: q.instrument.id,
            definition_id: q.instrument.definition_id,
            form_hash: &q.instrument.form_hash,
            status,
            rows: &rows,
            now,
        },
        q.response.as_ref(),
    )
    .await?;
    let answers_json = Value::Object(validated.to_json());
    audit::record(
        tx.conn(),
        NewEvent::new(p.actor(), "questionnaire.answered", "response", response.id)
            .in_study(&study.slug)
            .with(json!({
                "key": q.instrument.key,
                "version": q.instrument.version,
                "form_hash": q.instrument.form_hash,
                "status": status.as_str(),
                "revision": response.revision,
                "questions_answered": validated.len(),
                "answers_sha256": sha256_hex(canonical_json(&answers_json).as_bytes()),
            })),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(study = %study.slug, key = %q.instrument.key, revision = response.revision, "questionnaire saved");
    q.response = Some(response);
    q.answers = validated;
    Ok(q)
}
