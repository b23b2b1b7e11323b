//! Tests of the filesystem blob store.
use super::*;
use crate::store::ByteStream;
use bytes::Bytes;

fn stream_of(parts: Vec<&'static [u8]>) -> ByteStream {
    Box::pin(futures::stream::iter(
        parts.into_iter().map(|p| Ok(Bytes::from_static(p))),
    ))
}

fn sha(data: &[u8]) -> Sha256Hex {
    Sha256Hex::parse(&hex::encode(Sha256::digest(data))).unwrap()
}

async fn tmp_count(store: &FsBlobStore) -> usize {
    std::fs::read_dir(store.root().join("tmp")).unwrap().count()
}

#[tokio::test]
async fn stores_verifies_and_deduplicates() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path()).await.unwrap();
    let expected = Expected {
        sha256: Some(sha(b"hello world")),
        size: Some(11),
    };
    let blob = store
        .put(stream_of(vec![b"hello ", b"world"]), &expected)
        .await
        .unwrap();
    assert!(blob.newly_stored);
    assert_eq!(blob.size, 11);
    let again = store
        .put(stream_of(vec![b"hello world"]), &expected)
        .await
        .unwrap();
    assert!(!again.newly_stored);
    assert_eq!(store.size(&blob.sha256).await.unwrap(), Some(11));

    let mut reader = store
        .open(
            &blob.sha256,
            Some(ByteRange {
                first: 6,
                last: Some(100),
            }),
        )
        .await
        .unwrap();
    let mut got = Vec::new();
    while let Some(chunk) = reader.stream.next().await {
        got.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(got, b"world");
    assert_eq!(reader.range, Some((6, 10)));
    assert_eq!(tmp_count(&store).await, 0);
}

#[tokio::test]
async fn refuses_wrong_digest_size_and_interrupted_streams() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path()).await.unwrap();
    let wrong = Expected {
        sha256: Some(sha(b"other")),
        size: None,
    };
    let err = store
        .put(stream_of(vec![b"data"]), &wrong)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::DigestMismatch { .. }));
    let short = Expected {
        sha256: None,
        size: Some(10),
    };
    let err = store
        .put(stream_of(vec![b"data"]), &short)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::SizeMismatch {
            expected: 10,
            actual: 4
        }
    ));
    let long = Expected {
        sha256: None,
        size: Some(2),
    };
    let err = store
        .put(stream_of(vec![b"data"]), &long)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::SizeMismatch { expected: 2, .. }));
    let broken: ByteStream = Box::pin(futures::stream::iter(vec![
        Ok(Bytes::from_static(b"part")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "gone",
        )),
    ]));
    let err = store.put(broken, &Expected::default()).await.unwrap_err();
    assert!(matches!(err, StoreError::Interrupted(_)));
    assert_eq!(tmp_count(&store).await, 0);
    assert_eq!(store.size(&sha(b"data")).await.unwrap(), None);
    assert!(matches!(
        store.open(&sha(b"data"), None).await.err().unwrap(),
        StoreError::NotFound
    ));
}

#[tokio::test]
async fn appends_in_order_and_refuses_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path()).await.unwrap();
    let id = "abc123";
    store.begin_multipart(id, 0).await.unwrap();
    assert_eq!(
        store
            .append_part(id, 0, stream_of(vec![b"hello "]))
            .await
            .unwrap(),
        6
    );
    let gap = store.append_part(id, 7, stream_of(vec![b"x"])).await;
    assert!(matches!(
        gap,
        Err(StoreError::RangeNotSatisfiable { size: 6 })
    ));
    let broken: ByteStream = Box::pin(futures::stream::iter(vec![
        Ok(Bytes::from_static(b"wor")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "gone",
        )),
    ]));
    assert!(store.append_part(id, 6, broken).await.is_err());
    assert_eq!(
        store
            .append_part(id, 6, stream_of(vec![b"world"]))
            .await
            .unwrap(),
        11
    );
    let expected = Expected {
        sha256: Some(sha(b"hello world")),
        size: None,
    };
    let blob = store.complete_multipart(id, &expected).await.unwrap();
    assert_eq!(blob.size, 11);
    assert!(matches!(
        store.append_part(id, 11, stream_of(vec![b"!"])).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn refuses_unknown_layout() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("LAYOUT"), "silo-blob-layout 99\n").unwrap();
    assert!(FsBlobStore::open(dir.path()).await.is_err());
}

#[test]
fn ranges_resolve() {
    let r = ByteRange {
        first: 0,
        last: Some(1024),
    };
    assert_eq!(r.resolve(100), Some((0, 99)));
    assert_eq!(
        ByteRange {
            first: 100,
            last: None
        }
        .resolve(100),
        None
    );
    assert_eq!(
        ByteRange {
            first: 5,
            last: None
        }
        .resolve(100),
        Some((5, 99))
    );
}

#[tokio::test]
async fn writes_back_and_reads_big_blobs_whole_and_in_ranges_across_pieces() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path()).await.unwrap();
    // More than one background write-back interval, ending two and a half pieces later.
    let size = WRITEBACK_EVERY as usize + READ_CHUNK * 5 / 2;
    let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let stream: ByteStream = Box::pin(futures::stream::iter(
        data.chunks(64 * 1024)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    ));
    let expected = Expected {
        sha256: Some(sha(&data)),
        size: Some(data.len() as u64),
    };
    let blob = store.put(stream, &expected).await.unwrap();
    let len = data.len() as u64;
    for (range, want) in [
        (None, &data[..]),
        (
            Some(ByteRange {
                first: READ_CHUNK as u64 - 3,
                last: Some(2 * READ_CHUNK as u64 + 5),
            }),
            &data[READ_CHUNK - 3..2 * READ_CHUNK + 6],
        ),
        (
            Some(ByteRange {
                first: len - 1,
                last: None,
            }),
            &data[data.len() - 1..],
        ),
    ] {
        let mut reader = store.open(&blob.sha256, range).await.unwrap();
        let mut got = Vec::new();
        while let Some(chunk) = reader.stream.next().await {
            let chunk = chunk.unwrap();
            assert!(chunk.len() <= READ_CHUNK);
            got.extend_from_slice(&chunk);
        }
        assert_eq!(got, want);
        assert_eq!(reader.total_size, len);
    }
}
