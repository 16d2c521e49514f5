//! The command line as an operator uses it: `migrate`, `user add`, `verify-audit`
//! (and its exit code when a chain has been tampered with).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use sea_orm::{ConnectionTrait, Database};

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch() -> Scratch {
    let dir = std::env::temp_dir().join(format!(
        "consentry-cli-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    Scratch(dir)
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn consentry(dir: &Scratch, args: &[&str], stdin: Option<&str>) -> Output {
    consentry_with(dir, args, stdin, &[])
}

fn consentry_with(
    dir: &Scratch,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, String)],
) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("CONSENTRY_DATABASE_URL", format!("sqlite://{}/c.db?mode=rwc", dir.0.display()))
        .env_remove("CONSENTRY_CONFIG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    if let Some(text) = stdin {
        child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("it finishes")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

#[tokio::test]
async fn operators_migrate_add_staff_and_verify_the_audit_chain() {
    let dir = scratch();
    let out = consentry(&dir, &["migrate"], None);
    assert!(out.status.success(), "{out:?}");

    let out = consentry(
        &dir,
        &[
            "user",
            "add",
            "--email",
            "Admin@Example.org",
            "--name",
            "Ada",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("a long enough passphrase\n"),
    );
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("created admin admin@example.org"), "{}", stdout(&out));
    assert!(!stdout(&out).contains("passphrase"), "a given password is never echoed");

    let out = consentry(
        &dir,
        &["user", "add", "--email", "coord@example.org", "--name", "Cora", "--role", "coordinator"],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    let printed = stdout(&out);
    let password = printed.lines().find_map(|l| l.strip_prefix("password: ")).unwrap_or("");
    assert!(password.len() >= 20, "a generated password is printed once: {printed}");

    let out = consentry(
        &dir,
        &["user", "add", "--email", "admin@example.org", "--name", "Again", "--role", "admin"],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "a taken address fails");
    let out =
        consentry(&dir, &["user", "add", "--email", "x", "--name", "", "--role", "boss"], None);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success() && err.contains("--email") && err.contains("--role"), "{err}");

    let out = consentry(&dir, &["verify-audit"], None);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).starts_with("ok 2 events"), "{}", stdout(&out));

    // Someone edits the log directly in the database.
    let db = Database::connect(format!("sqlite://{}/c.db", dir.0.display())).await.expect("open");
    db.execute_unprepared("DROP TRIGGER audit_events_no_update").await.expect("drop guard");
    db.execute_unprepared("UPDATE audit_events SET actor = 'cli-forged' WHERE seq = 2")
        .await
        .expect("tamper");
    db.close().await.expect("close");

    let out = consentry(&dir, &["verify-audit"], None);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.contains("chain system") && text.contains("seq 2"),
        "the bad event is named: {text}"
    );
}

/// The signing key outside the database, a checkpoint, and an administrator who
/// deletes the system chain and its head: the chain alone verifies, the checkpoint
/// does not hold.
#[tokio::test]
async fn signed_checkpoints_find_a_deleted_chain() {
    let dir = scratch();
    let env = [
        ("CONSENTRY_AUDIT_KEY_FILE", format!("{}/keys/audit.key", dir.0.display())),
        ("CONSENTRY_CHECKPOINT_DIR", format!("{}/shipped", dir.0.display())),
    ];
    std::fs::create_dir_all(dir.0.join("keys")).expect("keys folder");
    let run = |args: &[&str]| consentry_with(&dir, args, None, &env);
    let out = run(&["user", "add", "--email", "a@example.org", "--name", "A", "--role", "admin"]);
    assert!(out.status.success(), "{out:?}");
    let out = run(&["audit", "keygen"]);
    assert!(out.status.success() && stdout(&out).contains("public key"), "{out:?}");
    let out = run(&["audit", "keygen"]);
    assert_eq!(out.status.code(), Some(1), "a key is never overwritten: {out:?}");
    let out = run(&["audit", "checkpoint"]);
    assert!(out.status.success() && stdout(&out).contains("checkpoint of 1 chains"), "{out:?}");
    let shipped = format!("{}/shipped", dir.0.display());
    let out = run(&["verify-audit", "--checkpoints", &shipped]);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("every chain extends all 1 signed checkpoints"), "{out:?}");

    let db = Database::connect(format!("sqlite://{}/c.db", dir.0.display())).await.expect("open");
    db.execute_unprepared("DROP TRIGGER audit_events_no_delete").await.expect("drop guard");
    db.execute_unprepared("DELETE FROM audit_events").await.expect("delete the chain");
    db.execute_unprepared("DELETE FROM audit_chain_heads").await.expect("and its head");
    db.close().await.expect("close");

    assert!(run(&["verify-audit"]).status.success(), "the chain alone cannot tell");
    let out = run(&["verify-audit", "--checkpoints", &shipped]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stdout(&out).contains("checkpoints.jsonl line 1"), "{}", stdout(&out));

    let other = format!("{}/other.key", dir.0.display());
    assert!(run(&["audit", "keygen", "--out", &other]).status.success());
    let out =
        run(&["verify-audit", "--checkpoints", &shipped, "--public-key", &format!("{other}.pub")]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stdout(&out).contains("does not verify"), "{}", stdout(&out));
}

