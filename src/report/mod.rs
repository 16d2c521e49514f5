//! Charts of the published report, drawn from domain data: each [`Chart`] as an SVG
//! horizontal bar chart (plotters' SVG backend) for the coordinator's report page.
//! The PDF draws the same bars natively ([`crate::pdf::report`]).
//!
//! [`Chart`]: crate::domain::report::publish::Chart

pub mod charts;
