//! The study report (SPEC §8) as the coordinator's JSON: enrolment funnel, ads,
//! strata and per-question statistics, all counted by the database in one snapshot.
//! Answers of participants who withdrew with their data are excluded everywhere.

use std::collections::BTreeMap;

use std::sync::Arc;

use chrono::Utc;

use super::AppState;
use crate::domain::consent::ItemDecision;
use crate::domain::questionnaire::{FormDefinition, Instrument, Question, QuestionType, Stage};
use crate::domain::report::export::number_cell;
use crate::domain::report::figures::{
    AdRow, CrossTab, Enrolment, Excluded, Group, InstrumentSummary, QuestionStats, Report,
    StratumRow, percent, quantile,
};
use crate::domain::report::publish::{Published, publish};
use crate::domain::study::Study;
use crate::domain::user::User;
use crate::error::{AppError, AppResult};
use crate::service::{access, consent};
use crate::store::recruitment::By;
use crate::store::report::GroupValue;
use crate::store::{self, Conn};

/// The report for a study's coordinators (and admins); 403 for other staff. With
/// `by`, every question's statistics are also given within each group of
/// respondents to that screening question.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn report(
    state: &AppState,
    user: &User,
    slug: &str,
    by: Option<&str>,
) -> AppResult<Report> {
    let snapshot = state.db.begin_snapshot().await?;
    let db = snapshot.conn();
    let study = access::coordinated(db, user, slug).await?;
    let report = compute(state, db, &study, by).await?;
    snapshot.finish().await?;
    Ok(report)
}

/// The report computed over `db` (one snapshot), for a caller already authorised.
pub(crate) async fn compute(
    state: &AppState,
    db: &impl Conn,
    study: &Study,
    by: Option<&str>,
) -> AppResult<Report> {
    let forms = forms(state, db, study.id).await?;
    compute_with(db, study, &forms, by).await
}

/// Every questionnaire attached to the study with its definition.
async fn forms(
    state: &AppState,
    db: &impl Conn,
    study_id: i64,
) -> AppResult<Vec<(Instrument, Arc<FormDefinition>)>> {
    let mut forms = Vec::new();
    for instrument in store::questionnaire::instruments(db, study_id).await? {
        let definition = super::questionnaire::definition_of(state, db, &instrument).await?;
        forms.push((instrument, definition));
    }
    Ok(forms)
}

/// The report over forms already loaded.
async fn compute_with(
    db: &impl Conn,
    study: &Study,
    forms: &[(Instrument, Arc<FormDefinition>)],
    by: Option<&str>,
) -> AppResult<Report> {
    let ads = store::recruitment::ads_of(db, study.id).await?;
    let ad_funnel = store::recruitment::funnel(db, study.id, By::Ad).await?;
    let by_ad: Vec<AdRow> = ads
        .iter()
        .map(|a| {
            let f = ad_funnel.get(&a.id).copied().unwrap_or_default();
            AdRow {
                code: a.code.clone(),
                channel: a.channel.as_str(),
                views: a.views,
                screened: f.screened,
                eligible: f.eligible,
                consented: f.consented,
            }
        })
        .collect();
    let mut channels: BTreeMap<&'static str, AdRow> = BTreeMap::new();
    for row in &by_ad {
        let c = channels.entry(row.channel).or_insert_with(|| AdRow {
            code: String::new(),
            channel: row.channel,
            views: 0,
            screened: 0,
            eligible: 0,
            consented: 0,
        });
        c.views += row.views;
        c.screened += row.screened;
        c.eligible += row.eligible;
        c.consented += row.consented;
    }
    let strata_funnel = store::recruitment::funnel(db, study.id, By::Stratum).await?;
    let strata = store::recruitment::strata_of(db, study.id)
        .await?
        .into_iter()
        .map(|s| {
            let f = strata_funnel.get(&s.id).copied().unwrap_or_default();
            StratumRow {
                question: s.question_key,
                value: s.value,
                target: s.target,
                cap: s.cap,
                screened: f.screened,
                eligible: f.eligible,
                consented: f.consented,
            }
        })
        .collect();
    let (consented, withdrawn) = store::report::consented_and_withdrawn(db, study.id).await?;
    let (focus_groups, scheduled, attended) = super::focus_group::figures(db, study.id).await?;
    let enrolment = Enrolment {
        ads_viewed: by_ad.iter().map(|a| a.views).sum(),
        screened: by_ad.iter().map(|a| a.screened).sum(),
        eligible: by_ad.iter().map(|a| a.eligible).sum(),
        consented,
        withdrawn,
        scheduled,
        attended,
    };

    let crosstab = match by {
        Some(key) => Some(crosstab(db, study.id, forms, key).await?),
        None => None,
    };
    let (questions, respondents) = statistics(db, study.id, forms, None).await?;
    let mut instruments = Vec::new();
    let mut question_order = BTreeMap::new();
    for (instrument, definition) in forms {
        let total = respondents.get(&instrument.key).copied().unwrap_or(0);
        question_order.insert(
            instrument.key.clone(),
            definition.questions.iter().map(|q| q.key.clone()).collect(),
        );
        instruments.push(InstrumentSummary {
            key: instrument.key.clone(),
            title: definition.title.clone(),
            version: instrument.version,
            stage: instrument.stage.as_str(),
            respondents: total,
        });
    }
    let excluded = Excluded {
        withdrawn_with_data: store::report::withdrawn_with_data(db, study.id).await?,
        reason: "withdrew from the study with their data: their answers are left out of every figure computed from answers",
    };
    Ok(Report {
        study: study.slug.clone(),
        title: study.title.clone(),
        summary: study.summary.clone(),
        ethics_committee: study.ethics.committee.clone(),
        ethics_reference: study.ethics.reference.clone(),
        generated_at: crate::domain::audit::format_at(&Utc::now()),
        enrolment,
        by_ad,
        by_channel: channels.into_values().collect(),
        strata,
        questions,
        respondents,
        instruments,
        question_order,
        crosstab,
        excluded,
        focus_groups,
        understanding: consent::first_try_rates(db, study.id).await?,
        suppressed_below: study.suppress_below,
    })
}

