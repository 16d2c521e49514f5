use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "focus_group_members")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub focus_group_id: i64,
    pub participant_id: i64,
    pub attended: Option<bool>,
    pub added_at: DateTimeUtc,
    pub invited_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
