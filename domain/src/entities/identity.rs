//! Table `identities`: an account's link to an external login. One row per provider and
//! subject (the provider's stable id of the person), so accounts are never matched by
//! e-mail alone.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// The configured backend's id (`github`, `gitlab`, `keycloak`, `ldap`, …).
    pub provider: String,
    /// The provider's stable identifier of the person (OIDC `sub`, GitHub user id, LDAP DN).
    pub subject: String,
    /// The e-mail the provider reported at the last login (informational).
    pub email: String,
    pub created_at: DateTimeUtc,
    pub last_login_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
