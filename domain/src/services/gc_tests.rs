//! The blob lifecycle, garbage collection and fsck on both stores (filesystem and a real
//! `s3s-fs`), on SQLite or PostgreSQL (`SILO_TEST_POSTGRES_URL`), including GC rounds racing
//! pushes that reuse the same digest.
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use sha2::{Digest, Sha256};

use super::*;
use crate::entities::{blob, image};
use crate::names::{ImageRef, Sha256Hex};
use crate::policy::Actor;
use crate::store::{BlobStore, ByteStream, Expected, FsBlobStore, S3BlobStore};
use crate::testing::s3_server::TestS3;
use crate::testing::TestDb;
use crate::DomainError;

pub(super) struct World {
    pub registry: Registry,
    pub actor: Actor,
    pub collection_id: i64,
    pub s3: Option<TestS3>,
}

/// A registry on the chosen store with user `alice` and her collection `alice/c`; None when
/// the S3 server is not installed.
pub(super) async fn world(db: &TestDb, on_s3: bool) -> Option<World> {
    let (store, s3): (Arc<dyn BlobStore>, _) = if on_s3 {
        let server = TestS3::start().await?;
        let store = S3BlobStore::open(&server.settings).await.unwrap();
        (Arc::new(store), Some(server))
    } else {
        let store = FsBlobStore::open(db.dir.path().join("blobs"))
            .await
            .unwrap();
        (Arc::new(store), None)
    };
    let registry = Registry::new(db.db.clone(), store).with_accept_non_sif(true);
    registry.create_user("alice", "", false).await.unwrap();
    let new = NewToken {
        label: "t".into(),
        scope: None,
        expires_in_days: None,
    };
    let token = registry.create_token("alice", new).await.unwrap();
    let actor = registry.authenticate(&token.secret).await.unwrap();
    let entity = NewEntity {
        name: "alice".into(),
        ..Default::default()
    };
    let entity = registry.create_entity(&actor, entity).await.unwrap();
    let collection = NewCollection {
        entity_id: entity.id,
        name: "c".into(),
        ..Default::default()
    };
    let (_, collection) = registry
        .create_collection(&actor, collection)
        .await
        .unwrap();
    Some(World {
        registry,
        actor,
        collection_id: collection.id,
        s3,
    })
}

pub(super) fn sha_of(bytes: &[u8]) -> Sha256Hex {
    Sha256Hex::parse(&hex::encode(Sha256::digest(bytes))).unwrap()
}

fn body(bytes: &[u8]) -> ByteStream {
    let chunk = Bytes::copy_from_slice(bytes);
    Box::pin(futures::stream::iter(vec![Ok(chunk)]))
}

impl World {
    pub async fn container(&self, name: &str) -> i64 {
        let new = NewContainer {
            collection_id: self.collection_id,
            name: name.into(),
            ..Default::default()
        };
        let view = self.registry.create_container(&self.actor, new).await;
        view.unwrap().container.id
    }

    /// A library single-part push of `bytes` into a container.
    pub async fn push(&self, container_id: i64, bytes: &[u8]) -> crate::Result<image::Model> {
        let sha = sha_of(bytes);
        let view = self
            .registry
            .create_image(&self.actor, container_id, &sha, "")
            .await?;
        let ticket = self
            .registry
            .begin_upload(&self.actor, view.image.id, bytes.len() as u64, None)
            .await?;
        self.registry
            .receive_upload(&ticket.session_id, body(bytes))
            .await
    }

    /// Pulls `alice/c/<container>` by hash and checks the bytes hash to it.
    pub async fn pull_checks_out(&self, container: &str, sha: &Sha256Hex) -> crate::Result<()> {
        let reference = ImageRef::parse(&format!("alice/c/{container}:sha256.{sha}"))?;
        let mut download = self
            .registry
            .download(&self.actor, &reference, None, None, "library", false)
            .await?;
        let mut hasher = Sha256::new();
        while let Some(chunk) = download.reader.stream.next().await {
            hasher.update(&chunk.map_err(crate::store::StoreError::Io)?);
        }
        assert_eq!(hex::encode(hasher.finalize()), sha.as_str(), "pulled bytes");
        Ok(())
    }

    pub async fn delete(&self, container: &str, sha: &Sha256Hex) {
        let reference = ImageRef::parse(&format!("alice/c/{container}:sha256.{sha}")).unwrap();
        self.registry
            .delete_image(&self.actor, &reference, None)
            .await
            .unwrap();
    }

