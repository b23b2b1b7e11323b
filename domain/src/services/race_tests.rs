//! Concurrent writes to the same names: the outcome is one a serial order could give, and
//! no request fails because another one won a race.
use futures::future::join_all;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::admin_tests::{account, body, path, push, registry, sha};
use super::NewContainer;
use crate::entities::{image, tag};
use crate::error::DomainError;
use crate::testing::TestDb;

const AT_ONCE: usize = 12;

#[tokio::test]
async fn concurrent_creates_of_one_content_give_one_record() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let alice = account(&r, "alice", false).await;
    push(&r, &alice, "alice/lab/tool", b"first image").await;
    let container = r.container(&alice, &path("alice/lab/tool")).await.unwrap();
    let content = sha(b"second image");
    let created = join_all(
        (0..AT_ONCE).map(|_| r.create_image(&alice, container.container.id, &content, "")),
    )
    .await;
    let ids: Vec<i64> = created.into_iter().map(|c| c.unwrap().image.id).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let records = image::Entity::find()
        .filter(image::Column::Sha256.eq(content.as_str()))
        .count(r.db())
        .await
        .unwrap();
    assert_eq!(records, 1);
}

#[tokio::test]
async fn concurrent_taggings_leave_the_tag_on_one_of_the_images() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let alice = account(&r, "alice", false).await;
    let first = push(&r, &alice, "alice/lab/tool", b"image 0").await;
    let container_id = r
        .container(&alice, &path("alice/lab/tool"))
        .await
        .unwrap()
        .container
        .id;
    let mut images = vec![first];
    for n in 1..AT_ONCE {
        let bytes = format!("image {n}").into_bytes();
        let created = r
            .create_image(&alice, container_id, &sha(&bytes), "")
            .await
            .unwrap();
        r.upload_direct(
            &alice,
            created.image.id,
            body(&bytes),
            Some(bytes.len() as u64),
        )
        .await
        .unwrap();
        images.push(created.image.id);
    }
    // Every image to a new tag at once, then every image to the same tag at once.
    for name in ["fresh", "latest"] {
        let results = join_all(
            images
                .iter()
                .map(|id| r.set_tag(&alice, container_id, None, name, *id)),
        )
        .await;
        for result in results {
            result.unwrap();
        }
        let tags = tag::Entity::find()
            .filter(tag::Column::ContainerId.eq(container_id))
            .filter(tag::Column::Name.eq(name))
            .all(r.db())
            .await
            .unwrap();
        assert_eq!(tags.len(), 1, "{tags:?}");
        assert!(images.contains(&tags[0].image_id));
    }
}

#[tokio::test]
async fn concurrent_creates_of_one_container_conflict_cleanly() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let alice = account(&r, "alice", false).await;
    push(&r, &alice, "alice/lab/tool", b"an image").await;
    let collection_id = r
        .container(&alice, &path("alice/lab/tool"))
        .await
        .unwrap()
        .collection
        .id;
    let results = join_all((0..AT_ONCE).map(|_| {
        r.create_container(
            &alice,
            NewContainer {
                collection_id,
                name: "raced".into(),
                ..Default::default()
            },
        )
    }))
    .await;
    let created = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(DomainError::Conflict(_))))
        .count();
    assert_eq!((created, conflicts), (1, AT_ONCE - 1), "{results:?}");
}
