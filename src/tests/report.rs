//! The report's JSON: the enrolment funnel and per-question statistics computed by
//! the database, with withdrawn-with-data participants left out of the answers.

use rocket::http::Status;
use serde_json::json;

use super::consent_flow::signing;
use super::recruitment::{enrol, with_screening};

const STUDY: &str = "/api/v1/studies/study-one";
const Q: &str = "/api/v1/participant/questionnaires";

db_test!(the_report_counts_what_the_study_found, |app| {
    let s = with_screening(&app).await;
    for key in ["demographics", "platform-usage"] {
        let (status, _) = app
            .post_json(
                &format!("{STUDY}/instruments"),
                Some(&s.coord),
                json!({"key": key, "version": 1, "stage": "after_consent"}),
            )
            .await;
        assert_eq!(status, Status::Created);
    }
    let (_, no) = enrol(&app, "No", "no@example.org", false, "graduate").await;
    assert_eq!(no["eligible"], false);
    // Four people: ages 20, 22, 24, 40; the last withdraws with their data.
    let people = [
        ("female", 20, vec!["facebook", "youtube"]),
        ("female", 22, vec!["facebook"]),
        ("male", 24, vec!["facebook", "twitter"]),
        ("male", 40, vec!["tiktok"]),
    ];
    let mut tokens = Vec::new();
    for (i, (gender, age, platforms)) in people.iter().enumerate() {
        let pathway = if i % 2 == 0 { "undergraduate" } else { "graduate" };
        let (status, v) =
            enrol(&app, "P", &format!("p{i}@student.example.edu"), true, pathway).await;
        assert_eq!(status, Status::Created, "{v}");
        let token = v["participant_token"].as_str().unwrap_or_default().to_string();
        let (status, _) = app
            .post_json("/api/v1/participant/consent", Some(&token), signing(&s, "P", true))
            .await;
        assert_eq!(status, Status::Created);
        let (status, v) = app
            .put_json(&format!("{Q}/demographics"), Some(&token),
                json!({"answers": {"gender": gender, "age": age, "entry_pathway": pathway, "year_of_course": 2}}))
            .await;
        assert_eq!(status, Status::Ok, "{v}");
        let (status, v) = app
            .put_json(
                &format!("{Q}/platform-usage"),
                Some(&token),
                json!({"answers": {
                "platforms_used": platforms, "preferred_platform": platforms[0],
                "purposes": ["resource_sharing"], "hours_per_day": 1.5 + i as f64}}),
            )
            .await;
        assert_eq!(status, Status::Ok, "{v}");
        tokens.push(token);
    }
    let (status, _) = app
        .post_json(
            "/api/v1/participant/withdraw",
            Some(&tokens[3]),
            json!({"scope": "withdraw_data"}),
        )
        .await;
    assert_eq!(status, Status::Ok);

    let (status, r) = app.get_json(&format!("{STUDY}/report"), Some(&s.coord)).await;
    assert_eq!(status, Status::Ok, "{r}");
    assert_eq!(
        r["enrolment"],
        json!({"ads_viewed": 0, "screened": 5, "eligible": 4, "consented": 4, "withdrawn": 1, "scheduled": 0, "attended": 0})
    );
    assert_eq!(r["by_ad"][0]["code"], "moodle-mbbs");
    assert_eq!(r["by_channel"][0]["channel"], "lms");
    assert_eq!(r["excluded"]["withdrawn_with_data"], 1);
    assert_eq!(r["respondents"]["demographics"], 3, "the withdrawn person's answers are left out");

    let gender = &r["questions"]["demographics"]["gender"];
    assert_eq!(gender["n"], 3);
    assert_eq!(
        gender["counts"],
        json!({"female": 2, "male": 1, "non_binary": 0, "prefer_not_to_say": 0})
    );
    assert_eq!(gender["percent"]["female"], 66.7);
    let age = &r["questions"]["demographics"]["age"];
    assert_eq!(
        (age["n"].as_i64(), age["mean"].as_f64(), age["median"].as_f64()),
        (Some(3), Some(22.0), Some(22.0))
    );
    assert_eq!(
        (age["q1"].as_f64(), age["q3"].as_f64(), age["min"].as_f64(), age["max"].as_f64()),
        (Some(21.0), Some(23.0), Some(20.0), Some(24.0))
    );
    let used = &r["questions"]["platform-usage"]["platforms_used"];
    assert_eq!(
        (
            used["counts"]["facebook"].as_i64(),
            used["counts"]["youtube"].as_i64(),
            used["counts"]["tiktok"].as_i64()
        ),
        (Some(3), Some(1), Some(0))
    );
    assert_eq!(used["percent"]["facebook"], 100.0, "of respondents, not of selections");
    let prior = &r["questions"]["demographics"]["prior_degree"];
    assert_eq!((prior["n"].as_i64(), prior["skipped"].as_i64()), (Some(0), Some(3)));
    let screening = &r["questions"]["screening-medical-students"]["entry_pathway"];
    assert_eq!(
        screening["counts"],
        json!({"undergraduate": 2, "graduate": 1}),
        "eligible screenings kept, minus the withdrawn"
    );

    assert_eq!(
        app.get_json(&format!("{STUDY}/report"), Some(&s.ethics)).await.0,
        Status::Forbidden
    );
    assert_eq!(app.get_json(&format!("{STUDY}/report"), Some(&s.fac)).await.0, Status::Forbidden);
    let outsider = app.staff("other@example.org", "coordinator").await;
    assert_eq!(app.get_json(&format!("{STUDY}/report"), Some(&outsider)).await.0, Status::NotFound);
});
