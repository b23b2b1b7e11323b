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
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::s3_requests::{S3Client, MAX_COPY_SIZE};
use super::{BlobReader, BlobStore, ByteRange, ByteStream, Expected, StoreError, StoredBlob};
use crate::names::Sha256Hex;

const LAYOUT: &str = "silo-blob-layout 1\n";

/// `[storage.s3]`: where the bucket is and how Silo uses it.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct S3Settings {
    /// The S3 API endpoint Silo talks to, e.g. `https://s3.eu-west-1.amazonaws.com` or
    /// `http://minio.internal:9000`.
    pub endpoint: String,
    /// The endpoint clients reach the store at, when it differs from `endpoint`; presigned
    /// URLs are signed for this host.
    pub public_endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    pub access_key: String,
    /// Never printed (`silo config show` writes `****`).
    #[serde(serialize_with = "redact")]
    pub secret_key: String,
    /// Put every object under this key prefix (e.g. `silo/`), to share a bucket.
    pub prefix: String,
    /// Path-style URLs (`endpoint/bucket/key`), as MinIO and most self-hosted stores need;
    /// false for virtual-host style (`bucket.endpoint/key`).
    pub path_style: bool,
    /// Size of the parts Silo itself writes, in MiB (5 to 5120); one part per upload in
    /// flight is held in memory.
    pub part_size_mib: u64,
    /// Lifetime of presigned download and upload URLs, in seconds.
    pub presign_seconds: u64,
    /// Answer downloads with a redirect to a presigned URL of the store (library 303, OCI
    /// 307), so the bytes do not pass through Silo.
    pub redirect_downloads: bool,
    /// Hand library multipart clients presigned part URLs, so the bytes go straight to the
    /// store (Silo verifies the assembled image before it becomes visible).
    pub direct_uploads: bool,
}

fn redact<S: serde::Serializer>(secret: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(if secret.is_empty() { "" } else { "****" })
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("public_endpoint", &self.public_endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("secret_key", &"****")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Default for S3Settings {
    fn default() -> Self {
        S3Settings {
            endpoint: String::new(),
            public_endpoint: None,
            bucket: String::new(),
            region: "us-east-1".into(),
            access_key: String::new(),
            secret_key: String::new(),
            prefix: String::new(),
            path_style: true,
            part_size_mib: 8,
            presign_seconds: 3600,
            redirect_downloads: true,
            direct_uploads: true,
        }
    }
}

impl S3Settings {
    /// Everything wrong with these settings, each naming its key.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (key, value) in [("endpoint", &self.endpoint), ("bucket", &self.bucket)] {
            if value.trim().is_empty() {
                problems.push(format!("storage.s3.{key} must be set"));
            }
        }
        for (key, value) in [
            ("endpoint", Some(&self.endpoint)),
            ("public_endpoint", self.public_endpoint.as_ref()),
        ] {
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                if !(v.starts_with("http://") || v.starts_with("https://")) {
                    problems.push(format!("storage.s3.{key} must be an http(s) URL"));
                }
            }
        }
        if !(5..=5120).contains(&self.part_size_mib) {
            problems.push("storage.s3.part_size_mib: use 5 to 5120".into());
        }
        if !(60..=7 * 24 * 3600).contains(&self.presign_seconds) {
            problems.push("storage.s3.presign_seconds: use 60 to 604800".into());
        }
        if !self.prefix.is_empty() && !self.prefix.ends_with('/') {
            problems.push("storage.s3.prefix must end with '/'".into());
        }
        problems
    }
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
enum UploadState {
    /// A native S3 multipart upload of `uploads/<id>/assembled`.
    Parts { upload: String },
    /// Chunks appended in order.
    Append,
}

pub struct S3BlobStore {
    client: Arc<S3Client>,
    prefix: String,
    part_size: usize,
    presign_ttl: Duration,
    redirect_downloads: bool,
    direct_uploads: bool,
}

