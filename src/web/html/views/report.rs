//! The report page: every published table with its chart, the breakdown choice
//! and the links to download each output.

use serde::Serialize;

use super::{FormView, StaffFrame, StudyBanner};
use crate::domain::report::publish::{Published, Section, Table};
use crate::error::AppError;
use crate::service::report::Page as Report;

#[derive(Serialize)]
pub struct ReportPage<'a> {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub slug: String,
    pub study: StudyBanner,
    pub report: &'a Published,
    pub sections: Vec<SectionView<'a>>,
    /// The screening questions a table can be broken down by: `(key, label)`.
    pub options: &'a [(String, String)],
    pub by: Option<&'a str>,
    /// `?by=…` to carry the breakdown into the download links.
    pub query: String,
    /// The small-cell threshold form: the value in force, or the one typed and why
    /// it was refused.
    pub threshold: FormView<ThresholdValues>,
}

#[derive(Serialize)]
pub struct ThresholdValues {
    pub suppress_below: String,
}

#[derive(Serialize)]
pub struct SectionView<'a> {
    pub section: &'a Section,
    pub tables: Vec<TableView<'a>>,
}

#[derive(Serialize)]
pub struct TableView<'a> {
    pub table: &'a Table,
    /// The chart as inline SVG (escaped by the renderer).
    pub svg: Option<String>,
}

impl<'a> ReportPage<'a> {
    pub fn new(frame: StaffFrame, page: &'a Report, by: Option<&'a str>) -> Self {
        let sections = page
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
        Self {
            frame,
            slug: page.study.slug.clone(),
            study: StudyBanner::from(&page.study),
            report: &page.published,
            sections,
            options: &page.by_options,
            by,
            query: by.map(|b| format!("?by={b}")).unwrap_or_default(),
            threshold: FormView::new(
                ThresholdValues { suppress_below: page.published.suppressed_below.to_string() },
                None,
            ),
        }
    }

    /// The page again with the threshold typed and the refusal beside its field.
    pub fn threshold_refused(mut self, typed: String, refusal: &AppError) -> Self {
        self.threshold = FormView::new(ThresholdValues { suppress_below: typed }, Some(refusal));
        self
    }
}
