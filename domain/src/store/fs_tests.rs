//! Tests of the filesystem blob store: the shared store suite, and what is particular to
//! files.
use super::*;
use crate::store::suite::Leftovers;

/// The store's directory; unfinished uploads are files in its `tmp/`.
struct StoreDir(tempfile::TempDir);

#[async_trait::async_trait]
impl Leftovers for StoreDir {
    async fn leftovers(&self) -> usize {
        std::fs::read_dir(self.0.path().join("tmp")).unwrap().count()
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
