//! Lookups that read whole tables. A participant's consents and focus-group places
//! are looked up by participant on every page of theirs. Since migration 17 made the
//! consents' unique index partial (`WHERE amends_id IS NULL`), no index served
//! `participant_id` alone, and the members' index leads with the group. So both
//! lookups read the whole table, and each page cost more as a study grew. On the
//! staff side, a study's consent register, report and conflicts read every study's
//! rows. An index on the column looked up serves each.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Name, table and the column indexed.
const INDEXES: [(&str, &str, &str); 5] = [
    ("ix_consents_participant", "consents", "participant_id"),
    ("ix_focus_group_members_participant", "focus_group_members", "participant_id"),
    ("ix_consents_study", "consents", "study_id"),
    ("ix_responses_study", "responses", "study_id"),
    ("ix_facilitator_conflicts_study", "facilitator_conflicts", "study_id"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, column) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Alias::new(table))
                        .col(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
