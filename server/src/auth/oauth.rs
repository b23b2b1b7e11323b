//! OAuth 2 / OpenID Connect sign-in: the configured providers, the HTTP client they share,
//! and the two halves of a login — the redirect to the provider and the callback that turns
//! the provider's answer into an [`ExternalProfile`].
//!
//! - GitHub and GitLab speak plain OAuth 2 (authorization code + PKCE + `state`); the person is
//!   read from their REST API (`github.rs`, `gitlab.rs`).
//! - Google and any other OpenID Connect issuer are read from discovery; the ID token's
//!   signature (JWKS), issuer, audience, expiry and nonce are verified (`oidc.rs`).
//!
//! The HTTP routes are in `oauth/routes.rs`; the domain links the profile to an account by
//! provider and subject and opens the session.
mod client;
mod github;
mod gitlab;
mod oidc;
pub mod routes;

use std::sync::Arc;

use super::oauth_config::{OAuthKind, OAuthProviderSettings};
pub use silo_domain::services::ExternalProfile;

/// Why a login failed; the message is shown on the login page, so it names no secrets.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LoginError(pub String);

impl LoginError {
    pub fn new(text: impl Into<String>) -> Self {
        LoginError(text.into())
    }
}

/// The configured providers and the client they use.
pub struct OAuthProviders {
    providers: Vec<Provider>,
}

/// One configured provider.
pub struct Provider {
    pub settings: OAuthProviderSettings,
    /// `<public_url>/auth/callback/<id>`.
    pub redirect_uri: String,
    http: reqwest::Client,
    oidc: Option<oidc::Discovery>,
}

/// What the callback needs from the flow started at login.
pub struct FlowSecrets<'a> {
    pub code: &'a str,
    pub pkce_verifier: &'a str,
    pub nonce: &'a str,
}

impl OAuthProviders {
    /// Prepares the providers of `settings`; `public_url` has no trailing slash.
    pub fn new(settings: &[OAuthProviderSettings], public_url: &str) -> Arc<Self> {
        let http = client::build();
        let providers = settings
            .iter()
            .map(|s| Provider {
                redirect_uri: format!("{public_url}/auth/callback/{}", s.id),
                oidc: s.kind().is_oidc().then(|| oidc::Discovery::new(s.issuer())),
                settings: s.clone(),
                http: http.clone(),
            })
            .collect();
        Arc::new(OAuthProviders { providers })
    }

    pub fn get(&self, id: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.settings.id == id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Provider> {
        self.providers.iter()
    }
}

impl Provider {
    /// The provider's authorization URL for a flow with this `state`, PKCE challenge (S256)
    /// and, for OpenID Connect, `nonce`.
    pub async fn authorize_url(
        &self,
        state: &str,
        pkce_challenge: openidconnect::PkceCodeChallenge,
        nonce: &str,
    ) -> Result<String, LoginError> {
        match (&self.oidc, self.settings.kind()) {
            (Some(discovery), _) => {
                let metadata = discovery.metadata(&self.http).await?;
                oidc::authorize_url(self, &metadata, state, pkce_challenge, nonce)
            }
            (None, OAuthKind::Github) => github::authorize_url(self, state, pkce_challenge),
            (None, _) => gitlab::authorize_url(self, state, pkce_challenge),
        }
    }

    /// Exchanges the callback's code and reads who signed in.
    pub async fn complete(&self, flow: FlowSecrets<'_>) -> Result<ExternalProfile, LoginError> {
        match (&self.oidc, self.settings.kind()) {
            (Some(discovery), _) => {
                let metadata = discovery.metadata(&self.http).await?;
                oidc::complete(self, &metadata, flow).await
            }
            (None, OAuthKind::Github) => github::complete(self, flow).await,
            (None, _) => gitlab::complete(self, flow).await,
        }
    }
}
