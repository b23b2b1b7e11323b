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

/// Which collections an actor may read, in the form a query can use: see [`Actor::read_scope`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadScope {
    /// Every collection (administrators).
    All,
    /// Public collections only (anonymous callers).
    Public,
    /// Public collections, plus private ones the user owns or that belong to an entity the
    /// user owns.
    PublicOrOwnedBy(i64),
}

/// An authenticated user acting through a credential of some scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub email: String,
    pub realname: String,
    pub is_admin: bool,
    pub scope: Scope,
}

/// Whoever makes a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    Anonymous,
    User(Principal),
}

impl Actor {
    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Actor::Anonymous => None,
            Actor::User(p) => Some(p),
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

    fn owns_entity(&self, entity: &entity::Model) -> bool {
        self.user_id().is_some_and(|id| entity.owner_id == Some(id))
    }

    /// Reading a collection's containers and images.
    pub fn can_read(&self, entity: &entity::Model, collection: &collection::Model) -> bool {
        !collection.private
            || self.is_admin()
            || self.owns_entity(entity)
            || self
                .user_id()
                .is_some_and(|id| collection.owner_id == Some(id))
    }

    /// The collections this actor may read, as a rule a database query can apply (for lists
    /// and aggregates computed in SQL). It states exactly what [`Actor::can_read`] decides.
    pub fn read_scope(&self) -> ReadScope {
        if self.is_admin() {
            ReadScope::All
        } else if let Some(id) = self.user_id() {
            ReadScope::PublicOrOwnedBy(id)
        } else {
            ReadScope::Public
        }
    }

    /// Creating collections, containers, images and tags inside an entity.
    pub fn require_write(&self, entity: &entity::Model) -> Result<&Principal> {
        let principal = self.require_user()?;
        if principal.scope < Scope::Push {
            return Err(DomainError::forbidden("this token is read-only"));
        }
        if self.is_admin() || self.owns_entity(entity) {
            Ok(principal)
        } else {
            Err(DomainError::forbidden(format!(
                "you may not push into entity {:?}; push into your own entity {:?}",
                entity.name, principal.username
            )))
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

    /// Creating a new entity: users get the one named after them, admins any.
    pub fn require_create_entity(&self, name: &str) -> Result<&Principal> {
        let principal = self.require_user()?;
        if principal.scope < Scope::Push {
            return Err(DomainError::forbidden("this token is read-only"));
        }
        if self.is_admin() || principal.username == name {
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

    fn user(id: i64, admin: bool, scope: Scope) -> Actor {
        Actor::User(Principal {
            user_id: id,
            username: format!("u{id}"),
            email: String::new(),
            realname: String::new(),
            is_admin: admin,
            scope,
        })
    }

    fn ent(owner: Option<i64>) -> entity::Model {
        entity::Model {
            id: 1,
            name: "u1".into(),
            description: String::new(),
            owner_id: owner,
            team_id: None,
            default_private: false,
            quota: 0,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn coll(private: bool) -> collection::Model {
        collection::Model {
            id: 1,
            entity_id: 1,
            name: "c".into(),
            description: String::new(),
            private,
            owner_id: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn private_collections_only_for_owner_and_admin() {
        let e = ent(Some(1));
        assert!(Actor::Anonymous.can_read(&e, &coll(false)));
        assert!(!Actor::Anonymous.can_read(&e, &coll(true)));
        assert!(user(1, false, Scope::Read).can_read(&e, &coll(true)));
        assert!(!user(2, false, Scope::Push).can_read(&e, &coll(true)));
        assert!(user(3, true, Scope::Admin).can_read(&e, &coll(true)));
        assert!(!user(3, true, Scope::Push).can_read(&e, &coll(true)));
    }

    #[test]
    fn read_scope_states_can_read() {
        let actors = [
            Actor::Anonymous,
            user(1, false, Scope::Read),
            user(2, false, Scope::Push),
            user(3, true, Scope::Admin),
            user(3, true, Scope::Push),
        ];
        for actor in &actors {
            for entity_owner in [None, Some(1), Some(2)] {
                for coll_owner in [None, Some(1), Some(2)] {
                    for private in [false, true] {
                        let e = ent(entity_owner);
                        let mut c = coll(private);
                        c.owner_id = coll_owner;
                        let by_scope = match actor.read_scope() {
                            ReadScope::All => true,
                            ReadScope::Public => !private,
                            ReadScope::PublicOrOwnedBy(id) => {
                                !private || coll_owner == Some(id) || entity_owner == Some(id)
                            }
                        };
                        assert_eq!(by_scope, actor.can_read(&e, &c), "{actor:?} {e:?} {c:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn writes_need_ownership_and_push_scope() {
        let e = ent(Some(1));
        assert!(user(1, false, Scope::Push).require_write(&e).is_ok());
        assert!(user(1, false, Scope::Read).require_write(&e).is_err());
        assert!(user(2, false, Scope::Push).require_write(&e).is_err());
        assert!(user(3, true, Scope::Admin).require_write(&e).is_ok());
        assert!(matches!(
            Actor::Anonymous.require_write(&e),
            Err(DomainError::Unauthenticated)
        ));
        assert!(user(1, false, Scope::Push)
            .require_create_entity("u1")
            .is_ok());
        assert!(user(1, false, Scope::Push)
            .require_create_entity("u2")
            .is_err());
    }
}
