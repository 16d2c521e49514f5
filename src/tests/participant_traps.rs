//! The traps a participant met on a phone, each pinned by the page it was found on:
//! a drawn signature lost on a refused form, branch questions skipped without
//! JavaScript, error summaries that do not name the question, links home that lead
//! to the staff sign-in, a receipt in JSON, no word after an action, a withdrawn
//! participant offered the signing form, availability saved empty, a decimal comma
//! read as a thousands separator, no way back from "not eligible", no complaints
//! contact, and a focus ring too faint to see.

use rocket::http::{ContentType, Status};
use serde_json::json;

use super::consent_flow::{Study, invite, recruiting_study, signing};
use super::helpers::TestApp;

const STUDY: &str = "/api/v1/studies/study-one";

async fn page(app: &TestApp, path: &str) -> (Status, String) {
    let res = app.client.get(path.to_string()).dispatch().await;
    let status = res.status();
    (status, unescaped(res.into_string().await.unwrap_or_default()))
}

/// Pages escape `/` in values as `&#x2f;`; the tests read addresses as a browser does.
fn unescaped(html: String) -> String {
    html.replace("&#x2f;", "/")
}

async fn post(app: &TestApp, path: &str, body: String) -> (Status, Option<String>, String) {
    let res =
        app.client.post(path.to_string()).header(ContentType::Form).body(body).dispatch().await;
    let status = res.status();
    let location = res.headers().get_one("Location").map(str::to_string);
    (status, location, unescaped(res.into_string().await.unwrap_or_default()))
}

fn value_of(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    html.split(&marker).nth(1).and_then(|r| r.split('"').next()).unwrap_or("").to_string()
}

fn title_of(html: &str) -> &str {
    html.split("<title>").nth(1).and_then(|r| r.split("</title>").next()).unwrap_or("")
}

/// The error summary's entries, in the order the page lists them.
fn summary_of(html: &str) -> Vec<String> {
    let summary = html.split("class=\"error-summary\"").nth(1).unwrap_or("");
    let summary = summary.split("</div>").next().unwrap_or("");
    summary
        .split("<li>")
        .skip(1)
        .map(|li| {
            let text: String = li.split("</li>").next().unwrap_or("").to_string();
            let mut plain = String::new();
            let mut in_tag = false;
            for c in text.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => plain.push(c),
                    _ => {}
                }
            }
            plain.trim().to_string()
        })
        .collect()
}

/// A study with both questionnaires after consent, and a participant signed in on
/// this browser who has consented.
pub(super) async fn consented_on_this_browser(app: &TestApp) -> Study {
    let s = recruiting_study(app).await;
    for key in ["demographics", "platform-usage"] {
        let (status, v) = app
            .post_json(
                &format!("{STUDY}/instruments"),
                Some(&s.coord),
                json!({"key": key, "version": 1, "stage": "after_consent"}),
            )
            .await;
        assert_eq!(status, Status::Created, "{v}");
    }
    let token = invite(app, &s, "lee@student.example.edu").await;
    let (status, v) = app
        .post_json("/api/v1/participant/consent", Some(&token), signing(&s, "Lee Student", true))
        .await;
    assert_eq!(status, Status::Created, "{v}");
    app.client.get(format!("/p/{token}")).dispatch().await;
    s
}

fn answers(csrf: &str, action: &str, shown: Option<&str>, fields: &[(&str, &str)]) -> String {
    let mut body = format!("csrf_token={csrf}&action={action}");
    if let Some(shown) = shown {
        body.push_str(&format!("&shown={}", shown.replace(' ', "+")));
    }
    for (k, v) in fields {
        body.push_str(&format!("&a%5B{k}%5D={}", v.replace(' ', "+").replace(',', "%2C")));
    }
    body
}

const SVG: &str = "%3Csvg+xmlns%3D%22http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%22+viewBox%3D%220+0+600+200%22%3E%3Cpath+d%3D%22M10+10+L50+60%22+fill%3D%22none%22+stroke%3D%22black%22+stroke-width%3D%222.5%22%2F%3E%3C%2Fsvg%3E";

