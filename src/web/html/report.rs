//! The coordinator's report page: every published table with its bar chart (small
//! cells suppressed, as in the PDF), the breakdown by a screening question, the
//! small-cell threshold, and downloads of every output through the signed-in
//! session. Downloads are the same audited exports as the JSON API's.

use rocket::form::FromForm;
use rocket::http::ContentType;
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};
use rocket_dyn_templates::{Template, context};
use serde::Serialize;

use super::outcome_on;
use super::views::{Download, StudyBanner, Viewer};
use crate::domain::report::publish::{Section, Table};
use crate::service::report::{Export, Output};
use crate::service::study::SettingsChange;
use crate::service::{AppState, report, study};
use crate::web::errors::PageResult;
use crate::web::guards::{CsrfForm, CsrfProtected, CsrfToken, SessionUser};

#[derive(Serialize)]
struct TableView<'a> {
    table: &'a Table,
    /// The chart as inline SVG (escaped by the renderer).
    svg: Option<String>,
}

#[derive(Serialize)]
struct SectionView<'a> {
    section: &'a Section,
    tables: Vec<TableView<'a>>,
}

#[get("/staff/studies/<slug>/report?<by>")]
async fn page(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    flash: Option<FlashMessage<'_>>,
    slug: &str,
    by: Option<&str>,
) -> PageResult<Template> {
    let user = &session.user;
    let by = by.filter(|b| !b.is_empty());
    let page = report::page(state, user, slug, by).await?;
    let sections: Vec<SectionView<'_>> = page
        .published
        .sections
        .iter()
        .zip(&page.charts)
        .map(|(section, charts)| SectionView {
            section,
            tables: section
                .tables
                .iter()
                .zip(charts)
                .map(|(table, svg)| TableView { table, svg: svg.clone() })
                .collect(),
        })
        .collect();
    let query = by.map(|b| format!("?by={b}")).unwrap_or_default();
    Ok(Template::render(
        "staff/report",
        context! {
            viewer: Viewer::from(user),
            csrf: csrf.0,
            flash: flash.map(|f| (f.kind().to_string(), f.message().to_string())),
            slug,
            study: StudyBanner::from(&page.study),
            report: &page.published,
            sections,
            options: &page.by_options,
            by,
            query,
        },
    ))
}

#[derive(FromForm)]
pub struct ThresholdForm {
    #[field(default = String::new())]
    csrf_token: String,
    #[field(default = String::new())]
    suppress_below: String,
}

impl CsrfProtected for ThresholdForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

#[post("/staff/studies/<slug>/report/threshold", data = "<form>")]
async fn threshold(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    form: CsrfForm<ThresholdForm>,
) -> PageResult<Flash<Redirect>> {
    let result = match form.0.suppress_below.trim().parse::<i64>() {
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
    outcome_on(&format!("/staff/studies/{slug}/report"), result, |s| match s.suppress_below {
        0 => "Published outputs now show every count.".to_string(),
        k => format!("Published outputs now show non-zero counts below {k} as <{k}."),
    })
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
