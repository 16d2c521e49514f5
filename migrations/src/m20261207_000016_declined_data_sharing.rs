//! What a study's export does with the rows of participants who declined the
//! consent item that governs data sharing: `leave_out` (the default) or `flag`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Studies {
    Table,
    DeclinedDataSharing,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Studies::Table)
                    .add_column(
                        ColumnDef::new(Studies::DeclinedDataSharing)
                            .string()
                            .not_null()
                            .default("leave_out"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Studies::Table)
                    .drop_column(Studies::DeclinedDataSharing)
                    .to_owned(),
            )
            .await
    }
}
