//! Teams, collection roles and robots, through the real services on a real database
//! (SQLite, or PostgreSQL with SILO_TEST_POSTGRES_URL): who may pull, push and delete.
use bytes::Bytes;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::sync::Arc;

use super::*;
use crate::entities::audit_log;
use crate::names::{ContainerPath, ImageRef, Sha256Hex};
use crate::policy::{Role, Scope};
use crate::store::{ByteStream, FsBlobStore};
use crate::testing::TestDb;
use crate::{Actor, DomainError};

pub(super) struct World {
    pub(super) r: Registry,
    _db: TestDb,
}

impl World {
    pub(super) async fn new() -> World {
        let db = TestDb::new().await;
        let store = FsBlobStore::open(db.dir.path().join("blobs"))
            .await
            .unwrap();
        let r = Registry::new(db.db.clone(), Arc::new(store)).with_accept_non_sif(true);
        World { r, _db: db }
    }

    /// A person with a push token (admin token for admins); returns the token's secret.
    pub(super) async fn person(&self, name: &str, admin: bool) -> String {
        self.r.create_user(name, "", admin).await.unwrap();
        let new = NewToken {
            label: "test".into(),
            scope: None,
            expires_in_days: None,
        };
        self.r.create_token(name, new).await.unwrap().secret
    }

    /// The actor behind a token, with the grants of this moment (as on each request).
    pub(super) async fn actor(&self, secret: &str) -> Actor {
        self.r.authenticate(secret).await.unwrap()
    }

    pub(super) async fn collection(&self, owner: &Actor, entity: &str, name: &str, private: bool) {
        let entity = match self.r.entity(entity).await {
            Ok(e) => e,
            Err(_) => self
                .r
                .create_entity(
                    owner,
                    NewEntity {
                        name: entity.into(),
                        ..Default::default()
                    },
                )
                .await
                .unwrap(),
        };
        self.r
            .create_collection(
                owner,
                NewCollection {
                    entity_id: entity.id,
                    name: name.into(),
                    description: String::new(),
                    private,
                },
            )
            .await
            .unwrap();
    }

    /// Pushes `bytes` as `path:latest`, creating the container when missing.
    pub(super) async fn push(&self, actor: &Actor, path: &str, bytes: &[u8]) -> crate::Result<()> {
        use sha2::Digest;
        let parts: Vec<&str> = path.split('/').collect();
        let path = ContainerPath::new(parts[0], parts[1], parts[2])?;
        self.r.check_push(actor, &path).await?;
        let view = match self.r.container(actor, &path).await {
            Ok(view) => view,
            Err(DomainError::NotFound(_)) => {
                let (_, coll) = self.r.collection(actor, parts[0], parts[1]).await?;
                self.r
                    .create_container(
                        actor,
                        NewContainer {
                            collection_id: coll.id,
                            name: parts[2].into(),
                            description: String::new(),
                        },
                    )
                    .await?
            }
            Err(e) => return Err(e),
        };
        let sha = Sha256Hex::parse(&hex::encode(sha2::Sha256::digest(bytes)))?;
        let image = self
            .r
            .create_image(actor, view.container.id, &sha, "")
            .await?;
        let stream: ByteStream =
            Box::pin(futures::stream::iter([Ok(Bytes::copy_from_slice(bytes))]));
        self.r
            .upload_direct(actor, image.image.id, stream, Some(bytes.len() as u64))
            .await?;
        self.r
            .set_tag(
                actor,
                view.container.id,
                Some("amd64"),
                "latest",
                image.image.id,
            )
            .await?;
        Ok(())
    }

    pub(super) async fn pull(&self, actor: &Actor, path: &str) -> crate::Result<()> {
        let reference = ImageRef::parse(&format!("{path}:latest"))?;
        self.r.image(actor, &reference, None).await.map(|_| ())
    }

    pub(super) async fn delete(&self, actor: &Actor, path: &str) -> crate::Result<()> {
        let reference = ImageRef::parse(&format!("{path}:latest"))?;
        self.r
            .delete_image(actor, &reference, None)
            .await
            .map(|_| ())
    }

    pub(super) async fn audited(&self, action: &str) -> u64 {
        audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq(action))
            .count(self.r.db())
            .await
            .unwrap()
    }
}

