use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "participants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub study_id: i64,
    /// The hash of the first link the participant was given (kept from before links
    /// had a table of their own; authentication reads `participant_links`).
    pub first_link_hash: String,
    pub code: Option<String>,
    pub source: String,
    pub withdrawal_scope: Option<String>,
    pub withdrawal_reason: Option<String>,
    pub withdrawn_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub ad_id: Option<i64>,
    pub stratum_id: Option<i64>,
    pub reminded_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
