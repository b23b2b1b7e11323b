//! Tests of administration: who may administer, the last-admin rule, disabling, the users
//! search, deleting users (transfer or delete), branding, registration and the audit log.
use std::sync::Arc;

use bytes::Bytes;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::{
    BrandingOverride, ImagesOnDelete, NewToken, NewUser, RegistrationMode, RegistrationSettings,
    Registry, SessionLimits, UserQuery,
};
use crate::entities::{
    api_token, audit_log, collection, container, download_event, entity, image, image_metadata,
    oci_blob, session, star, tag, user,
};
use crate::error::DomainError;
use crate::names::{ContainerPath, Sha256Hex};
use crate::policy::{Actor, Scope};
use crate::store::{ByteStream, FsBlobStore};
use crate::testing::TestDb;

pub(super) async fn registry(db: &TestDb) -> Registry {
    let store = FsBlobStore::open(db.dir.path().join("blobs"))
        .await
        .unwrap();
    Registry::new(db.db.clone(), Arc::new(store)).with_accept_non_sif(true)
}

/// A token secret for `name` with `scope` (default scope when `None`).
pub(super) async fn token(registry: &Registry, name: &str, scope: Option<Scope>) -> String {
    let new = NewToken {
        label: "t".into(),
        scope,
        expires_in_days: None,
    };
    registry.create_token(name, new).await.unwrap().secret
}

/// Creates `name` (an admin when `admin`) and returns an actor with its default token.
pub(super) async fn account(registry: &Registry, name: &str, admin: bool) -> Actor {
    registry
        .create_user(name, &format!("{name}@example.org"), admin)
        .await
        .unwrap();
    let secret = token(registry, name, None).await;
    registry.authenticate(&secret).await.unwrap()
}

pub(super) fn body(bytes: &[u8]) -> ByteStream {
    Box::pin(futures::stream::iter(vec![Ok(Bytes::copy_from_slice(
        bytes,
    ))]))
}

pub(super) fn path(p: &str) -> ContainerPath {
    let parts: Vec<&str> = p.split('/').collect();
    ContainerPath::new(parts[0], parts[1], parts[2]).unwrap()
}

pub(super) fn sha(bytes: &[u8]) -> Sha256Hex {
    Sha256Hex::parse(&hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes))).unwrap()
}

async fn audit_actions(registry: &Registry) -> Vec<String> {
    audit_log::Entity::find()
        .all(registry.db())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

fn refused(result: Result<impl std::fmt::Debug, DomainError>) -> bool {
    matches!(
        result,
        Err(DomainError::Forbidden(_) | DomainError::Unauthenticated)
    )
}

#[tokio::test]
async fn non_admins_are_refused_everywhere() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let _root = account(&r, "root", true).await;
    let alice = account(&r, "alice", false).await;
    // An admin account signed in with a push-scoped token has no admin rights either.
    let push_secret = token(&r, "root", Some(Scope::Push)).await;
    let root_push = r.authenticate(&push_secret).await.unwrap();
    for actor in [Actor::Anonymous, alice, root_push] {
        let q = UserQuery::default();
        assert!(refused(r.admin_list_users(&actor, &q).await), "{actor:?}");
        let new = NewUser {
            username: "eve".into(),
            ..Default::default()
        };
        assert!(refused(r.admin_create_user(&actor, new).await));
        assert!(refused(r.admin_set_role(&actor, "alice", true).await));
        assert!(refused(r.admin_set_active(&actor, "root", false).await));
        let how = ImagesOnDelete::Delete;
        assert!(refused(r.admin_delete_user(&actor, "root", how).await));
        assert!(refused(r.set_user_quota(&actor, "alice", 1).await));
        assert!(refused(r.set_team_quota(&actor, "t", 1).await));
        assert!(refused(r.team_quotas(&actor).await));
        let branding = BrandingOverride {
            name: Some("Evil".into()),
            ..Default::default()
        };
        assert!(refused(r.set_branding(&actor, branding).await));
        let open = RegistrationSettings::default();
        assert!(refused(r.set_registration(&actor, open).await));
        assert!(refused(r.admin_audit_log(&actor, 0).await));
    }
    assert!(r.find_user("eve").await.unwrap().is_none());
    assert!(!r.find_user("alice").await.unwrap().unwrap().is_admin);
    assert!(r.find_user("root").await.unwrap().unwrap().is_active);
    assert!(r.branding_override().await.unwrap().name.is_none());
    assert!(audit_actions(&r).await.is_empty(), "nothing was audited");
}