#[test]
fn bad_configuration_is_refused_with_its_name() {
    let dir = scratch();
    let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .arg("migrate")
        .env("CONSENTRY_DATABASE_URL", "mysql://nope")
        .current_dir(&dir.0)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CONSENTRY_DATABASE_URL"));
}

/// `serve` from `dir` with `env`; its exit code and standard error once it stops.
fn serve_briefly(dir: &std::path::Path, env: &[(&str, String)]) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_consentry"));
    command.arg("serve").current_dir(dir).env_remove("CONSENTRY_CONFIG").stdout(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.stderr(Stdio::piped()).output().expect("runs");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).to_string())
}

#[test]
fn a_bad_start_is_one_line_naming_the_setting_never_a_panic() {
    let dir = scratch();
    let key = (
        "CONSENTRY_SECRET_KEY",
        "8f1c1b4b7a0f6c0d2f7b9a5e3c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d".to_string(),
    );
    let db = ("CONSENTRY_DATABASE_URL", format!("sqlite://{}/c.db?mode=rwc", dir.0.display()));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let cases = [
        (vec![key.clone(), db.clone(), ("CONSENTRY_PORT", port)], "CONSENTRY_PORT"),
        (
            vec![key.clone(), ("CONSENTRY_DATABASE_URL", "sqlite:///no/such/folder/c.db".into())],
            "CONSENTRY_DATABASE_URL",
        ),
        (
            vec![key.clone(), db.clone(), ("CONSENTRY_FORMS_DIR", "/no/such/forms".into())],
            "CONSENTRY_FORMS_DIR",
        ),
        (
            vec![key.clone(), db.clone(), ("CONSENTRY_TEMPLATE_DIR", "/no/such/templates".into())],
            "CONSENTRY_TEMPLATE_DIR",
        ),
        (vec![db.clone(), ("CONSENTRY_PORT", "not-a-port".into())], "port"),
    ];
    for (env, setting) in cases {
        let (code, err) = serve_briefly(&dir.0, &env);
        assert_eq!(code, Some(1), "{setting}: {err}");
        let last = err.lines().last().unwrap_or_default();
        assert!(last.starts_with("consentry: ") && last.contains(setting), "{setting}: {err}");
        assert!(!err.contains("panicked") && !err.contains("backtrace"), "{err}");
    }
}

#[test]
fn the_binary_runs_from_an_empty_folder() {
    use std::io::Read;
    let dir = scratch();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["serve", "--demo"])
        .current_dir(&dir.0)
        .env_remove("CONSENTRY_CONFIG")
        .env_remove("CONSENTRY_DATABASE_URL")
        .env_remove("CONSENTRY_FORMS_DIR")
        .env_remove("CONSENTRY_TEMPLATE_DIR")
        .env("CONSENTRY_PORT", port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let ready = (0..300).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        http(
            port,
            "GET /readyz HTTP/1.1
Host: x
Connection: close

",
        ) == "HTTP/1.1 200 OK"
    });
    let pages: Vec<String> =
        ["/static/app.css", "/ads/moodle-mbbs", "/staff/login", "/participant/link"]
            .iter()
            .map(|p| {
                http(port, &format!("GET {p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
            })
            .collect();
    let _ = child.kill();
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_string(&mut out);
    }
    let _ = child.wait();
    assert!(ready, "ready from an empty folder: {out}");
    assert!(pages.iter().all(|s| s == "HTTP/1.1 200 OK"), "{pages:?}");
    assert!(out.contains("/p/cpt_"), "the demo prints a participant link: {out}");
    assert!(dir.0.join("consentry.db").exists(), "the database is made where it runs");
}

