//! Questionnaires: the definitions studies use (key, version, file hash and the
//! file's text, so answers stay readable if the file goes), the instruments attached
//! to a study, and responses with their answers normalised (one row per question,
//! one per chosen value of a multiple choice) so reports aggregate in SQL.

use sea_orm_migration::prelude::*;

use crate::common::{fk, id};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum QuestionnaireDefinitions {
    Table,
    Id,
    Key,
    Version,
    FormHash,
    Source,
    CreatedAt,
}

#[derive(DeriveIden)]
enum StudyInstruments {
    Table,
    Id,
    StudyId,
    DefinitionId,
    Key,
    Stage,
    EligibleIf,
    Position,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Responses {
    Table,
    Id,
    StudyId,
    ParticipantId,
    InstrumentId,
    DefinitionId,
    FormHash,
    Status,
    Revision,
    StartedAt,
    SubmittedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Answers {
    Table,
    Id,
    ResponseId,
    StudyId,
    InstrumentId,
    QuestionKey,
    ChoiceValue,
    TextValue,
    NumberValue,
    BoolValue,
}

#[derive(DeriveIden)]
enum Studies {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Participants {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use QuestionnaireDefinitions as D;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .col(id(D::Id))
                    .col(ColumnDef::new(D::Key).string_len(64).not_null())
                    .col(ColumnDef::new(D::Version).integer().not_null())
                    .col(ColumnDef::new(D::FormHash).char_len(64).not_null())
                    .col(ColumnDef::new(D::Source).text().not_null())
                    .col(ColumnDef::new(D::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_questionnaire_definitions_key_version")
                    .table(D::Table)
                    .col(D::Key)
                    .col(D::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;

        use StudyInstruments as I;
        manager
            .create_table(
                Table::create()
                    .table(I::Table)
                    .col(id(I::Id))
                    .col(ColumnDef::new(I::StudyId).big_integer().not_null())
                    .col(ColumnDef::new(I::DefinitionId).big_integer().not_null())
                    .col(ColumnDef::new(I::Key).string_len(64).not_null())
                    .col(ColumnDef::new(I::Stage).string_len(16).not_null())
                    .col(ColumnDef::new(I::EligibleIf).text().null())
                    .col(ColumnDef::new(I::Position).integer().not_null())
                    .col(ColumnDef::new(I::CreatedBy).big_integer().not_null())
                    .col(ColumnDef::new(I::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(&mut fk(
                        "fk_instruments_study",
                        (I::Table, I::StudyId),
                        (Studies::Table, Studies::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_instruments_definition",
                        (I::Table, I::DefinitionId),
                        (D::Table, D::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_instruments_created_by",
                        (I::Table, I::CreatedBy),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_study_instruments_study_key")
                    .table(I::Table)
                    .col(I::StudyId)
                    .col(I::Key)
                    .unique()
                    .to_owned(),
            )
            .await?;

        use Responses as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(id(R::Id))
                    .col(ColumnDef::new(R::StudyId).big_integer().not_null())
                    .col(ColumnDef::new(R::ParticipantId).big_integer().not_null())
                    .col(ColumnDef::new(R::InstrumentId).big_integer().not_null())
                    .col(ColumnDef::new(R::DefinitionId).big_integer().not_null())
                    .col(ColumnDef::new(R::FormHash).char_len(64).not_null())
                    .col(ColumnDef::new(R::Status).string_len(16).not_null())
                    .col(ColumnDef::new(R::Revision).integer().not_null())
                    .col(ColumnDef::new(R::StartedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(R::SubmittedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(R::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(&mut fk(
                        "fk_responses_study",
                        (R::Table, R::StudyId),
                        (Studies::Table, Studies::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_responses_participant",
                        (R::Table, R::ParticipantId),
                        (Participants::Table, Participants::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_responses_instrument",
                        (R::Table, R::InstrumentId),
                        (I::Table, I::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_responses_definition",
                        (R::Table, R::DefinitionId),
                        (D::Table, D::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_responses_participant_instrument")
                    .table(R::Table)
                    .col(R::ParticipantId)
                    .col(R::InstrumentId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        use Answers as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(id(A::Id))
                    .col(ColumnDef::new(A::ResponseId).big_integer().not_null())
                    .col(ColumnDef::new(A::StudyId).big_integer().not_null())
                    .col(ColumnDef::new(A::InstrumentId).big_integer().not_null())
                    .col(ColumnDef::new(A::QuestionKey).string_len(64).not_null())
                    .col(ColumnDef::new(A::ChoiceValue).string_len(64).null())
                    .col(ColumnDef::new(A::TextValue).text().null())
                    .col(ColumnDef::new(A::NumberValue).double().null())
                    .col(ColumnDef::new(A::BoolValue).boolean().null())
                    .foreign_key(
                        &mut fk(
                            "fk_answers_response",
                            (A::Table, A::ResponseId),
                            (R::Table, R::Id),
                        )
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_answers_response")
                    .table(A::Table)
                    .col(A::ResponseId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_answers_instrument_question")
                    .table(A::Table)
                    .col(A::InstrumentId)
                    .col(A::QuestionKey)
                    .col(A::ChoiceValue)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Answers::Table.into_iden(),
            Responses::Table.into_iden(),
            StudyInstruments::Table.into_iden(),
            QuestionnaireDefinitions::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
