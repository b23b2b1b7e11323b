//! Teams: a group of users owning one entity named after the team. Team owners own the
//! team's entity (and manage the team); members contribute to it (see [`crate::policy`]).
//! Every change is written to the audit log. A team always keeps at least one owner.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use serde_json::json;

use super::{now, Registry, ROBOT_KIND};
use crate::entities::{
    collection, collection_role, container, entity, star, team, team_membership, user,
};
use crate::error::{DomainError, Result};
use crate::names::validate_segment;
use crate::policy::Actor;

/// A member's role in a team.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TeamRole {
    /// Contributes to the team's entity: pushes and creates collections.
    Member,
    /// Also owns the team's entity and manages the team.
    Owner,
}

impl TeamRole {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "member" => Ok(TeamRole::Member),
            "owner" => Ok(TeamRole::Owner),
            other => Err(DomainError::invalid(format!(
                "unknown team role {other:?}: use member or owner"
            ))),
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            TeamRole::Member => "member",
            TeamRole::Owner => "owner",
        }
    }
}

/// A team in a list, with the viewer's role in it.
#[derive(Clone, Debug)]
pub struct TeamSummary {
    pub team: team::Model,
    pub my_role: Option<TeamRole>,
    pub members: u64,
}

/// One member of a team.
#[derive(Clone, Debug)]
pub struct TeamMember {
    pub user_id: i64,
    pub username: String,
    pub is_robot: bool,
    pub role: TeamRole,
    pub joined_at: chrono::DateTime<chrono::Utc>,
}

/// What a team's page shows.
#[derive(Clone, Debug)]
pub struct TeamView {
    pub team: team::Model,
    /// The entity named after the team.
    pub entity: Option<entity::Model>,
    /// Owners first, then by name.
    pub members: Vec<TeamMember>,
    /// The team entity's collections (members see all of them).
    pub collections: Vec<collection::Model>,
    pub my_role: Option<TeamRole>,
    /// Whether the viewer may manage the team (team owners and admins).
    pub can_manage: bool,
}

impl Registry {
    /// Refuses a name already used by a user, a team or an entity: they share one namespace,
    /// since each user and each team gets the entity named after them.
    pub(crate) async fn ensure_name_free(
        &self,
        db: &impl ConnectionTrait,
        name: &str,
    ) -> Result<()> {
        let user_taken = user::Entity::find()
            .filter(user::Column::Username.eq(name))
            .count(db)
            .await?
            > 0;
        let team_taken = team::Entity::find()
            .filter(team::Column::Name.eq(name))
            .count(db)
            .await?
            > 0;
        let entity_taken = entity::Entity::find()
            .filter(entity::Column::Name.eq(name))
            .count(db)
            .await?
            > 0;
        if user_taken || team_taken || entity_taken {
            return Err(DomainError::Conflict(format!(
                "the name {name:?} is taken by a user, a team or an entity"
            )));
        }
        Ok(())
    }

