use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "focus_groups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub study_id: i64,
    pub title: String,
    pub starts_at: DateTimeUtc,
    pub duration_minutes: i32,
    pub location: String,
    pub facilitator_id: i64,
    pub capacity: i32,
    pub sequence: i32,
    pub cancelled_at: Option<DateTimeUtc>,
    pub actual_minutes: Option<i32>,
    pub new_codes: Option<i32>,
    pub notes: Option<String>,
    pub logged_at: Option<DateTimeUtc>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
