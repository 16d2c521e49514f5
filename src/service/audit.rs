//! Reading and verifying the audit log, for ethics officers and admins.

use super::AppState;
use crate::audit::{self, checkpoints};
use crate::domain::audit::{ChainBreak, Event, Search, Verification};
use crate::domain::policy::may_read_audit;
use crate::domain::user::User;
use crate::error::{AppError, AppResult};
use crate::store;

fn require_reader(user: &User) -> AppResult<()> {
    if may_read_audit(user.role) {
        Ok(())
    } else {
        Err(AppError::Forbidden("Only ethics officers and admins read the audit log.".into()))
    }
}

/// Up to `limit` events of a study's chain (or the system chain) after `after`.
#[tracing::instrument(skip_all)]
pub async fn events(
    state: &AppState,
    user: &User,
    study: Option<&str>,
    after: i64,
    limit: u64,
) -> AppResult<Vec<Event>> {
    require_reader(user)?;
    if let Some(slug) = study {
        super::study::get(state, user, slug).await?;
    }
    audit::events(&state.db, study, after, limit).await
}

/// The audit log viewer's page: up to `limit` events matching `search`, newest first.
#[tracing::instrument(skip_all)]
pub async fn search(
    state: &AppState,
    user: &User,
    search: &Search<'_>,
    limit: u64,
) -> AppResult<Vec<(i64, Event)>> {
    require_reader(user)?;
    store::audit::search(state.db.conn(), search, limit).await
}

