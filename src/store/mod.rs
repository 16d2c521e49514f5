//! Persistence: the only module that speaks SeaORM. Functions take a connection or
//! a transaction and return domain types; queries that concern one person's studies
//! are scoped by that person in the query itself.

mod entity;
mod held;

pub mod audit;
pub mod auth;
pub mod consent;
pub mod focus_group;
pub mod mail;
pub mod participant;
pub mod questionnaire;
pub mod recruitment;
pub mod report;
pub mod study;
pub mod user;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    AccessMode, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction,
    DbBackend, DbErr, ExecResult, IsolationLevel, QueryResult, SqlErr, Statement, TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::AppError;

/// An insert refused by a unique key, told in the caller's words (`said`); any other failure
/// as it is.
pub(crate) fn taken(said: impl FnOnce() -> AppError) -> impl FnOnce(DbErr) -> AppError {
    move |e| match AppError::from(e) {
        AppError::Conflict(_) => said(),
        other => other,
    }
}

/// A connection or a transaction: what every store function runs on.
pub use sea_orm::ConnectionTrait as Conn;

/// How long a request waits for a pooled connection before the database counts as
/// unavailable (503), and how long a readiness probe waits for an answer.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub acquire: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self { acquire: Duration::from_secs(3) }
    }
}

/// The database. On PostgreSQL reads and writes (in ordinary transactions) go
/// through a pool. On SQLite reads outside a transaction go through connections
/// held without a pool (`held::Readers`; snapshots and migrations still use the
/// pool), and every write goes through one writer connection that
/// Consentry drives itself — `BEGIN IMMEDIATE` … `COMMIT`, never a pool's nested
/// transaction bookkeeping — and replaces after a statement the storage failed
/// (full, read-only, I/O), a failed commit or a failed rollback, so a failed write
/// can never leave it inside a transaction that later "commits" into nothing, and a
/// database that was read-only or full is reopened once it can be written again.
#[derive(Clone)]
pub struct Db {
    conn: DatabaseConnection,
    reads: Reads,
    writer: Option<Arc<Writer>>,
    /// Write transactions begun since the pool opened (a test proves with it that
    /// a page only reads).
    writes: Arc<AtomicU64>,
    /// Statements run through the pool and the writer (counted for the tests and
    /// benchmarks that bound the queries of a page).
    queries: Tally,
}

/// Where the statements run are counted (and, in tests, written down).
#[derive(Clone, Default)]
struct Tally {
    count: Arc<AtomicU64>,
    /// The statements run since a test began to record them.
    #[cfg(test)]
    recorded: Arc<std::sync::Mutex<Option<Vec<String>>>>,
}

/// The SQLite writer: its connection (opened on first use and after a failure) and
/// whether the last write went through.
struct Writer {
    options: sea_orm::sqlx::sqlite::SqliteConnectOptions,
    timeouts: Timeouts,
    slot: Arc<Mutex<Option<held::Held>>>,
    healthy: AtomicBool,
    /// A statement failed because of the storage (full, read-only, I/O): the
    /// connection is replaced when its transaction ends.
    suspect: AtomicBool,
    /// The pool's count of statements, which the writer's statements join.
    queries: Tally,
    /// Statements run on every new writer connection: fault tests make the
    /// database "full" (`PRAGMA max_page_count`) or "read-only" (`query_only`).
    #[cfg(test)]
    faults: std::sync::Mutex<Vec<String>>,
}

type Slot = OwnedMutexGuard<Option<held::Held>>;

impl Writer {
    /// A new connection, held (not pooled): it lives as long as the writer wants
    /// it, where a pool that retired it between two statements would end the
    /// transaction unseen.
    async fn open(&self) -> Result<held::Held, DbErr> {
        let conn = held::Held::open(&self.options, self.queries.clone()).await?;
        #[cfg(test)]
        {
            let faults = self.faults.lock().map(|f| f.clone()).unwrap_or_default();
            for sql in faults {
                conn.execute_unprepared(&sql).await?;
            }
        }
        Ok(conn)
    }

    /// The writer connection, opened if there is none.
    async fn connection(&self, slot: &mut Slot) -> Result<held::Held, DbErr> {
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let conn = self.open().await?;
        **slot = Some(conn.clone());
        Ok(conn)
    }

