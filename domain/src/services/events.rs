//! The registry's in-process event bus: a message whenever an image finishes uploading (by
//! any protocol) or is deleted, for live views such as the SPA's treemap.
//!
//! Events live in one process: with several Silo replicas behind a load balancer each replica
//! only hears about changes made through itself (PostgreSQL `LISTEN/NOTIFY` can bridge them
//! later). An event carries the container's entity and collection so that whoever forwards
//! it asks the policy, per viewer, whether that viewer may learn about it
//! ([`RegistryEvent::path_for`]); the names themselves are never handed out unchecked.
use tokio::sync::broadcast;

use crate::entities::{collection, entity};
use crate::policy::Actor;
use crate::services::{ContainerView, Registry};

/// Events a slow subscriber may fall behind by before it misses some (it is told it lagged).
pub const EVENT_BUFFER: usize = 256;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// An image's bytes were committed and inspected: library (single or multipart), OCI
    /// manifest of a SIF artifact, sregistry push.
    ImagePushed,
    /// An image record (and its tags) was deleted.
    ImageDeleted,
}

impl ChangeKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ChangeKind::ImagePushed => "pushed",
            ChangeKind::ImageDeleted => "deleted",
        }
    }
}

/// One change to a container.
#[derive(Clone, Debug)]
pub struct RegistryEvent {
    pub kind: ChangeKind,
    entity: entity::Model,
    collection: collection::Model,
    container: String,
}

impl RegistryEvent {
    /// `entity/collection/container` if `viewer` may read the container, else None: the
    /// event must then not reach that viewer at all.
    pub fn path_for(&self, viewer: &Actor) -> Option<String> {
        viewer.can_read(&self.entity, &self.collection).then(|| {
            format!(
                "{}/{}/{}",
                self.entity.name, self.collection.name, self.container
            )
        })
    }
}

pub(crate) fn channel() -> broadcast::Sender<RegistryEvent> {
    broadcast::channel(EVENT_BUFFER).0
}

impl Registry {
    /// Subscribes to the changes made from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<RegistryEvent> {
        self.events.subscribe()
    }

    /// Tells the subscribers (if any) about a change to `view`'s container.
    pub(crate) fn publish(&self, kind: ChangeKind, view: &ContainerView) {
        // No subscriber is not an error.
        let _ = self.events.send(RegistryEvent {
            kind,
            entity: view.entity.clone(),
            collection: view.collection.clone(),
            container: view.container.name.clone(),
        });
    }

    /// [`Registry::publish`] for the container `container_id` (looked up; a lookup failure
    /// only costs the event, never the change that was made).
    pub(crate) async fn publish_for_container(&self, kind: ChangeKind, container_id: i64) {
        match self.load_container_view(container_id).await {
            Ok(view) => self.publish(kind, &view),
            Err(e) => tracing::warn!(error = %e, container_id, "no event for this change"),
        }
    }
}

#[cfg(test)]
mod tests {
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
}
