//! Staff accounts and their tokens, studies under an ethics approval, study
//! membership, and the append-only audit chain.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    Name,
    Role,
    PasswordHash,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum StaffTokens {
    Table,
    Id,
    TokenHash,
    Kind,
    UserId,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Studies {
    Table,
    Id,
    Slug,
    Title,
    Summary,
    Status,
    StatusReason,
    EthicsCommittee,
    EthicsReference,
    ApprovedOn,
    ExpiresOn,
    ContactName,
    ContactEmail,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StudyStaff {
    Table,
    StudyId,
    UserId,
    Role,
    AddedAt,
}

#[derive(DeriveIden)]
enum AuditChainHeads {
    Table,
    Chain,
    Seq,
    Hash,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    Chain,
    Seq,
    At,
    Actor,
    Action,
    Study,
    Entity,
    EntityId,
    Details,
    PrevHash,
    Hash,
}

const SQLITE_TRIGGERS: &[&str] = &[
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events \
     BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events \
     BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
];

const POSTGRES_TRIGGERS: &[&str] = &[
    "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS \
     $$ BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$",
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events \
     FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events \
     FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(
                        ColumnDef::new(Users::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Users::Email).string_len(254).not_null().unique_key())
                    .col(ColumnDef::new(Users::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Users::Role).string_len(32).not_null())
                    .col(ColumnDef::new(Users::PasswordHash).string_len(255).not_null())
                    .col(ColumnDef::new(Users::Active).boolean().not_null().default(true))
                    .col(ColumnDef::new(Users::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StaffTokens::Table)
                    .col(
                        ColumnDef::new(StaffTokens::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(StaffTokens::TokenHash).char_len(64).not_null().unique_key(),
                    )
                    .col(ColumnDef::new(StaffTokens::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(StaffTokens::UserId).big_integer().not_null())
                    .col(
                        ColumnDef::new(StaffTokens::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StaffTokens::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(StaffTokens::RevokedAt).timestamp_with_time_zone().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_staff_tokens_user")
                            .from(StaffTokens::Table, StaffTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Studies::Table)
                    .col(
                        ColumnDef::new(Studies::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Studies::Slug).string_len(64).not_null().unique_key())
                    .col(ColumnDef::new(Studies::Title).string_len(300).not_null())
                    .col(ColumnDef::new(Studies::Summary).text().not_null())
                    .col(ColumnDef::new(Studies::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Studies::StatusReason).text().null())
                    .col(ColumnDef::new(Studies::EthicsCommittee).string_len(300).not_null())
                    .col(ColumnDef::new(Studies::EthicsReference).string_len(100).not_null())
                    .col(ColumnDef::new(Studies::ApprovedOn).date().not_null())
                    .col(ColumnDef::new(Studies::ExpiresOn).date().not_null())
                    .col(ColumnDef::new(Studies::ContactName).string_len(200).not_null())
                    .col(ColumnDef::new(Studies::ContactEmail).string_len(254).not_null())
                    .col(ColumnDef::new(Studies::CreatedBy).big_integer().not_null())
                    .col(ColumnDef::new(Studies::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Studies::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_studies_created_by")
                            .from(Studies::Table, Studies::CreatedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StudyStaff::Table)
                    .col(ColumnDef::new(StudyStaff::StudyId).big_integer().not_null())
                    .col(ColumnDef::new(StudyStaff::UserId).big_integer().not_null())
                    .col(ColumnDef::new(StudyStaff::Role).string_len(32).not_null())
                    .col(ColumnDef::new(StudyStaff::AddedAt).timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col(StudyStaff::StudyId).col(StudyStaff::UserId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_study_staff_study")
                            .from(StudyStaff::Table, StudyStaff::StudyId)
                            .to(Studies::Table, Studies::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_study_staff_user")
                            .from(StudyStaff::Table, StudyStaff::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_study_staff_user")
                    .table(StudyStaff::Table)
                    .col(StudyStaff::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditChainHeads::Table)
                    .col(
                        ColumnDef::new(AuditChainHeads::Chain)
                            .string_len(100)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AuditChainHeads::Seq).big_integer().not_null())
                    .col(ColumnDef::new(AuditChainHeads::Hash).char_len(64).not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(
                        ColumnDef::new(AuditEvents::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AuditEvents::Chain).string_len(100).not_null())
                    .col(ColumnDef::new(AuditEvents::Seq).big_integer().not_null())
                    .col(ColumnDef::new(AuditEvents::At).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(AuditEvents::Actor).string_len(100).not_null())
                    .col(ColumnDef::new(AuditEvents::Action).string_len(100).not_null())
                    .col(ColumnDef::new(AuditEvents::Study).string_len(64).null())
                    .col(ColumnDef::new(AuditEvents::Entity).string_len(64).not_null())
                    .col(ColumnDef::new(AuditEvents::EntityId).string_len(200).not_null())
                    .col(ColumnDef::new(AuditEvents::Details).text().not_null())
                    .col(ColumnDef::new(AuditEvents::PrevHash).char_len(64).not_null())
                    .col(ColumnDef::new(AuditEvents::Hash).char_len(64).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_audit_events_chain_seq")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::Chain)
                    .col(AuditEvents::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_events_study")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::Study)
                    .col(AuditEvents::Seq)
                    .to_owned(),
            )
            .await?;

        let triggers = match manager.get_database_backend() {
            DbBackend::Postgres => POSTGRES_TRIGGERS,
            _ => SQLITE_TRIGGERS,
        };
        let db = manager.get_connection();
        for sql in triggers {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("DROP FUNCTION IF EXISTS audit_events_append_only() CASCADE")
                .await?;
        }
        for table in [
            AuditEvents::Table.into_iden(),
            AuditChainHeads::Table.into_iden(),
            StudyStaff::Table.into_iden(),
            Studies::Table.into_iden(),
            StaffTokens::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
