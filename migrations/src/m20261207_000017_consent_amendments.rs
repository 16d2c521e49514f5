//! A participant may change their optional choices: a new consent row that amends
//! the latest one, for the same consent-form version. The rule "one consent per
//! participant and version" now holds for consents as first given only; each
//! consent is amended at most once, so two changes sent at once cannot both amend
//! the same record.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One batch on one connection: on SQLite another pooled connection could
        // still read the schema from before the column was added or the index dropped.
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE consents ADD COLUMN amends_id BIGINT NULL; \
                 DROP INDEX ux_consents_participant_form; \
                 CREATE UNIQUE INDEX ux_consents_participant_form ON consents \
                 (participant_id, consent_form_id) WHERE amends_id IS NULL; \
                 CREATE UNIQUE INDEX ux_consents_amends ON consents (amends_id) \
                 WHERE amends_id IS NOT NULL;",
            )
            .await
            .map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP INDEX ux_consents_amends; \
                 DROP INDEX ux_consents_participant_form; \
                 DELETE FROM consents WHERE amends_id IS NOT NULL; \
                 CREATE UNIQUE INDEX ux_consents_participant_form ON consents \
                 (participant_id, consent_form_id); \
                 ALTER TABLE consents DROP COLUMN amends_id;",
            )
            .await
            .map(|_| ())
    }
}
