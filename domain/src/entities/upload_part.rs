//! Table `upload_parts`: the parts of a multipart upload session.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "upload_parts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub session_id: String,
    /// 1-based.
    pub part_number: i32,
    pub size: i64,
    /// The sha256 the client announced when asking for the part URL, if any.
    pub declared_sha256: Option<String>,
    /// The sha256 of the bytes received; `None` until the part arrived.
    pub sha256: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
