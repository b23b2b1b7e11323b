//! A user's own API tokens, as the tokens page (`/auth/tokens`) manages them: list, create
//! (label, scope, expiry; the secret is shown once) and revoke. Only sha256 hashes are stored
//! (see `accounts.rs`); expired and revoked tokens are refused by [`Registry::authenticate`]
//! and by the sregistry credentials bound to them. Robot accounts' tokens are managed by
//! their owners elsewhere, never here.
use chrono::{DateTime, Duration, Utc};
use rand::distr::{Alphanumeric, SampleString};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;

use super::accounts::{hash_token, TOKEN_PREFIX};
use super::{now, Registry, TokenCreated, TOKEN_RANDOM_LEN};
use crate::entities::api_token;
use crate::error::{DomainError, Result};
use crate::policy::{Actor, Scope};

/// Longest token label, in characters.
pub const TOKEN_LABEL_MAX: usize = 100;
/// Longest expiry a token may be given in days (ten years); "never" is separate.
pub const TOKEN_MAX_DAYS: u32 = 3650;

/// When a new token stops working.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenExpiry {
    Never,
    /// This many days from now (1 to [`TOKEN_MAX_DAYS`]).
    Days(u32),
    /// At this moment, which must lie in the future (and within [`TOKEN_MAX_DAYS`]).
    At(DateTime<Utc>),
}

impl TokenExpiry {
    fn resolve(self, from: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        let latest = from + Duration::days(i64::from(TOKEN_MAX_DAYS));
        match self {
            TokenExpiry::Never => Ok(None),
            TokenExpiry::Days(days) if (1..=TOKEN_MAX_DAYS).contains(&days) => {
                Ok(Some(from + Duration::days(i64::from(days))))
            }
            TokenExpiry::Days(_) => Err(DomainError::invalid(format!(
                "a token's expiry must be between 1 and {TOKEN_MAX_DAYS} days"
            ))),
            TokenExpiry::At(at) if at <= from => Err(DomainError::invalid(
                "a token's expiry date must lie in the future",
            )),
            TokenExpiry::At(at) if at > latest => Err(DomainError::invalid(format!(
                "a token's expiry date may be at most {TOKEN_MAX_DAYS} days away"
            ))),
            TokenExpiry::At(at) => Ok(Some(at)),
        }
    }
}

/// What the tokens page asks for.
#[derive(Clone, Debug)]
pub struct OwnTokenRequest {
    pub label: String,
    pub scope: Scope,
    pub expiry: TokenExpiry,
}

/// A token as its owner sees it: everything but the secret (and its hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: i64,
    pub label: String,
    pub scope: Scope,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Whether a token still works.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenStatus {
    Active,
    Expired,
    Revoked,
}

impl TokenStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Expired => "expired",
            TokenStatus::Revoked => "revoked",
        }
    }
}

impl TokenInfo {
    pub fn status_at(&self, at: DateTime<Utc>) -> TokenStatus {
        if self.revoked_at.is_some() {
            TokenStatus::Revoked
        } else if self.expires_at.is_some_and(|e| e <= at) {
            TokenStatus::Expired
        } else {
            TokenStatus::Active
        }
    }
}

