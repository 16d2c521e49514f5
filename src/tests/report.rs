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
        let (status, _) = app.attach(&s.coord, "study-one", key, "after_consent").await;
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

    assert!(r.get("by").is_none(), "no cross-tab unless asked");

    let (status, x) =
        app.get_json(&format!("{STUDY}/report?by=entry_pathway"), Some(&s.coord)).await;
    assert_eq!(status, Status::Ok, "{x}");
    assert_eq!(x["by"]["question"], "entry_pathway");
    let groups = x["by"]["groups"].as_array().cloned().unwrap_or_default();
    let values: Vec<&str> = groups.iter().filter_map(|g| g["value"].as_str()).collect();
    assert_eq!(values, ["undergraduate", "graduate"], "in the form's order");
    let (under, grad) = (&groups[0], &groups[1]);
    assert_eq!(under["respondents"]["demographics"], 2);
    assert_eq!(
        under["questions"]["demographics"]["gender"]["counts"],
        json!({"female": 1, "male": 1, "non_binary": 0, "prefer_not_to_say": 0})
    );
    assert_eq!(under["questions"]["demographics"]["age"]["median"], 22.0);
    assert_eq!(grad["respondents"]["demographics"], 1, "the withdrawn graduate is left out");
    assert_eq!(grad["questions"]["demographics"]["gender"]["counts"]["female"], 1);
    assert_eq!(x["questions"], r["questions"], "the overall figures do not change");
    let (status, err) = app.get_json(&format!("{STUDY}/report?by=gender"), Some(&s.coord)).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(err["error"]["fields"]["by"].is_array(), "{err}");
    assert!(err.to_string().contains("entry_pathway"), "names what may be used: {err}");

    assert_eq!(
        app.get_json(&format!("{STUDY}/report"), Some(&s.ethics)).await.0,
        Status::Forbidden
    );
    assert_eq!(app.get_json(&format!("{STUDY}/report"), Some(&s.fac)).await.0, Status::Forbidden);
    let outsider = app.staff("other@example.org", "coordinator").await;
    assert_eq!(app.get_json(&format!("{STUDY}/report"), Some(&outsider)).await.0, Status::NotFound);
});

db_test!(the_export_reads_back_to_the_same_counts, |app| {
    let s = with_screening(&app).await;
    let (status, _) = app.attach(&s.coord, "study-one", "platform-usage", "after_consent").await;
    assert_eq!(status, Status::Created);
    let picks = [vec!["facebook", "youtube"], vec!["facebook"], vec!["twitter"]];
    let mut tokens = Vec::new();
    for (i, platforms) in picks.iter().enumerate() {
        let (_, v) = enrol(&app, "P", &format!("x{i}@student.example.edu"), true, "graduate").await;
        let token = v["participant_token"].as_str().unwrap_or_default().to_string();
        app.post_json("/api/v1/participant/consent", Some(&token), signing(&s, "P", true)).await;
        let barriers = if i == 0 { "=cmd|' /C calc'!A0, \"quoted\"" } else { "Time" };
        let (status, v) = app
            .put_json(
                &format!("{Q}/platform-usage"),
                Some(&token),
                json!({"answers": {
                "platforms_used": platforms, "preferred_platform": platforms[0],
                "purposes": ["news"], "hours_per_day": 2, "barriers": barriers}}),
            )
            .await;
        assert_eq!(status, Status::Ok, "{v}");
        tokens.push(token);
    }
    app.post_json(
        "/api/v1/participant/withdraw",
        Some(&tokens[2]),
        json!({"scope": "withdraw_data"}),
    )
    .await;

    let res = app
        .client
        .get(format!("{STUDY}/export.csv"))
        .header(rocket::http::Header::new("Authorization", format!("Bearer {}", s.coord)))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(
        res.content_type().map(|c| c.to_string()).as_deref(),
        Some("text/csv; charset=utf-8")
    );
    let text = res.into_string().await.unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "a header and the two people whose answers count: {text}");
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(header[..3], ["participant_code", "form_versions", "enrolled_in_medicine"]);
    assert!(!text.contains('@'), "no e-mail addresses");
    let col = |name: &str| {
        header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("{name} in {header:?}"))
    };
    let cells = |line: &str| line.split(',').map(str::to_string).collect::<Vec<_>>();
    let rows: Vec<Vec<String>> = lines[1..].iter().map(|l| cells(l)).collect();
    // Recompute the report's counts from the export.
    let facebook: i64 =
        rows.iter().map(|r| r[col("platforms_used__facebook")].parse::<i64>().unwrap_or(0)).sum();
    let youtube: i64 =
        rows.iter().map(|r| r[col("platforms_used__youtube")].parse::<i64>().unwrap_or(0)).sum();
    let (_, report) = app.get_json(&format!("{STUDY}/report"), Some(&s.coord)).await;
    let counts = &report["questions"]["platform-usage"]["platforms_used"]["counts"];
    assert_eq!(
        (facebook, youtube),
        (counts["facebook"].as_i64().unwrap_or(-1), counts["youtube"].as_i64().unwrap_or(-1))
    );
    assert_eq!(rows[0][col("form_versions")], "platform-usage=1; screening-medical-students=1");
    assert!(
        text.contains("\"'=cmd|' /C calc'!A0, \"\"quoted\"\"\""),
        "formulas are defused and quotes escaped: {text}"
    );

    let res = app
        .client
        .get(format!("{STUDY}/codebook.csv"))
        .header(rocket::http::Header::new("Authorization", format!("Bearer {}", s.coord)))
        .dispatch()
        .await;
    let codebook = res.into_string().await.unwrap_or_default();
    assert!(
        codebook.contains(
            "platforms_used__facebook,platform-usage,1,platforms_used,multi_choice (0/1)"
        ),
        "{codebook}"
    );
    assert_eq!(codebook.lines().count(), header.len() + 1, "every column described");
    assert_eq!(
        crate::store::testing::scalar(
            &app.db,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'report.exported'"
        )
        .await,
        2
    );
    assert_eq!(
        app.get_json(&format!("{STUDY}/export.csv"), Some(&s.ethics)).await.0,
        Status::Forbidden
    );

    // Answers stored before respondents were marked on their first row count the same.
    let first_rows = "SELECT COUNT(*) FROM answers WHERE first_of_question = true";
    let marked = crate::store::testing::scalar(&app.db, first_rows).await;
    crate::store::testing::redo_migrations_from(&app.db, "m20261201_000010_answer_first_rows")
        .await;
    assert_eq!(crate::store::testing::scalar(&app.db, first_rows).await, marked);
    let (_, again) = app.get_json(&format!("{STUDY}/report"), Some(&s.coord)).await;
    assert_eq!(again["questions"], report["questions"]);
    assert_eq!(again["questions"]["platform-usage"]["platforms_used"]["n"], 2);
});

