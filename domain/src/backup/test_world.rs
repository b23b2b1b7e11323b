//! A small registry filled through the domain API, and the checks that another registry
//! answers the same, for the backup tests.
use bytes::Bytes;
use futures::StreamExt;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::sync::Arc;

use crate::names::{ContainerPath, ImageRef, Sha256Hex};
use crate::policy::Actor;
use crate::services::{NewToken, Registry, StarTarget, WebUpload};
use crate::store::{BlobStore, ByteStream, FsBlobStore};

pub const KEY: [u8; 32] = [7u8; 32];

pub fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn body(bytes: &[u8]) -> ByteStream {
    let chunks: Vec<std::io::Result<Bytes>> = bytes
        .chunks(4096)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Box::pin(futures::stream::iter(chunks))
}

pub fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub async fn fs_store(dir: &std::path::Path) -> Arc<dyn BlobStore> {
    Arc::new(FsBlobStore::open(dir).await.unwrap())
}

/// What the world holds, to be asked of a restored registry.
pub struct World {
    /// (user name, API token secret).
    pub tokens: Vec<(String, String)>,
    /// (user name, sregistry secret).
    pub sregistry: (String, String),
    /// (image reference, owner name, bytes' sha256).
    pub images: Vec<(String, String, String)>,
    /// (repository path, owner name, blob bytes).
    pub oci_blobs: Vec<(String, String, Vec<u8>)>,
    /// Star targets and their counts.
    pub stars: Vec<(StarTarget, u64)>,
    /// (container path, download count).
    pub downloads: Vec<(String, i64)>,
}

fn token(label: &str) -> NewToken {
    NewToken {
        label: label.into(),
        scope: None,
        expires_in_days: None,
    }
}

pub async fn push(
    registry: &Registry,
    actor: &Actor,
    reference: &str,
    private: bool,
    bytes: &[u8],
) {
    let (path, tag) = reference.split_once(':').unwrap();
    let mut parts = path.split('/');
    let (e, c, n) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let upload = WebUpload {
        path: ContainerPath::new(e, c, n).unwrap(),
        tag: tag.into(),
        private,
        size: bytes.len() as u64,
    };
    registry
        .upload_from_browser(actor, upload, body(bytes))
        .await
        .unwrap_or_else(|e| panic!("push {reference}: {e}"));
}

async fn actor(registry: &Registry, tokens: &[(String, String)], name: &str) -> Actor {
    let secret = &tokens.iter().find(|(n, _)| n == name).unwrap().1;
    registry.authenticate(secret).await.unwrap()
}

/// Users, tokens, an sregistry secret, a team, public and private images (real SIF files),
/// an OCI blob, stars and counted downloads.
pub async fn fill(registry: &Registry) -> World {
    let mut tokens = Vec::new();
    for (name, admin) in [("alice", false), ("bob", false), ("root", true)] {
        registry
            .create_user(name, &format!("{name}@example.org"), admin)
            .await
            .unwrap();
        let created = registry.create_token(name, token("cli")).await.unwrap();
        tokens.push((name.to_string(), created.secret));
    }
    let sregistry = registry
        .create_sregistry_secret("bob", token("sreg"))
        .await
        .unwrap();
    let alice = actor(registry, &tokens, "alice").await;
    let bob = actor(registry, &tokens, "bob").await;
    registry
        .create_team(&alice, "lab-team", "the lab")
        .await
        .unwrap();
    let mut images = Vec::new();
    for (reference, owner, private, file) in [
        ("alice/lab/tool:latest", "alice", false, "full.sif"),
        ("alice/lab/tool:v1", "alice", false, "minimal.sif"),
        ("alice/lab/other:latest", "alice", false, "oci.sif"),
        ("bob/secret/thing:latest", "bob", true, "signed.sif"),
    ] {
        let bytes = fixture(file);
        let who = if owner == "alice" { &alice } else { &bob };
        push(registry, who, reference, private, &bytes).await;
        images.push((reference.to_string(), owner.to_string(), sha(&bytes)));
    }
    let blob: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let repo = ContainerPath::new("alice", "oci", "blobs").unwrap();
    let digest = Sha256Hex::parse(&sha(&blob)).unwrap();
    registry
        .oci_put_blob(&alice, &repo, &digest, body(&blob), Some(blob.len() as u64))
        .await
        .unwrap();
    let oci_blobs = vec![(repo.to_string(), "alice".to_string(), blob)];
    let collection = StarTarget::Collection {
        entity: "alice".into(),
        collection: "lab".into(),
    };
    let container = StarTarget::Container(ContainerPath::new("alice", "lab", "tool").unwrap());
    for who in [&alice, &bob] {
        registry.set_star(who, &collection, true).await.unwrap();
    }
    registry.set_star(&bob, &container, true).await.unwrap();
    for _ in 0..3 {
        let reference = ImageRef::parse("alice/lab/tool:latest").unwrap();
        registry
            .download(&bob, &reference, None, None, "library", true)
            .await
            .unwrap();
    }
    World {
        tokens,
        sregistry: ("bob".into(), sregistry.secret),
        images,
        oci_blobs,
        stars: vec![(collection, 2), (container, 1)],
        downloads: vec![("alice/lab/tool".into(), 3), ("alice/lab/other".into(), 0)],
    }
}

