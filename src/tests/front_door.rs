//! The front door, tried as an outsider, a curious coordinator and a database
//! reader would: a participant's link is theirs alone, staff never read a working
//! link or code, sign-in throttling can be neither bypassed nor turned against an
//! account's owner, cookie-authenticated API writes come only from this site, and
//! outputs cannot carry code. Each test names the finding it proves gone.

use std::net::SocketAddr;

use rocket::http::{ContentType, Header, Status};
use serde_json::{Value, json};

use super::consent_flow::{invite, recruiting_study};
use super::helpers::{PASSWORD, TestApp, fields, study_body};
use super::html_pages::{csrf_of, page, sign_in};
use super::mail::smtp_sink;
use super::recruitment::{enrol, with_screening};
use crate::domain::audit::sha256_hex;
use crate::store::testing::{execute, scalar};

const STUDY: &str = "/api/v1/studies/study-one";

/// Runs the real sender against a loopback SMTP server and returns each delivered
/// message with quoted-printable soft line breaks undone.
async fn deliver(app: &TestApp) -> Vec<String> {
    let (port, received) = smtp_sink().await;
    let delivery = crate::mail::sender::Delivery::from_config(
        Some(&format!("smtp://127.0.0.1:{port}")),
        "Study team <research@example.edu>",
    )
    .expect("smtp config");
    while crate::mail::sender::deliver_due(&app.db, app.state().keys().expect("keys"), &delivery)
        .await
        .expect("deliver")
        > 0
    {}
    let got = received.lock().expect("lock").clone();
    got.into_iter().map(|m| m.replace("=\n", "").replace("=3D", "=")).collect()
}

/// The participant links (`cpt_…`) in a text.
fn links_in(text: &str) -> Vec<String> {
    let re = regex::Regex::new(r"cpt_[0-9a-f]{64}").expect("regex");
    re.find_iter(text).map(|m| m.as_str().to_string()).collect()
}

fn mail_to<'a>(mail: &'a [String], address: &str) -> Vec<&'a String> {
    mail.iter().filter(|m| m.contains(&format!("To: {address}"))).collect()
}

async fn portal_status(app: &TestApp, token: &str) -> Status {
    app.get_json("/api/v1/participant", Some(token)).await.0
}

// Finding 1: anyone who knew a participant's address took over their account.
db_test!(enrolling_again_with_a_known_address_replaces_nothing, |app| {
    let s = with_screening(&app).await;
    let (status, v) = enrol(&app, "Vic Tim", "vic@student.example.edu", true, "graduate").await;
    assert_eq!(status, Status::Created, "{v}");
    let victim = v["participant_token"].as_str().unwrap_or_default().to_string();
    deliver(&app).await;

    let (status, v) = enrol(&app, "Mallory", "VIC@student.example.edu", true, "graduate").await;
    assert_eq!(status, Status::Accepted, "a known address gets no token: {v}");
    assert_eq!((v["eligible"].as_bool(), v["sent"].as_bool()), (Some(true), Some(true)), "{v}");
    assert!(v.get("participant_token").is_none_or(Value::is_null), "{v}");
    assert_eq!(portal_status(&app, &victim).await, Status::Ok, "the victim's link still works");
    assert_eq!(
        scalar(&app.db, "SELECT COUNT(*) FROM participant_contacts").await,
        1,
        "no second participant"
    );
    let mail = deliver(&app).await;
    let to_victim = mail_to(&mail, "vic@student.example.edu");
    assert_eq!(to_victim.len(), 1, "the new link goes to the address on record: {mail:?}");
    let fresh = links_in(to_victim[0]);
    assert_eq!(fresh.len(), 1);
    assert_ne!(fresh[0], victim);
    assert_eq!(portal_status(&app, &fresh[0]).await, Status::Ok, "and the mailed link works");

    // The HTML form answers the same way and signs no one in on the attacker's browser.
    let (_, html) = page(&app, "/ads/moodle-mbbs").await;
    let csrf = csrf_of(&html);
    let res = app
        .client
        .post("/ads/moodle-mbbs/enrol")
        .header(ContentType::Form)
        .body(format!(
            "csrf_token={csrf}&name=Mallory&email=vic%40student.example.edu&a[enrolled_in_medicine]=true&a[entry_pathway]=graduate"
        ))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let html = res.into_string().await.unwrap_or_default();
    assert!(html.contains("e-mailed you a link"), "{html}");
    assert_eq!(page(&app, "/participant").await.0, Status::SeeOther, "no participant session");
    assert_eq!(portal_status(&app, &victim).await, Status::Ok);
    assert!(!html.contains("cpt_"));
    let _ = s;
});

