//! Giving consent (SPEC §6): one transaction checks every rule, assigns the code, renders and stores the PDF and records the event carrying both hashes (for every request waiting in the signing queue, `queue.rs`, at once); the participant's copy and receipt.

use super::queue::Job;
use super::*;
use crate::domain::consent::receipt::{About, Receipt};
use crate::keys::Keys;
use crate::store::Db;

/// Whether the study can take consent now (recruiting or paused, approval live).
pub fn check_can_consent(study: &Study) -> AppResult<()> {
    if !matches!(study.status, StudyStatus::Recruiting | StudyStatus::Paused) {
        return Err(AppError::Gone(format!(
            "The study is {}; it cannot take consent now.",
            study.status
        )));
    }
    if study.approval_expired(Utc::now().date_naive()) {
        return Err(AppError::Gone(format!(
            "The ethics approval {} expired on {}; consent cannot be given.",
            study.ethics.reference, study.ethics.expires_on
        )));
    }
    Ok(())
}

/// Which language's text of the consent form a participant asks for: the one they
/// chose (the switcher, `?language=`), and what their browser accepts.
#[derive(Debug, Clone, Default)]
pub struct LanguageChoice {
    pub chosen: Option<String>,
    pub accept: Option<String>,
}

/// The text to show among the texts in force (404 when none is in force).
pub(super) fn pick_text(texts: &[ConsentForm], want: &LanguageChoice) -> AppResult<ConsentForm> {
    let tags: Vec<&str> = texts.iter().map(|t| t.language.as_str()).collect();
    let i = crate::domain::consent::language::pick(
        &tags,
        want.chosen.as_deref(),
        want.accept.as_deref(),
    );
    texts.get(i).cloned().ok_or(AppError::NotFound)
}

/// The consent form in force for a participant's study, in the language they ask for
/// when it has a text in it.
#[tracing::instrument(skip_all)]
pub async fn active_form(
    state: &AppState,
    participant: &Participant,
    want: &LanguageChoice,
) -> AppResult<ConsentForm> {
    let texts = store::consent::form::active_texts(state.db.conn(), participant.study_id).await?;
    pick_text(&texts, want)
}

fn given_from(stored: &StoredConsent, created: bool) -> AppResult<Given> {
    let record = stored
        .record
        .clone()
        .ok_or_else(|| AppError::Internal(format!("consent {} record unreadable", stored.id)))?;
    Ok(Given {
        consent_id: stored.id,
        record,
        record_sha256: stored.record_sha256.clone(),
        pdf_sha256: stored.pdf_sha256.clone(),
        created,
    })
}

/// Gives consent: the request joins the signing queue, and the answer comes once the
/// transaction that signed it has committed.
#[tracing::instrument(skip_all)]
pub async fn give(
    state: &AppState,
    participant: &Participant,
    req: SignRequest,
) -> AppResult<Given> {
    state.signing.submit(&state.db, state.keys().ok(), participant.clone(), req).await
}

/// A consent whose rules all hold, numbered and recorded, waiting for its PDF.
struct Checked {
    study: Study,
    form: ConsentForm,
    items: serde_json::Map<String, Value>,
    reconsent: bool,
    record: ConsentRecord,
    record_sha256: String,
    signed_at: chrono::DateTime<Utc>,
    drawing: Option<crate::domain::consent::signature::Drawing>,
    email: Option<String>,
}

/// What checking a request found: a consent to sign, or the same consent given before.
enum Check {
    Sign(Box<Checked>),
    Again(Box<Given>),
}

