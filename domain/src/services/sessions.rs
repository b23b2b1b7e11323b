//! Browser sessions: a user signs in once (today with an API token; institutional login will
//! create sessions the same way) and the browser keeps a random secret in a cookie. Only the
//! secret's sha256 is stored. A session ends when unused for [`SessionLimits::idle`], at
//! [`SessionLimits::absolute`] after sign-in, when revoked (sign-out), or when the account is
//! disabled.
use chrono::{DateTime, Duration, Utc};
use rand::distr::{Alphanumeric, SampleString};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::accounts::hash_token;
use super::{now, Registry};
use crate::entities::{audit_log, session, user};
use crate::error::{DomainError, Result};
use crate::policy::{Actor, Scope};

/// Length of a session secret (alphanumeric, about 380 bits).
const SESSION_SECRET_LEN: usize = 64;
/// `last_seen_at` is written at most this often.
const LAST_SEEN_GRANULARITY_SECS: i64 = 60;
/// Longest user name recorded in the audit log for a failed sign-in.
const AUDIT_NAME_MAX: usize = 64;

/// How long sessions live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLimits {
    /// A session unused for this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, however active.
    pub absolute: Duration,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            idle: Duration::hours(12),
            absolute: Duration::days(7),
        }
    }
}

/// A new session: the secret goes into the browser's cookie and is never available again.
#[derive(Clone, Debug)]
pub struct SessionCreated {
    pub secret: String,
    pub actor: Actor,
    pub expires_at: DateTime<Utc>,
}

/// The one answer to every failed sign-in, so that it never tells which part was wrong.
pub const LOGIN_REFUSED: &str = "the user name or the token is not valid";

impl Registry {
    /// Signs `username` in with one of their API tokens. Any failure (unknown user, wrong,
    /// revoked or expired token, a token of another user, a disabled account) gives the same
    /// `Forbidden(LOGIN_REFUSED)` and an audit-log entry.
    pub async fn login_with_token(
        &self,
        username: &str,
        token: &str,
        limits: SessionLimits,
    ) -> Result<SessionCreated> {
        let username = username.trim();
        let actor = match self.authenticate(token).await {
            Ok(actor)
                if actor
                    .principal()
                    .is_some_and(|p| p.username == username && !p.is_robot) =>
            {
                actor
            }
            Ok(_) | Err(DomainError::Unauthenticated) => {
                self.audit_failed_login(username).await?;
                return Err(DomainError::forbidden(LOGIN_REFUSED));
            }
            Err(other) => return Err(other),
        };
        let created = self.create_session(&actor, limits).await?;
        if let Some(principal) = actor.principal() {
            let mut account: user::ActiveModel = user::Entity::find_by_id(principal.user_id)
                .one(&self.db)
                .await?
                .ok_or(DomainError::Unauthenticated)?
                .into();
            account.last_login_at = Set(Some(now()));
            account.update(&self.db).await?;
            self.audit(
                Some(principal.user_id),
                "login",
                &format!("user:{username}"),
            )
            .await?;
        }
        Ok(created)
    }

