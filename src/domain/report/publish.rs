//! The report as it is published (report PDF, report CSV, the coordinator's report
//! page): the same figures as the JSON report laid out as captioned tables and bar
//! charts, with small-cell suppression applied (SPEC §8; the rule is in
//! [`crate::domain::report::suppression`]). Every count is registered on one sheet with the totals
//! printed beside it, so a hidden count cannot be recovered from any row or column
//! of any table. Percentages, means and other statistics of a hidden count are
//! hidden with it. Free-text answers are never published.

use serde::Serialize;

use crate::domain::report::figures::{QuestionStats, Report};
use crate::domain::report::suppression::{CellId, Sheet, Suppressed};

/// A published report: the title page's facts, a methods summary and sections.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub study: String,
    pub title: String,
    pub summary: String,
    pub committee: String,
    pub reference: String,
    pub generated_at: String,
    /// The threshold applied (0: none).
    pub suppressed_below: u32,
    /// How many figures were hidden.
    pub hidden: usize,
    /// The methods summary, paragraph by paragraph.
    pub methods: Vec<String>,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// `enrolment`, `recruitment`, `strata`, `focus_groups` or `questionnaire`.
    pub key: String,
    /// The questionnaire key for questionnaire sections.
    pub instrument: String,
    pub heading: String,
    pub intro: Option<String>,
    pub tables: Vec<Table>,
}

/// A captioned table; cells are already what is printed.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// The question key (questionnaire sections) or the table's name.
    pub key: String,
    pub caption: String,
    /// Column keys (for the CSV) and headers (for the page and the PDF).
    pub columns: Vec<(String, String)>,
    pub rows: Vec<Row>,
    pub chart: Option<Chart>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The row's key for the CSV (a choice value, a statistic's name).
    pub key: String,
    pub label: String,
    pub cells: Vec<String>,
}

/// A horizontal bar chart of counts; suppressed bars have no length.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    pub title: String,
    pub bars: Vec<Bar>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bar {
    pub label: String,
    /// `None` when the count is hidden.
    pub value: Option<i64>,
    /// What is written at the bar's end (`14`, `<5`).
    pub shown: String,
}

/// A cell before suppression is decided.
#[derive(Debug, Clone)]
enum Cell {
    Count(CellId),
    /// A percentage of `of`, hidden when either count is.
    Percent(CellId, CellId, f64),
    /// A statistic of the `n` values counted by the cell, hidden when `n` is.
    Stat(CellId, f64),
    Text(String),
}

struct Draft {
    key: String,
    caption: String,
    columns: Vec<(String, String)>,
    rows: Vec<(String, String, Vec<Cell>)>,
    chart: Option<(String, Vec<(String, CellId)>)>,
    note: Option<String>,
}

struct DraftSection {
    key: &'static str,
    instrument: String,
    heading: String,
    intro: Vec<Cell>,
    intro_text: fn(&[String]) -> String,
    tables: Vec<Draft>,
}

fn columns(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, h)| (k.to_string(), h.to_string())).collect()
}

/// Numbers as the published tables print them: whole numbers without a decimal
/// point, others with up to two decimals.
pub fn number(value: f64) -> String {
    crate::domain::report::export::number_cell((value * 100.0).round() / 100.0)
}

fn channel_label(channel: &str) -> &'static str {
    match channel {
        "lms" => "Learning-management system",
        "email" => "E-mail list",
        "poster" => "Poster",
        "social" => "Social media",
        _ => "Other",
    }
}

/// Lays the report out for publication with threshold `k` (0: nothing hidden).
pub fn publish(report: &Report, k: u32) -> Published {
    let mut sheet = Sheet::new();
    let (enrolment, stage_cells) = enrolment_section(report, &mut sheet);
    let mut sections = vec![enrolment, recruitment_section(report, &mut sheet, &stage_cells)];
    sections.extend(strata_section(report, &mut sheet));
    sections.push(focus_group_section(report, &mut sheet));
    sections.extend(understanding_section(report, &mut sheet));
    sections.extend(questionnaire_sections(report, &mut sheet));

    let suppressed = sheet.suppress(k);
    let count = |c: CellId| suppressed.show(c);
    let methods = methods(report, &stage_cells, &count, k);
    let sections = sections.into_iter().map(|s| finish(s, &suppressed)).collect();
    Published {
        study: report.study.clone(),
        title: report.title.clone(),
        summary: report.summary.clone(),
        committee: report.ethics_committee.clone(),
        reference: report.ethics_reference.clone(),
        generated_at: report.generated_at.clone(),
        suppressed_below: k,
        hidden: suppressed.hidden_count(),
        methods,
        sections,
    }
}