// Finding 1, the setting: with `confirm_email_first` nobody learns whether an
// address is enrolled, because every eligible enrolment answers the same.
db_test!(confirming_the_address_first_answers_everyone_alike, |app| {
    let s = with_screening(&app).await;
    let (status, v) = app
        .put_json(
            &format!("{STUDY}/settings"),
            Some(&s.coord),
            json!({"confirm_email_first": true}),
        )
        .await;
    assert_eq!((status, v["confirm_email_first"].as_bool()), (Status::Ok, Some(true)), "{v}");
    let (status, v) = enrol(&app, "New Person", "new@student.example.edu", true, "graduate").await;
    assert_eq!(status, Status::Accepted, "{v}");
    assert!(v.get("participant_token").is_none_or(Value::is_null), "{v}");
    let (status, again) =
        enrol(&app, "New Person", "new@student.example.edu", true, "graduate").await;
    assert_eq!((status, &again), (Status::Accepted, &v), "known and new look the same");
    let mail = deliver(&app).await;
    let to_new = mail_to(&mail, "new@student.example.edu");
    assert_eq!(to_new.len(), 2, "{mail:?}");
    let link = links_in(to_new[0]);
    assert_eq!(portal_status(&app, &link[0]).await, Status::Ok, "they continue from the mail");
    let (status, v) = enrol(&app, "Not Med", "no@student.example.edu", false, "graduate").await;
    assert_eq!((status, v["eligible"].as_bool()), (Status::Ok, Some(false)));
});

// Finding 2: coordinators and admins read live links and codes in the outbox.
db_test!(staff_never_read_a_working_link_or_code, |app| {
    let s = with_screening(&app).await;
    let admin = app.staff("admin@example.org", "admin").await;
    let (status, v) = app
        .put_json(
            &format!("{STUDY}/settings"),
            Some(&s.coord),
            json!({"identity_check": "email_code"}),
        )
        .await;
    assert_eq!(status, Status::Ok, "{v}");
    let (_, v) = enrol(&app, "Pat", "pat@student.example.edu", true, "graduate").await;
    let pat = v["participant_token"].as_str().unwrap_or_default().to_string();
    invite(&app, &s, "inv@student.example.edu").await;
    assert_eq!(
        app.post_json(&format!("{STUDY}/reminders"), Some(&s.coord), json!({})).await.0,
        Status::Accepted
    );
    let (status, _) =
        app.post_json("/api/v1/participant/identity/code", Some(&pat), json!({})).await;
    assert_eq!(status, Status::Accepted);

    let staff_views = |label: &'static str| {
        let app = &app;
        let (coord, admin) = (s.coord.clone(), admin.clone());
        async move {
            let mut seen = Vec::new();
            for (who, token) in [("coordinator", &coord), ("admin", &admin)] {
                let (status, v) = app.get_json("/api/v1/outbox", Some(token)).await;
                assert_eq!(status, Status::Ok);
                seen.push((format!("{label}: outbox as {who}"), v.to_string()));
            }
            let (_, audit) = app.get_json("/api/v1/audit?study=study-one", Some(&admin)).await;
            seen.push((format!("{label}: audit"), audit.to_string()));
            seen
        }
    };
    let mut seen = staff_views("queued").await;
    let mail = deliver(&app).await;
    seen.extend(staff_views("sent").await);
    let code_mail = mail.iter().find(|m| m.contains("Your code")).expect("the code was mailed");
    let code = regex::Regex::new(r"Your code is (\d{6})")
        .expect("regex")
        .captures(code_mail)
        .map(|c| c[1].to_string())
        .expect("a code in the mail");
    assert!(!links_in(&mail.concat()).is_empty(), "the recipients do get their links");

    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    for path in ["/staff/outbox", "/staff/studies/study-one", "/staff"] {
        let (status, html) = page(&app, path).await;
        assert_eq!(status, Status::Ok, "{path}");
        seen.push((path.to_string(), html));
    }
    let (_, html) = page(&app, "/staff/studies/study-one").await;
    let res = app
        .client
        .post("/staff/studies/study-one/participants")
        .header(ContentType::Form)
        .body(format!(
            "csrf_token={}&name=Walk+In&email=walkin%40student.example.edu",
            csrf_of(&html)
        ))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::SeeOther);
    let (_, after_invite) = page(&app, "/staff/studies/study-one").await;
    seen.push(("study page after inviting".into(), after_invite));

    let code_re = regex::Regex::new(&format!(r"\b{code}\b")).expect("regex");
    for (what, text) in &seen {
        assert!(!text.contains("cpt_"), "{what} shows a participant link: {text}");
        assert!(!code_re.is_match(text), "{what} shows the identity code {code}");
    }
    let stored: Vec<String> = crate::store::mail::recent(app.db.conn(), None, 100)
        .await
        .expect("outbox")
        .into_iter()
        .map(|m| format!("{}\n{}", m.message.subject, m.message.body))
        .collect();
    assert!(stored.iter().any(|b| b.contains("[private link]")), "{stored:?}");
    assert!(stored.iter().all(|b| !b.contains("cpt_") && !code_re.is_match(b)));
    assert_eq!(
        scalar(&app.db, "SELECT COUNT(*) FROM outbox WHERE sealed IS NOT NULL").await,
        1,
        "the walk-in's invitation waits sealed"
    );
    deliver(&app).await;
    assert_eq!(
        scalar(&app.db, "SELECT COUNT(*) FROM outbox WHERE sealed IS NOT NULL").await,
        0,
        "after sending no secret is kept, not even sealed"
    );
});

