//! Pure rules and types. Nothing here touches the database, HTTP, PDFs or templates
//! (the layering test in `src/tests/layering.rs` keeps it so); most unit tests live here.

pub mod audit;
pub mod consent;
pub mod fields;
pub mod focus_group;
pub mod mail;
pub mod participant;
pub mod policy;
pub mod questionnaire;
pub mod recruitment;
pub mod report;
pub mod study;
pub mod user;

pub use fields::FieldErrors;
