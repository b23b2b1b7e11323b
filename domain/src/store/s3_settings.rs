//! `[storage.s3]`: the settings of the S3-compatible blob store ([`super::S3BlobStore`]).
use serde::{Deserialize, Serialize};

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
