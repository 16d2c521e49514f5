//! Signing in: staff tokens and browser sessions, and the throttle counts.

pub mod throttle;
pub mod token;