db_test!(a_drawn_signature_and_every_choice_survive_a_refused_consent_form, |app| {
    let s = recruiting_study(&app).await;
    let token = invite(&app, &s, "pat@student.example.edu").await;
    app.client.get(format!("/p/{token}")).dispatch().await;
    let (_, form) = page(&app, "/participant/consent").await;
    let csrf = value_of(&form, "csrf_token");
    // Everything but the certification: refused, and the drawing comes back.
    let body = format!(
        "csrf_token={csrf}&version=1&form_hash={}&items[read_statement]=true\
         &items[audio_recording]=true&signature.typed_name=Pat+Lee&signature.drawn_svg={SVG}",
        s.form_hash
    );
    let (status, _, html) = post(&app, "/participant/consent", body).await;
    assert_eq!(status, Status::UnprocessableEntity);
    let kept = value_of(&html, "signature.drawn_svg");
    assert!(kept.contains("&lt;svg") && kept.contains("M10 10 L50 60"), "drawing kept: {kept:?}");
    assert!(title_of(&html).starts_with("Error: "), "the title says so: {}", title_of(&html));
    assert!(summary_of(&html)[0].contains("Confirm that you have read"), "{html}");
    assert!(html.contains("action=\"/participant/consent#errors\""), "lands on the summary");
    assert!(html.contains("id=\"errors\""), "{html}");

    // Several errors: the summary follows the page and names each item.
    let body = format!(
        "csrf_token={csrf}&version=1&form_hash={}&items[read_statement]=true\
         &signature.typed_name=&signature.drawn_svg={SVG}",
        s.form_hash
    );
    let (_, _, html) = post(&app, "/participant/consent", body).await;
    let summary = summary_of(&html);
    assert_eq!(summary.len(), 3, "{summary:?}");
    assert!(summary[0].contains("I agree to the focus group being audio-recorded"), "{summary:?}");
    assert!(summary[1].starts_with("Your full name"), "{summary:?}");
    assert!(summary[2].contains("Confirm that you have read"), "{summary:?}");
});

db_test!(without_javascript_submit_first_shows_the_questions_the_answers_open, |app| {
    consented_on_this_browser(&app).await;
    let path = "/participant/questionnaires/demographics";
    let (_, html) = page(&app, path).await;
    let csrf = value_of(&html, "csrf_token");
    let shown = value_of(&html, "shown");
    assert!(shown.contains("entry_pathway") && !shown.contains("prior_degree"), "{shown}");
    let filled = [
        ("gender", "female"),
        ("age", "27"),
        ("entry_pathway", "graduate"),
        ("year_of_course", "2"),
    ];
    let (status, _, html) = post(&app, path, answers(&csrf, "submit", Some(&shown), &filled)).await;
    assert_eq!(status, Status::Ok, "not completed yet: {html}");
    let prior =
        html.split("id=\"q-prior_degree\"").nth(1).and_then(|r| r.split('>').next()).unwrap_or("");
    assert!(!prior.contains("hidden"), "the first-degree question is shown: {prior}");
    assert!(html.contains("more question"), "and the page says why it came back: {html}");
    let status_now = crate::store::testing::scalar(
        &app.db,
        "SELECT COUNT(*) FROM responses WHERE status = 'complete'",
    )
    .await;
    assert_eq!(status_now, 0, "nothing completed behind the participant's back");
    let shown = value_of(&html, "shown");
    assert!(shown.contains("prior_degree"), "{shown}");
    let mut with_degree = filled.to_vec();
    with_degree.push(("prior_degree", "BSc"));
    let (status, location, html) =
        post(&app, path, answers(&csrf, "submit", Some(&shown), &with_degree)).await;
    assert_eq!(status, Status::SeeOther, "{html}");
    assert_eq!(location.as_deref(), Some("/participant/questionnaires/platform-usage"));
    let (_, next) = page(&app, "/participant/questionnaires/platform-usage").await;
    assert!(next.contains("“About you” is saved"), "a word after saving: {next}");
});

