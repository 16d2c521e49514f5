//! The whole audit trail read back for verification, inside one read snapshot.
//!
//! On SQLite the trail is read on a connection of its own, a page at a time on a
//! blocking thread: sqlx's driver hands every row from its connection's thread to
//! the runtime one at a time, which for a million events costs more than hashing
//! them. On PostgreSQL it is read through the snapshot transaction.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDateTime, Utc};
use rusqlite::{Connection, OpenFlags};
use sea_orm::DatabaseTransaction;

use crate::domain::audit::StoredEvent;
use crate::error::AppError;
use crate::store::{Db, Snapshot};

/// Where verification reads the trail from (see the module's comment).
pub enum TrailReader<'a> {
    Sqlite(Arc<Mutex<Connection>>),
    Snapshot(&'a DatabaseTransaction),
}

impl<'a> TrailReader<'a> {
    /// On SQLite, a read-only connection to the database file in a read
    /// transaction of its own; otherwise the snapshot. The SQLite snapshot is made
    /// to start first, so whatever the caller reads through it afterwards (the
    /// consents, say) the trail reader sees too, with the events that record it.
    pub async fn open(db: &Db, snapshot: &'a Snapshot) -> Result<Self, AppError> {
        let Some(file) = db.sqlite_file() else {
            return Ok(TrailReader::Snapshot(snapshot.conn()));
        };
        super::heads(snapshot.conn()).await?;
        let conn = blocking(move || {
            let opened = || {
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let conn = Connection::open_with_flags(file, flags)?;
                conn.busy_timeout(std::time::Duration::from_secs(30))?;
                conn.execute_batch("BEGIN")?;
                conn.query_row("SELECT count(*) FROM audit_chain_heads", [], |_| Ok(()))?;
                Ok(conn)
            };
            opened().map_err(error_of)
        })
        .await?;
        Ok(TrailReader::Sqlite(Arc::new(Mutex::new(conn))))
    }

    /// Every chain with its recorded head `(chain, seq, hash)`, in name order.
    pub async fn heads(&self) -> Result<Vec<(String, i64, String)>, AppError> {
        match self {
            TrailReader::Snapshot(tx) => super::heads(*tx).await,
            TrailReader::Sqlite(conn) => {
                on(conn, |c| {
                    let mut statement =
                        c.prepare("SELECT chain, seq, hash FROM audit_chain_heads ORDER BY chain")?;
                    let rows =
                        statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                    rows.collect()
                })
                .await
            }
        }
    }

    /// Chains that have events, head or not.
    pub async fn chains_with_events(&self) -> Result<Vec<String>, AppError> {
        match self {
            TrailReader::Snapshot(tx) => super::chains_with_events(*tx).await,
            TrailReader::Sqlite(conn) => {
                on(conn, |c| {
                    let mut statement = c.prepare("SELECT DISTINCT chain FROM audit_events")?;
                    let rows = statement.query_map([], |r| r.get(0))?;
                    rows.collect()
                })
                .await
            }
        }
    }

    /// Up to `limit` events of `chain` after sequence number `after`, in order,
    /// as stored.
    pub async fn page(
        &self,
        chain: &str,
        after: i64,
        limit: u64,
    ) -> Result<Vec<StoredEvent>, AppError> {
        match self {
            TrailReader::Snapshot(tx) => super::stored_page(*tx, chain, after, limit).await,
            TrailReader::Sqlite(conn) => {
                let chain = chain.to_string();
                let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                on(conn, move |c| {
                    let mut statement = c.prepare(
                        "SELECT chain, seq, at, actor, action, study, entity, entity_id, \
                         details, prev_hash, hash FROM audit_events \
                         WHERE chain = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                    )?;
                    let rows = statement.query_map((chain, after, limit), |r| {
                        Ok(StoredEvent {
                            chain: r.get(0)?,
                            seq: r.get(1)?,
                            at: stored_time(r.get_ref(2)?.as_str()?),
                            actor: r.get(3)?,
                            action: r.get(4)?,
                            study: r.get(5)?,
                            entity: r.get(6)?,
                            entity_id: r.get(7)?,
                            details: r.get(8)?,
                            prev_hash: r.get(9)?,
                            hash: r.get(10)?,
                        })
                    })?;
                    rows.collect()
                })
                .await
            }
        }
    }
}

/// A time as the SQLite driver stores it (RFC 3339, or SQLite's own forms). One
/// that reads as neither is not a time the service wrote: it is taken as the
/// earliest time there is, so that the event's hash check fails and names it.
fn stored_time(text: &str) -> DateTime<Utc> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return at.with_timezone(&Utc);
    }
    for format in ["%F %T%.f%:z", "%F %T%.fZ"] {
        if let Ok(at) = DateTime::parse_from_str(text, format) {
            return at.with_timezone(&Utc);
        }
    }
    NaiveDateTime::parse_from_str(text, "%F %T%.f")
        .map(|at| at.and_utc())
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Runs `read` on the connection on a blocking thread.
async fn on<T: Send + 'static>(
    conn: &Arc<Mutex<Connection>>,
    read: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
) -> Result<T, AppError> {
    let conn = conn.clone();
    blocking(move || match conn.lock() {
        Ok(conn) => read(&conn).map_err(error_of),
        Err(_) => Err(AppError::Internal("the audit trail reader failed earlier".into())),
    })
    .await
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Internal(format!("audit trail reader: {e}")))?
}

/// A storage that cannot answer now is a 503, as through the pool.
fn error_of(e: rusqlite::Error) -> AppError {
    use rusqlite::ErrorCode::*;
    let what = format!("reading the audit trail: {e}");
    match e.sqlite_error_code() {
        Some(DatabaseBusy | DatabaseLocked | CannotOpen | SystemIoFailure | NotADatabase) => {
            AppError::Unavailable(what)
        }
        _ => AppError::Db(what),
    }
}
