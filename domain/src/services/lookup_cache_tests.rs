//! The lookup cache: hits skip the database but never the access check, and every kind of
//! change reaches it (the signal after a write, the SQLite change counter, PostgreSQL's
//! `NOTIFY` from another replica). On SQLite or PostgreSQL (`SILO_TEST_POSTGRES_URL`).
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use tokio_util::sync::CancellationToken;

use super::gc_tests::{world, World};
use super::*;
use crate::entities::collection;
use crate::names::ImageRef;
use crate::policy::Actor;
use crate::testing::TestDb;
use crate::DomainError;

fn latest() -> ImageRef {
    ImageRef::parse("alice/c/app:latest").unwrap()
}

/// `alice/c/app:latest` as an anonymous reader sees it.
async fn anonymous_latest(w: &World) -> Arc<ImageDetails> {
    w.registry
        .image_details(&Actor::Anonymous, &latest(), None)
        .await
        .unwrap()
}

async fn make_private(registry: &Registry, collection_id: i64, private: bool) {
    let row = collection::Entity::find_by_id(collection_id)
        .one(registry.db())
        .await
        .unwrap()
        .unwrap();
    let mut row: collection::ActiveModel = row.into();
    row.private = Set(private);
    row.update(registry.db()).await.unwrap();
}

#[tokio::test]
async fn hits_skip_the_database_but_not_the_access_check() {
    let db = TestDb::new().await;
    let w = world(&db, false).await.unwrap();
    let container = w.container("app").await;
    let first = w.push(container, b"first image").await.unwrap();
    w.registry
        .set_tag(&w.actor, container, None, "latest", first.id)
        .await
        .unwrap();
    // The first reading of the change counter is a change (nothing was seen before).
    w.registry.catch_up_with_writes().await;

    let got = anonymous_latest(&w).await;
    assert_eq!(got.view.image.id, first.id);
    let again = anonymous_latest(&w).await;
    assert!(Arc::ptr_eq(&got, &again), "the second lookup is a hit");

    // On SQLite, catching up after a request that wrote nothing a lookup reads keeps the
    // cache (on PostgreSQL it always starts afresh).
    w.registry.catch_up_with_writes().await;
    w.registry.catch_up_with_writes().await;
    let kept = anonymous_latest(&w).await;
    assert_eq!(Arc::ptr_eq(&got, &kept), !db.is_postgres());

    // A retag: the catching up every write request ends with makes the next lookup read
    // again.
    let second = w.push(container, b"second image").await.unwrap();
    w.registry
        .set_tag(&w.actor, container, None, "latest", second.id)
        .await
        .unwrap();
    w.registry.catch_up_with_writes().await;
    let got = anonymous_latest(&w).await;
    assert_eq!(got.view.image.id, second.id, "a new generation reads again");

    // Made private: the owner's lookup fills the cache, an anonymous one is still refused
    // as if nothing were there.
    make_private(&w.registry, w.collection_id, true).await;
    w.registry.catch_up_with_writes().await;
    let owners = w
        .registry
        .image_details(&w.actor, &latest(), None)
        .await
        .unwrap();
    assert_eq!(owners.view.image.id, second.id);
    let hit = w
        .registry
        .image_details(&w.actor, &latest(), None)
        .await
        .unwrap();
    assert!(Arc::ptr_eq(&owners, &hit));
    let refused = w
        .registry
        .image_details(&Actor::Anonymous, &latest(), None)
        .await;
    assert!(
        matches!(&refused, Err(DomainError::NotFound(what)) if what == "container alice/c/app"),
        "{refused:?}"
    );
    // The same answer as for a tag that does not exist in a private collection.
    let missing = ImageRef::parse("alice/c/app:nope").unwrap();
    let refused = w
        .registry
        .image_details(&Actor::Anonymous, &missing, None)
        .await;
    assert!(
        matches!(&refused, Err(DomainError::NotFound(what)) if what == "container alice/c/app"),
        "{refused:?}"
    );
    let absent = w.registry.image_details(&w.actor, &missing, None).await;
    assert!(
        matches!(&absent, Err(DomainError::NotFound(what)) if what.starts_with("image ")),
        "{absent:?}"
    );

    // A counted pull changes the download count a lookup reports.
    let before = w
        .registry
        .image_details(&w.actor, &latest(), None)
        .await
        .unwrap();
    let counted = ImageRef::parse(&format!("alice/c/app:sha256.{}", second.sha256)).unwrap();
    w.registry
        .download(&w.actor, &counted, None, None, "library", true)
        .await
        .unwrap();
    let after = w
        .registry
        .image_details(&w.actor, &latest(), None)
        .await
        .unwrap();
    assert_eq!(
        after.view.owner.container.download_count,
        before.view.owner.container.download_count + 1
    );

    // No cache: every lookup reads.
    let uncached = w.registry.clone().with_lookup_cache(0);
    let one = uncached
        .image_details(&w.actor, &latest(), None)
        .await
        .unwrap();
    let two = uncached
        .image_details(&w.actor, &latest(), None)
        .await
        .unwrap();
    assert!(!Arc::ptr_eq(&one, &two));
}

/// Changes made by someone else (another replica, a `silo` command: here a second
/// registry on the same database) reach the cache without any signal from this process:
/// through the SQLite change counter, or PostgreSQL's `NOTIFY` heard by the event relay.
#[tokio::test]
async fn changes_made_elsewhere_reach_the_cache() {
    let db = TestDb::new().await;
    let w = world(&db, false).await.unwrap();
    let container = w.container("app").await;
    let first = w.push(container, b"first image").await.unwrap();
    w.registry
        .set_tag(&w.actor, container, None, "latest", first.id)
        .await
        .unwrap();
    let stop = CancellationToken::new();
    if db.is_postgres() {
        w.registry.start_event_relay(stop.clone()).await.unwrap();
    } else {
        // Read the counter once first, so that the watch's first reading is no change.
        w.registry.catch_up_with_writes().await;
        w.registry.start_lookup_watch(stop.clone()).unwrap();
    }
    let got = anonymous_latest(&w).await;
    assert_eq!(got.view.image.id, first.id);
    tokio::time::sleep(LOOKUP_WATCH_INTERVAL * 3 / 2).await;
    let still = anonymous_latest(&w).await;
    assert!(Arc::ptr_eq(&got, &still), "nothing changed: still a hit");

    let elsewhere = Registry::new(db.db.clone(), w.registry.store().clone());
    make_private(&elsewhere, w.collection_id, true).await;
    let deadline = tokio::time::Instant::now() + LOOKUP_WATCH_INTERVAL * 5;
    loop {
        match w
            .registry
            .image_details(&Actor::Anonymous, &latest(), None)
            .await
        {
            Err(DomainError::NotFound(_)) => break,
            Ok(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => panic!("still served from the cache: {other:?}"),
        }
    }
    stop.cancel();
}
