//! Registry tokens for the OCI token flow (`GET /v2/token`): short-lived, HMAC-signed with
//! the key of the download capabilities, carrying the user, the scope of the credential
//! they were issued for, and the repository actions granted.
//!
//! A token is `oci.<hex of the JSON claims>.<hex HMAC-SHA256>`.
use chrono::{DateTime, Utc};
use hmac::Mac;
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};

use super::parse_repository;
use crate::entities::user;
use crate::error::{DomainError, Result};
use crate::policy::{Actor, Scope};
use crate::services::{now, Registry};

/// How long a registry token is valid.
pub const REGISTRY_TOKEN_SECONDS: i64 = 900;
const PREFIX: &str = "oci.";
/// Separates these signatures from the download capabilities sharing the key.
const DOMAIN: &[u8] = b"silo-oci-registry-token\n";

/// One `repository:<name>:<actions>` scope a client asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeRequest {
    pub repository: String,
    pub actions: Vec<String>,
}

impl ScopeRequest {
    /// Parses `repository:e/c/n:pull,push`; other scope types are ignored (`None`).
    pub fn parse(scope: &str) -> Option<Self> {
        let rest = scope.strip_prefix("repository:")?;
        let (repository, actions) = rest.rsplit_once(':')?;
        Some(ScopeRequest {
            repository: repository.to_string(),
            actions: actions.split(',').map(|a| a.trim().to_string()).collect(),
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub repository: String,
    pub actions: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct Claims {
    /// User id, 0 for anonymous.
    u: i64,
    /// Scope of the credential the token was issued for.
    s: String,
    g: Vec<Grant>,
    exp: i64,
}

/// An issued token.
#[derive(Clone, Debug)]
pub struct RegistryToken {
    pub token: String,
    pub expires_in: i64,
    pub issued_at: DateTime<Utc>,
    pub grants: Vec<Grant>,
}

/// A verified token.
#[derive(Clone, Debug)]
pub struct TokenClaims {
    pub actor: Actor,
    pub grants: Vec<Grant>,
}

impl TokenClaims {
    /// Whether the token names the repository at all.
    pub fn names(&self, repository: &str) -> bool {
        self.grants.iter().any(|g| g.repository == repository)
    }
    /// Whether the token grants `action` (`pull`, `push`, `delete`) on `repository`.
    pub fn permits(&self, repository: &str, action: &str) -> bool {
        self.grants.iter().any(|g| {
            g.repository == repository && g.actions.iter().any(|a| a == action || a == "*")
        })
    }
}

impl Registry {
    /// Issues a token granting what the policy allows of `requests`: pull on any valid
    /// repository name (reads are checked again, and private repositories hidden, on every
    /// request), push where the actor may push, delete where they may delete (owners).
    pub async fn issue_registry_token(
        &self,
        actor: &Actor,
        requests: &[ScopeRequest],
    ) -> Result<RegistryToken> {
        let mut grants = Vec::new();
        for request in requests {
            let Ok(path) = parse_repository(&request.repository) else {
                continue;
            };
            let may_push = self.oci_may_push(actor, &path).await?;
            let may_delete = request.actions.iter().any(|a| a == "delete")
                && self.oci_may_delete(actor, &path).await?;
            let actions: Vec<String> = request
                .actions
                .iter()
                .filter(|a| match a.as_str() {
                    "pull" => true,
                    "push" => may_push,
                    "delete" => may_delete,
                    _ => false,
                })
                .cloned()
                .collect();
            grants.push(Grant {
                repository: path.to_string(),
                actions,
            });
        }
        let issued_at = now();
        let claims = Claims {
            u: actor.user_id().unwrap_or(0),
            s: actor
                .principal()
                .map_or(Scope::Read, |p| p.scope)
                .as_str()
                .to_string(),
            g: grants.clone(),
            exp: issued_at.timestamp() + REGISTRY_TOKEN_SECONDS,
        };
        let payload = hex::encode(serde_json::to_vec(&claims).expect("claims serialize"));
        let mut mac = Self::mac(&self.signing_key().await?);
        mac.update(DOMAIN);
        mac.update(payload.as_bytes());
        let signature = hex::encode(mac.finalize().into_bytes());
        Ok(RegistryToken {
            token: format!("{PREFIX}{payload}.{signature}"),
            expires_in: REGISTRY_TOKEN_SECONDS,
            issued_at,
            grants,
        })
    }

    /// Whether a bearer credential looks like a registry token (rather than an API token).
    pub fn is_registry_token(credential: &str) -> bool {
        credential.starts_with(PREFIX)
    }

    /// Checks a registry token's signature and expiry and loads its user.
    pub async fn verify_registry_token(&self, token: &str) -> Result<TokenClaims> {
        let bad = || DomainError::Unauthenticated;
        let body = token.strip_prefix(PREFIX).ok_or_else(bad)?;
        let (payload, signature) = body.split_once('.').ok_or_else(bad)?;
        let signature = hex::decode(signature).map_err(|_| bad())?;
        let mut mac = Self::mac(&self.signing_key().await?);
        mac.update(DOMAIN);
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature).map_err(|_| bad())?;
        let json = hex::decode(payload).map_err(|_| bad())?;
        let claims: Claims = serde_json::from_slice(&json).map_err(|_| bad())?;
        if claims.exp < now().timestamp() {
            return Err(bad());
        }
        let actor = if claims.u == 0 {
            Actor::Anonymous
        } else {
            let account = user::Entity::find_by_id(claims.u)
                .one(&self.db)
                .await?
                .filter(|u| u.is_active)
                .ok_or_else(bad)?;
            let scope = Scope::parse(&claims.s).unwrap_or(Scope::Read);
            Actor::User(self.principal_for(account, scope).await?)
        };
        Ok(TokenClaims {
            actor,
            grants: claims.g,
        })
    }
}
