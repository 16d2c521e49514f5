//! The audit pack's one-page summary.

use super::layout::{Layout, Weight};
use crate::error::AppResult;

/// A page titled for `chain` listing `lines` (label, value).
pub fn summary(chain: &str, lines: &[(&str, &str)]) -> AppResult<Vec<u8>> {
    let mut l = Layout::new(&format!("Audit pack — {chain}"), &format!("Audit pack · {chain}"))?;
    l.paragraph("Audit pack", 18.0, Weight::Bold, 0.0);
    l.gap(2.0);
    for (label, value) in lines {
        l.field(label, value);
    }
    l.rule();
    l.paragraph(
        "VERIFY.md in this pack says how to check it, with Consentry or by hand, using the \
         public key the ethics office holds.",
        9.0,
        Weight::Regular,
        0.0,
    );
    l.finish()
}
