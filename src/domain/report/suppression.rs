//! Small-cell suppression for published outputs (SPEC §8).
//!
//! Every count a published table shows is registered on a [`Sheet`], together with
//! the sums the table also shows (a row's parts and its total, a column's parts
//! and its total). [`Sheet::suppress`] then hides:
//!
//! - **primary**: every non-zero count below `k` (zero is shown: it identifies nobody);
//! - **complementary**: wherever a sum would have exactly one hidden member, so that
//!   the hidden count could be recovered by subtraction, one more member of that sum
//!   — the smallest non-zero visible part, or the total when no such part is left —
//!   until no sum has exactly one hidden member.
//!
//! This is the usual "at least two per row and column" rule. It stops recovery by
//! subtraction along any published sum; like every heuristic of its kind it does not
//! solve the general linear-programming bound problem of large multi-way tables,
//! which a report of a few hundred participants does not publish.

/// A registered count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CellId(usize);

#[derive(Debug, Clone)]
struct Sum {
    parts: Vec<usize>,
    whole: usize,
}

/// Counts and the sums among them that a published table shows.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    values: Vec<i64>,
    /// Figures that count no people (minutes, codes): never hidden, in no sum.
    figures: Vec<bool>,
    sums: Vec<Sum>,
}

impl Sheet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a count the output shows.
    pub fn count(&mut self, value: i64) -> CellId {
        self.values.push(value);
        self.figures.push(false);
        CellId(self.values.len() - 1)
    }

    /// Registers a figure that counts no people (a session's minutes, its new
    /// codes): it identifies nobody, so it is always shown.
    pub fn figure(&mut self, value: i64) -> CellId {
        self.values.push(value);
        self.figures.push(true);
        CellId(self.values.len() - 1)
    }

    /// Says that the output shows `whole` as the total of `parts`, so a reader can
    /// subtract. Registering a sum that does not add up exactly (parts that overlap or
    /// do not cover the whole) is allowed: it only makes suppression more cautious.
    pub fn sum(&mut self, parts: &[CellId], whole: CellId) {
        self.sums.push(Sum { parts: parts.iter().map(|c| c.0).collect(), whole: whole.0 });
    }

    /// Decides which counts to hide with threshold `k` (0: hide nothing).
    pub fn suppress(self, k: u32) -> Suppressed {
        let k = i64::from(k);
        let mut hidden: Vec<bool> = self
            .values
            .iter()
            .zip(&self.figures)
            .map(|(&v, &figure)| !figure && v > 0 && v < k)
            .collect();
        let mut changed = k > 0;
        while changed {
            changed = false;
            for sum in &self.sums {
                let members = sum.parts.iter().chain(std::iter::once(&sum.whole));
                if members.filter(|&&i| hidden[i]).count() != 1 {
                    continue;
                }
                let smallest_part = sum
                    .parts
                    .iter()
                    .copied()
                    .filter(|&i| !hidden[i] && self.values[i] > 0)
                    .min_by_key(|&i| (self.values[i], i));
                let pick = smallest_part
                    .or((!hidden[sum.whole]).then_some(sum.whole))
                    .or_else(|| sum.parts.iter().copied().find(|&i| !hidden[i]));
                if let Some(i) = pick {
                    hidden[i] = true;
                    changed = true;
                }
            }
        }
        Suppressed { values: self.values, hidden, k }
    }
}

/// The counts with the decision of which to hide.
#[derive(Debug, Clone)]
pub struct Suppressed {
    values: Vec<i64>,
    hidden: Vec<bool>,
    k: i64,
}

impl Suppressed {
    pub fn is_hidden(&self, cell: CellId) -> bool {
        self.hidden[cell.0]
    }

    /// The count, or `None` when it is hidden.
    pub fn value(&self, cell: CellId) -> Option<i64> {
        (!self.hidden[cell.0]).then_some(self.values[cell.0])
    }

    /// The count as published: the number, or `<k` when hidden.
    pub fn show(&self, cell: CellId) -> String {
        match self.value(cell) {
            Some(v) => v.to_string(),
            None => format!("<{}", self.k),
        }
    }

