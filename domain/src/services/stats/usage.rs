//! Usage over time (downloads, pushes, storage growth per UTC day) and registry totals.
use std::collections::HashMap;

use sea_orm::FromQueryResult;

use super::sql::{day_of, sum, Sql};
use super::*;
use crate::names::ContainerPath;
use crate::policy::Actor;
use crate::services::Registry;

#[derive(FromQueryResult)]
struct DayCount {
    day: String,
    n: i64,
    bytes: i64,
}

#[derive(FromQueryResult)]
struct Totals {
    entities: i64,
    collections: i64,
    containers: i64,
    images: i64,
    tags: i64,
    size_bytes: i64,
    downloads: i64,
    container_stars: i64,
    collection_stars: i64,
}

/// Joins from a container `k` to its collection `c`, narrowed to what `actor` may read.
fn readable_containers(actor: &Actor) -> Sql {
    let mut sql = Sql::new(" JOIN collections c ON c.id = k.collection_id WHERE ");
    sql.readable(&actor.read_scope(), "c");
    sql
}

fn in_range(sql: &mut Sql, column: &str, range: &DayRange) {
    sql.push(&format!(" AND {column} >= "))
        .bind(range.start())
        .push(&format!(" AND {column} < "))
        .bind(range.end_exclusive());
}

impl Registry {
    async fn per_day(&self, sql: Sql) -> Result<HashMap<NaiveDate, (u64, u64)>> {
        let rows = DayCount::find_by_statement(sql.build(self.db.get_database_backend()))
            .all(&self.db)
            .await?;
        let mut days = HashMap::new();
        for row in rows {
            let date = NaiveDate::parse_from_str(&row.day, "%Y-%m-%d").map_err(|e| {
                DomainError::Storage(format!("unexpected day {:?} from database: {e}", row.day))
            })?;
            days.insert(date, (count(row.n), count(row.bytes)));
        }
        Ok(days)
    }

    /// Downloads of a container the actor may read, per UTC day of `range`.
    pub async fn container_usage(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        range: &DayRange,
    ) -> Result<Vec<DayDownloads>> {
        let view = self.container(actor, path).await?;
        let backend = self.db.get_database_backend();
        let mut sql = Sql::new(&format!(
            "SELECT {} AS day, COUNT(*) AS n, CAST(0 AS BIGINT) AS bytes FROM download_events d \
             WHERE d.container_id = ",
            day_of(backend, "d.created_at")
        ));
        sql.bind(view.container.id);
        in_range(&mut sql, "d.created_at", range);
        sql.push(" GROUP BY 1 ORDER BY 1");
        let days = self.per_day(sql).await?;
        Ok(range
            .days()
            .map(|date| DayDownloads {
                date,
                downloads: days.get(&date).map_or(0, |d| d.0),
            })
            .collect())
    }

    /// Registry-wide downloads, pushes and stored bytes per UTC day of `range`, over the
    /// collections the actor may read.
    pub async fn registry_usage(&self, actor: &Actor, range: &DayRange) -> Result<Vec<DayUsage>> {
        self.usage_per_day(actor, None, range).await
    }

    /// Downloads, pushes and stored bytes per UTC day of `range` for one collection the actor
    /// may read (private collections look absent to everyone else).
    pub async fn collection_usage(
        &self,
        actor: &Actor,
        entity: &str,
        collection: &str,
        range: &DayRange,
    ) -> Result<Vec<DayUsage>> {
        let (_, collection) = self.collection(actor, entity, collection).await?;
        self.usage_per_day(actor, Some(collection.id), range).await
    }