async fn read_all(mut stream: ByteStream) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

/// Asserts that `registry` answers what the world put into the original one.
pub async fn assert_same_answers(registry: &Registry, world: &World) {
    for (name, secret) in &world.tokens {
        let actor = registry
            .authenticate(secret)
            .await
            .unwrap_or_else(|e| panic!("{name}'s token: {e}"));
        let user = registry.find_user(name).await.unwrap().unwrap();
        assert_eq!(actor.user_id(), Some(user.id), "{name}'s token is theirs");
    }
    let (user, secret) = &world.sregistry;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(b"payload");
    let signature = hex::encode(mac.finalize().into_bytes());
    registry
        .authenticate_sregistry(user, "payload", &signature)
        .await
        .expect("the sregistry secret verifies (same server key)");
    for (reference, owner, sha256) in &world.images {
        let owner_actor = actor(registry, &world.tokens, owner).await;
        let parsed = ImageRef::parse(reference).unwrap();
        let download = registry
            .download(&owner_actor, &parsed, None, None, "library", false)
            .await
            .unwrap_or_else(|e| panic!("pull {reference}: {e}"));
        assert_eq!(
            &sha(&read_all(download.reader.stream).await),
            sha256,
            "{reference} pulls byte-identical"
        );
        let public = !reference.starts_with("bob/secret");
        let anonymous = registry
            .download(&Actor::Anonymous, &parsed, None, None, "library", false)
            .await;
        assert_eq!(anonymous.is_ok(), public, "{reference}: visibility kept");
    }
    for (repo, owner, bytes) in &world.oci_blobs {
        let owner_actor = actor(registry, &world.tokens, owner).await;
        let path = ContainerPath::parse_short(repo).unwrap();
        let digest = Sha256Hex::parse(&sha(bytes)).unwrap();
        let reader = registry
            .oci_open_blob(&owner_actor, &path, &digest, None, false)
            .await
            .unwrap();
        assert_eq!(
            &read_all(reader.stream).await,
            bytes,
            "OCI blob {repo} byte-identical"
        );
    }
    for (target, count) in &world.stars {
        let state = registry
            .star_state(&Actor::Anonymous, target)
            .await
            .unwrap();
        assert_eq!(state.count, *count, "stars of {target:?}");
    }
    for (path, count) in &world.downloads {
        let path = ContainerPath::parse_short(path).unwrap();
        let view = registry.container(&Actor::Anonymous, &path).await.unwrap();
        assert_eq!(view.container.download_count, *count, "downloads of {path}");
    }
}

/// New rows get fresh ids (PostgreSQL sequences were moved past the restored ids).
pub async fn assert_writable(registry: &Registry) {
    registry.create_user("carol", "", false).await.unwrap();
    let created = registry.create_token("carol", token("new")).await.unwrap();
    let carol = registry.authenticate(&created.secret).await.unwrap();
    push(
        registry,
        &carol,
        "carol/new/image:latest",
        false,
        &fixture("empty.sif"),
    )
    .await;
    let star = StarTarget::Container(ContainerPath::new("alice", "lab", "tool").unwrap());
    registry.set_star(&carol, &star, true).await.unwrap();
}