    /// How many counts were hidden (for the methods note).
    pub fn hidden_count(&self) -> usize {
        self.hidden.iter().filter(|&&h| h).count()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn small_non_zero_counts_are_hidden_and_zero_is_shown() {
        let mut s = Sheet::new();
        let (zero, three, five) = (s.count(0), s.count(3), s.count(5));
        let out = s.suppress(5);
        assert_eq!(out.show(zero), "0");
        assert_eq!(out.show(three), "<5");
        assert_eq!(out.show(five), "5");
    }

    #[test]
    fn figures_that_count_no_people_are_never_hidden() {
        let mut sheet = Sheet::new();
        let codes = sheet.figure(2);
        let people = sheet.count(2);
        let s = sheet.suppress(5);
        assert_eq!(s.show(codes), "2");
        assert_eq!(s.show(people), "<5");
    }

    #[test]
    fn threshold_zero_turns_suppression_off() {
        let mut s = Sheet::new();
        let (one, total) = (s.count(1), s.count(1));
        s.sum(&[one], total);
        let out = s.suppress(0);
        assert_eq!((out.show(one), out.show(total)), ("1".to_string(), "1".to_string()));
        assert_eq!(out.hidden_count(), 0);
    }

    #[test]
    fn a_hidden_cell_cannot_be_recovered_from_its_row_total() {
        // 14 female, 9 male, 0 other, 23 in all: nothing small, nothing hidden.
        let mut s = Sheet::new();
        let parts = [s.count(14), s.count(9), s.count(0)];
        let total = s.count(23);
        s.sum(&parts, total);
        assert_eq!(s.clone().suppress(5).hidden_count(), 0);
        // 19, 3, 1 of 23: the 3 and the 1 are small; two hidden already protect each other.
        let mut s = Sheet::new();
        let parts = [s.count(19), s.count(3), s.count(1)];
        let total = s.count(23);
        s.sum(&parts, total);
        let out = s.suppress(5);
        assert_eq!(
            parts.map(|p| out.show(p)),
            ["19".to_string(), "<5".to_string(), "<5".to_string()]
        );
        // 12, 8, 3 of 23: the 3 alone would be 23 − 12 − 8, so the 8 goes too.
        let mut s = Sheet::new();
        let parts = [s.count(12), s.count(8), s.count(3)];
        let total = s.count(23);
        s.sum(&parts, total);
        let out = s.suppress(5);
        assert_eq!(
            parts.map(|p| out.show(p)),
            ["12".to_string(), "<5".to_string(), "<5".to_string()]
        );
        assert_eq!(out.show(total), "23");
    }

    #[test]
    fn a_small_total_takes_a_part_with_it() {
        let mut s = Sheet::new();
        let parts = [s.count(0), s.count(3)];
        let total = s.count(3);
        s.sum(&parts, total);
        let out = s.suppress(5);
        assert!(out.is_hidden(parts[1]) && out.is_hidden(total));
        assert_eq!(out.show(parts[0]), "0");
    }

    #[test]
    fn complementary_suppression_crosses_rows_and_columns() {
        // [[3, 10], [12, 20]] with row and column totals: hiding the 3 forces its
        // row neighbour, its column neighbour and then the diagonal.
        let mut s = Sheet::new();
        let c = [[s.count(3), s.count(10)], [s.count(12), s.count(20)]];
        let rows = [s.count(13), s.count(32)];
        let cols = [s.count(15), s.count(30)];
        for i in 0..2 {
            s.sum(&[c[i][0], c[i][1]], rows[i]);
            s.sum(&[c[0][i], c[1][i]], cols[i]);
        }
        let out = s.suppress(5);
        assert!(c.iter().flatten().all(|&cell| out.is_hidden(cell)));
        assert!(rows.iter().chain(&cols).all(|&cell| !out.is_hidden(cell)));
    }

    proptest! {
        #[test]
        fn no_published_sum_leaves_a_single_hidden_cell(
            table in proptest::collection::vec(proptest::collection::vec(0i64..12, 1..5), 1..5),
            k in 0u32..8,
        ) {
            let width = table.iter().map(Vec::len).min().unwrap_or(1);
            let mut s = Sheet::new();
            let cells: Vec<Vec<CellId>> =
                table.iter().map(|row| row[..width].iter().map(|&v| s.count(v)).collect()).collect();
            let mut sums = Vec::new();
            for (r, row) in cells.iter().enumerate() {
                let total = s.count(table[r][..width].iter().sum());
                s.sum(row, total);
                sums.push((row.clone(), total));
            }
            for col in 0..width {
                let parts: Vec<CellId> = cells.iter().map(|row| row[col]).collect();
                let total = s.count(table.iter().map(|row| row[col]).sum());
                s.sum(&parts, total);
                sums.push((parts, total));
            }
            let values = s.values.clone();
            let out = s.suppress(k);
            for (i, v) in values.iter().enumerate() {
                if *v > 0 && *v < i64::from(k) {
                    prop_assert!(out.is_hidden(CellId(i)), "small count {} shown", v);
                }
            }
            for (parts, total) in sums {
                let hidden = parts.iter().chain(std::iter::once(&total)).filter(|&&c| out.is_hidden(c)).count();
                prop_assert!(hidden != 1, "a sum leaves one hidden cell recoverable");
            }
        }
    }
}