    pub async fn stored(&self, sha: &Sha256Hex) -> bool {
        self.registry.store().size(sha).await.unwrap().is_some()
    }
}

pub(super) fn options(grace_secs: u64, dry_run: bool) -> GcOptions {
    GcOptions {
        dry_run,
        grace: Duration::from_secs(grace_secs),
        abandoned_after: Duration::from_secs(3600),
    }
}

async fn lifecycle(on_s3: bool) {
    let db = TestDb::new().await;
    let Some(w) = world(&db, on_s3).await else {
        return;
    };
    let (one, two) = (w.container("one").await, w.container("two").await);
    let bytes = b"shared image bytes".to_vec();
    let sha = sha_of(&bytes);
    w.push(one, &bytes).await.unwrap();
    w.push(two, &bytes).await.unwrap();
    let row = blob::Entity::find_by_id(sha.to_string())
        .one(w.registry.db())
        .await
        .unwrap()
        .expect("a push records its blob");
    assert_eq!(row.size, bytes.len() as i64);

    w.delete("one", &sha).await;
    assert!(
        w.stored(&sha).await,
        "deleting an image leaves the bytes to GC"
    );
    let report = w
        .registry
        .collect_garbage(&options(0, false))
        .await
        .unwrap();
    assert_eq!(report.count(GcKind::Blob), 0, "still referenced by two");
    w.pull_checks_out("two", &sha).await.unwrap();

    w.delete("two", &sha).await;
    let kept = w.registry.collect_garbage(&options(3600, false)).await;
    assert_eq!(
        kept.unwrap().count(GcKind::Blob),
        0,
        "within the grace period"
    );
    assert!(w.stored(&sha).await);

    let dry = w.registry.collect_garbage(&options(0, true)).await.unwrap();
    assert!(dry.dry_run);
    assert_eq!(dry.count(GcKind::Blob), 1);
    assert_eq!(dry.bytes(GcKind::Blob), bytes.len() as u64);
    assert!(w.stored(&sha).await, "a dry run deletes nothing");
    let rows = blob::Entity::find().count(w.registry.db()).await.unwrap();
    assert_eq!(rows, 1, "a dry run keeps the record");

    let real = w
        .registry
        .collect_garbage(&options(0, false))
        .await
        .unwrap();
    assert_eq!(
        real.items, dry.items,
        "the dry run reported what the real run did"
    );
    assert!(!w.stored(&sha).await, "collected");
    let rows = blob::Entity::find().count(w.registry.db()).await.unwrap();
    assert_eq!(rows, 0);
    let again = w
        .registry
        .collect_garbage(&options(0, false))
        .await
        .unwrap();
    assert!(again.items.is_empty(), "nothing left: {again:?}");

    // The same content pushed again is stored again and pullable.
    w.push(one, &bytes).await.unwrap();
    w.pull_checks_out("one", &sha).await.unwrap();
    let report = w.registry.fsck(FsckOptions::default()).await.unwrap();
    assert_eq!(report.problems_remaining(), 0, "{report:?}");
}

#[tokio::test]
async fn lifecycle_on_the_filesystem_store() {
    lifecycle(false).await;
}

#[tokio::test]
async fn lifecycle_on_the_s3_store() {
    lifecycle(true).await;
}

