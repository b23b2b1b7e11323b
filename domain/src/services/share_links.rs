//! Share links: a collection owner hands out an expiring, revocable secret that lets whoever
//! holds it pull one container (in the browser, with `curl`, or as `shub://host/share/<secret>`)
//! and nothing else. The holder acts as [`Actor::Share`]; [`Actor::can_read_container`] lets
//! that actor read exactly the shared container. Only the secret's sha256 is stored.
use chrono::{DateTime, Duration, Utc};
use rand::distr::{Alphanumeric, SampleString};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;

use super::accounts::hash_token;
use super::{now, ContainerView, Registry};
use crate::entities::share_link;
use crate::error::{DomainError, Result};
use crate::names::ContainerPath;
use crate::policy::{Actor, ShareGrant};

/// Every share secret starts with this (API tokens start with `silo_`).
pub const SHARE_PREFIX: &str = "silos_";
/// Length of the random part: with the prefix 54 characters, within the 64 a `shub://`
/// container name may have, and about 285 bits.
const SHARE_RANDOM_LEN: usize = 48;
/// The longest a share link may live.
pub const SHARE_MAX_DAYS: i64 = 90;
/// The shortest a share link may live.
pub const SHARE_MIN_MINUTES: i64 = 5;
/// Longest share link label, in characters.
pub const SHARE_LABEL_MAX: usize = 100;
/// The one answer for unknown, expired and revoked links.
const SHARE_GONE: &str = "share link (unknown, expired or revoked)";

/// A share link as its container's owners see it (never the secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareLinkInfo {
    pub id: i64,
    pub container_id: i64,
    pub label: String,
    /// User name of whoever created it.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub use_count: i64,
}

impl ShareLinkInfo {
    /// Whether the link still works at `at`.
    pub fn is_live(&self, at: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > at
    }
}

/// A new link: `secret` is shown once.
#[derive(Clone, Debug)]
pub struct ShareLinkCreated {
    pub secret: String,
    pub info: ShareLinkInfo,
}