#[test]
fn forms_check_passes_on_the_shipped_forms_and_names_each_mistake() {
    let dir = scratch();
    let ok = consentry(&dir, &["forms", "check", "forms"], None);
    assert!(ok.status.success(), "{}{}", stdout(&ok), String::from_utf8_lossy(&ok.stderr));
    assert!(
        stdout(&ok).contains("forms: 3 questionnaires and 2 consent forms load"),
        "{}",
        stdout(&ok)
    );

    let broken = dir.0.join("forms");
    std::fs::create_dir_all(broken.join("questionnaires")).expect("folder");
    let good =
        std::fs::read_to_string("forms/questionnaires/demographics.toml").expect("seed form");
    let cases = [
        (
            "unknown.toml",
            good.replace("required = true\nmin = 17", "required = true\nminimum = 17"),
            "minimum",
        ),
        (
            "bounds.toml",
            good.replace("key = \"demographics\"", "key = \"bounds\"")
                .replace("max = 80", "max = 10"),
            "question[2].max",
        ),
        (
            "dangling.toml",
            good.replace("key = \"demographics\"", "key = \"dangling\"")
                .replace("choices = \"campus\"", "choices = \"campuses\""),
            "question[5].choices",
        ),
        (
            "later.toml",
            good.replace("key = \"demographics\"", "key = \"later\"")
                .replace("entry_pathway == 'graduate'", "nickname == 'x'"),
            "question[6].show_if",
        ),
        (
            "pattern.toml",
            good.replace("key = \"demographics\"", "key = \"pattern\"")
                .replace("max_length = 200", "pattern = \"([a-z]\""),
            "question[6].pattern",
        ),
    ];
    for (name, text, _) in &cases {
        std::fs::write(broken.join("questionnaires").join(name), text).expect("write");
    }
    let out = consentry(&dir, &["forms", "check", broken.to_str().expect("utf-8 path")], None);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{err}");
    for (name, _, key) in &cases {
        let line = err
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} not reported: {err}"));
        assert!(line.contains(&format!(": {key}: ")), "{line}");
        let number: usize = line.split(':').nth(1).and_then(|n| n.trim().parse().ok()).unwrap_or(0);
        assert!(number > 0, "a line number: {line}");
    }
    assert!(err.contains("5 problems"), "{err}");
}

