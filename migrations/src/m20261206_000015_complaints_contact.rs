//! A study's complaints contact, independent of the researchers (usually the
//! ethics office): an address and a telephone number, both optional.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Studies {
    Table,
    ComplaintsEmail,
    ComplaintsPhone,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one column at a time.
        for column in [Studies::ComplaintsEmail, Studies::ComplaintsPhone] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Studies::Table)
                        .add_column(ColumnDef::new(column).string().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Studies::ComplaintsEmail, Studies::ComplaintsPhone] {
            manager
                .alter_table(Table::alter().table(Studies::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
