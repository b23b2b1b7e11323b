//! Entities, collections, containers and images with their totals, filtered, sorted and
//! paged in SQL.
use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect};

use super::sql::{sum, Sql};
use super::*;
use crate::entities::image;
use crate::names::ContainerPath;
use crate::policy::Actor;
use crate::services::Registry;

#[derive(FromQueryResult)]
struct EntityRow {
    id: i64,
    name: String,
    description: String,
    owner_id: Option<i64>,
    team_id: Option<i64>,
    default_private: bool,
    quota: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    collections: i64,
    containers: i64,
    images: i64,
    size_bytes: i64,
    downloads: i64,
}

#[derive(FromQueryResult)]
struct CollectionRow {
    id: i64,
    entity_id: i64,
    name: String,
    description: String,
    private: bool,
    owner_id: Option<i64>,
    created_at: DateTime<Utc>,
    own_updated_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    entity_name: String,
    containers: i64,
    images: i64,
    size_bytes: i64,
    downloads: i64,
    stars: i64,
}

#[derive(FromQueryResult)]
struct ContainerRow {
    id: i64,
    collection_id: i64,
    name: String,
    description: String,
    full_description: String,
    read_only: bool,
    download_count: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    entity_name: String,
    collection_name: String,
    private: bool,
    images: i64,
    size_bytes: i64,
    tags: i64,
    stars: i64,
}

#[derive(FromQueryResult)]
struct Total {
    total: i64,
}

fn direction(order: SortOrder) -> &'static str {
    match order {
        SortOrder::Asc => "ASC",
        SortOrder::Desc => "DESC",
    }
}

/// `ORDER BY key dir, tie-breakers… LIMIT … OFFSET …`.
pub(super) fn order_and_page(
    sql: &mut Sql,
    key: &str,
    order: SortOrder,
    ties: &str,
    page: PageRequest,
) {
    sql.push(&format!(" ORDER BY {key} {}, {ties}", direction(order)))
        .push(" LIMIT ")
        .bind(page.per_page as i64)
        .push(" OFFSET ")
        .bind(page.offset() as i64);
}

