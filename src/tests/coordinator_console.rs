//! The coordinator's console: a study set up and taken to recruiting through pages
//! alone, every setup form keeping what was typed with each error beside its field,
//! and each form refused without its CSRF token or to the wrong role.

use rocket::http::Status;

use super::helpers::{PASSWORD, TestApp};
use super::html_pages::{csrf_of, page, post_form, sign_in, sign_out};
use crate::store::testing::scalar;

/// Posts a form and answers its status, its redirect and the page it returned.
async fn submit(app: &TestApp, path: &str, body: String) -> (Status, Option<String>, String) {
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

fn day(offset: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(offset)).date_naive().to_string()
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A form body from pairs, each value URL-encoded.
fn form(csrf: &str, pairs: &[(&str, &str)]) -> String {
    let mut body = format!("csrf_token={csrf}");
    for (k, v) in pairs {
        body.push_str(&format!("&{}={}", enc(k), enc(v)));
    }
    body
}

fn new_study_fields<'a>(approved: &'a str, expires: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("title", "Sleep and study"),
        ("slug", "sleep-study"),
        ("summary", "How sleep shapes study habits."),
        ("ethics.committee", "University HREC"),
        ("ethics.reference", "HREC-2026-77"),
        ("ethics.approved_on", approved),
        ("ethics.expires_on", expires),
        ("contact.name", "Cora Ordinator"),
        ("contact.email", "cora@example.org"),
        ("identity_check", "none"),
    ]
}

async fn studies(app: &TestApp) -> i64 {
    scalar(&app.db, "SELECT COUNT(*) FROM studies").await
}

async fn events(app: &TestApp, action: &str) -> i64 {
    scalar(&app.db, &format!("SELECT COUNT(*) FROM audit_events WHERE action = '{action}'")).await
}

db_test!(a_study_goes_from_nothing_to_recruiting_through_pages_alone, |app| {
    app.staff("coord@example.org", "coordinator").await;
    app.staff("eth@example.org", "ethics_officer").await;
    app.staff("fac@example.org", "facilitator").await;
    let (approved, expires) = (day(-10), day(300));
    let base = "/staff/studies/sleep-study";

    // Create the study with its approval.
    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let (_, dashboard) = page(&app, "/staff").await;
    assert!(dashboard.contains("href=\"/staff/new-study\""), "{dashboard}");
    let csrf = csrf_of(&page(&app, "/staff/new-study").await.1);
    let (status, to, _) =
        submit(&app, "/staff/new-study", form(&csrf, &new_study_fields(&approved, &expires))).await;
    assert_eq!((status, to.as_deref()), (Status::SeeOther, Some(base)));
    let (_, html) = page(&app, base).await;
    assert!(html.contains("Sleep and study is created, in draft"), "{html}");
    assert!(html.contains("Setting up") && html.contains("/consent-forms/new"), "{html}");

    // Settings and staff.
    let (status, to, _) = submit(
        &app,
        &format!("{base}/settings"),
        form(
            &csrf,
            &[
                ("identity_check", "none"),
                ("timezone", "Australia/Melbourne"),
                ("suppress_below", "5"),
                ("reminder_hours", "24"),
            ],
        ),
    )
    .await;
    assert_eq!((status, to.as_deref()), (Status::SeeOther, Some(base)));
    let (status, _, _) = submit(
        &app,
        &format!("{base}/staff"),
        form(&csrf, &[("email", "fac@example.org"), ("role", "facilitator")]),
    )
    .await;
    assert_eq!(status, Status::SeeOther);
    let (_, html) = page(&app, &format!("{base}/staff")).await;
    assert!(html.contains("fac@example.org") && html.contains("is on the study as facilitator"));

    // The consent form, written in the browser; Preview first.
    let draft = [
        ("version", "1"),
        ("language", "en-AU"),
        ("title", "Consent to take part"),
        ("body_markdown", "## Why\nWe study sleep.\n\n- an interview"),
        ("items[0].key", "take_part"),
        ("items[0].text", "I agree to take part."),
        ("items[0].required", "true"),
        ("items[1].key", ""),
        ("items[1].text", ""),
        ("items[2].key", "recording"),
        ("items[2].text", "I agree to be audio-recorded."),
    ];
    let mut preview = draft.to_vec();
    preview.push(("action", "preview"));
    let (status, _, html) =
        submit(&app, &format!("{base}/consent-forms"), form(&csrf, &preview)).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("as participants will see it") && html.contains("<li>an interview</li>"));
    let mut send = draft.to_vec();
    send.push(("action", "draft"));
    let (status, to, _) = submit(&app, &format!("{base}/consent-forms"), form(&csrf, &send)).await;
    let review = format!("{base}/consent-forms/1/review");
    assert_eq!((status, to.as_deref()), (Status::SeeOther, Some(review.as_str())));
    sign_out(&app).await;

    // The ethics officer approves it.
    assert_eq!(sign_in(&app.client, "eth@example.org", PASSWORD).await, Status::SeeOther);
    let (_, html) = page(&app, &review).await;
    let csrf = csrf_of(&html);
    let (status, _, _) = submit(
        &app,
        &format!("{base}/consent-forms/1/approve"),
        form(&csrf, &[("approval_reference", ""), ("approved_on", "")]),
    )
    .await;
    assert_eq!(status, Status::SeeOther);
    sign_out(&app).await;

    // Questionnaires, an ad, a stratum, and recruitment opens.
    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let csrf = csrf_of(&page(&app, base).await.1);
    for (key, stage, eligible_if) in [
        ("screening-medical-students@1", "screening", "enrolled_in_medicine == true"),
        ("demographics@1", "after_consent", ""),
    ] {
        let (status, _, html) = submit(
            &app,
            &format!("{base}/questionnaires"),
            form(&csrf, &[("form", key), ("stage", stage), ("eligible_if", eligible_if)]),
        )
        .await;
        assert_eq!(status, Status::SeeOther, "{key}: {html}");
    }
    let (status, _, html) = submit(
        &app,
        &format!("{base}/ads"),
        form(
            &csrf,
            &[
                ("code", "sleep-lms"),
                ("channel", "lms"),
                ("title", "Do you study at night?"),
                ("body_markdown", "Join a one-hour interview."),
                ("opens_on", &day(-1)),
                ("opens_time", "09:00"),
                ("closes_on", &day(30)),
                ("closes_time", ""),
                ("action", "save"),
            ],
        ),
    )
    .await;
    assert_eq!(status, Status::SeeOther, "{html}");
    let (status, _, html) = submit(
        &app,
        &format!("{base}/strata"),
        form(
            &csrf,
            &[("question", "entry_pathway"), ("value", "graduate"), ("target", "5"), ("cap", "")],
        ),
    )
    .await;
    assert_eq!(status, Status::SeeOther, "{html}");
    let (_, html) = page(&app, &format!("{base}/recruitment")).await;
    assert!(
        html.contains("&#x2f;ads&#x2f;sleep-lms") && html.contains("<svg"),
        "the ad's link and its QR code: {html}"
    );
    let (status, _, _) =
        submit(&app, &format!("{base}/status"), form(&csrf, &[("status", "recruiting")])).await;
    assert_eq!(status, Status::SeeOther);
    let (_, html) = page(&app, base).await;
    assert!(html.contains("The study is now recruiting"), "{html}");
    sign_out(&app).await;

    // Someone answers the ad, on its page, and is enrolled.
    let (status, ad) = page(&app, "/ads/sleep-lms").await;
    assert_eq!(status, Status::Ok);
    let csrf = csrf_of(&ad);
    let (status, to, html) = submit(
        &app,
        "/ads/sleep-lms/enrol",
        form(
            &csrf,
            &[
                ("name", "Nia Example"),
                ("email", "nia@student.example.edu"),
                ("a[enrolled_in_medicine]", "yes"),
                ("a[entry_pathway]", "graduate"),
            ],
        ),
    )
    .await;
    assert_eq!((status, to.as_deref()), (Status::SeeOther, Some("/participant")), "{html}");
    let (_, portal) = page(&app, "/participant").await;
    assert!(portal.contains("give your consent") && portal.contains("Sleep and study"), "{portal}");
    assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM participants").await, 1);
    // …and the coordinator reads the report, in the browser too.
    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let (status, html) = page(&app, &format!("{base}/report")).await;
    assert_eq!(status, Status::Ok, "{html}");
    assert!(html.contains("sleep-lms"), "the report counts the ad's respondents: {html}");
    for action in [
        "study.created",
        "study.settings_changed",
        "study.staff_added",
        "consent_form.drafted",
        "consent_form.approved",
        "instrument.attached",
        "ad.created",
        "stratum.created",
        "study.status_changed",
    ] {
        assert!(events(&app, action).await >= 1, "{action} is audited");
    }
});

