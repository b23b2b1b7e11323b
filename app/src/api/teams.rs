//! Teams, collection roles and robot accounts. Every function here is a POST authenticated by
//! the session cookie (or a bearer token); the server applies the same-origin rule to cookie
//! requests before any of them runs (`server/src/session.rs`), and the domain decides access.
use leptos::prelude::*;

use crate::error::SiloError;
use crate::model::teams::{NewRobotToken, RobotData, RoleRow, TeamData, TeamRow};

/// The viewer's teams; with `all`, every team (administrators).
#[server(prefix = "/rpc", endpoint = "teams")]
pub async fn list_teams(all: bool) -> Result<Vec<TeamRow>, SiloError> {
    let (ctx, actor) = convert::caller()?;
    let teams = ctx.registry.teams(&actor, all).await;
    super::server::respond(teams.map(|t| t.into_iter().map(convert::team_row).collect()))
}

/// Creates a team (and its entity); the viewer becomes its owner. Answers the team's name.
#[server(prefix = "/rpc", endpoint = "team_create")]
pub async fn create_team(name: String, description: String) -> Result<String, SiloError> {
    let (ctx, actor) = convert::caller()?;
    let team = ctx.registry.create_team(&actor, &name, &description).await;
    super::server::respond(team.map(|t| t.name))
}

/// A team's page.
#[server(prefix = "/rpc", endpoint = "team")]
pub async fn get_team(name: String) -> Result<TeamData, SiloError> {
    let (ctx, actor) = convert::caller()?;
    let view = super::server::respond(ctx.registry.team_page(&actor, &name).await)?;
    let mut robots = Vec::new();
    for member in view.members.iter().filter(|m| m.is_robot) {
        // Only robots the viewer manages come with their tokens.
        if let Ok(robot) = ctx.registry.robot(&actor, &member.username).await {
            robots.push(convert::robot_data(robot));
        }
    }
    let viewer = actor
        .principal()
        .map(|p| p.username.clone())
        .unwrap_or_default();
    Ok(convert::team_data(view, robots, viewer))
}

/// Adds a user (or a robot the viewer manages) to a team as `owner` or `member`.
#[server(prefix = "/rpc", endpoint = "team_member_add")]
pub async fn add_team_member(
    team: String,
    username: String,
    role: String,
) -> Result<(), SiloError> {
    let (ctx, actor) = convert::caller()?;
    let role = super::server::respond(silo_domain::services::TeamRole::parse(&role))?;
    let added = ctx
        .registry
        .add_team_member(&actor, &team, &username, role)
        .await;
    super::server::respond(added.map(|_| ()))
}

/// Makes a member an `owner` or a `member`.
#[server(prefix = "/rpc", endpoint = "team_member_role")]
pub async fn set_team_member_role(
    team: String,
    username: String,
    role: String,
) -> Result<(), SiloError> {
    let (ctx, actor) = convert::caller()?;
    let role = super::server::respond(silo_domain::services::TeamRole::parse(&role))?;
    let changed = ctx
        .registry
        .set_team_member_role(&actor, &team, &username, role)
        .await;
    super::server::respond(changed)
}

/// Removes a member (or, for the viewer's own name, leaves the team).
#[server(prefix = "/rpc", endpoint = "team_member_remove")]
pub async fn remove_team_member(team: String, username: String) -> Result<(), SiloError> {
    let (ctx, actor) = convert::caller()?;
    let removed = ctx
        .registry
        .remove_team_member(&actor, &team, &username)
        .await;
    super::server::respond(removed)
}

/// Deletes a team whose entity holds no containers.
#[server(prefix = "/rpc", endpoint = "team_delete")]
pub async fn delete_team(team: String) -> Result<(), SiloError> {
    let (ctx, actor) = convert::caller()?;
    super::server::respond(ctx.registry.delete_team(&actor, &team).await)
}

