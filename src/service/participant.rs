//! Participants: direct invitations by coordinators, and private links.
//!
//! A participant may hold several links, each stored only as a hash with its own
//! expiry (`CONSENTRY_PARTICIPANT_LINK_DAYS`). Nothing ever replaces a link: a
//! reminder or a request adds one, and each new link goes only to the address on
//! record, at most `LINK_MAILS_PER_HOUR` times an hour (invitations aside).

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::AppState;
use super::auth::{PARTICIPANT_TOKEN_PREFIX, new_token};
use crate::audit;
use crate::domain::FieldErrors;
use crate::domain::audit::NewEvent;
use crate::domain::fields::required_text;
use crate::domain::participant::Participant;
use crate::domain::policy::Capacity;
use crate::domain::study::{Study, StudyStatus};
use crate::domain::user::{Email, User};
use crate::error::{AppError, AppResult};
use crate::service::access;
use crate::store::participant::Source;
use crate::store::{self, Conn};

/// Links mailed to one address in an hour, at most (invitations aside).
pub const LINK_MAILS_PER_HOUR: u64 = 3;
const LINK_MAIL_SCOPE: &str = "link_mail";

/// A private link, made but not yet stored: the token (shown once, or mailed) and
/// its address, and the hash the database keeps.
pub(super) struct NewLink {
    pub token: String,
    pub url: String,
    pub hash: String,
}

pub(super) fn new_link(state: &AppState) -> NewLink {
    let (token, hash) = new_token(PARTICIPANT_TOKEN_PREFIX);
    let url = portal_url(state, &token);
    NewLink { token, url, hash }
}

/// Stores `link` as one more of the participant's links, valid for the configured days.
pub(super) async fn store_link(
    state: &AppState,
    db: &impl Conn,
    participant_id: i64,
    link: &NewLink,
    origin: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let expires = now + Duration::days(state.config.participant_link_days);
    store::participant::add_link(db, participant_id, &link.hash, origin, now, expires).await
}

/// A person invited directly: a new participant's first link (shown once, and
/// mailed), or, for an address already in the study, nothing replaced and a new
/// link mailed to the address on record.
#[derive(Debug, Clone)]
pub enum Invitation {
    New { participant: Participant, token: String, portal_url: String },
    Known { participant: Participant },
}

impl Invitation {
    pub fn participant(&self) -> &Participant {
        match self {
            Invitation::New { participant, .. } | Invitation::Known { participant } => participant,
        }
    }
}

/// A new link for the server's own console (the demo prints one at each start);
/// never reachable over HTTP. Audited as `participant.link_issued` by `cli`.
#[tracing::instrument(skip_all)]
pub async fn link_for_console(
    state: &AppState,
    participant: &Participant,
    study: &Study,
) -> AppResult<String> {
    let tx = state.db.begin_write().await?;
    let link = new_link(state);
    store_link(state, tx.conn(), participant.id, &link, "console", Utc::now()).await?;
    audit::record(
        tx.conn(),
        NewEvent::new("cli", "participant.link_issued", "participant", participant.id)
            .in_study(&study.slug)
            .with(json!({"origin": "console"})),
    )
    .await?;
    tx.commit().await?;
    Ok(link.url)
}

pub fn portal_url(state: &AppState, token: &str) -> String {
    state.config.public_link(&format!("/p/{token}"))
}

