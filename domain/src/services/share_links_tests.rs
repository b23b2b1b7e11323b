//! Tests of share links (run on SQLite, and on PostgreSQL with `SILO_TEST_POSTGRES_URL`).
use super::*;
use crate::entities::audit_log;
use crate::names::{ImageRef, Sha256Hex, Version};
use crate::policy::{Role, Scope};
use crate::services::{NewCollection, NewContainer, NewEntity, NewToken};
use crate::store::{ByteStream, FsBlobStore};
use crate::testing::TestDb;
use bytes::Bytes;
use sea_orm::PaginatorTrait;
use std::sync::Arc;

struct World {
    r: Registry,
    alice: Actor,
    bob: Actor,
    /// `alice/private/shared`, `alice/private/other` (a private collection).
    shared: ContainerPath,
    other: ContainerPath,
    shared_bytes: Vec<u8>,
    _db: TestDb,
}

async fn actor(r: &Registry, name: &str, scope: Scope) -> Actor {
    r.create_user(name, "", false).await.unwrap();
    let new = NewToken {
        label: "t".into(),
        scope: Some(scope),
        expires_in_days: None,
    };
    let secret = r.create_token(name, new).await.unwrap().secret;
    r.authenticate(&secret).await.unwrap()
}

async fn push(r: &Registry, actor: &Actor, container_id: i64, bytes: &[u8]) {
    let sha =
        Sha256Hex::parse(&hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes))).unwrap();
    let image = r.create_image(actor, container_id, &sha, "").await.unwrap();
    let body: ByteStream = Box::pin(futures::stream::once({
        let b = Bytes::from(bytes.to_vec());
        async move { Ok(b) }
    }));
    r.upload_direct(actor, image.image.id, body, Some(bytes.len() as u64))
        .await
        .unwrap();
    r.set_tag(actor, container_id, None, "latest", image.image.id)
        .await
        .unwrap();
}

