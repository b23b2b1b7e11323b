//! The web interface's as-you-type search: what matches, in which order, and never what the
//! viewer may not read.
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::tests::{populate, registry};
use super::*;
use crate::entities::{collection, container, entity, image, image_metadata};
use crate::testing::TestDb;

#[tokio::test]
async fn finds_only_what_the_viewer_may_read() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let [anonymous, alice, _bob, root] = populate(&r, 6, 2).await;

    // c0000 and c0003 are private in every entity (lab's belong to bob).
    let hits = r.quick_search(&anonymous, "c000").await.unwrap();
    assert_eq!(hits.collections.len(), 12);
    assert!(hits.collections.iter().all(|c| !c.private));
    let hits = r.quick_search(&alice, "c000").await.unwrap();
    assert_eq!(
        hits.collections.len(),
        14,
        "alice also sees her two private ones"
    );
    assert!(hits
        .collections
        .iter()
        .filter(|c| c.private)
        .all(|c| c.entity == "alice"));
    let hits = r.quick_search(&root, "c000").await.unwrap();
    assert_eq!(hits.collections.len(), 18);

    // Entities count the collections the viewer can read.
    let hits = r.quick_search(&anonymous, "ali").await.unwrap();
    assert_eq!(
        hits.entities,
        vec![EntityHit {
            name: "alice".into(),
            collections: 4
        }]
    );
    let hits = r.quick_search(&alice, "ali").await.unwrap();
    assert_eq!(hits.entities[0].collections, 6);

    // Containers by name: 3 entities x 4 public collections hold a k0001.
    let hits = r.quick_search(&anonymous, "k0001").await.unwrap();
    assert_eq!(hits.containers.len(), 12);
    assert!(hits
        .containers
        .iter()
        .all(|k| k.name == "k0001" && !k.private && k.matched == ContainerMatch::Name));
}

#[tokio::test]
async fn matches_tags_labels_and_descriptions() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let [anonymous, ..] = populate(&r, 2, 1).await;

    // Every container has a `latest` tag.
    let hits = r.quick_search(&anonymous, "lates").await.unwrap();
    assert!(!hits.containers.is_empty());
    assert!(hits
        .containers
        .iter()
        .all(|k| k.matched == ContainerMatch::Tag("latest".into())));

    // A SIF label on one image of bob/c0001/k0000.
    let bob = entity::Entity::find()
        .filter(entity::Column::Name.eq("bob"))
        .one(r.db())
        .await
        .unwrap()
        .unwrap();
    let c = collection::Entity::find()
        .filter(collection::Column::EntityId.eq(bob.id))
        .filter(collection::Column::Name.eq("c0001"))
        .one(r.db())
        .await
        .unwrap()
        .unwrap();
    let k = container::Entity::find()
        .filter(container::Column::CollectionId.eq(c.id))
        .one(r.db())
        .await
        .unwrap()
        .unwrap();
    let img = image::Entity::find()
        .filter(image::Column::ContainerId.eq(k.id))
        .one(r.db())
        .await
        .unwrap()
        .unwrap();
    image_metadata::ActiveModel {
        image_id: Set(img.id),
        arch: Set(Some("amd64".into())),
        sif_created_at: Set(None),
        definition: Set(None),
        labels: Set(r#"{"org.example.framework":"TensorFlow 2.17"}"#.into()),
        runscript: Set(None),
        environment: Set(None),
        signed: Set(false),
        fingerprints: Set("[]".into()),
        inspected_at: Set(chrono::Utc::now()),
    }
    .insert(r.db())
    .await
    .unwrap();
    let hits = r.quick_search(&anonymous, "tensorflow").await.unwrap();
    assert_eq!(hits.containers.len(), 1);
    let hit = &hits.containers[0];
    assert_eq!(
        (
            hit.entity.as_str(),
            hit.collection.as_str(),
            hit.name.as_str()
        ),
        ("bob", "c0001", "k0000")
    );
    assert_eq!(hit.matched, ContainerMatch::Label);

    let mut described: container::ActiveModel = k.into();
    described.description = Set("Genome assembly pipeline".into());
    described.update(r.db()).await.unwrap();
    let hits = r.quick_search(&anonymous, "assembly").await.unwrap();
    assert_eq!(hits.containers.len(), 1);
    assert_eq!(hits.containers[0].matched, ContainerMatch::Description);
}

#[tokio::test]
async fn short_or_wild_needles_find_nothing_extra() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let [anonymous, ..] = populate(&r, 2, 1).await;
    assert_eq!(
        r.quick_search(&anonymous, "").await.unwrap(),
        QuickHits::default()
    );
    assert_eq!(
        r.quick_search(&anonymous, " c ").await.unwrap(),
        QuickHits::default()
    );
    // SQL wildcards are literal characters.
    assert_eq!(
        r.quick_search(&anonymous, "%%").await.unwrap(),
        QuickHits::default()
    );
    assert_eq!(
        r.quick_search(&anonymous, "c__0").await.unwrap(),
        QuickHits::default()
    );
    // Only names holding the needle.
    let hits = r.quick_search(&anonymous, "0001").await.unwrap();
    assert!(hits.collections.iter().all(|c| c.name == "c0001"));
}
