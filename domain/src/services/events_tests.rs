//! Tests of the event bus (`events.rs`) and of the relay between replicas (`events_relay.rs`).
use std::sync::Arc;

use super::*;
use crate::names::{ImageRef, Sha256Hex};
use crate::services::{NewCollection, NewContainer, NewEntity, NewToken};
use crate::store::{ByteStream, FsBlobStore};
use crate::testing::TestDb;

fn body(bytes: Vec<u8>) -> ByteStream {
    Box::pin(futures::stream::iter(vec![Ok(bytes::Bytes::from(bytes))]))
}

fn sha(bytes: &[u8]) -> Sha256Hex {
    Sha256Hex::parse(&hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes))).unwrap()
}

async fn actor(r: &Registry, name: &str) -> Actor {
    r.create_user(name, "", false).await.unwrap();
    let token = r
        .create_token(
            name,
            NewToken {
                label: "t".into(),
                scope: None,
                expires_in_days: None,
            },
        )
        .await
        .unwrap();
    r.authenticate(&token.secret).await.unwrap()
}

#[tokio::test]
async fn uploads_and_deletes_are_published_and_private_names_stay_private() {
    let db = TestDb::new().await;
    let store = FsBlobStore::open(db.dir.path().join("blobs"))
        .await
        .unwrap();
    let r = Registry::new(db.db.clone(), Arc::new(store)).with_accept_non_sif(true);
    let alice = actor(&r, "alice").await;
    let bob = actor(&r, "bob").await;
    let ent = r
        .create_entity(
            &alice,
            NewEntity {
                name: "alice".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut events = r.subscribe();
    for (collection, private) in [("open", false), ("secret", true)] {
        let (_, coll) = r
            .create_collection(
                &alice,
                NewCollection {
                    entity_id: ent.id,
                    name: collection.into(),
                    private,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let view = r
            .create_container(
                &alice,
                NewContainer {
                    collection_id: coll.id,
                    name: "tool".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(events.try_recv().is_err(), "nothing uploaded yet");
        let bytes = format!("image of {collection}").into_bytes();
        let image = r
            .create_image(&alice, view.container.id, &sha(&bytes), "")
            .await
            .unwrap();
        r.upload_direct(&alice, image.image.id, body(bytes), None)
            .await
            .unwrap();
        let event = events.try_recv().expect("an event per upload");
        assert_eq!(event.kind, ChangeKind::ImagePushed);
        let path = format!("alice/{collection}/tool");
        assert_eq!(event.path_for(&alice), Some(path.clone()));
        let others = if private { None } else { Some(path) };
        assert_eq!(event.path_for(&bob), others);
        assert_eq!(event.path_for(&Actor::Anonymous), others);
    }
    let hash = sha(b"image of secret").library_form();
    let reference = ImageRef::parse(&format!("alice/secret/tool:{hash}")).unwrap();
    r.delete_image(&alice, &reference, None).await.unwrap();
    let event = events.try_recv().expect("an event per delete");
    assert_eq!(event.kind, ChangeKind::ImageDeleted);
    assert_eq!(event.path_for(&Actor::Anonymous), None);
    assert_eq!(event.path_for(&bob), None);
    assert_eq!(event.path_for(&alice).as_deref(), Some("alice/secret/tool"));
    assert!(events.try_recv().is_err(), "nothing else happened");
}

/// Two registries on one database, as two replicas: separate connection pools, separate
/// event channels, one blob store.
async fn replicas(db: &TestDb) -> (Registry, Registry) {
    let blobs = db.dir.path().join("blobs");
    let a = Registry::new(
        db.db.clone(),
        Arc::new(FsBlobStore::open(&blobs).await.unwrap()),
    )
    .with_accept_non_sif(true);
    let b = Registry::new(
        db.another_replica().await,
        Arc::new(FsBlobStore::open(&blobs).await.unwrap()),
    )
    .with_accept_non_sif(true);
    (a, b)
}

/// alice's container `alice/<collection>/tool` (private or not); returns its id.
async fn container(r: &Registry, alice: &Actor, collection: &str, private: bool) -> i64 {
    let ent = match r.entity("alice").await {
        Ok(ent) => ent,
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
    let (_, coll) = r
        .create_collection(
            alice,
            NewCollection {
                entity_id: ent.id,
                name: collection.into(),
                private,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let view = r
        .create_container(
            alice,
            NewContainer {
                collection_id: coll.id,
                name: "tool".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    view.container.id
}

async fn push(r: &Registry, alice: &Actor, container_id: i64, text: &str) {
    let bytes = text.as_bytes().to_vec();
    let image = r
        .create_image(alice, container_id, &sha(&bytes), "")
        .await
        .unwrap();
    r.upload_direct(alice, image.image.id, body(bytes), None)
        .await
        .unwrap();
}

/// The next event within two seconds.
async fn next(events: &mut tokio::sync::broadcast::Receiver<RegistryEvent>) -> RegistryEvent {
    tokio::time::timeout(std::time::Duration::from_secs(2), events.recv())
        .await
        .expect("an event within 2 s")
        .expect("an open channel")
}

/// Nothing more arrives within half a second.
async fn quiet(events: &mut tokio::sync::broadcast::Receiver<RegistryEvent>, what: &str) {
    let more = tokio::time::timeout(std::time::Duration::from_millis(500), events.recv()).await;
    assert!(more.is_err(), "{what}: unexpected {more:?}");
}

#[tokio::test]
async fn an_event_published_through_one_replica_reaches_the_others_exactly_once() {
    let db = TestDb::new().await;
    let (a, b) = replicas(&db).await;
    let stop = tokio_util::sync::CancellationToken::new();
    let relays = (
        a.start_event_relay(stop.clone()).await,
        b.start_event_relay(stop.clone()).await,
    );
    if db.skip_unless_postgres("events across replicas") {
        assert!(
            relays.0.is_none() && relays.1.is_none(),
            "no relay on SQLite"
        );
        return;
    }
    assert!(
        a.clone().start_event_relay(stop.clone()).await.is_none(),
        "one relay per registry"
    );
    let alice = actor(&a, "alice").await;
    let bob = b
        .authenticate(&{
            a.create_user("bob", "", false).await.unwrap();
            a.create_token(
                "bob",
                NewToken {
                    label: "t".into(),
                    scope: None,
                    expires_in_days: None,
                },
            )
            .await
            .unwrap()
            .secret
        })
        .await
        .unwrap();
    let open = container(&a, &alice, "open", false).await;
    let secret = container(&a, &alice, "secret", true).await;
    let (mut on_a, mut on_b) = (a.subscribe(), b.subscribe());

    push(&a, &alice, open, "public bytes").await;
    for (events, replica) in [(&mut on_a, "a"), (&mut on_b, "b")] {
        let event = next(events).await;
        assert_eq!(event.kind, ChangeKind::ImagePushed, "on {replica}");
        assert_eq!(
            event.path_for(&Actor::Anonymous).as_deref(),
            Some("alice/open/tool")
        );
    }
    // Through the other replica, into a private collection: the policy still filters.
    push(&b, &alice, secret, "private bytes").await;
    for (events, replica) in [(&mut on_a, "a"), (&mut on_b, "b")] {
        let event = next(events).await;
        assert_eq!(event.kind, ChangeKind::ImagePushed, "on {replica}");
        assert_eq!(event.path_for(&alice).as_deref(), Some("alice/secret/tool"));
        assert_eq!(event.path_for(&bob), None, "on {replica}");
        assert_eq!(event.path_for(&Actor::Anonymous), None, "on {replica}");
    }
    let hash = sha(b"public bytes").library_form();
    let reference = ImageRef::parse(&format!("alice/open/tool:{hash}")).unwrap();
    b.delete_image(&alice, &reference, None).await.unwrap();
    for events in [&mut on_a, &mut on_b] {
        assert_eq!(next(events).await.kind, ChangeKind::ImageDeleted);
    }
    // Exactly once: no echo of a replica's own notifications, no duplicates.
    quiet(&mut on_a, "a").await;
    quiet(&mut on_b, "b").await;
    stop.cancel();
}

#[tokio::test]
async fn the_relay_reconnects_after_losing_its_connection() {
    let db = TestDb::new().await;
    let (a, b) = replicas(&db).await;
    if db.skip_unless_postgres("relay reconnection") {
        return;
    }
    let stop = tokio_util::sync::CancellationToken::new();
    let relay = b.start_event_relay(stop.clone()).await.expect("a relay");
    let alice = actor(&a, "alice").await;
    let open = container(&a, &alice, "open", false).await;
    let mut on_b = b.subscribe();

    // The database ends the listening session (as a restart or a network cut would).
    use sea_orm::ConnectionTrait;
    let ended = a
        .db()
        .execute_unprepared(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
        .await
        .unwrap();
    assert_eq!(ended.rows_affected(), 1, "one listening session");
    let event = next(&mut on_b).await;
    assert_eq!(
        event.kind,
        ChangeKind::Missed,
        "subscribers learn they may have missed events"
    );
    assert_eq!(event.path_for(&Actor::Anonymous), None);
    push(&a, &alice, open, "after the reconnection").await;
    let event = next(&mut on_b).await;
    assert_eq!(event.kind, ChangeKind::ImagePushed);
    assert_eq!(
        event.path_for(&Actor::Anonymous).as_deref(),
        Some("alice/open/tool")
    );
    stop.cancel();
    tokio::time::timeout(std::time::Duration::from_secs(2), relay)
        .await
        .expect("the relay stops when asked")
        .unwrap();
}