db_test!(error_summaries_name_each_question_in_page_order, |app| {
    consented_on_this_browser(&app).await;
    let path = "/participant/questionnaires/demographics";
    let (_, html) = page(&app, path).await;
    let csrf = value_of(&html, "csrf_token");
    let shown = value_of(&html, "shown");
    let (status, _, html) = post(
        &app,
        path,
        answers(
            &csrf,
            "submit",
            Some(&shown),
            &[("age", "200"), ("entry_pathway", "undergraduate")],
        ),
    )
    .await;
    assert_eq!(status, Status::UnprocessableEntity);
    let summary = summary_of(&html);
    assert_eq!(summary.len(), 3, "{summary:?}");
    assert!(summary[0].starts_with("What is your gender?"), "{summary:?}");
    assert!(summary[1].starts_with("Age in years"), "{summary:?}");
    assert!(summary[2].contains("year"), "{summary:?}");
    assert!(title_of(&html).starts_with("Error: "));
    assert!(html.contains("action=\"/participant/questionnaires/demographics#errors\""), "{html}");
});

db_test!(the_ad_page_lands_on_its_summary_in_page_order_and_offers_a_way_back, |app| {
    crate::tests::recruitment::with_screening(&app).await;
    let (_, html) = page(&app, "/ads/moodle-mbbs").await;
    let csrf = value_of(&html, "csrf_token");
    assert!(html.contains("action=\"/ads/moodle-mbbs/enrol#errors\""), "{html}");
    let (status, _, html) =
        post(&app, "/ads/moodle-mbbs/enrol", format!("csrf_token={csrf}&name=&email=nope")).await;
    assert_eq!(status, Status::UnprocessableEntity);
    let summary = summary_of(&html);
    assert!(summary.len() >= 3, "{summary:?}");
    assert!(summary[0].starts_with("Your name"), "{summary:?}");
    assert!(summary[1].starts_with("Your e-mail address"), "{summary:?}");
    assert!(html.contains("id=\"errors\""));
    assert!(title_of(&html).starts_with("Error: "));

    let (status, _, html) = post(
        &app,
        "/ads/moodle-mbbs/enrol",
        format!(
            "csrf_token={csrf}&name=Al&email=al%40student.example.edu\
             &a%5Benrolled_in_medicine%5D=no&a%5Bentry_pathway%5D=undergraduate"
        ),
    )
    .await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Thank you for your interest"), "{html}");
    assert!(html.contains("href=\"/ads/moodle-mbbs\""), "a way back to correct a mis-tap: {html}");
    assert!(!html.contains("href=\"/\""), "no link to the staff side: {html}");

    let (status, location, _) = post(
        &app,
        "/ads/moodle-mbbs/enrol",
        format!(
            "csrf_token={csrf}&name=Al&email=al%40student.example.edu\
             &a%5Benrolled_in_medicine%5D=yes&a%5Bentry_pathway%5D=undergraduate"
        ),
    )
    .await;
    assert_eq!((status, location.as_deref()), (Status::SeeOther, Some("/participant")));
    let (_, portal) = page(&app, "/participant").await;
    assert!(portal.contains("We have also e-mailed you a link"), "{portal}");
});

db_test!(participant_pages_lead_home_never_to_the_staff_sign_in, |app| {
    let res = app.client.get("/").dispatch().await;
    assert_eq!(res.status(), Status::Ok, "a start page for everyone, not the staff sign-in");
    let start = res.into_string().await.unwrap_or_default();
    assert!(start.contains("href=\"/participant/link\""), "{start}");

    let s = recruiting_study(&app).await;
    let token = invite(&app, &s, "pat@student.example.edu").await;
    app.client.get(format!("/p/{token}")).dispatch().await;
    for path in ["/participant", "/participant/consent", "/participant/withdraw"] {
        let (_, html) = page(&app, path).await;
        assert!(html.contains("class=\"brand\" href=\"/participant\""), "{path}: {html}");
        assert!(!html.contains("href=\"/staff"), "{path}: {html}");
    }
    let res = app.client.get("/").dispatch().await;
    assert_eq!(
        (res.status(), res.headers().get_one("Location")),
        (Status::SeeOther, Some("/participant")),
        "the start page sends a participant to their own page"
    );
    let (status, html) = page(&app, "/participant/nothing-here").await;
    assert_eq!(status, Status::NotFound);
    assert!(html.contains("href=\"/participant\""), "the error page leads home: {html}");
});

