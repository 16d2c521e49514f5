//! The report area's rules: the figures a study's answers give (`figures`),
//! small-cell suppression (`suppression`), the published tables (`publish`), the
//! answers export and codebook (`export`) and the R and SPSS syntax that read it
//! (`syntax`).

pub mod export;
pub mod figures;
pub mod publish;
pub mod suppression;
pub mod syntax;