pub(super) fn user(name: &str) -> RoleHolder {
    RoleHolder::User(name.into())
}

#[tokio::test]
async fn team_members_push_but_only_team_owners_manage() {
    let w = World::new().await;
    let owner_t = w.person("olga", false).await;
    let member_t = w.person("max", false).await;
    let outsider_t = w.person("eve", false).await;
    let olga = w.actor(&owner_t).await;
    let team = w.r.create_team(&olga, "lab", "the lab").await.unwrap();
    // Grants are loaded per authentication: the next request sees the new team.
    let olga = w.actor(&owner_t).await;
    assert_eq!(w.r.entity("lab").await.unwrap().team_id, Some(team.id));
    w.r.add_team_member(&olga, "lab", "max", TeamRole::Member)
        .await
        .unwrap();
    let (olga, max, eve) = (
        w.actor(&owner_t).await,
        w.actor(&member_t).await,
        w.actor(&outsider_t).await,
    );
    // Members may create collections in the team entity (and own those they create)...
    w.collection(&max, "lab", "scratch", false).await;
    // ...and push into the team's other collections, where they may not delete.
    w.collection(&olga, "lab", "tools", true).await;
    w.push(&max, "lab/tools/bwa", b"member push").await.unwrap();
    w.pull(&olga, "lab/tools/bwa").await.unwrap();
    assert!(matches!(
        w.pull(&eve, "lab/tools/bwa").await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        w.push(&eve, "lab/tools/bwa", b"eve").await,
        Err(DomainError::Forbidden(_))
    ));
    assert!(matches!(
        w.delete(&max, "lab/tools/bwa").await,
        Err(DomainError::Forbidden(_))
    ));
    // Members cannot manage the team either.
    assert!(matches!(
        w.r.add_team_member(&max, "lab", "eve", TeamRole::Member)
            .await,
        Err(DomainError::Forbidden(_))
    ));
    assert!(
        w.r.team_page(&eve, "lab").await.is_err(),
        "outsiders do not see the team"
    );
    let page = w.r.team_page(&max, "lab").await.unwrap();
    assert_eq!(page.members.len(), 2);
    assert_eq!(page.members[0].username, "olga", "owners first");
    assert_eq!(page.collections.len(), 2);
    assert!(!page.can_manage);
    assert!(w.r.team_page(&olga, "lab").await.unwrap().can_manage);
    w.delete(&olga, "lab/tools/bwa").await.unwrap();
    assert_eq!(w.audited("team_create").await, 1);
    assert_eq!(w.audited("team_member_add").await, 1);
}

#[tokio::test]
async fn team_names_share_the_user_namespace_and_teams_list() {
    let w = World::new().await;
    let t = w.person("olga", false).await;
    let olga = w.actor(&t).await;
    let admin_t = w.person("root", true).await;
    let root = w.actor(&admin_t).await;
    for taken in ["olga", "root"] {
        assert!(matches!(
            w.r.create_team(&olga, taken, "").await,
            Err(DomainError::Conflict(_))
        ));
    }
    assert!(matches!(
        w.r.create_team(&olga, "Bad Name", "").await,
        Err(DomainError::InvalidInput(_))
    ));
    w.r.create_team(&olga, "lab", "").await.unwrap();
    assert!(matches!(
        w.r.create_team(&olga, "lab", "").await,
        Err(DomainError::Conflict(_))
    ));
    assert!(matches!(
        w.r.create_user("lab", "", false).await,
        Err(DomainError::Conflict(_))
    ));
    let mine = w.r.teams(&olga, false).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].my_role, Some(TeamRole::Owner));
    assert!(w.r.teams(&root, false).await.unwrap().is_empty());
    assert_eq!(w.r.teams(&root, true).await.unwrap().len(), 1);
    assert!(
        w.r.teams(&olga, true).await.is_err(),
        "all teams: admins only"
    );
    // A read-only credential cannot create teams.
    let read =
        w.r.create_token(
            "olga",
            NewToken {
                label: "ro".into(),
                scope: Some(Scope::Read),
                expires_in_days: None,
            },
        )
        .await
        .unwrap();
    let ro = w.actor(&read.secret).await;
    assert!(w.r.create_team(&ro, "lab2", "").await.is_err());
}

