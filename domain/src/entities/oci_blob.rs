//! Table `oci_blobs`: a blob of the store linked to an OCI repository (a container).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oci_blobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub container_id: i64,
    /// Lower-case hex sha256.
    pub digest: String,
    pub size: i64,
    pub media_type: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