// Finding 3: each reminder replaced the only link, so the first e-mail's link died.
db_test!(a_reminder_adds_a_link_and_breaks_none, |app| {
    let s = recruiting_study(&app).await;
    let first = invite(&app, &s, "pat@student.example.edu").await;
    assert_eq!(
        app.post_json(&format!("{STUDY}/reminders"), Some(&s.coord), json!({})).await.1["queued"],
        1
    );
    assert_eq!(portal_status(&app, &first).await, Status::Ok, "the first link still works");
    let mail = deliver(&app).await;
    let reminder = mail.iter().find(|m| m.contains("reminder")).expect("a reminder was sent");
    let second = links_in(reminder);
    assert_eq!(second.len(), 1);
    assert_ne!(second[0], first);
    assert_eq!(portal_status(&app, &second[0]).await, Status::Ok);
    assert!(!reminder.contains("replaces the one"), "the mail no longer says it replaces one");

    // Links expire on their own.
    execute(
        &app.db,
        &format!(
            "UPDATE participant_links SET expires_at = created_at WHERE token_hash = '{}'",
            sha256_hex(first.as_bytes())
        ),
    )
    .await;
    assert_eq!(portal_status(&app, &first).await, Status::Unauthorized);
    assert_eq!(portal_status(&app, &second[0]).await, Status::Ok);
});