/// The enrolment funnel; its cells (ads viewed, screened, eligible, consented, …)
/// are what the recruitment totals and the methods text add up to.
fn enrolment_section(report: &Report, sheet: &mut Sheet) -> (DraftSection, Vec<CellId>) {
    let e = &report.enrolment;
    let stages = [
        ("ads_viewed", "Ad page views", e.ads_viewed),
        ("screened", "Screened", e.screened),
        ("eligible", "Eligible", e.eligible),
        ("consented", "Gave written informed consent", e.consented),
        ("withdrawn", "Withdrew later", e.withdrawn),
        (
            "excluded",
            "Withdrew with their data (left out of every answer)",
            report.excluded.withdrawn_with_data,
        ),
        ("scheduled", "Placed in a focus group", e.scheduled),
        ("attended", "Attended a focus group", e.attended),
    ];
    let stage_cells: Vec<CellId> = stages.iter().map(|s| sheet.count(s.2)).collect();
    let funnel: Vec<(String, CellId)> =
        (1..4).map(|i| (stages[i].1.to_string(), stage_cells[i])).collect();
    let enrolment_rows = stages
        .iter()
        .zip(&stage_cells)
        .map(|(s, &c)| (s.0.to_string(), s.1.to_string(), vec![Cell::Count(c)]))
        .collect();
    let section = DraftSection {
        key: "enrolment",
        instrument: String::new(),
        heading: "Enrolment".into(),
        intro: vec![],
        intro_text: |_| String::new(),
        tables: vec![Draft {
            key: "funnel".into(),
            caption: "Enrolment funnel: everyone who reached each step".into(),
            columns: columns(&[("count", "People")]),
            rows: enrolment_rows,
            chart: Some(("From screening to consent".into(), funnel)),
            note: Some(
                "A participant who withdrew is still counted as screened, eligible and consented."
                    .into(),
            ),
        }],
    };
    (section, stage_cells)
}

/// Recruitment by channel and by ad: ads add up to their channel, channels to the
/// funnel's totals.
fn recruitment_section(report: &Report, sheet: &mut Sheet, stage_cells: &[CellId]) -> DraftSection {
    let measures = [("screened", "Screened"), ("eligible", "Eligible"), ("consented", "Consented")];
    let pick = |row: &crate::domain::report::figures::AdRow, m: &str| match m {
        "screened" => row.screened,
        "eligible" => row.eligible,
        _ => row.consented,
    };
    let total_cells: Vec<CellId> = vec![stage_cells[1], stage_cells[2]]
        .into_iter()
        .chain(std::iter::once(sheet.count(report.by_ad.iter().map(|a| a.consented).sum())))
        .collect();
    let mut channel_rows = Vec::new();
    let mut channel_cells: Vec<Vec<CellId>> = Vec::new();
    for row in &report.by_channel {
        let cells: Vec<CellId> = measures.iter().map(|(m, _)| sheet.count(pick(row, m))).collect();
        channel_rows.push((
            row.channel.to_string(),
            channel_label(row.channel).to_string(),
            cells.iter().map(|&c| Cell::Count(c)).collect(),
        ));
        channel_cells.push(cells);
    }
    for (m, total) in total_cells.iter().enumerate() {
        let parts: Vec<CellId> = channel_cells.iter().map(|c| c[m]).collect();
        sheet.sum(&parts, *total);
    }
    channel_rows.push((
        "total".into(),
        "All channels".into(),
        total_cells.iter().map(|&c| Cell::Count(c)).collect(),
    ));
    let mut ad_rows = Vec::new();
    let mut ad_cells_by_channel: Vec<(String, Vec<CellId>)> = Vec::new();
    for row in &report.by_ad {
        let cells: Vec<CellId> = measures.iter().map(|(m, _)| sheet.count(pick(row, m))).collect();
        let mut printed = vec![Cell::Text(channel_label(row.channel).to_string())];
        printed.extend(cells.iter().map(|&c| Cell::Count(c)));
        ad_rows.push((row.code.clone(), row.code.clone(), printed));
        ad_cells_by_channel.push((row.channel.to_string(), cells));
    }
    for (i, row) in report.by_channel.iter().enumerate() {
        for m in 0..measures.len() {
            let parts: Vec<CellId> = ad_cells_by_channel
                .iter()
                .filter(|(c, _)| c == row.channel)
                .map(|(_, cells)| cells[m])
                .collect();
            sheet.sum(&parts, channel_cells[i][m]);
        }
    }
    let mut measure_columns = columns(&measures);
    let mut ad_columns = columns(&[("channel", "Channel")]);
    ad_columns.append(&mut measure_columns.clone());
    DraftSection {
        key: "recruitment",
        instrument: String::new(),
        heading: "Recruitment".into(),
        intro: vec![],
        intro_text: |_| String::new(),
        tables: vec![
            Draft {
                key: "by_channel".into(),
                caption: "Recruitment by channel".into(),
                columns: std::mem::take(&mut measure_columns),
                rows: channel_rows,
                chart: None,
                note: None,
            },
            Draft {
                key: "by_ad".into(),
                caption: "Recruitment by ad".into(),
                columns: ad_columns,
                rows: ad_rows,
                chart: None,
                note: None,
            },
        ],
    }
}