/// Invites a person to a study directly (for studies that recruit without an ad).
/// The same address twice does not make a second participant, nor touch their
/// links: a new link is mailed to them (429 past the hourly limit).
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn invite(
    state: &AppState,
    user: &User,
    slug: &str,
    name: &str,
    email: &str,
) -> AppResult<Invitation> {
    let mut errors = FieldErrors::new();
    let name = errors.take("name", required_text(name, "Name", 200));
    let email = errors.take("email", Email::parse(email));
    let tx = state.db.begin_write().await?;
    let study = access::coordinated(tx.conn(), user, slug).await?;
    let (Some(name), Some(email)) = (name, email) else { return Err(errors.into()) };
    if matches!(study.status, StudyStatus::Suspended | StudyStatus::Closed) {
        return Err(AppError::Gone(format!(
            "The study is {}; no one can be invited.",
            study.status
        )));
    }
    let now = Utc::now();
    let keys = state.keys()?;
    if let Some(existing) = store::participant::find_by_email(tx.conn(), study.id, &email).await? {
        if !mail_link(state, tx.conn(), &existing, &study, &user.actor(), "invitation", now).await?
        {
            return Err(AppError::TooMany);
        }
        tx.commit().await?;
        return Ok(Invitation::Known { participant: existing });
    }
    let (participant, link) =
        admit(state, tx.conn(), &study, &name, &email, Source::named("invitation"), None, now)
            .await?;
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "participant.invited", "participant", participant.id)
            .in_study(&study.slug)
            .with(json!({"source": "invitation", "email_hmac": keys.address_hash(email.as_str())})),
    )
    .await?;
    tx.commit().await?;
    Ok(Invitation::New { participant, token: link.token, portal_url: link.url })
}

/// Who a future-contact invitation reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FromStudy {
    /// New participants of this study, each mailed a private link.
    pub invited: usize,
    /// People who agreed but are in this study already: nothing is sent to them.
    pub already: usize,
}