    /// Usage per day over the readable collections, or over one of them (`collection_id`).
    async fn usage_per_day(
        &self,
        actor: &Actor,
        collection_id: Option<i64>,
        range: &DayRange,
    ) -> Result<Vec<DayUsage>> {
        let backend = self.db.get_database_backend();
        let mut scope = readable_containers(actor);
        if let Some(id) = collection_id {
            scope.push(" AND c.id = ").bind(id);
        }
        let mut downloads = Sql::new(&format!(
            "SELECT {} AS day, COUNT(*) AS n, CAST(0 AS BIGINT) AS bytes FROM download_events d \
             JOIN containers k ON k.id = d.container_id",
            day_of(backend, "d.created_at")
        ));
        downloads.append(&scope);
        in_range(&mut downloads, "d.created_at", range);
        downloads.push(" GROUP BY 1 ORDER BY 1");
        let downloads = self.per_day(downloads).await?;

        let images_from = {
            let mut sql = Sql::new(" FROM images i JOIN containers k ON k.id = i.container_id");
            sql.append(&scope).push(" AND i.uploaded = ").bind(true);
            sql
        };
        let mut pushes = Sql::new(&format!(
            "SELECT {} AS day, COUNT(*) AS n, {} AS bytes",
            day_of(backend, "i.created_at"),
            sum("i.size")
        ));
        pushes.append(&images_from);
        in_range(&mut pushes, "i.created_at", range);
        pushes.push(" GROUP BY 1 ORDER BY 1");
        let pushes = self.per_day(pushes).await?;

        let mut before = Sql::new(&format!(
            "SELECT '' AS day, CAST(0 AS BIGINT) AS n, {} AS bytes",
            sum("i.size")
        ));
        before
            .append(&images_from)
            .push(" AND i.created_at < ")
            .bind(range.start());
        let mut total = self.per_day_baseline(before).await?;
        Ok(range
            .days()
            .map(|date| {
                let (pushed, added) = pushes.get(&date).copied().unwrap_or_default();
                total += added;
                DayUsage {
                    date,
                    downloads: downloads.get(&date).map_or(0, |d| d.0),
                    pushes: pushed,
                    bytes_added: added,
                    bytes_total: total,
                }
            })
            .collect())
    }

    async fn per_day_baseline(&self, sql: Sql) -> Result<u64> {
        let row = DayCount::find_by_statement(sql.build(self.db.get_database_backend()))
            .one(&self.db)
            .await?;
        Ok(row.map_or(0, |r| count(r.bytes)))
    }

    /// Totals over everything the actor may read.
    pub async fn registry_stats(&self, actor: &Actor) -> Result<RegistryStats> {
        let scope = actor.read_scope();
        let mut sql = Sql::new("SELECT (SELECT COUNT(*) FROM entities) AS entities, ");
        sql.push("(SELECT COUNT(*) FROM collections c WHERE ")
            .readable(&scope, "c")
            .push(") AS collections, (SELECT COUNT(*) FROM containers k")
            .append(&readable_containers(actor))
            .push(&format!(
                ") AS containers, (SELECT {} FROM containers k",
                sum("k.download_count")
            ))
            .append(&readable_containers(actor))
            .push(") AS downloads, (SELECT COUNT(*) FROM tags g JOIN containers k ON k.id = g.container_id")
            .append(&readable_containers(actor))
            .push(") AS tags, (SELECT COUNT(*) FROM images i JOIN containers k ON k.id = i.container_id")
            .append(&readable_containers(actor))
            .push(" AND i.uploaded = ")
            .bind(true)
            .push(&format!(
                ") AS images, (SELECT {} FROM images i JOIN containers k ON k.id = i.container_id",
                sum("i.size")
            ))
            .append(&readable_containers(actor))
            .push(" AND i.uploaded = ")
            .bind(true)
            .push(") AS size_bytes, (SELECT COUNT(*) FROM stars s JOIN containers k ON k.id = s.container_id")
            .append(&readable_containers(actor))
            .push(") AS container_stars, (SELECT COUNT(*) FROM stars s JOIN collections c ON c.id = s.collection_id WHERE ")
            .readable(&scope, "c")
            .push(") AS collection_stars");
        let row = Totals::find_by_statement(sql.build(self.db.get_database_backend()))
            .one(&self.db)
            .await?
            .ok_or_else(|| DomainError::Storage("totals query returned no row".into()))?;
        Ok(RegistryStats {
            entities: count(row.entities),
            collections: count(row.collections),
            containers: count(row.containers),
            images: count(row.images),
            tags: count(row.tags),
            size_bytes: count(row.size_bytes),
            downloads: count(row.downloads),
            stars: count(row.container_stars) + count(row.collection_stars),
        })
    }
}