/// Six consenting participants answer the demographics: five female, one male.
async fn six_answered(app: &super::helpers::TestApp) -> super::consent_flow::Study {
    let s = with_screening(app).await;
    let (status, _) = app.attach(&s.coord, "study-one", "demographics", "after_consent").await;
    assert_eq!(status, Status::Created);
    for i in 0..6 {
        let (_, v) = enrol(app, "P", &format!("s{i}@student.example.edu"), true, "graduate").await;
        let token = v["participant_token"].as_str().unwrap_or_default().to_string();
        app.post_json("/api/v1/participant/consent", Some(&token), signing(&s, "P", true)).await;
        let gender = if i == 0 { "male" } else { "female" };
        let (status, v) = app
            .put_json(&format!("{Q}/demographics"), Some(&token),
                json!({"answers": {"gender": gender, "age": 20 + i, "entry_pathway": "graduate", "year_of_course": 2}}))
            .await;
        assert_eq!(status, Status::Ok, "{v}");
    }
    s
}

db_test!(published_outputs_hide_small_cells_and_their_complements, |app| {
    let s = six_answered(&app).await;
    let (status, kind, csv) = app.get_bytes(&format!("{STUDY}/report.csv"), &s.coord).await;
    assert_eq!((status, kind.as_str()), (Status::Ok, "text/csv; charset=utf-8"));
    let csv = String::from_utf8(csv).unwrap_or_default();
    assert!(csv.starts_with("section,instrument,table,row,column,value\r\n"), "{csv}");
    assert!(csv.contains("about,,,ethics_reference,,CF15/2639-2015001090\r\n"), "{csv}");
    assert!(csv.contains("about,,,suppressed_below,,5\r\n"), "{csv}");
    assert!(csv.contains("questionnaire,demographics,gender,male,n,<5\r\n"), "{csv}");
    assert!(
        csv.contains("questionnaire,demographics,gender,female,n,<5\r\n"),
        "the complement of a hidden cell in a shown total is hidden too: {csv}"
    );
    assert!(csv.contains("questionnaire,demographics,gender,answered,n,6\r\n"), "{csv}");
    assert!(!csv.contains("gender,female,percent,83"), "percentages of hidden counts hide: {csv}");
    let (_, raw) = app.get_json(&format!("{STUDY}/report"), Some(&s.coord)).await;
    assert_eq!(raw["questions"]["demographics"]["gender"]["counts"]["male"], 1, "raw JSON");

    let settings = format!("{STUDY}/settings");
    let (status, v) = app.put_json(&settings, Some(&s.coord), json!({"suppress_below": 101})).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(v["error"]["fields"]["suppress_below"].is_array(), "{v}");
    let (status, v) = app.put_json(&settings, Some(&s.coord), json!({"suppress_below": 0})).await;
    assert_eq!(status, Status::Ok, "{v}");
    assert_eq!(v["suppress_below"], 0);
    let (_, _, csv) = app.get_bytes(&format!("{STUDY}/report.csv"), &s.coord).await;
    let csv = String::from_utf8(csv).unwrap_or_default();
    assert!(csv.contains("questionnaire,demographics,gender,male,n,1\r\n"), "k = 0: {csv}");
    assert!(csv.contains("questionnaire,demographics,gender,female,percent,83.3%\r\n"), "{csv}");

    let (status, kind, pdf) =
        app.get_bytes(&format!("{STUDY}/report.pdf?by=entry_pathway"), &s.coord).await;
    assert_eq!((status, kind.as_str()), (Status::Ok, "application/pdf"));
    let doc =
        printpdf::PdfDocument::parse(&pdf, &printpdf::PdfParseOptions::default(), &mut vec![])
            .unwrap_or_else(|e| panic!("{e}"));
    assert!(doc.pages.len() >= 3, "title page, methods and sections: {} pages", doc.pages.len());
    let text = doc.extract_text().into_iter().flatten().collect::<Vec<_>>().join(" ");
    for expected in [
        "Study report",
        "CF15/2639-2015001090",
        "Methods",
        "Enrolment",
        "Table 1.",
        "What is your gender?",
        "Page 1 of",
    ] {
        assert!(text.contains(expected), "{expected} in the PDF: {text}");
    }
    assert_eq!(
        app.get_bytes(&format!("{STUDY}/report.pdf?by=gender"), &s.coord).await.0,
        Status::UnprocessableEntity
    );

    let (status, _, r) = app.get_bytes(&format!("{STUDY}/export.R"), &s.coord).await;
    let r = String::from_utf8(r).unwrap_or_default();
    assert_eq!(status, Status::Ok);
    assert!(
        r.contains("read.csv(\"export.csv\"") && r.contains("export[[\"gender\"]] <- factor("),
        "{r}"
    );
    let (status, _, sps) = app.get_bytes(&format!("{STUDY}/export.sps"), &s.coord).await;
    let sps = String::from_utf8(sps).unwrap_or_default();
    assert_eq!(status, Status::Ok);
    assert!(
        sps.contains("GET DATA /TYPE=TXT /FILE='export.csv'") && sps.contains("VALUE LABELS"),
        "{sps}"
    );

    let exported = crate::store::testing::scalar(
        &app.db,
        "SELECT COUNT(*) FROM audit_events WHERE action = 'report.exported'",
    )
    .await;
    assert_eq!(exported, 5, "two report CSVs, the PDF, the R and SPSS files (not the refused one)");
    let outsider = app.staff("other@example.org", "coordinator").await;
    for path in ["report.csv", "report.pdf", "export.R", "export.sps"] {
        let path = format!("{STUDY}/{path}");
        assert_eq!(app.get_bytes(&path, &s.ethics).await.0, Status::Forbidden, "{path}");
        assert_eq!(app.get_bytes(&path, &s.fac).await.0, Status::Forbidden, "{path}");
        assert_eq!(app.get_bytes(&path, &outsider).await.0, Status::NotFound, "{path}");
    }
});