/// Every chain and signed consent recomputed, and, where the server signs
/// checkpoints, every chain checked against each of them.
#[tracing::instrument(skip_all)]
pub async fn verify(state: &AppState, user: &User) -> AppResult<Verification> {
    require_reader(user)?;
    let check = match state.config.checkpoints() {
        None => None,
        Some((key_file, dir)) => {
            let public = checkpoints::public_key_path(&key_file);
            match checkpoints::check(&dir, &public) {
                Ok(check) => Some(check),
                Err(checkpoints::FileError::NotACheckpoint { origin }) => {
                    return Ok(Verification::broken(
                        ChainBreak {
                            chain: "checkpoints".into(),
                            first_bad_seq: 0,
                            reason: format!("{origin} is not a checkpoint (the file was altered)"),
                        },
                        0,
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    audit::verify(&state.db, check).await
}

/// Signs the chains' heads once more as the server stops, when it signs checkpoints.
pub async fn checkpoint_at_shutdown(state: &AppState) {
    let Some((key_file, dir)) = state.config.checkpoints() else {
        return;
    };
    let taken = match checkpoints::signing_key(&key_file) {
        Ok(key) => take_checkpoint(state, &key, &dir).await.map(|_| ()),
        Err(e) => Err(e.into()),
    };
    if let Err(e) = taken {
        tracing::error!(error = %e, "audit checkpoint at shutdown");
    }
}

/// An audit pack: its file name and the ZIP.
pub struct Pack {
    pub file_name: String,
    pub zip: Vec<u8>,
}

/// The audit pack of a study, or of one participant in it (`participant`, a code):
/// for ethics officers and admins, or the command line; the download is audited.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn pack(
    state: &AppState,
    actor: super::Actor<'_>,
    slug: &str,
    participant: Option<&str>,
) -> AppResult<Pack> {
    use crate::audit::pack::{Contents, PackedConsent};

    let snapshot = state.db.begin_snapshot().await?;
    let conn = snapshot.conn();
    let study = match actor {
        super::Actor::Staff(user) => {
            require_reader(user)?;
            super::access::study(conn, user, slug).await?.0
        }
        super::Actor::Cli => {
            store::study::find_by_slug(conn, slug).await?.ok_or(AppError::NotFound)?
        }
    };
    let code = participant.map(|c| c.trim().to_uppercase()).filter(|c| !c.is_empty());
    let consents = match &code {
        Some(code) => {
            let p = store::participant::find_by_code(conn, study.id, code)
                .await?
                .ok_or(AppError::NotFound)?;
            store::consent::record::of_participant(conn, p.id).await?
        }
        None => store::consent::record::of_study(conn, study.id).await?,
    };
    let withdrawals = store::participant::withdrawals(conn, study.id).await?;
    let mut packed = Vec::with_capacity(consents.len());
    for c in &consents {
        let Some(record) = &c.record else {
            return Err(AppError::Internal(format!("consent {} record unreadable", c.id)));
        };
        let pdf = store::consent::record::pdf(conn, c.id).await?.unwrap_or_default();
        let withdrawn = withdrawals.contains_key(&c.participant_id);
        let receipt = super::consent::receipt_of(
            state,
            &study,
            record,
            &c.record_sha256,
            &c.pdf_sha256,
            withdrawn,
        );
        packed.push(PackedConsent {
            name: format!("{}-v{}-{}", record.participant_code, record.form_version, c.id),
            pdf,
            receipt_json: serde_json::to_string_pretty(&receipt)
                .map_err(|e| AppError::Internal(format!("receipt: {e}")))?,
        });
    }
    let chain = crate::domain::audit::chain_for(Some(&study.slug));
    let mut events = Vec::new();
    loop {
        let after = events.last().map(|e: &Event| e.seq).unwrap_or(0);
        let page = store::audit::page(conn, &chain, after, 1000).await?;
        let done = page.len() < 1000;
        events.extend(page);
        if done {
            break;
        }
    }
    snapshot.finish().await?;
    let (signed, public_key) = match state.config.checkpoints() {
        None => (Vec::new(), None),
        Some((key_file, dir)) => {
            let public = checkpoints::public_key_hex(&key_file);
            (audit::pack::covering(checkpoints::load(&dir)?, &chain), public)
        }
    };
    let head = events.last().map(|e| format!("{} ({})", e.seq, e.hash)).unwrap_or_default();
    let now = chrono::Utc::now();
    let summary = vec![
        ("Study".to_string(), format!("{} ({})", study.title, study.slug)),
        ("Committee".to_string(), study.ethics.committee.clone()),
        ("Approval reference".to_string(), study.ethics.reference.clone()),
        ("Approval expires".to_string(), study.ethics.expires_on.to_string()),
        (
            "Scope".to_string(),
            code.clone().map_or("the whole study".into(), |c| format!("participant {c}")),
        ),
        ("Signed consents".to_string(), packed.len().to_string()),
        ("Events in the chain".to_string(), events.len().to_string()),
        ("Chain head".to_string(), head),
        ("Signed checkpoints".to_string(), signed.len().to_string()),
        ("Generated (UTC)".to_string(), crate::domain::audit::format_at(&now)),
        ("Generated by".to_string(), actor.audit_name()),
    ];
    let contents =
        Contents { chain, events, consents: packed, checkpoints: signed, public_key, summary };
    let zip = audit::pack::write(&contents)?;
    let tx = state.db.begin_write().await?;
    audit::record(
        tx.conn(),
        crate::domain::audit::NewEvent::new(
            actor.audit_name(),
            "audit.pack_downloaded",
            "study",
            study.id,
        )
        .in_study(&study.slug)
        .with(serde_json::json!({
            "participant_code": code,
            "consents": contents.consents.len(),
            "events": contents.events.len(),
            "pack_sha256": crate::domain::audit::sha256_hex(&zip),
        })),
    )
    .await?;
    tx.commit().await?;
    let file_name = match &code {
        Some(c) => format!("audit-pack-{}-{c}-{}.zip", study.slug, now.format("%Y%m%d")),
        None => format!("audit-pack-{}-{}.zip", study.slug, now.format("%Y%m%d")),
    };
    Ok(Pack { file_name, zip })
}

/// What the console shows of the signed checkpoints: the public key to give the
/// ethics office, how many checkpoints there are, and the latest.
pub struct CheckpointStatus {
    pub public_key: Option<String>,
    pub count: usize,
    pub latest: Option<crate::domain::audit::checkpoint::Checkpoint>,
}

/// `None` when the server signs no checkpoints.
pub fn checkpoint_status(state: &AppState, user: &User) -> AppResult<Option<CheckpointStatus>> {
    require_reader(user)?;
    let Some((key_file, dir)) = state.config.checkpoints() else {
        return Ok(None);
    };
    let public_key = checkpoints::public_key_hex(&key_file);
    let placed = checkpoints::load(&dir)?;
    Ok(Some(CheckpointStatus {
        public_key,
        count: placed.len(),
        latest: placed.into_iter().last().map(|p| p.checkpoint),
    }))
}

/// Takes a checkpoint now, mailed to `CONSENTRY_CHECKPOINT_MAIL_TO` when it is set.
pub async fn take_checkpoint(
    state: &AppState,
    key: &ed25519_dalek::SigningKey,
    dir: &std::path::Path,
) -> AppResult<crate::domain::audit::checkpoint::Checkpoint> {
    let mail = match state.config.checkpoint_mail_to.as_deref() {
        Some(to) => Some(checkpoints::MailTo { to, keys: state.keys()? }),
        None => None,
    };
    checkpoints::take(&state.db, key, dir, mail).await
}