/// A refused form: where it is posted, what is typed, the error shown and a value kept.
type Case<'a> = (String, Vec<(&'a str, &'a str)>, &'a str, &'a str);

db_test!(every_setup_form_keeps_what_was_typed_and_names_each_error, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let csrf = csrf_of(&page(&app, "/staff/new-study").await.1);

    // New study: each bad field named in words beside it, the rest kept.
    let mut fields = new_study_fields("2026-01-01", "2025-01-01");
    fields[1] = ("slug", "Bad Slug");
    fields[4] = ("ethics.reference", "");
    let (status, _, html) = submit(&app, "/staff/new-study", form(&csrf, &fields)).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(html.contains("value=\"Sleep and study\"") && html.contains("University HREC"));
    assert!(html.contains("id=\"error-field-slug-1\">The short name (slug) must be"), "{html}");
    assert!(html.contains("id=\"error-field-ethics.reference-1\">Approval reference is required."));
    assert!(html.contains("Expiry date must be after the approval date."));
    assert!(html.contains("href=\"#field-ethics.reference\""), "the summary links to the field");
    assert!(!html.contains("ethics.reference:"), "no field keys in the messages");
    assert_eq!(studies(&app).await, 0, "nothing is created");

    app.create_study(&coord, "study-one").await;
    let base = "/staff/studies/study-one";
    let cases: Vec<Case> = vec![
        (
            format!("{base}/settings"),
            vec![("timezone", "Mars/Base"), ("suppress_below", "many"), ("reminder_hours", "24")],
            "id=\"error-field-timezone-1\">Give an IANA time zone name",
            "value=\"Mars&#x2f;Base\"",
        ),
        (
            format!("{base}/staff"),
            vec![("email", "nobody@example.org"), ("role", "facilitator")],
            "No active staff account has this e-mail address",
            "value=\"nobody@example.org\"",
        ),
        (
            format!("{base}/consent-forms"),
            vec![
                ("version", "2"),
                ("language", "en"),
                ("title", "Consent again"),
                ("body_markdown", "Text."),
                ("items[0].key", "Take Part"),
                ("items[0].text", "I agree."),
                ("action", "draft"),
            ],
            "id=\"error-field-items[0].key-1\">Item keys are lower-case letters",
            "value=\"Consent again\"",
        ),
        (
            format!("{base}/consent-forms"),
            vec![
                ("version", "2"),
                (
                    "toml",
                    "title = \"x\"\nlanguage = \"en\"\nbody = \"b\"\n[[item]]\nkey = \"BAD\"\ntext = \"t\"\n",
                ),
                ("action", "draft"),
            ],
            "Line 5, item[1].key: Item keys are lower-case letters",
            "key = &quot;BAD&quot;",
        ),
        (
            format!("{base}/questionnaires"),
            vec![
                ("form", "screening-medical-students@1"),
                ("stage", "screening"),
                ("eligible_if", "enrolled_in_medicine =="),
            ],
            "id=\"error-field-eligible_if-1\">at column",
            "value=\"enrolled_in_medicine ==\"",
        ),
        (
            format!("{base}/questionnaires"),
            vec![("form", "no-such-form@1"), ("stage", "after_consent")],
            "id=\"error-field-form-1\">No questionnaire",
            "",
        ),
        (
            format!("{base}/ads"),
            vec![
                ("code", "x"),
                ("channel", "lms"),
                ("title", "Kept headline"),
                ("body_markdown", ""),
                ("opens_on", "2026-13-01"),
                ("closes_on", ""),
                ("action", "save"),
            ],
            "id=\"error-field-opens_at-1\">Opening date must be a date like",
            "value=\"Kept headline\"",
        ),
        (
            format!("{base}/strata"),
            vec![("question", "entry_pathway"), ("value", "graduate"), ("target", "lots")],
            "Strata are set on a screening questionnaire",
            "",
        ),
    ];
    let before = scalar(&app.db, "SELECT COUNT(*) FROM audit_events").await;
    for (path, fields, error, kept) in cases {
        let (status, _, html) = submit(&app, &path, form(&csrf, &fields)).await;
        assert!(
            matches!(status, Status::UnprocessableEntity | Status::Conflict),
            "{path}: {status}"
        );
        assert!(html.contains(error), "{path}: {error}\n{html}");
        assert!(html.contains(kept), "{path} keeps {kept}");
        assert!(html.contains("There is a problem") || html.contains("role=\"alert\""));
        assert!(!html.contains("RFC 3339"), "{path}: no format names in errors");
    }
    assert_eq!(
        scalar(&app.db, "SELECT COUNT(*) FROM audit_events").await,
        before,
        "no refused form records anything"
    );
});