db_test!(a_readable_receipt_and_a_word_after_signing, |app| {
    let s = recruiting_study(&app).await;
    let token = invite(&app, &s, "pat@student.example.edu").await;
    app.client.get(format!("/p/{token}")).dispatch().await;
    let (_, form) = page(&app, "/participant/consent").await;
    let csrf = value_of(&form, "csrf_token");
    let body = format!(
        "csrf_token={csrf}&version=1&form_hash={}&items[read_statement]=true\
         &items[audio_recording]=true&signature.typed_name=Pat+Lee&read_confirmed=true",
        s.form_hash
    );
    let (status, location, _) = post(&app, "/participant/consent", body).await;
    assert_eq!((status, location.as_deref()), (Status::SeeOther, Some("/participant")));
    let (_, portal) = page(&app, "/participant").await;
    assert!(portal.contains("your consent is recorded"), "{portal}");
    assert!(!portal.contains("/api/"), "no API address on a page: {portal}");
    assert!(portal.contains("href=\"/participant/receipt\""), "{portal}");
    let (status, receipt) = page(&app, "/participant/receipt").await;
    assert_eq!(status, Status::Ok);
    assert!(receipt.contains("<h1>Your consent receipt</h1>"), "{receipt}");
    assert!(receipt.contains("CF15/2639-2015001090") && receipt.contains("Pat Lee"), "{receipt}");
    assert!(!receipt.contains("UTC") && !receipt.contains("+00:00"), "times in words: {receipt}");
    let sha = crate::store::testing::scalar(&app.db, "SELECT COUNT(*) FROM consents").await;
    assert_eq!(sha, 1);
});

db_test!(a_withdrawn_participant_keeps_their_pdf_and_is_not_offered_to_sign, |app| {
    let s = recruiting_study(&app).await;
    let token = invite(&app, &s, "pat@student.example.edu").await;
    let (status, _) = app
        .post_json("/api/v1/participant/consent", Some(&token), signing(&s, "Pat Lee", false))
        .await;
    assert_eq!(status, Status::Created);
    app.client.get(format!("/p/{token}")).dispatch().await;
    let (_, html) = page(&app, "/participant/withdraw").await;
    let csrf = value_of(&html, "csrf_token");
    let (status, _, html) = post(&app, "/participant/withdraw", format!("csrf_token={csrf}")).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(!html.contains("future_only or withdraw_data"), "no codes in the message: {html}");
    assert!(html.contains("Choose what should happen"), "{html}");
    assert!(title_of(&html).starts_with("Error: "));
    let (status, location, _) =
        post(&app, "/participant/withdraw", format!("csrf_token={csrf}&scope=future_only")).await;
    assert_eq!((status, location.as_deref()), (Status::SeeOther, Some("/participant")));
    let (_, portal) = page(&app, "/participant").await;
    assert!(portal.contains("You have withdrawn"), "{portal}");
    assert!(
        portal.contains("href=\"/participant/consent.pdf\""),
        "the signed copy stays: {portal}"
    );
    assert!(!portal.contains("href=\"/participant/withdraw\""), "no second withdrawal: {portal}");
    let (_, form) = page(&app, "/participant/consent").await;
    assert!(!form.contains("Sign and give consent"), "no signing form: {form}");
    assert!(form.contains("You have withdrawn"), "{form}");
    let pdf = app.client.get("/participant/consent.pdf").dispatch().await;
    assert_eq!(pdf.status(), Status::Ok);
    assert_eq!(pdf.content_type(), Some(ContentType::PDF));
});

