//! Storage quotas per user and per team (`users.quota`, `teams.quota`; bytes, 0 = unlimited).
//!
//! What counts against a quota is what the holder's entities store: the sizes of the uploaded
//! images of every container in the entities the user (`entities.owner_id`) or the team
//! (`entities.team_id`) owns, plus OCI blobs linked to those containers that are not also one
//! of the container's images (so a SIF pushed with oras counts once).
//!
//! [`Registry::admit_push_bytes`] is the one admission check: every push surface calls it
//! with the size the client announced before accepting bytes (library single-part, multipart
//! and legacy uploads, OCI blob uploads, the browser upload, the sregistry push), and, where
//! no size was announced, again with the received size before the bytes become visible.
use std::collections::HashMap;

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, Set};

use super::Registry;
use crate::entities::{entity, team, user};
use crate::error::{DomainError, Result};
use crate::policy::Actor;

/// Whose quota an entity's bytes count against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuotaHolder {
    User(i64),
    Team(i64),
}

impl QuotaHolder {
    fn column(self) -> &'static str {
        match self {
            QuotaHolder::User(_) => "owner_id",
            QuotaHolder::Team(_) => "team_id",
        }
    }
    fn id(self) -> i64 {
        match self {
            QuotaHolder::User(id) | QuotaHolder::Team(id) => id,
        }
    }
}

#[derive(FromQueryResult)]
struct UsedRow {
    holder: i64,
    used: Option<i64>,
}

/// A team with its quota and what its entities store, for the admin pages.
#[derive(Clone, Debug)]
pub struct TeamQuota {
    pub team: team::Model,
    pub used: i64,
}