#[tokio::test]
async fn the_last_owner_cannot_leave_or_be_demoted() {
    let w = World::new().await;
    let olga_t = w.person("olga", false).await;
    let max_t = w.person("max", false).await;
    w.r.create_team(&w.actor(&olga_t).await, "lab", "")
        .await
        .unwrap();
    let olga = w.actor(&olga_t).await;
    w.r.add_team_member(&olga, "lab", "max", TeamRole::Member)
        .await
        .unwrap();
    let olga = w.actor(&olga_t).await;
    assert!(matches!(
        w.r.set_team_member_role(&olga, "lab", "olga", TeamRole::Member)
            .await,
        Err(DomainError::Conflict(_))
    ));
    assert!(matches!(
        w.r.remove_team_member(&olga, "lab", "olga").await,
        Err(DomainError::Conflict(_))
    ));
    w.r.set_team_member_role(&olga, "lab", "max", TeamRole::Owner)
        .await
        .unwrap();
    // With a second owner, the first may step down, then leave.
    w.r.set_team_member_role(&olga, "lab", "olga", TeamRole::Member)
        .await
        .unwrap();
    let (olga, max) = (w.actor(&olga_t).await, w.actor(&max_t).await);
    assert!(olga
        .require_team_owner(w.r.team_named("lab").await.unwrap().id)
        .is_err());
    w.r.remove_team_member(&olga, "lab", "olga").await.unwrap();
    assert!(matches!(
        w.r.remove_team_member(&max, "lab", "max").await,
        Err(DomainError::Conflict(_))
    ));
    let page = w.r.team_page(&max, "lab").await.unwrap();
    assert_eq!(page.members.len(), 1);
    assert_eq!(w.audited("team_member_role").await, 2);
    assert_eq!(w.audited("team_member_remove").await, 1);
}

