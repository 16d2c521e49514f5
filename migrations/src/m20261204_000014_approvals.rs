//! A study's approval history: the initial approval, then amendments and renewals
//! under the committee, each kept (never overwritten). Existing studies get their
//! initial approval from the study row.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StudyApprovals {
    Table,
    Id,
    StudyId,
    Kind,
    Reference,
    ApprovedOn,
    ExpiresOn,
    Summary,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Studies {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StudyApprovals::Table)
                    .col(
                        ColumnDef::new(StudyApprovals::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(StudyApprovals::StudyId).big_integer().not_null())
                    .col(ColumnDef::new(StudyApprovals::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(StudyApprovals::Reference).string_len(100).not_null())
                    .col(ColumnDef::new(StudyApprovals::ApprovedOn).date().not_null())
                    .col(ColumnDef::new(StudyApprovals::ExpiresOn).date().null())
                    .col(ColumnDef::new(StudyApprovals::Summary).text().not_null())
                    .col(ColumnDef::new(StudyApprovals::RecordedBy).big_integer().null())
                    .col(
                        ColumnDef::new(StudyApprovals::RecordedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(StudyApprovals::Table, StudyApprovals::StudyId)
                            .to(Studies::Table, Studies::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("study_approvals_by_study")
                    .table(StudyApprovals::Table)
                    .col(StudyApprovals::StudyId)
                    .col(StudyApprovals::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO study_approvals \
                 (study_id, kind, reference, approved_on, expires_on, summary, recorded_by, recorded_at) \
                 SELECT id, 'initial', ethics_reference, approved_on, expires_on, \
                 'The study''s initial approval', created_by, created_at FROM studies",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(StudyApprovals::Table).to_owned()).await
    }
}