#[tokio::test]
async fn admins_cannot_remove_themselves_or_the_last_admin() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let root = account(&r, "root", true).await;
    let myself = |res: Result<user::Model, DomainError>| matches!(res, Err(DomainError::Forbidden(m)) if m.contains("your own account"));
    assert!(myself(r.admin_set_role(&root, "root", false).await));
    assert!(myself(r.admin_set_active(&root, "root", false).await));
    let deleted = r
        .admin_delete_user(&root, "root", ImagesOnDelete::Delete)
        .await;
    assert!(matches!(deleted, Err(DomainError::Forbidden(_))));

    let new = NewUser {
        username: "ops".into(),
        email: "ops@example.org".into(),
        is_admin: true,
    };
    r.admin_create_user(&root, new).await.unwrap();
    let ops = r.authenticate(&token(&r, "ops", None).await).await.unwrap();
    assert!(ops.is_admin());
    // ops demotes root; root's request in flight still carries admin rights, but ops is now
    // the last active administrator and stays one.
    assert!(
        !r.admin_set_role(&ops, "root", false)
            .await
            .unwrap()
            .is_admin
    );
    let last = |res: Result<user::Model, DomainError>| matches!(res, Err(DomainError::Forbidden(m)) if m.contains("last active administrator"));
    assert!(last(r.admin_set_role(&root, "ops", false).await));
    assert!(last(r.admin_set_active(&root, "ops", false).await));
    let deleted = r
        .admin_delete_user(&root, "ops", ImagesOnDelete::Delete)
        .await;
    assert!(matches!(deleted, Err(DomainError::Forbidden(m)) if m.contains("last active")));
    assert!(r.find_user("ops").await.unwrap().unwrap().is_admin);
    // With a second administrator again, ops may be demoted by root... once root is one.
    r.admin_set_role(&ops, "root", true).await.unwrap();
    let root = r
        .authenticate(&token(&r, "root", None).await)
        .await
        .unwrap();
    assert!(
        !r.admin_set_role(&root, "ops", false)
            .await
            .unwrap()
            .is_admin
    );
    // Robots are never administrators.
    let robot = NewUser {
        username: "ci".into(),
        ..Default::default()
    };
    let ci = r.admin_create_user(&root, robot).await.unwrap();
    let mut as_robot: user::ActiveModel = ci.into();
    as_robot.kind = sea_orm::Set(super::ROBOT_KIND.into());
    sea_orm::ActiveModelTrait::update(as_robot, r.db())
        .await
        .unwrap();
    assert!(matches!(
        r.admin_set_role(&root, "ci", true).await,
        Err(DomainError::InvalidInput(_))
    ));
}

#[tokio::test]
async fn disabling_ends_sessions_and_tokens_at_once_and_enabling_restores_tokens() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let root = account(&r, "root", true).await;
    r.create_user("bob", "bob@example.org", false)
        .await
        .unwrap();
    let secret = token(&r, "bob", None).await;
    let limits = SessionLimits::default();
    let signed_in = r.login_with_token("bob", &secret, limits).await.unwrap();
    assert!(r
        .resolve_session(&signed_in.secret, limits)
        .await
        .unwrap()
        .is_some());

    let bob = r.admin_set_active(&root, "bob", false).await.unwrap();
    assert!(!bob.is_active);
    assert!(matches!(
        r.authenticate(&secret).await,
        Err(DomainError::Unauthenticated)
    ));
    assert!(r
        .resolve_session(&signed_in.secret, limits)
        .await
        .unwrap()
        .is_none());
    let sessions = session::Entity::find()
        .filter(session::Column::UserId.eq(bob.id))
        .count(r.db())
        .await
        .unwrap();
    assert_eq!(sessions, 0, "the disabled user's sessions are deleted");

    r.admin_set_active(&root, "bob", true).await.unwrap();
    let back = r.authenticate(&secret).await.unwrap();
    assert_eq!(back.principal().unwrap().username, "bob");
    let actions = audit_actions(&r).await;
    assert!(actions.contains(&"user.disable".to_string()), "{actions:?}");
    assert!(actions.contains(&"user.enable".to_string()), "{actions:?}");
}