// Finding 3: an unknown or expired link led only to the staff sign-in.
db_test!(a_dead_link_offers_a_new_one_without_revealing_who_is_enrolled, |app| {
    let s = recruiting_study(&app).await;
    let token = invite(&app, &s, "pat@student.example.edu").await;
    deliver(&app).await;
    let (status, html) = page(&app, &format!("/p/cpt_{}", "0".repeat(64))).await;
    assert_eq!(status, Status::NotFound);
    assert!(html.contains("action=\"/participant/link#errors\""), "{html}");
    assert!(!html.contains("/staff/login"), "participants are not sent to the staff sign-in");
    let res = app.client.get("/participant").dispatch().await;
    assert_eq!(res.headers().get_one("Location"), Some("/participant/link"));

    let ask = |email: &'static str| {
        let app = &app;
        async move {
            let (_, form) = page(app, "/participant/link").await;
            let res = app
                .client
                .post("/participant/link")
                .header(ContentType::Form)
                .body(format!("csrf_token={}&email={email}", csrf_of(&form)))
                .dispatch()
                .await;
            (res.status(), res.into_string().await.unwrap_or_default())
        }
    };
    let (known_status, known) = ask("pat%40student.example.edu").await;
    let (unknown_status, unknown) = ask("nobody%40student.example.edu").await;
    assert_eq!((known_status, unknown_status), (Status::Ok, Status::Ok));
    assert_eq!(known.replace("pat@", "X@"), unknown.replace("nobody@", "X@"), "same answer");
    for _ in 0..4 {
        ask("pat%40student.example.edu").await;
    }
    let mail = deliver(&app).await;
    assert_eq!(mail.len(), 3, "at most three links an hour, to the address on record only");
    assert!(mail.iter().all(|m| m.contains("To: pat@student.example.edu")));
    let fresh = links_in(&mail[0]);
    assert_eq!(portal_status(&app, &fresh[0]).await, Status::Ok);
    assert_eq!(portal_status(&app, &token).await, Status::Ok, "the old link is untouched");
    let (status, v) =
        app.post_json("/api/v1/participant/link", None, json!({"email": "not an address"})).await;
    assert_eq!((status, fields(&v)), (Status::UnprocessableEntity, vec!["email".to_string()]));
});

// Withdrawal and closure do not lock a person out of their signed copy.
db_test!(withdrawn_and_closed_keep_their_signed_copy, |app| {
    let s = recruiting_study(&app).await;
    let token = invite(&app, &s, "pat@student.example.edu").await;
    let (_, form) = app.get_json("/api/v1/participant/consent-form", Some(&token)).await;
    let (status, _) = app
        .post_json(
            "/api/v1/participant/consent",
            Some(&token),
            json!({"version": "1", "form_hash": form["form_hash"], "read_confirmed": true,
                   "items": {"read_statement": true, "audio_recording": true},
                   "signature": {"typed_name": "Pat Example"}}),
        )
        .await;
    assert_eq!(status, Status::Created);
    app.post_json("/api/v1/participant/withdraw", Some(&token), json!({"scope": "future_only"}))
        .await;
    app.post_json(&format!("{STUDY}/status"), Some(&s.coord), json!({"status": "closed"})).await;
    let (status, kind, bytes) = app.get_bytes("/api/v1/participant/consent.pdf", &token).await;
    assert_eq!((status, kind.as_str()), (Status::Ok, "application/pdf"));
    assert!(bytes.starts_with(b"%PDF"));
});

async fn login_from(
    app: &TestApp,
    email: &str,
    password: &str,
    from: &str,
    header: Option<&str>,
) -> Status {
    let mut req = app
        .client
        .post("/api/v1/auth/token")
        .header(ContentType::JSON)
        .remote(from.parse::<SocketAddr>().expect("address"))
        .body(json!({"email": email, "password": password}).to_string());
    if let Some(h) = header {
        req = req.header(Header::new("X-Real-IP", h.to_string()));
    }
    req.dispatch().await.status()
}

// Finding 4: the per-address limit was bypassed by rotating X-Real-IP, and a spoofed
// header throttled someone else's address.
db_test!(
    the_address_header_is_ignored_without_a_trusted_proxy,
    ["login_max_failures_per_address" => 3, "login_max_failures_per_account" => 100],
    |app| {
        app.staff("coord@example.org", "coordinator").await;
        let mut seen = Vec::new();
        for i in 0..5 {
            let forged = format!("203.0.113.{i}");
            seen.push(
                login_from(&app, "coord@example.org", "wrong-guess", "198.51.100.7:4000", Some(&forged))
                    .await,
            );
        }
        assert_eq!(
            seen,
            [Status::Unauthorized, Status::Unauthorized, Status::Unauthorized, Status::TooManyRequests, Status::TooManyRequests],
            "the attacker's own address is counted, whatever header it sends"
        );
        for _ in 0..3 {
            login_from(&app, "nobody@example.org", "x", "198.51.100.8:4000", Some("192.0.2.55")).await;
        }
        assert_eq!(
            login_from(&app, "coord@example.org", PASSWORD, "192.0.2.55:4000", None).await,
            Status::Ok,
            "a spoofed header cannot throttle someone else's address"
        );
    }
);

