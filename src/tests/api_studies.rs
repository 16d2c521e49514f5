//! Studies, their staff and their status through the JSON API.

use rocket::http::Status;
use serde_json::json;

use super::helpers::{fields, study_body};

db_test!(coordinators_create_studies_under_approval, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    let (status, v) = app.create_study(&coord, "social-media-med-ed").await;
    assert_eq!(status, Status::Created, "{v}");
    assert_eq!(v["status"], "draft");
    assert_eq!(v["your_role"], "coordinator");
    assert_eq!(v["ethics"]["reference"], "CF15/2639-2015001090");
    assert_eq!(v["ethics"]["expired"], false);

    let (status, v) = app.create_study(&coord, "social-media-med-ed").await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(fields(&v), ["slug"], "a taken slug is named: {v}");

    let (status, v) = app
        .post_json("/api/v1/studies", Some(&coord), json!({"slug": "Bad Slug!", "title": ""}))
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    for f in [
        "slug",
        "title",
        "ethics.committee",
        "ethics.reference",
        "ethics.approved_on",
        "contact.email",
    ] {
        assert!(fields(&v).contains(&f.to_string()), "{f} missing from {v}");
    }
    let backwards = study_body("backwards", 10, 5);
    let (status, v) = app.post_json("/api/v1/studies", Some(&coord), backwards).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(fields(&v), ["ethics.expires_on"]);
    let (status, v) = app.post_json("/api/v1/studies", Some(&coord), json!({"slug": 42})).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(fields(&v), ["slug"], "a wrong type names the field: {v}");
});

db_test!(studies_are_scoped_by_membership, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    let outsider = app.staff("other@example.org", "coordinator").await;
    let fac = app.staff("fac@example.org", "facilitator").await;
    let ethics = app.staff("eth@example.org", "ethics_officer").await;
    let admin = app.staff("admin@example.org", "admin").await;
    app.create_study(&coord, "study-one").await;
    app.create_study(&outsider, "study-two").await;

    let slugs = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["slug"].as_str().map(String::from))
            .collect()
    };
    assert_eq!(slugs(&app.get_json("/api/v1/studies", Some(&coord)).await.1), ["study-one"]);
    assert_eq!(app.get_json("/api/v1/studies/study-two", Some(&coord)).await.0, Status::NotFound);
    assert_eq!(
        app.get_json("/api/v1/studies/no-such-study", Some(&coord)).await.0,
        Status::NotFound
    );
    assert!(slugs(&app.get_json("/api/v1/studies", Some(&fac)).await.1).is_empty());
    assert_eq!(app.get_json("/api/v1/studies/study-one", Some(&fac)).await.0, Status::NotFound);
    for reader in [&ethics, &admin] {
        let mut seen = slugs(&app.get_json("/api/v1/studies", Some(reader)).await.1);
        seen.sort();
        assert_eq!(seen, ["study-one", "study-two"]);
    }
    let (_, v) = app.get_json("/api/v1/studies/study-one", Some(&ethics)).await;
    assert_eq!(v["your_role"], "ethics_officer");
    assert_eq!(app.get_json("/api/v1/studies", None).await.0, Status::Unauthorized);

    // Facilitators and ethics officers do not create studies.
    assert_eq!(app.create_study(&fac, "fac-study").await.0, Status::Forbidden);
    assert_eq!(app.create_study(&ethics, "eth-study").await.0, Status::Forbidden);
});

db_test!(coordinators_add_staff, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    let outsider = app.staff("other@example.org", "coordinator").await;
    let fac = app.staff("fac@example.org", "facilitator").await;
    app.staff("eth@example.org", "ethics_officer").await;
    app.create_study(&coord, "study-one").await;
    let path = "/api/v1/studies/study-one/staff";

    let (status, v) = app
        .post_json(path, Some(&coord), json!({"email": "FAC@example.org", "role": "facilitator"}))
        .await;
    assert_eq!(status, Status::Created, "{v}");
    assert_eq!(v["role"], "facilitator");
    let (_, v) = app.get_json("/api/v1/studies/study-one", Some(&fac)).await;
    assert_eq!(v["your_role"], "facilitator", "the facilitator now sees the study");

    let (status, v) = app
        .post_json(path, Some(&coord), json!({"email": "fac@example.org", "role": "coordinator"}))
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(fields(&v), ["role"]);
    let (status, v) = app
        .post_json(path, Some(&coord), json!({"email": "eth@example.org", "role": "facilitator"}))
        .await;
    assert_eq!((status, fields(&v)), (Status::UnprocessableEntity, vec!["role".to_string()]));
    let (status, v) = app
        .post_json(path, Some(&coord), json!({"email": "ghost@example.org", "role": "facilitator"}))
        .await;
    assert_eq!((status, fields(&v)), (Status::UnprocessableEntity, vec!["email".to_string()]));
    let (status, v) =
        app.post_json(path, Some(&coord), json!({"email": "nope", "role": "owner"})).await;
    assert_eq!(
        (status, fields(&v)),
        (Status::UnprocessableEntity, vec!["email".to_string(), "role".to_string()])
    );

    assert_eq!(
        app.post_json(
            path,
            Some(&outsider),
            json!({"email": "other@example.org", "role": "coordinator"})
        )
        .await
        .0,
        Status::NotFound
    );
    assert_eq!(
        app.post_json(path, Some(&fac), json!({"email": "fac@example.org", "role": "facilitator"}))
            .await
            .0,
        Status::Forbidden
    );

    let (status, members) = app.get_json(path, Some(&coord)).await;
    assert_eq!(status, Status::Ok);
    let emails: Vec<_> = members
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| m["email"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(emails, ["coord@example.org", "fac@example.org"]);
});

