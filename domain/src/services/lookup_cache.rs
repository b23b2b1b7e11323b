//! A per-process cache of image lookups, for the read hot paths (`GET /v1/images/…` and shub
//! manifests): an image with its container, collection, entity, tags, star count and SIF
//! metadata, found by name. A hit costs no database round trip.
//!
//! What is cached is never access-checked data: every request still asks the policy whether
//! its actor may read the cached container, exactly as an uncached lookup does. Only found
//! images are cached, so anything created is visible at once.
//!
//! Any change to the tables a lookup reads empties the whole cache (a new *generation*):
//! - database triggers (migration `m20261207_000001`) signal every change, whoever makes it
//!   (a request, another replica, a background job, a `silo` command): on PostgreSQL they
//!   `NOTIFY silo_catalogue` at commit, which the event relay turns into a new generation
//!   within milliseconds; on SQLite they count in `catalogue_version`, which
//!   [`Registry::start_lookup_watch`] reads once a second;
//! - so that a change is visible to the very next lookup after its response: the server
//!   calls [`Registry::catch_up_with_writes`] after every request that is not a GET, HEAD or
//!   OPTIONS, before the response leaves (on SQLite it reads the counter, so requests that
//!   changed nothing a lookup reads keep the cache), and a pull calls
//!   [`Registry::lookups_changed`] after counting its download.
//!
//! A lookup notes the generation *before* it reads the database and stores its result under
//! that generation, so a result read across a change is already stale when it is stored.
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::images::image_not_found;
use super::{ContainerView, ImageView, Registry, SifMetadata};
use crate::error::{DomainError, Result};
use crate::names::{ImageRef, Version};
use crate::policy::Actor;

/// Lookups kept by default (about a kilobyte each).
pub const LOOKUP_CACHE_ENTRIES: usize = 10_000;

/// How often SQLite's change counter is read.
pub const LOOKUP_WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// The PostgreSQL `NOTIFY` channel of the catalogue triggers.
pub const CATALOGUE_CHANNEL: &str = "silo_catalogue";

/// An image as `GET /v1/images` and shub manifests describe it.
#[derive(Clone, Debug)]
pub struct ImageDetails {
    pub view: ImageView,
    pub stars: u64,
    pub metadata: Option<SifMetadata>,
}

#[derive(Debug)]
pub(crate) struct LookupCache {
    capacity: usize,
    generation: AtomicU64,
    /// SQLite: the last value of the catalogue change counter this process read.
    seen_version: AtomicI64,
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    /// The generation every entry below was read in.
    generation: u64,
    images: HashMap<String, Arc<ImageDetails>>,
}

impl LookupCache {
    pub(crate) fn new(capacity: usize) -> LookupCache {
        LookupCache {
            capacity,
            generation: AtomicU64::new(0),
            seen_version: AtomicI64::new(i64::MIN),
            entries: Mutex::new(Entries::default()),
        }
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// A reading of the change counter: a value not seen before is a change. (Every value is
    /// seen first by a reader that then starts a new generation, after the commit it counts.)
    fn saw_version(&self, version: i64) {
        if self.seen_version.swap(version, Ordering::SeqCst) != version {
            self.invalidate();
        }
    }

    fn get(&self, key: &str) -> Option<Arc<ImageDetails>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.generation != self.generation() {
            return None;
        }
        entries.images.get(key).cloned()
    }

    /// Keeps `details`, read in `generation`, unless that generation has passed.
    fn put(&self, key: String, generation: u64, details: Arc<ImageDetails>) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if generation != self.generation() {
            return;
        }
        if entries.generation != generation {
            entries.images.clear();
            entries.generation = generation;
        }
        if entries.images.len() >= self.capacity {
            // Full: make room by dropping an arbitrary entry.
            if let Some(victim) = entries.images.keys().next().cloned() {
                entries.images.remove(&victim);
            }
        }
        entries.images.insert(key, details);
    }
}

