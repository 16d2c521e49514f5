//! Report arithmetic that does not need the database: quantile positions (the
//! database returns the values at those positions) and percentages of respondents.

use std::collections::BTreeMap;

use serde::Serialize;

/// Where the `p` quantile of `n` sorted values lies (linear interpolation between
/// closest ranks, as R's default type 7): the 0-based index of the lower value and
/// the fraction of the way to the next one.
pub fn quantile_position(n: u64, p: f64) -> (u64, f64) {
    if n == 0 {
        return (0, 0.0);
    }
    let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
    let lower = h.floor();
    (lower as u64, h - lower)
}

/// The quantile from the value at the lower position and the one after it.
pub fn interpolate(lower: f64, upper: Option<f64>, fraction: f64) -> f64 {
    match upper {
        Some(u) if fraction > 0.0 => lower + (u - lower) * fraction,
        _ => lower,
    }
}

/// The `p` quantile (R's type 7) of the values of a frequency table, sorted by
/// value: `(value, how many)`. `None` when the table is empty.
pub fn quantile(distribution: &[(f64, i64)], p: f64) -> Option<f64> {
    let n: i64 = distribution.iter().map(|(_, c)| (*c).max(0)).sum();
    let (index, fraction) = quantile_position(u64::try_from(n).ok()?, p);
    let at = |i: u64| {
        let mut seen = 0u64;
        distribution.iter().find_map(|(v, c)| {
            seen += u64::try_from(*c).unwrap_or(0);
            (seen > i).then_some(*v)
        })
    };
    at(index).map(|lower| interpolate(lower, at(index + 1), fraction))
}

/// A percentage with one decimal.
pub fn percent(count: i64, of: i64) -> f64 {
    if of <= 0 { 0.0 } else { (count as f64 * 1000.0 / of as f64).round() / 10.0 }
}

/// One question's statistics: counts for choices and yes/no (multi_choice counts
/// respondents who chose each value), a numeric summary for numbers and scales,
/// answered/skipped for everything.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuestionStats {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub label: String,
    /// Respondents who answered this question.
    pub n: i64,
    /// Respondents who completed the questionnaire but left this question out (or were not asked it).
    pub skipped: i64,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub counts: BTreeMap<String, i64>,
    /// Percentage of the `n` respondents per value.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub percent: BTreeMap<String, f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q1: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q3: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// The values in the form's order with their labels (choices; yes/no).
    #[serde(skip)]
    pub choices: Vec<(String, String)>,
    /// Numeric answers as (value, respondents), lowest first, for distributions.
    #[serde(skip)]
    pub distribution: Vec<(f64, i64)>,
}

impl QuestionStats {
    /// Empty statistics for a question of `kind` answered by `n` of `respondents`.
    pub fn new(kind: &'static str, label: &str, n: i64, respondents: i64) -> Self {
        QuestionStats {
            kind,
            label: label.to_string(),
            n,
            skipped: (respondents - n).max(0),
            counts: BTreeMap::new(),
            percent: BTreeMap::new(),
            mean: None,
            median: None,
            q1: None,
            q3: None,
            min: None,
            max: None,
            choices: Vec::new(),
            distribution: Vec::new(),
        }
    }

    /// Whether the question is summarised by counts per value.
    pub fn is_categorical(&self) -> bool {
        !self.choices.is_empty()
    }

