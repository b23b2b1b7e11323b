//! Tests of the S3 blob store against a real S3-compatible server (`s3s-fs`, started per
//! test): the shared store suite, presigned downloads and direct part uploads.
use bytes::Bytes;

use super::suite::{noise, read_all, sha, stream_of, Leftovers};
use super::{BlobStore, Expected, S3BlobStore, StoreError, UploadId};
use crate::testing::s3_server::TestS3;

/// Objects under `uploads/`, and the server's own files of unfinished multipart uploads
/// (s3s-fs keeps them as `.upload…` files in its root).
#[async_trait::async_trait]
impl Leftovers for TestS3 {
    async fn leftovers(&self) -> usize {
        fn count(dir: &std::path::Path) -> usize {
            std::fs::read_dir(dir).map_or(0, |entries| {
                entries
                    .flatten()
                    .map(|e| {
                        if e.path().is_dir() {
                            count(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
        }
        let internal = std::fs::read_dir(self.root.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".upload"))
            .count();
        internal + count(&self.root.path().join("silo-test").join("uploads"))
    }
}

async fn open() -> Option<(S3BlobStore, TestS3)> {
    let server = TestS3::start().await?;
    let store = S3BlobStore::open(&server.settings).await.unwrap();
    Some((store, server))
}

crate::store_suite!(open());

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

#[tokio::test]
async fn downloads_through_presigned_urls_with_ranges() {
    let Some((store, _server)) = open().await else {
        return;
    };
    let data = noise(100_000, 3);
    let expected = Expected {
        sha256: Some(sha(&data)),
        size: Some(data.len() as u64),
    };
    let blob = store
        .put(stream_of(vec![Bytes::from(data.clone())]), &expected)
        .await
        .unwrap();
    assert!(store.redirects_downloads());
    let url = store
        .presigned_download(&blob.sha256, Some("c_1.sif"))
        .unwrap();
    let whole = client().get(&url).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert!(
        whole.bytes().await.unwrap() == data,
        "presigned download differs"
    );
    let part = client()
        .get(&url)
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.unwrap(), &data[10..20]);
    // The signature covers the object: another key under the same signature is refused.
    let other = url.replace(blob.sha256.as_str(), &"0".repeat(64));
    let refused = client().get(&other).send().await.unwrap();
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn takes_parts_straight_from_clients_and_verifies_the_whole() {
    let Some((store, server)) = open().await else {
        return;
    };
    assert!(store.takes_direct_parts());
    let part = 5 * 1024 * 1024;
    let data = noise(part + 4321, 9);
    let (first, second) = data.split_at(part);
    let id = &UploadId::parse("d1ec7").unwrap();
    store.begin_multipart(id, data.len() as u64).await.unwrap();
    let mut tokens = Vec::new();
    for (number, bytes) in [(2u32, second), (1, first)] {
        let url = store
            .presigned_part(id, number, Some(&sha(bytes)))
            .await
            .unwrap()
            .unwrap();
        // As Apptainer's library client sends it: no credentials, the part's sha256 header.
        let sent = client()
            .put(&url)
            .header("x-amz-content-sha256", sha(bytes).as_str())
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), 200);
        let etag = sent.headers()["etag"].to_str().unwrap().to_string();
        tokens.push((number, etag));
    }
    let expected = Expected {
        sha256: Some(sha(&data)),
        size: Some(data.len() as u64),
    };
    let blob = store
        .complete_direct_multipart(id, &tokens, &expected)
        .await
        .unwrap();
    assert!(blob.newly_stored);
    assert!(
        read_all(&store, &blob.sha256, None).await == data,
        "read back differs"
    );
    assert_eq!(server.leftovers().await, 0);
}

#[tokio::test]
async fn direct_parts_that_do_not_make_the_image_are_refused() {
    let Some((store, server)) = open().await else {
        return;
    };
    let data = noise(3000, 4);
    let id = &UploadId::parse("bad0").unwrap();
    store.begin_multipart(id, data.len() as u64).await.unwrap();
    let url = store.presigned_part(id, 1, None).await.unwrap().unwrap();
    let forged = noise(3000, 5);
    let sent = client()
        .put(&url)
        .body(forged.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    let etag = sent.headers()["etag"].to_str().unwrap().to_string();
    let expected = Expected {
        sha256: Some(sha(&data)),
        size: Some(data.len() as u64),
    };
    let err = store
        .complete_direct_multipart(id, &[(1, etag)], &expected)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::DigestMismatch { .. }), "{err}");
    assert_eq!(store.size(&sha(&data)).await.unwrap(), None);
    assert_eq!(store.size(&sha(&forged)).await.unwrap(), None);
    assert_eq!(server.leftovers().await, 0);

    // A missing part: refused as too short.
    let id = &UploadId::parse("bad1").unwrap();
    store.begin_multipart(id, 10).await.unwrap();
    let err = store
        .complete_direct_multipart(
            id,
            &[],
            &Expected {
                sha256: None,
                size: Some(10),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::SizeMismatch { .. }), "{err}");
    assert_eq!(server.leftovers().await, 0);
}

#[tokio::test]
async fn refuses_an_unknown_layout_and_wrong_credentials() {
    let Some((_store, server)) = open().await else {
        return;
    };
    let layout = server.root.path().join("silo-test").join("LAYOUT");
    std::fs::write(&layout, "silo-blob-layout 99\n").unwrap();
    assert!(S3BlobStore::open(&server.settings).await.is_err());
    std::fs::write(&layout, "silo-blob-layout 1\n").unwrap();
    let mut wrong = server.settings.clone();
    wrong.secret_key = "not-the-secret".into();
    let err = S3BlobStore::open(&wrong).await.err().unwrap();
    assert!(err.to_string().contains("403"), "{err}");
}

#[tokio::test]
async fn check_fails_once_the_bucket_lost_its_layout() {
    let Some((store, server)) = open().await else {
        return;
    };
    store.check().await.unwrap();
    std::fs::remove_file(server.root.path().join("silo-test").join("LAYOUT")).unwrap();
    assert!(store.check().await.is_err());
    // With the server gone, the error names no part of the presigned request URL.
    drop(server);
    let err = store.check().await.unwrap_err().to_string();
    assert!(err.contains("request failed"), "{err}");
    assert!(!err.contains("X-Amz-"), "{err}");
}
