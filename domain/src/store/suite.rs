//! One test suite for every blob store: each backend's tests call [`store_suite!`] with a
//! way to open a fresh store, and so pass the same cases (fs_tests.rs, s3_tests.rs).
use bytes::Bytes;
use futures::StreamExt;
use sha2::{Digest, Sha256};

use super::{BlobStore, ByteRange, ByteStream, Expected, StoreError, UploadId};
use crate::names::Sha256Hex;

/// What a backend keeps for uploads in progress, to check that failures leave nothing
/// (implemented by each backend's test fixture, which can see the backend's files).
#[async_trait::async_trait]
pub trait Leftovers: Sync {
    /// Temporary files or objects of unfinished uploads.
    async fn leftovers(&self) -> usize;
}

pub fn stream_of(parts: Vec<Bytes>) -> ByteStream {
    Box::pin(futures::stream::iter(parts.into_iter().map(Ok)))
}

fn one(data: &[u8]) -> ByteStream {
    stream_of(vec![Bytes::copy_from_slice(data)])
}

/// A stream that yields `data` and then fails, as a client that disconnects.
fn broken(data: &'static [u8]) -> ByteStream {
    Box::pin(futures::stream::iter(vec![
        Ok(Bytes::from_static(data)),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "gone",
        )),
    ]))
}

pub fn sha(data: &[u8]) -> Sha256Hex {
    Sha256Hex::parse(&hex::encode(Sha256::digest(data))).unwrap()
}

fn exactly(data: &[u8]) -> Expected {
    Expected {
        sha256: Some(sha(data)),
        size: Some(data.len() as u64),
    }
}

/// Pseudo-random bytes (a fixed sequence, so failures reproduce).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u8
        })
        .collect()
}

pub async fn read_all(
    store: &dyn BlobStore,
    sha256: &Sha256Hex,
    range: Option<ByteRange>,
) -> Vec<u8> {
    let mut reader = store.open(sha256, range).await.unwrap();
    let mut got = Vec::new();
    while let Some(chunk) = reader.stream.next().await {
        got.extend_from_slice(&chunk.unwrap());
    }
    got
}

pub async fn stores_verifies_and_deduplicates(store: &dyn BlobStore, left: &dyn Leftovers) {
    let blob = store
        .put(
            stream_of(vec![
                Bytes::from_static(b"hello "),
                Bytes::from_static(b"world"),
            ]),
            &exactly(b"hello world"),
        )
        .await
        .unwrap();
    assert!(blob.newly_stored);
    assert_eq!(blob.size, 11);
    let again = store
        .put(one(b"hello world"), &exactly(b"hello world"))
        .await
        .unwrap();
    assert!(!again.newly_stored);
    // A re-sent copy is still checked, even though it is not stored again.
    let forged = store
        .put(one(b"hello w0rld"), &exactly(b"hello world"))
        .await;
    assert!(matches!(forged, Err(StoreError::DigestMismatch { .. })));
    assert_eq!(store.size(&blob.sha256).await.unwrap(), Some(11));
    let range = ByteRange {
        first: 6,
        last: Some(100),
    };
    assert_eq!(read_all(store, &blob.sha256, Some(range)).await, b"world");
    let reader = store.open(&blob.sha256, Some(range)).await.unwrap();
    assert_eq!((reader.range, reader.total_size), (Some((6, 10)), 11));
    assert_eq!(read_all(store, &blob.sha256, None).await, b"hello world");
    assert_eq!(
        store.read_range_bytes(&blob.sha256, 0, 5).await.unwrap(),
        b"hello"
    );
    assert_eq!(
        store.read_range_bytes(&blob.sha256, 20, 5).await.unwrap(),
        b""
    );
    let past_end = store
        .open(
            &blob.sha256,
            Some(ByteRange {
                first: 11,
                last: None,
            }),
        )
        .await;
    assert!(matches!(
        past_end.err(),
        Some(StoreError::RangeNotSatisfiable { size: 11 })
    ));
    assert_eq!(left.leftovers().await, 0);

    store.delete(&blob.sha256).await.unwrap();
    store.delete(&blob.sha256).await.unwrap();
    assert_eq!(store.size(&blob.sha256).await.unwrap(), None);
    assert!(matches!(
        store.open(&blob.sha256, None).await.err(),
        Some(StoreError::NotFound)
    ));
}