db_test!(the_status_machine, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    let ethics = app.staff("eth@example.org", "ethics_officer").await;
    let fac = app.staff("fac@example.org", "facilitator").await;
    app.create_study(&coord, "study-one").await;
    app.add_staff(&coord, "study-one", "fac@example.org", "facilitator").await;
    let path = "/api/v1/studies/study-one/status";
    let set = |token: String, status: &'static str| {
        let app = &app;
        async move {
            app.post_json(path, Some(&token), json!({"status": status, "reason": "testing"})).await
        }
    };

    let (status, v) = set(coord.clone(), "recruiting").await;
    assert_eq!(status, Status::Conflict, "no active consent form yet: {v}");
    assert!(v["error"]["message"].as_str().unwrap_or("").contains("consent form"));
    assert_eq!(
        set(coord.clone(), "paused").await.0,
        Status::Conflict,
        "only a recruiting study pauses"
    );
    assert_eq!(set(coord.clone(), "suspended").await.0, Status::Forbidden);
    assert_eq!(set(fac.clone(), "closed").await.0, Status::Forbidden);
    let (status, v) = set(coord.clone(), "finished").await;
    assert_eq!((status, fields(&v)), (Status::UnprocessableEntity, vec!["status".to_string()]));

    let (status, v) = set(ethics.clone(), "suspended").await;
    assert_eq!(status, Status::Ok, "{v}");
    assert_eq!(
        (v["status"].as_str(), v["status_reason"].as_str()),
        (Some("suspended"), Some("testing"))
    );
    assert_eq!(
        set(coord.clone(), "recruiting").await.0,
        Status::Forbidden,
        "only ethics lifts a suspension"
    );
    assert_eq!(set(ethics.clone(), "closed").await.0, Status::Forbidden);
    let (status, v) = set(coord.clone(), "closed").await;
    assert_eq!((status, v["status"].as_str()), (Status::Ok, Some("closed")));
    assert_eq!(set(coord.clone(), "recruiting").await.0, Status::Conflict, "closing is final");
    let (_, v) = app.get_json("/api/v1/studies/study-one", Some(&coord)).await;
    assert_eq!(v["status"], "closed");

    // Every change is in the study's chain, with no free text.
    let (_, log) = app.get_json("/api/v1/audit?study=study-one", Some(&ethics)).await;
    let changes: Vec<_> = log["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["action"] == "study.status_changed")
        .collect();
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[1]["details"]["to"], "closed");
    assert!(!log.to_string().contains("testing"));
});

db_test!(an_expired_approval_stops_recruitment, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    let (status, v) =
        app.post_json("/api/v1/studies", Some(&coord), study_body("old-study", -400, -1)).await;
    assert_eq!(status, Status::Created, "{v}");
    assert_eq!(v["ethics"]["expired"], true, "the study reports its expired approval");
    let (status, v) = app
        .post_json(
            "/api/v1/studies/old-study/status",
            Some(&coord),
            json!({"status": "recruiting"}),
        )
        .await;
    assert_eq!(status, Status::Gone, "{v}");
    assert!(v["error"]["message"].as_str().unwrap_or("").contains("CF15/2639-2015001090"));
});

db_test!(concurrent_writes_all_land, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    let creations = (0..12).map(|i| {
        let app = &app;
        let coord = coord.clone();
        async move { app.create_study(&coord, &format!("study-{i:02}")).await.0 }
    });
    let statuses = crate::tests::helpers::join_all(creations).await;
    assert!(statuses.iter().all(|s| *s == Status::Created), "{statuses:?}");
    let (_, list) = app.get_json("/api/v1/studies", Some(&coord)).await;
    assert_eq!(list.as_array().map(Vec::len), Some(12));
    let admin = app.staff("admin@example.org", "admin").await;
    let (_, v) = app.get_json("/api/v1/audit/verify", Some(&admin)).await;
    assert_eq!(v["ok"], true, "{v}");
});
