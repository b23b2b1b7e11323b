//! Who may do what. Every service method takes an [`Actor`] and asks these functions; no
//! protocol adapter decides access on its own.
use crate::entities::{collection, entity};
use crate::error::{DomainError, Result};

/// What a token allows, in increasing order of power.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Read,
    Push,
    Admin,
}

impl Scope {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "read" => Ok(Scope::Read),
            "push" => Ok(Scope::Push),
            "admin" => Ok(Scope::Admin),
            other => Err(DomainError::invalid(format!(
                "unknown token scope {other:?}: use read, push or admin"
            ))),
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Push => "push",
            Scope::Admin => "admin",
        }
    }
}

/// A role on a collection, in increasing order of power.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Pulls private content.
    Reader,
    /// Also pushes: creates containers, images and tags.
    Contributor,
    /// Also deletes, changes visibility, grants roles and creates share links.
    Owner,
}

impl Role {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "reader" => Ok(Role::Reader),
            "contributor" => Ok(Role::Contributor),
            "owner" => Ok(Role::Owner),
            other => Err(DomainError::invalid(format!(
                "unknown role {other:?}: use reader, contributor or owner"
            ))),
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Contributor => "contributor",
            Role::Owner => "owner",
        }
    }
}

/// A principal's membership of one team. Team owners own the team's entities; members
/// contribute to them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TeamGrant {
    pub team_id: i64,
    pub owner: bool,
}

/// A role on one collection, granted to the principal or to one of their teams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CollectionGrant {
    pub collection_id: i64,
    pub role: Role,
}

/// What a principal has been granted beyond their own entities, loaded when they
/// authenticate (see `Registry::principal_for`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grants {
    pub teams: Vec<TeamGrant>,
    /// At most one entry per collection: the highest role from the user and their teams.
    pub collections: Vec<CollectionGrant>,
}

/// A share link's grant: pulling one container, nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShareGrant {
    pub link_id: i64,
    pub container_id: i64,
}

/// Which collections an actor may read, in the form a query can use: see [`Actor::read_scope`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadScope {
    /// Every collection (administrators).
    All,
    /// Public collections only (anonymous callers and share links).
    Public,
    /// Public collections, plus private ones the user owns, that belong to an entity the user
    /// or one of their teams owns, or on which they hold a role.
    Granted {
        user_id: i64,
        team_ids: Vec<i64>,
        collection_ids: Vec<i64>,
    },
}

/// An authenticated user acting through a credential of some scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub email: String,
    pub realname: String,
    pub is_admin: bool,
    /// A robot (CI) account: tokens only, no browser sign-in.
    pub is_robot: bool,
    pub scope: Scope,
    pub grants: Grants,
}

/// Whoever makes a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    Anonymous,
    User(Principal),
    /// Someone holding a share link: may pull the one shared container.
    Share(ShareGrant),
}

