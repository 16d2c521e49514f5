//! Questionnaires through the JSON API: attaching them to a study, answering with
//! every rule enforced, revisions, storage for reporting, and the changed-file rule.

use rocket::http::Status;
use serde_json::json;

use super::consent_flow::{Study, invite, recruiting_study, signing};
use super::helpers::{TestApp, fields};
use crate::store::testing::scalar;

const STUDY: &str = "/api/v1/studies/study-one";

async fn attach(app: &TestApp, s: &Study, body: serde_json::Value) -> (Status, serde_json::Value) {
    app.post_json(&format!("{STUDY}/instruments"), Some(&s.coord), body).await
}

async fn with_questionnaires(app: &TestApp) -> Study {
    let s = recruiting_study(app).await;
    for key in ["demographics", "platform-usage"] {
        let (status, v) =
            attach(app, &s, json!({"key": key, "version": 1, "stage": "after_consent"})).await;
        assert_eq!(status, Status::Created, "{v}");
    }
    s
}

/// An invited participant who has consented: their token.
pub(super) async fn consented(app: &TestApp, s: &Study, email: &str) -> String {
    let token = invite(app, s, email).await;
    let (status, v) = app
        .post_json("/api/v1/participant/consent", Some(&token), signing(s, "Sam Student", true))
        .await;
    assert_eq!(status, Status::Created, "{v}");
    token
}

const Q: &str = "/api/v1/participant/questionnaires";