    /// A team by name (no access check).
    pub(crate) async fn team_named(&self, name: &str) -> Result<team::Model> {
        team::Entity::find()
            .filter(team::Column::Name.eq(name))
            .one(&self.db)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("team {name:?}")))
    }

    /// A user (or robot) by name, as a 404 when absent.
    pub(crate) async fn user_named(&self, name: &str) -> Result<user::Model> {
        self.find_user(name)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("user {name:?}")))
    }

    /// A team the actor may see: members and admins; everyone else gets "not found".
    async fn visible_team(&self, actor: &Actor, name: &str) -> Result<team::Model> {
        let team = self.team_named(name).await?;
        if !actor.can_view_team(team.id) {
            return Err(DomainError::not_found(format!("team {name:?}")));
        }
        Ok(team)
    }

    /// Creates a team, its entity (named like the team) and makes the creator its owner.
    /// Any person signed in with a push-scoped credential may; robots may not.
    pub async fn create_team(
        &self,
        actor: &Actor,
        name: &str,
        description: &str,
    ) -> Result<team::Model> {
        let name = name.trim();
        validate_segment("team", name)?;
        let principal = actor.require_human_push()?;
        let txn = self.db.begin().await?;
        self.ensure_name_free(&txn, name).await?;
        let at = now();
        let team = team::ActiveModel {
            name: Set(name.to_string()),
            description: Set(description.trim().to_string()),
            created_at: Set(at),
            quota: Set(0),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        entity::ActiveModel {
            name: Set(name.to_string()),
            description: Set(description.trim().to_string()),
            owner_id: Set(None),
            team_id: Set(Some(team.id)),
            default_private: Set(false),
            quota: Set(0),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        team_membership::ActiveModel {
            team_id: Set(team.id),
            user_id: Set(principal.user_id),
            role: Set(TeamRole::Owner.as_str().into()),
            created_at: Set(at),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        self.record_audit(
            &txn,
            Some(principal.user_id),
            "team_create",
            &format!("team:{name}"),
            json!({ "owner": principal.username }),
        )
        .await?;
        txn.commit().await?;
        Ok(team)
    }

    /// The teams the actor belongs to; for admins (`all`), every team.
    pub async fn teams(&self, actor: &Actor, all: bool) -> Result<Vec<TeamSummary>> {
        let principal = actor.require_user()?;
        if all {
            actor.require_admin()?;
        }
        let mine: Vec<team_membership::Model> = team_membership::Entity::find()
            .filter(team_membership::Column::UserId.eq(principal.user_id))
            .all(&self.db)
            .await?;
        let mut query = team::Entity::find().order_by_asc(team::Column::Name);
        if !all {
            query = query.filter(team::Column::Id.is_in(mine.iter().map(|m| m.team_id)));
        }
        let mut out = Vec::new();
        for team in query.all(&self.db).await? {
            let members = team_membership::Entity::find()
                .filter(team_membership::Column::TeamId.eq(team.id))
                .count(&self.db)
                .await?;
            let my_role = mine
                .iter()
                .find(|m| m.team_id == team.id)
                .and_then(|m| TeamRole::parse(&m.role).ok());
            out.push(TeamSummary {
                team,
                my_role,
                members,
            });
        }
        Ok(out)
    }

    /// A team's page: members with their roles, the team entity and its collections.
    pub async fn team_page(&self, actor: &Actor, name: &str) -> Result<TeamView> {
        let team = self.visible_team(actor, name).await?;
        let members = self.team_members(team.id).await?;
        let my_role = actor
            .user_id()
            .and_then(|id| members.iter().find(|m| m.user_id == id))
            .map(|m| m.role);
        let entity = entity::Entity::find()
            .filter(entity::Column::TeamId.eq(team.id))
            .order_by_asc(entity::Column::Id)
            .one(&self.db)
            .await?;
        let collections = match &entity {
            Some(e) => collection::Entity::find()
                .filter(collection::Column::EntityId.eq(e.id))
                .order_by_asc(collection::Column::Name)
                .all(&self.db)
                .await?
                .into_iter()
                .filter(|c| actor.can_read(e, c))
                .collect(),
            None => Vec::new(),
        };
        let can_manage = actor.require_team_owner(team.id).is_ok();
        Ok(TeamView {
            team,
            entity,
            members,
            collections,
            my_role,
            can_manage,
        })
    }

    pub(crate) async fn team_members(&self, team_id: i64) -> Result<Vec<TeamMember>> {
        let rows = team_membership::Entity::find()
            .filter(team_membership::Column::TeamId.eq(team_id))
            .all(&self.db)
            .await?;
        let users = user::Entity::find()
            .filter(user::Column::Id.is_in(rows.iter().map(|m| m.user_id)))
            .all(&self.db)
            .await?;
        let mut members: Vec<TeamMember> = rows
            .into_iter()
            .filter_map(|m| {
                let u = users.iter().find(|u| u.id == m.user_id)?;
                Some(TeamMember {
                    user_id: u.id,
                    username: u.username.clone(),
                    is_robot: u.kind == ROBOT_KIND,
                    role: TeamRole::parse(&m.role).unwrap_or(TeamRole::Member),
                    joined_at: m.created_at,
                })
            })
            .collect();
        members.sort_by(|a, b| b.role.cmp(&a.role).then(a.username.cmp(&b.username)));
        Ok(members)
    }

    async fn membership(
        &self,
        team_id: i64,
        user_id: i64,
    ) -> Result<Option<team_membership::Model>> {
        Ok(team_membership::Entity::find()
            .filter(team_membership::Column::TeamId.eq(team_id))
            .filter(team_membership::Column::UserId.eq(user_id))
            .one(&self.db)
            .await?)
    }

    /// Refuses a change that would leave the team without an owner.
    async fn keep_an_owner(
        &self,
        db: &impl ConnectionTrait,
        team: &team::Model,
        leaving: &team_membership::Model,
    ) -> Result<()> {
        if leaving.role != TeamRole::Owner.as_str() {
            return Ok(());
        }
        let owners = team_membership::Entity::find()
            .filter(team_membership::Column::TeamId.eq(team.id))
            .filter(team_membership::Column::Role.eq(TeamRole::Owner.as_str()))
            .count(db)
            .await?;
        if owners <= 1 {
            return Err(DomainError::Conflict(format!(
                "team {:?} needs at least one owner: make someone else an owner first",
                team.name
            )));
        }
        Ok(())
    }

    /// Adds a user to a team (team owners and admins). Robots join as members only, and only
    /// when the actor also manages the robot.
    pub async fn add_team_member(
        &self,
        actor: &Actor,
        team_name: &str,
        username: &str,
        role: TeamRole,
    ) -> Result<TeamMember> {
        let team = self.visible_team(actor, team_name).await?;
        let principal = actor.require_team_owner(team.id)?;
        let account = self.user_named(username.trim()).await?;
        if account.kind == ROBOT_KIND {
            if role == TeamRole::Owner {
                return Err(DomainError::invalid(
                    "robot accounts join teams as members, never as owners",
                ));
            }
            let teams = self.robot_team_ids(account.id).await?;
            actor.require_manage_robot(account.robot_owner_id, &teams)?;
        }
        if self.membership(team.id, account.id).await?.is_some() {
            return Err(DomainError::Conflict(format!(
                "{:?} is already a member of team {:?}",
                account.username, team.name
            )));
        }
        let txn = self.db.begin().await?;
        let row = team_membership::ActiveModel {
            team_id: Set(team.id),
            user_id: Set(account.id),
            role: Set(role.as_str().into()),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        self.record_audit(
            &txn,
            Some(principal.user_id),
            "team_member_add",
            &format!("team:{}", team.name),
            json!({ "user": account.username, "role": role.as_str() }),
        )
        .await?;
        txn.commit().await?;
        Ok(TeamMember {
            user_id: account.id,
            username: account.username,
            is_robot: account.kind == ROBOT_KIND,
            role,
            joined_at: row.created_at,
        })
    }

    /// Makes a member an owner or a plain member (team owners and admins). The last owner
    /// cannot be demoted.
    pub async fn set_team_member_role(
        &self,
        actor: &Actor,
        team_name: &str,
        username: &str,
        role: TeamRole,
    ) -> Result<()> {
        let team = self.visible_team(actor, team_name).await?;
        let principal = actor.require_team_owner(team.id)?;
        let account = self.user_named(username).await?;
        let membership = self.membership(team.id, account.id).await?.ok_or_else(|| {
            DomainError::not_found(format!("member {username:?} of team {team_name:?}"))
        })?;
        if account.kind == ROBOT_KIND && role == TeamRole::Owner {
            return Err(DomainError::invalid("robot accounts cannot own teams"));
        }
        let txn = self.db.begin().await?;
        if role == TeamRole::Member {
            self.keep_an_owner(&txn, &team, &membership).await?;
        }
        let old = membership.role.clone();
        let mut active: team_membership::ActiveModel = membership.into();
        active.role = Set(role.as_str().into());
        active.update(&txn).await?;
        self.record_audit(
            &txn,
            Some(principal.user_id),
            "team_member_role",
            &format!("team:{}", team.name),
            json!({ "user": account.username, "from": old, "to": role.as_str() }),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Removes a member: team owners and admins remove anyone, members may leave. The last
    /// owner cannot leave.
    pub async fn remove_team_member(
        &self,
        actor: &Actor,
        team_name: &str,
        username: &str,
    ) -> Result<()> {
        let team = self.visible_team(actor, team_name).await?;
        let account = self.user_named(username).await?;
        let principal = actor.require_team_owner_or_self(team.id, account.id)?;
        let membership = self.membership(team.id, account.id).await?.ok_or_else(|| {
            DomainError::not_found(format!("member {username:?} of team {team_name:?}"))
        })?;
        let txn = self.db.begin().await?;
        self.keep_an_owner(&txn, &team, &membership).await?;
        team_membership::Entity::delete_by_id(membership.id)
            .exec(&txn)
            .await?;
        self.record_audit(
            &txn,
            Some(principal.user_id),
            "team_member_remove",
            &format!("team:{}", team.name),
            json!({ "user": account.username }),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Deletes a team (team owners and admins) with its entity and that entity's empty
    /// collections. Refused while the entity holds containers. Robots of the team stay with
    /// their creators; they lose the team's membership.
    pub async fn delete_team(&self, actor: &Actor, team_name: &str) -> Result<()> {
        let team = self.visible_team(actor, team_name).await?;
        let principal = actor.require_team_owner(team.id)?;
        let entities = entity::Entity::find()
            .filter(entity::Column::TeamId.eq(team.id))
            .all(&self.db)
            .await?;
        let entity_ids: Vec<i64> = entities.iter().map(|e| e.id).collect();
        let collection_ids: Vec<i64> = collection::Entity::find()
            .filter(collection::Column::EntityId.is_in(entity_ids.clone()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let containers = container::Entity::find()
            .filter(container::Column::CollectionId.is_in(collection_ids.clone()))
            .count(&self.db)
            .await?;
        if containers > 0 {
            return Err(DomainError::Conflict(format!(
                "team {:?} still has {containers} container(s) in its entity: delete them first",
                team.name
            )));
        }
        // Dependent rows are deleted explicitly: SQLite enforces foreign keys only on the
        // connections that enabled them.
        let txn = self.db.begin().await?;
        star::Entity::delete_many()
            .filter(star::Column::CollectionId.is_in(collection_ids.clone()))
            .exec(&txn)
            .await?;
        collection_role::Entity::delete_many()
            .filter(
                sea_orm::Condition::any()
                    .add(collection_role::Column::CollectionId.is_in(collection_ids.clone()))
                    .add(collection_role::Column::TeamId.eq(team.id)),
            )
            .exec(&txn)
            .await?;
        collection::Entity::delete_many()
            .filter(collection::Column::Id.is_in(collection_ids))
            .exec(&txn)
            .await?;
        entity::Entity::delete_many()
            .filter(entity::Column::Id.is_in(entity_ids))
            .exec(&txn)
            .await?;
        team_membership::Entity::delete_many()
            .filter(team_membership::Column::TeamId.eq(team.id))
            .exec(&txn)
            .await?;
        team::Entity::delete_by_id(team.id).exec(&txn).await?;
        self.record_audit(
            &txn,
            Some(principal.user_id),
            "team_delete",
            &format!("team:{}", team.name),
            json!({}),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
}