db_test!(availability_needs_a_choice_or_none_of_these_times, |app| {
    let s = consented_on_this_browser(&app).await;
    let starts = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let (status, v) = app
        .post_json(
            &format!("{STUDY}/focus-groups"),
            Some(&s.coord),
            json!({"title": "Group A", "starts_at": starts, "duration_minutes": 60,
                   "location": "Room 1", "facilitator_email": "fac@example.org", "capacity": 6}),
        )
        .await;
    assert_eq!(status, Status::Created, "{v}");
    let (_, html) = page(&app, "/participant/availability").await;
    assert!(html.contains("None of these times"), "{html}");
    let csrf = value_of(&html, "csrf_token");
    let (status, _, html) =
        post(&app, "/participant/availability", format!("csrf_token={csrf}")).await;
    assert_eq!(status, Status::UnprocessableEntity, "nothing ticked is not saved silently");
    assert!(html.contains("Tick the sessions you could come to"), "{html}");
    let (status, location, _) =
        post(&app, "/participant/availability", format!("csrf_token={csrf}&none=true")).await;
    assert_eq!((status, location.as_deref()), (Status::SeeOther, Some("/participant")));
    let (_, portal) = page(&app, "/participant").await;
    assert!(portal.contains("none of these times suit you"), "{portal}");
});

db_test!(a_decimal_comma_is_read_as_a_decimal, |app| {
    consented_on_this_browser(&app).await;
    let path = "/participant/questionnaires/platform-usage";
    let (_, html) = page(&app, path).await;
    let input = html.split("id=\"field-hours_per_day\"").nth(1).unwrap_or("");
    let input = input.split('>').next().unwrap_or("");
    assert!(input.contains("type=\"text\"") && input.contains("inputmode=\"decimal\""), "{input}");
    let csrf = value_of(&html, "csrf_token");
    let (status, _, html) = post(
        &app,
        path,
        answers(&csrf, "save", None, &[("hours_per_day", "1,5"), ("platforms_used", "facebook")]),
    )
    .await;
    assert_eq!(status, Status::SeeOther, "{html}");
    let (_, html) = page(&app, path).await;
    assert!(html.contains("value=\"1.5\""), "stored as one and a half: {html}");
    let (status, _, html) =
        post(&app, path, answers(&csrf, "save", None, &[("hours_per_day", "1,500")])).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(html.contains("Use a point or a comma for decimals"), "{html}");
});

db_test!(the_footer_gives_an_independent_complaints_contact, |app| {
    let s = recruiting_study(&app).await;
    let res = app
        .client
        .put(format!("{STUDY}/settings"))
        .header(ContentType::JSON)
        .header(rocket::http::Header::new("Authorization", format!("Bearer {}", s.coord)))
        .body(
            json!({"complaints_email": "research-ethics@example.edu", "complaints_phone": "+61 3 9905 2052"})
                .to_string(),
        )
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let token = invite(&app, &s, "pat@student.example.edu").await;
    app.client.get(format!("/p/{token}")).dispatch().await;
    let (_, html) = page(&app, "/participant").await;
    assert!(html.contains("href=\"mailto:research-ethics@example.edu\""), "{html}");
    assert!(html.contains("+61 3 9905 2052"), "{html}");
});

/// WCAG 2.2 2.4.13: the focus indicator against the page's white needs 3:1.
#[test]
fn the_focus_ring_stands_out_against_white() {
    let css = include_str!("../../templates/static/app.css");
    let rule = css
        .split(":focus-visible")
        .nth(1)
        .and_then(|r| r.split('}').next())
        .unwrap_or_else(|| panic!("a :focus-visible rule"));
    let colour = rule
        .split("outline:")
        .nth(1)
        .and_then(|r| r.split('#').nth(1))
        .map(|h| h.chars().take_while(char::is_ascii_hexdigit).collect::<String>())
        .unwrap_or_else(|| panic!("an outline colour in {rule}"));
    assert_eq!(colour.len(), 6, "{colour}");
    let channel = |i: usize| {
        let c = f64::from(u8::from_str_radix(&colour[i..i + 2], 16).unwrap_or(0)) / 255.0;
        if c <= 0.03928 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    let luminance = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
    let contrast = 1.05 / (luminance + 0.05);
    assert!(contrast >= 3.0, "focus ring #{colour} is {contrast:.2}:1 on white");
}