/// Whether a report can be broken down by the answers to this screening question.
fn groupable(q: &Question) -> bool {
    matches!(q.kind, QuestionType::SingleChoice | QuestionType::YesNo | QuestionType::Integer)
}

/// The screening questions a report over `forms` can be broken down by
/// (`?by=`), as `(key, label)`.
fn groupable_questions(forms: &[(Instrument, Arc<FormDefinition>)]) -> Vec<(String, String)> {
    forms
        .iter()
        .filter(|(i, _)| i.stage == Stage::Screening)
        .flat_map(|(_, d)| d.questions.iter().filter(|q| groupable(q)))
        .map(|q| (q.key.clone(), q.label.clone()))
        .collect()
}

/// What the coordinator's report page shows, read in one snapshot: the study, the
/// published report, the questions it can be broken down by, and each table's
/// chart as SVG (`charts[section][table]`).
pub struct Page {
    pub study: Study,
    pub published: Published,
    pub by_options: Vec<(String, String)>,
    pub charts: Vec<Vec<Option<String>>>,
}

#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn page(state: &AppState, user: &User, slug: &str, by: Option<&str>) -> AppResult<Page> {
    let snapshot = state.db.begin_snapshot().await?;
    let db = snapshot.conn();
    let study = access::coordinated(db, user, slug).await?;
    let forms = forms(state, db, study.id).await?;
    let report = compute_with(db, &study, &forms, by).await?;
    snapshot.finish().await?;
    let published = publish(&report, report.suppressed_below);
    let mut charts = Vec::new();
    for section in &published.sections {
        let mut row = Vec::new();
        for table in &section.tables {
            row.push(match &table.chart {
                Some(chart) => Some(crate::report::charts::svg(chart)?),
                None => None,
            });
        }
        charts.push(row);
    }
    Ok(Page { study, published, by_options: groupable_questions(&forms), charts })
}

