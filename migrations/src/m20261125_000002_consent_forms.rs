//! Consent-form versions of a study: drafts, the active version, superseded ones.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConsentForms {
    Table,
    Id,
    StudyId,
    Version,
    Language,
    Title,
    BodyMarkdown,
    Items,
    FormHash,
    State,
    ApprovalReference,
    ApprovedOn,
    ApprovedBy,
    ApprovedAt,
    CreatedBy,
    CreatedAt,
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConsentForms::Table)
                    .col(
                        ColumnDef::new(ConsentForms::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ConsentForms::StudyId).big_integer().not_null())
                    .col(ColumnDef::new(ConsentForms::Version).string_len(20).not_null())
                    .col(ColumnDef::new(ConsentForms::Language).string_len(35).not_null())
                    .col(ColumnDef::new(ConsentForms::Title).string_len(300).not_null())
                    .col(ColumnDef::new(ConsentForms::BodyMarkdown).text().not_null())
                    .col(ColumnDef::new(ConsentForms::Items).text().not_null())
                    .col(ColumnDef::new(ConsentForms::FormHash).char_len(64).not_null())
                    .col(ColumnDef::new(ConsentForms::State).string_len(16).not_null())
                    .col(ColumnDef::new(ConsentForms::ApprovalReference).string_len(100).null())
                    .col(ColumnDef::new(ConsentForms::ApprovedOn).date().null())
                    .col(ColumnDef::new(ConsentForms::ApprovedBy).big_integer().null())
                    .col(ColumnDef::new(ConsentForms::ApprovedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(ConsentForms::CreatedBy).big_integer().not_null())
                    .col(
                        ColumnDef::new(ConsentForms::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_consent_forms_study")
                            .from(ConsentForms::Table, ConsentForms::StudyId)
                            .to(Studies::Table, Studies::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_consent_forms_created_by")
                            .from(ConsentForms::Table, ConsentForms::CreatedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_consent_forms_approved_by")
                            .from(ConsentForms::Table, ConsentForms::ApprovedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_consent_forms_study_version")
                    .table(ConsentForms::Table)
                    .col(ConsentForms::StudyId)
                    .col(ConsentForms::Version)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ConsentForms::Table).to_owned()).await
    }
}
