//! The consent area's tables: consent-form versions, signed consent records (with
//! their PDFs), the identity-check codes asked before signing and the answers to
//! a version's knowledge-review questions.

pub mod form;
pub mod identity;
pub mod record;
pub mod review;
