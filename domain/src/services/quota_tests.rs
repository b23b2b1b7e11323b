//! Tests of storage quotas on every push path.
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};

use super::admin_tests::{account, body, path, push, registry, sha};
use super::{NewCollection, NewContainer, NewEntity, QuotaHolder, Registry, UserQuery, WebUpload};
use crate::entities::{entity, image, team, team_membership};
use crate::error::DomainError;
use crate::policy::Actor;

fn over_quota<T: std::fmt::Debug>(result: Result<T, DomainError>) -> bool {
    match result {
        Err(DomainError::Forbidden(m)) => m.contains("storage quota exceeded"),
        other => panic!("expected a quota refusal, got {other:?}"),
    }
}

/// An image record in `alice/lab/tool` for `bytes`, ready for a library upload.
async fn library_image(r: &Registry, alice: &Actor, bytes: &[u8]) -> i64 {
    let entity = match r.entity("alice").await {
        Ok(e) => e,
        Err(_) => r
            .create_entity(
                alice,
                NewEntity {
                    name: "alice".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap(),
    };
    let container = match r.container(alice, &path("alice/lab/tool")).await {
        Ok(view) => view.container,
        Err(_) => {
            let (_, coll) = r
                .create_collection(
                    alice,
                    NewCollection {
                        entity_id: entity.id,
                        name: "lab".into(),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            let new = NewContainer {
                collection_id: coll.id,
                name: "tool".into(),
                ..Default::default()
            };
            r.create_container(alice, new).await.unwrap().container
        }
    };
    r.create_image(alice, container.id, &sha(bytes), "")
        .await
        .unwrap()
        .image
        .id
}

#[tokio::test]
async fn user_quota_refuses_pushes_that_do_not_fit_on_every_path() {
    let db = crate::testing::TestDb::new().await;
    let r = registry(&db).await;
    let root = account(&r, "root", true).await;
    let alice = account(&r, "alice", false).await;
    r.set_user_quota(&root, "alice", 100).await.unwrap();

    // Library single-part: 60 bytes fit, then 50 more do not, 40 do (exactly 100).
    let first = vec![1u8; 60];
    let id = library_image(&r, &alice, &first).await;
    let ticket = r.begin_upload(&alice, id, 60, None).await.unwrap();
    r.receive_upload(&ticket.session_id, body(&first))
        .await
        .unwrap();
    assert_eq!(
        r.storage_used(QuotaHolder::User(alice.user_id().unwrap()))
            .await
            .unwrap(),
        60
    );
    let second = vec![2u8; 50];
    let id2 = library_image(&r, &alice, &second).await;
    assert!(over_quota(r.begin_upload(&alice, id2, 50, None).await));
    assert!(over_quota(r.begin_multipart(&alice, id2, 50, 0).await));
    assert!(over_quota(
        r.upload_direct(&alice, id2, body(&second), Some(50)).await
    ));
    // Without an announced size the bytes are checked once received, and dropped.
    assert!(over_quota(
        r.upload_direct(&alice, id2, body(&second), None).await
    ));
    assert!(r.store().size(&sha(&second)).await.unwrap().is_none());
    let still = image::Entity::find_by_id(id2)
        .one(r.db())
        .await
        .unwrap()
        .unwrap();
    assert!(!still.uploaded);

    // sregistry push (no size announced): refused after receiving, nothing kept.
    let pushed = r
        .push_stream(&alice, &path("alice/lab/other"), "latest", body(&second))
        .await;
    assert!(over_quota(pushed));
    assert!(r.store().size(&sha(&second)).await.unwrap().is_none());
    assert!(r.container(&alice, &path("alice/lab/other")).await.is_err());

    // Browser upload: refused before reading a byte.
    let upload = WebUpload {
        path: path("alice/lab/web"),
        tag: "latest".into(),
        private: false,
        size: second.len() as u64,
    };
    assert!(over_quota(
        r.upload_from_browser(&alice, upload, body(&second)).await
    ));

    // OCI: a monolithic blob upload, with and without its size.
    let oci = path("alice/oci/blob");
    assert!(over_quota(
        r.oci_put_blob(&alice, &oci, &sha(&second), body(&second), Some(50))
            .await
    ));
    assert!(over_quota(
        r.oci_put_blob(&alice, &oci, &sha(&second), body(&second), None)
            .await
    ));
    assert!(r.store().size(&sha(&second)).await.unwrap().is_none());
    // OCI chunked upload: refused when finished, the bytes dropped.
    let session = r.oci_start_upload(&alice, &oci).await.unwrap();
    r.oci_append_upload(&alice, &oci, &session, Some(0), body(&second))
        .await
        .unwrap();
    assert!(over_quota(
        r.oci_finish_upload(&alice, &oci, &session, &sha(&second), None)
            .await
    ));
    assert!(r.store().size(&sha(&second)).await.unwrap().is_none());

    // What fits is accepted: 40 more bytes make exactly 100.
    let third = vec![3u8; 40];
    let id3 = library_image(&r, &alice, &third).await;
    let ticket = r.begin_upload(&alice, id3, 40, None).await.unwrap();
    r.receive_upload(&ticket.session_id, body(&third))
        .await
        .unwrap();
    let page = r
        .admin_list_users(&root, &UserQuery::default())
        .await
        .unwrap();
    let row = page
        .users
        .iter()
        .find(|u| u.user.username == "alice")
        .unwrap();
    assert_eq!((row.storage_used, row.user.quota), (100, 100));
    // Full now: any push into alice's entity is refused, whoever makes it.
    assert!(over_quota(r.admit_push_bytes("alice", 1).await));
    // Raising the quota (0 = unlimited) lets pushes through again.
    r.set_user_quota(&root, "alice", 0).await.unwrap();
    r.begin_upload(&alice, id2, 50, None).await.unwrap();
    // Quotas are never negative.
    assert!(matches!(
        r.set_user_quota(&root, "alice", -1).await,
        Err(DomainError::InvalidInput(_))
    ));
}

#[tokio::test]
async fn team_quota_counts_the_teams_entities() {
    let db = crate::testing::TestDb::new().await;
    let r = registry(&db).await;
    let root = account(&r, "root", true).await;
    let lab = team::ActiveModel {
        name: Set("lab".into()),
        description: Set(String::new()),
        created_at: Set(super::now()),
        quota: Set(0),
        ..Default::default()
    }
    .insert(r.db())
    .await
    .unwrap();
    entity::ActiveModel {
        name: Set("lab".into()),
        description: Set(String::new()),
        owner_id: Set(None),
        team_id: Set(Some(lab.id)),
        default_private: Set(false),
        quota: Set(0),
        created_at: Set(super::now()),
        updated_at: Set(super::now()),
        ..Default::default()
    }
    .insert(r.db())
    .await
    .unwrap();
    let bob = account(&r, "bob", false).await;
    team_membership::ActiveModel {
        team_id: Set(lab.id),
        user_id: Set(bob.user_id().unwrap()),
        role: Set("member".into()),
        created_at: Set(super::now()),
        ..Default::default()
    }
    .insert(r.db())
    .await
    .unwrap();
    let secret = super::admin_tests::token(&r, "bob", None).await;
    let bob = r.authenticate(&secret).await.unwrap();
    push(&r, &bob, "lab/tools/one", &[7u8; 30]).await;
    r.set_team_quota(&root, "lab", 50).await.unwrap();
    // Bob's own quota is unlimited, but the team's entity counts against the team's.
    let refused = r
        .push_stream(&bob, &path("lab/tools/two"), "latest", body(&[8u8; 30]))
        .await;
    assert!(over_quota(refused));
    push(&r, &bob, "lab/tools/three", &[9u8; 20]).await;
    let teams = r.team_quotas(&root).await.unwrap();
    assert_eq!(teams.len(), 1);
    assert_eq!((teams[0].used, teams[0].team.quota), (50, 50));
    // Bob's own entity is not limited by the team's quota.
    push(&r, &bob, "bob/own/big", &[1u8; 80]).await;
    assert_eq!(image::Entity::find().count(r.db()).await.unwrap(), 3);
}
