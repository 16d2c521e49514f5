//! Participants (research identity apart from contact details), per-study code
//! counters, and signed consents with their stored PDF.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Participants {
    Table,
    Id,
    StudyId,
    TokenHash,
    Code,
    Source,
    WithdrawalScope,
    WithdrawalReason,
    WithdrawnAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ParticipantContacts {
    Table,
    ParticipantId,
    StudyId,
    Name,
    Email,
}

#[derive(DeriveIden)]
enum StudyCodeCounters {
    Table,
    StudyId,
    LastCode,
}

#[derive(DeriveIden)]
enum Consents {
    Table,
    Id,
    StudyId,
    ParticipantId,
    ConsentFormId,
    Version,
    FormHash,
    RecordJson,
    RecordSha256,
    Pdf,
    PdfSha256,
    SignedAt,
}

#[derive(DeriveIden)]
enum Studies {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ConsentForms {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Participants::Table)
                    .col(
                        ColumnDef::new(Participants::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Participants::StudyId).big_integer().not_null())
                    .col(
                        ColumnDef::new(Participants::TokenHash)
                            .char_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Participants::Code).string_len(16).null())
                    .col(ColumnDef::new(Participants::Source).string_len(80).not_null())
                    .col(ColumnDef::new(Participants::WithdrawalScope).string_len(16).null())
                    .col(ColumnDef::new(Participants::WithdrawalReason).text().null())
                    .col(
                        ColumnDef::new(Participants::WithdrawnAt).timestamp_with_time_zone().null(),
                    )
                    .col(
                        ColumnDef::new(Participants::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_participants_study")
                            .from(Participants::Table, Participants::StudyId)
                            .to(Studies::Table, Studies::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_participants_study_code")
                    .table(Participants::Table)
                    .col(Participants::StudyId)
                    .col(Participants::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ParticipantContacts::Table)
                    .col(
                        ColumnDef::new(ParticipantContacts::ParticipantId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ParticipantContacts::StudyId).big_integer().not_null())
                    .col(ColumnDef::new(ParticipantContacts::Name).string_len(200).not_null())
                    .col(ColumnDef::new(ParticipantContacts::Email).string_len(254).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_participant_contacts_participant")
                            .from(ParticipantContacts::Table, ParticipantContacts::ParticipantId)
                            .to(Participants::Table, Participants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_participant_contacts_study_email")
                    .table(ParticipantContacts::Table)
                    .col(ParticipantContacts::StudyId)
                    .col(ParticipantContacts::Email)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StudyCodeCounters::Table)
                    .col(
                        ColumnDef::new(StudyCodeCounters::StudyId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(StudyCodeCounters::LastCode).big_integer().not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Consents::Table)
                    .col(
                        ColumnDef::new(Consents::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Consents::StudyId).big_integer().not_null())
                    .col(ColumnDef::new(Consents::ParticipantId).big_integer().not_null())
                    .col(ColumnDef::new(Consents::ConsentFormId).big_integer().not_null())
                    .col(ColumnDef::new(Consents::Version).string_len(20).not_null())
                    .col(ColumnDef::new(Consents::FormHash).char_len(64).not_null())
                    .col(ColumnDef::new(Consents::RecordJson).text().not_null())
                    .col(ColumnDef::new(Consents::RecordSha256).char_len(64).not_null())
                    .col(ColumnDef::new(Consents::Pdf).blob().not_null())
                    .col(ColumnDef::new(Consents::PdfSha256).char_len(64).not_null())
                    .col(ColumnDef::new(Consents::SignedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_consents_study")
                            .from(Consents::Table, Consents::StudyId)
                            .to(Studies::Table, Studies::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_consents_participant")
                            .from(Consents::Table, Consents::ParticipantId)
                            .to(Participants::Table, Participants::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_consents_form")
                            .from(Consents::Table, Consents::ConsentFormId)
                            .to(ConsentForms::Table, ConsentForms::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_consents_participant_form")
                    .table(Consents::Table)
                    .col(Consents::ParticipantId)
                    .col(Consents::ConsentFormId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Consents::Table.into_iden(),
            StudyCodeCounters::Table.into_iden(),
            ParticipantContacts::Table.into_iden(),
            Participants::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