fn check_upload_id(upload_id: &str) -> Result<(), StoreError> {
    let valid = !upload_id.is_empty()
        && upload_id.len() <= 128
        && upload_id
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if valid {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

fn digest_of(hasher: Sha256) -> Sha256Hex {
    Sha256Hex::parse(&hex::encode(hasher.finalize())).expect("a sha256 digest is valid hex")
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
            settings.public_endpoint.as_deref().filter(|e| !e.is_empty()),
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
            Err(StoreError::NotFound) => self.client.put(&key, Bytes::from_static(LAYOUT.as_bytes())).await,
            Err(e) => Err(e),
        }
    }

    fn blob_key(&self, sha256: &Sha256Hex) -> String {
        let hex = sha256.as_str();
        format!("{}blobs/sha256/{}/{hex}", self.prefix, &hex[..2])
    }

    fn upload_key(&self, upload_id: &str, name: &str) -> String {
        format!("{}uploads/{upload_id}/{name}", self.prefix)
    }

    async fn load_state(&self, upload_id: &str) -> Result<UploadState, StoreError> {
        check_upload_id(upload_id)?;
        let stream = self
            .client
            .get(&self.upload_key(upload_id, "state"), None)
            .await?;
        let bytes: Vec<Bytes> = stream.try_collect().await?;
        serde_json::from_slice(&bytes.concat())
            .map_err(|e| StoreError::Io(std::io::Error::other(format!("upload state: {e}"))))
    }

    async fn save_state(&self, upload_id: &str, state: &UploadState) -> Result<(), StoreError> {
        let json = serde_json::to_vec(state).map_err(std::io::Error::other)?;
        self.client
            .put(&self.upload_key(upload_id, "state"), Bytes::from(json))
            .await
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

    async fn delete_upload_objects(&self, upload_id: &str) -> Result<(), StoreError> {
        for object in self.client.list(&self.upload_key(upload_id, "")).await? {
            self.client.delete(&object.key).await?;
        }
        Ok(())
    }

    /// The appended chunks of an upload in order, with the upload's current length.
    async fn chunks(&self, upload_id: &str) -> Result<(Vec<String>, u64), StoreError> {
        let objects = self
            .client
            .list(&self.upload_key(upload_id, "chunk-"))
            .await?;
        let length = objects.iter().map(|o| o.size).sum();
        Ok((objects.into_iter().map(|o| o.key).collect(), length))
    }

    /// Assembles a native multipart upload from `etags` (parts 1, 2, … in order), then
    /// verifies and commits it.
    async fn complete_parts(
        &self,
        upload_id: &str,
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

    /// The ETags Silo recorded for the parts it passed on itself, parts 1, 2, … until the
    /// first missing one.
    async fn recorded_etags(&self, upload_id: &str) -> Result<Vec<String>, StoreError> {
        let mut etags = Vec::new();
        for object in self.client.list(&self.upload_key(upload_id, "etag-")).await? {
            let number = object
                .key
                .rsplit_once("etag-")
                .and_then(|(_, n)| n.parse::<usize>().ok());
            if number != Some(etags.len() + 1) {
                break;
            }
            let bytes: Vec<Bytes> = self.client.get(&object.key, None).await?.try_collect().await?;
            etags.push(String::from_utf8_lossy(&bytes.concat()).to_string());
        }
        Ok(etags)
    }

    async fn finish(
        &self,
        upload_id: &str,
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
                let joined: ByteStream = Box::pin(
                    futures::stream::iter(keys)
                        .then(move |key| {
                            let client = Arc::clone(&client);
                            async move { client.get(&key, None).await.map_err(std::io::Error::other) }
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

    async fn begin_multipart(&self, upload_id: &str, size: u64) -> Result<(), StoreError> {
        check_upload_id(upload_id)?;
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
        upload_id: &str,
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
        upload_id: &str,
        expected: &Expected,
    ) -> Result<StoredBlob, StoreError> {
        self.finish(upload_id, None, expected).await
    }

    async fn complete_direct_multipart(
        &self,
        upload_id: &str,
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

    async fn abort_multipart(&self, upload_id: &str) -> Result<(), StoreError> {
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
        upload_id: &str,
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
        upload_id: &str,
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
