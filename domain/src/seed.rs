//! Demonstration and benchmark data: `silo seed` fills a registry with users, collections and
//! thousands of containers through the same services a push uses, so every page, the treemap
//! and the charts can be tried at scale. Deterministic: the same options give the same
//! registry. Images are small blobs of varied size (not SIF images); pulls and stars are
//! spread over the past days so the usage charts have a history.
use bytes::Bytes;
use chrono::{Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::entities::{download_event, image, star};
use crate::error::{DomainError, Result};
use crate::names::Sha256Hex;
use crate::policy::{Actor, Principal, Scope};
use crate::services::{NewCollection, NewContainer, NewEntity, Registry};
use crate::store::ByteStream;

/// What to create.
#[derive(Clone, Debug)]
pub struct SeedPlan {
    pub containers: u64,
    /// Users, each with the entity named after them (`seed-user-NNN`).
    pub entities: u64,
    /// Containers per collection.
    pub containers_per_collection: u64,
    /// Every n-th collection is private (0: none).
    pub private_every: u64,
    /// Largest image, in KiB; sizes are spread from 1 KiB up, most of them small.
    pub max_image_kib: u64,
    /// Pulls and pushes are spread over this many past days.
    pub history_days: i64,
}

impl Default for SeedPlan {
    fn default() -> Self {
        SeedPlan {
            containers: 10_000,
            entities: 40,
            containers_per_collection: 20,
            private_every: 7,
            max_image_kib: 256,
            history_days: 120,
        }
    }
}

/// What was created.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub users: u64,
    pub collections: u64,
    pub containers: u64,
    pub bytes: u64,
    pub downloads: u64,
    pub stars: u64,
}

/// A small deterministic generator (SplitMix64): no dependency, same data every run.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }

    /// A size from 1 KiB to `max_kib` KiB, log-uniform (most images small, a few big).
    fn size(&mut self, max_kib: u64) -> u64 {
        let bits = 64 - max_kib.max(1).leading_zeros() as u64;
        let kib = (1u64 << self.below(bits)).min(max_kib.max(1));
        kib * 1024 + self.below(kib * 1024)
    }
}

const WORDS: [&str; 16] = [
    "genomics",
    "climate",
    "physics",
    "imaging",
    "chemistry",
    "ml",
    "cfd",
    "astro",
    "neuro",
    "proteomics",
    "hpc-tools",
    "stats",
    "geo",
    "materials",
    "bio",
    "teaching",
];

fn principal_of(user: &crate::entities::user::Model) -> Actor {
    Actor::User(Principal {
        user_id: user.id,
        username: user.username.clone(),
        email: user.email.clone(),
        realname: user.realname.clone(),
        is_admin: false,
        scope: Scope::Push,
        is_robot: false,
        grants: Default::default(),
    })
}

/// The bytes of one seeded image: a readable header, then pseudo-random filler.
fn image_bytes(path: &str, size: u64, dice: &mut Dice) -> Vec<u8> {
    let mut data = format!("silo seed image {path}\n").into_bytes();
    while (data.len() as u64) < size {
        data.extend_from_slice(&dice.next().to_le_bytes());
    }
    data.truncate(size as usize);
    data
}

