//! Users and API tokens. Tokens are random, shown once, and stored only as a sha256 hash.
use chrono::{DateTime, Duration, Utc};
use rand::distr::{Alphanumeric, SampleString};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use sha2::{Digest, Sha256};

use super::{now, Registry, TOKEN_RANDOM_LEN};
use crate::entities::{api_token, user};
use crate::error::{DomainError, Result};
use crate::names::validate_segment;
use crate::policy::{Actor, Scope};

pub(crate) const TOKEN_PREFIX: &str = "silo_";
/// A token's `last_used_at` is written at most this often, to keep reads free of writes.
const LAST_USED_GRANULARITY_SECS: i64 = 60;

/// What to create a token with.
#[derive(Clone, Debug)]
pub struct NewToken {
    pub label: String,
    pub scope: Option<Scope>,
    pub expires_in_days: Option<u32>,
}

/// A freshly created token: the secret is only ever available here.
#[derive(Clone, Debug)]
pub struct TokenCreated {
    pub secret: String,
    pub record: api_token::Model,
}

pub(crate) fn hash_token(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl Registry {
    /// Creates a local account. User names follow entity naming rules, since each user
    /// gets the entity named after them.
    pub async fn create_user(
        &self,
        username: &str,
        email: &str,
        is_admin: bool,
    ) -> Result<user::Model> {
        validate_segment("user", username)?;
        if self.find_user(username).await?.is_some() {
            return Err(DomainError::Conflict(format!(
                "user {username:?} already exists"
            )));
        }
        // Users and teams share one namespace: each gets the entity named after them.
        let team_named = crate::entities::team::Entity::find()
            .filter(crate::entities::team::Column::Name.eq(username))
            .one(&self.db)
            .await?;
        if team_named.is_some() {
            return Err(DomainError::Conflict(format!(
                "{username:?} is the name of a team"
            )));
        }
        let model = user::ActiveModel {
            username: Set(username.to_string()),
            email: Set(email.to_string()),
            realname: Set(String::new()),
            is_admin: Set(is_admin),
            is_active: Set(true),
            created_at: Set(now()),
            last_login_at: Set(None),
            kind: Set(super::HUMAN_KIND.to_string()),
            robot_owner_id: Set(None),
            quota: Set(0),
            ..Default::default()
        };
        Ok(model.insert(&self.db).await?)
    }

    pub async fn find_user(&self, username: &str) -> Result<Option<user::Model>> {
        Ok(user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(&self.db)
            .await?)
    }

    pub async fn list_users(&self) -> Result<Vec<user::Model>> {
        Ok(user::Entity::find()
            .order_by_asc(user::Column::Username)
            .all(&self.db)
            .await?)
    }

    /// Issues a new API token for `username`. Admins' tokens default to admin scope, other
    /// users' to push scope; a scope above the account's rights is refused.
    pub async fn create_token(&self, username: &str, new: NewToken) -> Result<TokenCreated> {
        let account = self
            .find_user(username)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("user {username:?}")))?;
        let default_scope = if account.is_admin {
            Scope::Admin
        } else {
            Scope::Push
        };
        let scope = new.scope.unwrap_or(default_scope);
        if scope == Scope::Admin && !account.is_admin {
            return Err(DomainError::forbidden(
                "only admins may hold admin-scoped tokens",
            ));
        }
        let secret = format!(
            "{TOKEN_PREFIX}{}",
            Alphanumeric.sample_string(&mut rand::rng(), TOKEN_RANDOM_LEN)
        );
        let expires_at: Option<DateTime<Utc>> = new
            .expires_in_days
            .map(|days| now() + Duration::days(i64::from(days)));
        let record = api_token::ActiveModel {
            user_id: Set(account.id),
            label: Set(new.label),
            token_hash: Set(hash_token(&secret)),
            scope: Set(scope.as_str().to_string()),
            created_at: Set(now()),
            expires_at: Set(expires_at),
            last_used_at: Set(None),
            revoked_at: Set(None),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(TokenCreated { secret, record })
    }

    /// Turns a bearer secret into an actor. Unknown, revoked and expired tokens, and tokens of
    /// disabled accounts, are refused with `Unauthenticated`. A live share link's secret
    /// stands for its [`Actor::Share`] (which may read one container, nothing more).
    pub async fn authenticate(&self, secret: &str) -> Result<Actor> {
        let secret = secret.trim();
        if secret.is_empty() || secret.len() > 4096 {
            return Err(DomainError::Unauthenticated);
        }
        if super::is_share_secret(secret) {
            return self
                .resolve_share(secret)
                .await
                .map_err(|_| DomainError::Unauthenticated);
        }
        let Some(token) = api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(hash_token(secret)))
            .one(&self.db)
            .await?
        else {
            return Err(DomainError::Unauthenticated);
        };
        let at = now();
        if token.revoked_at.is_some() || token.expires_at.is_some_and(|e| e <= at) {
            return Err(DomainError::Unauthenticated);
        }
        let Some(account) = user::Entity::find_by_id(token.user_id)
            .one(&self.db)
            .await?
        else {
            return Err(DomainError::Unauthenticated);
        };
        let stale = token
            .last_used_at
            .is_none_or(|t| (at - t).num_seconds() >= LAST_USED_GRANULARITY_SECS);
        let scope = Scope::parse(&token.scope).unwrap_or(Scope::Read);
        if stale {
            let mut active: api_token::ActiveModel = token.into();
            active.last_used_at = Set(Some(at));
            active.update(&self.db).await?;
        }
        self.actor_for(account, scope).await
    }
}
