//! PDFs from domain data (no database, no HTTP): the signed consent record, the ad
//! poster and the study report. Text is set in DejaVu Sans, embedded, so any name and
//! punctuation render.

pub mod consent;
mod deflate;
mod layout;
pub mod pack;
pub mod poster;
pub mod report;

pub use layout::can_print;
