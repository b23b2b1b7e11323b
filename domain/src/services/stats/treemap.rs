//! The treemap of the registry: every container the actor may read with the bytes it stores,
//! in one aggregate query.
use chrono::{DateTime, Utc};
use sea_orm::FromQueryResult;

use super::sql::{sum, Sql};
use super::*;
use crate::policy::Actor;
use crate::services::Registry;

/// One container of the treemap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreemapLeaf {
    pub entity: String,
    pub collection: String,
    pub container: String,
    /// Sum of the sizes of the container's uploaded images (each distinct content once: an
    /// image record is one content per container, however many tags point at it).
    pub size_bytes: u64,
    /// Uploaded images.
    pub images: u64,
    /// When the newest uploaded image finished uploading (None: nothing uploaded yet).
    pub last_push: Option<DateTime<Utc>>,
}

#[derive(FromQueryResult)]
struct LeafRow {
    entity_name: String,
    collection_name: String,
    container_name: String,
    size_bytes: i64,
    images: i64,
    last_push: Option<DateTime<Utc>>,
}

impl Registry {
    /// Every container the actor may read, ordered by entity, collection and container name,
    /// with its stored bytes, image count and last push: one grouped query, whatever the
    /// number of containers.
    pub async fn treemap(&self, actor: &Actor) -> Result<Vec<TreemapLeaf>> {
        let mut sql = Sql::new(&format!(
            "SELECT e.name AS entity_name, c.name AS collection_name, k.name AS container_name, \
             {} AS size_bytes, COUNT(i.id) AS images, MAX(i.updated_at) AS last_push \
             FROM containers k JOIN collections c ON c.id = k.collection_id \
             JOIN entities e ON e.id = c.entity_id \
             LEFT JOIN images i ON i.container_id = k.id AND i.uploaded = ",
            sum("i.size")
        ));
        sql.bind(true).push(" WHERE ");
        sql.readable(&actor.read_scope(), "c");
        sql.push(
            " GROUP BY k.id, e.name, c.name, k.name \
             ORDER BY e.name ASC, c.name ASC, k.name ASC",
        );
        let rows = LeafRow::find_by_statement(sql.build(self.db.get_database_backend()))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| TreemapLeaf {
                entity: r.entity_name,
                collection: r.collection_name,
                container: r.container_name,
                size_bytes: count(r.size_bytes),
                images: count(r.images),
                last_push: r.last_push,
            })
            .collect())
    }
}
