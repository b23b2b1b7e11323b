//! Table `sessions`: signed-in browsers. Only the sha256 of the cookie's secret is stored.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Hex sha256 of the cookie's secret.
    #[sea_orm(unique)]
    pub secret_hash: String,
    pub user_id: i64,
    /// The scope of the credential the user signed in with (`read`, `push` or `admin`).
    pub scope: String,
    pub created_at: DateTimeUtc,
    /// Last request made with the session (written at most once a minute).
    pub last_seen_at: DateTimeUtc,
    /// The absolute end of the session, however active it is.
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
