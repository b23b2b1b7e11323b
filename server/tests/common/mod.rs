//! In-process harness: the real router over a fresh database (SQLite, or PostgreSQL when
//! SILO_TEST_POSTGRES_URL is set) and a blob store in a temporary directory.
#![allow(dead_code)]
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use server::config::Config;
use server::state::AppState;
use silo_domain::services::NewToken;
use silo_domain::store::FsBlobStore;
use silo_domain::testing::TestDb;
use silo_domain::Registry;
use std::sync::Arc;
use tower::ServiceExt;

pub const PUBLIC_URL: &str = "http://registry.test";

pub struct Harness {
    pub app: Router,
    pub registry: Registry,
    pub db: TestDb,
    pub blob_root: std::path::PathBuf,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn data(&self) -> Value {
        self.json()["data"].clone()
    }
    /// Asserts the library error envelope with this status.
    pub fn assert_error(&self, status: StatusCode) -> String {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        let v = self.json();
        assert_eq!(v["error"]["code"], status.as_u16(), "envelope: {v}");
        let message = v["error"]["message"]
            .as_str()
            .expect("error message")
            .to_string();
        assert!(!message.is_empty());
        message
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
}

impl Harness {
    /// A harness that accepts uploads that are not SIF images, so generic tests can push
    /// short byte strings.
    pub async fn new() -> Harness {
        Self::with_config(|_| {}).await
    }

    /// A harness as configured by default: non-SIF uploads are refused.
    pub async fn sif_only() -> Harness {
        Self::with_config(|c| c.accept_non_sif = false).await
    }

    /// A harness whose configuration `adjust` changes first (from a base that accepts
    /// non-SIF uploads).
    pub async fn with_config(adjust: impl FnOnce(&mut Config)) -> Harness {
        let db = TestDb::new().await;
        let blob_root = db.dir.path().join("blobs");
        let store = FsBlobStore::open(&blob_root).await.unwrap();
        let mut config = Config {
            public_url: Some(PUBLIC_URL.into()),
            data_dir: db.dir.path().to_path_buf(),
            accept_non_sif: true,
            ..Config::default()
        };
        adjust(&mut config);
        let registry = Registry::new(db.db.clone(), Arc::new(store))
            .with_accept_non_sif(config.accept_non_sif);
        let app = server::router::app(AppState::new(registry.clone(), config));
        Harness {
            app,
            registry,
            db,
            blob_root,
        }
    }

    /// Creates a user and returns a push token (admin token for admins).
    pub async fn user(&self, name: &str, admin: bool) -> String {
        self.registry.create_user(name, "", admin).await.unwrap();
        self.token(name).await
    }

    pub async fn token(&self, name: &str) -> String {
        let new = NewToken {
            label: "test".into(),
            scope: None,
            expires_in_days: None,
        };
        self.registry.create_token(name, new).await.unwrap().secret
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn call(&self, method: &str, uri: &str, token: Option<&str>, body: Body) -> Reply {
        let uri = uri.strip_prefix(PUBLIC_URL).unwrap_or(uri);
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            builder = builder.header("authorization", format!("Bearer {t}"));
        }
        self.send(builder.body(body).unwrap()).await
    }

    pub async fn get(&self, uri: &str, token: Option<&str>) -> Reply {
        self.call("GET", uri, token, Body::empty()).await
    }

    /// Sends JSON without a Content-Type, as the Go client does.
    pub async fn post_json(&self, uri: &str, token: Option<&str>, body: Value) -> Reply {
        self.call("POST", uri, token, Body::from(body.to_string()))
            .await
    }

    pub async fn put_json(&self, uri: &str, token: Option<&str>, body: Value) -> Reply {
        self.call("PUT", uri, token, Body::from(body.to_string()))
            .await
    }

