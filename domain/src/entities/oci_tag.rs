//! Table `oci_tags`: OCI tag name -> manifest digest, per repository.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oci_tags")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub container_id: i64,
    pub name: String,
    pub manifest_digest: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