    /// Notes a failed statement: one the storage caused makes the writer unhealthy
    /// and its connection suspect.
    fn note(&self, error: &DbErr) {
        if unavailable(error) {
            self.healthy.store(false, Ordering::SeqCst);
            self.suspect.store(true, Ordering::SeqCst);
        }
    }

    /// Gives up the writer connection after a failure: whatever it still holds is
    /// rolled back and it is closed; the next write opens a new one.
    async fn discard(&self, slot: &mut Slot) {
        self.healthy.store(false, Ordering::SeqCst);
        self.suspect.store(false, Ordering::SeqCst);
        if let Some(conn) = slot.take() {
            let _ = conn.execute_unprepared("ROLLBACK").await;
            let _ = conn.close().await;
        }
    }

    /// `BEGIN IMMEDIATE` on a connection that is cleanly out of any transaction:
    /// if it is not (the statement fails), the connection is replaced and it is
    /// tried once more.
    async fn begin(&self, slot: &mut Slot) -> Result<held::Held, AppError> {
        let mut failure = None;
        for _ in 0..2 {
            let conn = match self.connection(slot).await {
                Ok(conn) => conn,
                Err(e) => {
                    self.healthy.store(false, Ordering::SeqCst);
                    return Err(e.into());
                }
            };
            match conn.execute_unprepared("BEGIN IMMEDIATE").await {
                Ok(_) => return Ok(conn),
                Err(e) => {
                    tracing::warn!(error = %e, "the SQLite writer could not begin: reopening it");
                    self.discard(slot).await;
                    failure = Some(e);
                }
            }
        }
        Err(failure.map(AppError::from).unwrap_or_else(|| AppError::Internal("no writer".into())))
    }

    /// Ends an unfinished transaction. A rollback that fails for any reason but
    /// "nothing to roll back", or a transaction in which the storage failed,
    /// replaces the connection.
    async fn roll_back(&self, mut slot: Slot) {
        let Some(conn) = slot.clone() else { return };
        match conn.execute_unprepared("ROLLBACK").await {
            Err(e) if !e.to_string().contains("no transaction is active") => {
                tracing::warn!(error = %e, "the SQLite writer could not roll back: reopening it");
                self.discard(&mut slot).await;
            }
            _ if self.suspect.load(Ordering::SeqCst) => self.discard(&mut slot).await,
            _ => {}
        }
    }
}

/// What reads outside a transaction run on: on SQLite connections Consentry holds
/// itself (`held`), one round trip to a connection's thread per statement; on
/// PostgreSQL the pool.
#[derive(Clone)]
pub struct Reads(ReadsOn);

#[derive(Clone)]
enum ReadsOn {
    Held(Arc<held::Readers>),
    Pool(DatabaseConnection),
}

