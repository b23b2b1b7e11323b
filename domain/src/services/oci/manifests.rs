//! OCI manifests: validated push, get by tag or digest, delete, tag listing, the catalog and
//! the referrers API.
use sea_orm::{
    sea_query::OnConflict, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::manifest_doc::ManifestDoc;
use super::{parse_digest, OciCode, OCI_INDEX, SIF_CONFIG_MEDIA_TYPE, SIF_LAYER_MEDIA_TYPE};
use crate::entities::{collection, container, entity, oci_manifest, oci_tag, tag};
use crate::error::Result;
use crate::names::{validate_tag, ContainerPath, Sha256Hex};
use crate::policy::Actor;
use crate::services::images::upsert_tag;
use crate::services::{now, Registry};

/// What a manifest push must satisfy beyond the spec.
#[derive(Clone, Debug, Default)]
pub struct ManifestRules {
    /// Config, layer and artifact media types accepted; empty accepts all.
    pub allowed_media_types: Vec<String>,
}

/// `<tag>` or `sha256:<hex>` in a manifest URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reference {
    Tag(String),
    Digest(Sha256Hex),
}

impl Reference {
    pub fn parse(reference: &str) -> crate::Result<Self> {
        if reference.contains(':') {
            return parse_digest(reference).map(Reference::Digest);
        }
        validate_tag(reference).map_err(|e| OciCode::ManifestInvalid.err(e))?;
        Ok(Reference::Tag(reference.to_string()))
    }
}

/// A manifest as stored (or synthesized), ready to serve.
#[derive(Clone, Debug)]
pub struct StoredManifest {
    pub digest: Sha256Hex,
    pub media_type: String,
    pub content: Vec<u8>,
}

#[derive(Clone, Debug)]
pub struct PushedManifest {
    pub digest: Sha256Hex,
    pub subject: Option<Sha256Hex>,
}

pub(crate) fn sha256_of(bytes: &[u8]) -> Sha256Hex {
    Sha256Hex::parse(&hex::encode(Sha256::digest(bytes))).expect("sha256 is hex")
}

