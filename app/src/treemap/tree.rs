//! From the flat list of containers to the tiles of one level (registry -> entity ->
//! collection -> container), with the sizes of each tile's own children for the nested
//! preview. Plain data, unit-tested on the host.
use std::collections::HashMap;

use crate::model::treemap::TreemapContainer;

/// Where the treemap is looking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Level {
    Registry,
    Entity(String),
    Collection(String, String),
}

/// What a tile stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TileKind {
    Entity,
    Collection,
    Container,
}

impl TileKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            TileKind::Entity => "entity",
            TileKind::Collection => "collection",
            TileKind::Container => "container",
        }
    }
}

impl Level {
    /// The level named by the route's optional `entity` and `collection` segments.
    pub fn from_route(entity: Option<String>, collection: Option<String>) -> Level {
        let entity = entity.filter(|e| !e.is_empty());
        let collection = collection.filter(|c| !c.is_empty());
        match (entity, collection) {
            (Some(e), Some(c)) => Level::Collection(e, c),
            (Some(e), None) => Level::Entity(e),
            _ => Level::Registry,
        }
    }

    /// The treemap route showing this level.
    pub fn href(&self) -> String {
        match self {
            Level::Registry => "/treemap".into(),
            Level::Entity(e) => format!("/treemap/{e}"),
            Level::Collection(e, c) => format!("/treemap/{e}/{c}"),
        }
    }

    /// The breadcrumb from the registry down to this level: (label, route).
    pub fn crumbs(&self) -> Vec<(String, String)> {
        let mut crumbs = vec![("Registry".to_string(), Level::Registry.href())];
        match self {
            Level::Registry => {}
            Level::Entity(e) => crumbs.push((e.clone(), self.href())),
            Level::Collection(e, c) => {
                crumbs.push((e.clone(), Level::Entity(e.clone()).href()));
                crumbs.push((c.clone(), self.href()));
            }
        }
        crumbs
    }

    /// What the tiles of this level are.
    pub fn tile_kind(&self) -> TileKind {
        match self {
            Level::Registry => TileKind::Entity,
            Level::Entity(_) => TileKind::Collection,
            Level::Collection(..) => TileKind::Container,
        }
    }

    fn contains(&self, c: &TreemapContainer) -> bool {
        match self {
            Level::Registry => true,
            Level::Entity(e) => &c.entity == e,
            Level::Collection(e, k) => &c.entity == e && &c.collection == k,
        }
    }
}

/// One rectangle of a level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tile {
    pub kind: TileKind,
    pub name: String,
    /// The entity it belongs to (its colour when colouring by entity).
    pub entity: String,
    /// Where activating it leads: the next level down, or the container page.
    pub href: String,
    pub size: u64,
    pub containers: u64,
    pub images: u64,
    /// Newest upload below it (Unix seconds, 0: none).
    pub last_push: i64,
    /// Sizes of its own children (collections of an entity, containers of a collection), in
    /// the order the data lists them; empty for containers.
    pub children: Vec<u64>,
}

/// The tiles of `level`, in the order the data lists them (by name).
pub fn tiles(data: &[TreemapContainer], level: &Level) -> Vec<Tile> {
    let kind = level.tile_kind();
    let mut tiles: Vec<Tile> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    // The child each tile saw last, to add up contiguous runs without a lookup.
    let mut child_keys: Vec<Vec<&str>> = Vec::new();
    for c in data.iter().filter(|c| level.contains(c)) {
        let (key, child) = match kind {
            TileKind::Entity => (c.entity.as_str(), Some(c.collection.as_str())),
            TileKind::Collection => (c.collection.as_str(), Some(c.name.as_str())),
            TileKind::Container => (c.name.as_str(), None),
        };
        let at = *index.entry(key).or_insert_with(|| {
            tiles.push(Tile {
                kind,
                name: key.to_string(),
                entity: c.entity.clone(),
                href: match kind {
                    TileKind::Entity => Level::Entity(c.entity.clone()).href(),
                    TileKind::Collection => {
                        Level::Collection(c.entity.clone(), c.collection.clone()).href()
                    }
                    TileKind::Container => {
                        format!("/c/{}/{}/{}", c.entity, c.collection, c.name)
                    }
                },
                size: 0,
                containers: 0,
                images: 0,
                last_push: 0,
                children: Vec::new(),
            });
            child_keys.push(Vec::new());
            tiles.len() - 1
        });
        let tile = &mut tiles[at];
        tile.size += c.size;
        tile.containers += 1;
        tile.images += c.images;
        tile.last_push = tile.last_push.max(c.last_push);
        if let Some(child) = child {
            let keys = &mut child_keys[at];
            let slot = if keys.last() == Some(&child) {
                keys.len() - 1
            } else if let Some(found) = keys.iter().position(|k| *k == child) {
                found
            } else {
                keys.push(child);
                tile.children.push(0);
                keys.len() - 1
            };
            tile.children[slot] += c.size;
        }
    }
    tiles
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(e: &str, k: &str, n: &str, size: u64, t: i64) -> TreemapContainer {
        TreemapContainer {
            entity: e.into(),
            collection: k.into(),
            name: n.into(),
            size,
            images: u64::from(size > 0),
            last_push: t,
        }
    }

    fn data() -> Vec<TreemapContainer> {
        vec![
            c("alice", "e2e", "hello", 100, 10),
            c("alice", "e2e", "world", 50, 30),
            c("alice", "tools", "bwa", 25, 20),
            c("bob", "lab", "empty", 0, 0),
        ]
    }

    #[test]
    fn registry_level_sums_entities_with_collection_previews() {
        let tiles = tiles(&data(), &Level::Registry);
        assert_eq!(tiles.len(), 2);
        let alice = &tiles[0];
        assert_eq!(
            (alice.kind, alice.name.as_str(), alice.href.as_str()),
            (TileKind::Entity, "alice", "/treemap/alice")
        );
        assert_eq!((alice.size, alice.containers, alice.images), (175, 3, 3));
        assert_eq!(alice.last_push, 30);
        assert_eq!(alice.children, vec![150, 25]);
        assert_eq!((tiles[1].size, tiles[1].containers), (0, 1));
    }

    #[test]
    fn deeper_levels_and_their_links() {
        let entity = Level::Entity("alice".into());
        let tiles_e = tiles(&data(), &entity);
        let names: Vec<_> = tiles_e.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["e2e", "tools"]);
        assert_eq!(tiles_e[0].href, "/treemap/alice/e2e");
        assert_eq!(tiles_e[0].children, vec![100, 50]);
        let coll = Level::Collection("alice".into(), "e2e".into());
        let tiles_c = tiles(&data(), &coll);
        assert_eq!(tiles_c.len(), 2);
        assert_eq!(tiles_c[1].href, "/c/alice/e2e/world");
        assert_eq!(tiles_c[1].kind, TileKind::Container);
        assert!(tiles_c[1].children.is_empty());
        assert!(tiles(&data(), &Level::Entity("nobody".into())).is_empty());
    }

    #[test]
    fn routes_and_breadcrumbs() {
        assert_eq!(Level::from_route(None, None), Level::Registry);
        assert_eq!(
            Level::from_route(Some("a".into()), Some(String::new())),
            Level::Entity("a".into())
        );
        let level = Level::from_route(Some("a".into()), Some("b".into()));
        assert_eq!(level.href(), "/treemap/a/b");
        let crumbs: Vec<_> = level.crumbs().into_iter().map(|(_, h)| h).collect();
        assert_eq!(crumbs, ["/treemap", "/treemap/a", "/treemap/a/b"]);
    }
}
