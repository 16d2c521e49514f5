use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consent_forms")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub study_id: i64,
    pub version: String,
    pub language: String,
    pub title: String,
    pub body_markdown: String,
    pub items: String,
    pub form_hash: String,
    pub state: String,
    pub approval_reference: Option<String>,
    pub approved_on: Option<Date>,
    pub approved_by: Option<i64>,
    pub approved_at: Option<DateTimeUtc>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub review: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