/// The sampling strata against their targets, when the study has any.
fn strata_section(report: &Report, sheet: &mut Sheet) -> Option<DraftSection> {
    if report.strata.is_empty() {
        return None;
    }
    let rows = report
        .strata
        .iter()
        .map(|s| {
            let mut cells = vec![Cell::Text(s.target.to_string())];
            cells.extend(
                [s.screened, s.eligible, s.consented]
                    .into_iter()
                    .map(|v| Cell::Count(sheet.count(v))),
            );
            (format!("{}={}", s.question, s.value), format!("{}: {}", s.question, s.value), cells)
        })
        .collect();
    Some(DraftSection {
        key: "strata",
        instrument: String::new(),
        heading: "Sampling strata".into(),
        intro: vec![],
        intro_text: |_| String::new(),
        tables: vec![Draft {
            key: "strata".into(),
            caption: "Purposive sampling: each stratum against its target".into(),
            columns: columns(&[
                ("target", "Target"),
                ("screened", "Screened"),
                ("eligible", "Eligible"),
                ("consented", "Consented"),
            ]),
            rows,
            chart: None,
            note: None,
        }],
    })
}

/// Focus groups held, and the saturation of themes across the logged sessions.
fn focus_group_section(report: &Report, sheet: &mut Sheet) -> DraftSection {
    let fg = &report.focus_groups;
    let mut fg_tables = vec![Draft {
        key: "focus_groups".into(),
        caption: "Focus groups held".into(),
        columns: columns(&[("count", "Number")]),
        rows: vec![
            ("groups".into(), "Focus groups".into(), vec![Cell::Text(fg.count.to_string())]),
            ("members".into(), "Members".into(), vec![Cell::Count(sheet.count(fg.members))]),
            ("attended".into(), "Attended".into(), vec![Cell::Count(sheet.count(fg.attended))]),
        ],
        chart: None,
        note: None,
    }];
    if !fg.new_codes.is_empty() {
        let sessions: Vec<(String, CellId, CellId)> = fg
            .minutes
            .iter()
            .zip(&fg.new_codes)
            .enumerate()
            .map(|(i, (&minutes, &codes))| {
                (format!("Session {}", i + 1), sheet.figure(minutes), sheet.figure(codes))
            })
            .collect();
        fg_tables.push(Draft {
            key: "saturation".into(),
            caption: "Sessions in the order held: length and codes not heard before".into(),
            columns: columns(&[("minutes", "Minutes"), ("new_codes", "New codes")]),
            rows: sessions
                .iter()
                .enumerate()
                .map(|(i, (label, m, c))| {
                    (format!("session_{}", i + 1), label.clone(), vec![Cell::Count(*m), Cell::Count(*c)])
                })
                .collect(),
            chart: Some((
                "New codes per session (saturation)".into(),
                sessions.iter().map(|(label, _, c)| (label.clone(), *c)).collect(),
            )),
            note: Some(
                "Saturation is reached when a session adds no codes that earlier sessions had not raised."
                    .into(),
            ),
        });
    }
    DraftSection {
        key: "focus_groups",
        instrument: String::new(),
        heading: "Focus groups".into(),
        intro: vec![],
        intro_text: |_| String::new(),
        tables: fg_tables,
    }
}