db_test!(
    behind_a_trusted_proxy_each_client_is_its_own_address,
    [
        "login_max_failures_per_address" => 3,
        "login_max_failures_per_account" => 100,
        "trusted_proxies" => "127.0.0.1, 10.0.0.0/8",
    ],
    |app| {
        app.staff("coord@example.org", "coordinator").await;
        for i in 0..5 {
            let client = format!("203.0.113.{i}");
            assert_eq!(
                login_from(&app, "coord@example.org", "wrong-guess", "10.1.2.3:4000", Some(&client)).await,
                Status::Unauthorized,
                "behind the proxy each client is its own address"
            );
        }
        for _ in 0..3 {
            login_from(&app, "coord@example.org", "wrong", "127.0.0.1:4000", Some("203.0.113.99")).await;
        }
        assert_eq!(
            login_from(&app, "coord@example.org", "wrong", "127.0.0.1:4000", Some("203.0.113.99")).await,
            Status::TooManyRequests
        );
        assert_eq!(
            login_from(&app, "coord@example.org", PASSWORD, "198.51.100.1:4000", Some("203.0.113.99")).await,
            Status::Ok,
            "a client that is not a trusted proxy cannot borrow a throttled address"
        );
    }
);

// Finding 5: five wrong passwords from anywhere locked the owner out for 15 minutes;
// each instance kept its own counts and never forgot any.
db_test!(
    wrong_passwords_from_elsewhere_never_lock_the_owner_out,
    ["login_max_failures_per_account" => 3, "login_max_failures_per_address" => 50],
    |app| {
        let settings = [
            ("login_max_failures_per_account", json!(3)),
            ("login_max_failures_per_address", json!(50)),
        ];
        app.staff("coord@example.org", "coordinator").await;
        for _ in 0..4 {
            login_from(&app, "coord@example.org", "wrong-guess", "198.51.100.7:4000", None).await;
        }
        assert_eq!(
            login_from(&app, "coord@example.org", PASSWORD, "198.51.100.7:4000", None).await,
            Status::TooManyRequests,
            "the guessing address is stopped for this account"
        );
        assert_eq!(
            login_from(&app, "coord@example.org", PASSWORD, "192.0.2.10:4000", None).await,
            Status::Ok,
            "the owner signs in from their own address"
        );
        assert_eq!(
            scalar(&app.db, "SELECT COUNT(*) FROM audit_events WHERE action = 'auth.throttled'").await,
            1,
            "the moment the limit was reached is recorded once"
        );

        // A second instance on the same database sees the same counts.
        let second = app.another_instance(&settings).await;
        for _ in 0..2 {
            login_from(&app, "eth@example.org", "wrong", "198.51.100.9:4000", None).await;
        }
        let res = second
            .post("/api/v1/auth/token")
            .header(ContentType::JSON)
            .remote("198.51.100.9:4000".parse::<SocketAddr>().expect("address"))
            .body(json!({"email": "eth@example.org", "password": "wrong"}).to_string())
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Unauthorized);
        assert_eq!(
            login_from(&app, "eth@example.org", "wrong", "198.51.100.9:4000", None).await,
            Status::TooManyRequests,
            "failures counted on either instance"
        );

        // Old entries are pruned.
        execute(
            &app.db,
            "UPDATE throttle_events SET at = '2020-01-01T00:00:00Z'",
        )
        .await;
        login_from(&app, "eth@example.org", "wrong", "198.51.100.11:4000", None).await;
        assert_eq!(
            scalar(&app.db, "SELECT COUNT(*) FROM throttle_events WHERE at < '2021-01-01'").await,
            0
        );
    }
);

