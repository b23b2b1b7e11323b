//! Table `blobs`: one row per digest the blob store holds (or is about to hold), with the
//! lease every push refreshes; garbage collection deletes bytes only through this row (see
//! `services/blobs.rs`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "blobs")]
pub struct Model {
    /// Lower-case hex sha256.
    #[sea_orm(primary_key, auto_increment = false)]
    pub digest: String,
    pub size: i64,
    pub created_at: DateTimeUtc,
    /// The lease: the last time a push relied on these bytes.
    pub last_used_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