db_test!(setup_forms_refuse_forged_posts_and_the_wrong_roles, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    app.staff("other@example.org", "coordinator").await;
    app.staff("eth@example.org", "ethics_officer").await;
    app.staff("fac@example.org", "facilitator").await;
    app.create_study(&coord, "study-one").await;
    app.add_staff(&coord, "study-one", "fac@example.org", "facilitator").await;
    let base = "/staff/studies/study-one";

    // Without the CSRF token nothing is done.
    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let bad =
        "csrf_token=forged&timezone=UTC&suppress_below=5&reminder_hours=24&identity_check=none";
    let (status, _) = post_form(&app, &format!("{base}/settings"), bad.into()).await;
    assert_eq!(status, Status::Forbidden);
    let fields = new_study_fields("2026-01-01", "2027-01-01");
    let (status, _) = post_form(&app, "/staff/new-study", form("forged", &fields)).await;
    assert_eq!(status, Status::Forbidden);
    assert_eq!(studies(&app).await, 1);
    sign_out(&app).await;

    // A facilitator neither creates studies nor sets one up; the menu says so.
    assert_eq!(sign_in(&app.client, "fac@example.org", PASSWORD).await, Status::SeeOther);
    let (_, html) = page(&app, "/staff").await;
    assert!(!html.contains("/staff/new-study") && !html.contains("/staff/outbox"), "{html}");
    assert_eq!(page(&app, "/staff/new-study").await.0, Status::Forbidden);
    let csrf = csrf_of(&html);
    for path in ["/settings", "/consent-forms/new"] {
        assert_eq!(page(&app, &format!("{base}{path}")).await.0, Status::Forbidden, "{path}");
    }
    let (status, _, _) = submit(
        &app,
        "/staff/new-study",
        form(&csrf, &new_study_fields("2026-01-01", "2027-01-01")),
    )
    .await;
    assert_eq!(status, Status::Forbidden);
    let (status, _, _) = submit(
        &app,
        &format!("{base}/ads"),
        form(
            &csrf,
            &[
                ("code", "fac-ad"),
                ("channel", "lms"),
                ("title", "t"),
                ("body_markdown", "b"),
                ("opens_on", &day(0)),
                ("closes_on", &day(9)),
                ("action", "save"),
            ],
        ),
    )
    .await;
    assert_eq!(status, Status::Forbidden);
    sign_out(&app).await;

    // An ethics officer approves but does not draft or add staff.
    assert_eq!(sign_in(&app.client, "eth@example.org", PASSWORD).await, Status::SeeOther);
    let csrf = csrf_of(&page(&app, base).await.1);
    assert_eq!(page(&app, &format!("{base}/consent-forms/new")).await.0, Status::Forbidden);
    let (status, _, _) = submit(
        &app,
        &format!("{base}/staff"),
        form(&csrf, &[("email", "other@example.org"), ("role", "coordinator")]),
    )
    .await;
    assert_eq!(status, Status::Forbidden);
    sign_out(&app).await;

    // A coordinator of another study does not learn this one exists.
    assert_eq!(sign_in(&app.client, "other@example.org", PASSWORD).await, Status::SeeOther);
    let csrf = csrf_of(&page(&app, "/staff").await.1);
    for path in ["/settings", "/staff", "/questionnaires", "/recruitment", "/consent-forms/new"] {
        assert_eq!(page(&app, &format!("{base}{path}")).await.0, Status::NotFound, "{path}");
    }
    let (status, _, _) = submit(
        &app,
        &format!("{base}/strata"),
        form(&csrf, &[("question", "entry_pathway"), ("value", "graduate"), ("target", "5")]),
    )
    .await;
    assert_eq!(status, Status::NotFound);
    assert_eq!(events(&app, "study.staff_added").await, 1, "only the setup's own addition");
});