/// Bytes as people read them (`1.5 GiB`), for error messages.
pub fn human_bytes(bytes: i64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes.max(0) as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

impl Registry {
    /// Bytes stored by the entities of each holder in `ids` (all of one kind, see
    /// [`QuotaHolder`]); holders storing nothing are absent. One grouped query.
    pub(crate) async fn storage_used_by(
        &self,
        kind: QuotaHolder,
        ids: &[i64],
    ) -> Result<HashMap<i64, i64>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        // Only integers from the database are inlined: nothing caller-supplied becomes SQL.
        let list = ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let col = kind.column();
        let sql = format!(
            "SELECT holder, CAST(SUM(bytes) AS BIGINT) AS used FROM (\
               SELECT e.{col} AS holder, i.size AS bytes FROM images i \
                 JOIN containers n ON n.id = i.container_id \
                 JOIN collections c ON c.id = n.collection_id \
                 JOIN entities e ON e.id = c.entity_id \
                 WHERE i.uploaded = TRUE AND e.{col} IN ({list}) \
               UNION ALL \
               SELECT e.{col} AS holder, b.size AS bytes FROM oci_blobs b \
                 JOIN containers n ON n.id = b.container_id \
                 JOIN collections c ON c.id = n.collection_id \
                 JOIN entities e ON e.id = c.entity_id \
                 WHERE e.{col} IN ({list}) AND NOT EXISTS (SELECT 1 FROM images i2 \
                   WHERE i2.container_id = b.container_id AND i2.sha256 = b.digest)\
             ) t GROUP BY holder"
        );
        let backend = self.db.get_database_backend();
        let rows = UsedRow::find_by_statement(sea_orm::Statement::from_string(backend, sql))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| (row.holder, row.used.unwrap_or(0)))
            .collect())
    }

    /// Bytes stored by one holder's entities.
    pub async fn storage_used(&self, holder: QuotaHolder) -> Result<i64> {
        let used = self.storage_used_by(holder, &[holder.id()]).await?;
        Ok(used.get(&holder.id()).copied().unwrap_or(0))
    }

    /// The one quota check of every push: refuses (`Forbidden`, a clear message) a push of
    /// `incoming` bytes into the entity `entity_name` when the holder's stored bytes plus
    /// `incoming` would exceed their quota. An entity that does not exist yet will belong to
    /// the user it is named after (see `create_entity`). Entities without an owner, and
    /// holders with quota 0, are unlimited.
    pub async fn admit_push_bytes(&self, entity_name: &str, incoming: u64) -> Result<()> {
        let found = entity::Entity::find()
            .filter(entity::Column::Name.eq(entity_name))
            .one(&self.db)
            .await?;
        let holder = match found {
            Some(e) => match (e.team_id, e.owner_id) {
                (Some(team_id), _) => Some(QuotaHolder::Team(team_id)),
                (None, Some(user_id)) => Some(QuotaHolder::User(user_id)),
                (None, None) => None,
            },
            None => self
                .find_user(entity_name)
                .await?
                .map(|u| QuotaHolder::User(u.id)),
        };
        let Some(holder) = holder else {
            return Ok(());
        };
        let (quota, who) = match holder {
            QuotaHolder::User(id) => {
                let u = user::Entity::find_by_id(id).one(&self.db).await?;
                u.map_or((0, String::new()), |u| {
                    (u.quota, format!("user {}", u.username))
                })
            }
            QuotaHolder::Team(id) => {
                let t = team::Entity::find_by_id(id).one(&self.db).await?;
                t.map_or((0, String::new()), |t| {
                    (t.quota, format!("team {}", t.name))
                })
            }
        };
        if quota <= 0 {
            return Ok(());
        }
        let used = self.storage_used(holder).await?;
        let incoming = i64::try_from(incoming).unwrap_or(i64::MAX);
        if used.saturating_add(incoming) > quota {
            return Err(DomainError::forbidden(format!(
                "storage quota exceeded: {who} stores {} of a {} quota, and this push needs {} more; \
                 delete old images or ask an administrator for more space",
                human_bytes(used),
                human_bytes(quota),
                human_bytes(incoming)
            )));
        }
        Ok(())
    }

    /// [`Registry::admit_push_bytes`] for bytes already in the store (pushes that announced
    /// no size): a refusal deletes them again unless something else uses them.
    pub(crate) async fn admit_stored_bytes(
        &self,
        entity_name: &str,
        blob: &crate::store::StoredBlob,
    ) -> Result<()> {
        if let Err(refused) = self.admit_push_bytes(entity_name, blob.size).await {
            // Image records still waiting for these bytes do not keep them.
            self.discard_refused(blob).await?;
            return Err(refused);
        }
        Ok(())
    }

    /// Sets a user's quota in bytes (0 = unlimited): administrators only; audited.
    pub async fn set_user_quota(
        &self,
        actor: &Actor,
        username: &str,
        bytes: i64,
    ) -> Result<user::Model> {
        let admin = actor.require_admin()?;
        check_quota_value(bytes)?;
        let account = self
            .find_user(username)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("user {username:?}")))?;
        let before = account.quota;
        let mut active: user::ActiveModel = account.into();
        active.quota = Set(bytes);
        let updated = active.update(&self.db).await?;
        self.record_audit(
            &self.db,
            Some(admin.user_id),
            "quota.user",
            &format!("user:{username}"),
            serde_json::json!({"from": before, "to": bytes}),
        )
        .await?;
        Ok(updated)
    }

    /// Sets a team's quota in bytes (0 = unlimited): administrators only; audited.
    pub async fn set_team_quota(
        &self,
        actor: &Actor,
        team_name: &str,
        bytes: i64,
    ) -> Result<team::Model> {
        let admin = actor.require_admin()?;
        check_quota_value(bytes)?;
        let found = team::Entity::find()
            .filter(team::Column::Name.eq(team_name))
            .one(&self.db)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("team {team_name:?}")))?;
        let before = found.quota;
        let mut active: team::ActiveModel = found.into();
        active.quota = Set(bytes);
        let updated = active.update(&self.db).await?;
        self.record_audit(
            &self.db,
            Some(admin.user_id),
            "quota.team",
            &format!("team:{team_name}"),
            serde_json::json!({"from": before, "to": bytes}),
        )
        .await?;
        Ok(updated)
    }

    /// Every team with its quota and usage: administrators only.
    pub async fn team_quotas(&self, actor: &Actor) -> Result<Vec<TeamQuota>> {
        actor.require_admin()?;
        let teams = team::Entity::find().all(&self.db).await?;
        let ids: Vec<i64> = teams.iter().map(|t| t.id).collect();
        let used = self.storage_used_by(QuotaHolder::Team(0), &ids).await?;
        let mut rows: Vec<TeamQuota> = teams
            .into_iter()
            .map(|t| TeamQuota {
                used: used.get(&t.id).copied().unwrap_or(0),
                team: t,
            })
            .collect();
        rows.sort_by(|a, b| a.team.name.cmp(&b.team.name));
        Ok(rows)
    }
}

fn check_quota_value(bytes: i64) -> Result<()> {
    if bytes < 0 {
        return Err(DomainError::invalid(
            "a quota is a number of bytes, 0 for unlimited",
        ));
    }
    Ok(())
}