/// How well the consent statement was understood: per version with
/// knowledge-review questions, each question's first-try rate.
fn understanding_section(report: &Report, sheet: &mut Sheet) -> Option<DraftSection> {
    if report.understanding.is_empty() {
        return None;
    }
    let tables = report
        .understanding
        .iter()
        .map(|v| {
            let rows = v
                .rates
                .iter()
                .map(|r| {
                    let answered = sheet.count(i64::from(r.answered));
                    let right = sheet.count(i64::from(r.first_try_correct));
                    let wrong = sheet.count(i64::from(r.answered.saturating_sub(r.first_try_correct)));
                    sheet.sum(&[right, wrong], answered);
                    let share = r.percent().map_or(0.0, f64::from);
                    let cells = vec![
                        Cell::Count(answered),
                        Cell::Count(right),
                        Cell::Count(wrong),
                        Cell::Percent(right, answered, share),
                    ];
                    (r.key.clone(), r.question.clone(), cells)
                })
                .collect();
            Draft {
                key: format!("version_{}", v.version),
                caption: format!("Consent form version {}: answers right the first time", v.version),
                columns: columns(&[
                    ("answered", "Answered"),
                    ("first_try_correct", "Right first time"),
                    ("first_try_wrong", "Wrong first time"),
                    ("percent", "% right first time"),
                ]),
                rows,
                chart: None,
                note: Some(
                    "A low share points to a part of the explanatory statement that people misread."
                        .into(),
                ),
            }
        })
        .collect();
    Some(DraftSection {
        key: "understanding",
        instrument: String::new(),
        heading: "Understanding of the consent statement".into(),
        intro: vec![],
        intro_text: |_| String::new(),
        tables,
    })
}

/// A section per questionnaire, question by question, optionally by group.
fn questionnaire_sections(report: &Report, sheet: &mut Sheet) -> Vec<DraftSection> {
    let mut sections = Vec::new();
    for instrument in &report.instruments {
        let Some(stats) = report.questions.get(&instrument.key) else { continue };
        let respondents = sheet.count(instrument.respondents);
        let groups: Vec<(String, CellId, &std::collections::BTreeMap<String, QuestionStats>)> =
            report
                .crosstab
                .iter()
                .flat_map(|x| &x.groups)
                .filter_map(|g| {
                    let n = g.respondents.get(&instrument.key).copied()?;
                    let qs = g.questions.get(&instrument.key)?;
                    Some((g.label.clone(), sheet.count(n), qs))
                })
                .collect();
        if !groups.is_empty() {
            let parts: Vec<CellId> = groups.iter().map(|g| g.1).collect();
            sheet.sum(&parts, respondents);
        }
        let mut tables = Vec::new();
        let order = report.question_order.get(&instrument.key).cloned().unwrap_or_default();
        for key in order {
            let Some(q) = stats.get(&key) else { continue };
            let by: Vec<(String, Option<&QuestionStats>)> =
                groups.iter().map(|(label, _, qs)| (label.clone(), qs.get(&key))).collect();
            tables.push(question_table(sheet, &key, q, respondents, &by));
        }
        sections.push(DraftSection {
            key: "questionnaire",
            instrument: instrument.key.clone(),
            heading: format!("{} (version {})", instrument.title, instrument.version),
            intro: vec![Cell::Count(respondents)],
            intro_text: |v| format!("{} respondents completed this questionnaire.", v[0]),
            tables,
        });
    }
    sections
}

/// A drafted section with every cell shown as suppression allows.
fn finish(s: DraftSection, suppressed: &Suppressed) -> Section {
    let render = |cell: &Cell| render_cell(cell, suppressed);
    Section {
        key: s.key.to_string(),
        instrument: s.instrument,
        heading: s.heading,
        intro: (!s.intro.is_empty())
            .then(|| (s.intro_text)(&s.intro.iter().map(render).collect::<Vec<_>>())),
        tables: s
            .tables
            .into_iter()
            .map(|t| Table {
                key: t.key,
                caption: t.caption,
                columns: t.columns,
                rows: t
                    .rows
                    .into_iter()
                    .map(|(key, label, cells)| Row {
                        key,
                        label,
                        cells: cells.iter().map(render).collect(),
                    })
                    .collect(),
                // A chart of nothing but zeros says nothing the table does not.
                chart: t
                    .chart
                    .map(|(title, bars)| Chart {
                        title,
                        bars: bars
                            .into_iter()
                            .map(|(label, c)| Bar {
                                label,
                                value: suppressed.value(c),
                                shown: suppressed.show(c),
                            })
                            .collect(),
                    })
                    .filter(|c| c.bars.iter().any(|b| b.value != Some(0))),
                note: t.note,
            })
            .collect(),
    }
}