db_test!(staff_come_off_a_study_but_its_last_coordinator_stays, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    app.staff("fac@example.org", "facilitator").await;
    app.create_study(&coord, "study-one").await;
    app.add_staff(&coord, "study-one", "fac@example.org", "facilitator").await;
    let base = "/staff/studies/study-one";
    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let (_, html) = page(&app, &format!("{base}/staff")).await;
    let csrf = csrf_of(&html);
    let id = |email: &str| {
        let sql = format!("SELECT id FROM users WHERE email = '{email}'");
        let app = &app;
        async move { scalar(&app.db, &sql).await }
    };
    let (coord_id, fac_id) = (id("coord@example.org").await, id("fac@example.org").await);

    let (status, to) =
        post_form(&app, &format!("{base}/staff/{coord_id}/remove"), format!("csrf_token={csrf}"))
            .await;
    assert_eq!(status, Status::SeeOther);
    let (_, html) = page(&app, to.as_deref().unwrap_or_default()).await;
    assert!(html.contains("A study keeps at least one coordinator"), "{html}");

    let (status, _) =
        post_form(&app, &format!("{base}/staff/{fac_id}/remove"), format!("csrf_token={csrf}"))
            .await;
    assert_eq!(status, Status::SeeOther);
    let (_, html) = page(&app, &format!("{base}/staff")).await;
    assert!(html.contains("is no longer on the study") && !html.contains("fac@example.org"));
    assert_eq!(events(&app, "study.staff_removed").await, 1);
    let (status, _) =
        post_form(&app, &format!("{base}/staff/{fac_id}/remove"), format!("csrf_token={csrf}"))
            .await;
    assert_eq!(status, Status::NotFound, "someone not on the study");
});

db_test!(closing_a_study_and_cancelling_a_session_are_asked_first, |app| {
    let s = crate::tests::consent_flow::recruiting_study(&app).await;
    let starts = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let (status, g) = app
        .post_json(
            "/api/v1/studies/study-one/focus-groups",
            Some(&s.coord),
            serde_json::json!({"title": "Evening group", "starts_at": starts, "duration_minutes": 60,
                   "location": "Room 1", "facilitator_email": "fac@example.org", "capacity": 6}),
        )
        .await;
    assert_eq!(status, Status::Created, "{g}");
    let id = g["id"].as_i64().unwrap_or_default();
    let base = "/staff/studies/study-one";
    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let csrf = csrf_of(&page(&app, base).await.1);

    // One click on "Close the study" only asks, saying what follows.
    let (status, _, html) =
        submit(&app, &format!("{base}/status"), form(&csrf, &[("status", "closed")])).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Closing is final") && html.contains("No one is e-mailed"), "{html}");
    assert!(html.contains("name=\"confirmed\" value=\"true\""));
    let (_, v) = app.get_json("/api/v1/studies/study-one", Some(&s.coord)).await;
    assert_eq!(v["status"], "recruiting", "nothing changed yet");

    // Cancelling a session says who will be told, and waits for the answer.
    let cancel = format!("{base}/focus-groups/{id}/cancel");
    let (status, _, html) = submit(&app, &cancel, form(&csrf, &[])).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Cancel Evening group?") && html.contains("no one is e-mailed"));
    assert_eq!(events(&app, "focus_group.cancelled").await, 0);
    let (status, _, _) = submit(&app, &cancel, form(&csrf, &[("confirmed", "true")])).await;
    assert_eq!(status, Status::SeeOther);
    assert_eq!(events(&app, "focus_group.cancelled").await, 1);

    let (status, _, _) = submit(
        &app,
        &format!("{base}/status"),
        form(&csrf, &[("status", "closed"), ("confirmed", "true"), ("reason", "Done")]),
    )
    .await;
    assert_eq!(status, Status::SeeOther);
    let (_, v) = app.get_json("/api/v1/studies/study-one", Some(&s.coord)).await;
    assert_eq!(v["status"], "closed");
});

db_test!(the_participant_list_searches_and_each_record_shows_steps_and_mail, |app| {
    let s = crate::tests::consent_flow::recruiting_study(&app).await;
    crate::tests::consent_flow::invite(&app, &s, "zoe@student.example.edu").await;
    let base = "/staff/studies/study-one";
    app.post_json(
        "/api/v1/studies/study-one/participants",
        Some(&s.coord),
        serde_json::json!({"name": "Omar Haddad", "email": "omar@student.example.edu"}),
    )
    .await;

    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let (status, html) = page(&app, &format!("{base}/participants")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("omar@student.example.edu") && html.contains("Omar Haddad"), "{html}");
    assert!(html.contains("2 of 2 participant(s) shown"), "{html}");
    assert_eq!(events(&app, "participant.list_viewed").await, 1, "reading names is audited");
    let (_, html) = page(&app, &format!("{base}/participants?q=omar")).await;
    assert!(html.contains("1 of 2") && !html.contains("zoe@student"), "{html}");
    let (_, html) = page(&app, &format!("{base}/participants?status=consented")).await;
    assert!(html.contains("0 of 2") && html.contains("No one matches"), "{html}");

    // A refused invitation comes back with what was typed.
    let csrf = csrf_of(&html);
    let (status, _, html) = submit(
        &app,
        &format!("{base}/participants"),
        form(&csrf, &[("name", "Kept Name"), ("email", "not-an-address")]),
    )
    .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(html.contains("value=\"Kept Name\"") && html.contains("id=\"error-field-email-1\""));

    // A record: steps, and the mail sent, links redacted.
    let id = scalar(
        &app.db,
        "SELECT p.id FROM participants p JOIN participant_contacts c ON c.participant_id = p.id WHERE c.email = 'omar@student.example.edu'",
    )
    .await;
    let (status, html) = page(&app, &format!("{base}/people/{id}")).await;
    assert_eq!(status, Status::Ok);
    assert!(
        html.contains("Consent: not given yet") && html.contains("a direct invitation"),
        "{html}"
    );
    assert!(html.contains("invitation") && !html.contains("cpt_"), "mail, no links: {html}");
    sign_out(&app).await;

    // Ethics officers see codes only, and no record page; facilitators neither.
    assert_eq!(sign_in(&app.client, "eth@example.org", PASSWORD).await, Status::SeeOther);
    let (status, html) = page(&app, &format!("{base}/participants")).await;
    assert_eq!(status, Status::Ok);
    assert!(!html.contains("omar@student") && !html.contains("Omar Haddad"), "{html}");
    assert_eq!(page(&app, &format!("{base}/people/{id}")).await.0, Status::Forbidden);
    sign_out(&app).await;
    assert_eq!(sign_in(&app.client, "fac@example.org", PASSWORD).await, Status::SeeOther);
    assert_eq!(page(&app, &format!("{base}/participants")).await.0, Status::Forbidden);
});