    /// Whether the question is summarised by a numeric summary.
    pub fn is_numeric(&self) -> bool {
        matches!(self.kind, "integer" | "number" | "scale")
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Enrolment {
    pub ads_viewed: i64,
    pub screened: i64,
    pub eligible: i64,
    pub consented: i64,
    pub withdrawn: i64,
    /// Focus-group scheduling is not part of Consentry yet: always 0.
    pub scheduled: i64,
    pub attended: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AdRow {
    pub code: String,
    pub channel: &'static str,
    pub views: i64,
    pub screened: i64,
    pub eligible: i64,
    pub consented: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StratumRow {
    pub question: String,
    pub value: String,
    pub target: i32,
    pub cap: Option<i32>,
    pub screened: i64,
    pub eligible: i64,
    pub consented: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Excluded {
    pub withdrawn_with_data: i64,
    pub reason: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FocusGroups {
    pub count: i64,
    pub members: i64,
    pub attended: i64,
    pub minutes: Vec<i64>,
    pub new_codes: Vec<i64>,
}

/// A questionnaire the study uses, as the report names it.
#[derive(Debug, Clone, Serialize)]
pub struct InstrumentSummary {
    pub key: String,
    pub title: String,
    pub version: u32,
    pub stage: &'static str,
    pub respondents: i64,
}

/// The statistics again within each group of respondents to one screening
/// question (`?by=entry_pathway`).
#[derive(Debug, Clone, Serialize)]
pub struct CrossTab {
    /// The screening question the groups come from.
    pub question: String,
    pub label: String,
    pub groups: Vec<Group>,
}

/// One group of a cross-tab: everyone who gave `value` to the screening question.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub value: String,
    pub label: String,
    /// Respondents per questionnaire in this group.
    pub respondents: BTreeMap<String, i64>,
    /// Questionnaire key → question key → statistics within the group.
    pub questions: BTreeMap<String, BTreeMap<String, QuestionStats>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub study: String,
    pub title: String,
    pub summary: String,
    pub ethics_committee: String,
    pub ethics_reference: String,
    pub generated_at: String,
    pub enrolment: Enrolment,
    pub by_ad: Vec<AdRow>,
    pub by_channel: Vec<AdRow>,
    pub strata: Vec<StratumRow>,
    /// instrument key → question key → statistics.
    pub questions: BTreeMap<String, BTreeMap<String, QuestionStats>>,
    /// Respondents (complete responses that count) per instrument.
    pub respondents: BTreeMap<String, i64>,
    /// The questionnaires in the order the study uses them.
    pub instruments: Vec<InstrumentSummary>,
    /// Question keys per questionnaire in the form's order.
    pub question_order: BTreeMap<String, Vec<String>>,
    /// Present when the report was asked for `?by=`.
    #[serde(rename = "by", skip_serializing_if = "Option::is_none")]
    pub crosstab: Option<CrossTab>,
    pub excluded: Excluded,
    pub focus_groups: FocusGroups,
    /// Per consent-form version with knowledge-review questions: how many answered
    /// each question and how many were right the first time.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub understanding: Vec<crate::domain::consent::review::VersionRates>,
    /// Published outputs show non-zero counts below this as `<k`; this JSON is raw.
    pub suppressed_below: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quantile(values: &[f64], p: f64) -> f64 {
        let (i, f) = quantile_position(values.len() as u64, p);
        interpolate(values[i as usize], values.get(i as usize + 1).copied(), f)
    }

    #[test]
    fn quantiles_match_r_type_7() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert_eq!(quantile(&v, 0.25), 1.75);
        assert_eq!(quantile(&v, 0.75), 3.25);
        assert_eq!(quantile(&[7.0], 0.5), 7.0);
        assert_eq!(quantile(&[1.0, 2.0, 10.0], 0.5), 2.0);
        assert_eq!(quantile_position(0, 0.5), (0, 0.0));
    }

    #[test]
    fn quantiles_of_a_frequency_table_match_the_values_spelt_out() {
        let table = [(1.0, 2), (2.0, 1), (10.0, 3)];
        let spelt: Vec<f64> =
            table.iter().flat_map(|(v, c)| std::iter::repeat_n(*v, *c as usize)).collect();
        for p in [0.0, 0.25, 0.5, 0.75, 1.0] {
            assert_eq!(super::quantile(&table, p), Some(quantile(&spelt, p)), "p = {p}");
        }
        assert_eq!(super::quantile(&[], 0.5), None);
        assert_eq!(super::quantile(&[(7.0, 1)], 0.75), Some(7.0));
    }

    #[test]
    fn percentages_round_to_one_decimal() {
        assert_eq!(percent(14, 23), 60.9);
        assert_eq!(percent(0, 0), 0.0);
        assert_eq!(percent(23, 23), 100.0);
    }
}