/// The groups of `?by=KEY`: one per possible answer to that question of the
/// screening questionnaire (choices, yes/no, or the whole numbers given).
async fn crosstab(
    db: &impl Conn,
    study_id: i64,
    forms: &[(Instrument, Arc<FormDefinition>)],
    key: &str,
) -> AppResult<CrossTab> {
    let screening = forms.iter().find(|(i, _)| i.stage == Stage::Screening);
    let groupable = |q: &&Question| groupable(q);
    let found = screening.and_then(|(i, d)| d.question(key).filter(groupable).map(|q| (i, q)));
    let Some((instrument, question)) = found else {
        let offered: Vec<String> = groupable_questions(forms).into_iter().map(|(k, _)| k).collect();
        let message = if offered.is_empty() {
            "The study has no screening question to group by.".to_string()
        } else {
            format!("Group by one of the screening questions: {}.", offered.join(", "))
        };
        return Err(AppError::field("by", "unknown_question", message));
    };
    let values: Vec<(GroupValue, String, String)> = match question.kind {
        QuestionType::YesNo => vec![
            (GroupValue::Flag(true), "yes".into(), "Yes".into()),
            (GroupValue::Flag(false), "no".into(), "No".into()),
        ],
        QuestionType::Integer => {
            let mut numbers: Vec<f64> = store::report::value_groups(db, study_id, None)
                .await?
                .into_iter()
                .filter(|g| g.instrument_id == instrument.id && g.question_key == key)
                .filter_map(|g| g.number)
                .collect();
            numbers.sort_by(f64::total_cmp);
            numbers
                .into_iter()
                .map(|v| (GroupValue::Number(v), number_cell(v), number_cell(v)))
                .collect()
        }
        _ => question
            .choices
            .iter()
            .map(|c| (GroupValue::Choice(c.value.clone()), c.value.clone(), c.label.clone()))
            .collect(),
    };
    let mut groups = Vec::new();
    for (value, shown, label) in values {
        let filter = store::report::Group {
            instrument_id: instrument.id,
            question_key: key.to_string(),
            value,
        };
        let (questions, respondents) = statistics(db, study_id, forms, Some(&filter)).await?;
        groups.push(Group { value: shown, label, respondents, questions });
    }
    Ok(CrossTab { question: key.to_string(), label: question.label.clone(), groups })
}

/// Questionnaire key → question key → statistics, and questionnaire key → respondents.
type Statistics = (BTreeMap<String, BTreeMap<String, QuestionStats>>, BTreeMap<String, i64>);

/// Every questionnaire's statistics and respondents, from two aggregate queries over
/// the whole study.
async fn statistics(
    db: &impl Conn,
    study_id: i64,
    forms: &[(Instrument, Arc<FormDefinition>)],
    group: Option<&store::report::Group>,
) -> AppResult<Statistics> {
    let totals: BTreeMap<i64, i64> =
        store::report::respondents(db, study_id, group).await?.into_iter().collect();
    let mut by_instrument: BTreeMap<i64, Vec<store::report::ValueGroup>> = BTreeMap::new();
    for g in store::report::value_groups(db, study_id, group).await? {
        by_instrument.entry(g.instrument_id).or_default().push(g);
    }
    let mut questions = BTreeMap::new();
    let mut respondents = BTreeMap::new();
    for (instrument, definition) in forms {
        let total = totals.get(&instrument.id).copied().unwrap_or(0);
        let groups = by_instrument.remove(&instrument.id).unwrap_or_default();
        questions.insert(instrument.key.clone(), instrument_stats(definition, groups, total));
        respondents.insert(instrument.key.clone(), total);
    }
    Ok((questions, respondents))
}