/// Every rule of SPEC §6 for one request, read inside the signing transaction; the
/// participant code is assigned last, so a refused request writes nothing.
async fn check(tx: &impl Conn, participant: &Participant, req: SignRequest) -> AppResult<Check> {
    let (participant, study) = reload(tx, participant).await?;
    check_can_consent(&study)?;
    if participant.withdrawal.is_some() {
        return Err(AppError::Conflict("You have withdrawn from this study.".into()));
    }
    if !crate::service::consent::identity::cleared(tx, &participant, &study).await? {
        return Err(AppError::Forbidden(
            "This study checks your identity first: enter the code sent to your e-mail address."
                .into(),
        ));
    }
    let texts = store::consent::form::active_texts(tx, study.id).await?;
    // The text signed is the one whose hash the participant sends back: the
    // language they read.
    let form = texts
        .iter()
        .find(|t| t.form_hash == req.form_hash.trim())
        .or(texts.first())
        .cloned()
        .ok_or_else(|| AppError::Conflict("The study has no consent form in force.".into()))?;
    let decision = decide(&form, &req).map_err(|e| match e {
        DecisionError::Fields(f) => AppError::Validation(f),
        DecisionError::Stale(m) => AppError::Conflict(m),
    })?;
    let earlier = store::consent::record::of_participant(tx, participant.id).await?;
    // Consent is to a version, whichever language's text was read.
    if let Some(existing) = earlier.iter().rfind(|c| c.version == form.version) {
        let same = existing.record.as_ref().is_some_and(|r| r.same_as(&form.form_hash, &decision));
        if same {
            return given_from(existing, false).map(|g| Check::Again(Box::new(g)));
        }
        return Err(AppError::Conflict(format!(
            "You have already consented to version {}; to change your optional choices, use \"Change your choices\" on your page (to stop taking part, withdraw).",
            form.version
        )));
    }
    let progress = super::review::progress_on(tx, participant.id, &form, &texts).await?;
    super::review::require_passed(&study, &progress)?;
    let drawing = decision
        .drawn_svg
        .as_deref()
        .map(parse_drawing)
        .transpose()
        .map_err(|e| AppError::field("signature.drawn_svg", e.code, e.message))?;
    let email = store::participant::contact(tx, participant.id).await?.map(|(_, email)| email);
    let code = match &participant.code {
        Some(code) => code.clone(),
        None => store::participant::assign_code(tx, study.id, participant.id).await?,
    };
    let signed_at = storable(Utc::now());
    let mut uid = [0u8; 8];
    rand::rng().fill_bytes(&mut uid);
    let record = ConsentRecord {
        record_id: format!("{}-{}-{}", study.slug, code, hex::encode(uid)),
        study: study.slug.clone(),
        study_title: study.title.clone(),
        committee: study.ethics.committee.clone(),
        ethics_reference: form
            .approval_reference
            .clone()
            .unwrap_or_else(|| study.ethics.reference.clone()),
        participant_code: code,
        form_version: form.version.clone(),
        form_title: form.title.clone(),
        form_hash: form.form_hash.clone(),
        language: form.language.clone(),
        items: decision.items.clone(),
        typed_name: decision.typed_name.clone(),
        drawn_signature_sha256: decision.drawn_svg.as_ref().map(|s| sha256_hex(s.as_bytes())),
        signed_at: format_at(&signed_at),
        identity_check: study.identity_check.as_str().into(),
        meaning: SIGNATURE_MEANING.into(),
        amends: None,
        checks: progress.outcomes(&form.review.checks),
    };
    let record_sha256 = record.sha256();
    let items = decision.items.iter().map(|i| (i.key.clone(), Value::Bool(i.agreed))).collect();
    Ok(Check::Sign(Box::new(Checked {
        study,
        form,
        items,
        reconsent: !earlier.is_empty(),
        record,
        record_sha256,
        signed_at,
        drawing,
        email,
    })))
}

/// The signed PDF of a checked consent.
fn render(c: &Checked) -> AppResult<Vec<u8>> {
    crate::pdf::consent::render(
        &c.record,
        &c.record_sha256,
        &c.form.body_markdown,
        c.drawing.as_ref(),
    )
}

