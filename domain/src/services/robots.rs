//! Robot accounts for CI: users of kind `robot` that only ever act through tokens (scope read
//! or push, always with an expiry), never sign in to the browser, never create entities and
//! never hold admin rights. A person creates one for themselves or for a team they own (the
//! robot then joins the team as a member). Robots reach collections through team membership
//! and collection roles like anyone else. The robot's creator, owners of a team it belongs
//! to, and admins manage it (see [`Actor::require_manage_robot`]). Every change is audited.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde_json::json;

use super::teams::TeamRole;
use super::{now, NewToken, Registry, TokenCreated, ROBOT_KIND};
use crate::entities::{api_token, collection_role, session, team, team_membership, user};
use crate::error::{DomainError, Result};
use crate::names::validate_segment;
use crate::policy::{Actor, Scope};

/// Longest lifetime of a robot token.
pub const ROBOT_TOKEN_MAX_DAYS: u32 = 366;

/// Whom a new robot works for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RobotFor {
    /// The person creating it: named `<user>-bot-<label>`.
    Me,
    /// A team the creator owns: named `<team>-bot-<label>`, and a member of the team.
    Team(String),
}

/// A robot with what its managers see of it.
#[derive(Clone, Debug)]
pub struct RobotView {
    pub robot: user::Model,
    /// The person who created it.
    pub creator: Option<String>,
    /// The teams it belongs to.
    pub teams: Vec<String>,
    /// Its tokens, newest first (never the secrets).
    pub tokens: Vec<api_token::Model>,
}