/// One questionnaire's statistics from its grouped answers.
fn instrument_stats(
    definition: &FormDefinition,
    groups: Vec<store::report::ValueGroup>,
    total: i64,
) -> BTreeMap<String, QuestionStats> {
    let mut answered: BTreeMap<String, i64> = BTreeMap::new();
    let mut values: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    let mut distributions: BTreeMap<String, Vec<(f64, i64)>> = BTreeMap::new();
    for g in groups {
        *answered.entry(g.question_key.clone()).or_default() += g.first_rows;
        match (g.choice, g.flag, g.number) {
            (Some(choice), _, _) => {
                values.entry(g.question_key).or_default().insert(choice, g.rows);
            }
            (None, Some(flag), _) => {
                let value = if flag { "yes" } else { "no" };
                values.entry(g.question_key).or_default().insert(value.into(), g.rows);
            }
            (None, None, Some(number)) => {
                distributions.entry(g.question_key).or_default().push((number, g.rows));
            }
            (None, None, None) => {}
        }
    }
    let mut out = BTreeMap::new();
    for q in &definition.questions {
        let n = answered.get(&q.key).copied().unwrap_or(0);
        let mut stats = QuestionStats::new(q.kind.as_str(), &q.label, n, total);
        match q.kind {
            QuestionType::SingleChoice | QuestionType::MultiChoice | QuestionType::YesNo => {
                let found = values.remove(&q.key).unwrap_or_default();
                stats.choices = if q.kind == QuestionType::YesNo {
                    vec![("yes".into(), "Yes".into()), ("no".into(), "No".into())]
                } else {
                    q.choices.iter().map(|c| (c.value.clone(), c.label.clone())).collect()
                };
                for (value, _) in &stats.choices {
                    let count = found.get(value).copied().unwrap_or(0);
                    stats.percent.insert(value.clone(), percent(count, n));
                    stats.counts.insert(value.clone(), count);
                }
            }
            QuestionType::Integer | QuestionType::Number | QuestionType::Scale => {
                let mut distribution = distributions.remove(&q.key).unwrap_or_default();
                distribution.sort_by(|a, b| a.0.total_cmp(&b.0));
                let count: i64 = distribution.iter().map(|(_, c)| c).sum();
                if count > 0 {
                    let sum: f64 = distribution.iter().map(|(v, c)| v * *c as f64).sum();
                    stats.mean = Some((sum / count as f64 * 100.0).round() / 100.0);
                    stats.q1 = quantile(&distribution, 0.25);
                    stats.median = quantile(&distribution, 0.5);
                    stats.q3 = quantile(&distribution, 0.75);
                    stats.min = distribution.first().map(|(v, _)| *v);
                    stats.max = distribution.last().map(|(v, _)| *v);
                }
                stats.distribution = distribution;
            }
            _ => {}
        }
        out.insert(q.key.clone(), stats);
    }
    out
}

/// Which export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    /// One row per participant code whose answers count.
    Answers,
    /// Every column of the export with its question, type, values and labels.
    Codebook,
    /// `export.R`: R code that reads `export.csv` with its labels.
    R,
    /// `export.sps`: SPSS syntax that reads `export.csv` with its labels.
    Spss,
}

impl Export {
    pub fn file_name(self) -> &'static str {
        match self {
            Export::Answers => "export.csv",
            Export::Codebook => "codebook.csv",
            Export::R => "export.R",
            Export::Spss => "export.sps",
        }
    }
}

/// `export.csv`, `codebook.csv`, `export.R` or `export.sps` for the study's
/// coordinators; every export is audited.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn export(state: &AppState, user: &User, slug: &str, which: Export) -> AppResult<String> {
    use crate::domain::report::export::{
        ExportAnswer, answer_lines, codebook_lines, columns, consent_columns, exported_codes,
        write_csv,
    };
    let tx = state.db.begin_write().await?;
    let study = access::coordinated(tx.conn(), user, slug).await?;
    let instruments = store::questionnaire::instruments(tx.conn(), study.id).await?;
    let mut definitions = Vec::new();
    for i in &instruments {
        definitions.push(super::questionnaire::definition_of(state, tx.conn(), i).await?);
    }
    let governed = consent::choices::governed(tx.conn(), study.id).await?;
    let mut cols = consent_columns(&governed, study.declined_data_sharing);
    cols.extend(columns(&definitions.iter().map(|d| d.as_ref()).collect::<Vec<_>>()));
    let origin = crate::domain::report::syntax::Origin {
        study: &study.slug,
        title: &study.title,
        generated_at: &crate::domain::audit::format_at(&Utc::now()),
    };
    let syntax = match which {
        Export::R => Some(crate::domain::report::syntax::r(&origin, &cols)),
        Export::Spss => Some(crate::domain::report::syntax::spss(&origin, &cols)),
        Export::Answers | Export::Codebook => None,
    };
    let (lines, rows) = match which {
        Export::R | Export::Spss => (Vec::new(), cols.len()),
        Export::Codebook => (codebook_lines(&cols), cols.len()),
        Export::Answers => {
            let choices: BTreeMap<String, Vec<ItemDecision>> =
                consent::choices::latest_records(tx.conn(), study.id)
                    .await?
                    .into_values()
                    .map(|r| (r.participant_code, r.items))
                    .collect();
            let codes = store::report::counted_codes(tx.conn(), study.id).await?;
            let codes = exported_codes(codes, &choices, study.declined_data_sharing);
            let answers: Vec<ExportAnswer> = store::report::export_rows(tx.conn(), study.id)
                .await?
                .into_iter()
                .filter_map(|(code, instrument_id, question, choice, text, number, flag)| {
                    let i = instruments.iter().find(|i| i.id == instrument_id)?;
                    Some(ExportAnswer {
                        code,
                        instrument: i.key.clone(),
                        version: i.version,
                        question,
                        choice,
                        text,
                        number,
                        flag,
                    })
                })
                .collect();
            (answer_lines(&cols, &codes, &answers, &choices), codes.len())
        }
    };
    let out = match syntax {
        Some(text) => text,
        None => write_csv(&lines)?,
    };
    audit_export(tx.conn(), &user.actor(), &study, which.file_name(), rows, out.as_bytes()).await?;
    tx.commit().await?;
    Ok(out)
}

