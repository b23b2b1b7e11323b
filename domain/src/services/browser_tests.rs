//! Tests of the web interface's write paths: stars and browser uploads.
use std::sync::Arc;

use bytes::Bytes;
use sea_orm::{EntityTrait, PaginatorTrait};

use super::{NewToken, Registry, StarState, StarTarget, WebUpload};
use crate::entities::{collection, container, image};
use crate::error::DomainError;
use crate::names::ContainerPath;
use crate::policy::Actor;
use crate::store::{ByteStream, FsBlobStore};
use crate::testing::TestDb;

async fn registry(db: &TestDb) -> Registry {
    let store = FsBlobStore::open(db.dir.path().join("blobs"))
        .await
        .unwrap();
    Registry::new(db.db.clone(), Arc::new(store))
}

async fn user(registry: &Registry, name: &str) -> Actor {
    registry.create_user(name, "", false).await.unwrap();
    let new = NewToken {
        label: "t".into(),
        scope: None,
        expires_in_days: None,
    };
    let token = registry.create_token(name, new).await.unwrap();
    registry.authenticate(&token.secret).await.unwrap()
}

fn sif() -> Vec<u8> {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    std::fs::read(fixtures.join("signed.sif")).unwrap()
}

fn body(bytes: &[u8]) -> ByteStream {
    let chunks: Vec<std::io::Result<Bytes>> = bytes
        .chunks(4096)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Box::pin(futures::stream::iter(chunks))
}

fn upload(path: &str, private: bool, size: usize) -> WebUpload {
    let (e, rest) = path.split_once('/').unwrap();
    let (c, n) = rest.split_once('/').unwrap();
    WebUpload {
        path: ContainerPath::new(e, c, n).unwrap(),
        tag: "latest".into(),
        private,
        size: size as u64,
    }
}

#[tokio::test]
async fn browser_upload_creates_the_path_and_tags_the_image() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let alice = user(&r, "alice").await;
    let bytes = sif();
    let view = r
        .upload_from_browser(
            &alice,
            upload("alice/lab/tool", true, bytes.len()),
            body(&bytes),
        )
        .await
        .unwrap();
    assert_eq!(view.owner.path(), "alice/lab/tool");
    assert!(view.owner.collection.private);
    assert!(view.image.uploaded);
    assert_eq!(view.image.size, bytes.len() as i64);
    assert_eq!(view.tags.len(), 1);
    assert_eq!(view.tags[0].name, "latest");
    assert!(view.image.signed.unwrap_or(false), "SIF metadata recorded");
    // A second upload to the same container re-tags; the collection stays as it was.
    let again = r
        .upload_from_browser(
            &alice,
            upload("alice/lab/tool", false, bytes.len()),
            body(&bytes),
        )
        .await
        .unwrap();
    assert_eq!(again.image.id, view.image.id);
    assert!(again.owner.collection.private);
    let path = ContainerPath::new("alice", "lab", "tool").unwrap();
    assert!(r.container(&Actor::Anonymous, &path).await.is_err());
}

#[tokio::test]
async fn refused_browser_uploads_leave_nothing_behind() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let alice = user(&r, "alice").await;
    let bob = user(&r, "bob").await;
    let bytes = sif();
    let not_sif = b"#!/bin/sh\necho this is not a SIF image\n".repeat(50);
    let err = r
        .upload_from_browser(
            &alice,
            upload("alice/lab/tool", false, not_sif.len()),
            body(&not_sif),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, DomainError::InvalidInput(ref m) if m.contains("SIF")),
        "{err:?}"
    );
    let short = r
        .upload_from_browser(
            &alice,
            upload("alice/lab/tool", false, bytes.len() + 1),
            body(&bytes),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(short, DomainError::SizeMismatch { .. }),
        "{short:?}"
    );
    let err = r
        .upload_from_browser(
            &bob,
            upload("alice/lab/tool", false, bytes.len()),
            body(&bytes),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Forbidden(_)), "{err:?}");
    let err = r
        .upload_from_browser(
            &Actor::Anonymous,
            upload("alice/lab/tool", false, bytes.len()),
            body(&bytes),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Unauthenticated), "{err:?}");
    let conn = r.db();
    assert_eq!(collection::Entity::find().count(conn).await.unwrap(), 0);
    assert_eq!(container::Entity::find().count(conn).await.unwrap(), 0);
    assert_eq!(image::Entity::find().count(conn).await.unwrap(), 0);
    let blobs: Vec<_> = files_under(&db.dir.path().join("blobs"))
        .into_iter()
        .filter(|p| !p.ends_with("LAYOUT"))
        .collect();
    assert!(blobs.is_empty(), "no blob kept: {blobs:?}");
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn stars_are_idempotent_private_aware_and_counted() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let alice = user(&r, "alice").await;
    let bob = user(&r, "bob").await;
    let bytes = sif();
    for (path, private) in [("alice/pub/tool", false), ("alice/secret/tool", true)] {
        r.upload_from_browser(&alice, upload(path, private, bytes.len()), body(&bytes))
            .await
            .unwrap();
    }
    let public = StarTarget::Collection {
        entity: "alice".into(),
        collection: "pub".into(),
    };
    let tool = StarTarget::Container(ContainerPath::new("alice", "pub", "tool").unwrap());
    let secret = StarTarget::Collection {
        entity: "alice".into(),
        collection: "secret".into(),
    };
    let err = r
        .set_star(&Actor::Anonymous, &public, true)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Unauthenticated));
    let err = r.set_star(&bob, &secret, true).await.unwrap_err();
    assert!(
        matches!(err, DomainError::NotFound(_)),
        "private looks absent: {err:?}"
    );

    let starred = StarState {
        count: 1,
        starred: true,
    };
    assert_eq!(r.set_star(&bob, &public, true).await.unwrap(), starred);
    assert_eq!(
        r.set_star(&bob, &public, true).await.unwrap(),
        starred,
        "idempotent"
    );
    let both = r.set_star(&alice, &public, true).await.unwrap();
    assert_eq!(
        both,
        StarState {
            count: 2,
            starred: true
        }
    );
    assert_eq!(
        r.star_state(&Actor::Anonymous, &public).await.unwrap(),
        StarState {
            count: 2,
            starred: false
        }
    );
    r.set_star(&bob, &tool, true).await.unwrap();
    assert_eq!(r.set_star(&alice, &secret, true).await.unwrap().count, 1);

    // Counts in the lists: collections and the collection page's containers.
    let list = r.list_collections(&alice).await.unwrap();
    let stars: Vec<(String, u64)> = list
        .iter()
        .map(|c| (c.collection.name.clone(), c.stars))
        .collect();
    assert_eq!(stars, [("pub".to_string(), 2), ("secret".to_string(), 1)]);
    let page = r.collection_page(&bob, "alice", "pub").await.unwrap();
    assert_eq!(page.containers[0].stars, 1);
    let secret_page = r.collection_page(&alice, "alice", "secret").await.unwrap();
    assert_eq!(
        secret_page.containers[0].stars, 0,
        "container stars are per container"
    );

    let off = StarState {
        count: 1,
        starred: false,
    };
    assert_eq!(r.set_star(&bob, &public, false).await.unwrap(), off);
    assert_eq!(
        r.set_star(&bob, &public, false).await.unwrap(),
        off,
        "idempotent"
    );
}
