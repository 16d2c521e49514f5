//! The JSON report over 100,000 participants who answered both questionnaires,
//! against one hand-written SQL aggregation over the same answer rows, in the same
//! run, on the same database. SQLite always; PostgreSQL too when
//! `CONSENTRY_TEST_DATABASE_URL` names a server (a scratch database is created and
//! dropped).
//!
//!   cargo bench --bench report                          (100,000 participants)
//!   CONSENTRY_BENCH_PARTICIPANTS=20000 cargo bench --bench report
//!
//! The study is the demo study: three signed participants answer the demographics
//! and platform-usage questionnaires through the service, then SQL copies them (with
//! their answers, numbers shifted a little) until there are enough participants;
//! one in a hundred copies withdraws with their data. Target: the report within 2×
//! of the baseline aggregation.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use consentry::config::AppConfig;
use consentry::domain::user::Email;
use consentry::service::{self, AppState};
use consentry::store::Db;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

const RUNS: usize = 5;

fn main() {
    let n: i64 = std::env::var("CONSENTRY_BENCH_PARTICIPANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let dir = std::env::temp_dir().join(format!("consentry-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        run("SQLite", &format!("sqlite://{}/report.db?mode=rwc", dir.display()), n).await;
        let _ = std::fs::remove_dir_all(&dir);

        if let Some(admin_url) =
            std::env::var("CONSENTRY_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())
        {
            let name = format!("consentry_bench_{}", std::process::id());
            let admin = Db::connect(&admin_url, 1).await.expect("admin connection");
            admin.conn().execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("db");
            let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin_url);
            run("PostgreSQL", &format!("{base}/{name}"), n).await;
            admin
                .conn()
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .expect("drop");
        }
    });
}

async fn run(label: &str, url: &str, n: i64) {
    let db = Db::connect(url, 5).await.expect("connect");
    db.migrate().await.expect("migrate");
    let config = AppConfig {
        database_url: url.to_string(),
        secret_key: Some("a bench key of at least thirty-two bytes".into()),
        ..AppConfig::default()
    };
    let forms =
        consentry::forms::questionnaire::Catalogue::load(&consentry::forms::Source::BuiltIn)
            .expect("forms");
    let state = AppState::new(db.clone(), config).with_forms(forms);
    service::questionnaire::sync_catalogue(&state).await.expect("catalogue");
    service::demo::load(&state).await.expect("demo");
    let study = consentry::store::study::find_by_slug(db.conn(), service::demo::DEMO_SLUG)
        .await
        .expect("study")
        .expect("the demo study");
    answer_templates(&state, study.id).await;

    let started = Instant::now();
    let rows = generate(&db, study.id, n).await;
    println!(
        "{label}: generated {n} participants, {rows} answer rows in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let coordinator = consentry::store::user::find_by_email(
        db.conn(),
        &Email::parse("coordinator@demo.consentry.test").unwrap(),
    )
    .await
    .expect("coordinator")
    .expect("the demo coordinator");

    let baseline_sql = "SELECT r.instrument_id, a.question_key, a.choice_value, a.bool_value, \
         COUNT(*), AVG(a.number_value) \
         FROM answers a JOIN responses r ON r.id = a.response_id \
         JOIN participants p ON p.id = r.participant_id \
         WHERE r.study_id = {study} AND r.status = 'complete' \
         AND (p.withdrawal_scope IS NULL OR p.withdrawal_scope <> 'withdraw_data') \
         GROUP BY r.instrument_id, a.question_key, a.choice_value, a.bool_value"
        .replace("{study}", &study.id.to_string());
    let backend = db.backend();
    let mut baseline = Vec::new();
    let mut report = Vec::new();
    let mut checked = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        let groups = db
            .conn()
            .query_all_raw(Statement::from_string(backend, baseline_sql.clone()))
            .await
            .expect("baseline");
        baseline.push(t.elapsed());
        assert!(!groups.is_empty());
        let t = Instant::now();
        let r =
            service::report::report(&state, &coordinator, &study.slug, None).await.expect("report");
        report.push(t.elapsed());
        checked = Some(r.respondents.get("platform-usage").copied().unwrap_or(0));
    }
    let (b, r) = (median(&mut baseline), median(&mut report));
    breakdown(label, &db, study.id).await;
    println!(
        "{label}: baseline aggregation {:.1} ms, JSON report {:.1} ms (median of {RUNS}); \
         ratio {:.2} (target at most 2); {} platform-usage respondents counted",
        ms(b),
        ms(r),
        r.as_secs_f64() / b.as_secs_f64(),
        checked.unwrap_or(0)
    );
}