/// A published output of the report, suppression applied (SPEC §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// `report.csv`: every published figure in long form.
    Csv,
    /// `report.pdf`: title page, methods, tables and charts.
    Pdf,
}

impl Output {
    pub fn file_name(self) -> &'static str {
        match self {
            Output::Csv => "report.csv",
            Output::Pdf => "report.pdf",
        }
    }
}

/// The report as its coordinators publish it, for the report page; not an export, so
/// not audited.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn published(
    state: &AppState,
    user: &User,
    slug: &str,
    by: Option<&str>,
) -> AppResult<Published> {
    let report = report(state, user, slug, by).await?;
    Ok(publish(&report, report.suppressed_below))
}

/// `report.csv` or `report.pdf` for the study's coordinators, audited as an export.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn output(
    state: &AppState,
    user: &User,
    slug: &str,
    by: Option<&str>,
    format: Output,
) -> AppResult<Vec<u8>> {
    let tx = state.db.begin_write().await?;
    let study = access::coordinated(tx.conn(), user, slug).await?;
    let bytes = render(state, tx.conn(), &study, by, format, &user.actor()).await?;
    tx.commit().await?;
    Ok(bytes)
}

/// The report of a study from the command line (`consentry report`), audited as an
/// export by `cli`. `None` renders the coordinator's JSON.
#[tracing::instrument(skip_all, fields(study = %slug))]
pub async fn offline(
    state: &AppState,
    slug: &str,
    by: Option<&str>,
    format: Option<Output>,
) -> AppResult<Vec<u8>> {
    let tx = state.db.begin_write().await?;
    let study = store::study::find_by_slug(tx.conn(), slug).await?.ok_or(AppError::NotFound)?;
    let actor = super::Actor::Cli.audit_name();
    let bytes = match format {
        Some(format) => render(state, tx.conn(), &study, by, format, &actor).await?,
        None => {
            let report = compute(state, tx.conn(), &study, by).await?;
            let json = serde_json::to_vec_pretty(&report)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            audit_export(tx.conn(), &actor, &study, "report.json", 1, &json).await?;
            json
        }
    };
    tx.commit().await?;
    Ok(bytes)
}

async fn render(
    state: &AppState,
    db: &impl Conn,
    study: &Study,
    by: Option<&str>,
    format: Output,
    actor: &str,
) -> AppResult<Vec<u8>> {
    let report = compute(state, db, study, by).await?;
    let published = publish(&report, study.suppress_below);
    let bytes = match format {
        Output::Csv => published.to_csv()?.into_bytes(),
        Output::Pdf => crate::pdf::report::render(&published)?,
    };
    let figures = published.sections.iter().flat_map(|s| &s.tables).map(|t| t.rows.len()).sum();
    audit_export(db, actor, study, format.file_name(), figures, &bytes).await?;
    Ok(bytes)
}

async fn audit_export(
    db: &impl Conn,
    actor: &str,
    study: &Study,
    format: &str,
    rows: usize,
    bytes: &[u8],
) -> AppResult<()> {
    crate::audit::record(
        db,
        crate::domain::audit::NewEvent::new(actor, "report.exported", "study", study.id)
            .in_study(&study.slug)
            .with(serde_json::json!({
                "format": format,
                "rows": rows,
                "sha256": crate::domain::audit::sha256_hex(bytes),
            })),
    )
    .await
    .map(|_| ())
}
