//! Consentry: survey and informed-consent management for human research.
//!
//! Dependencies point one way: `web → service → {store, audit} → domain`.

pub mod app;
pub mod assets;
pub mod audit;
pub mod cli;
pub mod config;
pub mod domain;
pub mod error;
pub mod forms;
pub mod keys;
pub mod mail;
pub mod parallel;
pub mod pdf;
pub mod report;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod web;

pub use app::build;

/// mimalloc for every binary that links the library (the server, its tests and
/// benchmarks): a request, a page of audit events or a PDF is thousands of small
/// allocations, and the system allocator spent more time on them under load than
/// the work itself (BENCHMARKS.md). Its `override` feature makes it the C
/// `malloc` too, so the bundled SQLite's allocations, on sqlx's threads, take it
/// as well.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(test)]
mod tests;
