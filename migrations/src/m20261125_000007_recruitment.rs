//! Purposive recruitment: ads per channel, quotas by stratum on a screening answer,
//! and one row per screening (eligible or not; no contact details for those who are
//! not). Participants remember the ad and stratum that brought them.

use sea_orm_migration::prelude::*;

use crate::common::id;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Ads {
    Table,
    Id,
    StudyId,
    Code,
    Channel,
    Title,
    BodyMarkdown,
    OpensAt,
    ClosesAt,
    ClosedAt,
    Views,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Strata {
    Table,
    Id,
    StudyId,
    QuestionKey,
    Value,
    Target,
    Cap,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Screenings {
    Table,
    Id,
    StudyId,
    AdId,
    StratumId,
    Eligible,
    Outcome,
    ParticipantId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Participants {
    Table,
    AdId,
    StratumId,
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
                    .table(Ads::Table)
                    .col(id(Ads::Id))
                    .col(ColumnDef::new(Ads::StudyId).big_integer().not_null())
                    .col(ColumnDef::new(Ads::Code).string_len(64).not_null().unique_key())
                    .col(ColumnDef::new(Ads::Channel).string_len(16).not_null())
                    .col(ColumnDef::new(Ads::Title).string_len(200).not_null())
                    .col(ColumnDef::new(Ads::BodyMarkdown).text().not_null())
                    .col(ColumnDef::new(Ads::OpensAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Ads::ClosesAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Ads::ClosedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Ads::Views).big_integer().not_null().default(0))
                    .col(ColumnDef::new(Ads::CreatedBy).big_integer().not_null())
                    .col(ColumnDef::new(Ads::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ads_study")
                            .from(Ads::Table, Ads::StudyId)
                            .to(Studies::Table, Studies::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ads_created_by")
                            .from(Ads::Table, Ads::CreatedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Strata::Table)
                    .col(id(Strata::Id))
                    .col(ColumnDef::new(Strata::StudyId).big_integer().not_null())
                    .col(ColumnDef::new(Strata::QuestionKey).string_len(64).not_null())
                    .col(ColumnDef::new(Strata::Value).string_len(64).not_null())
                    .col(ColumnDef::new(Strata::Target).integer().not_null())
                    .col(ColumnDef::new(Strata::Cap).integer().null())
                    .col(ColumnDef::new(Strata::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_strata_study")
                            .from(Strata::Table, Strata::StudyId)
                            .to(Studies::Table, Studies::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_strata_study_question_value")
                    .table(Strata::Table)
                    .col(Strata::StudyId)
                    .col(Strata::QuestionKey)
                    .col(Strata::Value)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Screenings::Table)
                    .col(id(Screenings::Id))
                    .col(ColumnDef::new(Screenings::StudyId).big_integer().not_null())
                    .col(ColumnDef::new(Screenings::AdId).big_integer().not_null())
                    .col(ColumnDef::new(Screenings::StratumId).big_integer().null())
                    .col(ColumnDef::new(Screenings::Eligible).boolean().not_null())
                    .col(ColumnDef::new(Screenings::Outcome).string_len(16).not_null())
                    .col(ColumnDef::new(Screenings::ParticipantId).big_integer().null())
                    .col(
                        ColumnDef::new(Screenings::CreatedAt).timestamp_with_time_zone().not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_screenings_ad")
                            .from(Screenings::Table, Screenings::AdId)
                            .to(Ads::Table, Ads::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_screenings_study")
                    .table(Screenings::Table)
                    .col(Screenings::StudyId)
                    .to_owned(),
            )
            .await?;
        for col in [Participants::AdId, Participants::StratumId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Participants::Table)
                        .add_column(ColumnDef::new(col).big_integer().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [Participants::AdId, Participants::StratumId] {
            manager
                .alter_table(Table::alter().table(Participants::Table).drop_column(col).to_owned())
                .await?;
        }
        for table in
            [Screenings::Table.into_iden(), Strata::Table.into_iden(), Ads::Table.into_iden()]
        {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
