//! Tests of the filesystem blob store: the shared store suite, and what is particular to
//! files.
use super::*;
use crate::store::suite::{sha, Leftovers};

/// The store's directory; unfinished uploads are files in its `tmp/`.
struct StoreDir(tempfile::TempDir);

#[async_trait::async_trait]
impl Leftovers for StoreDir {
    async fn leftovers(&self) -> usize {
        std::fs::read_dir(self.0.path().join("tmp"))
            .unwrap()
            .count()
    }
}

crate::store_suite!(async {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path()).await.unwrap();
    Some((store, StoreDir(dir)))
});

#[tokio::test]
async fn refuses_unknown_layout() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("LAYOUT"), "silo-blob-layout 99\n").unwrap();
    assert!(FsBlobStore::open(dir.path()).await.is_err());
}

#[tokio::test]
async fn check_fails_once_the_directory_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path().join("blobs")).await.unwrap();
    store.check().await.unwrap();
    std::fs::remove_dir_all(dir.path().join("blobs")).unwrap();
    assert!(store.check().await.is_err());
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

#[tokio::test]
async fn start_up_sweeps_only_idle_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    FsBlobStore::open(dir.path()).await.unwrap();
    let tmp = dir.path().join("tmp");
    let hours_ago =
        |h: u64| std::time::SystemTime::now() - std::time::Duration::from_secs(h * 3600);
    let make = |name: &str, modified: std::time::SystemTime| {
        let file = std::fs::File::create(tmp.join(name)).unwrap();
        file.set_modified(modified).unwrap();
    };
    // Another replica sharing the directory is still writing this one.
    make("live.part", std::time::SystemTime::now());
    make("crashed.part", hours_ago(2));
    make("mp-ab12.part", hours_ago(2));
    make("mp-cd34.part", hours_ago(30));
    FsBlobStore::open(dir.path()).await.unwrap();
    let mut left: Vec<String> = std::fs::read_dir(&tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    left.sort();
    assert_eq!(left, ["live.part", "mp-ab12.part"]);
}

fn part_stream(data: &[u8]) -> ByteStream {
    Box::pin(futures::stream::iter(
        data.chunks(64 * 1024)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    ))
}

fn upload(hex: &str) -> UploadId {
    UploadId::parse(hex).unwrap()
}

/// Parts are written into the upload file at their offsets (no second copy), and a part
/// that was written once and is then re-sent broken or forged leaves the good bytes alone.
#[tokio::test]
async fn parts_are_written_in_place_and_a_bad_resend_spoils_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path()).await.unwrap();
    let part = 3 * 1024 * 1024 + 17;
    let data = crate::store::suite::noise(2 * part + 5, 21);
    let id = &upload("1234abcd");
    store.begin_multipart(id, data.len() as u64).await.unwrap();
    let pieces: Vec<&[u8]> = data.chunks(part).collect();
    for (i, piece) in pieces.iter().enumerate().rev() {
        let offset = (i * part) as u64;
        let got = store
            .write_part(
                id,
                i as u32 + 1,
                offset,
                piece.len() as u64,
                part_stream(piece),
                Some(&sha(piece)),
            )
            .await
            .unwrap();
        assert_eq!(got, sha(piece));
    }
    // Every byte is already in place: nothing but the upload file and its part markers.
    let main = std::fs::read(store.multipart_path(id)).unwrap();
    assert!(
        main == data,
        "the upload file holds the parts at their offsets"
    );
    let staged = std::fs::read_dir(dir.path().join("tmp"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".done")
        })
        .count();
    assert_eq!(staged, 3, "one marker per written part");

    // Re-sends of part 2: forged (wrong sha256), then cut off half-way. Both refused.
    let forged = crate::store::suite::noise(part, 9);
    let err = store
        .write_part(
            id,
            2,
            part as u64,
            part as u64,
            part_stream(&forged),
            Some(&sha(pieces[1])),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::DigestMismatch { .. }), "{err}");
    let cut: ByteStream = Box::pin(futures::stream::iter(vec![
        Ok(Bytes::copy_from_slice(&forged[..1000])),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "gone",
        )),
    ]));
    assert!(store
        .write_part(id, 2, part as u64, part as u64, cut, None)
        .await
        .is_err());
    // A good re-send is staged and copied in at completion.
    store
        .write_part(
            id,
            2,
            part as u64,
            part as u64,
            part_stream(pieces[1]),
            Some(&sha(pieces[1])),
        )
        .await
        .unwrap();
    let blob = store
        .complete_multipart(
            id,
            &Expected {
                sha256: Some(sha(&data)),
                size: Some(data.len() as u64),
            },
        )
        .await
        .unwrap();
    assert_eq!(blob.sha256, sha(&data));
    assert!(std::fs::read(store.blob_path(&blob.sha256)).unwrap() == data);
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0,
        "markers and staged parts are gone"
    );
}

/// Completion waits for a part still streaming, and a part arriving after completion finds
/// the upload gone: nothing is ever written into a committed blob.
#[tokio::test]
async fn completion_waits_for_parts_in_flight_and_late_parts_find_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path()).await.unwrap();
    let data = crate::store::suite::noise(2 * 1024 * 1024, 5);
    let (first, second) = data.split_at(1024 * 1024);
    let id = &upload("feed");
    store.begin_multipart(id, data.len() as u64).await.unwrap();
    store
        .write_part(id, 1, 0, first.len() as u64, part_stream(first), None)
        .await
        .unwrap();
    // Part 2 sends half, then waits for a signal before sending the rest.
    let (go, wait) = tokio::sync::oneshot::channel::<()>();
    let (head, tail) = second.split_at(512 * 1024);
    let (head, tail) = (Bytes::copy_from_slice(head), Bytes::copy_from_slice(tail));
    let slow: ByteStream = Box::pin(futures::stream::once(async move { Ok(head) }).chain(
        futures::stream::once(async move {
            wait.await.unwrap();
            Ok(tail)
        }),
    ));
    let writer = {
        let store = store.clone();
        let id = id.clone();
        tokio::spawn(async move {
            store
                .write_part(&id, 2, 1024 * 1024, 1024 * 1024, slow, None)
                .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let completing = {
        let store = store.clone();
        let id = id.clone();
        let expected = Expected {
            sha256: Some(sha(&data)),
            size: Some(data.len() as u64),
        };
        tokio::spawn(async move { store.complete_multipart(&id, &expected).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !completing.is_finished(),
        "completion waits for the part in flight"
    );
    go.send(()).unwrap();
    writer.await.unwrap().unwrap();
    let blob = completing.await.unwrap().unwrap();
    assert_eq!(blob.sha256, sha(&data));

    // A late re-send of part 1 (after completion): refused, the blob unchanged.
    let late = store
        .write_part(
            id,
            1,
            0,
            first.len() as u64,
            part_stream(&vec![0u8; first.len()]),
            None,
        )
        .await;
    assert!(matches!(late, Err(StoreError::NotFound)), "{late:?}");
    assert!(std::fs::read(store.blob_path(&blob.sha256)).unwrap() == data);
}

/// With `fsync = false` blobs are stored and read back alike.
#[tokio::test]
async fn stores_without_fsync() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path())
        .await
        .unwrap()
        .with_fsync(false);
    let data = crate::store::suite::noise(100_000, 2);
    let blob = store
        .put(
            part_stream(&data),
            &Expected {
                sha256: Some(sha(&data)),
                size: Some(data.len() as u64),
            },
        )
        .await
        .unwrap();
    assert!(std::fs::read(store.blob_path(&blob.sha256)).unwrap() == data);
}