/// Invites into `slug` every participant of the earlier study `from` whose latest
/// consent agreed to the item that governs future contact and who has not
/// withdrawn — nobody else. The caller coordinates both studies; nobody on the
/// staff sees the addresses or the links. One audit event per person and one for
/// the whole act.
#[tracing::instrument(skip_all, fields(study = %slug, from = %from))]
pub async fn invite_from_study(
    state: &AppState,
    user: &User,
    slug: &str,
    from: &str,
) -> AppResult<FromStudy> {
    use crate::domain::consent::{Governs, choice};
    use crate::service::consent::choices::{governed, latest_records};

    let from = from.trim();
    if from.is_empty() || from == slug {
        return Err(AppError::field(
            "study",
            "invalid_study",
            "Choose an earlier study, other than this one.",
        ));
    }
    let tx = state.db.begin_write().await?;
    let study = access::coordinated(tx.conn(), user, slug).await?;
    let earlier = access::coordinated(tx.conn(), user, from).await.map_err(|e| match e {
        AppError::NotFound | AppError::Forbidden(_) => AppError::field(
            "study",
            "not_your_study",
            "You can invite only from a study you coordinate.",
        ),
        other => other,
    })?;
    if matches!(study.status, StudyStatus::Suspended | StudyStatus::Closed) {
        return Err(AppError::Gone(format!(
            "The study is {}; no one can be invited.",
            study.status
        )));
    }
    if !governed(tx.conn(), earlier.id).await?.contains(&Governs::FutureContact) {
        return Err(AppError::Conflict(format!(
            "No version of the consent form of \"{}\" asked participants whether they may be \
             contacted about future studies, so nobody agreed to it.",
            earlier.title
        )));
    }
    let records = latest_records(tx.conn(), earlier.id).await?;
    let keys = state.keys()?;
    let now = Utc::now();
    let mut reached = FromStudy { invited: 0, already: 0 };
    for (person, _) in store::participant::active_in_study(tx.conn(), earlier.id).await? {
        let agreed = records.get(&person.id).and_then(|r| choice(&r.items, Governs::FutureContact));
        if agreed != Some(true) {
            continue;
        }
        let Some((name, email)) = store::participant::contact(tx.conn(), person.id).await? else {
            continue;
        };
        let Ok(email) = Email::parse(&email) else { continue };
        if store::participant::find_by_email(tx.conn(), study.id, &email).await?.is_some() {
            reached.already += 1;
            continue;
        }
        let (participant, _) = admit(
            state,
            tx.conn(),
            &study,
            &name,
            &email,
            Source::named("future_contact"),
            Some(&earlier),
            now,
        )
        .await?;
        audit::record(
            tx.conn(),
            NewEvent::new(user.actor(), "participant.invited", "participant", participant.id)
                .in_study(&study.slug)
                .with(json!({
                    "source": "future_contact",
                    "from_study": earlier.slug,
                    "email_hmac": keys.address_hash(email.as_str()),
                })),
        )
        .await?;
        reached.invited += 1;
    }
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "study.invited_from_study", "study", study.id)
            .in_study(&study.slug)
            .with(json!({
                "from_study": earlier.slug,
                "invited": reached.invited,
                "already": reached.already,
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(reached)
}

/// "Send a new link" for a participant by code: one more link goes to the address on
/// record (coordinators only; 429 past the hourly limit). Nothing is replaced and
/// the coordinator never sees the link.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn send_link(state: &AppState, user: &User, slug: &str, code: &str) -> AppResult<()> {
    let tx = state.db.begin_write().await?;
    let study = access::coordinated(tx.conn(), user, slug).await?;
    let participant = store::participant::find_by_code(tx.conn(), study.id, code.trim())
        .await?
        .ok_or(AppError::NotFound)?;
    if !mail_link(state, tx.conn(), &participant, &study, &user.actor(), "staff", Utc::now())
        .await?
    {
        return Err(AppError::TooMany);
    }
    tx.commit().await
}

/// A new participant of `study`, with their first private link and its invitation
/// queued, in the caller's transaction. `source`: where they came from (for an ad,
/// the ad and stratum too). `earlier`: the study whose consent let them be contacted
/// about this one, which the invitation names.
#[allow(clippy::too_many_arguments)]
pub(super) async fn admit(
    state: &AppState,
    db: &impl Conn,
    study: &Study,
    name: &str,
    email: &Email,
    source: store::participant::Source<'_>,
    earlier: Option<&Study>,
    now: DateTime<Utc>,
) -> AppResult<(Participant, NewLink)> {
    let link = new_link(state);
    let participant =
        store::participant::insert(db, study.id, &link.hash, name, email, source, now).await?;
    store_link(state, db, participant.id, &link, source.label, now).await?;
    let days = state.config.participant_link_days;
    let message = match earlier {
        None => crate::mail::compose::invitation(study, email.as_str(), name, &link.url, days),
        Some(earlier) => crate::mail::compose::future_study_invitation(
            study,
            earlier,
            email.as_str(),
            name,
            &link.url,
            days,
        ),
    };
    crate::mail::enqueue(db, state.keys()?, &message).await?;
    Ok((participant, link))
}

/// Mails `participant` one more link at the address on record, unless
/// `LINK_MAILS_PER_HOUR` went to that address in the last hour; audited as
/// `participant.link_sent` by `actor`. Returns whether it was sent.
pub(super) async fn mail_link(
    state: &AppState,
    db: &impl Conn,
    participant: &Participant,
    study: &Study,
    actor: &str,
    origin: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let keys = state.keys()?;
    let Some((name, email)) = store::participant::contact(db, participant.id).await? else {
        return Ok(false);
    };
    let address = keys.address_hash(&email);
    let sent =
        store::auth::throttle::count(db, LINK_MAIL_SCOPE, &address, now - Duration::hours(1))
            .await?;
    if sent >= LINK_MAILS_PER_HOUR {
        tracing::warn!(study = %study.slug, "a link request was refused: the hourly limit for the address was reached");
        return Ok(false);
    }
    store::auth::throttle::prune(db, now - super::auth::throttle_memory(&state.config)).await?;
    store::auth::throttle::record(db, LINK_MAIL_SCOPE, &address, now).await?;
    let link = new_link(state);
    store_link(state, db, participant.id, &link, origin, now).await?;
    let message = crate::mail::compose::new_link(
        study,
        &email,
        &name,
        &link.url,
        state.config.participant_link_days,
    );
    crate::mail::enqueue(db, keys, &message).await?;
    audit::record(
        db,
        NewEvent::new(actor, "participant.link_sent", "participant", participant.id)
            .in_study(&study.slug)
            .with(json!({"origin": origin})),
    )
    .await?;
    Ok(true)
}

/// "Send me a new link": for every study in which `email` is on record, a new link
/// is mailed there (within the hourly limit). The answer is the same whether or not
/// the address is known, so it tells a stranger nothing; only a malformed address
/// is refused (422 on `email`).
#[tracing::instrument(skip_all)]
pub async fn request_link(state: &AppState, email: &str) -> AppResult<()> {
    let email = Email::parse(email).map_err(|e| AppError::field("email", e.code, e.message))?;
    let tx = state.db.begin_write().await?;
    let now = Utc::now();
    for participant in store::participant::all_by_email(tx.conn(), &email).await? {
        let study = store::study::find_by_id(tx.conn(), participant.study_id)
            .await?
            .ok_or_else(|| AppError::Internal("participant without a study".into()))?;
        mail_link(state, tx.conn(), &participant, &study, "public", "requested", now).await?;
    }
    tx.commit().await
}

/// The participant behind a live private token, with their study.
#[tracing::instrument(skip_all)]
pub async fn authenticate(
    state: &AppState,
    token: &str,
) -> AppResult<Option<(Participant, Study)>> {
    if !token.starts_with(PARTICIPANT_TOKEN_PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    let hash = crate::domain::audit::sha256_hex(token.as_bytes());
    store::participant::find_by_link(state.db.conn(), &hash, Utc::now()).await
}

/// Reminds every participant who has not withdrawn and still has a step open (consent,
/// or a questionnaire not finished), at most once per `REMINDER_GAP_HOURS`. Each gets
/// one more private link (the links they hold keep working). Returns how many
/// reminders were queued.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn remind(state: &AppState, user: &User, slug: &str) -> AppResult<usize> {
    use crate::domain::participant::due_reminder;
    use crate::domain::questionnaire::{ResponseStatus, Stage};
    let tx = state.db.begin_write().await?;
    let study = access::coordinated(tx.conn(), user, slug).await?;
    if !matches!(study.status, StudyStatus::Recruiting | StudyStatus::Paused) {
        return Err(AppError::Gone(format!(
            "The study is {}; no reminders are sent.",
            study.status
        )));
    }
    let now = Utc::now();
    let keys = state.keys()?;
    let mut instruments = Vec::new();
    for i in store::questionnaire::instruments(tx.conn(), study.id).await? {
        if i.stage == Stage::AfterConsent {
            let title =
                super::questionnaire::definition_of(state, tx.conn(), &i).await?.title.clone();
            instruments.push((i, title));
        }
    }
    let mut reminded = Vec::new();
    for (p, reminded_at) in store::participant::active_in_study(tx.conn(), study.id).await? {
        let steps: Vec<String> = if p.code.is_none() {
            vec![
                "read the explanatory statement and decide whether to give your consent"
                    .to_string(),
            ]
        } else {
            let responses = store::questionnaire::responses_of(tx.conn(), p.id).await?;
            instruments
                .iter()
                .filter(|(i, _)| {
                    !responses
                        .iter()
                        .any(|r| r.instrument_id == i.id && r.status == ResponseStatus::Complete)
                })
                .map(|(_, title)| format!("answer the questionnaire \"{title}\""))
                .collect()
        };
        if !due_reminder(steps.len(), reminded_at, now) {
            continue;
        }
        let Some((name, email)) = store::participant::contact(tx.conn(), p.id).await? else {
            continue;
        };
        let link = new_link(state);
        store_link(state, tx.conn(), p.id, &link, "reminder", now).await?;
        store::participant::set_reminded(tx.conn(), p.id, now).await?;
        let message = crate::mail::compose::reminder(
            &study,
            &email,
            &name,
            &link.url,
            state.config.participant_link_days,
            &steps,
        );
        crate::mail::enqueue(tx.conn(), keys, &message).await?;
        reminded.push(p.id);
    }
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), "participants.reminded", "study", study.id)
            .in_study(&study.slug)
            .with(json!({"participants": reminded})),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(study = %study.slug, reminded = reminded.len(), "reminders queued");
    Ok(reminded.len())
}

