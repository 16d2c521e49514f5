//! Persistence: the only module that speaks SeaORM. Functions take a connection or
//! a transaction and return domain types; queries that concern one person's studies
//! are scoped by that person in the query itself.

mod entity;

pub mod audit;
pub mod consent_forms;
pub mod consents;
pub mod focus_groups;
pub mod identity_codes;
pub mod outbox;
pub mod participants;
pub mod questionnaires;
pub mod recruitment;
pub mod report;
pub mod studies;
pub mod throttle;
pub mod tokens;
pub mod users;

use std::sync::Arc;
use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    AccessMode, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction,
    DbBackend, DbErr, IsolationLevel, SqlErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::AppError;

/// A connection or a transaction: what every store function runs on.
pub use sea_orm::ConnectionTrait as Conn;

/// The database: a pool, and on SQLite the single-writer lock.
#[derive(Clone)]
pub struct Db {
    conn: DatabaseConnection,
    /// On SQLite every write transaction takes this lock first, so writes queue in
    /// the service instead of failing with "database is locked". PostgreSQL needs none.
    write_lock: Option<Arc<Mutex<()>>>,
}

/// A write transaction. Dropping it without `commit` rolls it back.
pub struct Tx {
    tx: DatabaseTransaction,
    _writer: Option<OwnedMutexGuard<()>>,
}

impl Tx {
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.tx
    }

    pub async fn commit(self) -> Result<(), AppError> {
        self.tx.commit().await.map_err(AppError::from)
    }
}

/// A read-only transaction over one consistent state of the database.
pub struct Snapshot {
    tx: DatabaseTransaction,
}

impl Snapshot {
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.tx
    }

    pub async fn finish(self) -> Result<(), AppError> {
        self.tx.rollback().await.map_err(AppError::from)
    }
}

impl Db {
    /// Opens the pool. SQLite gets WAL, `synchronous=FULL` (an acknowledged write
    /// survives a power cut), foreign keys and a busy timeout for other processes.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbErr> {
        let mut options = ConnectOptions::new(url.to_string());
        options
            .max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(30))
            .sqlx_logging(false);
        let sqlite = url.starts_with("sqlite:");
        if sqlite {
            options.map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(30))
            });
        }
        let conn = Database::connect(options).await?;
        Ok(Self { conn, write_lock: sqlite.then(|| Arc::new(Mutex::new(()))) })
    }

    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    pub async fn migrate(&self) -> Result<(), DbErr> {
        Migrator::up(&self.conn, None).await
    }

    /// Begins a write transaction: behind the writer lock and as `BEGIN IMMEDIATE`
    /// on SQLite, plain `BEGIN` (read committed) on PostgreSQL.
    pub async fn begin_write(&self) -> Result<Tx, AppError> {
        let writer = match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let tx = self
            .conn
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?;
        Ok(Tx { tx, _writer: writer })
    }

    /// A read-only snapshot: repeatable read on PostgreSQL; on SQLite (WAL) a read
    /// transaction sees one state of the database from its first read.
    pub async fn begin_snapshot(&self) -> Result<Snapshot, AppError> {
        let tx = match self.backend() {
            DbBackend::Postgres => {
                self.conn
                    .begin_with_config(
                        Some(IsolationLevel::RepeatableRead),
                        Some(AccessMode::ReadOnly),
                    )
                    .await?
            }
            _ => self.conn.begin().await?,
        };
        Ok(Snapshot { tx })
    }

    /// A round trip to the database, for health checks.
    pub async fn ping(&self) -> Result<(), AppError> {
        self.conn.execute_unprepared("SELECT 1").await?;
        Ok(())
    }

    pub async fn close(self) -> Result<(), DbErr> {
        self.conn.close().await
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                AppError::Conflict("That already exists.".into())
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                AppError::Conflict("That refers to something that does not exist.".into())
            }
            _ => match err {
                DbErr::RecordNotFound(_) => AppError::NotFound,
                other => AppError::Db(other.to_string()),
            },
        }
    }
}

/// Reads a stored enum-like text column back into its domain type; a value the
/// code does not know means the database was changed behind the service's back.
fn decode<T: std::str::FromStr>(column: &str, raw: &str) -> Result<T, AppError> {
    raw.parse().map_err(|_| AppError::Internal(format!("unknown {column} {raw:?} in the database")))
}

/// Raw statements for tests that must reach past the service (creating databases,
/// tampering with rows to prove verification finds it).
#[cfg(test)]
pub mod testing {
    use sea_orm::ConnectionTrait;

    pub async fn execute(db: &super::Db, sql: &str) {
        db.conn.execute_unprepared(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The first column of the first row, as an integer (e.g. a `COUNT(*)`).
    pub async fn scalar(db: &super::Db, sql: &str) -> i64 {
        let stmt = sea_orm::Statement::from_string(db.backend(), sql.to_string());
        let row = db.conn.query_one_raw(stmt).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        row.and_then(|r| r.try_get_by_index::<i64>(0).ok())
            .unwrap_or_else(|| panic!("{sql}: no integer"))
    }

    /// Reverts migration `name` and every later one, then applies them again, as on
    /// a database that held rows before `name`.
    pub async fn redo_migrations_from(db: &super::Db, name: &str) {
        use migrations::{Migrator, MigratorTrait};
        let all = Migrator::migrations();
        let at = all
            .iter()
            .position(|m| m.name() == name)
            .unwrap_or_else(|| panic!("no migration {name}"));
        let later = u32::try_from(all.len() - at).unwrap_or(u32::MAX);
        Migrator::down(&db.conn, Some(later)).await.unwrap_or_else(|e| panic!("down: {e}"));
        Migrator::up(&db.conn, None).await.unwrap_or_else(|e| panic!("up: {e}"));
    }

    pub async fn try_execute(db: &super::Db, sql: &str) -> Result<(), String> {
        db.conn.execute_unprepared(sql).await.map(|_| ()).map_err(|e| e.to_string())
    }
}
