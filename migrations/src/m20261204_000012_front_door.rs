//! The front door. A participant may hold several private links, each stored only
//! as a hash with its own expiry (`participant_links`; the one link each participant
//! had so far becomes their first, valid for 60 days from now, and the column that
//! held it is renamed `first_link_hash`: SQLite cannot drop a UNIQUE column, and
//! nothing reads it any more). Sign-in failures and link requests are counted in
//! `throttle_events`, shared by every instance on one database. Mail carrying a link
//! or code keeps the secret sealed in `outbox.sealed` until it is sent. Studies gain
//! `confirm_email_first`: every enrolment continues only from the e-mailed link.

use sea_orm_migration::prelude::*;

use crate::common::{fk, id};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// How long the links that existed before this migration stay valid from now.
const MIGRATED_LINK_DAYS: i64 = 60;

#[derive(DeriveIden)]
enum Participants {
    Table,
    Id,
    TokenHash,
    FirstLinkHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ParticipantLinks {
    Table,
    Id,
    ParticipantId,
    TokenHash,
    Origin,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum ThrottleEvents {
    Table,
    Id,
    Scope,
    Key,
    At,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Sealed,
}

#[derive(DeriveIden)]
enum Studies {
    Table,
    ConfirmEmailFirst,
}

fn at<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ParticipantLinks::Table)
                    .col(id(ParticipantLinks::Id))
                    .col(ColumnDef::new(ParticipantLinks::ParticipantId).big_integer().not_null())
                    .col(
                        ColumnDef::new(ParticipantLinks::TokenHash)
                            .char_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(ParticipantLinks::Origin).string_len(32).not_null())
                    .col(at(ParticipantLinks::CreatedAt))
                    .col(at(ParticipantLinks::ExpiresAt))
                    .foreign_key(&mut fk(
                        "fk_participant_links_participant",
                        (ParticipantLinks::Table, ParticipantLinks::ParticipantId),
                        (Participants::Table, Participants::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_participant_links_participant")
                    .table(ParticipantLinks::Table)
                    .col(ParticipantLinks::ParticipantId)
                    .to_owned(),
            )
            .await?;
        let expires = chrono::Utc::now() + chrono::Duration::days(MIGRATED_LINK_DAYS);
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(ParticipantLinks::Table)
                    .columns([
                        ParticipantLinks::ParticipantId,
                        ParticipantLinks::TokenHash,
                        ParticipantLinks::Origin,
                        ParticipantLinks::CreatedAt,
                        ParticipantLinks::ExpiresAt,
                    ])
                    .select_from(
                        Query::select()
                            .column(Participants::Id)
                            .column(Participants::TokenHash)
                            .expr(Expr::value("migrated"))
                            .column(Participants::CreatedAt)
                            .expr(Expr::value(expires))
                            .from(Participants::Table)
                            .to_owned(),
                    )
                    .map_err(|e| DbErr::Migration(e.to_string()))?
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Participants::Table)
                    .rename_column(Participants::TokenHash, Participants::FirstLinkHash)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ThrottleEvents::Table)
                    .col(id(ThrottleEvents::Id))
                    .col(ColumnDef::new(ThrottleEvents::Scope).string_len(32).not_null())
                    .col(ColumnDef::new(ThrottleEvents::Key).string_len(160).not_null())
                    .col(at(ThrottleEvents::At))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_throttle_events_scope_key_at")
                    .table(ThrottleEvents::Table)
                    .col(ThrottleEvents::Scope)
                    .col(ThrottleEvents::Key)
                    .col(ThrottleEvents::At)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_throttle_events_at")
                    .table(ThrottleEvents::Table)
                    .col(ThrottleEvents::At)
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(ColumnDef::new(Outbox::Sealed).binary().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Studies::Table)
                    .add_column(
                        ColumnDef::new(Studies::ConfirmEmailFirst)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Studies::Table)
                    .drop_column(Studies::ConfirmEmailFirst)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(Table::alter().table(Outbox::Table).drop_column(Outbox::Sealed).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(ThrottleEvents::Table).to_owned()).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Participants::Table)
                    .rename_column(Participants::FirstLinkHash, Participants::TokenHash)
                    .to_owned(),
            )
            .await?;
        manager.drop_table(Table::drop().table(ParticipantLinks::Table).to_owned()).await
    }
}
