//! A container's images (with tags and downloads) and a container's detail.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect};

use super::lists::{given, order_and_page};
use super::sql::Sql;
use super::*;
use crate::entities::{image, image_metadata, tag};
use crate::names::ContainerPath;
use crate::policy::Actor;
use crate::services::Registry;

#[derive(FromQueryResult)]
struct ImageRow {
    id: i64,
    container_id: i64,
    sha256: String,
    size: i64,
    arch: Option<String>,
    uploaded: bool,
    description: String,
    signed: Option<bool>,
    encrypted: Option<bool>,
    created_by: Option<i64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    downloads: i64,
}

impl Registry {
    /// A container the actor may read, with its tags and newest images.
    pub async fn container_detail(
        &self,
        actor: &Actor,
        path: &ContainerPath,
    ) -> Result<ContainerDetail> {
        let stats = self.container_stats(actor, path).await?;
        let tags = tag::Entity::find()
            .filter(tag::Column::ContainerId.eq(stats.container.id))
            .order_by_asc(tag::Column::Arch)
            .order_by_asc(tag::Column::Name)
            .all(&self.db)
            .await?;
        let targets: HashMap<i64, (String, i64)> = image::Entity::find()
            .select_only()
            .column(image::Column::Id)
            .column(image::Column::Sha256)
            .column(image::Column::Size)
            .filter(image::Column::ContainerId.eq(stats.container.id))
            .into_tuple::<(i64, String, i64)>()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|(id, sha, size)| (id, (sha, size)))
            .collect();
        let tags = tags
            .into_iter()
            .filter_map(|tag| {
                let (sha256, size) = targets.get(&tag.image_id)?.clone();
                Some(TagTarget { tag, sha256, size })
            })
            .collect();
        let query = ImageQuery {
            order: SortOrder::Desc,
            page: PageRequest::new(Some(1), Some(DETAIL_IMAGES))?,
            ..Default::default()
        };
        let images = self.image_rows(stats.container.id, &query).await?.items;
        Ok(ContainerDetail {
            stats,
            tags,
            images,
        })
    }

    /// The images of a container the actor may read.
    pub async fn list_image_stats(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        query: &ImageQuery,
    ) -> Result<Listed<ImageStats>> {
        let view = self.container(actor, path).await?;
        self.image_rows(view.container.id, query).await
    }

    /// Images of a container (the caller has checked access).
    async fn image_rows(
        &self,
        container_id: i64,
        query: &ImageQuery,
    ) -> Result<Listed<ImageStats>> {
        let mut from_where = Sql::new("FROM images i WHERE i.container_id = ");
        from_where.bind(container_id);
        if let Some(arch) = given(&query.arch) {
            from_where.push(" AND i.arch = ").bind(arch.to_string());
        }
        if let Some(uploaded) = query.uploaded {
            from_where.push(" AND i.uploaded = ").bind(uploaded);
        }
        let mut sql = Sql::new(
            "SELECT * FROM (SELECT i.*, (SELECT COUNT(*) FROM download_events d \
             WHERE d.container_id = i.container_id AND d.image_id = i.id) AS downloads ",
        );
        sql.append(&from_where).push(") t");
        let key = match query.sort {
            ImageSort::Created => "t.created_at",
            ImageSort::Size => "t.size",
            ImageSort::Downloads => "t.downloads",
        };
        let ties = match query.order {
            SortOrder::Asc => "t.id ASC",
            SortOrder::Desc => "t.id DESC",
        };
        order_and_page(&mut sql, key, query.order, ties, query.page);
        let rows = ImageRow::find_by_statement(sql.build(self.db.get_database_backend()))
            .all(&self.db)
            .await?;
        let total = self.total(&from_where).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        // What SIF inspection recorded: build time (the SIF header's creation time) and labels.
        let mut sif: HashMap<i64, image_metadata::Model> = image_metadata::Entity::find()
            .filter(image_metadata::Column::ImageId.is_in(ids.clone()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| (m.image_id, m))
            .collect();
        let mut tags: HashMap<i64, Vec<tag::Model>> = HashMap::new();
        for t in tag::Entity::find()
            .filter(tag::Column::ImageId.is_in(ids))
            .order_by_asc(tag::Column::Arch)
            .order_by_asc(tag::Column::Name)
            .all(&self.db)
            .await?
        {
            tags.entry(t.image_id).or_default().push(t);
        }
        let items = rows
            .into_iter()
            .map(|r| ImageStats {
                tags: tags.remove(&r.id).unwrap_or_default(),
                downloads: count(r.downloads),
                build_time: sif.get(&r.id).and_then(|m| m.sif_created_at),
                labels: sif
                    .remove(&r.id)
                    .map(|m| serde_json::from_str(&m.labels).unwrap_or_default()),
                image: image::Model {
                    id: r.id,
                    container_id: r.container_id,
                    sha256: r.sha256,
                    size: r.size,
                    arch: r.arch,
                    uploaded: r.uploaded,
                    description: r.description,
                    signed: r.signed,
                    encrypted: r.encrypted,
                    created_by: r.created_by,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                },
            })
            .collect();
        Ok(Listed { items, total })
    }
}