/// Stores a checked consent with its PDF, queues its receipt and records its event.
async fn store_signed(
    tx: &impl Conn,
    keys: Option<&Keys>,
    participant: &Participant,
    c: Checked,
    pdf: Vec<u8>,
) -> AppResult<Given> {
    let pdf_sha256 = sha256_hex(&pdf);
    if let Some(email) = &c.email {
        let receipt = crate::mail::compose::consent_receipt(
            &c.study,
            email,
            &c.record,
            &c.record_sha256,
            &pdf,
        );
        let keys = keys.ok_or_else(|| {
            AppError::Internal("this needs CONSENTRY_SECRET_KEY, which is not set".into())
        })?;
        crate::mail::enqueue(tx, keys, &receipt).await?;
    }
    let owner = store::consent::record::Owner {
        study_id: c.study.id,
        participant_id: participant.id,
        consent_form_id: c.form.id,
        amends_id: None,
    };
    let consent_id = store::consent::record::insert(
        tx,
        owner,
        &c.record,
        &c.record_sha256,
        pdf,
        &pdf_sha256,
        c.signed_at,
    )
    .await?;
    let code = &c.record.participant_code;
    audit::record(
        tx,
        NewEvent::new(format!("participant:{code}"), "consent.given", "consent", consent_id)
            .in_study(&c.study.slug)
            .with(json!({
                "participant_code": code,
                "version": c.form.version,
                "form_hash": c.form.form_hash,
                "record_sha256": c.record_sha256,
                "pdf_sha256": pdf_sha256,
                "reconsent": c.reconsent,
                "items": c.items,
            })),
    )
    .await?;
    Ok(Given {
        consent_id,
        record: c.record,
        record_sha256: c.record_sha256,
        pdf_sha256,
        created: true,
    })
}

/// Whether an error is a refusal of the request (nothing was written, and the other
/// requests of its transaction go on), rather than the database or the server failing.
fn refusal(e: &AppError) -> bool {
    !matches!(e, AppError::Unavailable(_) | AppError::Db(_) | AppError::Internal(_))
}

/// The same failure, for each request of the transaction it stopped.
fn shared(e: &AppError) -> AppError {
    match e {
        AppError::Unavailable(m) => AppError::Unavailable(m.clone()),
        AppError::Db(m) => AppError::Db(m.clone()),
        other => AppError::Internal(other.to_string()),
    }
}

/// Signs a batch of requests in one transaction and answers each: a refused request
/// at once, the others after the commit. A failure of the database or the server
/// stops the whole transaction, and every request in it is told so.
pub(super) async fn sign_batch(db: &Db, keys: Option<&Keys>, jobs: Vec<Job>) {
    let mut jobs: Vec<Option<Job>> = jobs.into_iter().map(Some).collect();
    let outcome = signed(db, keys, &mut jobs).await;
    let waiting = jobs.into_iter().flatten();
    match outcome {
        Ok(given) => {
            for (job, given) in waiting.zip(given) {
                if given.created {
                    let r = &given.record;
                    job.span.in_scope(|| {
                        tracing::info!(study = %r.study, code = %r.participant_code, version = %r.form_version, "consent given");
                    });
                }
                job.answer(Ok(given));
            }
        }
        Err(e) => waiting.for_each(|job| job.answer(Err(shared(&e)))),
    }
}

/// A checked request on its way to being stored: its PDF rendering on another
/// core, or the same consent given before.
enum Signing {
    Rendering(crate::parallel::Running<(Box<Checked>, AppResult<Vec<u8>>)>),
    Again(Box<Given>),
}

/// The transaction of `sign_batch`: every request checked in turn (a refused one
/// answered and taken out of `jobs`), each PDF rendered on a free core from the
/// moment its request is checked while the next ones are, everything stored in
/// order, one commit. `Ok` holds the outcome of each request left in `jobs`, in order.
async fn signed(db: &Db, keys: Option<&Keys>, jobs: &mut [Option<Job>]) -> AppResult<Vec<Given>> {
    let tx = db.begin_write().await?;
    let mut signing = Vec::with_capacity(jobs.len());
    for slot in jobs.iter_mut() {
        let Some(job) = slot else { continue };
        match check(tx.conn(), &job.participant, job.request.clone()).await {
            Ok(Check::Sign(c)) => {
                signing.push(Signing::Rendering(crate::parallel::start(move || {
                    let pdf = render(&c);
                    (c, pdf)
                })))
            }
            Ok(Check::Again(given)) => signing.push(Signing::Again(given)),
            Err(e) if refusal(&e) => {
                if let Some(job) = slot.take() {
                    job.answer(Err(e));
                }
            }
            Err(e) => return Err(e),
        }
    }
    let mut given = Vec::with_capacity(signing.len());
    let participants = jobs.iter().flatten().map(|job| &job.participant);
    for (signing, participant) in signing.into_iter().zip(participants) {
        given.push(match signing {
            Signing::Rendering(rendering) => {
                let (c, pdf) = rendering.result().await?;
                store_signed(tx.conn(), keys, participant, *c, pdf?).await?
            }
            Signing::Again(g) => *g,
        });
    }
    tx.commit().await?;
    Ok(given)
}

