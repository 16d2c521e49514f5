//! Each study's small-cell threshold: published outputs (report PDF and CSV) show
//! any non-zero count below it as `<k`. 5 by default; 0 turns suppression off.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Studies {
    Table,
    SuppressBelow,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Studies::Table)
                    .add_column(
                        ColumnDef::new(Studies::SuppressBelow).integer().not_null().default(5),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(Studies::Table).drop_column(Studies::SuppressBelow).to_owned(),
            )
            .await
    }
}