/// A free loopback port (bound, read and released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One HTTP/1.1 request over a plain socket; the answer's status line (empty when
/// nothing listens).
fn http(port: u16, request: &str) -> String {
    use std::io::Read;
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    if stream.write_all(request.as_bytes()).is_err() {
        return String::new();
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.lines().next().unwrap_or_default().to_string()
}

/// Serves on a fresh database with `rust_log`, sends requests whose paths carry
/// participant and staff tokens, stops the server and returns what it logged.
fn log_of_requests_with_tokens(rust_log: Option<&str>, tokens: &[String]) -> String {
    let dir = scratch();
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_consentry"));
    command
        .arg("serve")
        .env("CONSENTRY_DATABASE_URL", format!("sqlite://{}/c.db?mode=rwc", dir.0.display()))
        .env("CONSENTRY_PORT", port.to_string())
        .env(
            "CONSENTRY_SECRET_KEY",
            "8f1c1b4b7a0f6c0d2f7b9a5e3c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d",
        )
        .env_remove("CONSENTRY_CONFIG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    match rust_log {
        Some(filter) => command.env("RUST_LOG", filter),
        None => command.env_remove("RUST_LOG"),
    };
    let mut child = command.spawn().expect("the server starts");
    let ready = (0..200).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(ready, "the server listens");
    let [participant, staff] = [&tokens[0], &tokens[1]];
    let requests = [
        format!("GET /p/{participant} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        format!(
            "POST /p/{participant} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
        format!(
            "GET /p/{participant}/more?t={participant} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        ),
        format!("DELETE /api/v1/x/{staff} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        format!(
            "GET /api/v1/participant HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {participant}\r\nConnection: close\r\n\r\n"
        ),
    ];
    for request in &requests {
        let status = http(port, request);
        assert!(status.starts_with("HTTP/1.1 "), "{status}");
    }
    let _ = child.kill();
    let out = child.wait_with_output().expect("the server stops");
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn tokens_in_paths_never_reach_the_log() {
    let tokens = [format!("cpt_{}", "ab12".repeat(16)), format!("cst_{}", "cd34".repeat(16))];
    for filter in [None, Some("trace")] {
        let log = log_of_requests_with_tokens(filter, &tokens);
        assert!(log.contains("request"), "the server logged its requests ({filter:?}):\n{log}");
        for token in &tokens {
            let secret = &token[4..];
            assert!(!log.contains(secret), "RUST_LOG={filter:?}: a token reached the log:\n{log}");
        }
    }
}

#[tokio::test]
async fn operators_switch_accounts_off_and_on_and_refuse_weak_passwords() {
    let dir = scratch();
    let out = consentry(
        &dir,
        &[
            "user",
            "add",
            "--email",
            "w@example.org",
            "--name",
            "W",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("password1234\n"),
    );
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success() && err.contains("--password") && err.contains("too easy to guess"),
        "{err}"
    );
    let out = consentry(
        &dir,
        &["user", "add", "--email", "cora@example.org", "--name", "Cora", "--role", "coordinator"],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    let active = || async {
        let db =
            Database::connect(format!("sqlite://{}/c.db", dir.0.display())).await.expect("open");
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Sqlite,
                "SELECT active FROM users WHERE email = 'cora@example.org'",
            ))
            .await
            .expect("query")
            .expect("a row");
        let value: bool = row.try_get("", "active").expect("active");
        db.close().await.expect("close");
        value
    };
    let out = consentry(&dir, &["user", "deactivate", "--email", "Cora@Example.org"], None);
    assert!(out.status.success() && stdout(&out).contains("switched off"), "{out:?}");
    assert!(!active().await);
    let out = consentry(&dir, &["user", "activate", "--email", "cora@example.org"], None);
    assert!(out.status.success(), "{out:?}");
    assert!(active().await);
    let out = consentry(&dir, &["user", "revoke-tokens", "--email", "cora@example.org"], None);
    assert!(out.status.success(), "{out:?}");
    let out = consentry(&dir, &["user", "deactivate", "--email", "nobody@example.org"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no staff account"));
    let out = consentry(&dir, &["verify-audit"], None);
    assert!(out.status.success(), "{out:?}");
}

/// Visits of an ad are counted in memory; a server stopped with SIGTERM writes
/// them before it exits, so a clean shutdown loses none.
#[tokio::test]
async fn ad_visits_are_written_when_the_server_stops() {
    let dir = scratch();
    let port = free_port();
    let url = format!("sqlite://{}/c.db?mode=rwc", dir.0.display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["serve", "--demo"])
        .env("CONSENTRY_DATABASE_URL", &url)
        .env("CONSENTRY_PORT", port.to_string())
        .env_remove("CONSENTRY_CONFIG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let ready = (0..600).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        http(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").contains("200")
    });
    assert!(ready, "the server answers");
    for _ in 0..3 {
        let status =
            http(port, "GET /ads/moodle-mbbs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert!(status.contains("200"), "{status}");
    }
    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    assert!(term.is_ok_and(|s| s.success()), "SIGTERM sent");
    let exit = child.wait().expect("the server stops");
    assert!(exit.success(), "a clean stop: {exit:?}");
    let db = Database::connect(&url).await.expect("the database opens");
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT views FROM ads WHERE code = 'moodle-mbbs'",
        ))
        .await
        .expect("a query")
        .expect("the demo ad");
    let views: i64 = row.try_get("", "views").expect("a count");
    assert_eq!(views, 3, "every visit written at shutdown");
}