pub async fn refuses_bad_writes_and_keeps_nothing(store: &dyn BlobStore, left: &dyn Leftovers) {
    let wrong = Expected {
        sha256: Some(sha(b"other")),
        size: None,
    };
    let err = store.put(one(b"data"), &wrong).await.unwrap_err();
    assert!(matches!(err, StoreError::DigestMismatch { .. }), "{err}");
    let short = Expected {
        sha256: None,
        size: Some(10),
    };
    let err = store.put(one(b"data"), &short).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::SizeMismatch {
                expected: 10,
                actual: 4
            }
        ),
        "{err}"
    );
    let long = Expected {
        sha256: None,
        size: Some(2),
    };
    let err = store.put(one(b"data"), &long).await.unwrap_err();
    assert!(
        matches!(err, StoreError::SizeMismatch { expected: 2, .. }),
        "{err}"
    );
    let err = store
        .put(broken(b"data"), &Expected::default())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Interrupted(_)), "{err}");
    let err = store
        .put(broken(b"data"), &exactly(b"data!"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Interrupted(_)), "{err}");
    assert_eq!(left.leftovers().await, 0);
    assert_eq!(store.size(&sha(b"data")).await.unwrap(), None);
}

/// Blobs larger than one part of the backend's own writes (S3 writes 5 MiB parts in
/// tests), with the digest known up front and learnt at the end.
pub async fn streams_blobs_larger_than_a_part(store: &dyn BlobStore, left: &dyn Leftovers) {
    let data = noise(11 * 1024 * 1024 + 3, 7);
    let chunks: Vec<Bytes> = data.chunks(300_000).map(Bytes::copy_from_slice).collect();
    let blob = store
        .put(stream_of(chunks.clone()), &exactly(&data))
        .await
        .unwrap();
    assert!(blob.newly_stored);
    assert!(
        read_all(store, &blob.sha256, None).await == data,
        "read back differs"
    );
    let boundary: u64 = 5 * 1024 * 1024;
    let range = ByteRange {
        first: boundary - 10,
        last: Some(boundary + 10),
    };
    let window = read_all(store, &blob.sha256, Some(range)).await;
    assert!(
        window == data[(boundary - 10) as usize..=(boundary + 10) as usize],
        "range differs"
    );
    store.delete(&blob.sha256).await.unwrap();
    let learnt = store
        .put(stream_of(chunks), &Expected::default())
        .await
        .unwrap();
    assert_eq!(
        (learnt.sha256.clone(), learnt.size),
        (sha(&data), data.len() as u64)
    );
    assert!(learnt.newly_stored);
    assert!(
        read_all(store, &learnt.sha256, None).await == data,
        "read back differs"
    );
    // A corrupt copy of a large blob is refused and keeps nothing.
    let mut corrupt = data.clone();
    corrupt[6 * 1024 * 1024] ^= 1;
    store.delete(&learnt.sha256).await.unwrap();
    let err = store.put(one(&corrupt), &exactly(&data)).await.unwrap_err();
    assert!(matches!(err, StoreError::DigestMismatch { .. }), "{err}");
    assert_eq!(store.size(&sha(&data)).await.unwrap(), None);
    assert_eq!(left.leftovers().await, 0);
}

/// The library multipart flow through Silo: parts by number, in any order, verified.
pub async fn assembles_parts_and_verifies(store: &dyn BlobStore, left: &dyn Leftovers) {
    let part = 5 * 1024 * 1024;
    let data = noise(part + 1000, 11);
    let (first, second) = data.split_at(part);
    let id = &upload_id("00ff");
    store.begin_multipart(id, data.len() as u64).await.unwrap();
    let got = store
        .write_part(
            id,
            2,
            part as u64,
            second.len() as u64,
            one(second),
            Some(&sha(second)),
        )
        .await
        .unwrap();
    assert_eq!(got, sha(second));
    let bad = store
        .write_part(
            id,
            1,
            0,
            part as u64,
            one(&noise(part, 3)),
            Some(&sha(first)),
        )
        .await;
    assert!(
        bad.is_err(),
        "a part that does not match its sha256 is refused"
    );
    store
        .write_part(id, 1, 0, part as u64, one(first), None)
        .await
        .unwrap();
    let blob = store.complete_multipart(id, &exactly(&data)).await.unwrap();
    assert_eq!(blob.sha256, sha(&data));
    assert!(
        read_all(store, &blob.sha256, None).await == data,
        "read back differs"
    );
    assert_eq!(left.leftovers().await, 0);

    // Complete with the wrong digest: refused, nothing visible, nothing left behind.
    let other = &upload_id("0abc");
    store.begin_multipart(other, 2000).await.unwrap();
    let bytes = noise(2000, 5);
    store
        .write_part(other, 1, 0, 2000, one(&bytes), None)
        .await
        .unwrap();
    let err = store
        .complete_multipart(
            other,
            &Expected {
                sha256: Some(sha(b"x")),
                size: Some(2000),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::DigestMismatch { .. }), "{err}");
    assert_eq!(store.size(&sha(&bytes)).await.unwrap(), None);
    assert_eq!(left.leftovers().await, 0);
}

