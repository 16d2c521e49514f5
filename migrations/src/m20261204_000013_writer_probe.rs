//! A table the readiness probe writes to on SQLite after a failed write: a row of
//! 64 KiB is added and removed in one committed transaction, since only a write
//! that needs new pages shows that the disk takes writes again (a full or
//! read-only database still begins and rolls back transactions).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WriterProbe {
    Table,
    Id,
    Pad,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WriterProbe::Table)
                    .col(ColumnDef::new(WriterProbe::Id).integer().not_null().primary_key())
                    .col(ColumnDef::new(WriterProbe::Pad).binary().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(WriterProbe::Table).to_owned()).await
    }
}
