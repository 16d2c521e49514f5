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
    fn percentages_round_to_one_decimal() {
        assert_eq!(percent(14, 23), 60.9);
        assert_eq!(percent(0, 0), 0.0);
        assert_eq!(percent(23, 23), 100.0);
    }
}
