//! Consent in the JSON API: consent-form versions (`form`), the participant signing
//! and withdrawing (`signing`), the staff register (`register`) and what optional
//! items govern (`choices`).

pub mod choices;
pub mod form;
pub mod register;
pub mod signing;
