//! As-you-type search for the web interface: a few hits of each kind (entities, collections,
//! containers), found by name, tag, SIF label or description, in three indexed-friendly SQL
//! queries, and only among what the actor may read.
use sea_orm::FromQueryResult;

use super::lists::given;
use super::sql::{escape_like, Sql};
use crate::error::Result;
use crate::policy::Actor;
use crate::services::Registry;

/// At most this many hits of each kind.
pub const QUICK_SEARCH_LIMIT: u64 = 25;
/// Shorter needles match too much to be useful as you type.
pub const QUICK_SEARCH_MIN_CHARS: usize = 2;

/// What made a container match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContainerMatch {
    Name,
    /// One of its tags (the first matching name, alphabetically).
    Tag(String),
    /// A SIF label name or value of one of its images.
    Label,
    Description,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntityHit {
    pub name: String,
    /// Collections of the entity the actor may read.
    pub collections: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectionHit {
    pub entity: String,
    pub name: String,
    pub private: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerHit {
    pub entity: String,
    pub collection: String,
    pub name: String,
    pub private: bool,
    pub matched: ContainerMatch,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuickHits {
    pub entities: Vec<EntityHit>,
    pub collections: Vec<CollectionHit>,
    pub containers: Vec<ContainerHit>,
}

#[derive(FromQueryResult)]
struct EntityRow {
    name: String,
    collections: i64,
}

#[derive(FromQueryResult)]
struct CollectionRow {
    entity: String,
    name: String,
    private: bool,
}

#[derive(FromQueryResult)]
struct ContainerRow {
    entity: String,
    collection: String,
    name: String,
    private: bool,
    name_hit: i64,
    tag_hit: Option<String>,
    label_hit: i64,
}

impl Registry {
    /// Case-insensitive substring search; names that start with the needle come first. An
    /// empty or one-character needle finds nothing.
    pub async fn quick_search(&self, actor: &Actor, needle: &str) -> Result<QuickHits> {
        let Some(needle) = given(&Some(needle.to_string())).map(str::to_lowercase) else {
            return Ok(QuickHits::default());
        };
        if needle.chars().count() < QUICK_SEARCH_MIN_CHARS {
            return Ok(QuickHits::default());
        }
        let backend = self.db.get_database_backend();
        let scope = actor.read_scope();

        let mut sql = Sql::new(
            "SELECT e.name AS name, COUNT(c.id) AS collections FROM entities e \
             JOIN collections c ON c.entity_id = e.id WHERE ",
        );
        sql.contains("e.name", &needle)
            .push(" AND ")
            .readable(&scope, "c");
        sql.push(" GROUP BY e.name ORDER BY ");
        starts_first(&mut sql, "e.name", &needle);
        sql.push(&format!(", e.name LIMIT {QUICK_SEARCH_LIMIT}"));
        let entities = EntityRow::find_by_statement(sql.build(backend))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| EntityHit {
                name: r.name,
                collections: r.collections.max(0) as u64,
            })
            .collect();

        let mut sql = Sql::new(
            "SELECT e.name AS entity, c.name AS name, c.private AS private FROM collections c \
             JOIN entities e ON e.id = c.entity_id WHERE (",
        );
        sql.contains("c.name", &needle)
            .push(" OR ")
            .contains("c.description", &needle)
            .push(") AND ")
            .readable(&scope, "c")
            .push(" ORDER BY ");
        starts_first(&mut sql, "c.name", &needle);
        sql.push(&format!(", c.name, e.name LIMIT {QUICK_SEARCH_LIMIT}"));
        let collections = CollectionRow::find_by_statement(sql.build(backend))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| CollectionHit {
                entity: r.entity,
                name: r.name,
                private: r.private,
            })
            .collect();

        let containers = self.quick_search_containers(actor, &needle).await?;
        Ok(QuickHits {
            entities,
            collections,
            containers,
        })
    }

    async fn quick_search_containers(
        &self,
        actor: &Actor,
        needle: &str,
    ) -> Result<Vec<ContainerHit>> {
        let mut name_hit = Sql::new("CAST(CASE WHEN ");
        name_hit
            .contains("k.name", needle)
            .push(" THEN 1 ELSE 0 END AS BIGINT)");
        let mut tag_hit =
            Sql::new("(SELECT MIN(t.name) FROM tags t WHERE t.container_id = k.id AND ");
        tag_hit.contains("t.name", needle).push(")");
        let mut label_hit = Sql::new(
            "CAST(CASE WHEN EXISTS (SELECT 1 FROM images i JOIN image_metadata m ON m.image_id = i.id \
             WHERE i.container_id = k.id AND ",
        );
        label_hit
            .contains("m.labels", needle)
            .push(") THEN 1 ELSE 0 END AS BIGINT)");

        let mut sql = Sql::new(
            "SELECT * FROM (SELECT e.name AS entity, c.name AS collection, k.name AS name, \
             c.private AS private, k.description AS description, ",
        );
        sql.append(&name_hit)
            .push(" AS name_hit, ")
            .append(&tag_hit)
            .push(" AS tag_hit, ")
            .append(&label_hit)
            .push(
                " AS label_hit FROM containers k JOIN collections c ON c.id = k.collection_id \
                 JOIN entities e ON e.id = c.entity_id WHERE ",
            )
            .readable(&actor.read_scope(), "c")
            .push(") t WHERE (t.name_hit = 1 OR t.tag_hit IS NOT NULL OR t.label_hit = 1 OR ")
            .contains("t.description", needle)
            .push(") ORDER BY t.name_hit DESC, ");
        starts_first(&mut sql, "t.name", needle);
        sql.push(&format!(
            ", t.name, t.collection, t.entity LIMIT {QUICK_SEARCH_LIMIT}"
        ));
        let rows = ContainerRow::find_by_statement(sql.build(self.db.get_database_backend()))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| ContainerHit {
                matched: if r.name_hit == 1 {
                    ContainerMatch::Name
                } else if let Some(tag) = r.tag_hit {
                    ContainerMatch::Tag(tag)
                } else if r.label_hit == 1 {
                    ContainerMatch::Label
                } else {
                    ContainerMatch::Description
                },
                entity: r.entity,
                collection: r.collection,
                name: r.name,
                private: r.private,
            })
            .collect())
    }
}

/// `CASE WHEN LOWER(column) LIKE 'needle%' THEN 0 ELSE 1 END`: prefix matches sort first.
fn starts_first(sql: &mut Sql, column: &str, needle: &str) {
    let escaped = escape_like(needle);
    sql.push(&format!("CASE WHEN LOWER({column}) LIKE "))
        .bind(format!("{escaped}%"))
        .push(" ESCAPE '\\' THEN 0 ELSE 1 END");
}
