//! A participant's consents and focus-group places are looked up by participant on
//! every page of theirs. Since migration 17 made the consents' unique index partial
//! (`WHERE amends_id IS NULL`), no index served `participant_id` alone, and the
//! members' index leads with the group: both lookups read the whole table, so each
//! page cost more as a study grew. An index on `participant_id` serves each.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &str); 2] = [
    ("ix_consents_participant", "consents"),
    ("ix_focus_group_members_participant", "focus_group_members"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Alias::new(table))
                        .col(Alias::new("participant_id"))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
