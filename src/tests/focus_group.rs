//! Focus groups through the JSON API: scheduling, availability, the planner,
//! membership rules, invitations with calendar files and reminders, attendance and
//! the session log as facilitators see them, and the report's figures.

use chrono::Datelike;
use rocket::http::Status;
use serde_json::{Value, json};

use super::consent_flow::{Study, invite, recruiting_study};
use super::helpers::{PASSWORD, TestApp, fields, join_all};
use super::html_pages::{csrf_of, page, post_form, sign_in, sign_out};
use super::questionnaire::consented;

const STUDY: &str = "/api/v1/studies/study-one";
const FG: &str = "/api/v1/studies/study-one/focus-groups";

fn iso(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()
}

fn session(title: &str, days: i64, facilitator: &str, capacity: i64) -> Value {
    json!({"title": title, "starts_at": iso(days), "duration_minutes": 60,
           "location": "Clayton campus, room 1.01", "facilitator_email": facilitator,
           "capacity": capacity})
}

async fn schedule(app: &TestApp, s: &Study, title: &str, days: i64, capacity: i64) -> i64 {
    let (status, v) =
        app.post_json(FG, Some(&s.coord), session(title, days, "fac@example.org", capacity)).await;
    assert_eq!(status, Status::Created, "{v}");
    v["id"].as_i64().unwrap_or_default()
}

/// The code a participant was given at consent.
async fn code_of(app: &TestApp, token: &str) -> String {
    let (_, v) = app.get_json("/api/v1/participant", Some(token)).await;
    v["code"].as_str().unwrap_or_default().to_string()
}

async fn add(app: &TestApp, s: &Study, group: i64, code: &str) -> (Status, Value) {
    app.post_json(
        &format!("{FG}/{group}/members"),
        Some(&s.coord),
        json!({"participant_code": code}),
    )
    .await
}

