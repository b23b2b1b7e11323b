//! The registry's event bus: a message whenever an image finishes uploading (by any protocol)
//! or is deleted, for live views such as the SPA's treemap.
//!
//! Every [`Registry`] (and its clones) has a local broadcast channel; [`Registry::publish`]
//! sends there at once. On PostgreSQL it also sends `pg_notify('silo_events', …)` with a
//! small JSON payload (kind, container id, the publishing registry's origin id), and
//! [`Registry::start_event_relay`] (`events_relay.rs`) listens on that channel and
//! re-broadcasts, into its local channel, what *other* replicas published: each event reaches
//! each subscriber exactly once, whichever replica made the change. SQLite stays in-process.
//!
//! An event carries the container's entity and collection so that whoever forwards it asks
//! the policy, per viewer, whether that viewer may learn about it
//! ([`RegistryEvent::path_for`]); the names themselves are never handed out unchecked.
use serde::{Deserialize, Serialize};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tokio::sync::broadcast;

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::entities::{collection, entity};
use crate::policy::Actor;
use crate::services::{random_hex, ContainerView, Registry};

/// Events a slow subscriber may fall behind by before it misses some (it is told it lagged).
pub const EVENT_BUFFER: usize = 256;

/// The PostgreSQL `NOTIFY` channel events travel on between replicas.
pub const EVENT_CHANNEL: &str = "silo_events";

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// An image's bytes were committed and inspected: library (single or multipart), OCI
    /// manifest of a SIF artifact, sregistry push.
    ImagePushed,
    /// An image record (and its tags) was deleted.
    ImageDeleted,
    /// Events may have been missed (the connection carrying other replicas' events was
    /// lost, or a change concerned a container that is gone): refresh everything. Carries no
    /// names, so every viewer may hear it.
    Missed,
}

impl ChangeKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ChangeKind::ImagePushed => "pushed",
            ChangeKind::ImageDeleted => "deleted",
            ChangeKind::Missed => "changed",
        }
    }

    fn parse(text: &str) -> Option<ChangeKind> {
        [
            ChangeKind::ImagePushed,
            ChangeKind::ImageDeleted,
            ChangeKind::Missed,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

/// One change to a container (or, for [`ChangeKind::Missed`], to unknown ones).
#[derive(Clone, Debug)]
pub struct RegistryEvent {
    pub kind: ChangeKind,
    target: Option<Target>,
}

#[derive(Clone, Debug)]
struct Target {
    entity: entity::Model,
    collection: collection::Model,
    container: String,
}

impl RegistryEvent {
    pub(crate) fn about(kind: ChangeKind, view: &ContainerView) -> RegistryEvent {
        RegistryEvent {
            kind,
            target: Some(Target {
                entity: view.entity.clone(),
                collection: view.collection.clone(),
                container: view.container.name.clone(),
            }),
        }
    }

    pub(crate) fn missed() -> RegistryEvent {
        RegistryEvent {
            kind: ChangeKind::Missed,
            target: None,
        }
    }

    /// `entity/collection/container` if `viewer` may read the container, else None: the
    /// event must then not reach that viewer at all (a [`ChangeKind::Missed`] event has no
    /// path and goes to everyone).
    pub fn path_for(&self, viewer: &Actor) -> Option<String> {
        let target = self.target.as_ref()?;
        viewer
            .can_read(&target.entity, &target.collection)
            .then(|| {
                format!(
                    "{}/{}/{}",
                    target.entity.name, target.collection.name, target.container
                )
            })
    }
}

/// The local channel and this registry's origin id, shared by every clone.
#[derive(Clone)]
pub(crate) struct EventBus {
    pub(crate) local: broadcast::Sender<RegistryEvent>,
    /// Tags this registry's notifications, so its relay skips them (they were delivered
    /// locally already).
    pub(crate) origin: Arc<str>,
    /// Whether a relay runs for this registry (one at most, or events would come twice).
    pub(crate) relay_running: Arc<AtomicBool>,
}

impl EventBus {
    pub(crate) fn new() -> EventBus {
        EventBus {
            local: broadcast::channel(EVENT_BUFFER).0,
            origin: random_hex(8).into(),
            relay_running: Arc::default(),
        }
    }
}

/// The `NOTIFY` payload: what happened to which container, and who published it.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct Notice {
    pub kind: String,
    pub container: i64,
    pub origin: String,
}

impl Notice {
    pub(crate) fn kind(&self) -> Option<ChangeKind> {
        ChangeKind::parse(&self.kind)
    }
}

impl Registry {
    /// Subscribes to the changes made from now on (through this replica, and through the
    /// others once [`Registry::start_event_relay`] runs).
    pub fn subscribe(&self) -> broadcast::Receiver<RegistryEvent> {
        self.events.local.subscribe()
    }

    /// Tells the local subscribers (if any) about a change to `view`'s container, and on
    /// PostgreSQL the other replicas. A failed notification only costs the other replicas
    /// the event, never the change.
    pub(crate) async fn publish(&self, kind: ChangeKind, view: &ContainerView) {
        // No subscriber is not an error.
        let _ = self.events.local.send(RegistryEvent::about(kind, view));
        if self.db.get_database_backend() != DbBackend::Postgres {
            return;
        }
        let notice = Notice {
            kind: kind.as_str().into(),
            container: view.container.id,
            origin: self.events.origin.to_string(),
        };
        let payload = serde_json::to_string(&notice).expect("a notice serialises");
        let notify = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [EVENT_CHANNEL.into(), payload.into()],
        );
        if let Err(e) = self.db.execute_raw(notify).await {
            tracing::warn!(error = %e, "could not tell the other replicas about a change");
        }
    }

    /// [`Registry::publish`] for the container `container_id` (looked up; a lookup failure
    /// only costs the event, never the change that was made).
    pub(crate) async fn publish_for_container(&self, kind: ChangeKind, container_id: i64) {
        match self.load_container_view(container_id).await {
            Ok(view) => self.publish(kind, &view).await,
            Err(e) => tracing::warn!(error = %e, container_id, "no event for this change"),
        }
    }
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