db_test!(the_command_line_report_matches_the_api_and_is_audited, |app| {
    use crate::service::report::{Output, offline};
    let s = six_answered(&app).await;
    let json = offline(app.state(), "study-one", None, None).await.unwrap_or_default();
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap_or_default();
    let (_, api) = app.get_json(&format!("{STUDY}/report"), Some(&s.coord)).await;
    assert_eq!(json["questions"], api["questions"]);
    assert_eq!(json["enrolment"], api["enrolment"]);
    let csv = offline(app.state(), "study-one", Some("entry_pathway"), Some(Output::Csv))
        .await
        .unwrap_or_default();
    let csv = String::from_utf8(csv).unwrap_or_default();
    assert!(csv.contains("questionnaire,demographics,gender,male,n,<5\r\n"), "{csv}");
    let pdf = offline(app.state(), "study-one", None, Some(Output::Pdf)).await.unwrap_or_default();
    assert!(pdf.starts_with(b"%PDF"));
    assert!(matches!(
        offline(app.state(), "no-such-study", None, None).await,
        Err(crate::error::AppError::NotFound)
    ));
    assert_eq!(
        crate::store::testing::scalar(
            &app.db,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'report.exported' AND actor = 'cli'"
        )
        .await,
        3
    );
});

db_test!(the_report_page_shows_tables_charts_and_downloads, |app| {
    use crate::tests::helpers::PASSWORD;
    use crate::tests::html_pages::{csrf_of, page, post_form, sign_in};
    six_answered(&app).await;
    let path = "/staff/studies/study-one/report";
    assert_eq!(page(&app, path).await.0, Status::SeeOther, "signed out: to the sign-in page");
    assert_eq!(sign_in(&app.client, "coord@example.org", PASSWORD).await, Status::SeeOther);
    let (_, study) = page(&app, "/staff/studies/study-one").await;
    assert!(study.contains("href=\"/staff/studies/study-one/report\""), "linked from the study");
    let (status, html) = page(&app, path).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("<caption>What is your gender?</caption>"), "{html}");
    assert!(html.contains("<td class=\"num\">&lt;5</td>"), "suppressed as published: {html}");
    assert!(html.contains("<svg") && html.contains("<rect"), "bar charts inline: {html}");
    assert!(html.contains("<option value=\"entry_pathway\""), "breakdowns offered: {html}");
    let (status, by) = page(&app, &format!("{path}?by=entry_pathway")).await;
    assert_eq!(status, Status::Ok);
    assert!(by.contains("href=\"/staff/studies/study-one/report/report.pdf?by=entry_pathway\""));
    assert_eq!(page(&app, &format!("{path}?by=gender")).await.0, Status::UnprocessableEntity);

    let csrf = csrf_of(&html);
    let (status, to) = post_form(
        &app,
        &format!("{path}/threshold"),
        format!("csrf_token={csrf}&suppress_below=abc"),
    )
    .await;
    assert_eq!((status, to), (Status::UnprocessableEntity, None), "shown again, not redirected");
    let (_, html) = page(&app, path).await;
    assert!(!html.contains("suppress_below:"), "never the field's key: {html}");
    post_form(&app, &format!("{path}/threshold"), format!("csrf_token={csrf}&suppress_below=0"))
        .await;
    let (_, html) = page(&app, path).await;
    assert!(html.contains("Published outputs now show every count."), "{html}");
    assert!(html.contains("<td class=\"num\">1</td>"), "threshold 0 shows the 1: {html}");
    let (status, _) =
        post_form(&app, &format!("{path}/threshold"), "suppress_below=3".into()).await;
    assert_eq!(status, Status::Forbidden, "no CSRF token, no change");

    let res = app.client.get(format!("{path}/report.pdf")).dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(
        res.headers().get_one("Content-Disposition"),
        Some("attachment; filename=\"study-one-report.pdf\"")
    );
    assert!(res.into_bytes().await.unwrap_or_default().starts_with(b"%PDF"));
    for name in ["report.csv", "export.csv", "codebook.csv", "export.R", "export.sps"] {
        let res = app.client.get(format!("{path}/{name}")).dispatch().await;
        assert_eq!(res.status(), Status::Ok, "{name}");
    }
    assert_eq!(page(&app, &format!("{path}/secrets.txt")).await.0, Status::NotFound);

    crate::tests::html_pages::sign_out(&app).await;
    assert_eq!(sign_in(&app.client, "eth@example.org", PASSWORD).await, Status::SeeOther);
    assert_eq!(page(&app, path).await.0, Status::Forbidden);
    assert_eq!(page(&app, &format!("{path}/export.csv")).await.0, Status::Forbidden);
});