#[tokio::test]
async fn users_search_matches_name_or_email_literally_and_pages() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let root = account(&r, "root", true).await;
    for (name, email) in [
        ("alice", "alice@uni.edu"),
        ("al_x", "x@lab.org"),
        ("alxy", "y@lab.org"),
        ("bob", "bob@UNI.edu"),
    ] {
        r.create_user(name, email, false).await.unwrap();
    }
    let names = |page: super::AdminUserPage| -> Vec<String> {
        page.users.into_iter().map(|u| u.user.username).collect()
    };
    let find = |s: &str| UserQuery {
        search: s.into(),
        page: 0,
    };
    let all = r.admin_list_users(&root, &find("")).await.unwrap();
    assert_eq!(all.total, 5);
    assert_eq!(
        names(r.admin_list_users(&root, &find("AL")).await.unwrap()),
        ["al_x", "alice", "alxy"]
    );
    // `_` is a character, not a wildcard.
    assert_eq!(
        names(r.admin_list_users(&root, &find("l_")).await.unwrap()),
        ["al_x"]
    );
    assert!(names(r.admin_list_users(&root, &find("%")).await.unwrap()).is_empty());
    // E-mail, case-insensitive.
    assert_eq!(
        names(r.admin_list_users(&root, &find("uni.edu")).await.unwrap()),
        ["alice", "bob"]
    );
    for i in 0..super::USERS_PAGE_SIZE {
        r.create_user(&format!("zz{i:03}"), "", false)
            .await
            .unwrap();
    }
    let second = UserQuery {
        search: String::new(),
        page: 1,
    };
    let page = r.admin_list_users(&root, &second).await.unwrap();
    assert_eq!(page.total, 5 + super::USERS_PAGE_SIZE);
    assert_eq!(page.users.len(), 5);
    assert!(page.users.iter().all(|u| u.user.username.starts_with("zz")));
}

/// Pushes `bytes` to `p:latest` through the sregistry path (hash learnt from the bytes).
pub(super) async fn push(r: &Registry, actor: &Actor, p: &str, bytes: &[u8]) -> i64 {
    r.push_stream(actor, &path(p), "latest", body(bytes))
        .await
        .unwrap()
        .image
        .id
}

#[tokio::test]
async fn deleting_a_user_can_transfer_their_entities() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let root = account(&r, "root", true).await;
    let alice = account(&r, "alice", false).await;
    let bob = account(&r, "bob", false).await;
    push(&r, &alice, "alice/lab/tool", b"alice's image").await;
    let alice_id = alice.user_id().unwrap();
    let refused = r
        .admin_delete_user(&root, "alice", ImagesOnDelete::TransferTo("alice".into()))
        .await;
    assert!(matches!(refused, Err(DomainError::InvalidInput(_))));
    let refused = r
        .admin_delete_user(&root, "alice", ImagesOnDelete::TransferTo("nobody".into()))
        .await;
    assert!(matches!(refused, Err(DomainError::InvalidInput(_))));

    let done = r
        .admin_delete_user(&root, "alice", ImagesOnDelete::TransferTo("bob".into()))
        .await
        .unwrap();
    assert_eq!(done.entities, 1);
    assert_eq!(done.images_deleted, 0);
    assert!(r.find_user("alice").await.unwrap().is_none());
    let moved = r.entity("alice").await.unwrap();
    assert_eq!(
        moved.owner_id,
        bob.user_id(),
        "the entity keeps its name, bob owns it"
    );
    let coll = collection::Entity::find()
        .filter(collection::Column::EntityId.eq(moved.id))
        .one(r.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(coll.owner_id, bob.user_id());
    // Bob may now push there; the image is still pulled by its old name.
    r.check_push(&bob, &path("alice/lab/tool")).await.unwrap();
    let view = r.container(&bob, &path("alice/lab/tool")).await.unwrap();
    assert_eq!(r.container_contents(&view).await.unwrap().0.len(), 1);
    let tokens = api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(alice_id))
        .count(r.db())
        .await
        .unwrap();
    assert_eq!(tokens, 0);
    assert!(audit_actions(&r).await.contains(&"user.delete".into()));
}

