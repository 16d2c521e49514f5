use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consent_check_attempts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub participant_id: i64,
    pub consent_form_id: i64,
    pub check_key: String,
    pub answer: String,
    pub correct: bool,
    pub answered_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
