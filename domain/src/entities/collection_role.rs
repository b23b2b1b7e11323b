//! Table `collection_roles`: a user's or a team's role on one collection (`owner`,
//! `contributor` or `reader`; see [`crate::policy::Role`]). Exactly one of `user_id` and
//! `team_id` is set.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "collection_roles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub collection_id: i64,
    pub user_id: Option<i64>,
    pub team_id: Option<i64>,
    pub role: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