db_test!(scheduling_validates_and_scopes, |app| {
    let s = recruiting_study(&app).await;
    let (status, v) = app
        .post_json(
            FG,
            Some(&s.coord),
            json!({"title": "", "starts_at": iso(-1), "duration_minutes": 5, "location": "",
                   "facilitator_email": "nobody", "capacity": 0}),
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(
        fields(&v),
        ["capacity", "duration_minutes", "facilitator_email", "location", "starts_at", "title"],
        "{v}"
    );
    let (status, v) =
        app.post_json(FG, Some(&s.coord), session("FG", 3, "stranger@example.org", 8)).await;
    assert_eq!(status, Status::UnprocessableEntity, "the facilitator needs an account");
    assert_eq!(fields(&v), ["facilitator_email"]);
    let (status, _) =
        app.post_json(FG, Some(&s.coord), session("FG", 3, "eth@example.org", 8)).await;
    assert_eq!(status, Status::UnprocessableEntity, "an ethics officer does not facilitate");
    app.staff("new.fac@example.org", "facilitator").await;
    let (status, v) =
        app.post_json(FG, Some(&s.coord), session("FG 0", 3, "new.fac@example.org", 8)).await;
    assert_eq!(status, Status::Created, "{v}");
    let (_, staff) = app.get_json(&format!("{STUDY}/staff"), Some(&s.coord)).await;
    assert!(
        staff
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| m["email"] == "new.fac@example.org" && m["role"] == "facilitator"),
        "a facilitator named for a session joins the study's staff: {staff}"
    );
    let (status, _) = app.post_json(FG, Some(&s.fac), session("FG", 3, "fac@example.org", 8)).await;
    assert_eq!(status, Status::Forbidden, "facilitators do not schedule");
    let outsider = app.staff("other@example.org", "coordinator").await;
    let (status, _) =
        app.post_json(FG, Some(&outsider), session("FG", 3, "fac@example.org", 8)).await;
    assert_eq!(status, Status::NotFound);

    let g = schedule(&app, &s, "Focus group 1", 3, 8).await;
    let (status, list) = app.get_json(FG, Some(&s.coord)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(list[1]["id"], g);
    assert_eq!(list[1]["facilitator"]["email"], "fac@example.org");
    assert_eq!(list[1]["members"], json!([]));
    let (status, mine) = app.get_json(FG, Some(&s.fac)).await;
    assert_eq!((status, mine.as_array().map(Vec::len)), (Status::Ok, Some(1)), "their own session");
    assert_eq!(app.get_json(FG, Some(&s.ethics)).await.0, Status::Forbidden);
    assert_eq!(app.get_json(&format!("{FG}/{g}"), Some(&outsider)).await.0, Status::NotFound);
    assert_eq!(app.get_json(&format!("{FG}/9999"), Some(&s.coord)).await.0, Status::NotFound);
    assert_eq!(app.get_json(&format!("{FG}/abc"), Some(&s.coord)).await.0, Status::NotFound);
});

db_test!(availability_feeds_the_portal_and_the_planner, |app| {
    let s = recruiting_study(&app).await;
    let ann = consented(&app, &s, "ann@example.org").await;
    let (_, portal) = app.get_json("/api/v1/participant", Some(&ann)).await;
    let steps: Vec<&str> = portal["next_steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["step"].as_str())
        .collect();
    assert!(!steps.contains(&"availability"), "no sessions, no availability step: {steps:?}");

    let g1 = schedule(&app, &s, "Focus group 1", 3, 2).await;
    let g2 = schedule(&app, &s, "Focus group 2", 4, 2).await;
    let (_, portal) = app.get_json("/api/v1/participant", Some(&ann)).await;
    let step = portal["next_steps"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|n| n["step"] == "availability")
        .cloned();
    assert_eq!(step.map(|n| n["state"].clone()), Some(json!("todo")), "{portal}");

    let (status, v) = app
        .put_json("/api/v1/participant/availability", Some(&ann), json!({"slots": [g1, 777]}))
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(fields(&v), ["slots"]);
    let (status, v) = app
        .put_json("/api/v1/participant/availability", Some(&ann), json!({"slots": [g2, g1]}))
        .await;
    assert_eq!(status, Status::Ok, "{v}");
    assert_eq!(v["slots"], json!([g1, g2]));
    assert_eq!(v["sessions"].as_array().map(Vec::len), Some(2));
    let (_, again) = app.get_json("/api/v1/participant/availability", Some(&ann)).await;
    assert_eq!(again["slots"], json!([g1, g2]));
    let (_, portal) = app.get_json("/api/v1/participant", Some(&ann)).await;
    assert!(
        portal["next_steps"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|n| n["step"] == "availability" && n["state"] == "done"),
        "{portal}"
    );

    let invited = invite(&app, &s, "invited@example.org").await;
    let (status, _) = app
        .put_json("/api/v1/participant/availability", Some(&invited), json!({"slots": [g1]}))
        .await;
    assert_eq!(status, Status::Conflict, "consent comes first");

    let ben = consented(&app, &s, "ben@example.org").await;
    app.put_json("/api/v1/participant/availability", Some(&ben), json!({"slots": [g2]})).await;
    let cat = consented(&app, &s, "cat@example.org").await;
    let (ann, ben, cat) =
        (code_of(&app, &ann).await, code_of(&app, &ben).await, code_of(&app, &cat).await);
    let (status, plan) = app.post_json(&format!("{FG}/plan"), Some(&s.coord), json!({})).await;
    assert_eq!(status, Status::Ok, "{plan}");
    let placed = |code: &str| {
        plan["placements"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["participant_code"] == code)
            .map(|p| p["focus_group_id"].clone())
    };
    assert_eq!(placed(&ben), Some(json!(g2)), "{plan}");
    assert_eq!(placed(&ann), Some(json!(g1)), "spread over the sessions: {plan}");
    assert!(placed(&cat).is_none());
    assert_eq!(plan["unplaced"][0]["participant_code"], json!(cat));
    let (_, list) = app.get_json(FG, Some(&s.coord)).await;
    assert_eq!(list[0]["members"], json!([]), "the plan applies nothing");
    assert_eq!(list[0]["available"], 1);
    assert_eq!(
        app.post_json(&format!("{FG}/plan"), Some(&s.fac), json!({})).await.0,
        Status::Forbidden
    );
});

db_test!(membership_rules, |app| {
    let s = recruiting_study(&app).await;
    let g1 = schedule(&app, &s, "Focus group 1", 3, 1).await;
    let g2 = schedule(&app, &s, "Focus group 2", 4, 8).await;
    let a = consented(&app, &s, "a@example.org").await;
    let b = consented(&app, &s, "b@example.org").await;
    let w = consented(&app, &s, "w@example.org").await;
    let (a, b) = (code_of(&app, &a).await, code_of(&app, &b).await);
    let wcode = code_of(&app, &w).await;
    app.post_json("/api/v1/participant/withdraw", Some(&w), json!({"scope": "future_only"})).await;

    let (status, v) = add(&app, &s, g1, &format!(" {} ", a.to_lowercase())).await;
    assert_eq!(status, Status::Created, "a code is read as typed, in any case: {v}");
    assert_eq!(v["participant_code"], json!(a));
    assert_eq!(v["first_name"], "Zoë", "facilitators see first names");
    let (status, v) = add(&app, &s, g1, &b).await;
    assert_eq!(status, Status::Conflict, "full: {v}");
    assert!(v["error"]["message"].as_str().unwrap_or("").contains("full"));
    let (status, _) = add(&app, &s, g2, &a).await;
    assert_eq!(status, Status::Conflict, "one session per participant");
    let (status, v) = add(&app, &s, g2, &wcode).await;
    assert_eq!(status, Status::Conflict, "withdrawn: {v}");
    let (status, v) = add(&app, &s, g2, "P999").await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(fields(&v), ["participant_code"]);

    let (status, _) = app
        .post_json(&format!("{FG}/conflicts"), Some(&s.fac), json!({"participant_code": b}))
        .await;
    assert_eq!(status, Status::Created);
    let (status, v) = add(&app, &s, g2, &b).await;
    assert_eq!(status, Status::Conflict, "the facilitator declared a conflict: {v}");
    assert!(v["error"]["message"].as_str().unwrap_or("").contains("conflict"));

    let (status, _) = app
        .post_json(&format!("{FG}/{g2}/members"), Some(&s.fac), json!({"participant_code": a}))
        .await;
    assert_eq!(status, Status::Forbidden, "facilitators do not place people");
    let res = app
        .client
        .delete(format!("{FG}/{g1}/members/{a}"))
        .header(rocket::http::Header::new("Authorization", format!("Bearer {}", s.coord)))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::NoContent);
    assert_eq!(
        add(&app, &s, g2, &a).await.0,
        Status::Created,
        "free to join another after removal"
    );
});

db_test!(a_full_session_never_overshoots, |app| {
    let s = recruiting_study(&app).await;
    let g = schedule(&app, &s, "Focus group 1", 3, 3).await;
    let mut codes = Vec::new();
    for n in 0..8 {
        let t = consented(&app, &s, &format!("p{n}@example.org")).await;
        codes.push(code_of(&app, &t).await);
    }
    let results = join_all(codes.iter().map(|c| add(&app, &s, g, c))).await;
    let created = results.iter().filter(|r| r.0 == Status::Created).count();
    let full = results.iter().filter(|r| r.0 == Status::Conflict).count();
    assert_eq!((created, full), (3, 5), "{results:?}");
    let (_, v) = app.get_json(&format!("{FG}/{g}"), Some(&s.coord)).await;
    assert_eq!(v["members"].as_array().map(Vec::len), Some(3));
});

db_test!(invitations_calendar_attendance_and_log, |app| {
    let s = recruiting_study(&app).await;
    app.staff("fac2@example.org", "facilitator").await;
    app.post_json(
        &format!("{STUDY}/staff"),
        Some(&s.coord),
        json!({"email": "fac2@example.org", "role": "facilitator"}),
    )
    .await;
    let fac2 = app.token("fac2@example.org", PASSWORD).await;
    let g = schedule(&app, &s, "Focus group 1", 3, 8).await;
    let (status, v) =
        app.post_json(FG, Some(&s.coord), session("Focus group 2", 4, "fac2@example.org", 8)).await;
    assert_eq!(status, Status::Created, "{v}");
    let a = consented(&app, &s, "a@example.org").await;
    let b = consented(&app, &s, "b@example.org").await;
    let (acode, bcode) = (code_of(&app, &a).await, code_of(&app, &b).await);
    add(&app, &s, g, &acode).await;
    add(&app, &s, g, &bcode).await;

    let (status, kind, bytes) = app.get_bytes(&format!("{FG}/{g}/invite.ics"), &s.fac).await;
    assert_eq!(status, Status::Ok);
    assert!(kind.starts_with("text/calendar"), "{kind}");
    let ics = String::from_utf8_lossy(&bytes).replace("\r\n ", "");
    for line in ["BEGIN:VCALENDAR", "BEGIN:VEVENT", "METHOD:PUBLISH", "SEQUENCE:0"] {
        assert!(ics.contains(line), "{line} missing from {ics}");
    }
    assert!(ics.contains(&format!("UID:focus-group-{g}@consentry.test")), "{ics}");
    assert!(ics.contains("CF15/2639-2015001090"));
    assert_eq!(
        app.get_bytes(&format!("{FG}/{g}/invite.ics"), &fac2).await.0,
        Status::NotFound,
        "not fac2's session"
    );

    let (status, v) =
        app.post_json(&format!("{FG}/{g}/invitations"), Some(&s.coord), json!({})).await;
    assert_eq!(status, Status::Accepted, "{v}");
    assert_eq!(v["queued"], 2);
    let (_, mail) = app.get_json("/api/v1/outbox", Some(&s.coord)).await;
    let of_kind = |k: &str| -> Vec<Value> {
        mail.as_array().into_iter().flatten().filter(|m| m["kind"] == k).cloned().collect()
    };
    let invitations = of_kind("focus_group_invitation");
    assert_eq!(invitations.len(), 2, "one per member: {mail}");
    let mut to: Vec<&str> = invitations.iter().filter_map(|m| m["to"].as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, ["a@example.org", "b@example.org"], "never a shared list");
    assert_eq!(invitations[0]["attachment"], "invite.ics");
    let reminders = of_kind("focus_group_reminder");
    assert_eq!(reminders.len(), 2);
    let due = chrono::DateTime::parse_from_rfc3339(reminders[0]["due_at"].as_str().unwrap_or(""))
        .expect("due_at is a time");
    let expected = chrono::Utc::now() + chrono::Duration::days(2);
    assert!(
        (due.with_timezone(&chrono::Utc) - expected).num_minutes().abs() < 5,
        "due a day before the session: {due}"
    );
    let (_, members) = app.get_json(&format!("{FG}/{g}"), Some(&s.coord)).await;
    assert!(members["members"][0]["invited_at"].is_string());
    let stored = crate::store::mail::recent(app.db.conn(), None, 50).await.expect("outbox");
    let attachment = stored
        .iter()
        .find(|m| m.message.kind == "focus_group_invitation" && m.message.to == "a@example.org")
        .and_then(|m| m.message.attachment.clone())
        .expect("the invitation carries its calendar");
    let text = String::from_utf8_lossy(&attachment.bytes).replace("\r\n ", "");
    assert!(text.contains("METHOD:REQUEST") && text.contains("mailto:a@example.org"), "{text}");
    assert!(!text.contains("b@example.org"), "each calendar names only its addressee");

    // Facilitators record attendance on their own sessions only.
    let mark = |token: String, code: String, attended: bool| {
        let app = &app;
        async move {
            app.post_json(
                &format!("{FG}/{g}/attendance"),
                Some(&token),
                json!({"participant_code": code, "attended": attended}),
            )
            .await
        }
    };
    assert_eq!(mark(fac2.clone(), acode.clone(), true).await.0, Status::NotFound);
    assert_eq!(mark(s.ethics.clone(), acode.clone(), true).await.0, Status::Forbidden);
    assert_eq!(mark(s.fac.clone(), acode.clone(), true).await.0, Status::Ok);
    assert_eq!(mark(s.fac.clone(), bcode.clone(), false).await.0, Status::Ok);
    let outsider = consented(&app, &s, "c@example.org").await;
    let (status, v) = mark(s.fac.clone(), code_of(&app, &outsider).await, true).await;
    assert_eq!(status, Status::UnprocessableEntity, "not a member: {v}");

    let (status, v) = app
        .post_json(
            &format!("{FG}/{g}/log"),
            Some(&s.fac),
            json!({"actual_minutes": 0, "new_codes": -2}),
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(fields(&v), ["actual_minutes", "new_codes"]);
    let (status, v) = app
        .post_json(
            &format!("{FG}/{g}/log"),
            Some(&s.fac),
            json!({"actual_minutes": 52, "new_codes": 14, "notes": "lively"}),
        )
        .await;
    assert_eq!(status, Status::Ok, "{v}");
    assert_eq!(
        app.post_json(
            &format!("{FG}/{g}/log"),
            Some(&fac2),
            json!({"actual_minutes": 5, "new_codes": 1})
        )
        .await
        .0,
        Status::NotFound
    );

    let (_, report) = app.get_json(&format!("{STUDY}/report"), Some(&s.coord)).await;
    assert_eq!(report["focus_groups"]["count"], 2);
    assert_eq!(report["focus_groups"]["members"], 2);
    assert_eq!(report["focus_groups"]["attended"], 1);
    assert_eq!(report["focus_groups"]["minutes"], json!([52]));
    assert_eq!(report["focus_groups"]["new_codes"], json!([14]));
    assert_eq!(report["enrolment"]["scheduled"], 2);
    assert_eq!(report["enrolment"]["attended"], 1);
    let (status, _, csv) = app.get_bytes(&format!("{STUDY}/report.csv"), &s.coord).await;
    assert_eq!(status, Status::Ok);
    let csv = String::from_utf8_lossy(&csv);
    assert!(
        csv.contains("focus_groups,,saturation,session_1,new_codes,14"),
        "codes are never suppressed: {csv}"
    );
    assert!(csv.contains("focus_groups,,saturation,session_1,minutes,52"), "{csv}");
    assert!(csv.contains("enrolment,,funnel,scheduled,count,<5"), "people are: {csv}");

    // Withdrawing leaves the session and cancels the pending reminder.
    app.post_json("/api/v1/participant/withdraw", Some(&b), json!({"scope": "future_only"})).await;
    let (_, v) = app.get_json(&format!("{FG}/{g}"), Some(&s.coord)).await;
    assert_eq!(v["members"].as_array().map(Vec::len), Some(1), "{v}");
    let b_reminder = app
        .outbox_message(&s.coord, |m| {
            m["kind"] == "focus_group_reminder" && m["to"] == "b@example.org"
        })
        .await;
    assert_eq!(b_reminder["status"], "cancelled");
    let farewell = app
        .outbox_message(&s.coord, |m| m["kind"] == "withdrawal" && m["to"] == "b@example.org")
        .await;
    assert_eq!(
        farewell["attachment"], "cancel.ics",
        "the session leaves their calendar: {farewell}"
    );
    assert!(farewell["body"].as_str().unwrap_or("").contains("removes your focus group"));

    // Removing an invited member sends them a cancellation for their calendar.
    let res = app
        .client
        .delete(format!("{FG}/{g}/members/{acode}"))
        .header(rocket::http::Header::new("Authorization", format!("Bearer {}", s.coord)))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::NoContent);
    let (_, mail) = app.get_json("/api/v1/outbox", Some(&s.coord)).await;
    assert!(
        mail.as_array()
            .into_iter()
            .flatten()
            .any(|m| m["kind"] == "focus_group_cancellation" && m["to"] == "a@example.org")
    );

    let (_, events) =
        app.get_json("/api/v1/audit?study=study-one&limit=1000", Some(&s.ethics)).await;
    let actions: Vec<&str> = events["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for a in [
        "focus_group.created",
        "focus_group.member_added",
        "focus_group.invited",
        "focus_group.attendance",
        "focus_group.logged",
        "focus_group.member_removed",
    ] {
        assert!(actions.contains(&a), "{a} not audited: {actions:?}");
    }
    let (_, verify) = app.get_json("/api/v1/audit/verify", Some(&s.ethics)).await;
    assert_eq!(verify["ok"], true, "{verify}");
});

db_test!(availability_page_without_javascript, |app| {
    let s = recruiting_study(&app).await;
    let g1 = schedule(&app, &s, "Focus group 1", 3, 8).await;
    let g2 = schedule(&app, &s, "Focus group 2", 4, 8).await;
    let token = consented(&app, &s, "ann@example.org").await;
    app.client.get(format!("/p/{token}")).dispatch().await;

    let (status, portal) = page(&app, "/participant").await;
    assert_eq!(status, Status::Ok);
    assert!(portal.contains("/participant/availability"), "the portal links the step: {portal}");
    let (status, html) = page(&app, "/participant/availability").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Focus group 1") && html.contains("Focus group 2"));
    assert!(html.contains(&format!("<label for=\"slot-{g1}\">")), "each box is labelled");
    assert!(html.contains("CF15&#x2f;2639-2015001090") && html.contains("/participant/withdraw"));
    let csrf = csrf_of(&html);

    let (status, _) = post_form(&app, "/participant/availability", format!("slots={g1}")).await;
    assert_eq!(status, Status::Forbidden, "no CSRF token, no change");
    let res = app
        .client
        .post("/participant/availability")
        .header(rocket::http::ContentType::Form)
        .body(format!("csrf_token={csrf}&slots=424242"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    assert!(res.into_string().await.unwrap_or_default().contains("not upcoming focus groups"));
    let (status, location) = post_form(
        &app,
        "/participant/availability",
        format!("csrf_token={csrf}&slots={g1}&slots={g2}"),
    )
    .await;
    assert_eq!((status, location.as_deref()), (Status::SeeOther, Some("/participant")));
    let (_, v) = app.get_json("/api/v1/participant/availability", Some(&token)).await;
    assert_eq!(v["slots"], json!([g1, g2]));
    let (_, html) = page(&app, "/participant/availability").await;
    assert!(html.contains(&format!("value=\"{g1}\" checked")), "choices are kept: {html}");

    add(&app, &s, g1, &code_of(&app, &token).await).await;
    let (_, html) = page(&app, "/participant/availability").await;
    assert!(html.contains("You are booked for"), "{html}");
    let (_, html) = page(&app, "/participant").await;
    assert!(html.contains("Your focus group: <strong>Focus group 1</strong>"), "{html}");
    let (_, portal) = app.get_json("/api/v1/participant", Some(&token)).await;
    assert_eq!(portal["focus_group"]["id"], g1, "{portal}");

    let invited = invite(&app, &s, "later@example.org").await;
    app.client.get(format!("/p/{invited}")).dispatch().await;
    let (status, html) = page(&app, "/participant/availability").await;
    assert_eq!(status, Status::Ok);
    assert!(
        html.contains("for people who have given their consent")
            && !html.contains("name=\"slots\"")
    );
});

db_test!(staff_pages_schedule_place_invite_and_run_a_session, |app| {
    let s = recruiting_study(&app).await;
    let yes = consented(&app, &s, "yes@example.org").await;
    // A version of the form on which audio recording is optional (its item governs
    // it), so a member can decline it: that is what the sheet warns about.
    let (status, form) = app
        .post_json(
            &format!("{STUDY}/consent-forms"),
            Some(&s.coord),
            json!({"version": "2", "language": "en-AU", "title": "Consent to take part",
                   "body_markdown": "## Explanatory statement\nAudio recording is optional.",
                   "items": [
                       {"key": "read_statement", "text": "I have read the explanatory statement.", "required": true},
                       {"key": "audio_recording", "text": "I agree to the focus group being audio-recorded.", "required": false, "governs": "audio_recording"},
                   ]}),
        )
        .await;
    assert_eq!(status, Status::Created, "{form}");
    let today = chrono::Utc::now().date_naive().to_string();
    let (status, v) = app
        .post_json(
            &format!("{STUDY}/consent-forms/2/approve"),
            Some(&s.ethics),
            json!({"approval_reference": "CF15/2639-2015001090", "approved_on": today}),
        )
        .await;
    assert_eq!(status, Status::Ok, "{v}");
    let quiet = invite(&app, &s, "quiet@example.org").await;
    let (status, v) = app
        .post_json(
            "/api/v1/participant/consent",
            Some(&quiet),
            json!({"version": "2", "form_hash": form["form_hash"], "read_confirmed": true,
                   "items": {"read_statement": true, "audio_recording": false},
                   "signature": {"typed_name": "Quinn Quiet"}}),
        )
        .await;
    assert_eq!(status, Status::Created, "{v}");
    let no_audio_code = code_of(&app, &quiet).await;
    let yes_code = code_of(&app, &yes).await;

    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let (status, html) = page(&app, "/staff/studies/study-one").await;
    assert_eq!(status, Status::Ok);
    assert!(
        html.contains("/staff/studies/study-one/focus-groups"),
        "the study page links focus groups"
    );
    let (status, html) = page(&app, "/staff/studies/study-one/focus-groups").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Schedule a session"));
    let csrf = csrf_of(&html);
    let day = (chrono::Utc::now() + chrono::Duration::days(5)).format("%Y-%m-%d").to_string();
    let when = format!("starts_on={day}&starts_time=18%3A30");
    let res = app
        .client
        .post("/staff/studies/study-one/focus-groups")
        .header(rocket::http::ContentType::Form)
        .body(format!("csrf_token={csrf}&title=Evening+group&{when}&duration_minutes=abc&location=Room+2&facilitator_email=fac%40example.org&capacity=6"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity, "the form comes back");
    let html = res.into_string().await.unwrap_or_default();
    assert!(
        html.contains(
            "id=\"error-field-duration_minutes-1\">The length in minutes must be between"
        ) && html.contains("value=\"Evening group\"")
            && html.contains("value=\"Room 2\"")
            && !html.contains("Evening group</h2>"),
        "the error is beside its field, in words, and what was typed is kept: {html}"
    );
    let res = app
        .client
        .post("/staff/studies/study-one/focus-groups")
        .header(rocket::http::ContentType::Form)
        .body(format!("csrf_token={csrf}&title=Evening+group&starts_on=&starts_time=&duration_minutes=60&location=Room+2&facilitator_email=fac%40example.org&capacity=6"))
        .dispatch()
        .await;
    let html = res.into_string().await.unwrap_or_default();
    assert!(html.contains("The date is required.") && !html.contains("RFC 3339"), "{html}");
    post_form(
        &app,
        "/staff/studies/study-one/focus-groups",
        format!("csrf_token={csrf}&title=Evening+group&{when}&duration_minutes=60&location=Room+2&facilitator_email=fac%40example.org&capacity=6"),
    )
    .await;
    let (_, list) = app.get_json(FG, Some(&s.coord)).await;
    let g = list[0]["id"].as_i64().unwrap_or_default();
    assert_eq!(list[0]["title"], "Evening group");
    let (_, html) = page(&app, "/staff/studies/study-one/focus-groups?plan=true").await;
    assert!(html.contains("Not placed") && html.contains("has not given availability"), "{html}");
    for code in [&yes_code, &no_audio_code] {
        let (status, _) = post_form(
            &app,
            &format!("/staff/studies/study-one/focus-groups/{g}/members"),
            format!("csrf_token={csrf}&participant_code={code}"),
        )
        .await;
        assert_eq!(status, Status::SeeOther);
    }
    let (_, html) = page(&app, "/staff/studies/study-one/focus-groups?plan=true").await;
    assert!(html.contains("Everyone who has consented is placed already."), "{html}");
    post_form(
        &app,
        &format!("/staff/studies/study-one/focus-groups/{g}/invitations"),
        format!("csrf_token={csrf}"),
    )
    .await;
    let (_, html) = page(&app, "/staff/studies/study-one/focus-groups").await;
    assert!(html.contains("invitation(s) queued"), "{html}");
    assert!(html.contains(&yes_code));
    assert!(
        html.contains(&format!("value=\"{day}\"")) && html.contains("value=\"18:30\""),
        "the change form is filled in: {html}"
    );
    post_form(
        &app,
        &format!("/staff/studies/study-one/focus-groups/{g}"),
        format!("csrf_token={csrf}&title=Evening+group&{when}&duration_minutes=60&location=Room+3&facilitator_email=fac%40example.org&capacity=6"),
    )
    .await;
    let (_, html) = page(&app, "/staff/studies/study-one/focus-groups").await;
    assert!(html.contains("Evening group is changed") && html.contains("Room 3"), "{html}");
    sign_out(&app).await;

    assert_eq!(sign_in(&app.client, "fac@example.org", PASSWORD).await, Status::SeeOther);
    let (_, html) = page(&app, "/staff").await;
    assert!(
        html.contains("Your next focus groups")
            && html.contains(&format!("/staff/studies/study-one/focus-groups/{g}/sheet")),
        "a facilitator's dashboard leads to their sessions: {html}"
    );
    let (status, html) =
        page(&app, &format!("/staff/studies/study-one/focus-groups/{g}/sheet")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains(&yes_code) && html.contains("Zoë"), "codes and first names: {html}");
    assert!(
        !html.contains("O’Brien") && !html.contains("yes@example.org"),
        "no surnames or addresses"
    );
    assert!(html.contains("1 member(s) did not agree to audio recording"), "{html}");
    assert!(html.contains("<strong>No audio recording.</strong>"));
    assert!(html.contains("once the session has started") && !html.contains("Save attendance"));
    let csrf = csrf_of(&html);
    post_form(
        &app,
        &format!("/staff/studies/study-one/focus-groups/{g}/attendance"),
        format!("csrf_token={csrf}&present={yes_code}"),
    )
    .await;
    let (_, html) = page(&app, &format!("/staff/studies/study-one/focus-groups/{g}/sheet")).await;
    assert!(
        html.contains("attendance and the log are recorded once it has started"),
        "not before the session: {html}"
    );

    // The session has taken place.
    let past = (chrono::Utc::now() - chrono::Duration::hours(2)).format("%Y-%m-%dT%H:%M:%S+00:00");
    let moved = format!("UPDATE focus_groups SET starts_at = '{past}' WHERE id = {g}");
    crate::store::testing::try_execute(&app.db, &moved).await.unwrap_or_else(|e| panic!("{e}"));
    let (_, html) = page(&app, &format!("/staff/studies/study-one/focus-groups/{g}/sheet")).await;
    assert!(html.contains("Save attendance"), "{html}");
    let res = app
        .client
        .post(format!("/staff/studies/study-one/focus-groups/{g}/log"))
        .header(rocket::http::ContentType::Form)
        .body(format!("csrf_token={csrf}&actual_minutes=long&new_codes=9&notes=kept+notes"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let html = res.into_string().await.unwrap_or_default();
    assert!(html.contains("kept notes") && html.contains("error-field-actual_minutes-1"), "{html}");
    post_form(
        &app,
        &format!("/staff/studies/study-one/focus-groups/{g}/attendance"),
        format!("csrf_token={csrf}&present={yes_code}"),
    )
    .await;
    let (_, html) = page(&app, &format!("/staff/studies/study-one/focus-groups/{g}/sheet")).await;
    assert!(html.contains("Attendance saved: 1 came."), "{html}");
    assert!(html.contains(&format!("value=\"{yes_code}\" checked")), "who came stays ticked");
    post_form(
        &app,
        &format!("/staff/studies/study-one/focus-groups/{g}/log"),
        format!("csrf_token={csrf}&actual_minutes=48&new_codes=9&notes=ok"),
    )
    .await;
    let (_, html) = page(&app, &format!("/staff/studies/study-one/focus-groups/{g}/sheet")).await;
    assert!(html.contains("Session logged: 48 minutes, 9 new codes."), "{html}");
    let (_, v) = app.get_json(&format!("{FG}/{g}"), Some(&s.coord)).await;
    let attended: Vec<_> = v["members"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| (m["participant_code"].clone(), m["attended"].clone()))
        .collect();
    assert!(attended.contains(&(json!(yes_code), json!(true))), "{v}");
    let res = app
        .client
        .get(format!("/staff/studies/study-one/focus-groups/{g}/invite.ics"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert!(res.headers().get_one("Content-Disposition").unwrap_or("").contains(".ics"));
    let (_, events) =
        app.get_json("/api/v1/audit?study=study-one&limit=1000", Some(&s.ethics)).await;
    assert!(
        events["events"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e["action"] == "focus_group.sheet_viewed"),
        "reading consent decisions on the sheet is audited"
    );
});

db_test!(rescheduling_and_cancelling_tell_invited_members, |app| {
    let s = recruiting_study(&app).await;
    let g = schedule(&app, &s, "Focus group 1", 3, 2).await;
    let other = schedule(&app, &s, "Focus group 2", 6, 8).await;
    let a = consented(&app, &s, "a@example.org").await;
    let b = consented(&app, &s, "b@example.org").await;
    let (acode, bcode) = (code_of(&app, &a).await, code_of(&app, &b).await);
    add(&app, &s, g, &acode).await;
    add(&app, &s, g, &bcode).await;
    app.post_json(&format!("{FG}/{g}/invitations"), Some(&s.coord), json!({})).await;

    let mut body = session("Focus group 1", 5, "fac@example.org", 1);
    let (status, v) = app.put_json(&format!("{FG}/{g}"), Some(&s.coord), body.clone()).await;
    assert_eq!(status, Status::Conflict, "two members do not fit one place: {v}");
    body["capacity"] = json!(8);
    body["starts_at"] = json!("not a time");
    let (status, v) = app.put_json(&format!("{FG}/{g}"), Some(&s.coord), body.clone()).await;
    assert_eq!((status, fields(&v)), (Status::UnprocessableEntity, vec!["starts_at".to_string()]));
    body["starts_at"] = json!(iso(5));
    assert_eq!(
        app.put_json(&format!("{FG}/{g}"), Some(&s.fac), body.clone()).await.0,
        Status::Forbidden
    );
    let (status, v) = app.put_json(&format!("{FG}/{g}"), Some(&s.coord), body.clone()).await;
    assert_eq!(status, Status::Ok, "{v}");
    assert_eq!(v["sequence"], 1, "a new time raises the SEQUENCE");
    let (_, kind, bytes) = app.get_bytes(&format!("{FG}/{g}/invite.ics"), &s.coord).await;
    assert!(kind.starts_with("text/calendar"));
    assert!(String::from_utf8_lossy(&bytes).contains("SEQUENCE:1\r\n"));
    let (_, mail) = app.get_json("/api/v1/outbox", Some(&s.coord)).await;
    let count = |kind: &str, status: &str| {
        mail.as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["kind"] == kind && m["status"] == status)
            .count()
    };
    assert_eq!(
        count("focus_group_update", "queued"),
        2,
        "each invited member gets the update: {mail}"
    );
    assert_eq!(count("focus_group_reminder", "queued"), 2, "one live reminder each");
    assert_eq!(count("focus_group_reminder", "cancelled"), 2, "the old reminders are withdrawn");
    let (_, v) = app.put_json(&format!("{FG}/{g}"), Some(&s.coord), body.clone()).await;
    assert_eq!(v["sequence"], 1, "saving the same time again changes nothing");

    let (status, v) = app.post_json(&format!("{FG}/{g}/cancel"), Some(&s.coord), json!({})).await;
    assert_eq!(status, Status::Ok, "{v}");
    assert!(v["cancelled_at"].is_string());
    assert_eq!(
        app.post_json(&format!("{FG}/{g}/cancel"), Some(&s.coord), json!({})).await.0,
        Status::Conflict
    );
    let (_, mail) = app.get_json("/api/v1/outbox", Some(&s.coord)).await;
    let cancels: Vec<&Value> = mail
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["kind"] == "focus_group_cancellation")
        .collect();
    assert_eq!(cancels.len(), 2);
    assert!(
        !mail
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| m["kind"] == "focus_group_reminder" && m["status"] == "queued"),
        "no reminder is left for a cancelled session"
    );
    let stored = crate::store::mail::recent(app.db.conn(), None, 50).await.expect("outbox");
    let ics = stored
        .iter()
        .find(|m| m.message.kind == "focus_group_cancellation")
        .and_then(|m| m.message.attachment.clone())
        .map(|a| String::from_utf8_lossy(&a.bytes).to_string())
        .unwrap_or_default();
    assert!(
        ics.contains("METHOD:CANCEL\r\n")
            && ics.contains("SEQUENCE:2\r\n")
            && ics.contains(&format!("UID:focus-group-{g}@")),
        "{ics}"
    );
    assert_eq!(
        add(&app, &s, g, &acode).await.0,
        Status::Conflict,
        "a cancelled session takes nobody"
    );
    assert_eq!(
        add(&app, &s, other, &acode).await.0,
        Status::Created,
        "its members are free to join another"
    );
    let (_, avail) = app.get_json("/api/v1/participant/availability", Some(&b)).await;
    assert_eq!(
        avail["sessions"].as_array().map(Vec::len),
        Some(1),
        "only the live session is offered: {avail}"
    );
    let (_, report) = app.get_json(&format!("{STUDY}/report"), Some(&s.coord)).await;
    assert_eq!(report["focus_groups"]["count"], 1, "a cancelled session is not counted");
    assert_eq!(report["enrolment"]["scheduled"], 1);
});

db_test!(one_person_is_never_placed_in_two_sessions_at_once, |app| {
    let s = recruiting_study(&app).await;
    let mut groups = Vec::new();
    for n in 0..4 {
        groups.push(schedule(&app, &s, &format!("Focus group {n}"), 3 + n, 8).await);
    }
    let t = consented(&app, &s, "a@example.org").await;
    let code = code_of(&app, &t).await;
    let results = join_all(groups.iter().map(|g| add(&app, &s, *g, &code))).await;
    let created = results.iter().filter(|r| r.0 == Status::Created).count();
    assert_eq!(created, 1, "{results:?}");
    let (_, list) = app.get_json(FG, Some(&s.coord)).await;
    let placements: usize = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| g["members"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(placements, 1);
});

db_test!(the_reminder_lead_time_is_a_study_setting, |app| {
    let s = recruiting_study(&app).await;
    let settings = format!("{STUDY}/settings");
    let (status, v) = app.put_json(&settings, Some(&s.coord), json!({"reminder_hours": 500})).await;
    assert_eq!(
        (status, fields(&v)),
        (Status::UnprocessableEntity, vec!["reminder_hours".to_string()])
    );
    let (_, study) = app.get_json(STUDY, Some(&s.coord)).await;
    assert_eq!(study["reminder_hours"], 24, "the default");
    let (status, v) = app.put_json(&settings, Some(&s.coord), json!({"reminder_hours": 2})).await;
    assert_eq!(status, Status::Ok, "{v}");
    assert_eq!(v["reminder_hours"], 2);
    let g = schedule(&app, &s, "Focus group 1", 3, 8).await;
    let a = consented(&app, &s, "a@example.org").await;
    add(&app, &s, g, &code_of(&app, &a).await).await;
    app.post_json(&format!("{FG}/{g}/invitations"), Some(&s.coord), json!({})).await;
    let reminder = app.outbox_message(&s.coord, |m| m["kind"] == "focus_group_reminder").await;
    let due = chrono::DateTime::parse_from_rfc3339(reminder["due_at"].as_str().unwrap_or(""))
        .expect("due_at");
    let expected = chrono::Utc::now() + chrono::Duration::days(3) - chrono::Duration::hours(2);
    assert!(
        (due.with_timezone(&chrono::Utc) - expected).num_minutes().abs() < 5,
        "due two hours before: {due}"
    );

    app.put_json(&settings, Some(&s.coord), json!({"reminder_hours": 0})).await;
    app.post_json(&format!("{FG}/{g}/invitations"), Some(&s.coord), json!({})).await;
    let (_, mail) = app.get_json("/api/v1/outbox", Some(&s.coord)).await;
    let queued = mail
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["kind"] == "focus_group_reminder" && m["status"] == "queued")
        .count();
    assert_eq!(queued, 0, "0 turns reminders off, and a resend withdraws the old one");
    let (_, events) =
        app.get_json("/api/v1/audit?study=study-one&limit=1000", Some(&s.ethics)).await;
    assert!(
        events["events"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e["action"] == "study.settings_changed"
                && e["details"]["reminder_hours"]["to"] == 0),
        "the change is audited"
    );
});

db_test!(pages_and_mail_show_times_on_the_study_clock, |app| {
    let s = recruiting_study(&app).await;
    let settings = format!("{STUDY}/settings");
    let (status, v) =
        app.put_json(&settings, Some(&s.coord), json!({"timezone": "Mars/Olympus"})).await;
    assert_eq!((status, fields(&v)), (Status::UnprocessableEntity, vec!["timezone".to_string()]));
    let (status, v) =
        app.put_json(&settings, Some(&s.coord), json!({"timezone": "Australia/Melbourne"})).await;
    assert_eq!((status, v["timezone"].clone()), (Status::Ok, json!("Australia/Melbourne")));

    // The coordinator types 2 pm on the study's clock (winter: UTC+10).
    let year = chrono::Utc::now().year() + 1;
    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let (_, html) = page(&app, "/staff/studies/study-one/focus-groups").await;
    assert!(html.contains("Starts (Australia&#x2f;Melbourne time)"), "{html}");
    let csrf = csrf_of(&html);
    post_form(
        &app,
        "/staff/studies/study-one/focus-groups",
        format!("csrf_token={csrf}&title=Winter+group&starts_on={year}-07-01&starts_time=14%3A00&duration_minutes=60&location=Room+1&facilitator_email=fac%40example.org&capacity=8"),
    )
    .await;
    let (_, list) = app.get_json(FG, Some(&s.coord)).await;
    assert_eq!(
        list[0]["starts_at"],
        format!("{year}-07-01T04:00:00.000000Z"),
        "the API speaks UTC"
    );
    let g = list[0]["id"].as_i64().unwrap_or_default();
    let (_, html) = page(&app, "/staff/studies/study-one/focus-groups").await;
    assert!(
        html.contains(&format!("value=\"{year}-07-01\"")) && html.contains("value=\"14:00\""),
        "the change form shows local time"
    );
    sign_out(&app).await;

    let token = consented(&app, &s, "ann@example.org").await;
    app.client.get(format!("/p/{token}")).dispatch().await;
    let (_, html) = page(&app, "/participant/availability").await;
    assert!(
        html.contains("1 July") && html.contains("14:00 to 15:00 (Australia&#x2f;Melbourne time)"),
        "{html}"
    );
    add(&app, &s, g, &code_of(&app, &token).await).await;
    app.post_json(&format!("{FG}/{g}/invitations"), Some(&s.coord), json!({})).await;
    let invitation = app.outbox_message(&s.coord, |m| m["kind"] == "focus_group_invitation").await;
    assert!(
        invitation["body"]
            .as_str()
            .unwrap_or("")
            .contains("14:00 to 15:00 (Australia/Melbourne time)"),
        "{invitation}"
    );
});

db_test!(declared_conflicts_are_listed_and_withdrawn, |app| {
    let s = recruiting_study(&app).await;
    let g = schedule(&app, &s, "Focus group 1", 3, 8).await;
    let a = consented(&app, &s, "a@example.org").await;
    let code = code_of(&app, &a).await;
    let conflicts = format!("{FG}/conflicts");
    app.post_json(&conflicts, Some(&s.fac), json!({"participant_code": code})).await;
    let (status, mine) = app.get_json(&conflicts, Some(&s.fac)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(mine[0]["participant_code"], json!(code));
    assert_eq!(mine[0]["facilitator_email"], "fac@example.org");
    let (_, all) = app.get_json(&conflicts, Some(&s.coord)).await;
    assert_eq!(all.as_array().map(Vec::len), Some(1), "coordinators see every conflict");
    assert_eq!(app.get_json(&conflicts, Some(&s.ethics)).await.0, Status::Forbidden);
    assert_eq!(add(&app, &s, g, &code).await.0, Status::Conflict);

    let delete = |token: String| {
        let app = &app;
        let path = format!("{conflicts}/{code}");
        async move {
            app.client
                .delete(path)
                .header(rocket::http::Header::new("Authorization", format!("Bearer {token}")))
                .dispatch()
                .await
                .status()
        }
    };
    assert_eq!(
        delete(s.coord.clone()).await,
        Status::NotFound,
        "only one's own conflict is withdrawn"
    );
    assert_eq!(delete(s.fac.clone()).await, Status::NoContent);
    assert_eq!(delete(s.fac.clone()).await, Status::NotFound);
    let (_, mine) = app.get_json(&conflicts, Some(&s.fac)).await;
    assert_eq!(mine, json!([]));
    assert_eq!(add(&app, &s, g, &code).await.0, Status::Created, "free to be placed again");
});

db_test!(the_planner_proposal_is_applied_from_the_page_as_changed, |app| {
    let s = recruiting_study(&app).await;
    let g1 = schedule(&app, &s, "Focus group 1", 3, 1).await;
    let g2 = schedule(&app, &s, "Focus group 2", 4, 4).await;
    let mut codes = Vec::new();
    for email in ["ann@example.org", "ben@example.org", "cat@example.org"] {
        let token = consented(&app, &s, email).await;
        app.put_json("/api/v1/participant/availability", Some(&token), json!({"slots": [g1, g2]}))
            .await;
        codes.push(code_of(&app, &token).await);
    }
    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let (_, html) = page(&app, "/staff/studies/study-one/focus-groups?plan=true").await;
    assert!(html.contains("Place everyone as shown"), "{html}");
    for c in &codes {
        assert!(html.contains(&format!("name=\"place[{c}]\"")), "{c} has a choice: {html}");
    }
    let csrf = csrf_of(&html);

    // The coordinator changes the proposal: two into the one-place session (one
    // must be refused), the third left out.
    let body = format!(
        "csrf_token={csrf}&place%5B{a}%5D={g1}&place%5B{b}%5D={g1}&place%5B{c}%5D=",
        a = codes[0],
        b = codes[1],
        c = codes[2]
    );
    let (status, _) = post_form(&app, "/staff/studies/study-one/focus-groups/place", body).await;
    assert_eq!(status, Status::SeeOther);
    let (_, html) = page(&app, "/staff/studies/study-one/focus-groups").await;
    assert!(html.contains(&format!("Placed 1: {}.", codes[0])), "{html}");
    assert!(
        html.contains(&format!("Not placed: {}:", codes[1])) && html.contains("full"),
        "{html}"
    );
    let (_, v) = app.get_json(&format!("{FG}/{g1}"), Some(&s.coord)).await;
    assert_eq!(v["members"].as_array().map(Vec::len), Some(1));
    let (_, v) = app.get_json(&format!("{FG}/{g2}"), Some(&s.coord)).await;
    assert_eq!(v["members"].as_array().map(Vec::len), Some(0), "the one left out is not placed");

    // Without the CSRF token nothing is placed.
    let body = format!("csrf_token=forged&place%5B{}%5D={g2}", codes[2]);
    let (status, _) = post_form(&app, "/staff/studies/study-one/focus-groups/place", body).await;
    assert_eq!(status, Status::Forbidden);
});