fn cache_key(reference: &ImageRef, arch: Option<&str>) -> String {
    let version = match &reference.version {
        Version::Tag(tag) => format!("tag:{tag}"),
        Version::Hash(sha) => format!("sha256:{sha}"),
    };
    format!(
        "{}\n{version}\n{}",
        reference.path,
        arch.filter(|a| !a.is_empty()).unwrap_or("")
    )
}

impl Registry {
    /// Resolves an image like [`Registry::image`], with its star count and SIF metadata,
    /// from the lookup cache when it can.
    pub async fn image_details(
        &self,
        actor: &Actor,
        reference: &ImageRef,
        arch: Option<&str>,
    ) -> Result<Arc<ImageDetails>> {
        let key = cache_key(reference, arch);
        let not_readable = || DomainError::not_found(format!("container {}", reference.path));
        if let Some(details) = self.lookups.get(&key) {
            let owner = &details.view.owner;
            if !actor.can_read_container(&owner.entity, &owner.collection, owner.container.id) {
                return Err(not_readable());
            }
            return Ok(details);
        }
        let generation = self.lookups.generation();
        let path = &reference.path;
        let (entity, collection, container) = self
            .container_by_path(&path.entity, &path.collection, path.container.as_str())
            .await?
            .ok_or_else(not_readable)?;
        if !actor.can_read_container(&entity, &collection, container.id) {
            return Err(not_readable());
        }
        let owner = ContainerView {
            entity,
            collection,
            container,
        };
        let view = self
            .image_in(owner, reference, arch)
            .await?
            .ok_or_else(|| image_not_found(reference))?;
        let stars = self.container_stars(view.owner.container.id).await?;
        let metadata = self.image_metadata(&view).await?;
        let details = Arc::new(ImageDetails {
            view,
            stars,
            metadata,
        });
        self.lookups.put(key, generation, details.clone());
        Ok(details)
    }

    /// Something a cached lookup may have read has changed: forget every cached lookup.
    pub fn lookups_changed(&self) {
        self.lookups.invalidate();
    }

    /// After a request that may have written: on SQLite, reads the change counter and forgets
    /// the cached lookups if it moved (a request that wrote nothing they read keeps them); on
    /// PostgreSQL forgets them (the triggers' `NOTIFY` arrives only after the response).
    pub async fn catch_up_with_writes(&self) {
        if self.db.get_database_backend() == DbBackend::Postgres {
            self.lookups_changed();
            return;
        }
        match self.catalogue_version().await {
            Ok(version) => self.lookups.saw_version(version),
            Err(e) => {
                tracing::debug!(error = %e, "cannot read the catalogue change counter");
                self.lookups_changed();
            }
        }
    }

    /// SQLite: reads the change counter of the catalogue triggers every
    /// [`LOOKUP_WATCH_INTERVAL`] and forgets the cached lookups when it moved, until `stop`
    /// is cancelled. None on PostgreSQL, where the event relay hears the triggers' `NOTIFY`.
    pub fn start_lookup_watch(&self, stop: CancellationToken) -> Option<JoinHandle<()>> {
        if self.db.get_database_backend() == DbBackend::Postgres {
            return None;
        }
        let registry = self.clone();
        Some(tokio::spawn(async move {
            loop {
                registry.catch_up_with_writes().await;
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(LOOKUP_WATCH_INTERVAL) => {}
                }
            }
        }))
    }

    /// SQLite's count of changes to the catalogue tables.
    pub(crate) async fn catalogue_version(&self) -> Result<i64> {
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT version FROM catalogue_version WHERE id = 1",
            ))
            .await?
            .ok_or_else(|| {
                DomainError::Database(sea_orm::DbErr::RecordNotFound(
                    "catalogue_version has no row".into(),
                ))
            })?;
        Ok(row.try_get::<i64>("", "version")?)
    }
}
