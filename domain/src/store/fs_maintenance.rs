//! Listing the filesystem store for garbage collection and `silo fsck`: committed blobs
//! under `sha256/`, and files in `tmp/` not written to for a while.
use std::path::Path;

use super::FsBlobStore;
use crate::names::Sha256Hex;
use crate::store::{ListedBlob, StoreError, Temporary};

impl FsBlobStore {
    pub(super) async fn listed_blobs(&self) -> Result<Vec<ListedBlob>, StoreError> {
        let mut blobs = Vec::new();
        let mut fans = tokio::fs::read_dir(self.root().join("sha256")).await?;
        while let Some(fan) = fans.next_entry().await? {
            if !fan.file_type().await?.is_dir() {
                continue;
            }
            let mut files = tokio::fs::read_dir(fan.path()).await?;
            while let Some(file) = files.next_entry().await? {
                let name = file.file_name();
                let Ok(sha256) = Sha256Hex::parse(&name.to_string_lossy()) else {
                    continue;
                };
                let metadata = file.metadata().await?;
                if metadata.is_file() {
                    blobs.push(ListedBlob {
                        sha256,
                        size: metadata.len(),
                    });
                }
            }
        }
        blobs.sort_by(|a, b| a.sha256.as_str().cmp(b.sha256.as_str()));
        Ok(blobs)
    }

    /// Files of `tmp/` last modified more than `idle` ago. Multipart files
    /// (`mp-<upload id>.…`) name their upload.
    pub(super) async fn idle_temporaries(
        &self,
        idle: std::time::Duration,
    ) -> Result<Vec<Temporary>, StoreError> {
        let mut found = Vec::new();
        let mut entries = tokio::fs::read_dir(self.root().join("tmp")).await?;
        while let Some(entry) = entries.next_entry().await? {
            let Ok(metadata) = entry.metadata().await else {
                continue; // removed meanwhile
            };
            let idle_long_enough = metadata
                .modified()
                .ok()
                .and_then(|m| m.elapsed().ok())
                .is_some_and(|age| age > idle);
            if !metadata.is_file() || !idle_long_enough {
                continue;
            }
            let name = entry.file_name().to_string_lossy().to_string();
            let upload_id = name
                .strip_prefix("mp-")
                .and_then(|rest| rest.split('.').next())
                .map(str::to_string);
            found.push(Temporary {
                name: format!("tmp/{name}"),
                size: metadata.len(),
                upload_id,
            });
        }
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }

    pub(super) async fn remove_temporary_file(
        &self,
        temporary: &Temporary,
    ) -> Result<(), StoreError> {
        let file = temporary
            .name
            .strip_prefix("tmp/")
            .filter(|f| !f.is_empty() && Path::new(f).file_name() == Some(std::ffi::OsStr::new(f)))
            .filter(|f| !f.starts_with('.'))
            .ok_or(StoreError::NotFound)?;
        match tokio::fs::remove_file(self.root().join("tmp").join(file)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