// Ethics officers audit consent; they never read research data: every route that
// carries answers or figures refuses them, through the API and in the browser.
db_test!(ethics_officers_never_read_research_data, |app| {
    use crate::tests::html_pages::{page, sign_in};
    let s = six_answered(&app).await;
    let api = [
        "report",
        "report?by=year_level",
        "report.csv",
        "report.pdf",
        "export.csv",
        "codebook.csv",
        "export.R",
        "export.sps",
    ];
    for route in api {
        let path = format!("{STUDY}/{route}");
        assert_eq!(app.get_bytes(&path, &s.ethics).await.0, Status::Forbidden, "{path}");
    }
    assert_eq!(
        sign_in(&app.client, "eth@example.org", crate::tests::helpers::PASSWORD).await,
        Status::SeeOther
    );
    let pages = ["report", "report/report.csv", "report/report.pdf", "report/export.csv"];
    for route in
        pages.into_iter().chain(["report/codebook.csv", "report/export.R", "report/export.sps"])
    {
        let path = format!("/staff/studies/study-one/{route}");
        let (status, html) = page(&app, &path).await;
        assert_eq!(status, Status::Forbidden, "{path}");
        assert!(!html.contains("facebook"), "{path} shows no answers");
    }
    let exported = crate::store::testing::scalar(
        &app.db,
        "SELECT COUNT(*) FROM audit_events WHERE action = 'report.exported'",
    )
    .await;
    assert_eq!(exported, 0, "nothing was handed out");
});
