//! TEMPORARY SHIM — delete when main's "Access core" commit is merged.
//!
//! Stands in for the domain's `ExternalProfile`, `sign_in_external`, `start_login_flow` and
//! `finish_login_flow` (same names and signatures) with in-memory state, so the OAuth
//! adapter can be built and tested before the domain side lands.
use silo_domain::services::{NewToken, SessionCreated, SessionLimits};
use silo_domain::{DomainError, Registry, Result};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Clone, Debug)]
pub struct ExternalProfile {
    pub provider: String,
    pub subject: String,
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub realname: String,
    pub groups: Vec<String>,
    pub admin: Option<bool>,
}

#[derive(Clone, Debug)]
pub struct LoginFlow {
    pub provider: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub return_to: String,
}

static FLOWS: Mutex<Option<HashMap<String, LoginFlow>>> = Mutex::new(None);
static IDENTITIES: Mutex<Option<HashMap<(String, String), String>>> = Mutex::new(None);

pub trait ShimDomain {
    async fn sign_in_external(
        &self,
        profile: ExternalProfile,
        limits: SessionLimits,
    ) -> Result<SessionCreated>;
    async fn start_login_flow(
        &self,
        provider: &str,
        nonce: &str,
        pkce_verifier: &str,
        return_to: &str,
    ) -> Result<String>;
    async fn finish_login_flow(&self, provider: &str, state: &str) -> Result<LoginFlow>;
}

impl ShimDomain for Registry {
    async fn sign_in_external(
        &self,
        profile: ExternalProfile,
        limits: SessionLimits,
    ) -> Result<SessionCreated> {
        let key = (profile.provider.clone(), profile.subject.clone());
        let known = IDENTITIES
            .lock()
            .unwrap()
            .get_or_insert_with(HashMap::new)
            .get(&key)
            .cloned();
        let username = match known {
            Some(name) => name,
            None => {
                let mut name = profile.username.to_lowercase();
                if self.find_user(&name).await?.is_some() {
                    name = format!("{name}-{}", profile.provider);
                }
                self.create_user(&name, &profile.email, profile.admin.unwrap_or(false))
                    .await?;
                IDENTITIES
                    .lock()
                    .unwrap()
                    .get_or_insert_with(HashMap::new)
                    .insert(key, name.clone());
                name
            }
        };
        let token = self
            .create_token(
                &username,
                NewToken {
                    label: "shim".into(),
                    scope: None,
                    expires_in_days: Some(1),
                },
            )
            .await?;
        let actor = self.authenticate(&token.secret).await?;
        self.create_session(&actor, limits).await
    }

    async fn start_login_flow(
        &self,
        provider: &str,
        nonce: &str,
        pkce_verifier: &str,
        return_to: &str,
    ) -> Result<String> {
        let state = openidconnect::CsrfToken::new_random().secret().clone();
        FLOWS.lock().unwrap().get_or_insert_with(HashMap::new).insert(
            state.clone(),
            LoginFlow {
                provider: provider.into(),
                nonce: nonce.into(),
                pkce_verifier: pkce_verifier.into(),
                return_to: return_to.into(),
            },
        );
        Ok(state)
    }

    async fn finish_login_flow(&self, provider: &str, state: &str) -> Result<LoginFlow> {
        let flow = FLOWS
            .lock()
            .unwrap()
            .get_or_insert_with(HashMap::new)
            .remove(state);
        match flow {
            Some(flow) if flow.provider == provider => Ok(flow),
            _ => Err(DomainError::forbidden("this sign-in link is unknown, used or expired")),
        }
    }
}