#[async_trait::async_trait]
impl ConnectionTrait for Reads {
    fn get_database_backend(&self) -> DbBackend {
        match &self.0 {
            ReadsOn::Held(r) => r.get_database_backend(),
            ReadsOn::Pool(c) => c.get_database_backend(),
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match &self.0 {
            ReadsOn::Held(r) => r.execute_raw(stmt).await,
            ReadsOn::Pool(c) => c.execute_raw(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match &self.0 {
            ReadsOn::Held(r) => r.execute_unprepared(sql).await,
            ReadsOn::Pool(c) => c.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match &self.0 {
            ReadsOn::Held(r) => r.query_one_raw(stmt).await,
            ReadsOn::Pool(c) => c.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match &self.0 {
            ReadsOn::Held(r) => r.query_all_raw(stmt).await,
            ReadsOn::Pool(c) => c.query_all_raw(stmt).await,
        }
    }
}

/// What a write transaction's statements run on.
pub struct TxConn(Kind);

enum Kind {
    /// SQLite: the writer connection, inside `BEGIN IMMEDIATE`.
    Writer(held::Held, Arc<Writer>),
    /// PostgreSQL: a pooled transaction.
    Pooled(DatabaseTransaction),
    /// After `commit`: nothing runs any more.
    Finished,
}

fn finished() -> DbErr {
    DbErr::Custom("the transaction has ended".into())
}

#[async_trait::async_trait]
impl ConnectionTrait for TxConn {
    fn get_database_backend(&self) -> DbBackend {
        match &self.0 {
            Kind::Writer(c, _) => c.get_database_backend(),
            Kind::Pooled(t) => t.get_database_backend(),
            Kind::Finished => DbBackend::Sqlite,
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match &self.0 {
            Kind::Writer(c, w) => c.execute_raw(stmt).await.inspect_err(|e| w.note(e)),
            Kind::Pooled(t) => t.execute_raw(stmt).await,
            Kind::Finished => Err(finished()),
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match &self.0 {
            Kind::Writer(c, w) => c.execute_unprepared(sql).await.inspect_err(|e| w.note(e)),
            Kind::Pooled(t) => t.execute_unprepared(sql).await,
            Kind::Finished => Err(finished()),
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match &self.0 {
            Kind::Writer(c, w) => c.query_one_raw(stmt).await.inspect_err(|e| w.note(e)),
            Kind::Pooled(t) => t.query_one_raw(stmt).await,
            Kind::Finished => Err(finished()),
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match &self.0 {
            Kind::Writer(c, w) => c.query_all_raw(stmt).await.inspect_err(|e| w.note(e)),
            Kind::Pooled(t) => t.query_all_raw(stmt).await,
            Kind::Finished => Err(finished()),
        }
    }
}

/// A write transaction. Dropping it without `commit` rolls it back.
pub struct Tx {
    conn: TxConn,
    /// SQLite: the writer, held until the transaction ends.
    writer: Option<(Arc<Writer>, Slot)>,
}

impl Tx {
    pub fn conn(&self) -> &TxConn {
        &self.conn
    }

    /// Commits. On SQLite a failed `COMMIT` is rolled back and the writer
    /// connection replaced; either way the caller gets the error, never a success.
    pub async fn commit(mut self) -> Result<(), AppError> {
        match std::mem::replace(&mut self.conn.0, Kind::Finished) {
            Kind::Pooled(tx) => tx.commit().await.map_err(AppError::from),
            Kind::Writer(conn, _) => {
                let Some((writer, mut slot)) = self.writer.take() else {
                    return Err(AppError::Internal(
                        "a writer transaction without its writer".into(),
                    ));
                };
                match conn.execute_unprepared("COMMIT").await {
                    Ok(_) if writer.suspect.load(Ordering::SeqCst) => {
                        // A statement failed but the caller committed anyway: keep
                        // what SQLite kept, and start afresh on a new connection.
                        writer.discard(&mut slot).await;
                        Ok(())
                    }
                    Ok(_) => {
                        writer.healthy.store(true, Ordering::SeqCst);
                        Ok(())
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "the SQLite writer could not commit: reopening it");
                        writer.discard(&mut slot).await;
                        Err(e.into())
                    }
                }
            }
            Kind::Finished => Err(AppError::Internal("the transaction has ended".into())),
        }
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        let Some((writer, mut slot)) = self.writer.take() else { return };
        // The writer stays taken until the rollback has run, so no other write can
        // start on a connection still inside this transaction.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move { writer.roll_back(slot).await });
            }
            Err(_) => {
                writer.healthy.store(false, Ordering::SeqCst);
                *slot = None;
            }
        }
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

impl Tally {
    /// Counts a statement (and, in tests that record them, writes it down).
    fn note(&self, _statement: &dyn std::fmt::Display) {
        self.count.fetch_add(1, Ordering::Relaxed);
        #[cfg(test)]
        if let Ok(mut recorded) = self.recorded.lock()
            && let Some(statements) = recorded.as_mut()
        {
            statements.push(_statement.to_string());
        }
    }
}

/// Counts every statement `conn` runs into `tally`.
fn count_queries(conn: &mut DatabaseConnection, tally: &Tally) {
    let tally = tally.clone();
    conn.set_metric_callback(move |info| tally.note(&info.statement));
}

/// SQLite as Consentry runs it: WAL, `synchronous=FULL` (an acknowledged write
/// survives a power cut), foreign keys, and a busy timeout for other processes.
fn sqlite_settings(
    o: sea_orm::sqlx::sqlite::SqliteConnectOptions,
) -> sea_orm::sqlx::sqlite::SqliteConnectOptions {
    o.journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(30))
}

impl Db {
    /// Opens the pool (and on SQLite the writer, on first use).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbErr> {
        Self::connect_with(url, max_connections, Timeouts::default()).await
    }

    pub async fn connect_with(
        url: &str,
        max_connections: u32,
        timeouts: Timeouts,
    ) -> Result<Self, DbErr> {
        let mut options = ConnectOptions::new(url.to_string());
        options
            .max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(timeouts.acquire)
            .sqlx_logging(false);
        let sqlite = url.starts_with("sqlite:");
        if sqlite {
            // A local file has no connection to lose: testing each one before
            // handing it out would add a round trip to its thread per statement.
            options
                .map_sqlx_sqlite_opts(sqlite_settings)
                .map_sqlx_sqlite_pool_opts(|o| o.test_before_acquire(false));
        }
        let mut conn = Database::connect(options).await?;
        let queries = Tally::default();
        count_queries(&mut conn, &queries);
        let held = if sqlite { Some(held::options_of(url)?) } else { None };
        let reads = match &held {
            Some(options) => Reads(ReadsOn::Held(Arc::new(held::Readers::new(
                options.clone(),
                max_connections,
                timeouts.acquire,
                queries.clone(),
            )))),
            None => Reads(ReadsOn::Pool(conn.clone())),
        };
        let writer = held.map(|options| {
            Arc::new(Writer {
                options,
                timeouts,
                queries: queries.clone(),
                slot: Arc::new(Mutex::new(None)),
                healthy: AtomicBool::new(false),
                suspect: AtomicBool::new(false),
                #[cfg(test)]
                faults: std::sync::Mutex::new(Vec::new()),
            })
        });
        Ok(Self { conn, reads, writer, writes: Arc::default(), queries })
    }

    /// The database file, on SQLite (none for a database held in memory, which
    /// only the pool's own connections can see).
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        let file = self.writer.as_ref()?.options.get_filename();
        Some(file.to_path_buf()).filter(|file| file.is_file())
    }

    /// How many write transactions were begun through this pool.
    pub fn writes_begun(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// How many statements the pool and the writer have run.
    pub fn queries_run(&self) -> u64 {
        self.queries.count.load(Ordering::Relaxed)
    }

    /// What reads outside a transaction run on.
    pub fn conn(&self) -> &Reads {
        &self.reads
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    pub async fn migrate(&self) -> Result<(), DbErr> {
        Migrator::up(&self.conn, None).await
    }

    /// Begins a write transaction: on SQLite on the writer connection, behind its
    /// lock, as `BEGIN IMMEDIATE`; on PostgreSQL a pooled `BEGIN` (read committed).
    pub async fn begin_write(&self) -> Result<Tx, AppError> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        match &self.writer {
            Some(writer) => {
                let mut slot = writer.slot.clone().lock_owned().await;
                let conn = writer.begin(&mut slot).await?;
                let conn = TxConn(Kind::Writer(conn, writer.clone()));
                Ok(Tx { conn, writer: Some((writer.clone(), slot)) })
            }
            None => Ok(Tx { conn: TxConn(Kind::Pooled(self.conn.begin().await?)), writer: None }),
        }
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

    /// Whether the database can serve requests now: it answers a query within the
    /// acquire timeout and, on SQLite, writes go through. After a failed write the
    /// probe commits one small write itself (without waiting for a write in
    /// progress), so readiness comes back only once the disk takes writes again.
    pub async fn ready(&self) -> Result<(), AppError> {
        let wait = self.writer.as_ref().map_or(Timeouts::default().acquire, |w| w.timeouts.acquire);
        match tokio::time::timeout(wait, self.reads.execute_unprepared("SELECT 1")).await {
            Err(_) => {
                return Err(not_ready(format!(
                    "the database did not answer within {} ms",
                    wait.as_millis()
                )));
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness: the database does not answer");
                return Err(not_ready("the database does not answer"));
            }
            Ok(Ok(_)) => {}
        }
        let Some(writer) = &self.writer else { return Ok(()) };
        if writer.healthy.load(Ordering::SeqCst) {
            return Ok(());
        }
        let Ok(mut slot) = writer.slot.clone().try_lock_owned() else {
            return Err(not_ready("the last write failed and a write is in progress"));
        };
        let probe = async {
            let conn = writer.begin(&mut slot).await?;
            let wrote = conn
                .execute_unprepared(
                    "INSERT INTO writer_probe (pad) VALUES (zeroblob(65536)); \
                     DELETE FROM writer_probe;",
                )
                .await;
            let committed = match wrote {
                Ok(_) => conn.execute_unprepared("COMMIT").await,
                Err(e) => Err(e),
            };
            if let Err(e) = committed {
                writer.discard(&mut slot).await;
                return Err(AppError::from(e));
            }
            Ok(())
        };
        match tokio::time::timeout(wait, probe).await {
            Ok(Ok(())) => {
                writer.healthy.store(true, Ordering::SeqCst);
                Ok(())
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness: the database cannot be written");
                Err(not_ready("the database cannot be written (full, read-only or failing)"))
            }
            Err(_) => Err(not_ready("the database could not begin a write in time")),
        }
    }

    pub async fn close(self) -> Result<(), DbErr> {
        if let Some(writer) = &self.writer
            && let Some(conn) = writer.slot.lock().await.take()
        {
            let _ = conn.close().await;
        }
        if let ReadsOn::Held(readers) = &self.reads.0 {
            readers.close().await;
        }
        self.conn.close().await
    }
}

/// SQLite's primary result codes that mean the storage, not the request, is at
/// fault: busy, read-only, I/O error, full, cannot open.
const SQLITE_STORAGE_CODES: [i64; 5] = [5, 8, 10, 13, 14];

/// Whether `err` says the database cannot be reached or written right now (a pool
/// that cannot hand out a connection, a lost connection, a full or read-only disk),
/// as opposed to a fault in the request or the code.
fn unavailable(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    let runtime = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(e) | DbErr::Exec(e) | DbErr::Query(e) => e,
        _ => return false,
    };
    match runtime {
        RuntimeErr::SqlxError(e) => match e.as_ref() {
            sea_orm::sqlx::Error::Database(db) => db
                .code()
                .and_then(|c| c.parse::<i64>().ok())
                .is_some_and(|c| SQLITE_STORAGE_CODES.contains(&(c & 0xff))),
            sea_orm::sqlx::Error::Io(_)
            | sea_orm::sqlx::Error::PoolTimedOut
            | sea_orm::sqlx::Error::PoolClosed
            | sea_orm::sqlx::Error::WorkerCrashed => true,
            _ => false,
        },
        _ => matches!(err, DbErr::Conn(_)),
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        if unavailable(&err) {
            return AppError::Unavailable(err.to_string());
        }
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
/// Why the database cannot serve requests now (the readiness probe's reason).
fn not_ready(reason: impl Into<String>) -> AppError {
    AppError::Unavailable(reason.into())
}

#[cfg(test)]
pub mod testing {
    use sea_orm::ConnectionTrait;

    /// Begins writing down every statement the pool and the writer run.
    pub fn record_statements(db: &super::Db) {
        if let Ok(mut recorded) = db.queries.recorded.lock() {
            *recorded = Some(Vec::new());
        }
    }

    /// The statements run since `record_statements`, with their values in place;
    /// recording stops.
    pub fn recorded_statements(db: &super::Db) -> Vec<String> {
        db.queries.recorded.lock().ok().and_then(|mut r| r.take()).unwrap_or_default()
    }

    pub async fn execute(db: &super::Db, sql: &str) {
        db.conn.execute_unprepared(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// SQLite's plan for `sql`, one line a step ("SCAN consents", "SEARCH …").
    pub async fn query_plan(db: &super::Db, sql: &str) -> Vec<String> {
        let plan = format!("EXPLAIN QUERY PLAN {sql}");
        let stmt = sea_orm::Statement::from_string(db.backend(), plan);
        let rows = db.conn.query_all_raw(stmt).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.iter().filter_map(|r| r.try_get_by::<String, _>("detail").ok()).collect()
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

    pub async fn try_execute(db: &super::Db, sql: &str) -> Result<(), crate::error::AppError> {
        db.conn.execute_unprepared(sql).await?;
        Ok(())
    }

    /// Fault injection: `statements` run on every writer connection opened from now
    /// on (`PRAGMA max_page_count = …` fills the disk, `PRAGMA query_only = ON`
    /// makes the file read-only), and the current writer is replaced; an empty list
    /// lifts the fault as an operator freeing space would, without a restart.
    pub async fn writer_faults(db: &super::Db, statements: &[String]) {
        let writer = db.writer.as_ref().unwrap_or_else(|| panic!("only SQLite has a writer"));
        if let Ok(mut faults) = writer.faults.lock() {
            *faults = statements.to_vec();
        }
        let mut slot = writer.slot.clone().lock_owned().await;
        if let Some(conn) = slot.take() {
            let _ = conn.close().await;
        }
        if !statements.is_empty() {
            writer.connection(&mut slot).await.unwrap_or_else(|e| panic!("reopen: {e}"));
        }
    }
}
