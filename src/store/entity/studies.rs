use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "studies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub ethics_committee: String,
    pub ethics_reference: String,
    pub approved_on: Date,
    pub expires_on: Date,
    pub contact_name: String,
    pub contact_email: String,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub identity_check: String,
    pub suppress_below: i32,
    pub focus_group_reminder_hours: i32,
    pub timezone: String,
    pub confirm_email_first: bool,
    pub complaints_email: Option<String>,
    pub complaints_phone: Option<String>,
    pub declined_data_sharing: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
