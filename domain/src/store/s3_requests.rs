//! The S3 requests the [`super::S3BlobStore`] makes: each one signed by `rusty-s3` (SigV4,
//! as a short-lived presigned URL) and sent with one shared, pooled `reqwest` client.
use bytes::Bytes;
use futures::TryStreamExt;
use rusty_s3::actions::{
    AbortMultipartUpload, CompleteMultipartUpload, CreateMultipartUpload, DeleteObject, GetObject,
    HeadObject, ListObjectsV2, PutObject, UploadPart,
};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use std::time::Duration;

use super::{ByteStream, StoreError};

/// Lifetime of the signatures on Silo's own requests (a long GET streams for longer, but S3
/// checks the signature only when the request starts).
const OWN_REQUEST_TTL: Duration = Duration::from_secs(15 * 60);
/// Largest object S3 copies in one `CopyObject` request.
pub const MAX_COPY_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// Where and how to reach the bucket.
pub struct S3Client {
    bucket: Bucket,
    /// The same bucket as clients reach it, for the URLs handed to them.
    public_bucket: Bucket,
    credentials: Credentials,
    http: reqwest::Client,
}

/// One listed object.
#[derive(Clone, Debug)]
pub struct ListedObject {
    pub key: String,
    pub size: u64,
    /// When the object was written, as the listing says (absent if unreadable).
    pub modified: Option<chrono::DateTime<chrono::Utc>>,
}

fn backend(message: impl std::fmt::Display) -> StoreError {
    StoreError::Io(std::io::Error::other(format!("object store: {message}")))
}

/// Turns a non-success answer into a store error (404 is [`StoreError::NotFound`]).
async fn checked(response: reqwest::Response) -> Result<reqwest::Response, StoreError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    if status == reqwest::StatusCode::NOT_FOUND {
        return Err(StoreError::NotFound);
    }
    let path = response.url().path().to_string();
    let body = response.text().await.unwrap_or_default();
    let code = body
        .split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map_or("", |(code, _)| code);
    Err(backend(format!("HTTP {status} {code} ({path})")))
}

/// The error without its URL: Silo's requests are presigned URLs, whose signature must not
/// reach a log line.
fn send_error(e: reqwest::Error) -> StoreError {
    backend(format!("request failed: {}", e.without_url()))
}