// Finding 6: the participant API took a cross-site "simple" request with the cookie.
db_test!(cookie_authenticated_api_writes_come_only_from_this_site, |app| {
    let s = recruiting_study(&app).await;
    let token = invite(&app, &s, "pat@student.example.edu").await;
    assert_eq!(app.client.get(format!("/p/{token}")).dispatch().await.status(), Status::SeeOther);
    let withdraw = |kind: ContentType, headers: Vec<(&'static str, &'static str)>| {
        let app = &app;
        async move {
            let mut req = app
                .client
                .post("/api/v1/participant/withdraw")
                .header(kind)
                .body(json!({"scope": "withdraw_data"}).to_string());
            for (name, value) in headers {
                req = req.header(Header::new(name, value));
            }
            req.dispatch().await.status()
        }
    };
    assert_eq!(
        withdraw(ContentType::Plain, vec![("Origin", "https://evil.example")]).await,
        Status::UnsupportedMediaType
    );
    assert_eq!(
        withdraw(ContentType::JSON, vec![("Origin", "https://evil.example")]).await,
        Status::Forbidden
    );
    assert_eq!(
        withdraw(ContentType::JSON, vec![("Sec-Fetch-Site", "cross-site")]).await,
        Status::Forbidden
    );
    assert_eq!(withdraw(ContentType::JSON, vec![]).await, Status::Forbidden, "no origin at all");
    let (_, me) = app.get_json("/api/v1/participant", Some(&token)).await;
    assert_eq!(me["status"], "invited", "nothing was withdrawn: {me}");
    assert_eq!(
        withdraw(
            ContentType::JSON,
            vec![("Origin", "http://consentry.test"), ("Sec-Fetch-Site", "same-origin")]
        )
        .await,
        Status::Ok,
        "this site's own request works"
    );

    // Bearer tokens are not cookies: a script or a phone app is unaffected.
    let other = invite(&app, &s, "sam@student.example.edu").await;
    let res = app
        .client
        .post("/api/v1/participant/withdraw")
        .header(ContentType::Plain)
        .header(Header::new("Authorization", format!("Bearer {other}")))
        .body(json!({"scope": "future_only"}).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
});

/// Whether a spreadsheet would run a cell as a formula.
fn runs_as_formula(cell: &str) -> bool {
    cell.starts_with(['=', '+', '@', '\t', '\r'])
        || (cell.starts_with('-') && cell.parse::<f64>().is_err())
}

// Finding 7: the report CSV wrote the study's title raw; R and SPSS comments kept a
// carriage return, so the next line ran as code.
db_test!(outputs_cannot_carry_code, |app| {
    let coord = app.staff("coord@example.org", "coordinator").await;
    let mut body = study_body("study-one", -30, 365);
    body["title"] =
        json!("=HYPERLINK(\"http://evil.example\",\"x\")\rsystem('touch pwned')\u{2028}q()");
    body["ethics"]["committee"] = json!("+cmd|' /C calc'!A0");
    body["ethics"]["reference"] = json!("@SUM(1+1)");
    let (status, v) = app.post_json("/api/v1/studies", Some(&coord), body).await;
    assert_eq!(status, Status::Created, "{v}");
    let (status, _, csv) = app.get_bytes(&format!("{STUDY}/report.csv"), &coord).await;
    assert_eq!(status, Status::Ok);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(csv.as_slice());
    for record in reader.records() {
        let record = record.expect("a CSV record");
        for cell in record.iter() {
            assert!(!runs_as_formula(cell), "a cell a spreadsheet would run: {cell:?}");
        }
    }
    for path in ["export.R", "export.sps"] {
        let (status, _, bytes) = app.get_bytes(&format!("{STUDY}/{path}"), &coord).await;
        assert_eq!(status, Status::Ok);
        let text = String::from_utf8(bytes).expect("utf-8");
        assert!(
            !text
                .chars()
                .any(|c| (c.is_control() && c != '\n') || c == '\u{2028}' || c == '\u{2029}'),
            "{path} keeps a control character"
        );
        assert!(
            text.lines()
                .all(|l| !l.trim_start().starts_with("system(")
                    && !l.trim_start().starts_with("q()")),
            "{path}: the title's text runs as code:\n{text}"
        );
    }
});

// Finding 9: weak passwords, accounts that cannot be switched off, tokens that
// cannot be revoked.
db_test!(accounts_have_strong_passwords_and_can_be_switched_off, |app| {
    let admin = app.staff("admin@example.org", "admin").await;
    for weak in ["password1234", "            ", "qwertyuiop12"] {
        let (status, v) = app
            .post_json(
                "/api/v1/users",
                Some(&admin),
                json!({"email": "w@example.org", "name": "W", "role": "coordinator", "password": weak}),
            )
            .await;
        assert_eq!(
            (status, fields(&v)),
            (Status::UnprocessableEntity, vec!["password".to_string()])
        );
        assert!(
            v["error"]["fields"]["password"][0].as_str().unwrap_or_default().len() > 30,
            "says why: {v}"
        );
    }
    let coord = app.staff("coord@example.org", "coordinator").await;
    let (_, users) = app.get_json("/api/v1/users", Some(&admin)).await;
    let id = users
        .as_array()
        .into_iter()
        .flatten()
        .find(|u| u["email"] == "coord@example.org")
        .map(|u| u["id"].clone())
        .expect("the coordinator is listed");
    let admin_id = users
        .as_array()
        .into_iter()
        .flatten()
        .find(|u| u["email"] == "admin@example.org")
        .map(|u| u["id"].clone())
        .expect("admin");

    let (status, _) =
        app.put_json(&format!("/api/v1/users/{id}"), Some(&coord), json!({"active": false})).await;
    assert_eq!(status, Status::Forbidden);
    let (status, _) = app
        .put_json(&format!("/api/v1/users/{admin_id}"), Some(&admin), json!({"active": false}))
        .await;
    assert_eq!(status, Status::Conflict, "an admin cannot switch themselves off");
    let (status, v) =
        app.put_json(&format!("/api/v1/users/{id}"), Some(&admin), json!({"active": false})).await;
    assert_eq!((status, v["active"].as_bool()), (Status::Ok, Some(false)), "{v}");
    assert_eq!(
        app.get_json("/api/v1/studies", Some(&coord)).await.0,
        Status::Unauthorized,
        "its tokens stop"
    );
    assert_eq!(
        login_from(&app, "coord@example.org", PASSWORD, "192.0.2.1:1", None).await,
        Status::Unauthorized
    );
    let (status, _) =
        app.put_json(&format!("/api/v1/users/{id}"), Some(&admin), json!({"active": true})).await;
    assert_eq!(status, Status::Ok);
    let again = app.token("coord@example.org", PASSWORD).await;
    assert_eq!(app.get_json("/api/v1/studies", Some(&again)).await.0, Status::Ok);
    let (status, _) = app
        .put_json(&format!("/api/v1/users/{id}"), Some(&admin), json!({"revoke_tokens": true}))
        .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(app.get_json("/api/v1/studies", Some(&again)).await.0, Status::Unauthorized);

    let mine = app.token("coord@example.org", PASSWORD).await;
    let res = app
        .client
        .delete("/api/v1/auth/token")
        .header(Header::new("Authorization", format!("Bearer {mine}")))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::NoContent);
    assert_eq!(app.get_json("/api/v1/studies", Some(&mine)).await.0, Status::Unauthorized);
    assert!(
        scalar(&app.db, "SELECT COUNT(*) FROM audit_events WHERE action IN ('user.deactivated', 'user.activated', 'user.tokens_revoked')").await >= 3
    );
});

