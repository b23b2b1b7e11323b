//! Tests of the tokens page's services (run on SQLite, and on PostgreSQL with
//! `SILO_TEST_POSTGRES_URL`).
use super::*;
use crate::entities::{audit_log, user};
use crate::services::NewToken;
use crate::store::FsBlobStore;
use crate::testing::TestDb;
use sea_orm::PaginatorTrait;
use std::sync::Arc;

async fn registry(db: &TestDb) -> Registry {
    let store = FsBlobStore::open(db.dir.path().join("blobs"))
        .await
        .unwrap();
    Registry::new(db.db.clone(), Arc::new(store))
}

/// A user and an actor signed in with a token of `scope`.
async fn signed_in(r: &Registry, name: &str, admin: bool, scope: Scope) -> Actor {
    r.create_user(name, "", admin).await.unwrap();
    let new = NewToken {
        label: "bootstrap".into(),
        scope: Some(scope),
        expires_in_days: None,
    };
    let secret = r.create_token(name, new).await.unwrap().secret;
    r.authenticate(&secret).await.unwrap()
}

fn request(label: &str, scope: Scope, expiry: TokenExpiry) -> OwnTokenRequest {
    OwnTokenRequest {
        label: label.into(),
        scope,
        expiry,
    }
}

async fn audit_count(r: &Registry, action: &str) -> u64 {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .count(r.db())
        .await
        .unwrap()
}

#[tokio::test]
async fn own_tokens_are_created_listed_and_work() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let alice = signed_in(&r, "alice", false, Scope::Push).await;
    let bob = signed_in(&r, "bob", false, Scope::Push).await;
    let created = r
        .create_own_token(
            &alice,
            request("  laptop ", Scope::Read, TokenExpiry::Days(30)),
        )
        .await
        .unwrap();
    assert!(created.secret.starts_with("silo_") && created.secret.len() > 200);
    assert_eq!(created.info.label, "laptop");
    assert_eq!(created.info.scope, Scope::Read);
    let expires = created.info.expires_at.unwrap();
    let days = (expires - now()).num_hours();
    assert!((29 * 24..=30 * 24).contains(&days), "{days} hours");
    let stored = api_token::Entity::find_by_id(created.info.id)
        .one(r.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.token_hash, hash_token(&created.secret));
    let actor = r.authenticate(&created.secret).await.unwrap();
    let principal = actor.principal().unwrap();
    assert_eq!(
        (principal.username.as_str(), principal.scope),
        ("alice", Scope::Read)
    );
    let listed = r.list_tokens(&alice).await.unwrap();
    assert_eq!(listed.len(), 2, "the bootstrap token and the new one");
    assert_eq!(listed[0].id, created.info.id, "newest first");
    assert!(
        listed[0].last_used_at.is_some(),
        "authenticating marks it used"
    );
    assert_eq!(listed[0].status_at(now()), TokenStatus::Active);
    let bobs = r.list_tokens(&bob).await.unwrap();
    assert!(bobs.iter().all(|t| t.id != created.info.id));
    assert!(r.list_tokens(&Actor::Anonymous).await.is_err());
    assert_eq!(audit_count(&r, "token_created").await, 1);

    let never = r
        .create_own_token(&alice, request("ci", Scope::Push, TokenExpiry::Never))
        .await
        .unwrap();
    assert_eq!(never.info.expires_at, None);
    let date = now() + Duration::days(3);
    let dated = r
        .create_own_token(&alice, request("dated", Scope::Push, TokenExpiry::At(date)))
        .await
        .unwrap();
    assert_eq!(dated.info.expires_at.unwrap().timestamp(), date.timestamp());
}