db_test!(admins_make_accounts_whose_owners_set_their_own_password, |app| {
    app.staff("admin@example.org", "admin").await;
    let coord = app.staff("coord@example.org", "coordinator").await;

    // Coordinators do not manage accounts, and see no menu for it.
    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let (_, html) = page(&app, "/staff").await;
    assert!(!html.contains("/staff/accounts"));
    assert_eq!(page(&app, "/staff/accounts").await.0, Status::Forbidden);
    let csrf = csrf_of(&html);
    let fields = [("name", "Mallory"), ("email", "mallory@example.org"), ("role", "admin")];
    let (status, _, _) = submit(&app, "/staff/accounts", form(&csrf, &fields)).await;
    assert_eq!(status, Status::Forbidden);
    sign_out(&app).await;

    assert_eq!(sign_in(&app.client, "admin@example.org", PASSWORD).await, Status::SeeOther);
    let (status, html) = page(&app, "/staff/accounts").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("coord@example.org"), "{html}");
    let csrf = csrf_of(&html);
    let (status, _, html) = submit(
        &app,
        "/staff/accounts",
        form(
            &csrf,
            &[("name", "Fay Cilitator"), ("email", "not an address"), ("role", "facilitator")],
        ),
    )
    .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(html.contains("value=\"Fay Cilitator\"") && html.contains("error-field-email-1"));
    assert!(!html.contains("error-field-password"), "no password is asked of the admin");
    let (status, _, _) = submit(
        &app,
        "/staff/accounts",
        form(
            &csrf,
            &[("name", "Fay Cilitator"), ("email", "fay@example.org"), ("role", "facilitator")],
        ),
    )
    .await;
    assert_eq!(status, Status::SeeOther);
    let (_, html) = page(&app, "/staff/accounts").await;
    assert!(html.contains("A link to set the password was mailed to fay@example.org"), "{html}");
    let (_, outbox) = page(&app, "/staff/outbox").await;
    assert!(!outbox.contains("/staff/password/cst_"), "staff never see the link: {outbox}");
    sign_out(&app).await;

    // The owner opens the link and chooses a password.
    let mail = app.mailbox().await;
    let link = mail
        .iter()
        .find(|m| m.to == "fay@example.org")
        .and_then(|m| m.body.split("/staff/password/").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_default()
        .to_string();
    assert!(link.starts_with("cst_"), "{mail:?}");
    let path = format!("/staff/password/{link}");
    let (status, html) = page(&app, &path).await;
    assert_eq!(status, Status::Ok);
    let csrf = csrf_of(&html);
    let good = "Lantern-orchid-57-Rivet";
    let (status, _, html) =
        submit(&app, &path, form(&csrf, &[("password", good), ("again", "something else")])).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(html.contains("The two passwords are not the same."), "{html}");
    let (status, _, html) =
        submit(&app, &path, form(&csrf, &[("password", "password"), ("again", "password")])).await;
    assert_eq!(status, Status::UnprocessableEntity, "{html}");
    let (status, to, _) =
        submit(&app, &path, form(&csrf, &[("password", good), ("again", good)])).await;
    assert_eq!((status, to.as_deref()), (Status::SeeOther, Some("/staff/login")));
    let (_, login) = page(&app, "/staff/login").await;
    assert!(login.contains("Your password is set"), "{login}");
    assert_eq!(sign_in(&app.client, "fay@example.org", good).await, Status::SeeOther);
    sign_out(&app).await;
    assert_eq!(page(&app, &path).await.0, Status::Gone, "a link works once");
    let csrf = csrf_of(&page(&app, "/staff/login").await.1);
    let (status, _, _) =
        submit(&app, &path, form(&csrf, &[("password", good), ("again", good)])).await;
    assert_eq!(status, Status::Gone);
    assert_eq!(events(&app, "user.password_set").await, 1);

    // The admin switches the account off: no more signing in.
    assert_eq!(sign_in(&app.client, "admin@example.org", PASSWORD).await, Status::SeeOther);
    let fay = scalar(&app.db, "SELECT id FROM users WHERE email = 'fay@example.org'").await;
    let csrf = csrf_of(&page(&app, "/staff/accounts").await.1);
    let (status, _) = post_form(
        &app,
        &format!("/staff/accounts/{fay}/active"),
        format!("csrf_token={csrf}&active=false"),
    )
    .await;
    assert_eq!(status, Status::SeeOther);
    let (status, _) = post_form(
        &app,
        &format!("/staff/accounts/{fay}/password-link"),
        format!("csrf_token={csrf}"),
    )
    .await;
    assert_eq!(status, Status::SeeOther);
    let (_, html) = page(&app, "/staff/accounts").await;
    assert!(html.contains("switched off: switch it on before sending"), "{html}");
    sign_out(&app).await;
    assert_eq!(sign_in(&app.client, "fay@example.org", good).await, Status::Unauthorized);

    // Ending a coordinator's sessions signs them out at once.
    let coord_id = scalar(&app.db, "SELECT id FROM users WHERE email = 'coord@example.org'").await;
    assert_eq!(sign_in(&app.client, "admin@example.org", PASSWORD).await, Status::SeeOther);
    let csrf = csrf_of(&page(&app, "/staff/accounts").await.1);
    let (_, before) = app.get_json("/api/v1/studies", Some(&coord)).await;
    assert!(before.is_array(), "{before}");
    let (status, _) = post_form(
        &app,
        &format!("/staff/accounts/{coord_id}/sessions"),
        format!("csrf_token={csrf}"),
    )
    .await;
    assert_eq!(status, Status::SeeOther);
    let (status, _) = app.get_json("/api/v1/studies", Some(&coord)).await;
    assert_eq!(status, Status::Unauthorized, "the token has ended");
});

