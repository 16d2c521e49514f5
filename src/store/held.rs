//! SQLite connections that Consentry holds itself instead of borrowing them from a
//! sqlx pool.
//!
//! sqlx runs each SQLite connection on a thread of its own, and its pool pings a
//! connection on that thread (and spawns a task to do it) every time the connection
//! goes back: through the pool every statement costs two round trips between threads,
//! and on two cores the thread switches were the largest single cost of a page. Here
//! a statement takes a connection, runs and puts it back: one round trip.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sea_orm::sqlx::{self, ConnectOptions as _, Connection as _};
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr,
    Statement,
};
use sea_query_sqlx::SqlxValues;
use tokio::sync::{Semaphore, SemaphorePermit};

use super::Tally;

/// How Consentry opens a SQLite connection: `url` with its settings applied.
pub(super) fn options_of(url: &str) -> Result<SqliteConnectOptions, DbErr> {
    let options = SqliteConnectOptions::from_str(url).map_err(conn_err)?;
    Ok(super::sqlite_settings(options).disable_statement_logging())
}

/// Opens one connection.
pub(super) async fn open(options: &SqliteConnectOptions) -> Result<SqliteConnection, DbErr> {
    options.connect().await.map_err(conn_err)
}

fn conn_err(e: sqlx::Error) -> DbErr {
    DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e)))
}

fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
}

fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
}

fn query(stmt: &Statement) -> sqlx::query::Query<'_, sqlx::Sqlite, SqlxValues> {
    let values = stmt.values.clone().unwrap_or(sea_orm::sea_query::Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql.as_str()), SqlxValues(values))
}

/// The statements of SeaORM's `ConnectionTrait`, on one connection.
pub(super) async fn execute(
    conn: &mut SqliteConnection,
    stmt: &Statement,
) -> Result<ExecResult, DbErr> {
    query(stmt).execute(conn).await.map(ExecResult::from).map_err(exec_err)
}

pub(super) async fn execute_unprepared(
    conn: &mut SqliteConnection,
    sql: &str,
) -> Result<ExecResult, DbErr> {
    use sea_orm::sqlx::Executor as _;
    conn.execute(sqlx::AssertSqlSafe(sql.to_owned())).await.map(ExecResult::from).map_err(exec_err)
}

pub(super) async fn query_one(
    conn: &mut SqliteConnection,
    stmt: &Statement,
) -> Result<Option<QueryResult>, DbErr> {
    query(stmt).fetch_optional(conn).await.map(|row| row.map(QueryResult::from)).map_err(query_err)
}

pub(super) async fn query_all(
    conn: &mut SqliteConnection,
    stmt: &Statement,
) -> Result<Vec<QueryResult>, DbErr> {
    query(stmt)
        .fetch_all(conn)
        .await
        .map(|rows| rows.into_iter().map(QueryResult::from).collect())
        .map_err(query_err)
}

/// Connections for reads, opened as they are first needed, at most `size` at once.
/// They never hold a transaction open between statements: a read that needs one
/// state of the database takes a snapshot from the pool instead.
pub(super) struct Readers {
    options: SqliteConnectOptions,
    idle: std::sync::Mutex<Vec<SqliteConnection>>,
    permits: Semaphore,
    acquire: Duration,
    tally: Tally,
}

/// A connection taken for one statement; it goes back when dropped, unless the
/// storage failed under it.
struct Lease<'a> {
    readers: &'a Readers,
    conn: Option<SqliteConnection>,
    _permit: SemaphorePermit<'a>,
}

impl Lease<'_> {
    fn conn(&mut self) -> Result<&mut SqliteConnection, DbErr> {
        self.conn.as_mut().ok_or_else(closed)
    }

    /// Keeps the connection only if `result` does not say the storage failed: a
    /// connection that saw an I/O error is closed and the next read opens another.
    fn after<T>(mut self, result: Result<T, DbErr>) -> Result<T, DbErr> {
        if let Err(e) = &result
            && super::unavailable(e)
        {
            self.conn = None;
        }
        result
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && let Ok(mut idle) = self.readers.idle.lock()
        {
            idle.push(conn);
        }
    }
}

impl Readers {
    pub(super) fn new(
        options: SqliteConnectOptions,
        size: u32,
        acquire: Duration,
        tally: Tally,
    ) -> Self {
        Self {
            options,
            idle: std::sync::Mutex::new(Vec::new()),
            permits: Semaphore::new(size.max(1) as usize),
            acquire,
            tally,
        }
    }

    /// An idle connection, or a new one; waits at most the acquire timeout for a
    /// free place, as the pool did, so a database that cannot keep up answers 503.
    async fn lease(&self) -> Result<Lease<'_>, DbErr> {
        let permit = match tokio::time::timeout(self.acquire, self.permits.acquire()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(closed()),
            Err(_) => return Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
        };
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(conn) => conn,
            None => open(&self.options).await?,
        };
        Ok(Lease { readers: self, conn: Some(conn), _permit: permit })
    }

    /// Closes the idle connections; a read after this fails as a closed pool's did.
    pub(super) async fn close(&self) {
        self.permits.close();
        let idle = self.idle.lock().map(|mut idle| std::mem::take(&mut *idle)).unwrap_or_default();
        for conn in idle {
            let _ = conn.close().await;
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Readers {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.tally.note(&stmt);
        let mut lease = self.lease().await?;
        let result = execute(lease.conn()?, &stmt).await;
        lease.after(result)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.tally.note(&sql);
        let mut lease = self.lease().await?;
        let result = execute_unprepared(lease.conn()?, sql).await;
        lease.after(result)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.tally.note(&stmt);
        let mut lease = self.lease().await?;
        let result = query_one(lease.conn()?, &stmt).await;
        lease.after(result)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.tally.note(&stmt);
        let mut lease = self.lease().await?;
        let result = query_all(lease.conn()?, &stmt).await;
        lease.after(result)
    }
}

/// One connection held for as long as its owner wants it: the SQLite writer's,
/// whose transaction spans many statements.
#[derive(Clone)]
pub(super) struct Held {
    conn: Arc<tokio::sync::Mutex<Option<SqliteConnection>>>,
    tally: Tally,
}

impl Held {
    pub(super) async fn open(options: &SqliteConnectOptions, tally: Tally) -> Result<Self, DbErr> {
        let conn = open(options).await?;
        Ok(Self { conn: Arc::new(tokio::sync::Mutex::new(Some(conn))), tally })
    }

    /// Closes the connection; a statement run after this fails.
    pub(super) async fn close(&self) {
        if let Some(conn) = self.conn.lock().await.take() {
            let _ = conn.close().await;
        }
    }
}

fn closed() -> DbErr {
    DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)
}