#[tokio::test]
async fn teams_are_deleted_only_when_their_entity_is_empty() {
    let w = World::new().await;
    let olga_t = w.person("olga", false).await;
    let max_t = w.person("max", false).await;
    w.r.create_team(&w.actor(&olga_t).await, "lab", "")
        .await
        .unwrap();
    let olga = w.actor(&olga_t).await;
    w.r.add_team_member(&olga, "lab", "max", TeamRole::Member)
        .await
        .unwrap();
    let (olga, max) = (w.actor(&olga_t).await, w.actor(&max_t).await);
    w.collection(&olga, "lab", "tools", false).await;
    w.push(&olga, "lab/tools/bwa", b"x").await.unwrap();
    assert!(matches!(
        w.r.delete_team(&max, "lab").await,
        Err(DomainError::Forbidden(_))
    ));
    assert!(matches!(
        w.r.delete_team(&olga, "lab").await,
        Err(DomainError::Conflict(_))
    ));
    w.delete(&olga, "lab/tools/bwa").await.unwrap();
    let view =
        w.r.container(&olga, &ContainerPath::new("lab", "tools", "bwa").unwrap())
            .await
            .unwrap();
    crate::entities::container::Entity::delete_by_id(view.container.id)
        .exec(w.r.db())
        .await
        .unwrap();
    w.r.delete_team(&olga, "lab").await.unwrap();
    assert!(w.r.entity("lab").await.is_err());
    assert!(w
        .r
        .teams(&w.actor(&max_t).await, false)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(w.audited("team_delete").await, 1);
    // The name is free again.
    w.r.create_team(&w.actor(&max_t).await, "lab", "")
        .await
        .unwrap();
}

#[tokio::test]
async fn readers_pull_contributors_push_owners_delete() {
    let w = World::new().await;
    let alice_t = w.person("alice", false).await;
    let rita_t = w.person("rita", false).await;
    let carl_t = w.person("carl", false).await;
    let oscar_t = w.person("oscar", false).await;
    let alice = w.actor(&alice_t).await;
    w.collection(&alice, "alice", "secret", true).await;
    w.push(&alice, "alice/secret/app", b"private bytes")
        .await
        .unwrap();
    for (name, role) in [
        ("rita", Role::Reader),
        ("carl", Role::Contributor),
        ("oscar", Role::Owner),
    ] {
        w.r.grant_collection_role(&alice, "alice", "secret", &user(name), role)
            .await
            .unwrap();
    }
    let (rita, carl, oscar) = (
        w.actor(&rita_t).await,
        w.actor(&carl_t).await,
        w.actor(&oscar_t).await,
    );
    w.pull(&rita, "alice/secret/app").await.unwrap();
    assert!(matches!(
        w.push(&rita, "alice/secret/app", b"rita").await,
        Err(DomainError::Forbidden(_))
    ));
    w.push(&carl, "alice/secret/app", b"carl pushed")
        .await
        .unwrap();
    w.push(&carl, "alice/secret/new", b"carl new")
        .await
        .unwrap();
    assert!(matches!(
        w.delete(&carl, "alice/secret/app").await,
        Err(DomainError::Forbidden(_))
    ));
    assert!(matches!(
        w.r.grant_collection_role(&carl, "alice", "secret", &user("rita"), Role::Owner)
            .await,
        Err(DomainError::Forbidden(_))
    ));
    assert!(w
        .r
        .collection_roles(&carl, "alice", "secret")
        .await
        .is_err());
    // Owners delete and grant.
    w.delete(&oscar, "alice/secret/new").await.unwrap();
    w.r.grant_collection_role(&oscar, "alice", "secret", &user("rita"), Role::Contributor)
        .await
        .unwrap();
    let roles =
        w.r.collection_roles(&alice, "alice", "secret")
            .await
            .unwrap();
    let rita_role = roles.iter().find(|e| e.holder == user("rita")).unwrap();
    assert_eq!(
        rita_role.role,
        Role::Contributor,
        "granting again replaces the role"
    );
    assert_eq!(roles.len(), 3);
    // The role is per collection.
    w.collection(&alice, "alice", "other", true).await;
    let rita = w.actor(&rita_t).await;
    assert!(w.pull(&rita, "alice/other/x").await.is_err());
    assert!(w.push(&rita, "alice/other/x", b"no").await.is_err());
    assert_eq!(w.audited("collection_role_grant").await, 4);
}

#[tokio::test]
async fn revoking_a_role_applies_on_the_next_request() {
    let w = World::new().await;
    let alice_t = w.person("alice", false).await;
    let rita_t = w.person("rita", false).await;
    let alice = w.actor(&alice_t).await;
    w.collection(&alice, "alice", "secret", true).await;
    w.push(&alice, "alice/secret/app", b"private")
        .await
        .unwrap();
    w.r.grant_collection_role(&alice, "alice", "secret", &user("rita"), Role::Reader)
        .await
        .unwrap();
    w.pull(&w.actor(&rita_t).await, "alice/secret/app")
        .await
        .unwrap();
    w.r.revoke_collection_role(&alice, "alice", "secret", &user("rita"))
        .await
        .unwrap();
    assert!(matches!(
        w.pull(&w.actor(&rita_t).await, "alice/secret/app").await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        w.r.revoke_collection_role(&alice, "alice", "secret", &user("rita"))
            .await,
        Err(DomainError::NotFound(_))
    ));
    // Unknown holders are "not found"; a team role reaches every member.
    for holder in [user("nobody"), RoleHolder::Team("nope".into())] {
        assert!(matches!(
            w.r.grant_collection_role(&alice, "alice", "secret", &holder, Role::Reader)
                .await,
            Err(DomainError::NotFound(_))
        ));
    }
    w.r.create_team(&w.actor(&rita_t).await, "readers", "")
        .await
        .unwrap();
    let team = RoleHolder::Team("readers".into());
    w.r.grant_collection_role(&alice, "alice", "secret", &team, Role::Reader)
        .await
        .unwrap();
    w.pull(&w.actor(&rita_t).await, "alice/secret/app")
        .await
        .unwrap();
    w.r.revoke_collection_role(&alice, "alice", "secret", &team)
        .await
        .unwrap();
    assert!(w
        .pull(&w.actor(&rita_t).await, "alice/secret/app")
        .await
        .is_err());
    assert_eq!(w.audited("collection_role_revoke").await, 2);
}