db_test!(attaching_instruments, |app| {
    let s = recruiting_study(&app).await;
    let (status, v) = attach(
        &app,
        &s,
        json!({"key": "screening-medical-students", "version": 1, "stage": "screening",
               "eligible_if": "enrolled_in_medicine == true"}),
    )
    .await;
    assert_eq!(status, Status::Created, "{v}");
    assert_eq!(v["stage"], "screening");
    assert_eq!(v["eligible_if"], "enrolled_in_medicine == true");
    assert_eq!(v["form_hash"].as_str().map(str::len), Some(64));

    let refused = [
        (json!({"key": "no-such-form", "version": 1, "stage": "after_consent"}), "key"),
        (json!({"key": "demographics", "version": 9, "stage": "after_consent"}), "version"),
        (json!({"key": "demographics", "version": 0, "stage": "after_consent"}), "version"),
        (json!({"key": "demographics", "version": 1, "stage": "later"}), "stage"),
        (
            json!({"key": "demographics", "version": 1, "stage": "after_consent", "eligible_if": "age > 18"}),
            "eligible_if",
        ),
    ];
    for (body, field) in refused {
        let (status, v) = attach(&app, &s, body.clone()).await;
        assert_eq!(status, Status::UnprocessableEntity, "{body}: {v}");
        assert_eq!(fields(&v), [field], "{body}: {v}");
    }
    let (status, v) = app
        .post_json(
            "/api/v1/studies",
            Some(&s.coord),
            crate::tests::helpers::study_body("study-two", -30, 365),
        )
        .await;
    assert_eq!(status, Status::Created, "{v}");
    let (status, v) = app
        .post_json(
            "/api/v1/studies/study-two/instruments",
            Some(&s.coord),
            json!({"key": "screening-medical-students", "version": 1, "stage": "screening",
                   "eligible_if": "enrolled_in_medicine == 'yes'"}),
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(
        v["error"]["fields"]["eligible_if"][0].as_str().unwrap_or_default().contains("yes/no"),
        "{v}"
    );
    let (status, v) = app
        .post_json(
            "/api/v1/studies/study-two/instruments",
            Some(&s.coord),
            json!({"key": "screening-medical-students", "version": 1, "stage": "screening",
                   "eligible_if": "enrolled == true"}),
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(
        v["error"]["fields"]["eligible_if"][0]
            .as_str()
            .unwrap_or_default()
            .contains("`enrolled` is not a question"),
        "{v}"
    );

    let (status, _) =
        attach(&app, &s, json!({"key": "demographics", "version": 1, "stage": "after_consent"}))
            .await;
    assert_eq!(status, Status::Created);
    let (status, v) =
        attach(&app, &s, json!({"key": "demographics", "version": 1, "stage": "after_consent"}))
            .await;
    assert_eq!(status, Status::Conflict, "attached twice: {v}");
    let (status, v) = app.attach(&s.fac, "study-one", "platform-usage", "after_consent").await;
    assert_eq!(status, Status::Forbidden, "a facilitator does not attach: {v}");
    let outsider = app.staff("other@example.org", "coordinator").await;
    let (status, _) = app.attach(&outsider, "study-one", "platform-usage", "after_consent").await;
    assert_eq!(status, Status::NotFound);
    let (status, list) = app.get_json(&format!("{STUDY}/instruments"), Some(&s.fac)).await;
    assert_eq!(status, Status::Ok);
    let keys: Vec<&str> =
        list.as_array().into_iter().flatten().filter_map(|i| i["key"].as_str()).collect();
    assert_eq!(keys, ["screening-medical-students", "demographics"]);
    assert_eq!(
        scalar(&app.db, "SELECT COUNT(*) FROM audit_events WHERE action = 'instrument.attached'")
            .await,
        2
    );
});

db_test!(answering_enforces_every_rule, |app| {
    let s = with_questionnaires(&app).await;
    let token = invite(&app, &s, "sam@student.example.edu").await;
    let (status, v) = app.get_json(Q, Some(&token)).await;
    assert_eq!(status, Status::Forbidden, "closed before consent: {v}");
    let (status, _) =
        app.put_json(&format!("{Q}/demographics"), Some(&token), json!({"answers": {}})).await;
    assert_eq!(status, Status::Forbidden);
    let (status, _) = app
        .post_json("/api/v1/participant/consent", Some(&token), signing(&s, "Sam Student", true))
        .await;
    assert_eq!(status, Status::Created);

    let (status, list) = app.get_json(Q, Some(&token)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        list,
        json!([
            {"key": "demographics", "version": 1, "title": "About you", "status": "not_started"},
            {"key": "platform-usage", "version": 1, "title": "How you use social media for study", "status": "not_started"},
        ])
    );
    let (status, def) = app.get_json(&format!("{Q}/demographics"), Some(&token)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(def["questions"][1]["key"], "age");
    assert_eq!(def["questions"][1]["min"], 17.0);
    assert_eq!(def["questions"][0]["choices"][0], json!({"value": "female", "label": "Female"}));
    assert_eq!(def["questions"][5]["show_if"], "entry_pathway == 'graduate'");
    assert_eq!(app.get_json(&format!("{Q}/nothing"), Some(&token)).await.0, Status::NotFound);

    let put = |answers: serde_json::Value| {
        let app = &app;
        let token = token.clone();
        async move {
            app.put_json(&format!("{Q}/demographics"), Some(&token), json!({"answers": answers}))
                .await
        }
    };
    let good = json!({"gender": "female", "age": 22, "entry_pathway": "undergraduate", "year_of_course": 3});
    let cases = [
        (
            json!({"gender": "female", "age": 200, "entry_pathway": "undergraduate", "year_of_course": 3}),
            vec!["age"],
        ),
        (json!({"age": 22, "entry_pathway": "undergraduate", "year_of_course": 3}), vec!["gender"]),
        (
            json!({"gender": "robot", "age": 22.5, "entry_pathway": "undergraduate", "year_of_course": "3"}),
            vec!["age", "gender", "year_of_course"],
        ),
        (
            json!({"gender": "female", "age": 22, "entry_pathway": "undergraduate", "year_of_course": 3, "shoe_size": 9}),
            vec!["shoe_size"],
        ),
        (
            json!({"gender": "female", "age": 22, "entry_pathway": "undergraduate", "year_of_course": 3, "prior_degree": "BSc"}),
            vec!["prior_degree"],
        ),
    ];
    for (answers, expected) in cases {
        let (status, v) = put(answers.clone()).await;
        assert_eq!(status, Status::UnprocessableEntity, "{answers}: {v}");
        assert_eq!(fields(&v), expected, "{answers}: {v}");
    }
    let (status, v) =
        app.put_json(&format!("{Q}/demographics"), Some(&token), json!({"answers": []})).await;
    assert_eq!(status, Status::UnprocessableEntity, "answers must be an object: {v}");
    assert_eq!(
        scalar(&app.db, "SELECT COUNT(*) FROM responses").await,
        0,
        "nothing saved by a refusal"
    );

    let (status, v) = put(good.clone()).await;
    assert_eq!(status, Status::Ok, "{v}");
    assert_eq!((v["status"].as_str(), v["revision"].as_i64()), (Some("complete"), Some(1)));
    assert_eq!(v["answers"], good);
    let mut graduate = good.clone();
    graduate["entry_pathway"] = json!("graduate");
    graduate["prior_degree"] = json!("Bachelor of Biomedical Science");
    let (status, v) = put(graduate.clone()).await;
    assert_eq!((status, v["revision"].as_i64()), (Status::Ok, Some(2)), "a revision: {v}");
    let (_, def) = app.get_json(&format!("{Q}/demographics"), Some(&token)).await;
    assert_eq!(def["answers"], graduate);
    assert_eq!(def["status"], "complete");

    let usage = json!({"platforms_used": ["youtube", "facebook"], "preferred_platform": "facebook",
        "frequency_facebook": "daily", "purposes": ["resource_sharing", "study_sessions"],
        "hours_per_day": 2.5, "barriers": "Keeping personal and professional life apart.",
        "professionalism_concern": 4});
    let (status, v) =
        app.put_json(&format!("{Q}/platform-usage"), Some(&token), json!({"answers": usage})).await;
    assert_eq!(status, Status::Ok, "{v}");
    assert_eq!(
        v["answers"]["platforms_used"],
        json!(["facebook", "youtube"]),
        "in the form's order"
    );
    let (status, v) = app
        .put_json(&format!("{Q}/platform-usage"), Some(&token), json!({"answers": {
            "platforms_used": ["facebook"], "preferred_platform": "facebook", "frequency_twitter": "daily",
            "purposes": ["news"], "hours_per_day": 25}}))
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(fields(&v), ["frequency_twitter", "hours_per_day"], "{v}");

    // Stored normalised, stamped with the file hash.
    let multi =
        scalar(&app.db, "SELECT COUNT(*) FROM answers WHERE question_key = 'platforms_used'").await;
    assert_eq!(multi, 2, "one row per chosen platform");
    let demo_rows = scalar(&app.db, "SELECT COUNT(*) FROM answers a JOIN study_instruments i ON i.id = a.instrument_id WHERE i.key = 'demographics'").await;
    assert_eq!(demo_rows, 5, "the latest revision only, one row per question");
    let hash = app
        .state()
        .forms
        .get("demographics", 1)
        .map(|f| f.definition.form_hash.clone())
        .unwrap_or_default();
    assert_eq!(
        scalar(&app.db, &format!("SELECT COUNT(*) FROM responses WHERE form_hash = '{hash}'"))
            .await,
        1
    );
    assert_eq!(
        scalar(
            &app.db,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'questionnaire.answered'"
        )
        .await,
        3
    );
    let (_, list) = app.get_json(Q, Some(&token)).await;
    assert_eq!(list[1]["status"], "complete");

    let (status, portal) = app.get_json("/api/v1/participant", Some(&token)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        portal["next_steps"][1],
        json!({"step": "questionnaire", "state": "done", "key": "demographics", "version": "1"})
    );

    let (status, _) = app
        .post_json("/api/v1/participant/withdraw", Some(&token), json!({"scope": "future_only"}))
        .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(app.get_json(Q, Some(&token)).await.0, Status::Forbidden, "closed after withdrawal");
    assert_eq!(put(good).await.0, Status::Forbidden);
});

db_test!(answers_close_with_the_study, |app| {
    let s = with_questionnaires(&app).await;
    let token = consented(&app, &s, "kim@student.example.edu").await;
    let answers = json!({"answers": {"gender": "male", "age": 30, "entry_pathway": "graduate", "year_of_course": 5}});
    let (status, _) =
        app.put_json(&format!("{Q}/demographics"), Some(&token), answers.clone()).await;
    assert_eq!(status, Status::Ok);
    let (status, v) = app
        .post_json(&format!("{STUDY}/status"), Some(&s.coord), json!({"status": "closed"}))
        .await;
    assert_eq!(status, Status::Ok, "{v}");
    let (status, v) = app.put_json(&format!("{Q}/demographics"), Some(&token), answers).await;
    assert_eq!(status, Status::Conflict, "{v}");
    assert_eq!(
        app.get_json(&format!("{Q}/demographics"), Some(&token)).await.0,
        Status::Ok,
        "still readable"
    );
});

db_test!(a_changed_file_with_the_same_version_is_refused_once_answered, |app| {
    let s = with_questionnaires(&app).await;
    let loaded =
        app.state().forms.get("demographics", 1).cloned().unwrap_or_else(|| panic!("loaded"));
    let changed_text = loaded.source.replace("Age in years", "Your age in years");
    let changed = crate::forms::questionnaire::LoadedForm {
        definition: std::sync::Arc::new(
            crate::forms::questionnaire::parse_str(&loaded.path, &changed_text)
                .unwrap_or_else(|e| panic!("{e:?}")),
        ),
        source: changed_text,
        path: loaded.path.clone(),
    };
    let state_with = |form: crate::forms::questionnaire::LoadedForm| {
        crate::service::AppState::new(app.db.clone(), app.state().config.clone())
            .with_forms(crate::forms::questionnaire::Catalogue::from_forms([form]))
    };

    // Nobody has answered yet: the new text replaces the stored one, audited.
    let replaced =
        crate::service::questionnaire::sync_catalogue(&state_with(changed.clone())).await;
    assert_eq!(replaced, Ok(1));
    assert_eq!(
        scalar(
            &app.db,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'questionnaire.text_replaced'"
        )
        .await,
        1
    );
    let restored =
        crate::service::questionnaire::sync_catalogue(&state_with((*loaded).clone())).await;
    assert_eq!(restored, Ok(1));

    let token = consented(&app, &s, "ana@student.example.edu").await;
    let (status, _) = app
        .put_json(&format!("{Q}/demographics"), Some(&token),
            json!({"answers": {"gender": "female", "age": 21, "entry_pathway": "undergraduate", "year_of_course": 2}}))
        .await;
    assert_eq!(status, Status::Ok);
    let refused = crate::service::questionnaire::sync_catalogue(&state_with(changed)).await;
    let message = refused.err().map(|e| e.public_message()).unwrap_or_default();
    assert!(message.contains("demographics.toml"), "{message}");
    assert!(message.contains("demographics version 1 already has answers"), "{message}");
    assert!(message.contains("version 2"), "{message}");
    assert_eq!(
        crate::service::questionnaire::sync_catalogue(&state_with((*loaded).clone())).await,
        Ok(0)
    );
});

fn form_body(csrf: &str, action: &str, fields: &[(&str, &str)]) -> String {
    let mut body = format!("csrf_token={csrf}&action={action}");
    for (k, v) in fields {
        body.push_str(&format!("&a%5B{k}%5D={}", v.replace(' ', "+")));
    }
    body
}

async fn html(app: &TestApp, path: &str) -> (Status, String) {
    let res = app.client.get(path.to_string()).dispatch().await;
    let status = res.status();
    (status, res.into_string().await.unwrap_or_default())
}

async fn post_form(app: &TestApp, path: &str, body: String) -> (Status, Option<String>, String) {
    let res = app
        .client
        .post(path.to_string())
        .header(rocket::http::ContentType::Form)
        .body(body)
        .dispatch()
        .await;
    let status = res.status();
    let location = res.headers().get_one("Location").map(str::to_string);
    (status, location, res.into_string().await.unwrap_or_default())
}

fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or("")
        .to_string()
}

db_test!(answering_on_a_page_without_javascript, |app| {
    let s = with_questionnaires(&app).await;
    let token = consented(&app, &s, "lee@student.example.edu").await;
    app.client.get(format!("/p/{token}")).dispatch().await;

    let (status, portal) = html(&app, "/participant").await;
    assert_eq!(status, Status::Ok);
    assert!(portal.contains("href=\"/participant/questionnaires/demographics\""), "{portal}");
    assert!(portal.contains("Answer “About you”"), "{portal}");

    let path = "/participant/questionnaires/demographics";
    let (status, page) = html(&app, path).await;
    assert_eq!(status, Status::Ok);
    assert!(page.contains("Questionnaire 1 of 2"), "progress is shown");
    assert!(page.contains("<label for=\"field-age\">Age in years</label>"), "inputs are labelled");
    assert!(page.contains("aria-describedby=\"hint-year_of_course\""), "help is tied to its field");
    assert!(
        page.contains("<legend>What is your gender?</legend>"),
        "choices are grouped under their question"
    );
    let prior =
        page.split("id=\"q-prior_degree\"").nth(1).and_then(|r| r.split('>').next()).unwrap_or("");
    assert!(prior.contains("hidden") && prior.contains("data-show-if"), "not asked yet: {prior}");
    let csrf = csrf_of(&page);

    let (status, _, _) =
        post_form(&app, path, form_body("forged", "submit", &[("age", "22")])).await;
    assert_eq!(status, Status::Forbidden, "a form without its CSRF token is refused");

    // Save part of it: the graduate pathway opens the first-degree question.
    let (status, location, _) = post_form(
        &app,
        path,
        form_body(&csrf, "save", &[("entry_pathway", "graduate"), ("age", "")]),
    )
    .await;
    assert_eq!(
        (status, location.as_deref()),
        (Status::SeeOther, Some("/participant/questionnaires/demographics?saved=true"))
    );
    let (_, page) = html(&app, "/participant/questionnaires/demographics?saved=true").await;
    assert!(page.contains("Your answers are saved"));
    let prior =
        page.split("id=\"q-prior_degree\"").nth(1).and_then(|r| r.split('>').next()).unwrap_or("");
    assert!(!prior.contains("hidden"), "now asked: {prior}");
    assert!(page.contains("value=\"graduate\" checked"), "the saved answer is shown");
    let (_, list) = app.get_json(Q, Some(&token)).await;
    assert_eq!(list[0]["status"], "in_progress");

    // Submit with mistakes: 422, a summary linking to each field, values kept.
    let (status, _, page) = post_form(
        &app,
        path,
        form_body(
            &csrf,
            "submit",
            &[("entry_pathway", "graduate"), ("age", "200"), ("year_of_course", "three")],
        ),
    )
    .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(page.contains("There is a problem"), "{page}");
    for field in ["gender", "age", "year_of_course"] {
        assert!(
            page.contains(&format!("href=\"#field-{field}\"")),
            "{field} linked from the summary"
        );
    }
    assert!(page.contains("value=\"200\""), "the value typed is kept");
    assert!(page.contains("value=\"three\""), "even when it is not a number");
    assert!(page.contains("aria-invalid=\"true\""));

    // A hidden field left filled by a script is dropped, not refused, on a page.
    let (status, location, body) = post_form(
        &app,
        path,
        form_body(
            &csrf,
            "submit",
            &[
                ("gender", "male"),
                ("age", "24"),
                ("entry_pathway", "undergraduate"),
                ("year_of_course", "2"),
                ("prior_degree", "BSc"),
            ],
        ),
    )
    .await;
    assert_eq!(status, Status::SeeOther, "{body}");
    assert_eq!(
        location.as_deref(),
        Some("/participant/questionnaires/platform-usage"),
        "on to the next one"
    );
    let (_, def) = app.get_json(&format!("{Q}/demographics"), Some(&token)).await;
    assert_eq!(
        def["answers"],
        json!({"gender": "male", "age": 24, "entry_pathway": "undergraduate", "year_of_course": 2})
    );

    let usage = "/participant/questionnaires/platform-usage";
    let (_, page) = html(&app, usage).await;
    assert!(page.contains("Questionnaire 2 of 2 · 1 of 2 finished"), "progress moves on");
    let (status, location, body) = post_form(
        &app,
        usage,
        form_body(
            &csrf,
            "submit",
            &[
                ("platforms_used", "facebook"),
                ("platforms_used", "twitter"),
                ("preferred_platform", "twitter"),
                ("frequency_twitter", "weekly"),
                ("purposes", "networking"),
                ("hours_per_day", "1.5"),
                ("professionalism_concern", "3"),
            ],
        ),
    )
    .await;
    assert_eq!((status, location.as_deref()), (Status::SeeOther, Some("/participant")), "{body}");
    let (_, def) = app.get_json(&format!("{Q}/platform-usage"), Some(&token)).await;
    assert_eq!(def["answers"]["platforms_used"], json!(["facebook", "twitter"]));
    assert_eq!(def["answers"]["professionalism_concern"], json!(3));
});

// A page that shows a questionnaire, or only its title, uses the catalogue's own
// definition: nothing is copied per request.
db_test!(a_page_uses_the_catalogues_definition_not_a_copy, |app| {
    with_questionnaires(&app).await;
    let state = app.state();
    let study = crate::store::study::find_by_slug(app.db.conn(), "study-one")
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("study"));
    let instruments = crate::store::questionnaire::instruments(app.db.conn(), study.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!instruments.is_empty());
    for i in &instruments {
        let loaded = state.forms.get(&i.key, i.version).unwrap_or_else(|| panic!("{}", i.key));
        let first = crate::service::questionnaire::definition_of(state, app.db.conn(), i)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(std::sync::Arc::ptr_eq(&first, &loaded.definition), "{} was copied", i.key);
    }
});
