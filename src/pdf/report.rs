//! The report PDF: a title page with the study, its ethics approval and when the
//! report was generated; the methods summary; then every section's tables with their
//! bar charts drawn as vector shapes. Figures arrive already suppressed
//! ([`crate::domain::report::publish`]); this module only lays them out.

use super::layout::{Layout, TEXT_W, Weight};
use crate::domain::report::publish::{Chart, Published, Table};
use crate::error::AppResult;

pub fn render(p: &Published) -> AppResult<Vec<u8>> {
    let generated = when(&p.generated_at);
    let mut l = Layout::new(
        &format!("{} — report", p.title),
        &format!("Report · approval {} · {generated}", p.reference),
    )?;
    l.gap(30.0);
    l.paragraph("Study report", 12.0, Weight::Regular, 0.0);
    l.gap(2.0);
    l.paragraph(&p.title, 22.0, Weight::Bold, 0.0);
    l.gap(6.0);
    if !p.summary.trim().is_empty() {
        l.paragraph(&p.summary, 11.0, Weight::Regular, 0.0);
        l.gap(6.0);
    }
    l.rule();
    l.field("Study", &p.study);
    l.field("Ethics committee", &p.committee);
    l.field("Approval reference", &p.reference);
    l.field("Generated", &generated);
    l.field("Small cells", &suppression_note(p));
    l.rule();

    l.heading("Methods", 15.0);
    for paragraph in &p.methods {
        l.paragraph(paragraph, 10.0, Weight::Regular, 0.0);
        l.gap(2.0);
    }

    let mut number = 0;
    for section in &p.sections {
        l.heading(&section.heading, 15.0);
        if let Some(intro) = &section.intro {
            l.paragraph(intro, 10.0, Weight::Regular, 0.0);
            l.gap(2.0);
        }
        for table in &section.tables {
            number += 1;
            render_table(&mut l, number, table);
        }
    }
    l.finish()
}

/// `2026-12-01T16:52:38.98Z` as `2026-12-01 16:52 UTC`.
fn when(at: &str) -> String {
    match (at.get(..10), at.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => at.to_string(),
    }
}

fn suppression_note(p: &Published) -> String {
    match p.suppressed_below {
        0 => "No suppression: every count is shown as it is.".into(),
        k => format!(
            "Non-zero counts below {k} are shown as <{k}, with further cells hidden so that no \
             hidden count can be worked out from a total ({} figures hidden). Percentages and \
             statistics of a hidden count are shown as –.",
            p.hidden
        ),
    }
}

/// Column widths: each figure column as wide as its widest figure or the longest
/// word of its header (at least 14 mm; headers wrap), the label column what is left
/// (at least 50 mm); figure columns shrink evenly when there are too many.
fn widths(l: &Layout, table: &Table) -> Vec<f32> {
    let mut figures: Vec<f32> = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, (_, header))| {
            let figures = table.rows.iter().filter_map(|r| r.cells.get(i));
            let widest = figures
                .map(|t| l.text_width(t, 9.0, Weight::Bold))
                .chain(header.split_whitespace().map(|w| l.text_width(w, 9.0, Weight::Bold)))
                .fold(0.0, f32::max);
            (widest + 3.0).max(14.0)
        })
        .collect();
    let room = TEXT_W - 50.0;
    let used: f32 = figures.iter().sum();
    if used > room {
        figures.iter_mut().for_each(|w| *w *= room / used);
    }
    let mut widths = vec![TEXT_W - figures.iter().sum::<f32>()];
    widths.extend(figures);
    widths
}

fn render_table(l: &mut Layout, number: usize, table: &Table) {
    // Keep a table, and its chart, on one page when they fit on one.
    let rows = 14.0 + 4.6 * (table.rows.len() as f32 + 1.0);
    let chart = table.chart.as_ref().map_or(0.0, |c| chart_height(c.bars.len()));
    l.ensure(if rows + chart <= 200.0 { rows + chart } else { rows.min(120.0) });
    l.gap(3.0);
    l.paragraph(&format!("Table {number}. {}", table.caption), 10.0, Weight::Bold, 0.0);
    l.gap(1.0);
    let widths = widths(l, table);
    let mut header = vec![""];
    header.extend(table.columns.iter().map(|(_, h)| h.as_str()));
    l.table_row(&widths, &header, Weight::Bold, true);
    for row in &table.rows {
        let mut cells = vec![row.label.as_str()];
        cells.extend(row.cells.iter().map(String::as_str));
        let total = matches!(row.key.as_str(), "total" | "answered");
        l.table_row(&widths, &cells, if total { Weight::Bold } else { Weight::Regular }, false);
    }
    l.rule();
    if let Some(note) = &table.note {
        l.paragraph(note, 8.5, Weight::Regular, 0.0);
    }
    if let Some(chart) = &table.chart {
        render_chart(l, chart);
    }
}

/// The height of a chart of `bars` bars with its title, in millimetres.
fn chart_height(bars: usize) -> f32 {
    12.0 + 5.0 * bars as f32
}

fn render_chart(l: &mut Layout, chart: &Chart) {
    let max = chart.bars.iter().filter_map(|b| b.value).max().unwrap_or(0).max(1) as f32;
    l.ensure(chart_height(chart.bars.len()));
    l.gap(2.0);
    l.paragraph(&chart.title, 9.0, Weight::Bold, 0.0);
    l.gap(1.0);
    for bar in &chart.bars {
        l.bar(&bar.label, bar.value.map(|v| v as f32 / max), &bar.shown);
    }
    l.gap(3.0);
}