async fn world() -> World {
    let db = TestDb::new().await;
    let store = FsBlobStore::open(db.dir.path().join("blobs"))
        .await
        .unwrap();
    let r = Registry::new(db.db.clone(), Arc::new(store)).with_accept_non_sif(true);
    let alice = actor(&r, "alice", Scope::Push).await;
    let bob = actor(&r, "bob", Scope::Push).await;
    let entity = r
        .create_entity(
            &alice,
            NewEntity {
                name: "alice".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (_, coll) = r
        .create_collection(
            &alice,
            NewCollection {
                entity_id: entity.id,
                name: "private".into(),
                private: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut ids = vec![];
    for name in ["shared", "other"] {
        let view = r
            .create_container(
                &alice,
                NewContainer {
                    collection_id: coll.id,
                    name: name.into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        ids.push(view.container.id);
    }
    let shared_bytes = b"the shared image".to_vec();
    push(&r, &alice, ids[0], &shared_bytes).await;
    push(&r, &alice, ids[1], b"another private image").await;
    World {
        r,
        alice,
        bob,
        shared: ContainerPath::new("alice", "private", "shared").unwrap(),
        other: ContainerPath::new("alice", "private", "other").unwrap(),
        shared_bytes,
        _db: db,
    }
}

fn latest(path: &ContainerPath) -> ImageRef {
    ImageRef {
        path: path.clone(),
        version: Version::Tag("latest".into()),
    }
}

async fn read_all(r: &Registry, actor: &Actor, path: &ContainerPath) -> Result<Vec<u8>> {
    use futures::TryStreamExt;
    let download = r
        .download(actor, &latest(path), None, None, "test", true)
        .await?;
    let chunks: Vec<Bytes> = download.reader.stream.try_collect().await.unwrap();
    Ok(chunks.concat())
}

#[tokio::test]
async fn a_share_link_pulls_its_container_and_nothing_else() {
    let w = world().await;
    let r = &w.r;
    assert!(read_all(r, &Actor::Anonymous, &w.shared).await.is_err());
    let created = r
        .create_share_link(&w.alice, &w.shared, " for Bob ", Duration::days(7))
        .await
        .unwrap();
    assert!(is_share_secret(&created.secret), "{}", created.secret);
    assert!(created.secret.len() <= 64, "fits a shub container name");
    assert_eq!(created.info.label, "for Bob");
    assert_eq!(created.info.created_by, "alice");
    let share = r.resolve_share(&created.secret).await.unwrap();
    assert_eq!(
        read_all(r, &share, &w.shared).await.unwrap(),
        w.shared_bytes
    );
    assert!(matches!(
        read_all(r, &share, &w.other).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(r.collection(&share, "alice", "private").await.is_err());
    assert!(r.collection_page(&share, "alice", "private").await.is_err());
    assert!(r.container_page(&share, &w.shared).await.is_ok());
    let listed = r.list_collections(&share).await.unwrap();
    assert!(
        listed.iter().all(|c| !c.collection.private),
        "lists stay public"
    );
    // It writes nothing.
    let view = r.container(&share, &w.shared).await.unwrap();
    assert!(r
        .create_image(
            &share,
            view.container.id,
            &Sha256Hex::parse(&"a".repeat(64)).unwrap(),
            ""
        )
        .await
        .is_err());
    assert!(r
        .create_share_link(&share, &w.shared, "", Duration::days(1))
        .await
        .is_err());
    // The secret also works as a bearer credential, with the same reach.
    let bearer = r.authenticate(&created.secret).await.unwrap();
    assert!(matches!(bearer, Actor::Share(_)));
    assert!(read_all(r, &bearer, &w.other).await.is_err());
    assert!(r
        .login_with_token("alice", &created.secret, Default::default())
        .await
        .is_err());
    let (_, shared_view) = r.shared_container(&created.secret).await.unwrap();
    assert_eq!(shared_view.path(), "alice/private/shared");
    let links = r.list_share_links(&w.alice, &w.shared).await.unwrap();
    assert_eq!(links.len(), 1);
    // resolve_share, authenticate, the refused sign-in (it authenticates), shared_container.
    assert_eq!(links[0].use_count, 4);
    assert!(links[0].last_used_at.is_some());
    let created_audits = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("share_link_created"))
        .count(r.db())
        .await
        .unwrap();
    assert_eq!(created_audits, 1);
}

#[tokio::test]
async fn expired_and_revoked_links_are_refused() {
    let w = world().await;
    let r = &w.r;
    let expiring = r
        .create_share_link(&w.alice, &w.shared, "soon", Duration::days(1))
        .await
        .unwrap();
    let revoked = r
        .create_share_link(&w.alice, &w.shared, "later", Duration::days(1))
        .await
        .unwrap();
    let row = share_link::Entity::find_by_id(expiring.info.id)
        .one(r.db())
        .await
        .unwrap()
        .unwrap();
    let mut active: share_link::ActiveModel = row.into();
    active.expires_at = Set(now() - Duration::seconds(1));
    active.update(r.db()).await.unwrap();
    assert!(matches!(
        r.resolve_share(&expiring.secret).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        r.authenticate(&expiring.secret).await,
        Err(DomainError::Unauthenticated)
    ));
    assert!(r.resolve_share(&revoked.secret).await.is_ok());
    assert!(matches!(
        r.revoke_share_link(&w.bob, revoked.info.id).await,
        Err(DomainError::NotFound(_))
    ));
    let done = r
        .revoke_share_link(&w.alice, revoked.info.id)
        .await
        .unwrap();
    assert!(!done.is_live(now()));
    assert!(matches!(
        r.resolve_share(&revoked.secret).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(r.shared_container(&revoked.secret).await.is_err());
    assert!(r.resolve_share("silos_nonsense").await.is_err());
    assert!(r
        .resolve_share(&format!("silos_{}", "a".repeat(48)))
        .await
        .is_err());
    let revocations = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("share_link_revoked"))
        .count(r.db())
        .await
        .unwrap();
    assert_eq!(revocations, 1);
}

#[tokio::test]
async fn only_owners_create_list_and_revoke_links() {
    let w = world().await;
    let r = &w.r;
    // Bob cannot even see the private container.
    assert!(matches!(
        r.create_share_link(&w.bob, &w.shared, "", Duration::days(1))
            .await,
        Err(DomainError::NotFound(_))
    ));
    assert!(r.list_share_links(&w.bob, &w.shared).await.is_err());
    assert!(r
        .create_share_link(&Actor::Anonymous, &w.shared, "", Duration::days(1))
        .await
        .is_err());
    // A reader or contributor of the collection sees it but may not share it.
    let view = r.container(&w.alice, &w.shared).await.unwrap();
    for role in [Role::Reader, Role::Contributor] {
        crate::entities::collection_role::ActiveModel {
            collection_id: Set(view.collection.id),
            user_id: Set(Some(w.bob.user_id().unwrap())),
            team_id: Set(None),
            role: Set(role.as_str().into()),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(r.db())
        .await
        .unwrap();
        let bob = actor_again(r, "bob").await;
        assert!(r.container(&bob, &w.shared).await.is_ok(), "{role:?} reads");
        assert!(matches!(
            r.create_share_link(&bob, &w.shared, "", Duration::days(1))
                .await,
            Err(DomainError::Forbidden(_))
        ));
        assert!(r.list_share_links(&bob, &w.shared).await.is_err());
        crate::entities::collection_role::Entity::delete_many()
            .exec(r.db())
            .await
            .unwrap();
    }
    // Expiry is mandatory and bounded; read-only credentials of the owner cannot share.
    for expires in [
        Duration::zero(),
        Duration::minutes(1),
        Duration::days(SHARE_MAX_DAYS + 1),
    ] {
        assert!(matches!(
            r.create_share_link(&w.alice, &w.shared, "", expires).await,
            Err(DomainError::InvalidInput(_))
        ));
    }
    let link = r
        .create_share_link(&w.alice, &w.shared, "", Duration::days(SHARE_MAX_DAYS))
        .await
        .unwrap();
    let reader_alice = {
        let secret = r
            .create_token(
                "alice",
                NewToken {
                    label: "ro".into(),
                    scope: Some(Scope::Read),
                    expires_in_days: None,
                },
            )
            .await
            .unwrap()
            .secret;
        r.authenticate(&secret).await.unwrap()
    };
    assert!(r
        .create_share_link(&reader_alice, &w.shared, "", Duration::days(1))
        .await
        .is_err());
    assert!(r.revoke_share_link(&w.bob, link.info.id).await.is_err());
    assert!(r.resolve_share(&link.secret).await.is_ok());
}

/// A fresh actor for an existing user (picks up newly granted roles).
async fn actor_again(r: &Registry, name: &str) -> Actor {
    let secret = r
        .create_token(
            name,
            NewToken {
                label: "again".into(),
                scope: Some(Scope::Push),
                expires_in_days: None,
            },
        )
        .await
        .unwrap()
        .secret;
    r.authenticate(&secret).await.unwrap()
}