db_test!(every_console_form_refuses_a_forged_post, |app| {
    let s = crate::tests::consent_flow::recruiting_study(&app).await;
    app.staff("admin@example.org", "admin").await;
    let base = "/staff/studies/study-one";
    let posts = [
        "/staff/new-study".to_string(),
        format!("{base}/settings"),
        format!("{base}/staff"),
        format!("{base}/staff/1/remove"),
        format!("{base}/consent-forms"),
        format!("{base}/questionnaires"),
        format!("{base}/ads"),
        format!("{base}/ads/any-ad"),
        format!("{base}/ads/any-ad/close"),
        format!("{base}/strata"),
        format!("{base}/participants"),
        format!("{base}/status"),
        format!("{base}/focus-groups"),
        format!("{base}/focus-groups/place"),
        "/staff/accounts".to_string(),
        "/staff/accounts/1/active".to_string(),
        "/staff/accounts/1/password-link".to_string(),
        "/staff/accounts/1/sessions".to_string(),
        format!("{base}/focus-groups/conflicts"),
        format!("{base}/ads/any-ad/reopen"),
        format!("{base}/approvals"),
    ];
    for who in ["coord@example.org", "admin@example.org"] {
        assert_eq!(sign_in(&app.client, who, PASSWORD).await, Status::SeeOther);
        let before = scalar(&app.db, "SELECT COUNT(*) FROM audit_events").await;
        for path in &posts {
            let body = "csrf_token=forged&name=x&email=x%40example.org&status=closed&confirmed=true&active=false";
            let (status, _) = post_form(&app, path, body.to_string()).await;
            assert_eq!(status, Status::Forbidden, "{who} {path}");
        }
        let after = scalar(&app.db, "SELECT COUNT(*) FROM audit_events").await;
        assert_eq!(before, after, "nothing recorded");
        sign_out(&app).await;
    }
    let (_, v) = app.get_json("/api/v1/studies/study-one", Some(&s.coord)).await;
    assert_eq!(v["status"], "recruiting");
});

db_test!(the_eligibility_rule_is_checked_before_anything_is_attached, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    app.create_study(&coord, "study-one").await;
    let path = "/staff/studies/study-one/questionnaires";
    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let (_, html) = page(&app, path).await;
    assert!(html.contains("data-live=\"rule-check\"") && html.contains("/static/live.js"));
    let csrf = csrf_of(&html);
    let check = |rule: &'static str| {
        form(
            &csrf,
            &[
                ("form", "screening-medical-students@1"),
                ("stage", "screening"),
                ("eligible_if", rule),
                ("action", "check"),
            ],
        )
    };
    let (status, _, html) = submit(&app, path, check("enrolled_in_medicine == ")).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(html.contains("Not yet: at column"), "{html}");
    assert!(html.contains("value=\"enrolled_in_medicine == \""), "kept: {html}");
    let (status, _, html) = submit(&app, path, check("no_such_question == true")).await;
    assert_eq!(status, Status::UnprocessableEntity, "{html}");
    let (status, _, html) = submit(&app, path, check("enrolled_in_medicine == true")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("The rule reads well against this questionnaire."), "{html}");
    assert!(html.contains("selected>Can you take part?"), "the choice is kept: {html}");
    assert_eq!(events(&app, "instrument.attached").await, 0, "a check attaches nothing");

    let res = app.client.get("/static/live.js").dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    let (_, html) = page(&app, "/staff/studies/study-one/consent-forms/new").await;
    assert!(html.contains("data-live=\"live-preview\"") && html.contains("id=\"live-preview\""));
});

