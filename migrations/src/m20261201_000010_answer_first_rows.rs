//! `answers.first_of_question`: true on exactly one answer row per response and
//! question (the first stored), so a report counts the respondents to a multiple
//! choice — which has a row per chosen value — in the same pass that counts its
//! values. Existing rows are marked from their ids.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Answers {
    Table,
    FirstOfQuestion,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Answers::Table)
                    .add_column(
                        ColumnDef::new(Answers::FirstOfQuestion).boolean().not_null().default(true),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE answers SET first_of_question = false WHERE id NOT IN \
                 (SELECT MIN(id) FROM answers GROUP BY response_id, question_key)",
            )
            .await
            .map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Answers::Table)
                    .drop_column(Answers::FirstOfQuestion)
                    .to_owned(),
            )
            .await
    }
}
