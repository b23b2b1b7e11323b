//! Turning an account into a [`Principal`] with everything it has been granted, and the
//! push checks every surface shares. The rules themselves live in [`crate::policy`].
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
use std::collections::BTreeMap;

use super::Registry;
use crate::entities::{collection, collection_role, team_membership, user};
use crate::error::{DomainError, Result};
use crate::names::ContainerPath;
use crate::policy::{Actor, CollectionGrant, Grants, Principal, Role, Scope, TeamGrant};

/// `users.kind` of robot (CI) accounts.
pub const ROBOT_KIND: &str = "robot";
/// `users.kind` of people.
pub const HUMAN_KIND: &str = "human";

impl Registry {
    /// The principal of `account` acting with a credential of `scope`, with its team
    /// memberships and collection roles. Robots never act with admin scope.
    pub async fn principal_for(&self, account: user::Model, scope: Scope) -> Result<Principal> {
        let is_robot = account.kind == ROBOT_KIND;
        let scope = if is_robot {
            scope.min(Scope::Push)
        } else {
            scope
        };
        let grants = self.grants_of(account.id).await?;
        Ok(Principal {
            user_id: account.id,
            username: account.username,
            email: account.email,
            realname: account.realname,
            is_admin: account.is_admin && !is_robot,
            is_robot,
            scope,
            grants,
        })
    }

    /// The actor for `account`, unless the account is disabled.
    pub(crate) async fn actor_for(&self, account: user::Model, scope: Scope) -> Result<Actor> {
        if !account.is_active {
            return Err(DomainError::Unauthenticated);
        }
        Ok(Actor::User(self.principal_for(account, scope).await?))
    }

    async fn grants_of(&self, user_id: i64) -> Result<Grants> {
        let teams: Vec<TeamGrant> = team_membership::Entity::find()
            .filter(team_membership::Column::UserId.eq(user_id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| TeamGrant {
                team_id: m.team_id,
                owner: m.role == "owner",
            })
            .collect();
        let team_ids: Vec<i64> = teams.iter().map(|t| t.team_id).collect();
        let mut holders = Condition::any().add(collection_role::Column::UserId.eq(user_id));
        if !team_ids.is_empty() {
            holders = holders.add(collection_role::Column::TeamId.is_in(team_ids));
        }
        let mut best: BTreeMap<i64, Role> = BTreeMap::new();
        for row in collection_role::Entity::find()
            .filter(holders)
            .all(&self.db)
            .await?
        {
            let Ok(role) = Role::parse(&row.role) else {
                continue;
            };
            let entry = best.entry(row.collection_id).or_insert(role);
            *entry = (*entry).max(role);
        }
        Ok(Grants {
            teams,
            collections: best
                .into_iter()
                .map(|(collection_id, role)| CollectionGrant {
                    collection_id,
                    role,
                })
                .collect(),
        })
    }

    /// Whether the actor may push into `path`, creating what is missing, without creating
    /// anything: contributors of an existing collection, owners (and team members) of an
    /// existing entity for a new collection, and the user whose name a new entity takes.
    pub async fn check_push(&self, actor: &Actor, path: &ContainerPath) -> Result<()> {
        actor.require_user()?;
        let entity = match self.entity(&path.entity).await {
            Ok(entity) => entity,
            Err(DomainError::NotFound(_)) => {
                return actor.require_create_entity(&path.entity).map(|_| ())
            }
            Err(e) => return Err(e),
        };
        let found = collection::Entity::find()
            .filter(collection::Column::EntityId.eq(entity.id))
            .filter(collection::Column::Name.eq(path.collection.as_str()))
            .one(&self.db)
            .await?;
        match found {
            Some(collection) => {
                if !actor.can_read(&entity, &collection) {
                    // A private collection the actor may not see is refused as if it were
                    // someone else's entity, without confirming it exists.
                    return actor.require_create_collection(&entity).and(Err(
                        DomainError::forbidden(format!(
                            "you may not push into {}/{}",
                            entity.name, path.collection
                        )),
                    ));
                }
                actor.require_push(&entity, &collection).map(|_| ())
            }
            None => actor.require_create_collection(&entity).map(|_| ()),
        }
    }
}