/// The participant's latest consent, if any.
#[tracing::instrument(skip_all)]
pub async fn latest(state: &AppState, participant: &Participant) -> AppResult<Option<Given>> {
    let all = store::consent::record::of_participant(state.db.conn(), participant.id).await?;
    all.last().map(|c| given_from(c, false)).transpose()
}

/// Whether the participant may sign now as far as the study's identity check goes.
#[tracing::instrument(skip_all)]
pub async fn identity_cleared(
    state: &AppState,
    participant: &Participant,
    study: &Study,
) -> AppResult<bool> {
    crate::service::consent::identity::cleared(state.db.conn(), participant, study).await
}

/// What the participant's page shows: their latest consent, their next steps and
/// the focus-group session they are booked into.
pub struct Portal {
    pub latest: Option<Given>,
    pub steps: Vec<crate::domain::participant::NextStep>,
    pub booked: Option<crate::domain::focus_group::FocusGroup>,
}

/// The participant's latest consent, the steps their page offers and their booking.
#[tracing::instrument(skip_all)]
pub async fn portal(state: &AppState, participant: &Participant) -> AppResult<Portal> {
    let latest = latest(state, participant).await?;
    let in_force =
        store::consent::form::version_in_force(state.db.conn(), participant.study_id).await?;
    let mut steps = crate::domain::participant::consent_steps(
        latest.as_ref().map(|g| g.record.form_version.as_str()),
        in_force.as_deref(),
        participant.withdrawal.is_some(),
    );
    steps.extend(crate::service::questionnaire::steps(state, participant).await?);
    let booked = crate::service::focus_group::booking(state, participant).await?;
    steps.extend(crate::service::focus_group::steps(state, participant, booked.as_ref()).await?);
    Ok(Portal { latest, steps, booked })
}

/// Every consent record of the participant, oldest first: the consent as given,
/// each re-consent and each change of choices.
#[tracing::instrument(skip_all)]
pub async fn history(state: &AppState, participant: &Participant) -> AppResult<Vec<Given>> {
    let all = store::consent::record::of_participant(state.db.conn(), participant.id).await?;
    all.iter().map(|c| given_from(c, false)).collect()
}

/// The stored PDF of one of the participant's own consent records; audited. Another
/// participant's record is not found.
#[tracing::instrument(skip_all)]
pub async fn participant_pdf_of(
    state: &AppState,
    participant: &Participant,
    study: &Study,
    consent_id: i64,
) -> AppResult<Vec<u8>> {
    let mine = store::consent::record::of_participant(state.db.conn(), participant.id).await?;
    if !mine.iter().any(|c| c.id == consent_id) {
        return Err(AppError::NotFound);
    }
    pdf_audited(state, study, consent_id, &participant.actor()).await
}

/// The stored PDF of the participant's latest consent, byte for byte; the read is audited.
#[tracing::instrument(skip_all)]
pub async fn participant_pdf(
    state: &AppState,
    participant: &Participant,
    study: &Study,
) -> AppResult<Vec<u8>> {
    let latest = latest(state, participant).await?.ok_or(AppError::NotFound)?;
    pdf_audited(state, study, latest.consent_id, &participant.actor()).await
}

/// The machine-readable receipt of a consent.
pub fn receipt(
    state: &AppState,
    study: &Study,
    participant: &Participant,
    given: &Given,
) -> Receipt {
    receipt_of(
        state,
        study,
        &given.record,
        &given.record_sha256,
        &given.pdf_sha256,
        participant.withdrawal.is_some(),
    )
}

/// The receipt of a consent record in `study`, for its participant or an audit pack.
pub fn receipt_of(
    state: &AppState,
    study: &Study,
    record: &crate::domain::consent::ConsentRecord,
    record_sha256: &str,
    pdf_sha256: &str,
    withdrawn: bool,
) -> Receipt {
    let about = About {
        contact_name: &study.contact_name,
        contact_email: &study.contact_email,
        title: &study.title,
        summary: &study.summary,
        page_url: state.config.public_link("/participant"),
        withdrawn,
    };
    Receipt::new(record, record_sha256, pdf_sha256, about)
}
