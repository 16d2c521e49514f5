//! The coordinator's report page: every published table with its bar chart (small
//! cells suppressed, as in the PDF), the breakdown by a screening question, the
//! small-cell threshold, and downloads of every output through the signed-in
//! session. Downloads are the same audited exports as the JSON API's.

use rocket::http::{ContentType, Status};
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};

use super::outcome_on;
use super::views::report::ReportPage;
use super::views::{Download, StaffFrame};
use crate::service::report::{Export, Output};
use crate::service::study::SettingsChange;
use crate::service::{AppState, report, study};
use crate::web::errors::PageResult;
use crate::web::guards::{CsrfForm, CsrfToken, SessionUser};
use crate::web::html::page::Page;

#[get("/staff/studies/<slug>/report?<by>")]
async fn page(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    flash: Option<FlashMessage<'_>>,
    slug: &str,
    by: Option<&str>,
) -> PageResult<Page> {
    let user = &session.user;
    let by = by.filter(|b| !b.is_empty());
    let report = report::page(state, user, slug, by).await?;
    let page = ReportPage::new(StaffFrame::new(user, csrf.0, flash), &report, by);
    Ok(Page::render("report/report", page))
}

page_form! {
    pub struct ThresholdForm {
        suppress_below: String,
    }
}

#[post("/staff/studies/<slug>/report/threshold", data = "<form>")]
async fn threshold(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
    form: CsrfForm<ThresholdForm>,
) -> PageResult<Result<Flash<Redirect>, (Status, Page)>> {
    let typed = form.0.suppress_below;
    let result = match typed.trim().parse::<i64>() {
        Ok(k) => {
            let change = SettingsChange { suppress_below: Some(k), ..SettingsChange::default() };
            study::change_settings(state, &session.user, slug, change).await
        }
        Err(_) => Err(crate::error::AppError::field(
            "suppress_below",
            "not_a_number",
            "Give the threshold as a whole number from 0 to 100.",
        )),
    };
    // A refused value is shown again beside its field, with the reason.
    if let Err(e @ crate::error::AppError::Validation(_)) = &result {
        let user = &session.user;
        let report = report::page(state, user, slug, None).await?;
        let page = ReportPage::new(StaffFrame::new(user, csrf.0, None), &report, None)
            .threshold_refused(typed, e);
        return Ok(Err((Status::new(e.status()), Page::render("report/report", page))));
    }
    let to = format!("/staff/studies/{slug}/report");
    Ok(Ok(outcome_on(&to, result, |s| match s.suppress_below {
        0 => "Published outputs now show every count.".to_string(),
        k => format!("Published outputs now show non-zero counts below {k} as <{k}."),
    })?))
}

fn file(slug: &str, name: &str, kind: ContentType, bytes: Vec<u8>) -> Download {
    Download::new(kind, format!("{slug}-{name}"), bytes)
}

fn export(kind: ContentType, name: &str, text: String) -> Download {
    Download::new(kind, name.to_string(), text.into_bytes())
}

#[get("/staff/studies/<slug>/report/<name>?<by>", rank = 2)]
async fn download(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    name: &str,
    by: Option<&str>,
) -> PageResult<Download> {
    let user = &session.user;
    let by = by.filter(|b| !b.is_empty());
    let csv = ContentType::new("text", "csv").with_params(("charset", "utf-8"));
    let text = ContentType::Plain;
    let out = match name {
        "report.pdf" => file(
            slug,
            name,
            ContentType::PDF,
            report::output(state, user, slug, by, Output::Pdf).await?,
        ),
        "report.csv" => {
            file(slug, name, csv, report::output(state, user, slug, by, Output::Csv).await?)
        }
        // The R and SPSS syntax read `export.csv` by that name: exports keep their names.
        "export.csv" => {
            export(csv, name, report::export(state, user, slug, Export::Answers).await?)
        }
        "codebook.csv" => {
            export(csv, name, report::export(state, user, slug, Export::Codebook).await?)
        }
        "export.R" => export(text, name, report::export(state, user, slug, Export::R).await?),
        "export.sps" => export(text, name, report::export(state, user, slug, Export::Spss).await?),
        _ => return Err(crate::error::AppError::NotFound.into()),
    };
    Ok(out)
}

pub fn routes() -> Vec<rocket::Route> {
    routes![page, threshold, download]
}