/// The roles granted on a collection, for its owners and admins; `None` for every other
/// viewer of the collection (the page then shows no Access panel, and no failed request).
#[server(prefix = "/rpc", endpoint = "collection_roles")]
pub async fn get_collection_roles(
    entity: String,
    collection: String,
) -> Result<Option<Vec<RoleRow>>, SiloError> {
    use silo_domain::DomainError;
    let (ctx, actor) = convert::caller()?;
    let roles = ctx
        .registry
        .collection_roles(&actor, &entity, &collection)
        .await;
    match roles {
        Err(DomainError::Forbidden(_) | DomainError::Unauthenticated) => Ok(None),
        other => super::server::respond(
            other.map(|r| Some(r.into_iter().map(convert::role_row).collect())),
        ),
    }
}

/// Grants `role` (`reader`, `contributor`, `owner`) to a `user` or `team` (`holder_kind`).
#[server(prefix = "/rpc", endpoint = "collection_role_grant")]
pub async fn grant_collection_role(
    entity: String,
    collection: String,
    holder_kind: String,
    holder: String,
    role: String,
) -> Result<(), SiloError> {
    let (ctx, actor) = convert::caller()?;
    let role = super::server::respond(silo_domain::policy::Role::parse(&role))?;
    let holder = super::server::respond(silo_domain::services::RoleHolder::parse(
        &holder_kind,
        &holder,
    ))?;
    let granted = ctx
        .registry
        .grant_collection_role(&actor, &entity, &collection, &holder, role)
        .await;
    super::server::respond(granted)
}

/// Takes a user's or team's role on a collection away.
#[server(prefix = "/rpc", endpoint = "collection_role_revoke")]
pub async fn revoke_collection_role(
    entity: String,
    collection: String,
    holder_kind: String,
    holder: String,
) -> Result<(), SiloError> {
    let (ctx, actor) = convert::caller()?;
    let holder = super::server::respond(silo_domain::services::RoleHolder::parse(
        &holder_kind,
        &holder,
    ))?;
    let revoked = ctx
        .registry
        .revoke_collection_role(&actor, &entity, &collection, &holder)
        .await;
    super::server::respond(revoked)
}

/// The robots the viewer manages.
#[server(prefix = "/rpc", endpoint = "robots")]
pub async fn list_robots() -> Result<Vec<RobotData>, SiloError> {
    let (ctx, actor) = convert::caller()?;
    let robots = ctx.registry.robots(&actor).await;
    super::server::respond(robots.map(|r| r.into_iter().map(convert::robot_data).collect()))
}

/// Creates a robot for the viewer (`team` empty) or for a team the viewer owns; answers its
/// name.
#[server(prefix = "/rpc", endpoint = "robot_create")]
pub async fn create_robot(team: String, label: String) -> Result<String, SiloError> {
    use silo_domain::services::RobotFor;
    let (ctx, actor) = convert::caller()?;
    let owner = if team.trim().is_empty() {
        RobotFor::Me
    } else {
        RobotFor::Team(team.trim().to_string())
    };
    let robot = ctx.registry.create_robot(&actor, &owner, &label).await;
    super::server::respond(robot.map(|r| r.username))
}

/// Deletes a robot with its tokens.
#[server(prefix = "/rpc", endpoint = "robot_delete")]
pub async fn delete_robot(name: String) -> Result<(), SiloError> {
    let (ctx, actor) = convert::caller()?;
    super::server::respond(ctx.registry.delete_robot(&actor, &name).await)
}

/// Issues a token for a robot (`scope` read or push, expiring in `days`); the secret is in
/// this answer only.
#[server(prefix = "/rpc", endpoint = "robot_token_create")]
pub async fn create_robot_token(
    robot: String,
    label: String,
    scope: String,
    days: u32,
) -> Result<NewRobotToken, SiloError> {
    let (ctx, actor) = convert::caller()?;
    let scope = super::server::respond(silo_domain::Scope::parse(&scope))?;
    let created = ctx
        .registry
        .create_robot_token(&actor, &robot, &label, scope, days)
        .await;
    super::server::respond(created.map(|c| NewRobotToken {
        token: convert::token_row(c.record),
        secret: c.secret,
    }))
}