#[tokio::test]
async fn deleting_a_user_with_their_images_leaves_no_orphans() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let root = account(&r, "root", true).await;
    let alice = account(&r, "alice", false).await;
    let bob = account(&r, "bob", false).await;
    let unique = b"only alice has this".to_vec();
    let shared = b"bob has this too".to_vec();
    push(&r, &alice, "alice/lab/one", &unique).await;
    push(&r, &alice, "alice/lab/two", &shared).await;
    push(&r, &bob, "bob/tools/same", &shared).await;
    // Bob stars alice's collection and container; alice stars bob's.
    use super::StarTarget;
    let alice_coll = StarTarget::Collection {
        entity: "alice".into(),
        collection: "lab".into(),
    };
    r.set_star(&bob, &alice_coll, true).await.unwrap();
    let alice_cont = StarTarget::Container(path("alice/lab/one"));
    r.set_star(&bob, &alice_cont, true).await.unwrap();
    let bob_cont = StarTarget::Container(path("bob/tools/same"));
    r.set_star(&alice, &bob_cont, true).await.unwrap();
    let reference = crate::names::ImageRef::parse("alice/lab/one:latest").unwrap();
    r.download(&bob, &reference, None, None, "library", true)
        .await
        .unwrap();

    let done = r
        .admin_delete_user(&root, "alice", ImagesOnDelete::Delete)
        .await
        .unwrap();
    assert_eq!(
        (done.entities, done.containers_deleted, done.images_deleted),
        (1, 2, 2)
    );
    assert!(r.find_user("alice").await.unwrap().is_none());
    assert!(matches!(
        r.entity("alice").await,
        Err(DomainError::NotFound(_))
    ));
    let db = r.db();
    assert_eq!(collection::Entity::find().count(db).await.unwrap(), 1);
    assert_eq!(container::Entity::find().count(db).await.unwrap(), 1);
    assert_eq!(image::Entity::find().count(db).await.unwrap(), 1);
    assert_eq!(tag::Entity::find().count(db).await.unwrap(), 1);
    assert_eq!(entity::Entity::find().count(db).await.unwrap(), 1);
    let images: Vec<i64> = image::Entity::find()
        .all(db)
        .await
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    for meta in image_metadata::Entity::find().all(db).await.unwrap() {
        assert!(images.contains(&meta.image_id), "orphan SIF metadata");
    }
    assert_eq!(star::Entity::find().count(db).await.unwrap(), 0);
    assert_eq!(download_event::Entity::find().count(db).await.unwrap(), 0);
    assert_eq!(oci_blob::Entity::find().count(db).await.unwrap(), 0);
    assert_eq!(
        api_token::Entity::find()
            .filter(api_token::Column::UserId.eq(alice.user_id().unwrap()))
            .count(db)
            .await
            .unwrap(),
        0
    );
    // Garbage collection removes the bytes only alice used; the shared ones stay for bob.
    assert!(r.store().size(&sha(&unique)).await.unwrap().is_some());
    let gc = crate::services::GcOptions {
        grace: std::time::Duration::ZERO,
        ..Default::default()
    };
    r.collect_garbage(&gc).await.unwrap();
    assert!(r.store().size(&sha(&unique)).await.unwrap().is_none());
    assert!(r.store().size(&sha(&shared)).await.unwrap().is_some());
    let bob_ref = crate::names::ImageRef::parse("bob/tools/same:latest").unwrap();
    r.download(&bob, &bob_ref, None, None, "library", false)
        .await
        .unwrap();
}

