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
