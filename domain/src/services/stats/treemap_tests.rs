//! The treemap query: what each viewer sees, and sizes counted once per stored content.
use std::collections::HashMap;
use std::time::Instant;

use sea_orm::{ActiveModelTrait, Set};

use super::tests::{populate, registry};
use super::*;
use crate::entities::{collection, container, entity, image, tag};
use crate::policy::Actor;
use crate::testing::TestDb;

#[tokio::test]
async fn every_viewer_sees_exactly_the_containers_they_may_read() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let actors = populate(&r, 6, 2).await;
    let mut seen = Vec::new();
    for actor in &actors {
        let leaves = r.treemap(actor).await.unwrap();
        // The same containers, and the same sizes, as the private-aware container list.
        let query = ContainerQuery {
            page: PageRequest::new(Some(1), Some(MAX_PER_PAGE)).unwrap(),
            ..Default::default()
        };
        let listed = r.list_container_stats(actor, &query).await.unwrap();
        let expected: HashMap<String, (u64, u64)> = listed
            .items
            .iter()
            .map(|s| (s.path(), (s.size_bytes, s.images)))
            .collect();
        assert_eq!(leaves.len() as u64, listed.total, "{actor:?}");
        for leaf in &leaves {
            let path = format!("{}/{}/{}", leaf.entity, leaf.collection, leaf.container);
            assert_eq!(
                expected.get(&path),
                Some(&(leaf.size_bytes, leaf.images)),
                "{actor:?} {path}"
            );
            assert!(leaf.size_bytes > 1000, "one uploaded image of 1000+ bytes");
            assert!(leaf.last_push.is_some());
        }
        // Ordered by entity, collection, container.
        let keys: Vec<_> = leaves
            .iter()
            .map(|l| (&l.entity, &l.collection, &l.container))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        seen.push(leaves.len());
    }
    // Collections c0000 and c0003 of every entity are private: 12 public collections of 2
    // containers; alice adds her 2 private, bob his 2 and lab's 2 (he owns them), root all.
    assert_eq!(seen, [24, 28, 32, 36]);
    let anonymous = r.treemap(&Actor::Anonymous).await.unwrap();
    assert!(anonymous
        .iter()
        .all(|l| l.collection != "c0000" && l.collection != "c0003"));
    let alice = r.treemap(&actors[1]).await.unwrap();
    assert!(alice
        .iter()
        .any(|l| l.entity == "alice" && l.collection == "c0000"));
    assert!(!alice
        .iter()
        .any(|l| l.entity == "bob" && l.collection == "c0000"));
}

async fn insert_image(db: &TestDb, container: i64, sha: char, size: i64, uploaded: bool) -> i64 {
    let now = chrono::Utc::now();
    image::ActiveModel {
        container_id: Set(container),
        sha256: Set(sha.to_string().repeat(64)),
        size: Set(size),
        arch: Set(Some("amd64".into())),
        uploaded: Set(uploaded),
        description: Set(String::new()),
        signed: Set(None),
        encrypted: Set(None),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&db.db)
    .await
    .unwrap()
    .id
}

async fn insert_tag(db: &TestDb, container: i64, name: &str, image: i64) {
    let now = chrono::Utc::now();
    tag::ActiveModel {
        container_id: Set(container),
        arch: Set("amd64".into()),
        name: Set(name.into()),
        image_id: Set(image),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&db.db)
    .await
    .unwrap();
}

#[tokio::test]
async fn sizes_count_each_stored_content_once_per_container() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let now = chrono::Utc::now();
    let e = entity::ActiveModel {
        name: Set("lab".into()),
        description: Set(String::new()),
        owner_id: Set(None),
        team_id: Set(None),
        default_private: Set(false),
        quota: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&db.db)
    .await
    .unwrap();
    let c = collection::ActiveModel {
        entity_id: Set(e.id),
        name: Set("tools".into()),
        description: Set(String::new()),
        private: Set(false),
        owner_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&db.db)
    .await
    .unwrap();
    let mut ids = Vec::new();
    for name in ["alpha", "beta", "empty"] {
        let k = container::ActiveModel {
            collection_id: Set(c.id),
            name: Set(name.into()),
            description: Set(String::new()),
            full_description: Set(String::new()),
            read_only: Set(false),
            download_count: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&db.db)
        .await
        .unwrap();
        ids.push(k.id);
    }
    // alpha: content a (100 bytes) under three tags, content b (50), content c still
    // waiting for its bytes (not counted).
    let a = insert_image(&db, ids[0], 'a', 100, true).await;
    for t in ["latest", "1.0", "stable"] {
        insert_tag(&db, ids[0], t, a).await;
    }
    insert_image(&db, ids[0], 'b', 50, true).await;
    insert_image(&db, ids[0], 'c', 7000, false).await;
    // beta shares content a with alpha: it counts in both containers.
    let shared = insert_image(&db, ids[1], 'a', 100, true).await;
    insert_tag(&db, ids[1], "latest", shared).await;

    let leaves = r.treemap(&Actor::Anonymous).await.unwrap();
    let got: Vec<_> = leaves
        .iter()
        .map(|l| {
            (
                l.container.as_str(),
                l.size_bytes,
                l.images,
                l.last_push.is_some(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("alpha", 150, 2, true),
            ("beta", 100, 1, true),
            ("empty", 0, 0, false)
        ]
    );
    assert!(leaves
        .iter()
        .all(|l| l.entity == "lab" && l.collection == "tools"));
}

/// `cargo test -p silo-domain -- --ignored treemap_stays_fast` (with SILO_TEST_POSTGRES_URL
/// for PostgreSQL): 10,050 containers.
#[tokio::test]
#[ignore = "a benchmark: seconds of set-up"]
async fn treemap_stays_fast_with_10000_containers() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let actors = populate(&r, 67, 50).await;
    for actor in [&actors[0], &actors[2], &actors[3]] {
        let t = Instant::now();
        let leaves = r.treemap(actor).await.unwrap();
        let took = t.elapsed();
        eprintln!(
            "{}: treemap of {} in {took:?}",
            db.backend_name(),
            leaves.len()
        );
        assert!(leaves.len() >= 3 * 44 * 50);
        assert!(took.as_secs_f64() < 1.0, "too slow: {took:?}");
    }
}