/// One line of a study's participant list, as the viewer may see it.
#[derive(Debug, Clone)]
pub struct RosterEntry {
    pub id: i64,
    pub code: Option<String>,
    /// `invited`, `consented` or `withdrawn`.
    pub status: &'static str,
    pub joined: DateTime<Utc>,
    pub ad: Option<String>,
    pub stratum: Option<String>,
    pub questionnaires_done: usize,
    pub questionnaires: usize,
    pub gave_availability: bool,
    pub session: Option<String>,
    /// Name and address: for coordinators only.
    pub contact: Option<(String, String)>,
    /// Used every try on a knowledge-review question: waits to talk to the researchers.
    pub out_of_tries: bool,
}

/// Who may read a study's participant list: coordinators with names and addresses,
/// ethics officers by code only; facilitators see their own sessions' members only.
fn list_reader(capacity: Capacity) -> AppResult<bool> {
    match capacity {
        Capacity::Coordinator => Ok(true),
        Capacity::EthicsOfficer => Ok(false),
        Capacity::Facilitator => Err(AppError::Forbidden(
            "Facilitators see the members of their own sessions only.".into(),
        )),
    }
}

/// A study's participants, oldest first; reading names and addresses is audited.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn roster(
    state: &AppState,
    user: &User,
    slug: &str,
) -> AppResult<(Study, Capacity, Vec<RosterEntry>)> {
    let tx = state.db.begin_write().await?;
    let (study, capacity) = access::study(tx.conn(), user, slug).await?;
    let with_contacts = list_reader(capacity)?;
    let questionnaires = store::questionnaire::instruments(tx.conn(), study.id)
        .await?
        .iter()
        .filter(|i| i.stage == crate::domain::questionnaire::Stage::AfterConsent)
        .count();
    let rows = store::participant::roster(tx.conn(), study.id).await?;
    let out_of_tries = super::consent::out_of_tries_in(tx.conn(), study.id).await?;
    if with_contacts {
        audit::record(
            tx.conn(),
            NewEvent::new(user.actor(), "participant.list_viewed", "study", study.id)
                .in_study(&study.slug)
                .with(json!({"participants": rows.len()})),
        )
        .await?;
    }
    tx.commit().await?;
    let entries = rows
        .into_iter()
        .map(|r| RosterEntry {
            id: r.participant.id,
            status: r.participant.status(),
            code: r.participant.code.clone(),
            joined: r.participant.created_at,
            ad: r.ad_code,
            stratum: r.stratum,
            questionnaires_done: r.completed,
            questionnaires,
            gave_availability: r.gave_availability,
            session: r.session,
            contact: with_contacts.then_some((r.name, r.email)),
            out_of_tries: r.participant.code.is_none() && out_of_tries.contains(&r.participant.id),
        })
        .collect();
    Ok((study, capacity, entries))
}

