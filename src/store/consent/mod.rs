//! The consent area's tables: consent-form versions, signed consent records (with
//! their PDFs), and the identity-check codes asked before signing.

pub mod form;
pub mod identity;
pub mod record;
