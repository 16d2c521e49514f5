//! Two instances of Consentry on one database (two servers behind a load balancer,
//! each with its own pool and, on SQLite, its own writer): a capped stratum never
//! overshoots, consents get gapless codes, and the audit chain never forks.

use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use serde_json::{Value, json};

use super::consent_flow::signing;
use super::helpers::{body, join_all};
use super::recruitment::with_screening;
use crate::domain::audit::Verification;
use crate::store::testing::scalar;

async fn post(client: &Client, path: &str, token: Option<&str>, value: Value) -> (Status, Value) {
    let mut req = client.post(path.to_string()).header(ContentType::JSON).body(value.to_string());
    if let Some(t) = token {
        req = req.header(Header::new("Authorization", format!("Bearer {t}")));
    }
    body(req.dispatch().await).await
}

db_test!(two_instances_share_caps_codes_and_the_chain, |app| {
    let s = with_screening(&app).await;
    let (status, _) = app
        .post_json(
            "/api/v1/studies/study-one/strata",
            Some(&s.coord),
            json!({"question": "entry_pathway", "value": "graduate", "target": 4, "cap": 4}),
        )
        .await;
    assert_eq!(status, Status::Created);
    let second = app.another_instance(&[]).await;
    let clients = [&app.client, &second];

    let enrol = |i: usize, pathway: &'static str| {
        let client = clients[i % 2];
        async move {
            post(
                client,
                "/api/v1/ads/moodle-mbbs/enrol",
                None,
                json!({"name": "Student", "email": format!("s{i}@student.example.edu"),
                       "answers": {"enrolled_in_medicine": true, "entry_pathway": pathway}}),
            )
            .await
        }
    };
    let graduates = join_all((0..10).map(|i| enrol(i, "graduate"))).await;
    let created: Vec<&Value> =
        graduates.iter().filter(|(s, _)| *s == Status::Created).map(|(_, v)| v).collect();
    let full = graduates.iter().filter(|(s, _)| *s == Status::Conflict).count();
    assert_eq!((created.len(), full), (4, 6), "the cap holds across instances: {graduates:?}");
    let others = join_all((10..26).map(|i| enrol(i, "undergraduate"))).await;
    assert!(others.iter().all(|(s, _)| *s == Status::Created), "{others:?}");

    let tokens: Vec<String> = created
        .iter()
        .copied()
        .chain(others.iter().map(|(_, v)| v))
        .map(|v| v["participant_token"].as_str().unwrap_or_default().to_string())
        .collect();
    let answers = join_all(tokens.iter().enumerate().map(|(i, t)| {
        post(
            clients[i % 2],
            "/api/v1/participant/consent",
            Some(t),
            signing(&s, "Pat Example", i % 3 == 0),
        )
    }))
    .await;
    assert!(answers.iter().all(|(s, _)| *s == Status::Created), "{answers:?}");
    let mut codes: Vec<String> = answers
        .iter()
        .map(|(_, v)| v["participant_code"].as_str().unwrap_or_default().to_string())
        .collect();
    codes.sort();
    let expected: Vec<String> = (1..=tokens.len()).map(|n| format!("P{n:03}")).collect();
    assert_eq!(codes, expected, "gapless codes, none twice");
    assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM consents").await, 20);
    assert!(matches!(crate::audit::verify(&app.db, None).await, Ok(Verification::Ok { .. })));
});