/// Revokes one of a robot's tokens.
#[server(prefix = "/rpc", endpoint = "robot_token_revoke")]
pub async fn revoke_robot_token(robot: String, token_id: i64) -> Result<(), SiloError> {
    let (ctx, actor) = convert::caller()?;
    let revoked = ctx
        .registry
        .revoke_robot_token(&actor, &robot, token_id)
        .await;
    super::server::respond(revoked)
}

/// Domain answers to the DTOs of [`crate::model::teams`].
#[cfg(feature = "ssr")]
mod convert {
    use silo_domain::entities::api_token;
    use silo_domain::services::{
        CollectionRoleEntry, RobotView, RoleHolder, TeamSummary, TeamView,
    };
    use silo_domain::Actor;

    use crate::api::server::timestamp;
    use crate::context::SiloContext;
    use crate::error::SiloError;
    use crate::model::teams::{
        MemberRow, RobotData, RobotTokenRow, RoleRow, TeamCollection, TeamData, TeamRow,
    };

    /// The context and the actor making the call.
    pub fn caller() -> Result<(SiloContext, Actor), SiloError> {
        let ctx = crate::api::server::context()?;
        let actor = ctx.viewer.clone();
        Ok((ctx, actor))
    }

    pub fn team_row(summary: TeamSummary) -> TeamRow {
        TeamRow {
            name: summary.team.name,
            description: summary.team.description,
            my_role: summary.my_role.map(|r| r.as_str().to_string()),
            members: summary.members,
        }
    }

    pub fn team_data(view: TeamView, robots: Vec<RobotData>, viewer: String) -> TeamData {
        let entity = view.entity.map(|e| e.name);
        let collections = view
            .collections
            .into_iter()
            .map(|c| TeamCollection {
                href: format!("/c/{}/{}", entity.clone().unwrap_or_default(), c.name),
                name: c.name,
                private: c.private,
            })
            .collect();
        TeamData {
            name: view.team.name,
            description: view.team.description,
            entity,
            members: view
                .members
                .into_iter()
                .map(|m| MemberRow {
                    username: m.username,
                    is_robot: m.is_robot,
                    role: m.role.as_str().to_string(),
                    joined_at: timestamp(m.joined_at),
                })
                .collect(),
            collections,
            my_role: view.my_role.map(|r| r.as_str().to_string()),
            can_manage: view.can_manage,
            robots,
            viewer,
        }
    }

    pub fn role_row(entry: CollectionRoleEntry) -> RoleRow {
        let (holder_kind, holder) = match entry.holder {
            RoleHolder::User(name) => ("user", name),
            RoleHolder::Team(name) => ("team", name),
        };
        RoleRow {
            holder_kind: holder_kind.into(),
            holder,
            is_robot: entry.is_robot,
            role: entry.role.as_str().into(),
            granted_at: timestamp(entry.granted_at),
        }
    }

    pub fn token_row(token: api_token::Model) -> RobotTokenRow {
        let now = chrono::Utc::now();
        RobotTokenRow {
            id: token.id,
            label: token.label,
            scope: token.scope,
            created_at: timestamp(token.created_at),
            expired: token.expires_at.is_some_and(|e| e <= now),
            expires_at: token.expires_at.map(timestamp),
            last_used_at: token.last_used_at.map(timestamp),
            revoked: token.revoked_at.is_some(),
        }
    }

    pub fn robot_data(view: RobotView) -> RobotData {
        RobotData {
            name: view.robot.username,
            creator: view.creator,
            teams: view.teams,
            created_at: timestamp(view.robot.created_at),
            tokens: view.tokens.into_iter().map(token_row).collect(),
        }
    }
}
