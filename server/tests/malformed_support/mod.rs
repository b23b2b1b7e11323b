//! The malformed-request sweep's vocabulary: each protocol surface's error envelope, the
//! hostile values it sends, and a world with one pushed image and one open OCI upload so
//! that requests get past "not found" into the parsers behind it.
#![allow(dead_code)]
use crate::common::{sha256_hex, Harness, Reply, PUBLIC_URL};
use serde_json::Value;

/// The error envelope of each surface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Envelope {
    /// Library API, web upload: `{"error": {"code": <status>, "message": "…"}}`.
    Library,
    /// REST API: the same shape as the library's.
    Rest,
    /// OCI distribution: `{"errors": [{"code": "NAME_INVALID", "message": "…"}]}`.
    Oci,
    /// sregistry and shub: `{"detail": "…"}`.
    Sregistry,
    /// HKP keyserver: a plain-text message.
    Keyserver,
    /// Server functions: the JSON of `app::error::SiloError`.
    Rpc,
}

/// Path segments that must never reach a name, a file or a query.
pub const HOSTILE_SEGMENTS: &[&str] = &[
    "%2e%2e",
    "..%2f..%2fetc%2fpasswd",
    "a%00b",
    "%00",
    "UPPER",
    "-dash",
    "%ff%fe",
    "a%20b",
];

/// Numbers where ids, sizes and part numbers go.
pub const BAD_NUMBERS: &[&str] = &["-1", "99999999999999999999", "1e3", "abc", "0x10", ""];

/// A segment longer than any name allows.
pub fn long_segment() -> String {
    "a".repeat(300)
}

/// JSON bodies of the wrong shape for every endpoint that reads JSON: not JSON, wrong
/// types, huge and negative numbers, deep nesting.
pub fn bad_json_bodies() -> Vec<Vec<u8>> {
    let mut bodies: Vec<Vec<u8>> = [
        "{not json",
        "",
        "[]",
        "null",
        "\"text\"",
        r#"{"name": 5}"#,
        r#"{"name": ["x"], "entity": {}, "collection": true, "container": 1.5}"#,
        r#"{"filesize": -1, "sha256sum": 7}"#,
        r#"{"filesize": 1e99}"#,
        r#"{"filesize": 99999999999999999999999}"#,
        r#"{"partSize": -5, "partNumber": -1, "uploadID": "../../x"}"#,
        r#"{"uploadID": "../x", "completedParts": [{"partNumber": -1, "token": 5}]}"#,
        r#"{"hash": "sha256.zz", "container": "-1"}"#,
        r#"{"tags": {"x": "-1"}}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    bodies.push(format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes());
    bodies
}

/// At most `SAMPLE` files of a fuzz target's kept corpus (domain/fuzz/corpus/<target>),
/// evenly spread over the sorted file names so that every run sends the same ones.
pub fn fuzz_corpus(target: &str) -> Vec<Vec<u8>> {
    const SAMPLE: usize = 150;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../domain/fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    let step = files.len().div_ceil(SAMPLE).max(1);
    files
        .iter()
        .step_by(step)
        .map(|path| std::fs::read(path).unwrap())
        .collect()
}

/// Asserts a refusal: a 4xx (never a 5xx or a panic) in `envelope`.
pub fn assert_refused(reply: &Reply, envelope: Envelope, what: &str) {
    let body = String::from_utf8_lossy(&reply.body);
    assert!(
        reply.status.is_client_error(),
        "{what}: expected a 4xx, got {}: {body}",
        reply.status
    );
    assert_envelope(reply, envelope, what);
}

/// Asserts that a request the protocol may also serve (an ignored header, a clamped
/// number) was not an error of the server: not a 5xx, and a 4xx comes in `envelope`.
pub fn assert_not_server_error(reply: &Reply, envelope: Envelope, what: &str) {
    let body = String::from_utf8_lossy(&reply.body);
    assert!(
        !reply.status.is_server_error(),
        "{what}: {}: {body}",
        reply.status
    );
    if reply.status.is_client_error() {
        assert_envelope(reply, envelope, what);
    }
}

fn assert_envelope(reply: &Reply, envelope: Envelope, what: &str) {
    let body = String::from_utf8_lossy(&reply.body).into_owned();
    if envelope == Envelope::Keyserver {
        assert!(!body.trim().is_empty(), "{what}: empty keyserver error");
        return;
    }
    let v: Value = serde_json::from_slice(&reply.body)
        .unwrap_or_else(|e| panic!("{what}: {} body is not JSON ({e}): {body}", reply.status));
    let ok = match envelope {
        Envelope::Library | Envelope::Rest => {
            v["error"]["code"] == reply.status.as_u16() && v["error"]["message"].is_string()
        }
        Envelope::Oci => {
            v["errors"][0]["code"].is_string() && v["errors"][0]["message"].is_string()
        }
        Envelope::Sregistry => v["detail"].is_string(),
        Envelope::Rpc => v.is_string() || v.is_object(),
        Envelope::Keyserver => unreachable!(),
    };
    assert!(ok, "{what}: not the {envelope:?} envelope: {body}");
}

/// What the sweep works on.
pub struct World {
    pub h: Harness,
    pub token: String,
    pub container_id: String,
    pub image_id: String,
    /// `/v2/alice/tools/bwa/blobs/uploads/<id>` of an open OCI upload.
    pub oci_upload: String,
}

pub async fn world() -> World {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let container_id = h.container(&token, "alice/tools/bwa", false).await;
    let image_id = h
        .push(&token, &container_id, b"some image bytes", "v1")
        .await;
    let start = send(
        &h,
        "POST",
        "/v2/alice/tools/bwa/blobs/uploads/",
        Some(&token),
        &[],
        vec![],
    )
    .await;
    assert_eq!(
        start.status.as_u16(),
        202,
        "{}",
        String::from_utf8_lossy(&start.body)
    );
    let location = start.header("location").unwrap();
    let oci_upload = location
        .strip_prefix(PUBLIC_URL)
        .unwrap_or(&location)
        .to_string();
    World {
        h,
        token,
        container_id,
        image_id,
        oci_upload,
    }
}

/// One request with raw headers.
pub use crate::common::request as send;

/// A well-formed digest of other bytes.
pub fn wrong_digest() -> String {
    format!("sha256:{}", sha256_hex(b"not these bytes"))
}