impl Published {
    /// The report CSV: one line per published figure, in long form
    /// (`section,instrument,table,row,column,value`), suppression applied.
    pub fn to_csv(&self) -> Result<String, csv::Error> {
        let line = |cells: [&str; 6]| cells.map(str::to_string).to_vec();
        let mut lines = vec![line(["section", "instrument", "table", "row", "column", "value"])];
        let threshold = self.suppressed_below.to_string();
        for (row, value) in [
            ("study", self.study.as_str()),
            ("title", self.title.as_str()),
            ("ethics_committee", self.committee.as_str()),
            ("ethics_reference", self.reference.as_str()),
            ("generated_at", self.generated_at.as_str()),
            ("suppressed_below", threshold.as_str()),
        ] {
            lines.push(line(["about", "", "", row, "", value]));
        }
        for section in &self.sections {
            for table in &section.tables {
                for row in &table.rows {
                    for ((column, _), value) in table.columns.iter().zip(&row.cells) {
                        if value.is_empty() {
                            continue;
                        }
                        lines.push(line([
                            &section.key,
                            &section.instrument,
                            &table.key,
                            &row.key,
                            column,
                            value,
                        ]));
                    }
                }
            }
        }
        crate::domain::report::export::write_csv(&lines)
    }
}

fn render_cell(cell: &Cell, suppressed: &Suppressed) -> String {
    match cell {
        Cell::Count(c) => suppressed.show(*c),
        Cell::Percent(c, of, p) if !suppressed.is_hidden(*c) && !suppressed.is_hidden(*of) => {
            format!("{}%", number(*p))
        }
        Cell::Percent(..) => "–".into(),
        Cell::Stat(n, v) if !suppressed.is_hidden(*n) => number(*v),
        Cell::Stat(..) => "–".into(),
        Cell::Text(t) => t.clone(),
    }
}

fn methods(
    report: &Report,
    stages: &[CellId],
    count: &dyn Fn(CellId) -> String,
    k: u32,
) -> Vec<String> {
    let channels: Vec<String> = report
        .by_channel
        .iter()
        .map(|c| channel_label(c.channel).to_lowercase().replace("e-mail list", "an e-mail list"))
        .collect();
    let ads = report.by_ad.iter().map(|a| a.code.as_str()).collect::<Vec<_>>().join(", ");
    let mut out = Vec::new();
    out.push(if channels.is_empty() {
        "Participants were invited directly.".to_string()
    } else {
        format!(
            "Participants were recruited purposively through {} ({} ad{}: {ads}). {} people answered the eligibility screening and {} were eligible.",
            channels.join(", "),
            report.by_ad.len(),
            if report.by_ad.len() == 1 { "" } else { "s" },
            count(stages[1]),
            count(stages[2]),
        )
    });
    out.push(format!(
        "{} participants gave written informed consent online under ethics approval {} of the {}. {} withdrew later; {} of them withdrew their data, which is left out of every figure computed from answers.",
        count(stages[3]),
        report.ethics_reference,
        report.ethics_committee,
        count(stages[4]),
        count(stages[5]),
    ));
    if !report.strata.is_empty() {
        let strata: Vec<String> = report
            .strata
            .iter()
            .map(|s| format!("{} = {} (target {})", s.question, s.value, s.target))
            .collect();
        out.push(format!("The sample was stratified by {}.", strata.join("; ")));
    }
    if let Some(x) = &report.crosstab {
        out.push(format!(
            "Each question is also given by the answer to the screening question “{}”.",
            x.label
        ));
    }
    out.push(if k == 0 {
        "No small counts are suppressed in this report.".to_string()
    } else {
        format!(
            "To protect participants, any count from 1 to {} is shown as <{k}, and further counts are hidden where a hidden one could otherwise be worked out from a total; percentages and statistics of hidden counts are shown as –.",
            k - 1
        )
    });
    out
}

