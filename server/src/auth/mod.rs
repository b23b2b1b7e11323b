//! Institutional sign-in: OAuth 2 / OpenID Connect providers (GitHub, GitLab, Google, any
//! OIDC issuer) and direct LDAP bind. Each backend turns a successful login into a
//! [`silo_domain::services::ExternalProfile`]; the domain links it to an account (by provider
//! and subject), applies the registration rules and opens the browser session.
pub mod ldap;
pub mod ldap_config;
pub mod ldap_login;
pub mod login_limits;
pub mod oauth;
pub mod oauth_config;
pub mod rate_limit;

use serde::{Deserialize, Serialize};

/// `[auth]`: the sign-in backends, several at once.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// `[[auth.oauth]]`: one table per OAuth 2 / OpenID Connect provider.
    pub oauth: Vec<oauth_config::OAuthProviderSettings>,
    /// `[auth.ldap]`: direct LDAP bind, for sites with only a directory.
    pub ldap: Option<ldap_config::LdapSettings>,
    /// `[auth.rate_limit]`: failed sign-ins tolerated per user name and per client.
    pub rate_limit: rate_limit::LoginRateLimitSettings,
}