    /// Number of files under the blob store's `tmp/` (uploads in progress).
    pub fn temp_files(&self) -> usize {
        std::fs::read_dir(self.blob_root.join("tmp"))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Number of committed blobs.
    pub fn blob_count(&self) -> usize {
        let root = self.blob_root.join("sha256");
        let Ok(dirs) = std::fs::read_dir(root) else {
            return 0;
        };
        dirs.flatten()
            .map(|d| std::fs::read_dir(d.path()).map(|f| f.count()).unwrap_or(0))
            .sum()
    }

    /// Creates entity (if needed), collection and container through the API; returns the
    /// container id.
    pub async fn container(&self, token: &str, path: &str, private: bool) -> String {
        let parts: Vec<&str> = path.split('/').collect();
        let (e, c, n) = (parts[0], parts[1], parts[2]);
        let entity = self.get(&format!("/v1/entities/{e}"), Some(token)).await;
        let entity_id = if entity.status == StatusCode::OK {
            entity.data()["id"].as_str().unwrap().to_string()
        } else {
            let r = self
                .post_json("/v1/entities", Some(token), serde_json::json!({"name": e}))
                .await;
            assert_eq!(
                r.status,
                StatusCode::OK,
                "{}",
                String::from_utf8_lossy(&r.body)
            );
            r.data()["id"].as_str().unwrap().to_string()
        };
        let coll = self
            .get(&format!("/v1/collections/{e}/{c}"), Some(token))
            .await;
        let coll_id = if coll.status == StatusCode::OK {
            coll.data()["id"].as_str().unwrap().to_string()
        } else {
            let body = serde_json::json!({"name": c, "entity": entity_id, "private": private});
            let r = self.post_json("/v1/collections", Some(token), body).await;
            assert_eq!(
                r.status,
                StatusCode::OK,
                "{}",
                String::from_utf8_lossy(&r.body)
            );
            r.data()["id"].as_str().unwrap().to_string()
        };
        let body = serde_json::json!({"name": n, "collection": coll_id});
        let r = self.post_json("/v1/containers", Some(token), body).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        r.data()["id"].as_str().unwrap().to_string()
    }

    /// Registers and uploads `bytes` (v2 single part) into a container, tags it; returns
    /// the image id.
    pub async fn push(&self, token: &str, container_id: &str, bytes: &[u8], tag: &str) -> String {
        let hash = sha256_hex(bytes);
        let body = serde_json::json!({"hash": format!("sha256.{hash}"), "container": container_id});
        let image = self.post_json("/v1/images", Some(token), body).await;
        assert_eq!(
            image.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&image.body)
        );
        let image_id = image.data()["id"].as_str().unwrap().to_string();
        if !image.data()["uploaded"].as_bool().unwrap() {
            let body =
                serde_json::json!({"filesize": bytes.len(), "sha256sum": hash, "md5sum": ""});
            let start = self
                .post_json(&format!("/v2/imagefile/{image_id}"), Some(token), body)
                .await;
            assert_eq!(start.status, StatusCode::OK);
            let url = start.data()["uploadURL"].as_str().unwrap().to_string();
            let put = self
                .call("PUT", &url, None, Body::from(bytes.to_vec()))
                .await;
            assert_eq!(
                put.status,
                StatusCode::OK,
                "{}",
                String::from_utf8_lossy(&put.body)
            );
            let done = self
                .put_json(
                    &format!("/v2/imagefile/{image_id}/_complete"),
                    Some(token),
                    serde_json::json!({}),
                )
                .await;
            assert_eq!(done.status, StatusCode::OK);
        }
        // No Arch: the tag takes the image's own architecture (amd64 for non-SIF content).
        let body = serde_json::json!({"Tag": tag, "ImageID": image_id});
        let r = self
            .post_json(&format!("/v2/tags/{container_id}"), Some(token), body)
            .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        image_id
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// One request with a method, an optional bearer token, raw headers and a body.
pub async fn request(
    h: &Harness,
    method: &str,
    uri: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Reply {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        builder = builder.header("authorization", format!("Bearer {t}"));
    }
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    h.send(builder.body(Body::from(body)).unwrap()).await
}