/// One participant for their coordinator: where they are and the mail sent to them
/// (its text as staff may read it, links and codes redacted); never their answers.
#[derive(Debug, Clone)]
pub struct ParticipantRecord {
    pub entry: RosterEntry,
    pub steps: Vec<crate::domain::participant::NextStep>,
    pub mail: Vec<store::mail::StoredMail>,
    /// They used every try on a knowledge-review question and wait to talk to the
    /// researchers before they can sign.
    pub out_of_tries: bool,
}

#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn record(
    state: &AppState,
    user: &User,
    slug: &str,
    id: i64,
) -> AppResult<(Study, ParticipantRecord)> {
    let (study, capacity, roster) = roster(state, user, slug).await?;
    if capacity != Capacity::Coordinator {
        return Err(AppError::Forbidden(
            "Only the study's coordinators open a participant's record.".into(),
        ));
    }
    let entry = roster.into_iter().find(|e| e.id == id).ok_or(AppError::NotFound)?;
    let participant =
        store::participant::find(state.db.conn(), id).await?.ok_or(AppError::NotFound)?;
    let steps = super::questionnaire::steps(state, &participant).await?;
    let address = entry.contact.as_ref().map(|(_, e)| e.clone()).unwrap_or_default();
    let mail = store::mail::to_address(state.db.conn(), study.id, &address).await?;
    let out_of_tries = entry.out_of_tries;
    Ok((study, ParticipantRecord { entry, steps, mail, out_of_tries }))
}
