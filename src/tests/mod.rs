//! In-crate integration tests: one test binary. Every test that touches the
//! database runs on SQLite and again on PostgreSQL when
//! `CONSENTRY_TEST_DATABASE_URL` is set (see `helpers::db_test!`).

#[macro_use]
mod helpers;

mod api_auth;
mod api_consent_forms;
mod api_studies;
mod approvals;
mod audit_chain;
mod audit_tamper;
mod consent_choices;
mod consent_flow;
mod consent_languages;
mod coordinator_console;
mod demo;
mod errors_and_ops;
mod ethics_console;
mod faults;
mod focus_group;
mod front_door;
mod html_pages;
mod identity_check;
mod instances;
mod knowledge_review;
mod layering;
mod mail;
mod participant_pages;
mod participant_traps;
mod questionnaire;
mod reads;
mod recruitment;
mod report;
