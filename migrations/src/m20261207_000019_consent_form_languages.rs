//! A consent-form version may have one text per language, each drafted and approved
//! on its own: a version number is unique per study and language.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One batch on one connection (see migration 17).
        manager
            .get_connection()
            .execute_unprepared(
                "DROP INDEX ux_consent_forms_study_version; \
                 CREATE UNIQUE INDEX ux_consent_forms_study_version_language ON consent_forms \
                 (study_id, version, language);",
            )
            .await
            .map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP INDEX ux_consent_forms_study_version_language; \
                 CREATE UNIQUE INDEX ux_consent_forms_study_version ON consent_forms \
                 (study_id, version);",
            )
            .await
            .map(|_| ())
    }
}