impl Registry {
    /// Creates the plan's users, collections and containers (one tagged image each), with
    /// pulls and stars. Refuses to run twice on the same database.
    pub async fn seed(&self, plan: &SeedPlan, mut progress: impl FnMut(u64)) -> Result<SeedReport> {
        if plan.entities == 0 || plan.containers_per_collection == 0 {
            return Err(DomainError::invalid(
                "entities and containers per collection must be above 0",
            ));
        }
        if self.find_user("seed-user-000").await?.is_some() {
            return Err(DomainError::Conflict(
                "this registry is already seeded".into(),
            ));
        }
        let mut dice = Dice(0x5EED);
        let mut report = SeedReport::default();
        let mut actors = Vec::new();
        let mut entity_ids = Vec::new();
        for n in 0..plan.entities {
            let name = format!("seed-user-{n:03}");
            let user = self
                .create_user(&name, &format!("{name}@example.org"), false)
                .await?;
            let actor = principal_of(&user);
            let entity = self
                .create_entity(
                    &actor,
                    NewEntity {
                        name,
                        description: String::new(),
                        default_private: false,
                    },
                )
                .await?;
            actors.push((user.id, actor));
            entity_ids.push(entity.id);
            report.users += 1;
        }
        let now = Utc::now();
        let mut events = Vec::new();
        let mut stars = Vec::new();
        let mut collection_index = 0u64;
        while report.containers < plan.containers {
            let owner = (collection_index % plan.entities) as usize;
            let (_, actor) = &actors[owner];
            let word = WORDS[(collection_index as usize) % WORDS.len()];
            let private = plan.private_every > 0
                && collection_index % plan.private_every == plan.private_every - 1;
            let (entity, collection) = self
                .create_collection(
                    actor,
                    NewCollection {
                        entity_id: entity_ids[owner],
                        name: format!("{word}-{collection_index:04}"),
                        description: format!("Seeded {word} images"),
                        private,
                    },
                )
                .await?;
            report.collections += 1;
            collection_index += 1;
            if dice.below(3) == 0 {
                let fan = actors[dice.below(plan.entities) as usize].0;
                stars.push(star::ActiveModel {
                    user_id: Set(fan),
                    collection_id: Set(Some(collection.id)),
                    container_id: Set(None),
                    created_at: Set(now),
                    ..Default::default()
                });
            }
            let here = plan
                .containers_per_collection
                .min(plan.containers - report.containers);
            for k in 0..here {
                let name = format!("tool-{k:03}");
                let view = self
                    .create_container(
                        actor,
                        NewContainer {
                            collection_id: collection.id,
                            name: name.clone(),
                            description: String::new(),
                        },
                    )
                    .await?;
                let path = format!("{}/{}/{name}", entity.name, collection.name);
                let size = dice.size(plan.max_image_kib);
                let data = image_bytes(&path, size, &mut dice);
                let sha =
                    Sha256Hex::parse(&hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&data)))?;
                let created = self
                    .create_image(actor, view.container.id, &sha, "")
                    .await?;
                let stream: ByteStream = Box::pin(futures::stream::once(async move {
                    Ok::<_, std::io::Error>(Bytes::from(data))
                }));
                let stored = self
                    .upload_direct(actor, created.image.id, stream, Some(size))
                    .await?;
                self.set_tag(
                    actor,
                    view.container.id,
                    stored.arch.as_deref(),
                    "latest",
                    stored.id,
                )
                .await?;
                // Pushed some day in the past, so storage grows over the history.
                let pushed =
                    now - Duration::days(dice.below(plan.history_days.max(1) as u64) as i64);
                image::Entity::update_many()
                    .col_expr(
                        image::Column::CreatedAt,
                        sea_orm::sea_query::Expr::value(pushed),
                    )
                    .filter(image::Column::Id.eq(stored.id))
                    .exec(self.db())
                    .await?;
                let pulls = dice.below(8) * dice.below(4);
                for _ in 0..pulls {
                    let age = dice.below((now - pushed).num_days().max(1) as u64) as i64;
                    events.push(download_event::ActiveModel {
                        image_id: Set(stored.id),
                        container_id: Set(view.container.id),
                        user_id: Set(None),
                        protocol: Set(["library", "oras", "shub"][dice.below(3) as usize].into()),
                        created_at: Set(now
                            - Duration::days(age)
                            - Duration::minutes(dice.below(1440) as i64)),
                        ..Default::default()
                    });
                }
                if pulls > 0 {
                    crate::entities::container::Entity::update_many()
                        .col_expr(
                            crate::entities::container::Column::DownloadCount,
                            sea_orm::sea_query::Expr::value(pulls as i64),
                        )
                        .filter(crate::entities::container::Column::Id.eq(view.container.id))
                        .exec(self.db())
                        .await?;
                }
                if dice.below(10) == 0 {
                    stars.push(star::ActiveModel {
                        user_id: Set(actors[dice.below(plan.entities) as usize].0),
                        collection_id: Set(None),
                        container_id: Set(Some(view.container.id)),
                        created_at: Set(now),
                        ..Default::default()
                    });
                }
                report.containers += 1;
                report.bytes += size;
                report.downloads += pulls;
                if report.containers % 250 == 0 {
                    progress(report.containers);
                }
            }
        }
        report.stars = stars.len() as u64;
        for chunk in events.chunks(500) {
            download_event::Entity::insert_many(chunk.to_vec())
                .exec(self.db())
                .await?;
        }
        for chunk in stars.chunks(500) {
            star::Entity::insert_many(chunk.to_vec())
                .exec(self.db())
                .await?;
        }
        progress(report.containers);
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::services::stats::CollectionQuery;
    use crate::store::FsBlobStore;
    use crate::testing::TestDb;

    #[test]
    fn sizes_stay_within_bounds() {
        let mut dice = Dice(1);
        for _ in 0..1000 {
            let size = dice.size(256);
            assert!((1024..=2 * 256 * 1024).contains(&size), "{size}");
        }
    }

    #[tokio::test]
    async fn seeds_what_the_plan_says_and_refuses_twice() {
        let db = TestDb::new().await;
        let store = FsBlobStore::open(db.dir.path().join("blobs"))
            .await
            .unwrap();
        let registry = Registry::new(db.db.clone(), Arc::new(store)).with_accept_non_sif(true);
        let plan = SeedPlan {
            containers: 45,
            entities: 3,
            containers_per_collection: 10,
            private_every: 2,
            max_image_kib: 8,
            history_days: 30,
        };
        let report = registry.seed(&plan, |_| {}).await.unwrap();
        assert_eq!(report.containers, 45);
        assert_eq!(
            report.collections, 5,
            "four full collections and one of five"
        );
        assert_eq!(report.users, 3);
        let anonymous = registry
            .list_collection_stats(&Actor::Anonymous, &CollectionQuery::default())
            .await
            .unwrap();
        assert_eq!(anonymous.total, 3, "every second collection is private");
        let root = Actor::User(Principal {
            user_id: 0,
            username: "root".into(),
            email: String::new(),
            realname: String::new(),
            is_admin: true,
            scope: Scope::Admin,
            is_robot: false,
            grants: Default::default(),
        });
        let all = registry
            .list_collection_stats(&root, &CollectionQuery::default())
            .await
            .unwrap();
        let bytes: u64 = all.items.iter().map(|c| c.size_bytes).sum();
        assert_eq!(bytes, report.bytes, "every image was stored and counted");
        let pulls: u64 = all.items.iter().map(|c| c.downloads).sum();
        assert_eq!(pulls, report.downloads);
        let again = registry.seed(&plan, |_| {}).await.unwrap_err();
        assert!(matches!(again, DomainError::Conflict(_)), "{again:?}");
    }
}