/// Whether a string has the shape of a share secret (cheap test before a lookup).
pub fn is_share_secret(s: &str) -> bool {
    s.strip_prefix(SHARE_PREFIX).is_some_and(|rest| {
        rest.len() == SHARE_RANDOM_LEN && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

impl Registry {
    /// Creates a share link for the container at `path`: collection owners only, with an
    /// expiry between [`SHARE_MIN_MINUTES`] and [`SHARE_MAX_DAYS`] days. Audited.
    pub async fn create_share_link(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        label: &str,
        expires_in: Duration,
    ) -> Result<ShareLinkCreated> {
        let view = self.container(actor, path).await?;
        let principal = actor.require_manage(&view.entity, &view.collection)?;
        let label = label.trim();
        if label.chars().count() > SHARE_LABEL_MAX {
            return Err(DomainError::invalid(format!(
                "a share link label may have at most {SHARE_LABEL_MAX} characters"
            )));
        }
        if expires_in < Duration::minutes(SHARE_MIN_MINUTES)
            || expires_in > Duration::days(SHARE_MAX_DAYS)
        {
            return Err(DomainError::invalid(format!(
                "a share link must expire between {SHARE_MIN_MINUTES} minutes and \
                 {SHARE_MAX_DAYS} days from now"
            )));
        }
        let secret = format!(
            "{SHARE_PREFIX}{}",
            Alphanumeric.sample_string(&mut rand::rng(), SHARE_RANDOM_LEN)
        );
        let at = now();
        let record = share_link::ActiveModel {
            container_id: Set(view.container.id),
            token_hash: Set(hash_token(&secret)),
            label: Set(label.to_string()),
            created_by: Set(principal.user_id),
            created_at: Set(at),
            expires_at: Set(at + expires_in),
            revoked_at: Set(None),
            last_used_at: Set(None),
            use_count: Set(0),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        self.record_audit(
            &self.db,
            Some(principal.user_id),
            "share_link_created",
            &format!("container:{}", view.path()),
            json!({"link_id": record.id, "label": record.label, "expires_at": record.expires_at}),
        )
        .await?;
        let info = self.share_link_info(record).await?;
        Ok(ShareLinkCreated { secret, info })
    }

    /// The share links of the container at `path`, newest first: collection owners only.
    pub async fn list_share_links(
        &self,
        actor: &Actor,
        path: &ContainerPath,
    ) -> Result<Vec<ShareLinkInfo>> {
        let view = self.container(actor, path).await?;
        actor.require_manage(&view.entity, &view.collection)?;
        let rows = share_link::Entity::find()
            .filter(share_link::Column::ContainerId.eq(view.container.id))
            .order_by_desc(share_link::Column::CreatedAt)
            .order_by_desc(share_link::Column::Id)
            .all(&self.db)
            .await?;
        let mut links = Vec::with_capacity(rows.len());
        for row in rows {
            links.push(self.share_link_info(row).await?);
        }
        Ok(links)
    }

    /// Revokes a share link: owners of its container's collection only (for anyone else it
    /// looks absent). Revoking twice changes nothing. Audited.
    pub async fn revoke_share_link(&self, actor: &Actor, link_id: i64) -> Result<ShareLinkInfo> {
        let principal = actor.require_user()?;
        let not_found = || DomainError::not_found(format!("share link {link_id}"));
        let link = share_link::Entity::find_by_id(link_id)
            .one(&self.db)
            .await?
            .ok_or_else(not_found)?;
        let view = self.load_container_view(link.container_id).await?;
        actor
            .require_manage(&view.entity, &view.collection)
            .map_err(|_| not_found())?;
        if link.revoked_at.is_some() {
            return self.share_link_info(link).await;
        }
        let mut active: share_link::ActiveModel = link.into();
        active.revoked_at = Set(Some(now()));
        let updated = active.update(&self.db).await?;
        self.record_audit(
            &self.db,
            Some(principal.user_id),
            "share_link_revoked",
            &format!("container:{}", view.path()),
            json!({"link_id": link_id, "label": updated.label}),
        )
        .await?;
        self.share_link_info(updated).await
    }

    /// The actor a share secret stands for, counting the use. Unknown, expired and revoked
    /// links are all `NotFound`.
    pub async fn resolve_share(&self, secret: &str) -> Result<Actor> {
        let secret = secret.trim();
        if !is_share_secret(secret) {
            return Err(DomainError::not_found(SHARE_GONE));
        }
        let link = share_link::Entity::find()
            .filter(share_link::Column::TokenHash.eq(hash_token(secret)))
            .one(&self.db)
            .await?
            .ok_or_else(|| DomainError::not_found(SHARE_GONE))?;
        let at = now();
        if link.revoked_at.is_some() || link.expires_at <= at {
            return Err(DomainError::not_found(SHARE_GONE));
        }
        share_link::Entity::update_many()
            .col_expr(
                share_link::Column::UseCount,
                Expr::col(share_link::Column::UseCount).add(1),
            )
            .col_expr(share_link::Column::LastUsedAt, Expr::value(Some(at)))
            .filter(share_link::Column::Id.eq(link.id))
            .exec(&self.db)
            .await?;
        Ok(Actor::Share(ShareGrant {
            link_id: link.id,
            container_id: link.container_id,
        }))
    }

    /// The share actor and the container its link shares.
    pub async fn shared_container(&self, secret: &str) -> Result<(Actor, ContainerView)> {
        let actor = self.resolve_share(secret).await?;
        let Actor::Share(grant) = &actor else {
            return Err(DomainError::not_found(SHARE_GONE));
        };
        let view = self.container_by_id(&actor, grant.container_id).await?;
        Ok((actor, view))
    }

    /// When the share link behind a [`Actor::Share`] ends.
    pub async fn share_link_expiry(&self, actor: &Actor) -> Result<DateTime<Utc>> {
        let Actor::Share(grant) = actor else {
            return Err(DomainError::not_found(SHARE_GONE));
        };
        share_link::Entity::find_by_id(grant.link_id)
            .one(&self.db)
            .await?
            .map(|l| l.expires_at)
            .ok_or_else(|| DomainError::not_found(SHARE_GONE))
    }

    async fn share_link_info(&self, link: share_link::Model) -> Result<ShareLinkInfo> {
        let created_by = crate::entities::user::Entity::find_by_id(link.created_by)
            .one(&self.db)
            .await?
            .map(|u| u.username)
            .unwrap_or_default();
        Ok(ShareLinkInfo {
            id: link.id,
            container_id: link.container_id,
            label: link.label,
            created_by,
            created_at: link.created_at,
            expires_at: link.expires_at,
            revoked_at: link.revoked_at,
            last_used_at: link.last_used_at,
            use_count: link.use_count,
        })
    }
}

#[cfg(test)]
#[path = "share_links_tests.rs"]
mod tests;
