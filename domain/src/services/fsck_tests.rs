//! `fsck` on both stores: a deleted blob is found and flagged, a corrupted byte is found by
//! `verify`, and repaired images can be pushed again.
use sea_orm::EntityTrait;

use super::gc_tests::{sha_of, world};
use super::*;
use crate::entities::image;
use crate::testing::TestDb;
use crate::DomainError;

/// Where the bytes of `sha` live on disk: the filesystem store's file or the object file of
/// the `s3s-fs` server.
fn blob_file(db: &TestDb, w: &super::gc_tests::World, sha: &str) -> std::path::PathBuf {
    let relative = format!("{}/{}", &sha[..2], sha);
    match &w.s3 {
        Some(server) => server
            .root
            .path()
            .join("silo-test/blobs/sha256")
            .join(relative),
        None => db.dir.path().join("blobs/sha256").join(relative),
    }
}

async fn missing_blob_is_found_and_flagged(on_s3: bool) {
    let db = TestDb::new().await;
    let Some(w) = world(&db, on_s3).await else {
        return;
    };
    let one = w.container("one").await;
    let bytes = b"bytes that will vanish".to_vec();
    let sha = sha_of(&bytes);
    let pushed = w.push(one, &bytes).await.unwrap();
    let clean = w.registry.fsck(FsckOptions::default()).await.unwrap();
    assert_eq!(clean.problems_remaining(), 0, "{clean:?}");
    assert_eq!((clean.stored_blobs, clean.referenced_blobs), (1, 1));

    w.registry.store().delete(&sha).await.unwrap();
    let found = w.registry.fsck(FsckOptions::default()).await.unwrap();
    assert_eq!(found.count(FsckProblem::Missing), 1, "{found:?}");
    assert_eq!(found.issues[0].digest, sha.as_str());
    assert_eq!(
        found.issues[0].records,
        vec![format!("image {}", pushed.id)]
    );
    assert_eq!(found.problems_remaining(), 1);
    assert!(!found.issues[0].repaired, "without repair nothing changes");

    let repair = FsckOptions {
        repair: true,
        verify: false,
    };
    let repaired = w.registry.fsck(repair).await.unwrap();
    assert_eq!(repaired.problems_remaining(), 0);
    assert!(repaired.issues[0].repaired);
    let record = image::Entity::find_by_id(pushed.id)
        .one(w.registry.db())
        .await
        .unwrap()
        .expect("the image stays listed in the database");
    assert!(!record.uploaded, "flagged as not uploaded");
    let pull = w.pull_checks_out("one", &sha).await.unwrap_err();
    assert!(matches!(pull, DomainError::NotFound(_)), "{pull:?}");
    let after = w.registry.fsck(FsckOptions::default()).await.unwrap();
    assert_eq!(after.problems_remaining(), 0, "{after:?}");

    // Pushing the same image again heals it.
    w.push(one, &bytes).await.unwrap();
    w.pull_checks_out("one", &sha).await.unwrap();
}

#[tokio::test]
async fn missing_blob_is_found_and_flagged_on_the_filesystem_store() {
    missing_blob_is_found_and_flagged(false).await;
}

#[tokio::test]
async fn missing_blob_is_found_and_flagged_on_the_s3_store() {
    missing_blob_is_found_and_flagged(true).await;
}

async fn verify_finds_a_corrupted_byte(on_s3: bool) {
    let db = TestDb::new().await;
    let Some(w) = world(&db, on_s3).await else {
        return;
    };
    let one = w.container("one").await;
    let bytes = b"bytes with one byte about to flip".to_vec();
    let sha = sha_of(&bytes);
    w.push(one, &bytes).await.unwrap();
    let file = blob_file(&db, &w, sha.as_str());
    let mut on_disk = std::fs::read(&file).expect("the blob's file");
    assert_eq!(on_disk, bytes);
    on_disk[5] ^= 0x20;
    std::fs::write(&file, &on_disk).unwrap();

    let quick = w.registry.fsck(FsckOptions::default()).await.unwrap();
    assert_eq!(
        quick.problems_remaining(),
        0,
        "same size: only verify sees it"
    );
    let verify = FsckOptions {
        repair: false,
        verify: true,
    };
    let found = w.registry.fsck(verify).await.unwrap();
    assert_eq!(found.verified_blobs, 1);
    assert_eq!(found.count(FsckProblem::Corrupt), 1, "{found:?}");
    assert_eq!(found.issues[0].digest, sha.as_str());
    assert_eq!(found.problems_remaining(), 1);

    let repair = FsckOptions {
        repair: true,
        verify: true,
    };
    let repaired = w.registry.fsck(repair).await.unwrap();
    assert_eq!(repaired.problems_remaining(), 0);
    assert!(!w.stored(&sha).await, "the bad bytes are deleted");
    w.push(one, &bytes).await.unwrap();
    w.pull_checks_out("one", &sha).await.unwrap();
    let clean = w.registry.fsck(verify).await.unwrap();
    assert_eq!(clean.problems_remaining(), 0, "{clean:?}");
}

#[tokio::test]
async fn verify_finds_a_corrupted_byte_on_the_filesystem_store() {
    verify_finds_a_corrupted_byte(false).await;
}

#[tokio::test]
async fn verify_finds_a_corrupted_byte_on_the_s3_store() {
    verify_finds_a_corrupted_byte(true).await;
}
