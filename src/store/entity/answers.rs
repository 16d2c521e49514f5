use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "answers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub response_id: i64,
    pub study_id: i64,
    pub instrument_id: i64,
    pub question_key: String,
    pub choice_value: Option<String>,
    pub text_value: Option<String>,
    pub number_value: Option<f64>,
    pub bool_value: Option<bool>,
    /// True on one row per response and question (a multiple choice has several).
    pub first_of_question: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
