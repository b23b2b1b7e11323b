//! Table `images`.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "images")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub container_id: i64,
    /// Lower-case hex sha256 of the image bytes.
    pub sha256: String,
    pub size: i64,
    pub arch: Option<String>,
    /// True once the bytes are verified and committed to the blob store.
    pub uploaded: bool,
    pub description: String,
    pub signed: Option<bool>,
    pub encrypted: Option<bool>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
