//! Consent in the JSON API: consent-form versions (`form`), the participant signing
//! and withdrawing (`signing`), and the staff register (`register`).

pub mod form;
pub mod register;
pub mod signing;