/// Numeric answers grouped for a chart: each value when there are few, otherwise
/// up to ten equal-width ranges. Returns (label, respondents) in order.
pub fn bins(distribution: &[(f64, i64)]) -> Vec<(String, i64)> {
    const MAX_BARS: usize = 10;
    if distribution.len() <= MAX_BARS + 2 {
        return distribution.iter().map(|(v, n)| (number(*v), *n)).collect();
    }
    let (Some(lo), Some(hi)) =
        (distribution.first().map(|d| d.0), distribution.last().map(|d| d.0))
    else {
        return Vec::new();
    };
    let whole = distribution.iter().all(|(v, _)| v.fract() == 0.0);
    let mut width = (hi - lo) / MAX_BARS as f64;
    if whole {
        width = width.ceil().max(1.0);
    }
    let mut out: Vec<(f64, i64)> = Vec::new();
    for (v, n) in distribution {
        let i = (((v - lo) / width).floor() as usize).min(MAX_BARS - 1);
        let start = lo + i as f64 * width;
        match out.last_mut() {
            Some(last) if last.0 == start => last.1 += n,
            _ => out.push((start, *n)),
        }
    }
    out.into_iter()
        .map(|(start, n)| {
            let end = if whole { start + width - 1.0 } else { start + width };
            let label = if whole && width == 1.0 {
                number(start)
            } else if whole {
                format!("{}–{}", number(start), number(end))
            } else {
                format!("{}–<{}", number(start), number(end))
            };
            (label, n)
        })
        .collect()
}