/// The OCI chunked flow: chunks appended in order, gaps refused.
pub async fn appends_in_order_and_refuses_gaps(store: &dyn BlobStore, left: &dyn Leftovers) {
    let id = &upload_id("abc123");
    store.begin_multipart(id, 0).await.unwrap();
    assert_eq!(store.append_part(id, 0, one(b"hello ")).await.unwrap(), 6);
    let gap = store.append_part(id, 7, one(b"x")).await;
    assert!(matches!(
        gap,
        Err(StoreError::RangeNotSatisfiable { size: 6 })
    ));
    assert!(store.append_part(id, 6, broken(b"wor")).await.is_err());
    assert_eq!(store.append_part(id, 6, one(b"world")).await.unwrap(), 11);
    let expected = Expected {
        sha256: Some(sha(b"hello world")),
        size: None,
    };
    let blob = store.complete_multipart(id, &expected).await.unwrap();
    assert_eq!(blob.size, 11);
    assert_eq!(read_all(store, &blob.sha256, None).await, b"hello world");
    assert!(matches!(
        store.append_part(id, 11, one(b"!")).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(left.leftovers().await, 0);
}

pub async fn aborts_leave_nothing(store: &dyn BlobStore, left: &dyn Leftovers) {
    store.begin_multipart(&upload_id("a1"), 0).await.unwrap();
    store
        .append_part(&upload_id("a1"), 0, one(b"some bytes"))
        .await
        .unwrap();
    store.begin_multipart(&upload_id("a2"), 100).await.unwrap();
    store
        .write_part(&upload_id("a2"), 1, 0, 100, one(&noise(100, 1)), None)
        .await
        .unwrap();
    store.abort_multipart(&upload_id("a1")).await.unwrap();
    store.abort_multipart(&upload_id("a2")).await.unwrap();
    store.abort_multipart(&upload_id("a3")).await.unwrap();
    assert_eq!(left.leftovers().await, 0);
    assert!(store
        .complete_multipart(&upload_id("a2"), &Expected::default())
        .await
        .is_err());
    // Names that could leave the store's own space cannot even be expressed: the stores
    // take only an `UploadId` (see `store::tests::hostile_upload_ids_are_unrepresentable`).
    for bad in ["../x", "ABC", "", "a/b"] {
        assert!(UploadId::parse(bad).is_err(), "{bad:?}");
    }
}

pub async fn checks_without_leaving_anything(store: &dyn BlobStore, left: &dyn Leftovers) {
    store.check().await.unwrap();
    store.check().await.unwrap();
    assert_eq!(left.leftovers().await, 0);
}

/// Generates one `#[tokio::test]` per suite case for a backend; `$open` is an async block
/// giving `Option<(store, fixture)>`, the fixture counting [`Leftovers`] (`None` skips, as
/// when the backend's server is absent).
#[macro_export]
#[doc(hidden)]
macro_rules! store_suite {
    ($open:expr) => {
        $crate::store_suite!(@cases $open;
            stores_verifies_and_deduplicates,
            refuses_bad_writes_and_keeps_nothing,
            streams_blobs_larger_than_a_part,
            assembles_parts_and_verifies,
            appends_in_order_and_refuses_gaps,
            aborts_leave_nothing,
            checks_without_leaving_anything);
    };
    (@cases $open:expr; $($case:ident),*) => {
        $(
            #[tokio::test]
            async fn $case() {
                if let Some((store, fixture)) = $open.await {
                    $crate::store::suite::$case(&store, &fixture).await;
                }
            }
        )*
    };
}

/// An upload id the stores accept (tests only use valid ones).
fn upload_id(id: &str) -> UploadId {
    UploadId::parse(id).unwrap()
}