/// A filter that was given and is not blank.
pub(super) fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl Registry {
    pub(super) async fn total(&self, from_where: &Sql) -> Result<u64> {
        let mut sql = Sql::new("SELECT COUNT(*) AS total ");
        sql.append(from_where);
        let row = Total::find_by_statement(sql.build(self.db.get_database_backend()))
            .one(&self.db)
            .await?;
        Ok(row.map_or(0, |r| count(r.total)))
    }

    async fn entity_rows(
        &self,
        actor: &Actor,
        query: &EntityQuery,
        exact: Option<&str>,
    ) -> Result<Listed<EntityStats>> {
        let scope = actor.read_scope();
        let mut from_where = Sql::new("FROM entities e WHERE 1 = 1");
        if let Some(name) = exact {
            from_where.push(" AND e.name = ").bind(name.to_string());
        }
        if let Some(q) = given(&query.q) {
            from_where.push(" AND (").contains("e.name", q);
            from_where
                .push(" OR ")
                .contains("e.description", q)
                .push(")");
        }
        let in_entity = "FROM collections c WHERE c.entity_id = e.id AND ";
        let containers = "FROM containers k JOIN collections c ON c.id = k.collection_id \
                          WHERE c.entity_id = e.id AND ";
        let images = "FROM images i JOIN containers k ON k.id = i.container_id \
                      JOIN collections c ON c.id = k.collection_id \
                      WHERE c.entity_id = e.id AND i.uploaded = ";
        let mut sql = Sql::new("SELECT * FROM (SELECT e.*, (SELECT COUNT(*) ");
        sql.push(in_entity).readable(&scope, "c");
        sql.push(") AS collections, (SELECT COUNT(*) ")
            .push(containers)
            .readable(&scope, "c");
        sql.push(&format!(
            ") AS containers, (SELECT {} ",
            sum("k.download_count")
        ))
        .push(containers)
        .readable(&scope, "c");
        sql.push(") AS downloads, (SELECT COUNT(*) ")
            .push(images)
            .bind(true)
            .push(" AND ")
            .readable(&scope, "c");
        sql.push(&format!(") AS images, (SELECT {} ", sum("i.size")))
            .push(images)
            .bind(true)
            .push(" AND ")
            .readable(&scope, "c");
        sql.push(") AS size_bytes ").append(&from_where).push(") t");
        let key = match query.sort {
            EntitySort::Name => "t.name",
            EntitySort::Collections => "t.collections",
            EntitySort::Size => "t.size_bytes",
            EntitySort::Downloads => "t.downloads",
        };
        order_and_page(&mut sql, key, query.order, "t.name ASC", query.page);
        let rows = EntityRow::find_by_statement(sql.build(self.db.get_database_backend()))
            .all(&self.db)
            .await?;
        let total = self.total(&from_where).await?;
        let items = rows
            .into_iter()
            .map(|r| EntityStats {
                collections: count(r.collections),
                containers: count(r.containers),
                images: count(r.images),
                size_bytes: count(r.size_bytes),
                downloads: count(r.downloads),
                entity: entity::Model {
                    id: r.id,
                    name: r.name,
                    description: r.description,
                    owner_id: r.owner_id,
                    team_id: r.team_id,
                    default_private: r.default_private,
                    quota: r.quota,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                },
            })
            .collect();
        Ok(Listed { items, total })
    }

    /// Entities (all of them: entity names are public) with totals over the collections the
    /// actor may read.
    pub async fn list_entities(
        &self,
        actor: &Actor,
        query: &EntityQuery,
    ) -> Result<Listed<EntityStats>> {
        self.entity_rows(actor, query, None).await
    }

    pub async fn entity_stats(&self, actor: &Actor, name: &str) -> Result<EntityStats> {
        let query = EntityQuery::default();
        let mut found = self.entity_rows(actor, &query, Some(name)).await?;
        found
            .items
            .pop()
            .ok_or_else(|| DomainError::not_found(format!("entity {name:?}")))
    }

    async fn collection_rows(
        &self,
        actor: &Actor,
        query: &CollectionQuery,
        exact: Option<&str>,
    ) -> Result<Listed<CollectionStats>> {
        let mut from_where =
            Sql::new("FROM collections c JOIN entities e ON e.id = c.entity_id WHERE ");
        from_where.readable(&actor.read_scope(), "c");
        if let Some(entity) = given(&query.entity) {
            from_where.push(" AND e.name = ").bind(entity.to_string());
        }
        if let Some(name) = exact {
            from_where.push(" AND c.name = ").bind(name.to_string());
        }
        if let Some(q) = given(&query.q) {
            from_where.push(" AND (").contains("c.name", q);
            from_where
                .push(" OR ")
                .contains("c.description", q)
                .push(")");
        }
        if let Some(private) = query.private {
            from_where.push(" AND c.private = ").bind(private);
        }
        let last_change =
            "(SELECT MAX(k.updated_at) FROM containers k WHERE k.collection_id = c.id)";
        let images = "FROM images i JOIN containers k ON k.id = i.container_id \
                      WHERE k.collection_id = c.id AND i.uploaded = ";
        let mut sql = Sql::new(
            "SELECT * FROM (SELECT c.id, c.entity_id, c.name, c.description, c.private, \
             c.owner_id, c.created_at, c.updated_at AS own_updated_at, e.name AS entity_name, ",
        );
        sql.push(&format!(
            "CASE WHEN {last_change} > c.updated_at THEN {last_change} ELSE c.updated_at END \
             AS updated_at, "
        ));
        sql.push(
            "(SELECT COUNT(*) FROM containers k WHERE k.collection_id = c.id) AS containers, ",
        );
        sql.push(&format!(
            "(SELECT {} FROM containers k WHERE k.collection_id = c.id) AS downloads, ",
            sum("k.download_count")
        ));
        sql.push("(SELECT COUNT(*) FROM stars s WHERE s.collection_id = c.id) AS stars, ");
        sql.push("(SELECT COUNT(*) ").push(images).bind(true);
        sql.push(&format!(") AS images, (SELECT {} ", sum("i.size")))
            .push(images)
            .bind(true)
            .push(") AS size_bytes ")
            .append(&from_where)
            .push(") t");
        let key = match query.sort {
            CollectionSort::Name => "t.entity_name",
            CollectionSort::Containers => "t.containers",
            CollectionSort::Size => "t.size_bytes",
            CollectionSort::Downloads => "t.downloads",
            CollectionSort::Updated => "t.updated_at",
            CollectionSort::Stars => "t.stars",
        };
        let ties = match query.order {
            SortOrder::Desc if query.sort == CollectionSort::Name => "t.name DESC",
            _ => "t.entity_name ASC, t.name ASC",
        };
        order_and_page(&mut sql, key, query.order, ties, query.page);
        let rows = CollectionRow::find_by_statement(sql.build(self.db.get_database_backend()))
            .all(&self.db)
            .await?;
        let total = self.total(&from_where).await?;
        let items = rows
            .into_iter()
            .map(|r| CollectionStats {
                entity_name: r.entity_name,
                containers: count(r.containers),
                images: count(r.images),
                size_bytes: count(r.size_bytes),
                downloads: count(r.downloads),
                stars: count(r.stars),
                updated_at: r.updated_at,
                collection: collection::Model {
                    id: r.id,
                    entity_id: r.entity_id,
                    name: r.name,
                    description: r.description,
                    private: r.private,
                    owner_id: r.owner_id,
                    created_at: r.created_at,
                    updated_at: r.own_updated_at,
                },
            })
            .collect();
        Ok(Listed { items, total })
    }

    /// Collections the actor may read, with their totals.
    pub async fn list_collection_stats(
        &self,
        actor: &Actor,
        query: &CollectionQuery,
    ) -> Result<Listed<CollectionStats>> {
        self.collection_rows(actor, query, None).await
    }

    /// One collection the actor may read; private ones look absent to everyone else.
    pub async fn collection_stats(
        &self,
        actor: &Actor,
        entity: &str,
        name: &str,
    ) -> Result<CollectionStats> {
        let query = CollectionQuery {
            entity: Some(entity.to_string()),
            ..Default::default()
        };
        let mut found = self.collection_rows(actor, &query, Some(name)).await?;
        found
            .items
            .pop()
            .ok_or_else(|| DomainError::not_found(format!("collection {entity}/{name}")))
    }

    async fn container_rows(
        &self,
        actor: &Actor,
        query: &ContainerQuery,
        exact: Option<&str>,
    ) -> Result<Listed<ContainerStats>> {
        let mut from_where = Sql::new(
            "FROM containers k JOIN collections c ON c.id = k.collection_id \
             JOIN entities e ON e.id = c.entity_id WHERE ",
        );
        from_where.readable(&actor.read_scope(), "c");
        if let Some(entity) = given(&query.entity) {
            from_where.push(" AND e.name = ").bind(entity.to_string());
        }
        if let Some(collection) = given(&query.collection) {
            from_where
                .push(" AND c.name = ")
                .bind(collection.to_string());
        }
        if let Some(name) = exact {
            from_where.push(" AND k.name = ").bind(name.to_string());
        }
        if let Some(q) = given(&query.q) {
            from_where.push(" AND (").contains("k.name", q);
            from_where
                .push(" OR ")
                .contains("k.description", q)
                .push(")");
        }
        if let Some(arch) = given(&query.arch) {
            from_where
                .push(" AND EXISTS (SELECT 1 FROM images i WHERE i.container_id = k.id AND i.uploaded = ")
                .bind(true)
                .push(" AND i.arch = ")
                .bind(arch.to_string())
                .push(")");
        }
        let mut sql = Sql::new(
            "SELECT * FROM (SELECT k.*, e.name AS entity_name, c.name AS collection_name, \
             c.private, (SELECT COUNT(*) FROM tags g WHERE g.container_id = k.id) AS tags, \
             (SELECT COUNT(*) FROM stars s WHERE s.container_id = k.id) AS stars, \
             (SELECT COUNT(*) FROM images i WHERE i.container_id = k.id AND i.uploaded = ",
        );
        sql.bind(true).push(&format!(
            ") AS images, (SELECT {} FROM images i WHERE i.container_id = k.id AND i.uploaded = ",
            sum("i.size")
        ));
        sql.bind(true)
            .push(") AS size_bytes ")
            .append(&from_where)
            .push(") t");
        let key = match query.sort {
            ContainerSort::Name => "t.entity_name",
            ContainerSort::Size => "t.size_bytes",
            ContainerSort::Downloads => "t.download_count",
            ContainerSort::Updated => "t.updated_at",
            ContainerSort::Created => "t.created_at",
            ContainerSort::Stars => "t.stars",
        };
        let ties = match query.order {
            SortOrder::Desc if query.sort == ContainerSort::Name => {
                "t.collection_name DESC, t.name DESC"
            }
            _ => "t.entity_name ASC, t.collection_name ASC, t.name ASC",
        };
        order_and_page(&mut sql, key, query.order, ties, query.page);
        let rows = ContainerRow::find_by_statement(sql.build(self.db.get_database_backend()))
            .all(&self.db)
            .await?;
        let total = self.total(&from_where).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut archs: HashMap<i64, BTreeSet<String>> = HashMap::new();
        let pairs: Vec<(i64, Option<String>)> = image::Entity::find()
            .select_only()
            .column(image::Column::ContainerId)
            .column(image::Column::Arch)
            .distinct()
            .filter(image::Column::ContainerId.is_in(ids))
            .filter(image::Column::Uploaded.eq(true))
            .into_tuple()
            .all(&self.db)
            .await?;
        for (id, arch) in pairs {
            if let Some(arch) = arch {
                archs.entry(id).or_default().insert(arch);
            }
        }
        let items = rows
            .into_iter()
            .map(|r| ContainerStats {
                archs: archs
                    .remove(&r.id)
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
                entity_name: r.entity_name,
                collection_name: r.collection_name,
                private: r.private,
                images: count(r.images),
                tags: count(r.tags),
                size_bytes: count(r.size_bytes),
                stars: count(r.stars),
                container: container::Model {
                    id: r.id,
                    collection_id: r.collection_id,
                    name: r.name,
                    description: r.description,
                    full_description: r.full_description,
                    read_only: r.read_only,
                    download_count: r.download_count,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                },
            })
            .collect();
        Ok(Listed { items, total })
    }

    /// Containers the actor may read, with their totals.
    pub async fn list_container_stats(
        &self,
        actor: &Actor,
        query: &ContainerQuery,
    ) -> Result<Listed<ContainerStats>> {
        self.container_rows(actor, query, None).await
    }

    pub(super) async fn container_stats(
        &self,
        actor: &Actor,
        path: &ContainerPath,
    ) -> Result<ContainerStats> {
        let query = ContainerQuery {
            entity: Some(path.entity.clone()),
            collection: Some(path.collection.clone()),
            ..Default::default()
        };
        let mut found = self
            .container_rows(actor, &query, Some(&path.container))
            .await?;
        found
            .items
            .pop()
            .ok_or_else(|| DomainError::not_found(format!("container {path}")))
    }
}
