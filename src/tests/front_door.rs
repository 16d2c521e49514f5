//! The front door, tried as an outsider, a curious coordinator and a database
//! reader would: a participant's link is theirs alone, staff never read a working
//! link or code, sign-in throttling can be neither bypassed nor turned against an
//! account's owner, cookie-authenticated API writes come only from this site, and
//! outputs cannot carry code. Each test names the finding it proves gone.

use rocket::http::Status;
use serde_json::json;

use super::helpers::study_body;

const STUDY: &str = "/api/v1/studies/study-one";

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
