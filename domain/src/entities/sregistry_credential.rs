//! Table `sregistry_credentials`: one per API token issued with `--sregistry`.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sregistry_credentials")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The API token whose scope, expiry and revocation the credential shares.
    #[sea_orm(unique)]
    pub token_id: i64,
    pub user_id: i64,
    /// Random hex; the client's secret is HMAC-SHA256(server key, salt), never stored.
    pub salt: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