impl Actor {
    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Actor::User(p) => Some(p),
            Actor::Anonymous | Actor::Share(_) => None,
        }
    }

    pub fn user_id(&self) -> Option<i64> {
        self.principal().map(|p| p.user_id)
    }

    /// The authenticated principal, or `Unauthenticated`.
    pub fn require_user(&self) -> Result<&Principal> {
        self.principal().ok_or(DomainError::Unauthenticated)
    }

    /// Admin rights need both an admin account and an admin-scoped credential.
    pub fn is_admin(&self) -> bool {
        self.principal()
            .is_some_and(|p| p.is_admin && p.scope >= Scope::Admin)
    }

    /// Administration (users, settings, audit log): admins with an admin-scoped credential.
    pub fn require_admin(&self) -> Result<&Principal> {
        let principal = self.require_user()?;
        if self.is_admin() {
            Ok(principal)
        } else {
            Err(DomainError::forbidden("this needs an administrator"))
        }
    }

    /// The actor's role on an entity as a whole: owner of their own entities and of their
    /// teams' entities when they own the team, contributor to their other teams' entities.
    pub fn entity_role(&self, entity: &entity::Model) -> Option<Role> {
        let principal = self.principal()?;
        if self.is_admin() || entity.owner_id == Some(principal.user_id) {
            return Some(Role::Owner);
        }
        let team_id = entity.team_id?;
        principal
            .grants
            .teams
            .iter()
            .find(|t| t.team_id == team_id)
            .map(|t| {
                if t.owner {
                    Role::Owner
                } else {
                    Role::Contributor
                }
            })
    }

    /// The actor's role on a collection: the highest of their entity role, being the
    /// collection's creator-owner, and roles granted on it to them or their teams.
    pub fn collection_role(
        &self,
        entity: &entity::Model,
        collection: &collection::Model,
    ) -> Option<Role> {
        let principal = self.principal()?;
        let creator = (collection.owner_id == Some(principal.user_id)).then_some(Role::Owner);
        let granted = principal
            .grants
            .collections
            .iter()
            .find(|g| g.collection_id == collection.id)
            .map(|g| g.role);
        [self.entity_role(entity), creator, granted]
            .into_iter()
            .flatten()
            .max()
    }

    /// Reading a collection's containers and images.
    pub fn can_read(&self, entity: &entity::Model, collection: &collection::Model) -> bool {
        !collection.private || self.collection_role(entity, collection).is_some()
    }

    /// Reading one container: [`Actor::can_read`] on its collection, or a share link for it.
    pub fn can_read_container(
        &self,
        entity: &entity::Model,
        collection: &collection::Model,
        container_id: i64,
    ) -> bool {
        self.can_read(entity, collection)
            || matches!(self, Actor::Share(grant) if grant.container_id == container_id)
    }

    /// The collections this actor may read, as a rule a database query can apply (for lists
    /// and aggregates computed in SQL). It states exactly what [`Actor::can_read`] decides.
    pub fn read_scope(&self) -> ReadScope {
        match self.principal() {
            _ if self.is_admin() => ReadScope::All,
            None => ReadScope::Public,
            Some(p) => ReadScope::Granted {
                user_id: p.user_id,
                team_ids: p.grants.teams.iter().map(|t| t.team_id).collect(),
                collection_ids: p
                    .grants
                    .collections
                    .iter()
                    .map(|g| g.collection_id)
                    .collect(),
            },
        }
    }

    fn require_push_scope(&self) -> Result<&Principal> {
        let principal = self.require_user()?;
        if principal.scope < Scope::Push {
            return Err(DomainError::forbidden("this token is read-only"));
        }
        Ok(principal)
    }

    /// Pushing into a collection: creating containers, images and tags (contributors).
    pub fn require_push(
        &self,
        entity: &entity::Model,
        collection: &collection::Model,
    ) -> Result<&Principal> {
        let principal = self.require_push_scope()?;
        match self.collection_role(entity, collection) {
            Some(role) if role >= Role::Contributor => Ok(principal),
            _ => Err(DomainError::forbidden(format!(
                "you may not push into {}/{}: that needs the contributor or owner role",
                entity.name, collection.name
            ))),
        }
    }

    /// Deleting, changing visibility, granting roles and sharing (collection owners).
    pub fn require_manage(
        &self,
        entity: &entity::Model,
        collection: &collection::Model,
    ) -> Result<&Principal> {
        let principal = self.require_push_scope()?;
        match self.collection_role(entity, collection) {
            Some(Role::Owner) => Ok(principal),
            _ => Err(DomainError::forbidden(format!(
                "only owners of {}/{} may do this",
                entity.name, collection.name
            ))),
        }
    }

    /// Creating a collection inside an entity: its owner, members of its team, admins.
    pub fn require_create_collection(&self, entity: &entity::Model) -> Result<&Principal> {
        let principal = self.require_push_scope()?;
        if self.entity_role(entity).is_some() {
            Ok(principal)
        } else {
            Err(DomainError::forbidden(format!(
                "you may not push into entity {:?}; push into your own entity {:?}",
                entity.name, principal.username
            )))
        }
    }

    /// Managing a team (members, its entities' settings): team owners and admins.
    pub fn require_team_owner(&self, team_id: i64) -> Result<&Principal> {
        let principal = self.require_push_scope()?;
        if self.is_admin()
            || principal
                .grants
                .teams
                .iter()
                .any(|t| t.team_id == team_id && t.owner)
        {
            Ok(principal)
        } else {
            Err(DomainError::forbidden("only the team's owners may do this"))
        }
    }

    /// Acting for a person, with a push-scoped credential: creating teams and robots.
    /// Robots never do this.
    pub fn require_human_push(&self) -> Result<&Principal> {
        let principal = self.require_push_scope()?;
        if principal.is_robot {
            return Err(DomainError::forbidden(
                "robot accounts may not create teams or robots",
            ));
        }
        Ok(principal)
    }

    /// Seeing a team's page (members, robots, collections): its members and admins.
    pub fn can_view_team(&self, team_id: i64) -> bool {
        self.is_admin()
            || self
                .principal()
                .is_some_and(|p| p.grants.teams.iter().any(|t| t.team_id == team_id))
    }

    /// Managing a robot account (its tokens, deleting it, adding it to a team): the person
    /// who created it, owners of a team it belongs to, and admins. Robots never manage
    /// robots, so a leaked robot token cannot mint more.
    pub fn require_manage_robot(
        &self,
        robot_owner_id: Option<i64>,
        robot_team_ids: &[i64],
    ) -> Result<&Principal> {
        let principal = self.require_human_push()?;
        let owns_team = principal
            .grants
            .teams
            .iter()
            .any(|t| t.owner && robot_team_ids.contains(&t.team_id));
        if self.is_admin() || robot_owner_id == Some(principal.user_id) || owns_team {
            Ok(principal)
        } else {
            Err(DomainError::forbidden(
                "only the robot's creator, owners of its teams and admins may manage it",
            ))
        }
    }

    /// Removing a member from a team: team owners and admins, or the member leaving.
    pub fn require_team_owner_or_self(&self, team_id: i64, member_id: i64) -> Result<&Principal> {
        let principal = self.require_push_scope()?;
        if principal.user_id == member_id {
            Ok(principal)
        } else {
            self.require_team_owner(team_id)
        }
    }

    /// Publishing OpenPGP public keys on the keyserver: any user with a push-scoped token.
    pub fn require_key_upload(&self) -> Result<&Principal> {
        let principal = self.require_user()?;
        if principal.scope < Scope::Push {
            return Err(DomainError::forbidden(
                "this token is read-only; adding keys needs a push-scoped token",
            ));
        }
        Ok(principal)
    }

    /// Creating a new entity: users get the one named after them, admins any. Robots
    /// never create entities.
    pub fn require_create_entity(&self, name: &str) -> Result<&Principal> {
        let principal = self.require_push_scope()?;
        if self.is_admin() || (principal.username == name && !principal.is_robot) {
            Ok(principal)
        } else {
            Err(DomainError::forbidden(format!(
                "you may only create the entity named after you ({:?})",
                principal.username
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn user_with(id: i64, admin: bool, scope: Scope, grants: Grants) -> Actor {
        Actor::User(Principal {
            user_id: id,
            username: format!("u{id}"),
            email: String::new(),
            realname: String::new(),
            is_admin: admin,
            is_robot: false,
            scope,
            grants,
        })
    }

    fn user(id: i64, admin: bool, scope: Scope) -> Actor {
        user_with(id, admin, scope, Grants::default())
    }

    fn ent(owner: Option<i64>, team: Option<i64>) -> entity::Model {
        entity::Model {
            id: 1,
            name: "u1".into(),
            description: String::new(),
            owner_id: owner,
            team_id: team,
            default_private: false,
            quota: 0,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn coll(id: i64, private: bool) -> collection::Model {
        collection::Model {
            id,
            entity_id: 1,
            name: "c".into(),
            description: String::new(),
            private,
            owner_id: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn member(team_id: i64, owner: bool) -> Grants {
        Grants {
            teams: vec![TeamGrant { team_id, owner }],
            collections: vec![],
        }
    }

    fn role_on(collection_id: i64, role: Role) -> Grants {
        Grants {
            teams: vec![],
            collections: vec![CollectionGrant {
                collection_id,
                role,
            }],
        }
    }

    #[test]
    fn private_collections_only_for_granted_actors() {
        let e = ent(Some(1), None);
        assert!(Actor::Anonymous.can_read(&e, &coll(1, false)));
        assert!(!Actor::Anonymous.can_read(&e, &coll(1, true)));
        assert!(user(1, false, Scope::Read).can_read(&e, &coll(1, true)));
        assert!(!user(2, false, Scope::Push).can_read(&e, &coll(1, true)));
        assert!(user(3, true, Scope::Admin).can_read(&e, &coll(1, true)));
        assert!(!user(3, true, Scope::Push).can_read(&e, &coll(1, true)));
        let reader = user_with(4, false, Scope::Read, role_on(1, Role::Reader));
        assert!(reader.can_read(&e, &coll(1, true)));
        assert!(
            !reader.can_read(&e, &coll(2, true)),
            "a role is per collection"
        );
        let team_entity = ent(None, Some(7));
        assert!(user_with(5, false, Scope::Read, member(7, false))
            .can_read(&team_entity, &coll(1, true)));
        assert!(!user_with(5, false, Scope::Read, member(8, false))
            .can_read(&team_entity, &coll(1, true)));
    }

    #[test]
    fn share_links_read_one_container_only() {
        let e = ent(Some(1), None);
        let share = Actor::Share(ShareGrant {
            link_id: 1,
            container_id: 10,
        });
        assert!(share.can_read_container(&e, &coll(1, true), 10));
        assert!(!share.can_read_container(&e, &coll(1, true), 11));
        assert!(!share.can_read(&e, &coll(1, true)));
        assert_eq!(share.read_scope(), ReadScope::Public);
        assert!(share.require_push(&e, &coll(1, true)).is_err());
    }

    #[test]
    fn read_scope_states_can_read() {
        let actors = [
            Actor::Anonymous,
            user(1, false, Scope::Read),
            user(2, false, Scope::Push),
            user(3, true, Scope::Admin),
            user(3, true, Scope::Push),
            user_with(4, false, Scope::Read, member(7, false)),
            user_with(5, false, Scope::Push, role_on(1, Role::Reader)),
            user_with(6, false, Scope::Push, role_on(2, Role::Owner)),
        ];
        for actor in &actors {
            for entity_owner in [None, Some(1), Some(2)] {
                for team in [None, Some(7)] {
                    for coll_owner in [None, Some(1), Some(2)] {
                        for (id, private) in [(1, false), (1, true), (2, true)] {
                            let e = ent(entity_owner, team);
                            let mut c = coll(id, private);
                            c.owner_id = coll_owner;
                            let by_scope = match actor.read_scope() {
                                ReadScope::All => true,
                                ReadScope::Public => !private,
                                ReadScope::Granted {
                                    user_id,
                                    team_ids,
                                    collection_ids,
                                } => {
                                    !private
                                        || coll_owner == Some(user_id)
                                        || entity_owner == Some(user_id)
                                        || team.is_some_and(|t| team_ids.contains(&t))
                                        || collection_ids.contains(&id)
                                }
                            };
                            assert_eq!(by_scope, actor.can_read(&e, &c), "{actor:?} {e:?} {c:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn roles_decide_push_and_manage() {
        let e = ent(Some(1), None);
        let c = coll(1, true);
        assert!(user(1, false, Scope::Push).require_push(&e, &c).is_ok());
        assert!(user(1, false, Scope::Push).require_manage(&e, &c).is_ok());
        assert!(user(1, false, Scope::Read).require_push(&e, &c).is_err());
        assert!(user(2, false, Scope::Push).require_push(&e, &c).is_err());
        assert!(user(3, true, Scope::Admin).require_manage(&e, &c).is_ok());
        let reader = user_with(4, false, Scope::Push, role_on(1, Role::Reader));
        assert!(reader.require_push(&e, &c).is_err());
        let contributor = user_with(4, false, Scope::Push, role_on(1, Role::Contributor));
        assert!(contributor.require_push(&e, &c).is_ok());
        assert!(contributor.require_manage(&e, &c).is_err());
        assert!(contributor.require_create_collection(&e).is_err());
        let owner = user_with(4, false, Scope::Push, role_on(1, Role::Owner));
        assert!(owner.require_manage(&e, &c).is_ok());
        let team_entity = ent(None, Some(7));
        let team_member = user_with(5, false, Scope::Push, member(7, false));
        assert!(team_member.require_push(&team_entity, &c).is_ok());
        assert!(team_member.require_manage(&team_entity, &c).is_err());
        assert!(team_member.require_create_collection(&team_entity).is_ok());
        assert!(team_member.require_team_owner(7).is_err());
        let team_owner = user_with(5, false, Scope::Push, member(7, true));
        assert!(team_owner.require_manage(&team_entity, &c).is_ok());
        assert!(team_owner.require_team_owner(7).is_ok());
        assert!(matches!(
            Actor::Anonymous.require_push(&e, &c),
            Err(DomainError::Unauthenticated)
        ));
        assert!(user(1, false, Scope::Push)
            .require_create_entity("u1")
            .is_ok());
        assert!(user(1, false, Scope::Push)
            .require_create_entity("u2")
            .is_err());
        let robot = Actor::User(Principal {
            is_robot: true,
            ..team_owner.principal().unwrap().clone()
        });
        assert!(robot.require_human_push().is_err());
        assert!(robot.require_manage_robot(Some(5), &[7]).is_err());
        assert!(team_owner.require_manage_robot(None, &[7]).is_ok());
        assert!(team_owner.require_manage_robot(None, &[8]).is_err());
        assert!(team_member.require_manage_robot(None, &[7]).is_err());
        assert!(team_member.require_manage_robot(Some(5), &[]).is_ok());
        assert!(team_member.can_view_team(7) && !team_member.can_view_team(8));
        assert!(team_member.require_team_owner_or_self(7, 5).is_ok());
        assert!(team_member.require_team_owner_or_self(7, 6).is_err());
        assert!(team_owner.require_team_owner_or_self(7, 6).is_ok());
        assert!(user(3, true, Scope::Push).require_admin().is_err());
        assert!(user(3, true, Scope::Admin).require_admin().is_ok());
    }
}