impl Registry {
    /// Stores a manifest under a tag or its digest after checking it: JSON, a supported
    /// media type matching the declared one, every referenced blob or manifest present in
    /// the repository, media types allowed by `rules`.
    pub async fn oci_put_manifest(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        reference: &Reference,
        content_type: Option<&str>,
        body: &[u8],
        rules: &ManifestRules,
    ) -> Result<PushedManifest> {
        let repo = self.oci_repo_for_write(actor, path).await?;
        let ManifestDoc {
            digest,
            media_type,
            artifact_type,
            blobs,
            layers,
            children,
            subject,
            content,
        } = ManifestDoc::parse(body, content_type, reference)?;
        let allowed = |mt: &str| {
            rules.allowed_media_types.is_empty()
                || mt == SIF_CONFIG_MEDIA_TYPE
                || mt == SIF_LAYER_MEDIA_TYPE
                || rules.allowed_media_types.iter().any(|a| a == mt)
        };
        let id = repo.container.id;
        for (mt, d) in &blobs {
            if !allowed(mt) {
                return Err(OciCode::Unsupported.err(format!("media type {mt:?}")));
            }
            if self.oci_blob_in_repo(id, d).await?.is_none() {
                return Err(OciCode::ManifestBlobUnknown.err(format!("sha256:{d}")));
            }
        }
        for d in &children {
            if self.find_manifest(id, d).await?.is_none() {
                return Err(OciCode::ManifestBlobUnknown.err(format!("sha256:{d}")));
            }
        }
        if let Some(at) = artifact_type.as_deref().filter(|at| !allowed(at)) {
            return Err(OciCode::Unsupported.err(format!("artifact type {at:?}")));
        }
        // A SIF artifact is also a library image and tag (checked first: a layer that is
        // not a SIF image refuses the whole manifest).
        let mut library_tag = None;
        if artifact_type.as_deref() == Some(SIF_CONFIG_MEDIA_TYPE) {
            if let [(mt, sif, size)] = layers.as_slice() {
                if mt == SIF_LAYER_MEDIA_TYPE {
                    let tag = match reference {
                        Reference::Tag(t) => Some(t.as_str()),
                        Reference::Digest(_) => None,
                    };
                    library_tag = self.publish_sif(actor, &repo, sif, *size, tag).await?;
                }
            }
        }
        // Upserts, so that concurrent pushes of the same manifest or to the same tag cannot
        // both insert: the last tag write to commit wins, as if they had run in turn.
        let txn = self.db.begin().await?;
        oci_manifest::Entity::insert(oci_manifest::ActiveModel {
            container_id: Set(id),
            digest: Set(digest.to_string()),
            media_type: Set(media_type.clone()),
            artifact_type: Set(artifact_type.clone()),
            subject_digest: Set(subject.as_ref().map(ToString::to_string)),
            content: Set(content),
            size: Set(body.len() as i64),
            created_at: Set(now()),
            ..Default::default()
        })
        .on_conflict_do_nothing_on([
            oci_manifest::Column::ContainerId,
            oci_manifest::Column::Digest,
        ])
        .exec_without_returning(&txn)
        .await?;
        if let Reference::Tag(name) = reference {
            oci_tag::Entity::insert(oci_tag::ActiveModel {
                container_id: Set(id),
                name: Set(name.clone()),
                manifest_digest: Set(digest.to_string()),
                updated_at: Set(now()),
                ..Default::default()
            })
            .on_conflict(
                OnConflict::columns([oci_tag::Column::ContainerId, oci_tag::Column::Name])
                    .update_columns([oci_tag::Column::ManifestDigest, oci_tag::Column::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
            if let Some((image_id, arch)) = &library_tag {
                upsert_tag(&txn, id, arch, name, *image_id).await?;
            }
        }
        txn.commit().await?;
        Ok(PushedManifest { digest, subject })
    }

    async fn find_manifest(
        &self,
        container_id: i64,
        digest: &Sha256Hex,
    ) -> Result<Option<oci_manifest::Model>> {
        Ok(oci_manifest::Entity::find()
            .filter(oci_manifest::Column::ContainerId.eq(container_id))
            .filter(oci_manifest::Column::Digest.eq(digest.as_str()))
            .one(&self.db)
            .await?)
    }

    /// A manifest by tag or digest; library tags without an OCI manifest are served as
    /// synthesized SIF artifact manifests.
    pub async fn oci_get_manifest(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        reference: &Reference,
    ) -> Result<StoredManifest> {
        let repo = self.oci_repo(actor, path).await?;
        let id = repo.container.id;
        let unknown = || OciCode::ManifestUnknown.err(format!("{path} {reference:?}"));
        let digest = match reference {
            Reference::Digest(d) => d.clone(),
            Reference::Tag(name) => {
                let found = oci_tag::Entity::find()
                    .filter(oci_tag::Column::ContainerId.eq(id))
                    .filter(oci_tag::Column::Name.eq(name.as_str()))
                    .one(&self.db)
                    .await?;
                match found {
                    Some(t) => Sha256Hex::parse(&t.manifest_digest)?,
                    None => {
                        return self
                            .synthesized_by_tag(&repo, name)
                            .await?
                            .ok_or_else(unknown)
                    }
                }
            }
        };
        match self.find_manifest(id, &digest).await? {
            Some(m) => Ok(StoredManifest {
                digest,
                media_type: m.media_type,
                content: m.content.into_bytes(),
            }),
            None => self
                .synthesized_by_digest(&repo, &digest)
                .await?
                .ok_or_else(unknown),
        }
    }

    /// Deletes a manifest by digest (and the tags naming it), or just a tag.
    pub async fn oci_delete_manifest(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        reference: &Reference,
    ) -> Result<()> {
        let repo = self.oci_repo(actor, path).await?;
        actor.require_manage(&repo.entity, &repo.collection)?;
        let id = repo.container.id;
        let unknown = || OciCode::ManifestUnknown.err(format!("{path} {reference:?}"));
        let txn = self.db.begin().await?;
        let affected = match reference {
            Reference::Tag(name) => {
                oci_tag::Entity::delete_many()
                    .filter(oci_tag::Column::ContainerId.eq(id))
                    .filter(oci_tag::Column::Name.eq(name.as_str()))
                    .exec(&txn)
                    .await?
                    .rows_affected
            }
            Reference::Digest(d) => {
                oci_tag::Entity::delete_many()
                    .filter(oci_tag::Column::ContainerId.eq(id))
                    .filter(oci_tag::Column::ManifestDigest.eq(d.as_str()))
                    .exec(&txn)
                    .await?;
                oci_manifest::Entity::delete_many()
                    .filter(oci_manifest::Column::ContainerId.eq(id))
                    .filter(oci_manifest::Column::Digest.eq(d.as_str()))
                    .exec(&txn)
                    .await?
                    .rows_affected
            }
        };
        txn.commit().await?;
        if affected == 0 {
            return Err(unknown());
        }
        Ok(())
    }

    /// Tag names (OCI and library tags) in lexical order, after `last`, at most `n`;
    /// the flag says whether more follow.
    pub async fn oci_tags(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        n: Option<usize>,
        last: Option<&str>,
    ) -> Result<(Vec<String>, bool)> {
        let repo = self.oci_repo(actor, path).await?;
        let mut names: Vec<String> = oci_tag::Entity::find()
            .filter(oci_tag::Column::ContainerId.eq(repo.container.id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|t| t.name)
            .collect();
        let library = tag::Entity::find()
            .filter(tag::Column::ContainerId.eq(repo.container.id))
            .all(&self.db)
            .await?;
        names.extend(library.into_iter().map(|t| t.name));
        Ok(paginate(names, n, last))
    }

    /// Repositories (containers) the actor may read, in lexical order.
    pub async fn oci_catalog(
        &self,
        actor: &Actor,
        n: Option<usize>,
        last: Option<&str>,
    ) -> Result<(Vec<String>, bool)> {
        let entities = entity::Entity::find().all(&self.db).await?;
        let collections = collection::Entity::find().all(&self.db).await?;
        let containers = container::Entity::find().all(&self.db).await?;
        let mut names = Vec::new();
        for c in &containers {
            let Some(coll) = collections.iter().find(|x| x.id == c.collection_id) else {
                continue;
            };
            let Some(ent) = entities.iter().find(|x| x.id == coll.entity_id) else {
                continue;
            };
            if actor.can_read(ent, coll) {
                names.push(format!("{}/{}/{}", ent.name, coll.name, c.name));
            }
        }
        Ok(paginate(names, n, last))
    }

    /// The referrers of `subject` as an OCI image index, optionally only those of one
    /// artifact type.
    pub async fn oci_referrers(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        subject: &Sha256Hex,
        artifact_type: Option<&str>,
    ) -> Result<Value> {
        let repo = self.oci_repo(actor, path).await?;
        let mut query = oci_manifest::Entity::find()
            .filter(oci_manifest::Column::ContainerId.eq(repo.container.id))
            .filter(oci_manifest::Column::SubjectDigest.eq(subject.as_str()));
        if let Some(at) = artifact_type {
            query = query.filter(oci_manifest::Column::ArtifactType.eq(at));
        }
        let found = query
            .order_by_asc(oci_manifest::Column::Id)
            .all(&self.db)
            .await?;
        let manifests: Vec<Value> = found
            .iter()
            .map(|m| {
                let doc: Value = serde_json::from_str(&m.content).unwrap_or(Value::Null);
                let mut d = json!({
                    "mediaType": m.media_type,
                    "digest": format!("sha256:{}", m.digest),
                    "size": m.size,
                });
                if let Some(at) = &m.artifact_type {
                    d["artifactType"] = json!(at);
                }
                if doc["annotations"].is_object() {
                    d["annotations"] = doc["annotations"].clone();
                }
                d
            })
            .collect();
        Ok(json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}))
    }
}

/// Sorted, de-duplicated names after `last`, at most `n`; and whether more follow.
fn paginate(mut names: Vec<String>, n: Option<usize>, last: Option<&str>) -> (Vec<String>, bool) {
    names.sort();
    names.dedup();
    if let Some(last) = last {
        names.retain(|name| name.as_str() > last);
    }
    match n {
        Some(n) if names.len() > n => {
            names.truncate(n);
            (names, true)
        }
        _ => (names, false),
    }
}
