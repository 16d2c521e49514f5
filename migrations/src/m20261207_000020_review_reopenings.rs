//! A participant who used every try on a knowledge-review question talks to the
//! researchers; a coordinator then allows new tries: the answers given until then
//! (`last_attempt_id`) no longer count towards the limit. Each reopening is kept.

use sea_orm_migration::prelude::*;

use crate::common::{fk, id};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Participants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ConsentReviewReopenings {
    Table,
    Id,
    ParticipantId,
    Version,
    LastAttemptId,
    ReopenedBy,
    ReopenedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ConsentReviewReopenings as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(id(R::Id))
                    .col(ColumnDef::new(R::ParticipantId).big_integer().not_null())
                    .col(ColumnDef::new(R::Version).string_len(20).not_null())
                    .col(ColumnDef::new(R::LastAttemptId).big_integer().not_null())
                    .col(ColumnDef::new(R::ReopenedBy).big_integer().not_null())
                    .col(ColumnDef::new(R::ReopenedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(&mut fk(
                        "fk_review_reopenings_participant",
                        (R::Table, R::ParticipantId),
                        (Participants::Table, Participants::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_review_reopenings_user",
                        (R::Table, R::ReopenedBy),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ConsentReviewReopenings::Table).to_owned()).await
    }
}