fn question_table(
    sheet: &mut Sheet,
    key: &str,
    q: &QuestionStats,
    respondents: CellId,
    by: &[(String, Option<&QuestionStats>)],
) -> Draft {
    let n = sheet.count(q.n);
    let skipped = sheet.count(q.skipped);
    sheet.sum(&[n, skipped], respondents);
    let group_n: Vec<CellId> = by.iter().map(|(_, g)| sheet.count(g.map_or(0, |g| g.n))).collect();
    if !group_n.is_empty() {
        sheet.sum(&group_n, n);
    }
    // Choices: a count and a percentage per group; numbers: the statistic; text: n.
    let percents = q.is_categorical();
    let (key_of, header) = if q.is_numeric() { ("value", "Value") } else { ("n", "n") };
    let mut columns = vec![(key_of.to_string(), header.to_string())];
    if percents {
        columns.push(("percent".into(), "%".into()));
    }
    for (label, _) in by {
        columns.push((format!("{key_of}:{label}"), label.clone()));
        if percents {
            columns.push((format!("percent:{label}"), "%".into()));
        }
    }
    let mut rows = Vec::new();
    let mut chart = None;
    let mut note = None;
    if q.is_categorical() {
        let mut parts = Vec::new();
        let mut group_parts: Vec<Vec<CellId>> = vec![Vec::new(); by.len()];
        let mut bars = Vec::new();
        for (value, label) in &q.choices {
            let count = sheet.count(q.counts.get(value).copied().unwrap_or(0));
            parts.push(count);
            bars.push((label.clone(), count));
            let mut cells = vec![
                Cell::Count(count),
                Cell::Percent(count, n, q.percent.get(value).copied().unwrap_or(0.0)),
            ];
            let mut across = Vec::new();
            for (i, (_, g)) in by.iter().enumerate() {
                let c = sheet.count(g.and_then(|g| g.counts.get(value).copied()).unwrap_or(0));
                let p = g.and_then(|g| g.percent.get(value).copied()).unwrap_or(0.0);
                cells.push(Cell::Count(c));
                cells.push(Cell::Percent(c, group_n[i], p));
                group_parts[i].push(c);
                across.push(c);
            }
            if !across.is_empty() {
                sheet.sum(&across, count);
            }
            rows.push((value.clone(), label.clone(), cells));
        }
        if q.kind != "multi_choice" {
            sheet.sum(&parts, n);
            for (i, p) in group_parts.iter().enumerate() {
                sheet.sum(p, group_n[i]);
            }
        } else {
            note = Some("Respondents could choose more than one answer; percentages are of respondents who answered.".into());
        }
        chart = Some((q.label.clone(), bars));
    } else if q.is_numeric() {
        let stats = [
            ("mean", "Mean", q.mean),
            ("median", "Median", q.median),
            ("q1", "First quartile", q.q1),
            ("q3", "Third quartile", q.q3),
            ("min", "Minimum", q.min),
            ("max", "Maximum", q.max),
        ];
        for (stat, label, value) in stats {
            let Some(value) = value else { continue };
            let mut cells = vec![Cell::Stat(n, value)];
            for (i, (_, g)) in by.iter().enumerate() {
                let v = g.and_then(|g| match stat {
                    "mean" => g.mean,
                    "median" => g.median,
                    "q1" => g.q1,
                    "q3" => g.q3,
                    "min" => g.min,
                    _ => g.max,
                });
                cells.push(v.map_or(Cell::Text("–".into()), |v| Cell::Stat(group_n[i], v)));
            }
            rows.push((stat.to_string(), label.to_string(), cells));
        }
        let binned = bins(&q.distribution);
        let bars: Vec<(String, CellId)> =
            binned.into_iter().map(|(label, count)| (label, sheet.count(count))).collect();
        if !bars.is_empty() {
            let parts: Vec<CellId> = bars.iter().map(|b| b.1).collect();
            sheet.sum(&parts, n);
            chart = Some((format!("{}: respondents per value", q.label), bars));
        }
    } else {
        note = Some("Free-text and date answers are not published; see the export.".into());
    }
    // Counts only: the percentage columns of these rows stay empty.
    let blank = || percents.then(|| Cell::Text(String::new()));
    let mut answered: Vec<Cell> = std::iter::once(Cell::Count(n)).chain(blank()).collect();
    for g in &group_n {
        answered.push(Cell::Count(*g));
        answered.extend(blank());
    }
    rows.push(("answered".into(), "Answered".into(), answered));
    let mut skipped_row: Vec<Cell> = std::iter::once(Cell::Count(skipped)).chain(blank()).collect();
    for (_, g) in by {
        skipped_row.push(Cell::Count(sheet.count(g.map_or(0, |g| g.skipped))));
        skipped_row.extend(blank());
    }
    rows.push(("skipped".into(), "Skipped or not asked".into(), skipped_row));
    Draft { key: key.to_string(), caption: q.label.clone(), columns, rows, chart, note }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::domain::report::figures::{
        AdRow, Enrolment, Excluded, FocusGroups, InstrumentSummary, Report,
    };

    fn gender(counts: &[(&str, i64)]) -> QuestionStats {
        let n = counts.iter().map(|c| c.1).sum();
        let mut q = QuestionStats::new("single_choice", "Gender", n, n);
        for (value, count) in counts {
            q.choices.push((value.to_string(), value.to_string()));
            q.counts.insert(value.to_string(), *count);
            q.percent.insert(value.to_string(), crate::domain::report::figures::percent(*count, n));
        }
        q
    }

    fn report(q: QuestionStats) -> Report {
        let n = q.n;
        let ad = AdRow {
            code: "moodle-mbbs".into(),
            channel: "lms",
            views: 40,
            screened: n + 2,
            eligible: n + 1,
            consented: n,
        };
        Report {
            study: "s".into(),
            title: "T".into(),
            summary: String::new(),
            ethics_committee: "MUHREC".into(),
            ethics_reference: "CF15/2639-2015001090".into(),
            generated_at: "2026-11-25T00:00:00Z".into(),
            enrolment: Enrolment {
                ads_viewed: 40,
                screened: n + 2,
                eligible: n + 1,
                consented: n,
                withdrawn: 0,
                scheduled: 0,
                attended: 0,
            },
            by_ad: vec![ad.clone()],
            by_channel: vec![AdRow { code: String::new(), ..ad }],
            strata: vec![],
            questions: BTreeMap::from([(
                "demographics".to_string(),
                BTreeMap::from([("gender".to_string(), q)]),
            )]),
            respondents: BTreeMap::from([("demographics".to_string(), n)]),
            instruments: vec![InstrumentSummary {
                key: "demographics".into(),
                title: "Demographics".into(),
                version: 1,
                stage: "after_consent",
                respondents: n,
            }],
            question_order: BTreeMap::from([(
                "demographics".to_string(),
                vec!["gender".to_string()],
            )]),
            crosstab: None,
            excluded: Excluded { withdrawn_with_data: 0, reason: "" },
            focus_groups: FocusGroups::default(),
            understanding: vec![],
            suppressed_below: 5,
        }
    }

    fn gender_table(p: &Published) -> &Table {
        let section = p.sections.iter().find(|s| s.key == "questionnaire");
        let table = section.and_then(|s| s.tables.first());
        table.unwrap_or_else(|| panic!("a gender table in {p:?}"))
    }

    fn cell<'a>(t: &'a Table, row: &str, col: usize) -> &'a str {
        t.rows.iter().find(|r| r.key == row).map_or("?", |r| r.cells[col].as_str())
    }

    #[test]
    fn first_try_rates_are_published_with_small_cells_hidden() {
        use crate::domain::consent::review::{FirstTryRate, VersionRates};
        let mut r = report(gender(&[("woman", 7), ("man", 6)]));
        let rate = |key: &str, answered, first_try_correct| FirstTryRate {
            key: key.into(),
            question: format!("{key}?"),
            answered,
            first_try_correct,
        };
        r.understanding = vec![VersionRates {
            version: "2".into(),
            rates: vec![rate("withdraw", 20, 15), rate("marks", 20, 18)],
        }];
        let p = publish(&r, 5);
        let s = p.sections.iter().find(|s| s.key == "understanding").expect("the section");
        let t = &s.tables[0];
        assert_eq!(t.key, "version_2");
        assert_eq!(cell(t, "withdraw", 0), "20");
        assert_eq!(cell(t, "withdraw", 1), "15");
        assert_eq!(cell(t, "withdraw", 3), "75%");
        assert_eq!(cell(t, "marks", 2), "<5", "2 wrong the first time is a small cell");
        assert_eq!(cell(t, "marks", 1), "<5", "its complement is hidden too: {:?}", t.rows);
        assert_eq!(cell(t, "marks", 3), "–", "and so is its share");
        assert!(
            publish(&report(gender(&[("woman", 7)])), 5)
                .sections
                .iter()
                .all(|s| s.key != "understanding"),
            "no questions, no section"
        );
    }

    #[test]
    fn the_seed_study_figures_are_published_as_they_are() {
        let p = publish(&report(gender(&[("female", 14), ("male", 9), ("other", 0)])), 5);
        let t = gender_table(&p);
        assert_eq!(
            (cell(t, "female", 0), cell(t, "female", 1), cell(t, "male", 0), cell(t, "other", 0)),
            ("14", "60.9%", "9", "0")
        );
        assert_eq!(p.hidden, 0);
        assert!(p.methods[1].starts_with("23 participants gave written informed consent"));
        let bars = &t.chart.as_ref().map(|c| c.bars.clone()).unwrap_or_default();
        assert_eq!(bars[0], Bar { label: "female".into(), value: Some(14), shown: "14".into() });
    }

    #[test]
    fn a_small_cell_and_its_complement_are_hidden_with_their_percentages() {
        let p = publish(&report(gender(&[("female", 12), ("male", 8), ("other", 3)])), 5);
        let t = gender_table(&p);
        assert_eq!((cell(t, "other", 0), cell(t, "other", 1)), ("<5", "–"));
        assert_eq!((cell(t, "male", 0), cell(t, "male", 1)), ("<5", "–"), "complementary");
        assert_eq!(cell(t, "female", 0), "12");
        assert_eq!(cell(t, "answered", 0), "23");
        let bars = t.chart.as_ref().map(|c| c.bars.clone()).unwrap_or_default();
        assert_eq!(bars[2].value, None);
        let csv = p.to_csv().unwrap_or_default();
        assert!(csv.contains("questionnaire,demographics,gender,other,n,<5\r\n"), "{csv}");
        assert!(csv.contains("questionnaire,demographics,gender,female,percent,52.2%\r\n"));
        assert!(!csv.contains(",3\r\n") && !csv.contains(",8\r\n"), "{csv}");
        let off = publish(&report(gender(&[("female", 12), ("male", 8), ("other", 3)])), 0);
        assert_eq!(cell(gender_table(&off), "other", 0), "3");
    }

    #[test]
    fn many_numeric_values_are_binned_and_few_are_not() {
        assert_eq!(bins(&[(1.0, 2), (2.0, 3)]), vec![("1".into(), 2), ("2".into(), 3)]);
        let ages: Vec<(f64, i64)> = (18..48).map(|a| (f64::from(a), 1)).collect();
        let binned = bins(&ages);
        assert!(binned.len() <= 10, "{binned:?}");
        assert_eq!(binned[0], ("18–20".to_string(), 3));
        assert_eq!(binned.iter().map(|b| b.1).sum::<i64>(), 30);
        assert_eq!(number(22.0), "22");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(1.0 / 3.0), "0.33");
    }
}