/// Where the report's time goes: its two answer queries.
async fn breakdown(label: &str, db: &Db, study_id: i64) {
    use consentry::store::report;
    let t = Instant::now();
    report::respondents(db.conn(), study_id, None).await.expect("respondents");
    let respondents = t.elapsed();
    let t = Instant::now();
    report::value_groups(db.conn(), study_id, None).await.expect("groups");
    let groups = t.elapsed();
    println!(
        "{label}: respondents per questionnaire {:.0} ms, answers grouped by value {:.0} ms",
        ms(respondents),
        ms(groups)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The demo's signed participants answer both after-consent questionnaires.
async fn answer_templates(state: &AppState, study_id: i64) {
    let platforms = [
        serde_json::json!({"platforms_used": ["facebook", "youtube"], "preferred_platform": "facebook",
            "purposes": ["resource_sharing"], "hours_per_day": 1.5, "professionalism_concern": 3,
            "benefits": "Quick answers from peers."}),
        serde_json::json!({"platforms_used": ["facebook", "twitter"], "preferred_platform": "twitter",
            "purposes": ["news", "resource_sharing"], "hours_per_day": 3, "professionalism_concern": 4}),
        serde_json::json!({"platforms_used": ["youtube"], "preferred_platform": "youtube",
            "purposes": ["news"], "hours_per_day": 0.5, "professionalism_concern": 2}),
    ];
    let emails = [
        "alex.nguyen@student.example.edu",
        "sam.taylor@student.example.edu",
        "zoe.obrien@student.example.edu",
    ];
    for (email, answers) in emails.iter().zip(platforms) {
        let email = Email::parse(email).unwrap();
        let p = consentry::store::participant::find_by_email(state.db.conn(), study_id, &email)
            .await
            .expect("participant")
            .expect("a signed demo participant");
        let submit = |key: &'static str, v: serde_json::Value| {
            let p = p.clone();
            async move {
                let map = v.as_object().cloned().unwrap();
                service::questionnaire::answer(
                    state,
                    &p,
                    key,
                    &map,
                    service::questionnaire::Submit::Complete,
                )
                .await
            }
        };
        submit("platform-usage", answers).await.expect("platform usage");
        if email.as_str().starts_with("zoe") {
            let demographics = serde_json::json!({"gender": "non_binary", "age": 24,
                "entry_pathway": "graduate", "year_of_course": 4});
            submit("demographics", demographics).await.expect("demographics");
        }
    }
}

/// Copies the participants with complete answers until the study has `n` more;
/// returns the answer rows the report reads.
async fn generate(db: &Db, study_id: i64, n: i64) -> i64 {
    let backend = db.backend();
    let (hash, template) = match backend {
        DbBackend::Postgres => {
            ("lpad(seq.n::text, 64, '0')", "CAST(substr(p.source, 7) AS BIGINT)")
        }
        _ => ("printf('%064d', seq.n)", "CAST(substr(p.source, 7) AS INTEGER)"),
    };
    let templates = format!(
        "SELECT id, ad_id, stratum_id, created_at, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k, \
         COUNT(*) OVER () AS total FROM participants \
         WHERE study_id = {study_id} AND code IS NOT NULL \
         AND id IN (SELECT participant_id FROM responses WHERE status = 'complete')"
    );
    let statements = [
        format!(
            "INSERT INTO participants (study_id, first_link_hash, code, source, created_at, ad_id, stratum_id) \
             WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {n}) \
             SELECT {study_id}, {hash}, 'B' || seq.n, 'bench:' || t.id, t.created_at, t.ad_id, t.stratum_id \
             FROM seq JOIN ({templates}) t ON seq.n % t.total = t.k"
        ),
        format!(
            "UPDATE participants SET withdrawal_scope = 'withdraw_data', withdrawn_at = created_at \
             WHERE study_id = {study_id} AND source LIKE 'bench:%' AND id % 100 = 0"
        ),
        format!(
            "INSERT INTO responses (study_id, participant_id, instrument_id, definition_id, form_hash, \
             status, revision, started_at, submitted_at, updated_at) \
             SELECT r.study_id, p.id, r.instrument_id, r.definition_id, r.form_hash, r.status, \
             r.revision, r.started_at, r.submitted_at, r.updated_at \
             FROM participants p JOIN responses r ON r.participant_id = {template} \
             WHERE p.study_id = {study_id} AND p.source LIKE 'bench:%'"
        ),
        format!(
            "INSERT INTO answers (response_id, study_id, instrument_id, question_key, choice_value, \
             text_value, number_value, bool_value, first_of_question) \
             SELECT nr.id, a.study_id, a.instrument_id, a.question_key, a.choice_value, a.text_value, \
             a.number_value + (nr.id % 5), a.bool_value, a.first_of_question \
             FROM participants p JOIN responses nr ON nr.participant_id = p.id \
             JOIN responses tr ON tr.participant_id = {template} AND tr.instrument_id = nr.instrument_id \
             JOIN answers a ON a.response_id = tr.id \
             WHERE p.study_id = {study_id} AND p.source LIKE 'bench:%'"
        ),
    ];
    for sql in statements {
        db.conn().execute_unprepared(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    if backend == DbBackend::Postgres {
        db.conn().execute_unprepared("ANALYZE").await.expect("analyze");
    }
    let count = db
        .conn()
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT COUNT(*) FROM answers WHERE study_id = {study_id}"),
        ))
        .await
        .expect("count")
        .expect("a row");
    count.try_get_by_index::<i64>(0).expect("count")
}
