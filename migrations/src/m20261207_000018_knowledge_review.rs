//! Knowledge review: a consent-form version may ask questions on its statement
//! (`consent_forms.review`, canonical JSON, null when it asks none), and every answer
//! a participant gives is kept (`consent_check_attempts`), in order.

use sea_orm_migration::prelude::*;

use crate::common::{fk, id};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConsentForms {
    Table,
    Id,
    Review,
}

#[derive(DeriveIden)]
enum Participants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ConsentCheckAttempts {
    Table,
    Id,
    ParticipantId,
    ConsentFormId,
    CheckKey,
    Answer,
    Correct,
    AnsweredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ConsentForms::Table)
                    .add_column(ColumnDef::new(ConsentForms::Review).text().null())
                    .to_owned(),
            )
            .await?;
        use ConsentCheckAttempts as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(id(A::Id))
                    .col(ColumnDef::new(A::ParticipantId).big_integer().not_null())
                    .col(ColumnDef::new(A::ConsentFormId).big_integer().not_null())
                    .col(ColumnDef::new(A::CheckKey).string_len(64).not_null())
                    .col(ColumnDef::new(A::Answer).text().not_null())
                    .col(ColumnDef::new(A::Correct).boolean().not_null())
                    .col(ColumnDef::new(A::AnsweredAt).timestamp_with_time_zone().not_null())
                    .foreign_key(&mut fk(
                        "fk_check_attempts_participant",
                        (A::Table, A::ParticipantId),
                        (Participants::Table, Participants::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_check_attempts_form",
                        (A::Table, A::ConsentFormId),
                        (ConsentForms::Table, ConsentForms::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_check_attempts_form_participant")
                    .table(A::Table)
                    .col(A::ConsentFormId)
                    .col(A::ParticipantId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ConsentCheckAttempts::Table).to_owned()).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ConsentForms::Table)
                    .drop_column(ConsentForms::Review)
                    .to_owned(),
            )
            .await
    }
}
