//! HTTP: the only module (with `app.rs` and `main.rs`) that speaks Rocket.

pub mod api;
pub mod assets;
pub mod download;
pub mod errors;
pub mod fairings;
pub mod guards;
pub mod html;
pub mod json;
pub mod ops;
