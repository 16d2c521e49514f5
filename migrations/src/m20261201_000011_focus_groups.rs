//! Focus groups: sessions with a facilitator and a capacity (kept when cancelled,
//! with the time of cancellation), their members and
//! attendance, the participants' availability, conflicts a facilitator declares
//! with a participant (someone they teach or know), and the post-session log that
//! feeds the saturation chart; and each study's reminder lead time (24 hours) and
//! the time zone its pages and mail show times in (UTC until set).

use sea_orm_migration::prelude::*;

use crate::common::{fk, id};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Studies {
    Table,
    Id,
    FocusGroupReminderHours,
    Timezone,
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

#[derive(DeriveIden)]
enum FocusGroups {
    Table,
    Id,
    StudyId,
    Title,
    StartsAt,
    DurationMinutes,
    Location,
    FacilitatorId,
    Capacity,
    Sequence,
    CancelledAt,
    ActualMinutes,
    NewCodes,
    Notes,
    LoggedAt,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FocusGroupMembers {
    Table,
    Id,
    FocusGroupId,
    ParticipantId,
    Attended,
    AddedAt,
    InvitedAt,
}

#[derive(DeriveIden)]
enum Availability {
    Table,
    Id,
    ParticipantId,
    FocusGroupId,
}

#[derive(DeriveIden)]
enum FacilitatorConflicts {
    Table,
    Id,
    StudyId,
    FacilitatorId,
    ParticipantId,
    DeclaredAt,
}

fn at<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().not_null().to_owned()
}

fn at_or_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().null().to_owned()
}

fn big<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

fn unique(
    name: &str,
    table: impl IntoIden,
    a: impl IntoIden,
    b: impl IntoIden,
) -> IndexCreateStatement {
    Index::create().name(name).table(table).col(a).col(b).unique().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Studies::Table)
                    .add_column(
                        ColumnDef::new(Studies::FocusGroupReminderHours)
                            .integer()
                            .not_null()
                            .default(24),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Studies::Table)
                    .add_column(
                        ColumnDef::new(Studies::Timezone).string_len(64).not_null().default("UTC"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FocusGroups::Table)
                    .col(id(FocusGroups::Id))
                    .col(big(FocusGroups::StudyId))
                    .col(ColumnDef::new(FocusGroups::Title).string_len(200).not_null())
                    .col(at(FocusGroups::StartsAt))
                    .col(ColumnDef::new(FocusGroups::DurationMinutes).integer().not_null())
                    .col(ColumnDef::new(FocusGroups::Location).string_len(200).not_null())
                    .col(big(FocusGroups::FacilitatorId))
                    .col(ColumnDef::new(FocusGroups::Capacity).integer().not_null())
                    .col(ColumnDef::new(FocusGroups::Sequence).integer().not_null().default(0))
                    .col(at_or_null(FocusGroups::CancelledAt))
                    .col(ColumnDef::new(FocusGroups::ActualMinutes).integer().null())
                    .col(ColumnDef::new(FocusGroups::NewCodes).integer().null())
                    .col(ColumnDef::new(FocusGroups::Notes).text().null())
                    .col(at_or_null(FocusGroups::LoggedAt))
                    .col(big(FocusGroups::CreatedBy))
                    .col(at(FocusGroups::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_focus_groups_study",
                        (FocusGroups::Table, FocusGroups::StudyId),
                        (Studies::Table, Studies::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_focus_groups_facilitator",
                        (FocusGroups::Table, FocusGroups::FacilitatorId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_focus_groups_study")
                    .table(FocusGroups::Table)
                    .col(FocusGroups::StudyId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FocusGroupMembers::Table)
                    .col(id(FocusGroupMembers::Id))
                    .col(big(FocusGroupMembers::FocusGroupId))
                    .col(big(FocusGroupMembers::ParticipantId))
                    .col(ColumnDef::new(FocusGroupMembers::Attended).boolean().null())
                    .col(at(FocusGroupMembers::AddedAt))
                    .col(at_or_null(FocusGroupMembers::InvitedAt))
                    .foreign_key(&mut fk(
                        "fk_focus_group_members_group",
                        (FocusGroupMembers::Table, FocusGroupMembers::FocusGroupId),
                        (FocusGroups::Table, FocusGroups::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_focus_group_members_participant",
                        (FocusGroupMembers::Table, FocusGroupMembers::ParticipantId),
                        (Participants::Table, Participants::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                "ux_focus_group_members",
                FocusGroupMembers::Table,
                FocusGroupMembers::FocusGroupId,
                FocusGroupMembers::ParticipantId,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Availability::Table)
                    .col(id(Availability::Id))
                    .col(big(Availability::ParticipantId))
                    .col(big(Availability::FocusGroupId))
                    .foreign_key(&mut fk(
                        "fk_availability_participant",
                        (Availability::Table, Availability::ParticipantId),
                        (Participants::Table, Participants::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_availability_group",
                        (Availability::Table, Availability::FocusGroupId),
                        (FocusGroups::Table, FocusGroups::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                "ux_availability",
                Availability::Table,
                Availability::ParticipantId,
                Availability::FocusGroupId,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FacilitatorConflicts::Table)
                    .col(id(FacilitatorConflicts::Id))
                    .col(big(FacilitatorConflicts::StudyId))
                    .col(big(FacilitatorConflicts::FacilitatorId))
                    .col(big(FacilitatorConflicts::ParticipantId))
                    .col(at(FacilitatorConflicts::DeclaredAt))
                    .foreign_key(&mut fk(
                        "fk_facilitator_conflicts_facilitator",
                        (FacilitatorConflicts::Table, FacilitatorConflicts::FacilitatorId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_facilitator_conflicts_participant",
                        (FacilitatorConflicts::Table, FacilitatorConflicts::ParticipantId),
                        (Participants::Table, Participants::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                "ux_facilitator_conflicts",
                FacilitatorConflicts::Table,
                FacilitatorConflicts::FacilitatorId,
                FacilitatorConflicts::ParticipantId,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            FacilitatorConflicts::Table.into_iden(),
            Availability::Table.into_iden(),
            FocusGroupMembers::Table.into_iden(),
            FocusGroups::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        for column in [Studies::FocusGroupReminderHours, Studies::Timezone] {
            manager
                .alter_table(Table::alter().table(Studies::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