async fn strays_and_temporaries(on_s3: bool) {
    let db = TestDb::new().await;
    let Some(w) = world(&db, on_s3).await else {
        return;
    };
    let store = w.registry.store().clone();
    // A blob without a record, as a crash between storing and recording leaves it.
    let stray = b"stray bytes".to_vec();
    let expected = Expected {
        sha256: Some(sha_of(&stray)),
        size: Some(stray.len() as u64),
    };
    store.put(body(&stray), &expected).await.unwrap();
    let report = w.registry.fsck(FsckOptions::default()).await.unwrap();
    assert_eq!(report.unrecorded, vec![sha_of(&stray).to_string()]);
    assert_eq!(report.problems_remaining(), 0, "a stray is not a problem");
    // Abandoned upload temporaries, and one of a live upload session.
    store
        .begin_multipart(&upload_id("abcdef01"), 0)
        .await
        .unwrap();
    let one = w.container("one").await;
    let live = w.push_session(one).await;
    let mut abandoned = options(0, false);
    abandoned.abandoned_after = Duration::ZERO;
    tokio::time::sleep(Duration::from_millis(1100)).await; // S3 times have whole seconds
    let mut dry = abandoned.clone();
    dry.dry_run = true;
    let preview = w.registry.collect_garbage(&dry).await.unwrap();
    let report = w.registry.collect_garbage(&abandoned).await.unwrap();
    assert_eq!(preview.items, report.items);
    assert_eq!(report.adopted, vec![sha_of(&stray).to_string()]);
    assert_eq!(
        report.count(GcKind::Blob),
        0,
        "adopted blobs wait for the grace"
    );
    let temporaries: Vec<&str> = report
        .items
        .iter()
        .filter(|i| i.kind == GcKind::Temporary)
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(temporaries.len(), 1, "{temporaries:?}");
    assert!(temporaries[0].contains("abcdef01"), "{temporaries:?}");
    assert!(
        store
            .append_part(&upload_id("abcdef01"), 0, body(b"x"))
            .await
            .is_err(),
        "the abandoned upload is gone"
    );
    assert!(
        store
            .append_part(&upload_id(&live), 0, body(b"x"))
            .await
            .is_ok(),
        "the live session's upload is kept"
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    let later = w
        .registry
        .collect_garbage(&options(0, false))
        .await
        .unwrap();
    assert_eq!(later.count(GcKind::Blob), 1, "collected on a later run");
    assert!(!w.stored(&sha_of(&stray)).await);
}

impl World {
    /// Starts an OCI chunked upload (a live session with bytes in the store).
    async fn push_session(&self, _container_id: i64) -> String {
        let path = crate::names::ContainerPath::parse_short("alice/c/one").unwrap();
        self.registry
            .oci_start_upload(&self.actor, &path)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn strays_and_temporaries_on_the_filesystem_store() {
    strays_and_temporaries(false).await;
}

#[tokio::test]
async fn strays_and_temporaries_on_the_s3_store() {
    strays_and_temporaries(true).await;
}

/// Pushers keep pushing the same content into their own containers and deleting it again,
/// so its references come and go, while garbage collection with no grace period runs
/// round after round. Every push that succeeds must be pullable at once and stay so while
/// its image exists; a push may be refused with a conflict (retry), never corrupted.
async fn gc_races_pushes(on_s3: bool, rounds: usize) {
    let db = TestDb::new().await;
    let Some(w) = world(&db, on_s3).await else {
        return;
    };
    let w = Arc::new(w);
    let bytes: Arc<Vec<u8>> = Arc::new(b"the same image, pushed again and again".repeat(500));
    let sha = sha_of(&bytes);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let collector = {
        let (w, stop) = (w.clone(), stop.clone());
        tokio::spawn(async move {
            let mut runs = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                w.registry
                    .collect_garbage(&options(0, false))
                    .await
                    .unwrap();
                runs += 1;
                tokio::task::yield_now().await;
            }
            runs
        })
    };
    let mut pushers = Vec::new();
    for p in 0..4 {
        let (w, bytes, sha) = (w.clone(), bytes.clone(), sha.clone());
        pushers.push(tokio::spawn(async move {
            let name = format!("p{p}");
            let container = w.container(&name).await;
            let mut conflicts = 0;
            for round in 0..rounds {
                loop {
                    match w.push(container, &bytes).await {
                        Ok(_) => break,
                        Err(DomainError::Conflict(_)) if conflicts < 100 => conflicts += 1,
                        Err(e) => panic!("push {p}/{round} failed: {e}"),
                    }
                }
                w.pull_checks_out(&name, &sha).await.unwrap();
                if round + 1 < rounds {
                    w.delete(&name, &sha).await;
                }
            }
            conflicts
        }));
    }
    for pusher in pushers {
        pusher.await.unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let runs = collector.await.unwrap();
    assert!(runs > 0);
    w.registry
        .collect_garbage(&options(0, false))
        .await
        .unwrap();
    for p in 0..4 {
        w.pull_checks_out(&format!("p{p}"), &sha).await.unwrap();
    }
    let uploaded = image::Entity::find()
        .filter(image::Column::Uploaded.eq(true))
        .count(w.registry.db())
        .await
        .unwrap();
    assert_eq!(uploaded, 4);
    let report = w.registry.fsck(FsckOptions::default()).await.unwrap();
    assert_eq!(report.problems_remaining(), 0, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gc_racing_pushes_of_one_digest_on_the_filesystem_store() {
    gc_races_pushes(false, 25).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gc_racing_pushes_of_one_digest_on_the_s3_store() {
    gc_races_pushes(true, 10).await;
}

fn upload_id(id: &str) -> crate::store::UploadId {
    crate::store::UploadId::parse(id).expect("an upload id")
}
