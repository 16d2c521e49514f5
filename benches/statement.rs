//! What one read statement costs through Consentry's SQLite reads (SeaORM over
//! sqlx, whose connection runs on its own thread, so each statement crosses to
//! that thread and back) against the same statement on a synchronous connection
//! called on the asking thread (rusqlite, the same bundled SQLite), in the same
//! run, on the same file: the ceiling of what running SQLite on the request's own
//! thread could save per statement (BENCHMARKS.md).
//!
//!   cargo bench --bench statement
//!   CONSENTRY_BENCH_STATEMENTS=100000 cargo bench --bench statement

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::str::FromStr;
use std::time::Instant;

use consentry::store::Db;
use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::sqlx::{self, ConnectOptions, Connection, Row};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// Tasks reading at once in the second run through Consentry's reads.
const TASKS: usize = 16;

/// Threads reading at once on synchronous connections (this machine's cores).
const CORES: usize = 2;

/// An indexed lookup of one row by its key, on a table every migrated database has.
const SQL: &str = "SELECT version, applied_at FROM seaql_migrations WHERE version = ?";

/// The process's CPU time so far (all its threads, user and system), in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').expect("stat") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / clock_ticks()
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

struct Run {
    wall: f64,
    cpu: f64,
}

impl Run {
    fn print(&self, what: &str, n: usize) {
        println!(
            "{what}: {n} in {:.2} s, {:.1} µs each, {:.1} µs of CPU each",
            self.wall,
            self.wall / n as f64 * 1e6,
            self.cpu / n as f64 * 1e6
        );
    }
}

/// Reads the rows `start`, `start + step`, … below `n` of `keys` through
/// Consentry's reads.
async fn held_reads(db: &Db, keys: &[String], start: usize, step: usize, n: usize) {
    for i in (start..n).step_by(step) {
        let key = keys[i % keys.len()].clone();
        let stmt = Statement::from_sql_and_values(DbBackend::Sqlite, SQL, [key.into()]);
        let row = db.conn().query_one_raw(stmt).await.expect("read");
        assert!(row.is_some());
    }
}

/// The same reads on a synchronous connection to `file` on this thread, the
/// statement prepared once, as sqlx keeps each connection's prepared statements.
fn direct_reads(file: &std::path::Path, keys: &[String], start: usize, step: usize, n: usize) {
    let conn = rusqlite::Connection::open(file).expect("rusqlite");
    let mut stmt = conn.prepare(SQL).expect("prepare");
    for i in (start..n).step_by(step) {
        let found: (String, i64) =
            stmt.query_row([&keys[i % keys.len()]], |r| Ok((r.get(0)?, r.get(1)?))).expect("read");
        std::hint::black_box(found);
    }
}

fn main() {
    let n: usize = std::env::var("CONSENTRY_BENCH_STATEMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let dir =
        std::env::temp_dir().join(format!("consentry-statement-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("statement.db");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let (held, held_together, bare, keys) = rt.block_on(async {
        let db =
            Db::connect(&format!("sqlite://{}?mode=rwc", file.display()), 10).await.expect("db");
        db.migrate().await.expect("migrations");
        let rows = db
            .conn()
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT version FROM seaql_migrations ORDER BY version",
            ))
            .await
            .expect("versions");
        let keys: Vec<String> = rows.iter().map(|r| r.try_get_by_index(0).unwrap()).collect();
        assert!(!keys.is_empty(), "migrations ran");
        // One at a time, as a page runs its statements.
        let (wall, cpu) = (Instant::now(), cpu_seconds());
        held_reads(&db, &keys, 0, 1, n).await;
        let held = Run { wall: wall.elapsed().as_secs_f64(), cpu: cpu_seconds() - cpu };

        // Sixteen at once, as sixteen participants' pages run theirs.
        let (wall, cpu) = (Instant::now(), cpu_seconds());
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| {
                let (db, keys) = (db.clone(), keys.clone());
                tokio::spawn(async move { held_reads(&db, &keys, t, TASKS, n).await })
            })
            .collect();
        for task in tasks {
            task.await.expect("task");
        }
        let held_together = Run { wall: wall.elapsed().as_secs_f64(), cpu: cpu_seconds() - cpu };
        db.close().await.expect("close");

        // sqlx alone on one connection: the same hop to its thread, without SeaORM.
        let mut conn = SqliteConnectOptions::from_str(&format!("sqlite://{}", file.display()))
            .expect("options")
            .connect()
            .await
            .expect("sqlx connection");
        let (wall, cpu) = (Instant::now(), cpu_seconds());
        for i in 0..n {
            let row = sqlx::query(SQL)
                .bind(&keys[i % keys.len()])
                .fetch_one(&mut conn)
                .await
                .expect("read");
            let found: (String, i64) = (row.get(0), row.get(1));
            std::hint::black_box(found);
        }
        let bare = Run { wall: wall.elapsed().as_secs_f64(), cpu: cpu_seconds() - cpu };
        conn.close().await.expect("close");
        (held, held_together, bare, keys)
    });

    // The file is in WAL mode since Consentry opened it; opening a connection is
    // timed too, once a run, against n statements.
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    direct_reads(&file, &keys, 0, 1, n);
    let direct = Run { wall: wall.elapsed().as_secs_f64(), cpu: cpu_seconds() - cpu };

    // One synchronous connection on each core's thread at once.
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    std::thread::scope(|scope| {
        for t in 0..CORES {
            let (file, keys) = (&file, &keys);
            scope.spawn(move || direct_reads(file, keys, t, CORES, n));
        }
    });
    let direct_together = Run { wall: wall.elapsed().as_secs_f64(), cpu: cpu_seconds() - cpu };

    held.print("through Consentry's reads (SeaORM, sqlx's thread)", n);
    held_together.print("  the same, 16 tasks at once", n);
    bare.print("through sqlx alone (its thread, no SeaORM)", n);
    direct.print("on the asking thread (rusqlite)", n);
    direct_together.print("  the same, one thread a core at once", n);
    for (how, via, direct) in
        [("one at a time", &held, &direct), ("at once", &held_together, &direct_together)]
    {
        println!(
            "{how}: CPU per statement on the asking thread / through Consentry's reads {:.2}; \
             107 statements (one participant's path) {:.1} ms against {:.1} ms",
            direct.cpu / via.cpu,
            direct.cpu / n as f64 * 107e3,
            via.cpu / n as f64 * 107e3
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
