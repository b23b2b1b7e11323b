//! Table `login_flows`: OAuth/OIDC logins between the redirect to the provider and the
//! callback. Keyed by the sha256 of the `state` parameter; single use; short-lived.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_flows")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub state_hash: String,
    pub provider: String,
    /// OIDC nonce expected in the ID token (empty for plain OAuth 2 providers).
    pub nonce: String,
    /// PKCE code verifier sent with the code exchange.
    pub pkce_verifier: String,
    /// Where the SPA returns after login (a path on this site).
    pub return_to: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
