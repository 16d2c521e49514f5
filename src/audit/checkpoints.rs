//! Checkpoints outside the database: the signing key's two files, the checkpoint
//! file (`checkpoints.jsonl`, one signed JSON line per checkpoint, appended and
//! synced), and taking a checkpoint of every chain.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::Utc;
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand::RngCore;
use serde_json::json;

use crate::domain::audit::checkpoint::{
    self, Checkpoint, CheckpointCheck, KeyError, Mark, Placed, Statement,
};
use crate::domain::audit::{NewEvent, SYSTEM_CHAIN, format_at};
use crate::error::{AppError, AppResult};
use crate::store::{self, Db};

/// The file checkpoints are appended to, in the checkpoint folder.
pub const FILE: &str = "checkpoints.jsonl";

/// Why a key or checkpoint file cannot be used, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Key { path: PathBuf, source: KeyError },
    #[error("{origin} is not a checkpoint (the file was altered)")]
    NotACheckpoint { origin: String },
}

impl From<FileError> for AppError {
    fn from(e: FileError) -> Self {
        AppError::Internal(format!("checkpoint: {e}"))
    }
}

/// The public key's file: the signing key's path with `.pub` added.
pub fn public_key_path(key_file: &Path) -> PathBuf {
    let mut name = key_file.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Writes a new key pair: the signing key (readable by its owner only) at `key_file`,
/// the public key beside it. An existing file is never overwritten.
pub fn keygen(key_file: &Path) -> Result<VerifyingKey, FileError> {
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    let key = SigningKey::from_bytes(&seed);
    let public = key.verifying_key();
    let write = |path: &Path, text: String, mode: u32| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(path)
            .map_err(|source| FileError::Write { path: path.to_path_buf(), source })?;
        file.write_all(format!("{text}\n").as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|source| FileError::Write { path: path.to_path_buf(), source })
    };
    write(key_file, hex::encode(key.to_bytes()), 0o600)?;
    write(&public_key_path(key_file), hex::encode(public.as_bytes()), 0o644)?;
    Ok(public)
}

fn read(path: &Path) -> Result<String, FileError> {
    fs::read_to_string(path).map_err(|source| FileError::Read { path: path.to_path_buf(), source })
}

/// The signing key in `key_file`.
pub fn signing_key(key_file: &Path) -> Result<SigningKey, FileError> {
    checkpoint::signing_key(&read(key_file)?)
        .map_err(|source| FileError::Key { path: key_file.to_path_buf(), source })
}

/// The public key in `path`.
pub fn public_key(path: &Path) -> Result<VerifyingKey, FileError> {
    checkpoint::verifying_key(&read(path)?)
        .map_err(|source| FileError::Key { path: path.to_path_buf(), source })
}

/// The public key beside the signing key `key_file`, hex, when it reads as a key.
pub fn public_key_hex(key_file: &Path) -> Option<String> {
    public_key(&public_key_path(key_file)).ok().map(|k| hex::encode(k.as_bytes()))
}

/// Every checkpoint in the `.jsonl` files of `dir`, files in name order, lines in
/// order; each named by file and line. A folder not made yet holds none.
pub fn load(dir: &Path) -> Result<Vec<Placed>, FileError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(FileError::Read { path: dir.to_path_buf(), source }),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut placed = Vec::new();
    for file in files {
        for (i, line) in read(&file)?.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let origin = format!("{} line {}", file.display(), i + 1);
            let checkpoint = serde_json::from_str::<Checkpoint>(line)
                .map_err(|_| FileError::NotACheckpoint { origin: origin.clone() })?;
            placed.push(Placed { origin, checkpoint });
        }
    }
    Ok(placed)
}

/// The check of every checkpoint in `dir` against the public key in `public_key_file`.
pub fn check(dir: &Path, public_key_file: &Path) -> Result<CheckpointCheck, FileError> {
    Ok(CheckpointCheck::new(load(dir)?, &public_key(public_key_file)?))
}

/// Appends one line to the checkpoint file in `dir`, waits for the disk, and returns
/// the line.
fn append(dir: &Path, checkpoint: &Checkpoint) -> Result<String, FileError> {
    let path = dir.join(FILE);
    let failed = |source| FileError::Write { path: path.clone(), source };
    fs::create_dir_all(dir).map_err(failed)?;
    let line = serde_json::to_string(checkpoint)
        .map_err(|e| failed(std::io::Error::other(e.to_string())))?;
    let mut file = OpenOptions::new().create(true).append(true).open(&path).map_err(failed)?;
    file.write_all(format!("{line}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(failed)?;
    Ok(line)
}

/// Where a checkpoint is mailed besides its file: the address, and the keys that seal
/// queued mail.
pub struct MailTo<'a> {
    pub to: &'a str,
    pub keys: &'a crate::keys::Keys,
}

/// Signs every chain's head as committed now, writes the checkpoint to `dir` (synced
/// before anything is recorded, so a recorded checkpoint is always on disk), then
/// records `audit.checkpoint` on the system chain and, with `mail`, queues a copy to
/// that address in the same transaction.
#[tracing::instrument(skip_all)]
pub async fn take(
    db: &Db,
    key: &SigningKey,
    dir: &Path,
    mail: Option<MailTo<'_>>,
) -> AppResult<Checkpoint> {
    let tx = db.begin_write().await?;
    let chains = store::audit::heads(tx.conn())
        .await?
        .into_iter()
        .map(|(chain, seq, head)| Mark { chain, seq, head })
        .collect::<Vec<_>>();
    let statement = Statement { at: format_at(&Utc::now()), chains };
    let signed = checkpoint::sign(statement, key);
    let line = append(dir, &signed)?;
    let covered = signed.statement.chains.len();
    super::record(
        tx.conn(),
        NewEvent::new("system", "audit.checkpoint", "checkpoint", &signed.statement.at)
            .with(json!({"chains": covered, "key": signed.key, "signature": signed.signature})),
    )
    .await?;
    if let Some(mail) = mail {
        let message =
            crate::mail::compose::checkpoint(mail.to, &signed.statement.at, covered, &line);
        crate::mail::enqueue(tx.conn(), mail.keys, &message).await?;
    }
    tx.commit().await?;
    tracing::info!(chains = covered, chain = SYSTEM_CHAIN, "audit checkpoint signed and written");
    Ok(signed)
}

/// Takes a checkpoint every `minutes` (none when 0), mailing each to `mail_to` (an
/// address, and the keys that seal queued mail) when given; a failure is logged and
/// tried again at the next turn.
pub fn spawn(
    db: Db,
    key: SigningKey,
    dir: PathBuf,
    minutes: u64,
    mail_to: Option<(String, crate::keys::Keys)>,
) -> Option<tokio::task::JoinHandle<()>> {
    if minutes == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        let every = std::time::Duration::from_secs(minutes.saturating_mul(60));
        loop {
            tokio::time::sleep(every).await;
            let mail = mail_to.as_ref().map(|(to, keys)| MailTo { to, keys });
            if let Err(e) = take(&db, &key, &dir, mail).await {
                tracing::error!(error = %e, "audit checkpoint");
            }
        }
    }))
}
