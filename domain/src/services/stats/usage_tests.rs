//! Usage per day of a collection and of the registry (pulls, storage growth), the home page's
//! highlights and entity profiles: zero-filled, cumulative, and never counting what the actor
//! may not read.
use std::sync::Arc;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::*;
use crate::entities::{collection, container, download_event, entity, image, star, user};
use crate::policy::{Actor, Principal, Scope};
use crate::services::Registry;
use crate::store::FsBlobStore;
use crate::testing::TestDb;

const TODAY: (i32, u32, u32) = (2026, 3, 10);

fn day(offset: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(TODAY.0, TODAY.1, TODAY.2).unwrap() + Duration::days(offset)
}

fn at(offset: i64, hour: u32) -> chrono::DateTime<Utc> {
    let d = day(offset);
    Utc.from_utc_datetime(&d.and_hms_opt(hour, 30, 0).unwrap())
}

struct World {
    registry: Registry,
    alice: Actor,
    _db: TestDb,
    /// alice/open (public): container `a` (pulled 5 times), `b` (pulled once).
    open_a: i64,
    open_b: i64,
    /// alice/closed (private): container `x`.
    closed_x: i64,
}

async fn container(db: &sea_orm::DatabaseConnection, collection_id: i64, name: &str) -> i64 {
    let now = Utc::now();
    container::ActiveModel {
        collection_id: Set(collection_id),
        name: Set(name.into()),
        description: Set(String::new()),
        full_description: Set(String::new()),
        read_only: Set(false),
        download_count: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
    .id
}

async fn image(
    db: &sea_orm::DatabaseConnection,
    container_id: i64,
    size: i64,
    created: chrono::DateTime<Utc>,
    uploaded: bool,
) -> i64 {
    image::ActiveModel {
        container_id: Set(container_id),
        sha256: Set(format!("{:064x}", rand::random::<u64>())),
        size: Set(size),
        arch: Set(Some("amd64".into())),
        uploaded: Set(uploaded),
        description: Set(String::new()),
        signed: Set(None),
        encrypted: Set(None),
        created_by: Set(None),
        created_at: Set(created),
        updated_at: Set(created),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
    .id
}

/// Records `n` pulls of a container's image at `when`, keeping `download_count` in step.
async fn pulls(
    db: &sea_orm::DatabaseConnection,
    container_id: i64,
    image_id: i64,
    when: chrono::DateTime<Utc>,
    n: usize,
) {
    for _ in 0..n {
        download_event::ActiveModel {
            image_id: Set(image_id),
            container_id: Set(container_id),
            user_id: Set(None),
            protocol: Set("library".into()),
            created_at: Set(when),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }
    let row = container::Entity::find_by_id(container_id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let count = row.download_count + n as i64;
    let mut row: container::ActiveModel = row.into();
    row.download_count = Set(count);
    row.update(db).await.unwrap();
}

async fn star(
    db: &sea_orm::DatabaseConnection,
    user_id: i64,
    collection: Option<i64>,
    container: Option<i64>,
) {
    star::ActiveModel {
        user_id: Set(user_id),
        collection_id: Set(collection),
        container_id: Set(container),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
}

async fn world() -> World {
    let db = TestDb::new().await;
    let store = FsBlobStore::open(db.dir.path().join("blobs"))
        .await
        .unwrap();
    let registry = Registry::new(db.db.clone(), Arc::new(store));
    let conn = db.db.clone();
    registry.create_user("alice", "", false).await.unwrap();
    registry.create_user("bob", "", false).await.unwrap();
    let uid = |name: &'static str| {
        let conn = conn.clone();
        async move {
            user::Entity::find()
                .filter(user::Column::Username.eq(name))
                .one(&conn)
                .await
                .unwrap()
                .unwrap()
                .id
        }
    };
    let (alice_id, bob_id) = (uid("alice").await, uid("bob").await);
    let now = Utc::now();
    let ent = entity::ActiveModel {
        name: Set("alice".into()),
        description: Set("Alice's lab".into()),
        owner_id: Set(Some(alice_id)),
        team_id: Set(None),
        default_private: Set(false),
        quota: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&conn)
    .await
    .unwrap();
    let mut ids = Vec::new();
    for (name, private) in [("open", false), ("closed", true)] {
        let c = collection::ActiveModel {
            entity_id: Set(ent.id),
            name: Set(name.into()),
            description: Set(String::new()),
            private: Set(private),
            owner_id: Set(Some(alice_id)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&conn)
        .await
        .unwrap();
        ids.push(c.id);
    }
    let open_a = container(&conn, ids[0], "a").await;
    let open_b = container(&conn, ids[0], "b").await;
    let closed_x = container(&conn, ids[1], "x").await;

    // Storage of alice/open: 1000 bytes before the range, +100 on day -3, +50 on day -1, and
    // a record still waiting for its bytes (not stored) on day -2.
    let old = image(&conn, open_a, 1000, at(-40, 8), true).await;
    image(&conn, open_a, 100, at(-3, 9), true).await;
    image(&conn, open_b, 50, at(-1, 23), true).await;
    image(&conn, open_b, 7777, at(-2, 10), false).await;
    // alice/closed: 5000 bytes on day -2, pulled 9 times on day -2.
    let secret = image(&conn, closed_x, 5000, at(-2, 12), true).await;
    pulls(&conn, closed_x, secret, at(-2, 13), 9).await;
    // Pulls of alice/open: 2 on day -2, 3 today (a), 1 on day -1 (b), 4 before the range.
    pulls(&conn, open_a, old, at(-2, 0), 2).await;
    pulls(&conn, open_a, old, at(0, 1), 3).await;
    let b_image = image(&conn, open_b, 0, at(-60, 1), true).await;
    pulls(&conn, open_b, b_image, at(-1, 22), 1).await;
    pulls(&conn, open_a, old, at(-30, 5), 4).await;
    // Stars: bob stars alice/open and container a; alice stars her private collection and x.
    star(&conn, bob_id, Some(ids[0]), None).await;
    star(&conn, bob_id, None, Some(open_a)).await;
    star(&conn, alice_id, Some(ids[1]), None).await;
    star(&conn, alice_id, None, Some(closed_x)).await;
    star(&conn, alice_id, None, Some(open_a)).await;

    let alice = Actor::User(Principal {
        user_id: alice_id,
        username: "alice".into(),
        email: String::new(),
        realname: String::new(),
        is_admin: false,
        scope: Scope::Push,
        is_robot: false,
        grants: Default::default(),
    });
    World {
        registry,
        alice,
        _db: db,
        open_a,
        open_b,
        closed_x,
    }
}

fn last_days(n: i64) -> DayRange {
    DayRange::new(Some(day(-(n - 1))), Some(day(0))).unwrap()
}

#[tokio::test]
async fn collection_usage_is_zero_filled_and_cumulative() {
    let w = world().await;
    let days = w
        .registry
        .collection_usage(&Actor::Anonymous, "alice", "open", &last_days(5))
        .await
        .unwrap();
    assert_eq!(
        days.iter().map(|d| d.date).collect::<Vec<_>>(),
        (-4..=0).map(day).collect::<Vec<_>>()
    );
    assert_eq!(
        days.iter().map(|d| d.downloads).collect::<Vec<_>>(),
        [0, 0, 2, 1, 3]
    );
    assert_eq!(
        days.iter().map(|d| d.bytes_total).collect::<Vec<_>>(),
        [1000, 1100, 1100, 1150, 1150]
    );
    assert_eq!(
        days.iter().map(|d| d.pushes).collect::<Vec<_>>(),
        [0, 1, 0, 1, 0]
    );
    // A range before anything happened: all zero, one entry per day.
    let quiet = DayRange::new(Some(day(-400)), Some(day(-391))).unwrap();
    let days = w
        .registry
        .collection_usage(&Actor::Anonymous, "alice", "open", &quiet)
        .await
        .unwrap();
    assert_eq!(days.len(), 10);
    assert!(days.iter().all(|d| d.downloads == 0 && d.bytes_total == 0));
}

#[tokio::test]
async fn private_usage_is_only_for_those_who_may_read() {
    let w = world().await;
    let range = last_days(5);
    let hidden = w
        .registry
        .collection_usage(&Actor::Anonymous, "alice", "closed", &range)
        .await;
    assert!(
        matches!(hidden, Err(DomainError::NotFound(_))),
        "{hidden:?}"
    );
    let unknown = w
        .registry
        .collection_usage(&w.alice, "alice", "nope", &range)
        .await;
    assert!(matches!(unknown, Err(DomainError::NotFound(_))));
    let own = w
        .registry
        .collection_usage(&w.alice, "alice", "closed", &range)
        .await
        .unwrap();
    assert_eq!(own[2].downloads, 9);
    assert_eq!(own[4].bytes_total, 5000);

    // Registry-wide: anonymous sees only alice/open, alice sees both.
    let public = w
        .registry
        .registry_usage(&Actor::Anonymous, &range)
        .await
        .unwrap();
    assert_eq!(public.iter().map(|d| d.downloads).sum::<u64>(), 6);
    assert_eq!(public[4].bytes_total, 1150);
    let all = w.registry.registry_usage(&w.alice, &range).await.unwrap();
    assert_eq!(all.iter().map(|d| d.downloads).sum::<u64>(), 15);
    assert_eq!(all[4].bytes_total, 6150);
    assert_eq!(all[2].bytes_total, 6100);
}

#[tokio::test]
async fn highlights_rank_and_hide_what_may_not_be_read() {
    let w = world().await;
    let public = w.registry.highlights(&Actor::Anonymous, 5).await.unwrap();
    let ids = |list: &[ContainerStats]| list.iter().map(|c| c.container.id).collect::<Vec<_>>();
    // a: 9 pulls, b: 1 pull; x (private, 9 pulls) is not shown.
    assert_eq!(ids(&public.most_pulled), [w.open_a, w.open_b]);
    assert_eq!(ids(&public.most_starred_containers), [w.open_a]);
    assert_eq!(public.most_starred_containers[0].stars, 2);
    let names: Vec<_> = public
        .most_starred_collections
        .iter()
        .map(|c| c.collection.name.as_str())
        .collect();
    assert_eq!(names, ["open"]);
    assert_eq!(public.totals.collections, 1);

    let own = w.registry.highlights(&w.alice, 1).await.unwrap();
    // The limit holds; x and a have 9 pulls each, ties go by path (alice/closed first).
    assert_eq!(ids(&own.most_pulled), [w.closed_x]);
    let own = w.registry.highlights(&w.alice, 5).await.unwrap();
    assert_eq!(ids(&own.most_pulled), [w.closed_x, w.open_a, w.open_b]);
    assert_eq!(own.most_starred_collections.len(), 2);
    assert_eq!(own.totals.collections, 2);
}

#[tokio::test]
async fn entity_profiles_count_visible_stars() {
    let w = world().await;
    let public = w
        .registry
        .entity_profile(&Actor::Anonymous, "alice")
        .await
        .unwrap();
    // Visible: the star on alice/open and the two on container a.
    assert_eq!(public.stars, 3);
    assert_eq!(public.stats.collections, 1);
    assert_eq!(public.stats.downloads, 10);
    let own = w.registry.entity_profile(&w.alice, "alice").await.unwrap();
    assert_eq!(own.stars, 5);
    assert_eq!(own.stats.collections, 2);
    assert_eq!(own.stats.downloads, 19);
    let missing = w.registry.entity_profile(&w.alice, "nobody").await;
    assert!(matches!(missing, Err(DomainError::NotFound(_))));
}
