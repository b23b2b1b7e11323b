//! Several `silo serve` replicas on one database: what one replica does, the others see
//! (sign-in failures, the secret key, live events). Each test builds two routers or two
//! registries over the same fresh database, with separate connection pools.
mod common;
#[path = "common/sse.rs"]
mod sse;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::Router;
use common::{Harness, Reply, PUBLIC_URL};
use hmac::{Hmac, Mac};
use http_body_util::BodyExt;
use server::config::Config;
use server::state::AppState;
use silo_domain::services::NewToken;
use silo_domain::store::FsBlobStore;
use silo_domain::Registry;
use sse::EventStream;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

const CLIENT: &str = "192.0.2.10:40000";

/// A second router over `h`'s database (its own connection pool and registry), configured
/// like `h`'s by `adjust`.
async fn second_replica(h: &Harness, adjust: impl FnOnce(&mut Config)) -> Router {
    replica_and_registry(h, adjust).await.0
}

async fn replica_and_registry(h: &Harness, adjust: impl FnOnce(&mut Config)) -> (Router, Registry) {
    let store = FsBlobStore::open(&h.blob_root).await.unwrap();
    let registry =
        Registry::new(h.db.another_replica().await, Arc::new(store)).with_accept_non_sif(true);
    let mut config = Config {
        public_url: Some(PUBLIC_URL.into()),
        data_dir: h.db.dir.path().join("replica-b"),
        accept_non_sif: true,
        ..Config::default()
    };
    adjust(&mut config);
    (
        server::router::app(AppState::new(registry.clone(), config)),
        registry,
    )
}

/// `POST /rpc/login` (the token sign-in) with this form, from [`CLIENT`].
fn sign_in(form: &str) -> Request<Body> {
    let mut request = Request::builder()
        .method("POST")
        .uri("/rpc/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .header("origin", PUBLIC_URL)
        .body(Body::from(form.to_string()))
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(CLIENT.parse::<SocketAddr>().unwrap()));
    request
}

async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: body.to_vec(),
    }
}

#[tokio::test]
async fn sign_in_failures_through_one_replica_count_on_the_other() {
    let limit = |c: &mut Config| {
        c.auth.rate_limit.max_failures_per_user = 3;
        c.auth.rate_limit.max_failures_per_ip = 100;
    };
    let a = Harness::with_config(limit).await;
    let b = second_replica(&a, limit).await;
    let token = a.user("alice", false).await;
    let good = format!(
        "username=alice&token={}",
        url::form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()
    );
    for replica in [&a.app, &b, &a.app] {
        let reply = send(replica, sign_in("username=alice&token=silo_wrong")).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
    // Three failures, spread over both replicas: both refuse, even the right token.
    for replica in [&b, &a.app] {
        let reply = send(replica, sign_in(&good)).await;
        assert_eq!(
            reply.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{} on {}",
            String::from_utf8_lossy(&reply.body),
            a.db.backend_name()
        );
        let wait: u64 = reply.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=300).contains(&wait), "Retry-After {wait}");
    }
    // Another user name from the same client is still welcome on either replica.
    let bob = a.user("bob", false).await;
    let reply = send(
        &b,
        sign_in(&format!(
            "username=bob&token={}",
            url::form_urlencoded::byte_serialize(bob.as_bytes()).collect::<String>()
        )),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn replicas_with_their_own_data_dirs_share_the_configured_secret_key() {
    let db = silo_domain::testing::TestDb::new().await;
    let shared = db.dir.path().join("mounted-secret.key");
    let replica = |name: &str, key_file: Option<std::path::PathBuf>| Config {
        data_dir: db.dir.path().join(name),
        database_url: Some(db.url.clone()),
        secret_key_file: key_file,
        ..Config::default()
    };
    let a = server::open_registry(&replica("a", Some(shared.clone())))
        .await
        .unwrap();
    let b = server::open_registry(&replica("b", Some(shared.clone())))
        .await
        .unwrap();
    assert!(shared.exists(), "created by the first replica");
    assert!(!db.dir.path().join("a/secret.key").exists());
    // An sregistry secret issued through one replica verifies on the other.
    a.create_user("alice", "", false).await.unwrap();
    let new = NewToken {
        label: "hpc".into(),
        scope: None,
        expires_in_days: None,
    };
    let created = a.create_sregistry_secret("alice", new).await.unwrap();
    let payload = "pull|alice/tools|20261205T01Z|hello|latest|";
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(created.secret.as_bytes()).unwrap();
    mac.update(payload.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    for r in [&a, &b] {
        r.authenticate_sregistry("alice", payload, &signature)
            .await
            .expect("the same key on every replica");
    }
    // A replica that would make a key of its own (its data_dir's) is refused at start-up.
    let refused = server::open_registry(&replica("c", None)).await;
    let message = format!("{:#}", refused.err().expect("a different key is refused"));
    assert!(message.contains("secret_key_file"), "{message}");
}

#[tokio::test]
async fn live_events_reach_viewers_on_every_replica_exactly_once() {
    let a = Harness::new().await;
    let (b, b_registry) = replica_and_registry(&a, |_| {}).await;
    let stop = CancellationToken::new();
    a.registry.start_event_relay(stop.clone()).await;
    b_registry.start_event_relay(stop.clone()).await;
    if a.db.skip_unless_postgres("live events across replicas") {
        return;
    }
    let alice = a.user("alice", false).await;
    let bob = a.user("bob", false).await;
    let mut anonymous_on_a = EventStream::open(&a.app, None).await;
    let mut alice_on_b = EventStream::open(&b, Some(&alice)).await;
    let mut bob_on_b = EventStream::open(&b, Some(&bob)).await;

    let secret = a.container(&alice, "alice/hidden/secret", true).await;
    let open = a.container(&alice, "alice/open/tool", false).await;
    a.push(&alice, &secret, b"private bytes", "latest").await;
    a.push(&alice, &open, b"public bytes", "latest").await;

    let pushed = |path: &str| serde_json::json!({"kind": "pushed", "path": path});
    assert_eq!(alice_on_b.next().await, Some(pushed("alice/hidden/secret")));
    assert_eq!(alice_on_b.next().await, Some(pushed("alice/open/tool")));
    for stream in [&mut anonymous_on_a, &mut bob_on_b] {
        assert_eq!(stream.next().await, Some(pushed("alice/open/tool")));
    }
    for stream in [&mut anonymous_on_a, &mut alice_on_b, &mut bob_on_b] {
        assert_eq!(stream.next().await, None, "each event exactly once");
    }

    // The database drops the replicas' listening sessions: their viewers are told to
    // refresh, and events flow again once the relays have reconnected.
    use sea_orm::ConnectionTrait;
    a.db.db
        .execute_unprepared(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
        .await
        .unwrap();
    let changed = serde_json::json!({"kind": "changed"});
    for stream in [&mut anonymous_on_a, &mut bob_on_b] {
        assert_eq!(stream.next().await, Some(changed.clone()));
    }
    let reply = send(
        &b,
        Request::delete("/v1/images/alice/open/tool:latest?arch=amd64")
            .header("authorization", format!("Bearer {alice}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let gone = serde_json::json!({"kind": "deleted", "path": "alice/open/tool"});
    assert_eq!(anonymous_on_a.next().await, Some(gone.clone()));
    assert_eq!(bob_on_b.next().await, Some(gone));
    stop.cancel();
}
