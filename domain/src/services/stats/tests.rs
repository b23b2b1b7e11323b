//! The SQL privacy rule agrees with the policy (through the catalog, which filters with
//! `can_read` in Rust), and lists stay fast at 10,000 containers.
use std::sync::Arc;
use std::time::Instant;

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use super::*;
use crate::entities::{collection, container, entity, image, tag, user};
use crate::policy::{Actor, Principal, Scope};
use crate::services::Registry;
use crate::store::FsBlobStore;
use crate::testing::TestDb;

fn as_user(id: i64, name: &str, admin: bool) -> Actor {
    Actor::User(Principal {
        user_id: id,
        username: name.into(),
        email: String::new(),
        realname: String::new(),
        is_admin: admin,
        scope: if admin { Scope::Admin } else { Scope::Push },
        is_robot: false,
        grants: Default::default(),
    })
}

pub(super) async fn registry(db: &TestDb) -> Registry {
    let store = FsBlobStore::open(db.dir.path().join("blobs"))
        .await
        .unwrap();
    Registry::new(db.db.clone(), Arc::new(store))
}

/// Users alice (1), bob (2), root (3, admin); entities alice, bob and the team entity lab
/// (no owner user); `collections` collections per entity, every third private (in lab, the
/// private ones are owned by bob), each with `containers` containers holding one uploaded
/// image (tagged) and every fifth also one image still waiting for its bytes.
pub(super) async fn populate(r: &Registry, collections: usize, containers: usize) -> [Actor; 4] {
    let now = chrono::Utc::now();
    let db = r.db();
    for (name, admin) in [("alice", false), ("bob", false), ("root", true)] {
        r.create_user(name, "", admin).await.unwrap();
    }
    let uid = |name: &str| {
        let name = name.to_string();
        async move {
            user::Entity::find()
                .filter(user::Column::Username.eq(name))
                .one(db)
                .await
                .unwrap()
                .unwrap()
                .id
        }
    };
    let (alice, bob, root) = (uid("alice").await, uid("bob").await, uid("root").await);
    for (name, owner) in [("alice", Some(alice)), ("bob", Some(bob)), ("lab", None)] {
        let e = entity::ActiveModel {
            name: Set(name.into()),
            description: Set(String::new()),
            owner_id: Set(owner),
            team_id: Set(None),
            default_private: Set(false),
            quota: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        let rows: Vec<collection::ActiveModel> = (0..collections)
            .map(|i| collection::ActiveModel {
                entity_id: Set(e.id),
                name: Set(format!("c{i:04}")),
                description: Set(String::new()),
                private: Set(i % 3 == 0),
                owner_id: Set(if owner.is_none() && i % 3 == 0 {
                    Some(bob)
                } else {
                    owner
                }),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .collect();
        collection::Entity::insert_many(rows)
            .exec(db)
            .await
            .unwrap();
    }
    let collection_ids: Vec<i64> = collection::Entity::find()
        .select_only()
        .column(collection::Column::Id)
        .into_tuple()
        .all(db)
        .await
        .unwrap();
    let mut rows = Vec::new();
    for cid in &collection_ids {
        for n in 0..containers {
            rows.push(container::ActiveModel {
                collection_id: Set(*cid),
                name: Set(format!("k{n:04}")),
                description: Set(String::new()),
                full_description: Set(String::new()),
                read_only: Set(false),
                download_count: Set((n % 7) as i64),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            });
        }
    }
    for chunk in rows.chunks(500) {
        container::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .unwrap();
    }
    let container_ids: Vec<i64> = container::Entity::find()
        .select_only()
        .column(container::Column::Id)
        .into_tuple()
        .all(db)
        .await
        .unwrap();
    let mut images = Vec::new();
    for id in &container_ids {
        for (k, uploaded) in [(0, true), (1, false)] {
            if !uploaded && id % 5 != 0 {
                continue;
            }
            images.push(image::ActiveModel {
                container_id: Set(*id),
                sha256: Set(format!("{id:060}{k:04}")),
                size: Set(1000 + id % 97),
                arch: Set(Some(if id % 2 == 0 { "amd64" } else { "arm64" }.into())),
                uploaded: Set(uploaded),
                description: Set(String::new()),
                signed: Set(None),
                encrypted: Set(None),
                created_by: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            });
        }
    }
    for chunk in images.chunks(500) {
        image::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .unwrap();
    }
    let uploaded: Vec<(i64, i64, Option<String>)> = image::Entity::find()
        .select_only()
        .column(image::Column::Id)
        .column(image::Column::ContainerId)
        .column(image::Column::Arch)
        .filter(image::Column::Uploaded.eq(true))
        .into_tuple()
        .all(db)
        .await
        .unwrap();
    let tags: Vec<tag::ActiveModel> = uploaded
        .into_iter()
        .map(|(id, container_id, arch)| tag::ActiveModel {
            container_id: Set(container_id),
            arch: Set(arch.unwrap()),
            name: Set("latest".into()),
            image_id: Set(id),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in tags.chunks(500) {
        tag::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .unwrap();
    }
    [
        Actor::Anonymous,
        as_user(alice, "alice", false),
        as_user(bob, "bob", false),
        as_user(root, "root", true),
    ]
}

#[tokio::test]
async fn sql_privacy_agrees_with_the_policy() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let actors = populate(&r, 6, 2).await;
    let mut seen = Vec::new();
    for actor in &actors {
        let catalog = r.list_collections(actor).await.unwrap();
        let query = CollectionQuery {
            page: PageRequest::new(Some(1), Some(MAX_PER_PAGE)).unwrap(),
            ..Default::default()
        };
        let listed = r.list_collection_stats(actor, &query).await.unwrap();
        assert_eq!(listed.total as usize, catalog.len(), "{actor:?}");
        for (sql, rust) in listed.items.iter().zip(&catalog) {
            assert_eq!(
                (&sql.entity_name, &sql.collection.name),
                (&rust.entity.name, &rust.collection.name)
            );
            assert_eq!(
                (sql.containers, sql.size_bytes),
                (rust.containers, rust.total_bytes)
            );
        }
        let home = r.home_summary(actor).await.unwrap();
        let stats = r.registry_stats(actor).await.unwrap();
        assert_eq!(
            (
                stats.collections,
                stats.containers,
                stats.images,
                stats.size_bytes
            ),
            (
                home.collections,
                home.containers,
                home.images,
                home.total_bytes
            ),
            "{actor:?}"
        );
        assert_eq!(stats.tags, stats.images, "one tag per uploaded image");
        seen.push(stats.collections);
    }
    // anonymous 12 public; alice + her 2 private; bob + his 2 and lab's 2; root all 18.
    assert_eq!(seen, [12, 14, 16, 18]);
}

/// `cargo test -p silo-domain -- --ignored lists_stay_fast` (add SILO_TEST_POSTGRES_URL for
/// PostgreSQL): 3 entities × 67 collections × 50 containers (10,050), one uploaded image each.
#[tokio::test]
#[ignore = "a benchmark: seconds of set-up"]
async fn lists_stay_fast_with_10000_containers() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let started = Instant::now();
    let actors = populate(&r, 67, 50).await;
    eprintln!("populated in {:?}", started.elapsed());
    let bob = &actors[2];
    let containers = ContainerQuery {
        sort: ContainerSort::Size,
        order: SortOrder::Desc,
        ..Default::default()
    };
    let collections = CollectionQuery {
        sort: CollectionSort::Updated,
        order: SortOrder::Desc,
        ..Default::default()
    };
    let filtered = ContainerQuery {
        q: Some("k004".into()),
        arch: Some("amd64".into()),
        ..Default::default()
    };
    let range = DayRange::new(None, None).unwrap();
    for _ in 0..2 {
        let t = Instant::now();
        let listed = r.list_container_stats(bob, &containers).await.unwrap();
        let a = t.elapsed();
        // 44 public collections per entity, 23 private each: bob reads his and lab's.
        assert_eq!(listed.total, (3 * 44 + 23 + 23) * 50);
        let t = Instant::now();
        r.list_container_stats(bob, &filtered).await.unwrap();
        let b = t.elapsed();
        let t = Instant::now();
        r.list_collection_stats(bob, &collections).await.unwrap();
        let c = t.elapsed();
        let t = Instant::now();
        r.list_entities(bob, &EntityQuery::default()).await.unwrap();
        let d = t.elapsed();
        let t = Instant::now();
        r.registry_stats(bob).await.unwrap();
        let e = t.elapsed();
        let t = Instant::now();
        r.registry_usage(bob, &range).await.unwrap();
        let f = t.elapsed();
        let t = Instant::now();
        r.highlights(bob, 5).await.unwrap();
        let g = t.elapsed();
        let t = Instant::now();
        r.collection_usage(bob, "lab", "c0001", &range)
            .await
            .unwrap();
        r.entity_profile(bob, "lab").await.unwrap();
        let h = t.elapsed();
        eprintln!(
            "{}: containers by size {a:?}, filtered {b:?}, collections {c:?}, entities {d:?}, \
             stats {e:?}, usage {f:?}, highlights {g:?}, collection usage + entity {h:?}",
            db.backend_name()
        );
        for took in [a, b, c, d, e, f, g, h] {
            assert!(took.as_secs_f64() < 2.0, "too slow: {took:?}");
        }
    }
}