    /// Opens a session for an authenticated actor (the hook institutional login will use).
    pub async fn create_session(
        &self,
        actor: &Actor,
        limits: SessionLimits,
    ) -> Result<SessionCreated> {
        let principal = actor.require_user()?;
        if principal.is_robot {
            return Err(DomainError::forbidden(
                "robot accounts use tokens only and never sign in to the web interface",
            ));
        }
        let secret = Alphanumeric.sample_string(&mut rand::rng(), SESSION_SECRET_LEN);
        let at = now();
        let expires_at = at + limits.absolute;
        session::ActiveModel {
            secret_hash: Set(hash_token(&secret)),
            user_id: Set(principal.user_id),
            scope: Set(principal.scope.as_str().to_string()),
            created_at: Set(at),
            last_seen_at: Set(at),
            expires_at: Set(expires_at),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(SessionCreated {
            secret,
            actor: actor.clone(),
            expires_at,
        })
    }

    /// The actor behind a session cookie, or `None` when the session is unknown, ended or
    /// revoked (an ended session is deleted on the way).
    pub async fn resolve_session(
        &self,
        secret: &str,
        limits: SessionLimits,
    ) -> Result<Option<Actor>> {
        if secret.is_empty() || secret.len() > 256 {
            return Ok(None);
        }
        let Some(found) = session::Entity::find()
            .filter(session::Column::SecretHash.eq(hash_token(secret)))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let at = now();
        if found.expires_at <= at || found.last_seen_at + limits.idle <= at {
            session::Entity::delete_by_id(found.id)
                .exec(&self.db)
                .await?;
            return Ok(None);
        }
        let Some(account) = user::Entity::find_by_id(found.user_id)
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        if !account.is_active {
            return Ok(None);
        }
        let scope = Scope::parse(&found.scope).unwrap_or(Scope::Read);
        if (at - found.last_seen_at).num_seconds() >= LAST_SEEN_GRANULARITY_SECS {
            let mut active: session::ActiveModel = found.into();
            active.last_seen_at = Set(at);
            active.update(&self.db).await?;
        }
        Ok(Some(Actor::User(self.principal_for(account, scope).await?)))
    }

    /// Ends a session (sign-out); unknown secrets are not an error.
    pub async fn revoke_session(&self, secret: &str) -> Result<()> {
        session::Entity::delete_many()
            .filter(session::Column::SecretHash.eq(hash_token(secret)))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Deletes sessions past their absolute or idle end; returns how many.
    pub async fn sweep_expired_sessions(&self, limits: SessionLimits) -> Result<u64> {
        let at = now();
        let result = session::Entity::delete_many()
            .filter(
                sea_orm::Condition::any()
                    .add(session::Column::ExpiresAt.lte(at))
                    .add(session::Column::LastSeenAt.lte(at - limits.idle)),
            )
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected)
    }

    /// Records a failed sign-in of any backend (token, LDAP) in the audit log.
    pub async fn audit_failed_login(&self, username: &str) -> Result<()> {
        let name: String = username.chars().take(AUDIT_NAME_MAX).collect();
        self.audit(None, "login_failed", &format!("user:{name}"))
            .await
    }

    async fn audit(&self, actor_id: Option<i64>, action: &str, target: &str) -> Result<()> {
        audit_log::ActiveModel {
            actor_id: Set(actor_id),
            action: Set(action.to_string()),
            target: Set(target.to_string()),
            detail: Set("{}".into()),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::NewToken;
    use crate::store::FsBlobStore;
    use crate::testing::TestDb;
    use sea_orm::PaginatorTrait;
    use std::sync::Arc;

    async fn registry(db: &TestDb) -> Registry {
        let store = FsBlobStore::open(db.dir.path().join("blobs"))
            .await
            .unwrap();
        Registry::new(db.db.clone(), Arc::new(store))
    }

    async fn token(registry: &Registry, name: &str) -> String {
        registry.create_user(name, "", false).await.unwrap();
        let new = NewToken {
            label: "web".into(),
            scope: None,
            expires_in_days: None,
        };
        registry.create_token(name, new).await.unwrap().secret
    }

    #[tokio::test]
    async fn login_creates_a_session_that_resolves_and_revokes() {
        let db = TestDb::new().await;
        let r = registry(&db).await;
        let secret = token(&r, "alice").await;
        let limits = SessionLimits::default();
        let created = r.login_with_token("alice", &secret, limits).await.unwrap();
        let stored = session::Entity::find().one(r.db()).await.unwrap().unwrap();
        assert_ne!(
            stored.secret_hash, created.secret,
            "only the hash is stored"
        );
        assert_eq!(stored.secret_hash, hash_token(&created.secret));
        let actor = r.resolve_session(&created.secret, limits).await.unwrap();
        let principal = actor.as_ref().and_then(Actor::principal).unwrap();
        assert_eq!(
            (principal.username.as_str(), principal.scope),
            ("alice", Scope::Push)
        );
        assert!(r.resolve_session("nope", limits).await.unwrap().is_none());
        r.revoke_session(&created.secret).await.unwrap();
        assert!(r
            .resolve_session(&created.secret, limits)
            .await
            .unwrap()
            .is_none());
    }

    #[tokio::test]
    async fn failed_logins_look_alike_and_are_audited() {
        let db = TestDb::new().await;
        let r = registry(&db).await;
        let alice = token(&r, "alice").await;
        token(&r, "bob").await;
        let limits = SessionLimits::default();
        for (user, secret) in [
            ("bob", alice.as_str()),
            ("nobody", alice.as_str()),
            ("alice", "silo_wrong"),
        ] {
            let err = r.login_with_token(user, secret, limits).await.unwrap_err();
            assert_eq!(err.to_string(), LOGIN_REFUSED, "{user}");
        }
        let failed = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("login_failed"))
            .count(r.db())
            .await
            .unwrap();
        assert_eq!(failed, 3);
        assert_eq!(session::Entity::find().count(r.db()).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn sessions_end_when_idle_or_too_old() {
        let db = TestDb::new().await;
        let r = registry(&db).await;
        let secret = token(&r, "alice").await;
        let limits = SessionLimits::default();
        let idle = r.login_with_token("alice", &secret, limits).await.unwrap();
        let old = r.login_with_token("alice", &secret, limits).await.unwrap();
        let fresh = r.login_with_token("alice", &secret, limits).await.unwrap();
        let age = |secret: &str, last_seen: Duration, expires: Duration| {
            let hash = hash_token(secret);
            let db = r.db().clone();
            async move {
                let row = session::Entity::find()
                    .filter(session::Column::SecretHash.eq(hash))
                    .one(&db)
                    .await
                    .unwrap()
                    .unwrap();
                let mut active: session::ActiveModel = row.into();
                active.last_seen_at = Set(now() - last_seen);
                active.expires_at = Set(now() + expires);
                active.update(&db).await.unwrap();
            }
        };
        age(
            &idle.secret,
            limits.idle + Duration::minutes(1),
            Duration::days(1),
        )
        .await;
        age(&old.secret, Duration::minutes(1), -Duration::minutes(1)).await;
        assert!(r
            .resolve_session(&idle.secret, limits)
            .await
            .unwrap()
            .is_none());
        assert!(r
            .resolve_session(&old.secret, limits)
            .await
            .unwrap()
            .is_none());
        assert!(r
            .resolve_session(&fresh.secret, limits)
            .await
            .unwrap()
            .is_some());
        // Resolving deleted the two ended sessions; the sweep finds nothing more.
        assert_eq!(session::Entity::find().count(r.db()).await.unwrap(), 1);
        age(&fresh.secret, limits.idle * 2, Duration::days(1)).await;
        assert_eq!(r.sweep_expired_sessions(limits).await.unwrap(), 1);
    }
}
