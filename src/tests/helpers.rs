//! Test harness: a fresh database per test (a temp-dir SQLite file, or a fresh
//! PostgreSQL database when `CONSENTRY_TEST_DATABASE_URL` is set, dropped at the
//! end), migrated with the real `Migrator`, and the app behind Rocket's local client.

use std::path::PathBuf;

use rand::RngCore;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use serde_json::{Value, json};

use crate::config::{self, AppConfig};
use crate::domain::user::NewUser;
use crate::service::{self, Actor, AppState};
use crate::store::Db;

pub const PASSWORD: &str = "Str0ng-pass-for-tests";
const SECRET_KEY: &str = "8f1c1b4b7a0f6c0d2f7b9a5e3c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d";

/// Runs a test body once on SQLite and once more on PostgreSQL when configured;
/// `[key => value, …]` after the name overrides configuration keys for the app.
macro_rules! db_test {
    ($name:ident, |$app:ident| $body:block) => {
        db_test!($name, [], |$app| $body);
    };
    ($name:ident, [$($key:literal => $value:expr),* $(,)?], |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: crate::tests::helpers::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let settings = [$(($key, serde_json::json!($value))),*];
                run(crate::tests::helpers::TestApp::spawn(crate::tests::helpers::Backend::Sqlite, &settings).await.expect("sqlite app")).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let settings = [$(($key, serde_json::json!($value))),*];
                if let Some(app) = crate::tests::helpers::TestApp::spawn(crate::tests::helpers::Backend::Postgres, &settings).await {
                    run(app).await
                }
            }
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

fn random_name() -> String {
    let mut b = [0u8; 8];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// The database a test runs on, removed when the test ends.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    dir: Option<PathBuf>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => Some(TestDb::sqlite_in(&std::env::temp_dir())),
            Backend::Postgres => {
                let admin_url =
                    std::env::var("CONSENTRY_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())?;
                let name = format!("consentry_t_{}", random_name());
                let admin = Db::connect(&admin_url, 1)
                    .await
                    .expect("connect to CONSENTRY_TEST_DATABASE_URL");
                crate::store::testing::execute(&admin, &format!("CREATE DATABASE {name}")).await;
                admin.close().await.ok();
                let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin_url);
                let url = format!("{base}/{name}");
                Some(TestDb { url, backend, dir: None, pg: Some((admin_url, name)) })
            }
        }
    }

    /// A SQLite database in a new folder under `parent` (a small filesystem, for
    /// the full-disk test).
    pub fn sqlite_in(parent: &std::path::Path) -> TestDb {
        let dir = parent.join(format!("consentry-test-{}", random_name()));
        std::fs::create_dir_all(&dir).expect("test folder");
        let url = format!("sqlite://{}/test.db?mode=rwc", dir.display());
        TestDb { url, backend: Backend::Sqlite, dir: Some(dir), pg: None }
    }

    pub async fn connect(&self) -> Db {
        let db = Db::connect(&self.url, 5).await.expect("connect to the test database");
        db.migrate().await.expect("migrations apply");
        db
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((admin_url, name)) = self.pg.take() {
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build()
                else {
                    return;
                };
                rt.block_on(async {
                    if let Ok(admin) = Db::connect(&admin_url, 1).await {
                        crate::store::testing::execute(
                            &admin,
                            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                        )
                        .await;
                        let _ = admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

pub struct TestApp {
    pub client: Client,
    pub db: Db,
    // Dropped last: the database outlives the client that uses it.
    pub test_db: TestDb,
}

impl TestApp {
    /// The app on a fresh database; `None` for PostgreSQL when it is not configured.
    /// `settings` override configuration keys (e.g. `("login_max_failures_per_account", json!(2))`).
    pub async fn spawn(backend: Backend, settings: &[(&str, Value)]) -> Option<TestApp> {
        Some(TestApp::on(TestDb::new(backend).await?, settings).await)
    }

    /// The app on a database made beforehand.
    pub async fn on(test_db: TestDb, settings: &[(&str, Value)]) -> TestApp {
        let db = test_db.connect().await;
        let client = instance(&test_db, db.clone(), settings).await;
        TestApp { client, db, test_db }
    }

    /// A second instance of the app on this test's database (as two servers behind
    /// one load balancer), with its own state and connection pool.
    pub async fn another_instance(&self, settings: &[(&str, Value)]) -> Client {
        instance(&self.test_db, self.test_db.connect().await, settings).await
    }

    pub fn state(&self) -> &AppState {
        self.client.rocket().state::<AppState>().expect("state is managed")
    }

    /// The outbox as its recipients will read it (sealed links and codes opened, as
    /// the sender does just before sending), newest first.
    pub async fn mailbox(&self) -> Vec<crate::domain::mail::Message> {
        let keys = self.state().keys().expect("the test app has keys");
        crate::store::mail::recent(self.db.conn(), None, 500)
            .await
            .expect("the outbox")
            .into_iter()
            .map(|m| crate::mail::to_send(keys, &m.message, m.sealed.as_deref()).expect("it opens"))
            .collect()
    }

    /// Creates a staff account directly and signs it in through the API.
    pub async fn staff(&self, email: &str, role: &str) -> String {
        let new =
            NewUser::parse(email, &format!("Test {role}"), role, PASSWORD).expect("valid user");
        service::user::create(self.state(), Actor::Cli, new).await.expect("user created");
        self.token(email, PASSWORD).await
    }

    pub async fn token(&self, email: &str, password: &str) -> String {
        let res = self
            .post_json("/api/v1/auth/token", None, json!({"email": email, "password": password}))
            .await;
        assert_eq!(res.0, Status::Ok, "sign in {email}: {}", res.1);
        res.1["token"].as_str().expect("token").to_string()
    }

    pub async fn get_json(&self, path: &str, token: Option<&str>) -> (Status, Value) {
        let mut req = self.client.get(path.to_string());
        if let Some(t) = token {
            req = req.header(Header::new("Authorization", format!("Bearer {t}")));
        }
        body(req.dispatch().await).await
    }

    /// A download: its status, content type and bytes.
    pub async fn get_bytes(&self, path: &str, token: &str) -> (Status, String, Vec<u8>) {
        let res = self
            .client
            .get(path.to_string())
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .dispatch()
            .await;
        let status = res.status();
        let kind = res.content_type().map(|c| c.to_string()).unwrap_or_default();
        (status, kind, res.into_bytes().await.unwrap_or_default())
    }

    pub async fn post_json(
        &self,
        path: &str,
        token: Option<&str>,
        value: Value,
    ) -> (Status, Value) {
        let mut req =
            self.client.post(path.to_string()).header(ContentType::JSON).body(value.to_string());
        if let Some(t) = token {
            req = req.header(Header::new("Authorization", format!("Bearer {t}")));
        }
        body(req.dispatch().await).await
    }

    pub async fn put_json(&self, path: &str, token: Option<&str>, value: Value) -> (Status, Value) {
        let mut req =
            self.client.put(path.to_string()).header(ContentType::JSON).body(value.to_string());
        if let Some(t) = token {
            req = req.header(Header::new("Authorization", format!("Bearer {t}")));
        }
        body(req.dispatch().await).await
    }

    pub async fn post_raw(&self, path: &str, token: Option<&str>, raw: &str) -> (Status, Value) {
        let mut req = self.client.post(path.to_string()).header(ContentType::JSON).body(raw);
        if let Some(t) = token {
            req = req.header(Header::new("Authorization", format!("Bearer {t}")));
        }
        body(req.dispatch().await).await
    }

    /// Creates a study as `token`, with an approval valid from 30 days ago for a year.
    pub async fn create_study(&self, token: &str, slug: &str) -> (Status, Value) {
        self.post_json("/api/v1/studies", Some(token), study_body(slug, -30, 365)).await
    }

    /// Puts the account `email` on the study's staff in `role`, as its coordinator `token`.
    pub async fn add_staff(&self, token: &str, slug: &str, email: &str, role: &str) {
        let path = format!("/api/v1/studies/{slug}/staff");
        let (status, v) =
            self.post_json(&path, Some(token), json!({"email": email, "role": role})).await;
        assert!(status.code < 300, "adding {email} as {role}: {status} {v}");
    }

    /// Attaches a seed questionnaire (version 1) to the study at `stage`, as `token`.
    pub async fn attach(&self, token: &str, slug: &str, key: &str, stage: &str) -> (Status, Value) {
        let path = format!("/api/v1/studies/{slug}/instruments");
        let body = json!({"key": key, "version": 1, "stage": stage});
        self.post_json(&path, Some(token), body).await
    }

    /// The first message in the outbox, as `token` reads it, that `wanted` picks (null if none).
    pub async fn outbox_message(&self, token: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let (_, mail) = self.get_json("/api/v1/outbox", Some(token)).await;
        mail.as_array().into_iter().flatten().find(|m| wanted(m)).cloned().unwrap_or_default()
    }
}

pub fn study_body(slug: &str, approved_days: i64, expires_days: i64) -> Value {
    let today = chrono::Utc::now().date_naive();
    json!({
        "slug": slug,
        "title": "Social media use in medical education",
        "summary": "How medical students use social media for learning.",
        "ethics": {
            "committee": "Monash University Human Research Ethics Committee",
            "reference": "CF15/2639-2015001090",
            "approved_on": (today + chrono::Duration::days(approved_days)).to_string(),
            "expires_on": (today + chrono::Duration::days(expires_days)).to_string(),
        },
        "contact": {"name": "Cora Ordinator", "email": "coord@example.org"},
    })
}

pub async fn body(res: LocalResponse<'_>) -> (Status, Value) {
    let status = res.status();
    let text = res.into_string().await.unwrap_or_default();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// The field names of a 422 answer.
pub fn fields(v: &Value) -> Vec<String> {
    v["error"]["fields"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

/// Polls every future on this task together (the local client is not `Send`).
pub async fn join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if results[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => results[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    results.into_iter().flatten().collect()
}

/// The app on `test_db` with its own state; `settings` override configuration keys.
pub(super) async fn instance(test_db: &TestDb, db: Db, settings: &[(&str, Value)]) -> Client {
    let mut figment = config::figment()
        .merge(("database_url", test_db.url.clone()))
        .merge(("secret_key", SECRET_KEY))
        .merge(("public_url", "http://consentry.test"))
        .merge(("forms_dir", concat!(env!("CARGO_MANIFEST_DIR"), "/forms")));
    for (key, value) in settings {
        figment = figment.merge((*key, value.clone()));
    }
    let config = AppConfig::from_figment(&figment).expect("test configuration is valid");
    let forms = crate::forms::questionnaire::Catalogue::load(&crate::forms::Source::configured(
        config.forms_dir.as_deref(),
    ))
    .expect("the test forms load");
    let state = AppState::new(db, config).with_forms(forms);
    Client::tracked(crate::build(state, figment)).await.expect("rocket launches")
}
