//! Roles on collections: reader (pulls private content), contributor (pushes), owner
//! (deletes, shares, grants roles), granted to a user, a robot or a team. Collection owners
//! and admins grant, list and revoke them; every change is audited. Grants are loaded when a
//! principal authenticates, so a change applies from the holder's next request.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde_json::json;

use super::{now, Registry, ROBOT_KIND};
use crate::entities::{collection, collection_role, entity, team, user};
use crate::error::{DomainError, Result};
use crate::policy::{Actor, Role};

/// Who holds (or is to hold) a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleHolder {
    /// A user or a robot, by name.
    User(String),
    /// A team, by name: all its members get the role.
    Team(String),
}

impl RoleHolder {
    /// `user` or `team` plus a name.
    pub fn parse(kind: &str, name: &str) -> Result<Self> {
        let name = name.trim().to_string();
        if name.is_empty() {
            return Err(DomainError::invalid(
                "name the user or team to grant the role to",
            ));
        }
        match kind {
            "user" => Ok(RoleHolder::User(name)),
            "team" => Ok(RoleHolder::Team(name)),
            other => Err(DomainError::invalid(format!(
                "unknown role holder kind {other:?}: use user or team"
            ))),
        }
    }

    fn describe(&self) -> String {
        match self {
            RoleHolder::User(n) => format!("user:{n}"),
            RoleHolder::Team(n) => format!("team:{n}"),
        }
    }
}

/// A role granted on a collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectionRoleEntry {
    pub id: i64,
    pub holder: RoleHolder,
    /// The holder is a robot account.
    pub is_robot: bool,
    pub role: Role,
    pub granted_at: chrono::DateTime<chrono::Utc>,
}

/// A holder resolved to its row id.
enum HolderId {
    User(i64),
    Team(i64),
}

impl Registry {
    /// A collection the actor may manage (owners and admins); others get "not found" when they
    /// cannot see it, "forbidden" when they can.
    async fn managed_collection(
        &self,
        actor: &Actor,
        entity_name: &str,
        collection_name: &str,
    ) -> Result<(entity::Model, collection::Model)> {
        let (entity, collection) = self.collection(actor, entity_name, collection_name).await?;
        actor.require_manage(&entity, &collection)?;
        Ok((entity, collection))
    }

    async fn resolve_holder(&self, holder: &RoleHolder) -> Result<HolderId> {
        match holder {
            RoleHolder::User(name) => Ok(HolderId::User(self.user_named(name).await?.id)),
            RoleHolder::Team(name) => Ok(HolderId::Team(self.team_named(name).await?.id)),
        }
    }

    /// The roles granted on `entity/collection` (collection owners and admins).
    pub async fn collection_roles(
        &self,
        actor: &Actor,
        entity_name: &str,
        collection_name: &str,
    ) -> Result<Vec<CollectionRoleEntry>> {
        let (_, collection) = self
            .managed_collection(actor, entity_name, collection_name)
            .await?;
        let rows = collection_role::Entity::find()
            .filter(collection_role::Column::CollectionId.eq(collection.id))
            .order_by_asc(collection_role::Column::Id)
            .all(&self.db)
            .await?;
        let users = user::Entity::find()
            .filter(user::Column::Id.is_in(rows.iter().filter_map(|r| r.user_id)))
            .all(&self.db)
            .await?;
        let teams = team::Entity::find()
            .filter(team::Column::Id.is_in(rows.iter().filter_map(|r| r.team_id)))
            .all(&self.db)
            .await?;
        let mut entries = Vec::new();
        for row in rows {
            let Ok(role) = Role::parse(&row.role) else {
                continue;
            };
            let (holder, is_robot) = match (row.user_id, row.team_id) {
                (Some(id), _) => match users.iter().find(|u| u.id == id) {
                    Some(u) => (RoleHolder::User(u.username.clone()), u.kind == ROBOT_KIND),
                    None => continue,
                },
                (None, Some(id)) => match teams.iter().find(|t| t.id == id) {
                    Some(t) => (RoleHolder::Team(t.name.clone()), false),
                    None => continue,
                },
                (None, None) => continue,
            };
            entries.push(CollectionRoleEntry {
                id: row.id,
                holder,
                is_robot,
                role,
                granted_at: row.created_at,
            });
        }
        Ok(entries)
    }

    /// Grants `role` on `entity/collection` to a user or team, replacing the role they had
    /// there (collection owners and admins). An unknown user or team is "not found".
    pub async fn grant_collection_role(
        &self,
        actor: &Actor,
        entity_name: &str,
        collection_name: &str,
        holder: &RoleHolder,
        role: Role,
    ) -> Result<()> {
        let (entity, collection) = self
            .managed_collection(actor, entity_name, collection_name)
            .await?;
        let principal = actor.require_manage(&entity, &collection)?;
        let holder_id = self.resolve_holder(holder).await?;
        let txn = self.db.begin().await?;
        let mut existing = collection_role::Entity::find()
            .filter(collection_role::Column::CollectionId.eq(collection.id));
        existing = match holder_id {
            HolderId::User(id) => existing.filter(collection_role::Column::UserId.eq(id)),
            HolderId::Team(id) => existing.filter(collection_role::Column::TeamId.eq(id)),
        };
        let previous = existing.one(&txn).await?;
        let from = previous.as_ref().map(|r| r.role.clone());
        match previous {
            Some(row) => {
                let mut active: collection_role::ActiveModel = row.into();
                active.role = Set(role.as_str().into());
                active.update(&txn).await?;
            }
            None => {
                let (user_id, team_id) = match holder_id {
                    HolderId::User(id) => (Some(id), None),
                    HolderId::Team(id) => (None, Some(id)),
                };
                collection_role::ActiveModel {
                    collection_id: Set(collection.id),
                    user_id: Set(user_id),
                    team_id: Set(team_id),
                    role: Set(role.as_str().into()),
                    created_at: Set(now()),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
            }
        }
        self.record_audit(
            &txn,
            Some(principal.user_id),
            "collection_role_grant",
            &format!("collection:{}/{}", entity.name, collection.name),
            json!({ "holder": holder.describe(), "role": role.as_str(), "previous": from }),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Takes a user's or team's role on `entity/collection` away (collection owners and
    /// admins); "not found" when they hold none.
    pub async fn revoke_collection_role(
        &self,
        actor: &Actor,
        entity_name: &str,
        collection_name: &str,
        holder: &RoleHolder,
    ) -> Result<()> {
        let (entity, collection) = self
            .managed_collection(actor, entity_name, collection_name)
            .await?;
        let principal = actor.require_manage(&entity, &collection)?;
        let holder_id = self.resolve_holder(holder).await?;
        let mut query = collection_role::Entity::delete_many()
            .filter(collection_role::Column::CollectionId.eq(collection.id));
        query = match holder_id {
            HolderId::User(id) => query.filter(collection_role::Column::UserId.eq(id)),
            HolderId::Team(id) => query.filter(collection_role::Column::TeamId.eq(id)),
        };
        let txn = self.db.begin().await?;
        let deleted = query.exec(&txn).await?.rows_affected;
        if deleted == 0 {
            return Err(DomainError::not_found(format!(
                "a role of {} on {}/{}",
                holder.describe(),
                entity.name,
                collection.name
            )));
        }
        self.record_audit(
            &txn,
            Some(principal.user_id),
            "collection_role_revoke",
            &format!("collection:{}/{}", entity.name, collection.name),
            json!({ "holder": holder.describe() }),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
}
