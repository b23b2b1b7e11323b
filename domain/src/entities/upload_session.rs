//! Table `upload_sessions`.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "upload_sessions")]
pub struct Model {
    /// Random capability id; knowing it is what authorises the bytes.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub image_id: i64,
    pub user_id: i64,
    /// `single` or `multipart`.
    pub kind: String,
    pub expected_sha256: String,
    pub expected_size: i64,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Bytes per part for multipart sessions (the last part may be shorter); 0 otherwise.
    pub part_size: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