// Finding 9: the CSRF cookie was not Secure under https nor rotated at sign-in.
db_test!(
    the_csrf_cookie_is_secure_and_rotated_at_sign_in,
    ["public_url" => "https://consent.example.edu"],
    |app| {
        app.staff("coord@example.org", "coordinator").await;
        let res = app.client.get("/staff/login").dispatch().await;
        let set: Vec<String> = res.headers().get("Set-Cookie").map(str::to_string).collect();
        let csrf = set.iter().find(|c| c.starts_with("consentry_csrf=")).expect("a CSRF cookie");
        assert!(csrf.contains("Secure"), "{csrf}");
        let html = res.into_string().await.unwrap_or_default();
        let before = csrf_of(&html);
        let res = app
            .client
            .post("/staff/login")
            .header(ContentType::Form)
            .body(format!("csrf_token={before}&email=coord%40example.org&password={PASSWORD}"))
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::SeeOther);
        assert!(
            res.headers().get("Set-Cookie").any(|c| c.starts_with("consentry_csrf=")),
            "signing in sets a new CSRF cookie"
        );
        let (_, dashboard) = page(&app, "/staff").await;
        let after = csrf_of(&dashboard);
        assert_eq!(after.len(), 64);
        assert_ne!(before, after, "the token changed at sign-in");
    }
);