#[async_trait::async_trait]
impl ConnectionTrait for Held {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.tally.note(&stmt);
        execute(self.conn.lock().await.as_mut().ok_or_else(closed)?, &stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.tally.note(&sql);
        execute_unprepared(self.conn.lock().await.as_mut().ok_or_else(closed)?, sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.tally.note(&stmt);
        query_one(self.conn.lock().await.as_mut().ok_or_else(closed)?, &stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.tally.note(&stmt);
        query_all(self.conn.lock().await.as_mut().ok_or_else(closed)?, &stmt).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder for one test's database, removed when the test ends.
    struct Folder(std::path::PathBuf);

    impl Folder {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("consentry-{name}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
            Self(dir)
        }
    }

    impl Drop for Folder {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn readers(dir: &Folder, size: u32) -> Readers {
        let url = format!("sqlite://{}/held.db?mode=rwc", dir.0.display());
        let options = options_of(&url).unwrap_or_else(|e| panic!("options: {e}"));
        Readers::new(options, size, Duration::from_millis(200), Tally::default())
    }

    fn idle(r: &Readers) -> usize {
        r.idle.lock().map(|idle| idle.len()).unwrap_or(usize::MAX)
    }

    #[tokio::test]
    async fn a_read_waits_for_a_free_connection_no_longer_than_the_acquire_timeout() {
        let dir = Folder::new("held-timeout");
        let r = readers(&dir, 1);
        let one = r.query_one_raw(Statement::from_string(DbBackend::Sqlite, "SELECT 1")).await;
        assert!(matches!(one, Ok(Some(_))), "{one:?}");
        let taken = r.lease().await.unwrap_or_else(|e| panic!("{e}"));
        let started = std::time::Instant::now();
        let waited = r.execute_unprepared("SELECT 1").await;
        assert!(
            matches!(waited, Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))),
            "{waited:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        assert!(super::super::unavailable(&DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)));
        drop(taken);
        assert!(r.execute_unprepared("SELECT 1").await.is_ok(), "free again");
    }

    /// SQLite's memory statistics make every allocation it does take one mutex that
    /// all connections share; nothing in Consentry reads them, so the bundled
    /// SQLite is built without them (`.cargo/config.toml`).
    #[tokio::test]
    async fn sqlite_is_built_without_its_shared_memory_statistics() {
        let dir = Folder::new("held-options");
        let r = readers(&dir, 1);
        let sql = "SELECT compile_options FROM pragma_compile_options \
                   WHERE compile_options LIKE 'DEFAULT_MEMSTATUS=%'";
        let rows = r.query_all_raw(Statement::from_string(DbBackend::Sqlite, sql));
        let rows = rows.await.unwrap_or_else(|e| panic!("{e}"));
        let options: Vec<String> =
            rows.iter().filter_map(|row| row.try_get_by_index::<String>(0).ok()).collect();
        assert_eq!(options, ["DEFAULT_MEMSTATUS=0"]);
    }

    /// SeaORM binds every value, `LIMIT 1` too. Without the query planner's stability
    /// guarantee SQLite plans a statement for the values bound to it, so binding
    /// again (as every execution does) compiles the statement again: a statement
    /// that is run again must not be prepared again.
    #[test]
    fn a_statement_run_again_with_new_values_is_not_compiled_again() {
        let conn = rusqlite::Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, state TEXT)")
            .unwrap_or_else(|e| panic!("{e}"));
        let sql = "SELECT id FROM t WHERE id = ?1 AND state = ?2 ORDER BY id LIMIT ?3";
        let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{e}"));
        for id in 0..5 {
            let rows = stmt.query_map(rusqlite::params![id, "active", 1], |r| r.get::<_, i64>(0));
            assert_eq!(rows.unwrap_or_else(|e| panic!("{e}")).count(), 0);
        }
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0);
    }

    #[tokio::test]
    async fn a_connection_goes_back_after_a_bad_statement_but_not_after_the_storage_failed() {
        let dir = Folder::new("held-failure");
        let r = readers(&dir, 2);
        let bad = r.query_all_raw(Statement::from_string(DbBackend::Sqlite, "SELECT nothing"));
        assert!(bad.await.is_err());
        assert_eq!(idle(&r), 1, "a statement's own error leaves the connection usable");

        let lease = r.lease().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(idle(&r), 0);
        let io = sqlx::Error::Io(std::io::Error::other("disk I/O error"));
        let failed: Result<(), DbErr> = lease.after(Err(query_err(io)));
        assert!(failed.is_err());
        assert_eq!(idle(&r), 0, "the connection the storage failed under is closed");
        assert!(r.execute_unprepared("SELECT 1").await.is_ok(), "the next read opens another");
        assert_eq!(idle(&r), 1);
    }
}
