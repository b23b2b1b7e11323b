//! Settings of one OAuth 2 / OpenID Connect sign-in provider (`[[auth.oauth]]`).
use serde::{Deserialize, Serialize};

/// One OAuth 2 / OIDC provider.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OAuthProviderSettings {
    /// Stable identifier used in URLs (`/auth/login/<id>`) and to link accounts.
    pub id: String,
    /// Label of the login button ("Sign in with <display_name>").
    pub display_name: String,
}
