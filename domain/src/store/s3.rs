//! The S3-compatible blob store (AWS S3, MinIO, Ceph RGW, Garage, s3s-fs, …).
//!
//! # Object layout, version 1
//!
//! ```text
//! <prefix>LAYOUT                        "silo-blob-layout 1"; refused if it names another
//! <prefix>blobs/sha256/<aa>/<hex>       committed blobs, named by their sha256; immutable
//! <prefix>uploads/<id>/state            an upload in progress: {"mode":"parts","upload":…}
//!                                       (a native S3 multipart upload) or {"mode":"append"}
//! <prefix>uploads/<id>/assembled        target of the native multipart upload
//! <prefix>uploads/<id>/etag-<nnnnn>     the store's ETag of each part Silo passed on
//! <prefix>uploads/<id>/chunk-<offset>   appended chunks (OCI chunked uploads), offset in
//!                                       20 digits so that key order is byte order
//! <prefix>uploads/put-<random>/data     a write whose digest is learnt only at its end
//! ```
//!
//! Nothing under `blobs/` is ever written before its bytes were verified: a write whose
//! digest is known goes to its final key as a native multipart upload that is completed only
//! after the last byte hashed correctly (an incomplete multipart upload is invisible), and a
//! write whose digest is unknown, or whose parts went straight from the client to the store,
//! is staged under `uploads/`, read back and hashed, and copied into place server-side. All
//! state lives in the bucket (and the upload sessions in the database), so any replica can
//! continue any upload.
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::{StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::digest_of;
use super::s3_requests::{S3Client, MAX_COPY_SIZE};
pub use super::s3_settings::S3Settings;
use super::{
    BlobReader, BlobStore, ByteRange, ByteStream, Expected, StoreError, StoredBlob, UploadId,
};
use crate::names::Sha256Hex;
use uploads::UploadState;

const LAYOUT: &str = "silo-blob-layout 1\n";

pub struct S3BlobStore {
    client: Arc<S3Client>,
    prefix: String,
    part_size: usize,
    presign_ttl: Duration,
    redirect_downloads: bool,
    direct_uploads: bool,
}

/// Reads a whole stream, hashing it, and checks it against `expected` (nothing is stored).
async fn hash_stream(
    mut data: ByteStream,
    expected: &Expected,
) -> Result<(Sha256Hex, u64), StoreError> {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = data.next().await {
        let chunk = chunk.map_err(StoreError::Interrupted)?;
        size += chunk.len() as u64;
        expected.check_running_size(size)?;
        hasher.update(&chunk);
    }
    let sha = digest_of(hasher);
    expected.check_complete(&sha, size)?;
    Ok((sha, size))
}

impl S3BlobStore {
    /// Connects to the bucket, checks (or writes) its layout version.
    pub async fn open(settings: &S3Settings) -> Result<Self, StoreError> {
        if let Some(problem) = settings.problems().into_iter().next() {
            return Err(StoreError::Io(std::io::Error::other(problem)));
        }
        let client = S3Client::new(
            &settings.endpoint,
            settings
                .public_endpoint
                .as_deref()
                .filter(|e| !e.is_empty()),
            &settings.bucket,
            &settings.region,
            settings.path_style,
            rusty_s3::Credentials::new(&settings.access_key, &settings.secret_key),
        )?;
        let store = S3BlobStore {
            client: Arc::new(client),
            prefix: settings.prefix.clone(),
            part_size: (settings.part_size_mib * 1024 * 1024) as usize,
            presign_ttl: Duration::from_secs(settings.presign_seconds),
            redirect_downloads: settings.redirect_downloads,
            direct_uploads: settings.direct_uploads,
        };
        store.check_layout().await?;
        Ok(store)
    }

    async fn check_layout(&self) -> Result<(), StoreError> {
        let key = format!("{}LAYOUT", self.prefix);
        match self.client.get(&key, None).await {
            Ok(stream) => {
                let found: Vec<Bytes> = stream.try_collect().await?;
                let found = String::from_utf8_lossy(&found.concat()).to_string();
                if found != LAYOUT {
                    return Err(StoreError::Io(std::io::Error::other(format!(
                        "bucket has layout {:?}, this silo understands {:?}",
                        found.trim(),
                        LAYOUT.trim()
                    ))));
                }
                Ok(())
            }
            Err(StoreError::NotFound) => {
                self.client
                    .put(&key, Bytes::from_static(LAYOUT.as_bytes()))
                    .await
            }
            Err(e) => Err(e),
        }
    }

    fn blob_key(&self, sha256: &Sha256Hex) -> String {
        let hex = sha256.as_str();
        format!("{}blobs/sha256/{}/{hex}", self.prefix, &hex[..2])
    }

    /// Streams `data` into `key`, hashing it; the object appears only once the bytes
    /// matched `expected` (one `PUT` for small writes, a native multipart upload otherwise,
    /// aborted on any failure).
    async fn write_object(
        &self,
        key: &str,
        mut data: ByteStream,
        expected: &Expected,
    ) -> Result<(Sha256Hex, u64), StoreError> {
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut buffer = BytesMut::new();
        let mut upload: Option<(String, Vec<String>)> = None;
        let outcome: Result<Sha256Hex, StoreError> = async {
            while let Some(chunk) = data.next().await {
                let chunk = chunk.map_err(StoreError::Interrupted)?;
                size += chunk.len() as u64;
                expected.check_running_size(size)?;
                hasher.update(&chunk);
                buffer.extend_from_slice(&chunk);
                while buffer.len() >= self.part_size {
                    let part = buffer.split_to(self.part_size).freeze();
                    self.send_part(key, &mut upload, part).await?;
                }
            }
            let sha = digest_of(hasher);
            expected.check_complete(&sha, size)?;
            crate::fault::point("store-commit");
            match &upload {
                None => self.client.put(key, buffer.split().freeze()).await?,
                Some(_) => {
                    if !buffer.is_empty() {
                        let last = buffer.split().freeze();
                        self.send_part(key, &mut upload, last).await?;
                    }
                    let (id, etags) = upload.as_ref().expect("the upload was started");
                    self.client.complete_multipart(key, id, etags).await?;
                }
            }
            Ok(sha)
        }
        .await;
        match outcome {
            Ok(sha) => Ok((sha, size)),
            Err(e) => {
                if let Some((id, _)) = &upload {
                    let _ = self.client.abort_multipart(key, id).await;
                }
                Err(e)
            }
        }
    }

    async fn send_part(
        &self,
        key: &str,
        upload: &mut Option<(String, Vec<String>)>,
        part: Bytes,
    ) -> Result<(), StoreError> {
        if upload.is_none() {
            *upload = Some((self.client.create_multipart(key).await?, Vec::new()));
        }
        let (id, etags) = upload.as_mut().expect("just started");
        let number = u16::try_from(etags.len() + 1)
            .ok()
            .filter(|n| *n <= 10_000)
            .ok_or_else(|| std::io::Error::other("more than 10,000 parts: raise part_size_mib"))?;
        let len = part.len() as u64;
        let sha = hex::encode(Sha256::digest(&part));
        let etag = self
            .client
            .upload_part(key, id, number, reqwest::Body::from(part), len, Some(&sha))
            .await?;
        etags.push(etag);
        Ok(())
    }

    /// Copies the verified object at `staged` to the blob `sha256` unless it is already
    /// stored; the staged object is left for the caller to delete.
    async fn commit_staged(
        &self,
        staged: &str,
        sha256: Sha256Hex,
        size: u64,
    ) -> Result<StoredBlob, StoreError> {
        let key = self.blob_key(&sha256);
        let newly_stored = self.client.head(&key).await?.is_none();
        if newly_stored {
            if size <= MAX_COPY_SIZE {
                crate::fault::point("store-commit");
                self.client.copy(staged, &key).await?;
            } else {
                let expected = Expected {
                    sha256: Some(sha256.clone()),
                    size: Some(size),
                };
                let data = self.client.get(staged, None).await?;
                self.write_object(&key, data, &expected).await?;
            }
        }
        Ok(StoredBlob {
            sha256,
            size,
            newly_stored,
        })
    }

    /// Verifies the staged object against `expected` by reading it back, then commits it.
    async fn verify_and_commit(
        &self,
        staged: &str,
        expected: &Expected,
    ) -> Result<StoredBlob, StoreError> {
        let data = self.client.get(staged, None).await?;
        let (sha, size) = hash_stream(data, expected).await?;
        self.commit_staged(staged, sha, size).await
    }

    async fn complete_parts(
        &self,
        upload_id: &UploadId,
        s3_upload: &str,
        etags: &[String],
        expected: &Expected,
    ) -> Result<StoredBlob, StoreError> {
        let assembled = self.upload_key(upload_id, "assembled");
        if etags.is_empty() {
            return Err(StoreError::SizeMismatch {
                expected: expected.size.unwrap_or(0),
                actual: 0,
            });
        }
        self.client
            .complete_multipart(&assembled, s3_upload, etags)
            .await?;
        self.verify_and_commit(&assembled, expected).await
    }

    async fn finish(
        &self,
        upload_id: &UploadId,
        etags: Option<Vec<String>>,
        expected: &Expected,
    ) -> Result<StoredBlob, StoreError> {
        let outcome = match self.load_state(upload_id).await? {
            UploadState::Parts { upload } => {
                let etags = match etags {
                    Some(given) => given,
                    None => self.recorded_etags(upload_id).await?,
                };
                let done = self
                    .complete_parts(upload_id, &upload, &etags, expected)
                    .await;
                // Nothing to abort once assembled (stores answer that differently); an
                // upload that failed before is aborted, and its staged objects go below.
                let assembled = self.upload_key(upload_id, "assembled");
                let _ = self.client.abort_multipart(&assembled, &upload).await;
                self.delete_upload_objects(upload_id).await?;
                return done;
            }
            UploadState::Append => {
                let (keys, _) = self.chunks(upload_id).await?;
                let client = Arc::clone(&self.client);
                let joined: ByteStream =
                    Box::pin(
                        futures::stream::iter(keys)
                            .then(move |key| {
                                let client = Arc::clone(&client);
                                async move {
                                    client.get(&key, None).await.map_err(std::io::Error::other)
                                }
                            })
                            .try_flatten(),
                    );
                self.put(joined, expected).await
            }
        };
        self.abort_multipart(upload_id).await?;
        outcome
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put(&self, data: ByteStream, expected: &Expected) -> Result<StoredBlob, StoreError> {
        if let Some(sha) = &expected.sha256 {
            let key = self.blob_key(sha);
            if self.client.head(&key).await?.is_some() {
                // Already stored: the bytes are still checked, then dropped.
                let (sha256, size) = hash_stream(data, expected).await?;
                return Ok(StoredBlob {
                    sha256,
                    size,
                    newly_stored: false,
                });
            }
            let (sha256, size) = self.write_object(&key, data, expected).await?;
            return Ok(StoredBlob {
                sha256,
                size,
                newly_stored: true,
            });
        }
        let staged = format!(
            "{}uploads/put-{}/data",
            self.prefix,
            hex::encode(rand::random::<[u8; 16]>())
        );
        let (sha, size) = self.write_object(&staged, data, expected).await?;
        let committed = self.commit_staged(&staged, sha, size).await;
        let _ = self.client.delete(&staged).await;
        committed
    }

    async fn open(
        &self,
        sha256: &Sha256Hex,
        range: Option<ByteRange>,
    ) -> Result<BlobReader, StoreError> {
        let key = self.blob_key(sha256);
        let total_size = self.client.head(&key).await?.ok_or(StoreError::NotFound)?;
        let resolved = match range {
            None => None,
            Some(r) => Some(
                r.resolve(total_size)
                    .ok_or(StoreError::RangeNotSatisfiable { size: total_size })?,
            ),
        };
        let stream = if total_size == 0 {
            Box::pin(futures::stream::empty()) as ByteStream
        } else {
            self.client.get(&key, resolved).await?
        };
        Ok(BlobReader {
            stream,
            total_size,
            range: resolved,
        })
    }

    async fn size(&self, sha256: &Sha256Hex) -> Result<Option<u64>, StoreError> {
        self.client.head(&self.blob_key(sha256)).await
    }

    async fn delete(&self, sha256: &Sha256Hex) -> Result<(), StoreError> {
        self.client.delete(&self.blob_key(sha256)).await
    }

    /// One `HEAD` of the layout object written at start-up: the endpoint answers, the
    /// bucket exists and the credentials are accepted.
    async fn check(&self) -> Result<(), StoreError> {
        match self.client.head(&format!("{}LAYOUT", self.prefix)).await? {
            Some(_) => Ok(()),
            None => Err(StoreError::Io(std::io::Error::other(
                "the bucket's LAYOUT object is missing",
            ))),
        }
    }

    async fn list_blobs(&self) -> Result<Vec<super::ListedBlob>, StoreError> {
        self.listed_blobs().await
    }

    async fn abandoned_temporaries(
        &self,
        idle: std::time::Duration,
    ) -> Result<Vec<super::Temporary>, StoreError> {
        self.idle_uploads(idle).await
    }

    async fn remove_temporary(&self, temporary: &super::Temporary) -> Result<(), StoreError> {
        self.remove_upload(temporary).await
    }

    async fn begin_multipart(&self, upload_id: &UploadId, size: u64) -> Result<(), StoreError> {
        let state = if size == 0 {
            UploadState::Append
        } else {
            let assembled = self.upload_key(upload_id, "assembled");
            UploadState::Parts {
                upload: self.client.create_multipart(&assembled).await?,
            }
        };
        self.save_state(upload_id, &state).await
    }

    async fn write_part(
        &self,
        upload_id: &UploadId,
        number: u32,
        _offset: u64,
        len: u64,
        data: ByteStream,
        expected_sha256: Option<&Sha256Hex>,
    ) -> Result<Sha256Hex, StoreError> {
        let UploadState::Parts { upload } = self.load_state(upload_id).await? else {
            return Err(StoreError::NotFound);
        };
        let number = u16::try_from(number).map_err(|_| StoreError::NotFound)?;
        // Hashed and counted on the way through; the store checks the signed sha256 too.
        let seen = Arc::new(Mutex::new((Sha256::new(), 0u64)));
        let tap = Arc::clone(&seen);
        let counted = data.map_ok(move |chunk: Bytes| {
            let mut guard = tap.lock().expect("part hasher lock");
            guard.0.update(&chunk);
            guard.1 += chunk.len() as u64;
            chunk
        });
        let assembled = self.upload_key(upload_id, "assembled");
        let etag = self
            .client
            .upload_part(
                &assembled,
                &upload,
                number,
                reqwest::Body::wrap_stream(counted),
                len,
                expected_sha256.map(Sha256Hex::as_str),
            )
            .await;
        let (hasher, size) = std::mem::take(&mut *seen.lock().expect("part hasher lock"));
        let etag = match etag {
            Ok(etag) => etag,
            Err(_) if size < len => {
                return Err(StoreError::Interrupted(std::io::Error::other(format!(
                    "part ended after {size} of {len} bytes"
                ))))
            }
            Err(e) => return Err(e),
        };
        if size != len {
            return Err(StoreError::SizeMismatch {
                expected: len,
                actual: size,
            });
        }
        let sha = digest_of(hasher);
        if let Some(want) = expected_sha256 {
            if *want != sha {
                return Err(StoreError::DigestMismatch {
                    expected: want.to_string(),
                    actual: sha.to_string(),
                });
            }
        }
        let record = self.upload_key(upload_id, &format!("etag-{number:05}"));
        self.client.put(&record, Bytes::from(etag)).await?;
        Ok(sha)
    }

    async fn complete_multipart(
        &self,
        upload_id: &UploadId,
        expected: &Expected,
    ) -> Result<StoredBlob, StoreError> {
        self.finish(upload_id, None, expected).await
    }

    async fn complete_direct_multipart(
        &self,
        upload_id: &UploadId,
        parts: &[(u32, String)],
        expected: &Expected,
    ) -> Result<StoredBlob, StoreError> {
        let mut sorted = parts.to_vec();
        sorted.sort_by_key(|(number, _)| *number);
        let in_order = sorted
            .iter()
            .enumerate()
            .all(|(i, (number, _))| *number as usize == i + 1);
        if !in_order {
            self.abort_multipart(upload_id).await?;
            return Err(StoreError::SizeMismatch {
                expected: expected.size.unwrap_or(0),
                actual: 0,
            });
        }
        let etags = sorted.into_iter().map(|(_, etag)| etag).collect();
        self.finish(upload_id, Some(etags), expected).await
    }

    async fn abort_multipart(&self, upload_id: &UploadId) -> Result<(), StoreError> {
        match self.load_state(upload_id).await {
            Ok(UploadState::Parts { upload }) => {
                let assembled = self.upload_key(upload_id, "assembled");
                self.client.abort_multipart(&assembled, &upload).await?;
            }
            Ok(UploadState::Append) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(e),
        }
        self.delete_upload_objects(upload_id).await
    }

    async fn append_part(
        &self,
        upload_id: &UploadId,
        offset: u64,
        data: ByteStream,
    ) -> Result<u64, StoreError> {
        let UploadState::Append = self.load_state(upload_id).await? else {
            return Err(StoreError::NotFound);
        };
        let (_, current) = self.chunks(upload_id).await?;
        if current != offset {
            return Err(StoreError::RangeNotSatisfiable { size: current });
        }
        let key = self.upload_key(upload_id, &format!("chunk-{offset:020}"));
        let (_, written) = self.write_object(&key, data, &Expected::default()).await?;
        if written == 0 {
            self.client.delete(&key).await?;
        }
        Ok(offset + written)
    }

    fn presigned_download(&self, sha256: &Sha256Hex, filename: Option<&str>) -> Option<String> {
        self.redirect_downloads.then(|| {
            self.client
                .presigned_get(&self.blob_key(sha256), self.presign_ttl, filename)
        })
    }

    fn redirects_downloads(&self) -> bool {
        self.redirect_downloads
    }

    fn takes_direct_parts(&self) -> bool {
        self.direct_uploads
    }

    async fn presigned_part(
        &self,
        upload_id: &UploadId,
        number: u32,
        sha256: Option<&Sha256Hex>,
    ) -> Result<Option<String>, StoreError> {
        if !self.direct_uploads {
            return Ok(None);
        }
        let UploadState::Parts { upload } = self.load_state(upload_id).await? else {
            return Err(StoreError::NotFound);
        };
        let number = u16::try_from(number).map_err(|_| StoreError::NotFound)?;
        Ok(Some(self.client.presigned_part(
            &self.upload_key(upload_id, "assembled"),
            &upload,
            number,
            sha256.map(Sha256Hex::as_str),
            self.presign_ttl,
        )))
    }
}

#[path = "s3_maintenance.rs"]
mod maintenance;
#[path = "s3_uploads.rs"]
mod uploads;