impl Registry {
    /// Ids of the teams a user (robot) belongs to.
    pub(crate) async fn robot_team_ids(&self, user_id: i64) -> Result<Vec<i64>> {
        Ok(team_membership::Entity::find()
            .filter(team_membership::Column::UserId.eq(user_id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| m.team_id)
            .collect())
    }

    /// A robot the actor manages; other robots look absent unless the actor can see them
    /// (then "forbidden").
    async fn managed_robot(&self, actor: &Actor, name: &str) -> Result<user::Model> {
        let robot = self
            .find_user(name)
            .await?
            .filter(|u| u.kind == ROBOT_KIND)
            .ok_or_else(|| DomainError::not_found(format!("robot {name:?}")))?;
        let teams = self.robot_team_ids(robot.id).await?;
        actor.require_manage_robot(robot.robot_owner_id, &teams)?;
        Ok(robot)
    }

    /// Creates a robot account named `<owner>-bot-<label>`.
    pub async fn create_robot(
        &self,
        actor: &Actor,
        owner: &RobotFor,
        label: &str,
    ) -> Result<user::Model> {
        let principal = actor.require_human_push()?;
        let label = label.trim();
        validate_segment("robot label", label)?;
        let team = match owner {
            RobotFor::Me => None,
            RobotFor::Team(name) => {
                let team = self.team_named(name).await?;
                actor.require_team_owner(team.id)?;
                Some(team)
            }
        };
        let prefix = team
            .as_ref()
            .map_or(principal.username.as_str(), |t| t.name.as_str());
        let name = format!("{prefix}-bot-{label}");
        validate_segment("robot", &name)?;
        let txn = self.db.begin().await?;
        self.ensure_name_free(&txn, &name).await?;
        let robot = user::ActiveModel {
            username: Set(name.clone()),
            email: Set(String::new()),
            realname: Set(format!("robot of {prefix}")),
            is_admin: Set(false),
            is_active: Set(true),
            created_at: Set(now()),
            last_login_at: Set(None),
            kind: Set(ROBOT_KIND.into()),
            robot_owner_id: Set(Some(principal.user_id)),
            quota: Set(0),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        if let Some(team) = &team {
            team_membership::ActiveModel {
                team_id: Set(team.id),
                user_id: Set(robot.id),
                role: Set(TeamRole::Member.as_str().into()),
                created_at: Set(now()),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        self.record_audit(
            &txn,
            Some(principal.user_id),
            "robot_create",
            &format!("user:{name}"),
            json!({ "team": team.as_ref().map(|t| t.name.clone()) }),
        )
        .await?;
        txn.commit().await?;
        Ok(robot)
    }

    /// The robots the actor manages: those they created and those of teams they own; for
    /// admins, every robot.
    pub async fn robots(&self, actor: &Actor) -> Result<Vec<RobotView>> {
        actor.require_user()?;
        let all = user::Entity::find()
            .filter(user::Column::Kind.eq(ROBOT_KIND))
            .order_by_asc(user::Column::Username)
            .all(&self.db)
            .await?;
        let mut out = Vec::new();
        for robot in all {
            let team_ids = self.robot_team_ids(robot.id).await?;
            if actor
                .require_manage_robot(robot.robot_owner_id, &team_ids)
                .is_err()
            {
                continue;
            }
            out.push(self.robot_view(robot, &team_ids).await?);
        }
        Ok(out)
    }

    /// One robot the actor manages.
    pub async fn robot(&self, actor: &Actor, name: &str) -> Result<RobotView> {
        let robot = self.managed_robot(actor, name).await?;
        let team_ids = self.robot_team_ids(robot.id).await?;
        self.robot_view(robot, &team_ids).await
    }

    async fn robot_view(&self, robot: user::Model, team_ids: &[i64]) -> Result<RobotView> {
        let creator = match robot.robot_owner_id {
            Some(id) => user::Entity::find_by_id(id)
                .one(&self.db)
                .await?
                .map(|u| u.username),
            None => None,
        };
        let teams = team::Entity::find()
            .filter(team::Column::Id.is_in(team_ids.iter().copied()))
            .order_by_asc(team::Column::Name)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|t| t.name)
            .collect();
        let tokens = api_token::Entity::find()
            .filter(api_token::Column::UserId.eq(robot.id))
            .order_by_desc(api_token::Column::Id)
            .all(&self.db)
            .await?;
        Ok(RobotView {
            robot,
            creator,
            teams,
            tokens,
        })
    }

    /// Deletes a robot with its tokens, memberships and roles.
    pub async fn delete_robot(&self, actor: &Actor, name: &str) -> Result<()> {
        let robot = self.managed_robot(actor, name).await?;
        let principal = actor.require_user()?;
        let txn = self.db.begin().await?;
        api_token::Entity::delete_many()
            .filter(api_token::Column::UserId.eq(robot.id))
            .exec(&txn)
            .await?;
        session::Entity::delete_many()
            .filter(session::Column::UserId.eq(robot.id))
            .exec(&txn)
            .await?;
        team_membership::Entity::delete_many()
            .filter(team_membership::Column::UserId.eq(robot.id))
            .exec(&txn)
            .await?;
        collection_role::Entity::delete_many()
            .filter(collection_role::Column::UserId.eq(robot.id))
            .exec(&txn)
            .await?;
        user::Entity::delete_by_id(robot.id).exec(&txn).await?;
        self.record_audit(
            &txn,
            Some(principal.user_id),
            "robot_delete",
            &format!("user:{}", robot.username),
            json!({}),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Issues a token for a robot: scope read or push, expiring within
    /// [`ROBOT_TOKEN_MAX_DAYS`]. The secret is only in the answer.
    pub async fn create_robot_token(
        &self,
        actor: &Actor,
        robot_name: &str,
        label: &str,
        scope: Scope,
        expires_in_days: u32,
    ) -> Result<TokenCreated> {
        let robot = self.managed_robot(actor, robot_name).await?;
        let principal = actor.require_user()?;
        if scope == Scope::Admin {
            return Err(DomainError::invalid(
                "robot tokens have scope read or push, never admin",
            ));
        }
        if !(1..=ROBOT_TOKEN_MAX_DAYS).contains(&expires_in_days) {
            return Err(DomainError::invalid(format!(
                "robot tokens expire within 1 to {ROBOT_TOKEN_MAX_DAYS} days"
            )));
        }
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 100 {
            return Err(DomainError::invalid(
                "give the token a label of at most 100 characters",
            ));
        }
        let created = self
            .create_token(
                &robot.username,
                NewToken {
                    label: label.to_string(),
                    scope: Some(scope),
                    expires_in_days: Some(expires_in_days),
                },
            )
            .await?;
        self.record_audit(
            &self.db,
            Some(principal.user_id),
            "robot_token_create",
            &format!("user:{}", robot.username),
            json!({
                "token_id": created.record.id,
                "label": label,
                "scope": scope.as_str(),
                "expires_in_days": expires_in_days,
            }),
        )
        .await?;
        Ok(created)
    }

    /// Revokes one of a robot's tokens; it is refused from the next request on.
    pub async fn revoke_robot_token(
        &self,
        actor: &Actor,
        robot_name: &str,
        token_id: i64,
    ) -> Result<()> {
        let robot = self.managed_robot(actor, robot_name).await?;
        let principal = actor.require_user()?;
        let token = api_token::Entity::find_by_id(token_id)
            .filter(api_token::Column::UserId.eq(robot.id))
            .one(&self.db)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("token {token_id} of {robot_name:?}")))?;
        if token.revoked_at.is_some() {
            return Ok(());
        }
        let txn = self.db.begin().await?;
        let mut active: api_token::ActiveModel = token.into();
        active.revoked_at = Set(Some(now()));
        active.update(&txn).await?;
        self.record_audit(
            &txn,
            Some(principal.user_id),
            "robot_token_revoke",
            &format!("user:{}", robot.username),
            json!({ "token_id": token_id }),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
}
