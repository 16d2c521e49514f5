//! Consentry's schema, one file per migration. A migration is never edited once it
//! has landed: change the schema with a new file. Every migration runs on SQLite and
//! PostgreSQL alike (SeaQuery builders; raw SQL only for triggers, per backend).

pub use sea_orm_migration::prelude::*;

mod common;
mod m20261125_000001_foundation;
mod m20261125_000002_consent_forms;
mod m20261125_000003_participants_and_consents;
mod m20261125_000004_outbox;
mod m20261125_000005_identity_check;
mod m20261125_000006_questionnaires;
mod m20261125_000007_recruitment;
mod m20261125_000008_reminders;
mod m20261125_000009_suppression;
mod m20261201_000010_answer_first_rows;
mod m20261201_000011_focus_groups;
mod m20261204_000012_front_door;
mod m20261204_000013_writer_probe;
mod m20261204_000014_approvals;
mod m20261206_000015_complaints_contact;
mod m20261207_000016_declined_data_sharing;
mod m20261207_000017_consent_amendments;
mod m20261207_000018_knowledge_review;
mod m20261207_000019_consent_form_languages;
mod m20261207_000020_review_reopenings;
mod m20261207_000021_lookup_indexes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_foundation::Migration),
            Box::new(m20261125_000002_consent_forms::Migration),
            Box::new(m20261125_000003_participants_and_consents::Migration),
            Box::new(m20261125_000004_outbox::Migration),
            Box::new(m20261125_000005_identity_check::Migration),
            Box::new(m20261125_000006_questionnaires::Migration),
            Box::new(m20261125_000007_recruitment::Migration),
            Box::new(m20261125_000008_reminders::Migration),
            Box::new(m20261125_000009_suppression::Migration),
            Box::new(m20261201_000010_answer_first_rows::Migration),
            Box::new(m20261201_000011_focus_groups::Migration),
            Box::new(m20261204_000012_front_door::Migration),
            Box::new(m20261204_000013_writer_probe::Migration),
            Box::new(m20261204_000014_approvals::Migration),
            Box::new(m20261206_000015_complaints_contact::Migration),
            Box::new(m20261207_000016_declined_data_sharing::Migration),
            Box::new(m20261207_000017_consent_amendments::Migration),
            Box::new(m20261207_000018_knowledge_review::Migration),
            Box::new(m20261207_000019_consent_form_languages::Migration),
            Box::new(m20261207_000020_review_reopenings::Migration),
            Box::new(m20261207_000021_lookup_indexes::Migration),
        ]
    }
}