impl From<&api_token::Model> for TokenInfo {
    fn from(t: &api_token::Model) -> Self {
        TokenInfo {
            id: t.id,
            label: t.label.clone(),
            scope: Scope::parse(&t.scope).unwrap_or(Scope::Read),
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// A token created on the tokens page: `secret` is shown once and never again.
#[derive(Clone, Debug)]
pub struct OwnTokenCreated {
    pub secret: String,
    pub info: TokenInfo,
}

pub(crate) fn new_token_secret() -> String {
    format!(
        "{TOKEN_PREFIX}{}",
        Alphanumeric.sample_string(&mut rand::rng(), TOKEN_RANDOM_LEN)
    )
}

impl Registry {
    /// The actor's own tokens, newest first (revoked and expired ones included).
    pub async fn list_tokens(&self, actor: &Actor) -> Result<Vec<TokenInfo>> {
        let principal = actor.require_user()?;
        let rows = api_token::Entity::find()
            .filter(api_token::Column::UserId.eq(principal.user_id))
            .order_by_desc(api_token::Column::CreatedAt)
            .order_by_desc(api_token::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows.iter().map(TokenInfo::from).collect())
    }

    /// Creates a token for the actor themselves. The scope may not exceed the credential the
    /// actor is using (a read-only sign-in cannot mint push tokens), and admin scope needs an
    /// administrator account. Robots cannot create their own tokens.
    pub async fn create_own_token(
        &self,
        actor: &Actor,
        request: OwnTokenRequest,
    ) -> Result<OwnTokenCreated> {
        let principal = actor.require_user()?;
        if principal.is_robot {
            return Err(DomainError::forbidden(
                "robot accounts' tokens are managed by the robot's owner",
            ));
        }
        let label = request.label.trim();
        if label.is_empty() {
            return Err(DomainError::invalid("give the token a label"));
        }
        if label.chars().count() > TOKEN_LABEL_MAX {
            return Err(DomainError::invalid(format!(
                "a token label may have at most {TOKEN_LABEL_MAX} characters"
            )));
        }
        if request.scope == Scope::Admin && !principal.is_admin {
            return Err(DomainError::forbidden(
                "only admins may hold admin-scoped tokens",
            ));
        }
        if request.scope > principal.scope {
            return Err(DomainError::forbidden(format!(
                "you are signed in with a {}-scoped credential; it cannot create a {}-scoped token",
                principal.scope.as_str(),
                request.scope.as_str()
            )));
        }
        let at = now();
        let expires_at = request.expiry.resolve(at)?;
        let secret = new_token_secret();
        let record = api_token::ActiveModel {
            user_id: Set(principal.user_id),
            label: Set(label.to_string()),
            token_hash: Set(hash_token(&secret)),
            scope: Set(request.scope.as_str().to_string()),
            created_at: Set(at),
            expires_at: Set(expires_at),
            last_used_at: Set(None),
            revoked_at: Set(None),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        self.record_audit(
            &self.db,
            Some(principal.user_id),
            "token_created",
            &format!("token:{}", record.id),
            json!({"user": principal.username, "label": record.label, "scope": record.scope,
                   "expires_at": record.expires_at}),
        )
        .await?;
        let created = TokenCreated { secret, record };
        Ok(OwnTokenCreated {
            info: TokenInfo::from(&created.record),
            secret: created.secret,
        })
    }

    /// Revokes a token: the actor's own, or anyone's for administrators. Other users' tokens
    /// look absent. Revoking a revoked token changes nothing.
    pub async fn revoke_token(&self, actor: &Actor, token_id: i64) -> Result<TokenInfo> {
        let principal = actor.require_user()?;
        let not_found = || DomainError::not_found(format!("token {token_id}"));
        let token = api_token::Entity::find_by_id(token_id)
            .one(&self.db)
            .await?
            .ok_or_else(not_found)?;
        if token.user_id != principal.user_id && !actor.is_admin() {
            return Err(not_found());
        }
        if token.revoked_at.is_some() {
            return Ok(TokenInfo::from(&token));
        }
        let owner_id = token.user_id;
        let mut active: api_token::ActiveModel = token.into();
        active.revoked_at = Set(Some(now()));
        let updated = active.update(&self.db).await?;
        self.record_audit(
            &self.db,
            Some(principal.user_id),
            "token_revoked",
            &format!("token:{token_id}"),
            json!({"owner_id": owner_id, "label": updated.label, "by": principal.username}),
        )
        .await?;
        Ok(TokenInfo::from(&updated))
    }
}

#[cfg(test)]
#[path = "tokens_tests.rs"]
mod tests;