db_test!(a_consent_form_file_is_uploaded_and_its_errors_name_the_line, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    app.create_study(&coord, "study-one").await;
    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let (_, html) = page(&app, "/staff/studies/study-one/consent-forms/new").await;
    assert!(html.contains("enctype=\"multipart/form-data\""));
    let csrf = csrf_of(&html);
    let post = |file: String| {
        let boundary = "consentry-test-boundary";
        let mut body = String::new();
        for (name, value) in [("csrf_token", csrf.as_str()), ("version", "1"), ("action", "draft")]
        {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"toml_file\"; filename=\"consent.toml\"\r\nContent-Type: application/toml\r\n\r\n{file}\r\n--{boundary}--\r\n"
        ));
        let app = &app;
        async move {
            let res = app
                .client
                .post("/staff/studies/study-one/consent-forms")
                .header(
                    rocket::http::ContentType::new("multipart", "form-data")
                        .with_params(("boundary", boundary)),
                )
                .body(body)
                .dispatch()
                .await;
            let status = res.status();
            (status, res.into_string().await.unwrap_or_default())
        }
    };
    let (status, html) =
        post("title = \"T\"\nlanguage = \"en\"\nbody = \"B\"\n\n[[item]]\nkey = \"Bad Key\"\ntext = \"t\"\n".into())
            .await;
    assert_eq!(status, Status::UnprocessableEntity, "{html}");
    assert!(html.contains("Line 6, item[1].key"), "{html}");
    assert!(html.contains("key = &quot;Bad Key&quot;"), "the file is shown to fix: {html}");
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/forms/consent/social-media-medical-education.toml"
    ))
    .unwrap_or_default();
    let (status, html) = post(seed).await;
    assert_eq!(status, Status::SeeOther, "{html}");
    assert_eq!(events(&app, "consent_form.drafted").await, 1);
});

db_test!(an_ad_is_edited_closed_and_opened_again_from_its_pages, |app| {
    let s = crate::tests::consent_flow::recruiting_study(&app).await;
    let iso = |d: i64| (chrono::Utc::now() + chrono::Duration::days(d)).to_rfc3339();
    let (status, v) = app
        .post_json(
            "/api/v1/studies/study-one/ads",
            Some(&s.coord),
            serde_json::json!({"code": "moodle-mbbs", "channel": "lms", "title": "Old headline",
                   "body_markdown": "Text.", "opens_at": iso(-1), "closes_at": iso(30)}),
        )
        .await;
    assert_eq!(status, Status::Created, "{v}");
    let base = "/staff/studies/study-one";
    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let (status, html) = page(&app, &format!("{base}/ads/moodle-mbbs")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("value=\"Old headline\"") && html.contains("Open from (UTC time)"));
    let csrf = csrf_of(&html);
    let edit = |title: &'static str, closes: String| {
        form(
            &csrf,
            &[
                ("channel", "email"),
                ("title", title),
                ("body_markdown", "New text."),
                ("opens_on", &day(-1)),
                ("opens_time", "08:00"),
                ("closes_on", &closes),
                ("closes_time", "18:00"),
            ],
        )
    };
    let (status, _, html) =
        submit(&app, &format!("{base}/ads/moodle-mbbs"), edit("Kept headline", day(-3))).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(html.contains("The ad must close after it opens.") && html.contains("Kept headline"));
    let (status, _, _) =
        submit(&app, &format!("{base}/ads/moodle-mbbs"), edit("New headline", day(20))).await;
    assert_eq!(status, Status::SeeOther);
    let (_, public) = page(&app, "/ads/moodle-mbbs").await;
    assert!(public.contains("New headline"), "{public}");

    let close = format!("{base}/ads/moodle-mbbs/close");
    assert_eq!(post_form(&app, &close, format!("csrf_token={csrf}")).await.0, Status::SeeOther);
    let (_, public) = page(&app, "/ads/moodle-mbbs").await;
    assert!(public.contains("closed by the researchers"), "{public}");
    let (_, html) = page(&app, &format!("{base}/recruitment")).await;
    assert!(html.contains("Open this ad again"), "{html}");
    let reopen = format!("{base}/ads/moodle-mbbs/reopen");
    assert_eq!(post_form(&app, &reopen, format!("csrf_token={csrf}")).await.0, Status::SeeOther);
    let (_, public) = page(&app, "/ads/moodle-mbbs").await;
    assert!(!public.contains("closed by the researchers"), "{public}");
    for action in ["ad.updated", "ad.closed", "ad.reopened"] {
        assert_eq!(events(&app, action).await, 1, "{action}");
    }
    sign_out(&app).await;
    assert_eq!(sign_in(&app.client, "fac@example.org", PASSWORD).await, Status::SeeOther);
    assert_eq!(page(&app, &format!("{base}/ads/moodle-mbbs")).await.0, Status::Forbidden);
    let csrf = csrf_of(&page(&app, "/staff").await.1);
    assert_eq!(post_form(&app, &close, format!("csrf_token={csrf}")).await.0, Status::SeeOther);
    assert_eq!(events(&app, "ad.closed").await, 1, "a facilitator closes nothing");
});

db_test!(a_facilitator_declares_and_withdraws_a_conflict_on_the_page, |app| {
    let s = crate::tests::consent_flow::recruiting_study(&app).await;
    let token = crate::tests::consent_flow::invite(&app, &s, "kim@student.example.edu").await;
    let signed = crate::tests::consent_flow::signing(&s, "Kim Lee", false);
    let (status, v) = app.post_json("/api/v1/participant/consent", Some(&token), signed).await;
    assert_eq!(status, Status::Created, "{v}");
    let base = "/staff/studies/study-one/focus-groups";
    assert_eq!(sign_in(&app.client, "fac@example.org", PASSWORD).await, Status::SeeOther);
    let (status, html) = page(&app, base).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("People a facilitator knows") && html.contains("None declared."));
    let csrf = csrf_of(&html);
    let (status, _, html) =
        submit(&app, &format!("{base}/conflicts"), form(&csrf, &[("participant_code", "P999")]))
            .await;
    assert!(
        matches!(status, Status::UnprocessableEntity | Status::NotFound | Status::Conflict),
        "{status}"
    );
    if status != Status::NotFound {
        assert!(html.contains("value=\"P999\""), "kept: {html}");
    }
    let (status, _, _) =
        submit(&app, &format!("{base}/conflicts"), form(&csrf, &[("participant_code", "p001")]))
            .await;
    assert_eq!(status, Status::SeeOther);
    let (_, html) = page(&app, base).await;
    assert!(html.contains("you will not be placed with P001"), "{html}");
    assert!(html.contains("/conflicts/P001/withdraw"), "{html}");
    sign_out(&app).await;

    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let (_, html) = page(&app, base).await;
    assert!(html.contains("P001 · fac@example.org") && !html.contains("/conflicts/P001/withdraw"));
    sign_out(&app).await;

    assert_eq!(sign_in(&app.client, "fac@example.org", PASSWORD).await, Status::SeeOther);
    let csrf = csrf_of(&page(&app, base).await.1);
    let (status, _) =
        post_form(&app, &format!("{base}/conflicts/P001/withdraw"), format!("csrf_token={csrf}"))
            .await;
    assert_eq!(status, Status::SeeOther);
    let (_, html) = page(&app, base).await;
    assert!(html.contains("withdrawn") && html.contains("None declared."), "{html}");
});