// Finding 9: participant e-mail hashes in audit events could be confirmed by guessing.
db_test!(audit_events_hold_keyed_address_hashes, |app| {
    let s = with_screening(&app).await;
    enrol(&app, "Pat", "pat@student.example.edu", true, "graduate").await;
    invite(&app, &s, "inv@student.example.edu").await;
    let details: Vec<String> = crate::store::audit::page(app.db.conn(), "study:study-one", 0, 1000)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.details.to_string())
        .collect();
    let all = details.concat();
    for address in ["pat@student.example.edu", "inv@student.example.edu"] {
        assert!(!all.contains(&sha256_hex(address.as_bytes())), "a plain hash of {address}");
        assert!(!all.contains(address));
    }
    assert_eq!(details.iter().filter(|d| d.contains("email_hmac")).count(), 2, "{details:?}");
});

// The one link each participant had before links got a table of their own keeps
// working after the migration, with an expiry.
db_test!(links_from_before_the_migration_keep_working, |app| {
    let s = recruiting_study(&app).await;
    let token = invite(&app, &s, "pat@student.example.edu").await;
    crate::store::testing::redo_migrations_from(&app.db, "m20261204_000012_front_door").await;
    assert_eq!(portal_status(&app, &token).await, Status::Ok);
    assert_eq!(
        scalar(&app.db, "SELECT COUNT(*) FROM participant_links WHERE origin = 'migrated'").await,
        1
    );
});

// "Send a new link": a coordinator gets a link to the participant's address on
// record without seeing it, replacing nothing.
db_test!(a_coordinator_sends_a_new_link_without_seeing_it, |app| {
    let s = recruiting_study(&app).await;
    let token = invite(&app, &s, "pat@student.example.edu").await;
    let (_, form) = app.get_json("/api/v1/participant/consent-form", Some(&token)).await;
    let (status, _) = app
        .post_json(
            "/api/v1/participant/consent",
            Some(&token),
            json!({"version": "1", "form_hash": form["form_hash"], "read_confirmed": true,
                   "items": {"read_statement": true, "audio_recording": true},
                   "signature": {"typed_name": "Pat Example"}}),
        )
        .await;
    assert_eq!(status, Status::Created);
    let path = format!("{STUDY}/participants/P001/link");
    assert_eq!(app.post_json(&path, Some(&s.fac), json!({})).await.0, Status::Forbidden);
    let outsider = app.staff("other@example.org", "coordinator").await;
    assert_eq!(app.post_json(&path, Some(&outsider), json!({})).await.0, Status::NotFound);
    assert_eq!(
        app.post_json(&format!("{STUDY}/participants/P999/link"), Some(&s.coord), json!({}))
            .await
            .0,
        Status::NotFound
    );
    let (status, v) = app.post_json(&path, Some(&s.coord), json!({})).await;
    assert_eq!((status, v), (Status::Accepted, json!({"sent": true})));
    let mail = app.mailbox().await;
    assert_eq!((mail[0].kind, mail[0].to.as_str()), ("new_link", "pat@student.example.edu"));
    let fresh = links_in(&mail[0].body);
    assert_eq!(portal_status(&app, &fresh[0]).await, Status::Ok);
    assert_eq!(portal_status(&app, &token).await, Status::Ok);

    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let (_, html) = page(&app, "/staff/studies/study-one").await;
    assert!(html.contains("/participants/P001/link"), "the register offers the button");
    let res = app
        .client
        .post("/staff/studies/study-one/participants/P001/link")
        .header(ContentType::Form)
        .body(format!("csrf_token={}", csrf_of(&html)))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::SeeOther);
    let (_, html) = page(&app, "/staff/studies/study-one").await;
    assert!(html.contains("A new link was mailed to P001") && !html.contains("cpt_"), "{html}");
    assert_eq!(app.post_json(&path, Some(&s.coord), json!({})).await.0, Status::Accepted);
    assert_eq!(
        app.post_json(&path, Some(&s.coord), json!({})).await.0,
        Status::TooManyRequests,
        "three links an hour to one address"
    );
});