#[tokio::test]
async fn branding_overrides_field_by_field_and_refuses_unsafe_links() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let root = account(&r, "root", true).await;
    assert_eq!(
        r.branding_override().await.unwrap(),
        BrandingOverride::default()
    );
    let set = BrandingOverride {
        name: Some("  HPC Registry ".into()),
        help_email: Some(String::new()),
        logo_url: Some("/static/logo.png".into()),
        ..Default::default()
    };
    let saved = r.set_branding(&root, set).await.unwrap();
    assert_eq!(saved.name.as_deref(), Some("HPC Registry"));
    assert_eq!(
        saved.help_email, None,
        "empty falls back to the configuration"
    );
    let stored = r.branding_override().await.unwrap();
    assert_eq!(stored, saved);
    assert_eq!(
        BrandingOverride::pick(&stored.name, "Config Centre"),
        "HPC Registry"
    );
    assert_eq!(
        BrandingOverride::pick(&stored.institution_name, "Config Uni"),
        "Config Uni"
    );
    for bad in [
        "javascript:alert(1)",
        "//evil.example/x.png",
        "data:image/png;base64,AA",
    ] {
        let attempt = BrandingOverride {
            logo_url: Some(bad.into()),
            ..Default::default()
        };
        assert!(matches!(
            r.set_branding(&root, attempt).await,
            Err(DomainError::InvalidInput(_))
        ));
    }
    assert_eq!(
        r.branding_override().await.unwrap(),
        saved,
        "refusals change nothing"
    );
    let entry = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("branding.update"))
        .all(r.db())
        .await
        .unwrap();
    assert_eq!(entry.len(), 1);
    assert!(entry[0].detail.contains("HPC Registry"));
}

#[tokio::test]
async fn registration_settings_round_trip() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let root = account(&r, "root", true).await;
    assert_eq!(r.registration().await.unwrap().mode, RegistrationMode::Open);
    let rules = RegistrationSettings {
        mode: RegistrationMode::Restricted,
        email_domains: vec!["@Uni.edu".into(), " ".into()],
        groups: vec!["hpc-users".into()],
    };
    let saved = r.set_registration(&root, rules).await.unwrap();
    assert_eq!(saved.email_domains, ["uni.edu"]);
    assert_eq!(r.registration().await.unwrap(), saved);
    let empty = RegistrationSettings {
        mode: RegistrationMode::Restricted,
        ..Default::default()
    };
    assert!(matches!(
        r.set_registration(&root, empty).await,
        Err(DomainError::InvalidInput(_))
    ));
    let closed = RegistrationSettings {
        mode: RegistrationMode::Closed,
        ..Default::default()
    };
    r.set_registration(&root, closed.clone()).await.unwrap();
    assert_eq!(r.registration().await.unwrap(), closed);
}

#[tokio::test]
async fn every_admin_action_is_audited_with_its_actor() {
    let db = TestDb::new().await;
    let r = registry(&db).await;
    let root = account(&r, "root", true).await;
    let new = NewUser {
        username: "carol".into(),
        email: "carol@example.org".into(),
        is_admin: false,
    };
    r.admin_create_user(&root, new).await.unwrap();
    r.create_user("dave", "", false).await.unwrap();
    r.admin_set_role(&root, "carol", true).await.unwrap();
    r.admin_set_active(&root, "carol", false).await.unwrap();
    r.admin_set_active(&root, "carol", true).await.unwrap();
    r.set_user_quota(&root, "carol", 1 << 30).await.unwrap();
    let team = crate::entities::team::ActiveModel {
        name: sea_orm::Set("lab".into()),
        description: sea_orm::Set(String::new()),
        created_at: sea_orm::Set(super::now()),
        quota: sea_orm::Set(0),
        ..Default::default()
    };
    sea_orm::ActiveModelTrait::insert(team, r.db())
        .await
        .unwrap();
    r.set_team_quota(&root, "lab", 1 << 20).await.unwrap();
    let branding = BrandingOverride {
        name: Some("X".into()),
        ..Default::default()
    };
    r.set_branding(&root, branding).await.unwrap();
    r.set_registration(&root, RegistrationSettings::default())
        .await
        .unwrap();
    r.admin_delete_user(&root, "dave", ImagesOnDelete::Delete)
        .await
        .unwrap();
    let (page, names) = r.admin_audit_log(&root, 0).await.unwrap();
    let actions: Vec<&str> = page.entries.iter().map(|e| e.action.as_str()).collect();
    // Newest first.
    assert_eq!(
        actions,
        [
            "user.delete",
            "registration.update",
            "branding.update",
            "quota.team",
            "quota.user",
            "user.enable",
            "user.disable",
            "user.role",
            "user.create",
        ]
    );
    assert_eq!(page.total, 9);
    let root_id = root.user_id().unwrap();
    assert!(page.entries.iter().all(|e| e.actor_id == Some(root_id)));
    assert_eq!(names.get(&root_id).map(String::as_str), Some("root"));
    assert_eq!(page.entries[0].target, "user:dave");
    assert!(page.entries[4].detail.contains("1073741824"));
}
