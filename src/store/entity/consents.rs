use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub study_id: i64,
    pub participant_id: i64,
    pub consent_form_id: i64,
    pub version: String,
    pub form_hash: String,
    pub record_json: String,
    pub record_sha256: String,
    pub pdf: Vec<u8>,
    pub pdf_sha256: String,
    pub signed_at: DateTimeUtc,
    /// The consent this one amends (a change of optional choices).
    pub amends_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