db_test!(the_api_removes_staff_and_reopens_ads_as_the_pages_do, |app| {
    let s = crate::tests::consent_flow::recruiting_study(&app).await;
    let fac = scalar(&app.db, "SELECT id FROM users WHERE email = 'fac@example.org'").await;
    let coord = scalar(&app.db, "SELECT id FROM users WHERE email = 'coord@example.org'").await;
    let delete = |path: String, token: String| {
        let app = &app;
        async move {
            app.client
                .delete(path)
                .header(rocket::http::Header::new("Authorization", format!("Bearer {token}")))
                .dispatch()
                .await
                .status()
        }
    };
    let staff = |id: i64| format!("/api/v1/studies/study-one/staff/{id}");
    assert_eq!(delete(staff(fac), s.fac.clone()).await, Status::Forbidden);
    assert_eq!(delete(staff(coord), s.coord.clone()).await, Status::Conflict, "last coordinator");
    assert_eq!(delete(staff(fac), s.coord.clone()).await, Status::NoContent);
    assert_eq!(delete(staff(fac), s.coord.clone()).await, Status::NotFound);
    let beyond = "/api/v1/studies/study-one/staff/9223372036854775808".to_string();
    assert_eq!(delete(beyond, s.coord.clone()).await, Status::NotFound, "no such account");
    let (_, v) = app.get_json("/api/v1/studies/study-one/staff", Some(&s.coord)).await;
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");

    let iso = |d: i64| (chrono::Utc::now() + chrono::Duration::days(d)).to_rfc3339();
    app.post_json(
        "/api/v1/studies/study-one/ads",
        Some(&s.coord),
        serde_json::json!({"code": "moodle-mbbs", "channel": "lms", "title": "T",
               "body_markdown": "B", "opens_at": iso(-1), "closes_at": iso(30)}),
    )
    .await;
    let ad = "/api/v1/studies/study-one/ads/moodle-mbbs";
    let (status, v) =
        app.post_json(&format!("{ad}/close"), Some(&s.coord), serde_json::json!({})).await;
    assert_eq!(status, Status::Ok, "{v}");
    let (status, v) =
        app.post_json(&format!("{ad}/reopen"), Some(&s.coord), serde_json::json!({})).await;
    assert_eq!(status, Status::Ok, "{v}");
    let (_, public) = app.get_json("/api/v1/ads/moodle-mbbs", None).await;
    assert_eq!(public["open"], true, "{public}");
    assert_eq!(events(&app, "ad.reopened").await, 1);
    assert_eq!(events(&app, "study.staff_removed").await, 1);
});

db_test!(a_new_link_from_a_record_and_a_refused_threshold_stay_on_their_pages, |app| {
    let s = crate::tests::consent_flow::recruiting_study(&app).await;
    let token = crate::tests::consent_flow::invite(&app, &s, "pat@student.example.edu").await;
    let signed = crate::tests::consent_flow::signing(&s, "Pat Lee", true);
    let (status, v) = app.post_json("/api/v1/participant/consent", Some(&token), signed).await;
    assert_eq!(status, Status::Created, "{v}");
    let base = "/staff/studies/study-one";
    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);

    // "Send a new link" on a participant's record answers on that record.
    let id = scalar(&app.db, "SELECT id FROM participants WHERE code = 'P001'").await;
    let record = format!("{base}/people/{id}");
    let (_, html) = page(&app, &record).await;
    assert!(html.contains(&format!("name=\"back_to\" value=\"{id}\"")), "{html}");
    let back = id.to_string();
    let body = form(&csrf_of(&html), &[("back_to", back.as_str())]);
    let (status, location, _) = submit(&app, &format!("{base}/participants/P001/link"), body).await;
    assert_eq!((status, location.as_deref()), (Status::SeeOther, Some(record.as_str())));
    let (_, html) = page(&app, &record).await;
    assert!(html.contains("A new link was mailed to P001"), "{html}");

    // The report's threshold: a refused value stays as typed, the reason beside it.
    let report = format!("{base}/report");
    let (_, html) = page(&app, &report).await;
    let csrf = csrf_of(&html);
    let threshold = format!("{base}/report/threshold");
    let (status, _, html) =
        submit(&app, &threshold, form(&csrf, &[("suppress_below", "five")])).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(html.contains("value=\"five\""), "the value typed is kept: {html}");
    assert!(html.contains("id=\"error-field-suppress_below-1\""), "beside the field: {html}");
    assert!(html.contains("whole number from 0 to 100"), "{html}");
    let (status, location, _) =
        submit(&app, &threshold, form(&csrf, &[("suppress_below", "7")])).await;
    assert_eq!((status, location.as_deref()), (Status::SeeOther, Some(report.as_str())));
    let (_, html) = page(&app, &report).await;
    assert!(html.contains("value=\"7\"") && html.contains("below 7"), "{html}");
});