#[tokio::test]
async fn bad_requests_and_scopes_above_the_credential_are_refused() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let alice = signed_in(&r, "alice", false, Scope::Push).await;
    let reader = signed_in(&r, "carol", false, Scope::Read).await;
    let admin = signed_in(&r, "root", true, Scope::Admin).await;
    let err = |res: Result<OwnTokenCreated>| res.unwrap_err();
    assert!(matches!(
        err(r
            .create_own_token(&alice, request(" ", Scope::Read, TokenExpiry::Never))
            .await),
        DomainError::InvalidInput(_)
    ));
    let long = "x".repeat(TOKEN_LABEL_MAX + 1);
    assert!(matches!(
        err(r
            .create_own_token(&alice, request(&long, Scope::Read, TokenExpiry::Never))
            .await),
        DomainError::InvalidInput(_)
    ));
    assert!(matches!(
        err(r
            .create_own_token(&alice, request("a", Scope::Admin, TokenExpiry::Never))
            .await),
        DomainError::Forbidden(_)
    ));
    assert!(matches!(
        err(r
            .create_own_token(&reader, request("a", Scope::Push, TokenExpiry::Never))
            .await),
        DomainError::Forbidden(_)
    ));
    for expiry in [
        TokenExpiry::Days(0),
        TokenExpiry::Days(TOKEN_MAX_DAYS + 1),
        TokenExpiry::At(now() - Duration::minutes(1)),
        TokenExpiry::At(now() + Duration::days(i64::from(TOKEN_MAX_DAYS) + 2)),
    ] {
        assert!(
            matches!(
                err(r
                    .create_own_token(&alice, request("a", Scope::Read, expiry))
                    .await),
                DomainError::InvalidInput(_)
            ),
            "{expiry:?}"
        );
    }
    assert!(matches!(
        err(r
            .create_own_token(
                &Actor::Anonymous,
                request("a", Scope::Read, TokenExpiry::Never)
            )
            .await),
        DomainError::Unauthenticated
    ));
    let made = r
        .create_own_token(&admin, request("ops", Scope::Admin, TokenExpiry::Days(90)))
        .await
        .unwrap();
    assert!(r.authenticate(&made.secret).await.unwrap().is_admin());
    assert!(r
        .create_own_token(&reader, request("ro", Scope::Read, TokenExpiry::Days(1)))
        .await
        .is_ok());
    // Robots' tokens are their owners' business.
    let robot = r.create_user("ci-bot", "", false).await.unwrap();
    let mut active: user::ActiveModel = robot.into();
    active.kind = Set(crate::services::ROBOT_KIND.into());
    active.update(r.db()).await.unwrap();
    let secret = r
        .create_token(
            "ci-bot",
            NewToken {
                label: "owner-made".into(),
                scope: Some(Scope::Push),
                expires_in_days: None,
            },
        )
        .await
        .unwrap()
        .secret;
    let bot = r.authenticate(&secret).await.unwrap();
    assert!(matches!(
        err(r
            .create_own_token(&bot, request("mine", Scope::Read, TokenExpiry::Never))
            .await),
        DomainError::Forbidden(_)
    ));
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let alice = signed_in(&r, "alice", false, Scope::Push).await;
    let created = r
        .create_own_token(&alice, request("short", Scope::Push, TokenExpiry::Days(1)))
        .await
        .unwrap();
    let sregistry = {
        // An sregistry credential bound to a token shares its expiry.
        let made = r
            .create_sregistry_secret(
                "alice",
                NewToken {
                    label: "sregistry".into(),
                    scope: Some(Scope::Push),
                    expires_in_days: Some(1),
                },
            )
            .await
            .unwrap();
        (made.token.id, made.secret)
    };
    let sign = |secret: &str, payload: &str| {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(payload.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    };
    let signature = sign(&sregistry.1, "payload");
    assert!(r
        .authenticate_sregistry("alice", "payload", &signature)
        .await
        .is_ok());
    for id in [created.info.id, sregistry.0] {
        let row = api_token::Entity::find_by_id(id)
            .one(r.db())
            .await
            .unwrap()
            .unwrap();
        let mut active: api_token::ActiveModel = row.into();
        active.expires_at = Set(Some(now() - Duration::seconds(1)));
        active.update(r.db()).await.unwrap();
    }
    assert!(matches!(
        r.authenticate(&created.secret).await,
        Err(DomainError::Unauthenticated)
    ));
    assert!(matches!(
        r.authenticate_sregistry("alice", "payload", &signature)
            .await,
        Err(DomainError::Unauthenticated)
    ));
    let listed = r.list_tokens(&alice).await.unwrap();
    let expired = listed.iter().find(|t| t.id == created.info.id).unwrap();
    assert_eq!(expired.status_at(now()), TokenStatus::Expired);
}

#[tokio::test]
async fn revocation_is_own_or_admin_and_audited() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let alice = signed_in(&r, "alice", false, Scope::Push).await;
    let bob = signed_in(&r, "bob", false, Scope::Push).await;
    let admin = signed_in(&r, "root", true, Scope::Admin).await;
    let weak_admin = {
        let secret = r
            .create_token(
                "root",
                NewToken {
                    label: "push only".into(),
                    scope: Some(Scope::Push),
                    expires_in_days: None,
                },
            )
            .await
            .unwrap()
            .secret;
        r.authenticate(&secret).await.unwrap()
    };
    let first = r
        .create_own_token(&alice, request("one", Scope::Push, TokenExpiry::Never))
        .await
        .unwrap();
    let second = r
        .create_own_token(&alice, request("two", Scope::Push, TokenExpiry::Never))
        .await
        .unwrap();
    assert!(matches!(
        r.revoke_token(&bob, first.info.id).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        r.revoke_token(&weak_admin, first.info.id).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        r.revoke_token(&Actor::Anonymous, first.info.id).await,
        Err(DomainError::Unauthenticated)
    ));
    assert!(r.authenticate(&first.secret).await.is_ok(), "still live");
    let revoked = r.revoke_token(&alice, first.info.id).await.unwrap();
    assert_eq!(revoked.status_at(now()), TokenStatus::Revoked);
    assert!(matches!(
        r.authenticate(&first.secret).await,
        Err(DomainError::Unauthenticated)
    ));
    assert!(r
        .login_with_token("alice", &first.secret, Default::default())
        .await
        .is_err());
    let again = r.revoke_token(&alice, first.info.id).await.unwrap();
    assert_eq!(again.revoked_at, revoked.revoked_at, "idempotent");
    r.revoke_token(&admin, second.info.id).await.unwrap();
    assert!(r.authenticate(&second.secret).await.is_err());
    assert!(matches!(
        r.revoke_token(&alice, 999_999).await,
        Err(DomainError::NotFound(_))
    ));
    assert_eq!(audit_count(&r, "token_revoked").await, 2);
}
