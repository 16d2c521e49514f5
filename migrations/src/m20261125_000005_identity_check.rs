//! The optional identity check before signing: a study setting, and one-time codes
//! e-mailed to participants (stored only as hashes).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Studies {
    Table,
    IdentityCheck,
}

#[derive(DeriveIden)]
enum IdentityCodes {
    Table,
    ParticipantId,
    CodeHash,
    ExpiresAt,
    Attempts,
    SentInWindow,
    WindowStart,
    VerifiedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Studies::Table)
                    .add_column(
                        ColumnDef::new(Studies::IdentityCheck)
                            .string_len(16)
                            .not_null()
                            .default("none"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IdentityCodes::Table)
                    .col(
                        ColumnDef::new(IdentityCodes::ParticipantId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(IdentityCodes::CodeHash).char_len(64).not_null())
                    .col(
                        ColumnDef::new(IdentityCodes::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(IdentityCodes::Attempts).integer().not_null().default(0))
                    .col(
                        ColumnDef::new(IdentityCodes::SentInWindow).integer().not_null().default(0),
                    )
                    .col(
                        ColumnDef::new(IdentityCodes::WindowStart)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdentityCodes::VerifiedAt).timestamp_with_time_zone().null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(IdentityCodes::Table).to_owned()).await?;
        manager
            .alter_table(
                Table::alter().table(Studies::Table).drop_column(Studies::IdentityCheck).to_owned(),
            )
            .await
    }
}
