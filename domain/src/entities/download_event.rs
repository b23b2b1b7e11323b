//! Table `download_events`.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "download_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub image_id: i64,
    pub container_id: i64,
    pub user_id: Option<i64>,
    /// `library`, `shub`, `oras`, `sregistry` or `web`.
    pub protocol: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