impl S3Client {
    pub fn new(
        endpoint: &str,
        public_endpoint: Option<&str>,
        bucket: &str,
        region: &str,
        path_style: bool,
        credentials: Credentials,
    ) -> Result<Self, StoreError> {
        let style = if path_style {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        let make = |endpoint: &str| -> Result<Bucket, StoreError> {
            let url = endpoint
                .parse()
                .map_err(|e| backend(format!("endpoint {endpoint:?}: {e}")))?;
            Bucket::new(url, style, bucket.to_string(), region.to_string())
                .map_err(|e| backend(format!("bucket {bucket:?} at {endpoint}: {e}")))
        };
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(send_error)?;
        Ok(S3Client {
            bucket: make(endpoint)?,
            public_bucket: make(public_endpoint.unwrap_or(endpoint))?,
            credentials,
            http,
        })
    }

    fn creds(&self) -> Option<&Credentials> {
        Some(&self.credentials)
    }

    /// `HEAD`: the object's size, or `None` when absent.
    pub async fn head(&self, key: &str) -> Result<Option<u64>, StoreError> {
        let url = HeadObject::new(&self.bucket, self.creds(), key).sign(OWN_REQUEST_TTL);
        let response = self.http.head(url).send().await.map_err(send_error)?;
        match checked(response).await {
            // The header itself: a HEAD answer has no body, so its body length is 0.
            Ok(r) => r
                .headers()
                .get(reqwest::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .map(Some)
                .ok_or_else(|| backend(format!("no size for {key}"))),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET`, optionally of the inclusive byte range `first..=last`.
    pub async fn get(
        &self,
        key: &str,
        range: Option<(u64, u64)>,
    ) -> Result<ByteStream, StoreError> {
        let url = GetObject::new(&self.bucket, self.creds(), key).sign(OWN_REQUEST_TTL);
        let mut request = self.http.get(url);
        if let Some((first, last)) = range {
            request = request.header(reqwest::header::RANGE, format!("bytes={first}-{last}"));
        }
        let response = checked(request.send().await.map_err(send_error)?).await?;
        Ok(Box::pin(
            response
                .bytes_stream()
                .map_err(|e| std::io::Error::other(e.without_url())),
        ))
    }

    /// A URL anyone holding it may `GET` the object from until it expires.
    pub fn presigned_get(&self, key: &str, ttl: Duration, filename: Option<&str>) -> String {
        let mut action = GetObject::new(&self.public_bucket, self.creds(), key);
        if let Some(name) = filename {
            action.query_mut().insert(
                "response-content-disposition",
                format!("attachment; filename=\"{name}\""),
            );
        }
        action.sign(ttl).to_string()
    }

    /// `PUT` of a whole object from memory.
    pub async fn put(&self, key: &str, data: Bytes) -> Result<(), StoreError> {
        let url = PutObject::new(&self.bucket, self.creds(), key).sign(OWN_REQUEST_TTL);
        let response = self.http.put(url).body(data).send().await;
        checked(response.map_err(send_error)?).await.map(drop)
    }

    /// Server-side copy of an object of up to [`MAX_COPY_SIZE`] bytes.
    pub async fn copy(&self, from: &str, to: &str) -> Result<(), StoreError> {
        let source = format!("/{}/{from}", self.bucket.name());
        let mut action = PutObject::new(&self.bucket, self.creds(), to);
        action
            .headers_mut()
            .insert("x-amz-copy-source", source.clone());
        let url = action.sign(OWN_REQUEST_TTL);
        let response = self
            .http
            .put(url)
            .header("x-amz-copy-source", source)
            .send()
            .await
            .map_err(send_error)?;
        let body = checked(response).await?.text().await.map_err(send_error)?;
        // S3 may answer 200 and report the failure in the body.
        if body.contains("<Error>") {
            return Err(backend(format!("copy of {from} failed")));
        }
        Ok(())
    }

    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let url = DeleteObject::new(&self.bucket, self.creds(), key).sign(OWN_REQUEST_TTL);
        let response = self.http.delete(url).send().await.map_err(send_error)?;
        match checked(response).await {
            Ok(_) | Err(StoreError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every object whose key starts with `prefix`, in key order.
    pub async fn list(&self, prefix: &str) -> Result<Vec<ListedObject>, StoreError> {
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut action = ListObjectsV2::new(&self.bucket, self.creds());
            action.with_prefix(prefix.to_string());
            if let Some(t) = token.take() {
                action.with_continuation_token(t);
            }
            let url = action.sign(OWN_REQUEST_TTL);
            let response = self.http.get(url).send().await.map_err(send_error)?;
            let text = checked(response).await?.text().await.map_err(send_error)?;
            let page = ListObjectsV2::parse_response(&text)
                .map_err(|e| backend(format!("unreadable object list: {e}")))?;
            found.extend(page.contents.into_iter().map(|o| {
                ListedObject {
                    modified: o
                        .last_modified
                        .as_deref()
                        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                        .map(|t| t.with_timezone(&chrono::Utc)),
                    key: o.key,
                    size: o.size.unwrap_or(0),
                }
            }));
            match page.next_continuation_token {
                Some(next) if !next.is_empty() => token = Some(next),
                _ => break,
            }
        }
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    /// Starts a native multipart upload to `key`; returns S3's upload id.
    pub async fn create_multipart(&self, key: &str) -> Result<String, StoreError> {
        let url = CreateMultipartUpload::new(&self.bucket, self.creds(), key).sign(OWN_REQUEST_TTL);
        let response = self.http.post(url).send().await.map_err(send_error)?;
        let text = checked(response).await?.text().await.map_err(send_error)?;
        let parsed = CreateMultipartUpload::parse_response(&text)
            .map_err(|e| backend(format!("unreadable multipart answer: {e}")))?;
        Ok(parsed.upload_id().to_string())
    }

    fn upload_part_action<'a>(
        &'a self,
        bucket: &'a Bucket,
        key: &'a str,
        upload_id: &'a str,
        number: u16,
    ) -> UploadPart<'a> {
        UploadPart::new(bucket, self.creds(), key, number, upload_id)
    }

    /// Sends one part; returns its ETag. With `sha256`, the store itself refuses a body
    /// that does not match (the header is signed).
    pub async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u16,
        body: reqwest::Body,
        len: u64,
        sha256: Option<&str>,
    ) -> Result<String, StoreError> {
        let mut action = self.upload_part_action(&self.bucket, key, upload_id, number);
        if let Some(sha) = sha256 {
            action
                .headers_mut()
                .insert("x-amz-content-sha256", sha.to_string());
        }
        let url = action.sign(OWN_REQUEST_TTL);
        let mut request = self
            .http
            .put(url)
            .header(reqwest::header::CONTENT_LENGTH, len)
            .body(body);
        if let Some(sha) = sha256 {
            request = request.header("x-amz-content-sha256", sha);
        }
        let response = checked(request.send().await.map_err(send_error)?).await?;
        response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| backend("part stored without an ETag"))
    }

    /// A URL a client may `PUT` part `number` to, directly. With `sha256` the client must
    /// send it as `x-amz-content-sha256` and the store refuses other bytes.
    pub fn presigned_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u16,
        sha256: Option<&str>,
        ttl: Duration,
    ) -> String {
        let mut action = self.upload_part_action(&self.public_bucket, key, upload_id, number);
        if let Some(sha) = sha256 {
            action
                .headers_mut()
                .insert("x-amz-content-sha256", sha.to_string());
        }
        action.sign(ttl).to_string()
    }

    /// Makes the object appear, made of `etags` as parts 1, 2, …
    pub async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        etags: &[String],
    ) -> Result<(), StoreError> {
        let action = CompleteMultipartUpload::new(
            &self.bucket,
            self.creds(),
            key,
            upload_id,
            etags.iter().map(String::as_str),
        );
        let url = action.sign(OWN_REQUEST_TTL);
        let body = CompleteMultipartUpload::new(
            &self.bucket,
            self.creds(),
            key,
            upload_id,
            etags.iter().map(String::as_str),
        )
        .body();
        let response = self.http.post(url).body(body).send().await;
        let text = checked(response.map_err(send_error)?)
            .await?
            .text()
            .await
            .map_err(send_error)?;
        if text.contains("<Error>") {
            return Err(backend("the store refused to assemble the parts"));
        }
        Ok(())
    }

    pub async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<(), StoreError> {
        let url = AbortMultipartUpload::new(&self.bucket, self.creds(), key, upload_id)
            .sign(OWN_REQUEST_TTL);
        let response = self.http.delete(url).send().await.map_err(send_error)?;
        match checked(response).await {
            Ok(_) | Err(StoreError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
