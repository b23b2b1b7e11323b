//! The one world the privacy matrix runs in: two entities (a user's and a team's), each with a
//! public and a private collection holding one container with one tagged, uploaded image,
//! and one caller of each kind the matrix covers.
//!
//! Teams, collection roles and share links are inserted as rows: their services are written
//! elsewhere; the grants they carry are what `Registry::principal_for` loads.
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use silo_domain::entities::{
    api_token, collection_role, entity, share_link, sregistry_credential, team, team_membership,
};
use silo_domain::services::{NewToken, SessionLimits};
use silo_domain::Scope;

use crate::common::{sha256_hex, Harness};
use crate::sreg::Key;

/// Every kind of caller in the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Who {
    Anonymous,
    Other,
    Reader,
    Contributor,
    Owner,
    TeamMember,
    Admin,
    /// The owner acting through a read-scoped token (and a session signed in with it).
    ReadOnlyToken,
    ExpiredToken,
    RevokedToken,
    /// A contributor whose account an admin disabled.
    Disabled,
    ShareLink,
    ExpiredShareLink,
}

impl Who {
    pub const ALL: [Who; 13] = [
        Who::Anonymous,
        Who::Other,
        Who::Reader,
        Who::Contributor,
        Who::Owner,
        Who::TeamMember,
        Who::Admin,
        Who::ReadOnlyToken,
        Who::ExpiredToken,
        Who::RevokedToken,
        Who::Disabled,
        Who::ShareLink,
        Who::ExpiredShareLink,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Who::Anonymous => "anonymous",
            Who::Other => "other",
            Who::Reader => "reader",
            Who::Contributor => "contrib",
            Who::Owner => "owner",
            Who::TeamMember => "team",
            Who::Admin => "admin",
            Who::ReadOnlyToken => "owner-ro",
            Who::Disabled => "disabled",
            Who::ExpiredToken => "expired",
            Who::RevokedToken => "revoked",
            Who::ShareLink => "share",
            Who::ExpiredShareLink => "share-exp",
        }
    }
}

/// One collection the matrix targets, with its container `tool` and image tagged `v1`.
#[derive(Clone, Debug)]
pub struct Target {
    pub entity: &'static str,
    pub collection: &'static str,
    pub private: bool,
    /// The team entity's collections (`lab/…`), rather than the user's (`olivia/…`).
    pub team: bool,
    pub collection_id: i64,
    pub container_id: i64,
    pub image_id: i64,
    pub bytes: Vec<u8>,
}

impl Target {
    pub fn path(&self) -> String {
        format!("{}/{}/{CONTAINER}", self.entity, self.collection)
    }
    pub fn sha(&self) -> String {
        sha256_hex(&self.bytes)
    }
    pub fn label(&self) -> String {
        format!("{}/{}", self.entity, self.collection)
    }
}

pub const CONTAINER: &str = "tool";
pub const TAG: &str = "v1";

/// A caller's credentials on every surface.
#[derive(Clone, Default)]
pub struct Creds {
    /// `Authorization: Bearer` API token (library, OCI, REST, shub, sregistry listing).
    pub token: Option<String>,
    /// sregistry HMAC credential (sregistry pull, push, delete).
    pub key: Option<Key>,
    /// The web session cookie (SPA server functions).
    pub cookie: Option<String>,
    /// A share link's secret (share routes only).
    pub share: Option<String>,
}

pub struct World {
    pub h: Harness,
    pub targets: Vec<Target>,
    pub creds: Vec<(Who, Creds)>,
    /// A push token of the user owning `olivia` and of the admin, for preparing cells.
    pub owner_token: String,
    pub admin_token: String,
}

impl World {
    pub fn creds(&self, who: Who) -> &Creds {
        &self.creds.iter().find(|(w, _)| *w == who).unwrap().1
    }
}

/// Distinct sizes, so that any sum of them names exactly which images it counted.
const SIZES: [usize; 4] = [1000, 2000, 4000, 8000];

fn image_bytes(marker: &str, size: usize) -> Vec<u8> {
    let mut bytes = format!("IMAGE-OF-{marker}-").into_bytes();
    bytes.resize(size, b'.');
    bytes
}

async fn user_id(h: &Harness, name: &str) -> i64 {
    h.registry.find_user(name).await.unwrap().unwrap().id
}

async fn key(h: &Harness, name: &str, scope: Option<Scope>) -> (Key, i64) {
    let new = NewToken {
        label: "sregistry".into(),
        scope,
        expires_in_days: None,
    };
    let created = h.registry.create_sregistry_secret(name, new).await.unwrap();
    let key = Key {
        username: created.username,
        secret: created.secret,
    };
    (key, created.token.id)
}

/// Makes the API token with this id expired (`revoke: false`) or revoked.
async fn spoil(h: &Harness, token_id: i64, revoke: bool) {
    let row = api_token::Entity::find_by_id(token_id)
        .one(h.registry.db())
        .await
        .unwrap()
        .unwrap();
    let mut active: api_token::ActiveModel = row.into();
    if revoke {
        active.revoked_at = Set(Some(Utc::now() - Duration::minutes(1)));
    } else {
        active.expires_at = Set(Some(Utc::now() - Duration::minutes(1)));
    }
    active.update(h.registry.db()).await.unwrap();
}

async fn token_id(h: &Harness, secret: &str) -> i64 {
    api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(sha256_hex(secret.as_bytes())))
        .one(h.registry.db())
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn cookie(h: &Harness, token: &str) -> String {
    let actor = h.registry.authenticate(token).await.unwrap();
    h.registry
        .create_session(&actor, SessionLimits::default())
        .await
        .unwrap()
        .secret
}

async fn share_row(h: &Harness, container_id: i64, created_by: i64, expired: bool) -> String {
    let secret = format!("silos_{}", silo_domain::services::random_hex(24));
    let at = Utc::now();
    share_link::ActiveModel {
        container_id: Set(container_id),
        token_hash: Set(sha256_hex(secret.as_bytes())),
        label: Set("matrix".into()),
        created_by: Set(created_by),
        created_at: Set(at - Duration::days(2)),
        expires_at: Set(if expired {
            at - Duration::hours(1)
        } else {
            at + Duration::days(1)
        }),
        revoked_at: Set(None),
        last_used_at: Set(None),
        use_count: Set(0),
        ..Default::default()
    }
    .insert(h.registry.db())
    .await
    .unwrap();
    secret
}

async fn grant_role(h: &Harness, collection_id: i64, user: i64, role: &str) {
    collection_role::ActiveModel {
        collection_id: Set(collection_id),
        user_id: Set(Some(user)),
        team_id: Set(None),
        role: Set(role.into()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(h.registry.db())
    .await
    .unwrap();
}

/// Builds the world: `olivia/gallery` (public) and `olivia/diary` (private) owned by olivia,
/// `lab/papers` (public) and `lab/drafts` (private) of the entity owned by team `lab`.
pub async fn build() -> World {
    let h = Harness::new().await;
    let owner_token = h.user("olivia", false).await;
    let admin_token = h.user("root", true).await;
    for name in ["oscar", "rita", "carl", "tess", "dora"] {
        h.registry.create_user(name, "", false).await.unwrap();
    }
    // The team entity: created by the admin, then handed to the team.
    let r = h
        .post_json(
            "/v1/entities",
            Some(&admin_token),
            serde_json::json!({"name": "lab"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let team = team::ActiveModel {
        name: Set("lab".into()),
        description: Set(String::new()),
        created_at: Set(Utc::now()),
        quota: Set(0),
        ..Default::default()
    }
    .insert(h.registry.db())
    .await
    .unwrap();
    let lab = h.registry.entity("lab").await.unwrap();
    let mut lab: entity::ActiveModel = lab.into();
    lab.owner_id = Set(None);
    lab.team_id = Set(Some(team.id));
    lab.update(h.registry.db()).await.unwrap();
    team_membership::ActiveModel {
        team_id: Set(team.id),
        user_id: Set(user_id(&h, "tess").await),
        role: Set("member".into()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(h.registry.db())
    .await
    .unwrap();

    let layout = [
        ("olivia", "gallery", false, false),
        ("olivia", "diary", true, false),
        ("lab", "papers", false, true),
        ("lab", "drafts", true, true),
    ];
    let mut targets = Vec::new();
    for (i, (e, c, private, team)) in layout.into_iter().enumerate() {
        let token = if team { &admin_token } else { &owner_token };
        let container = h
            .container(token, &format!("{e}/{c}/{CONTAINER}"), private)
            .await;
        let bytes = image_bytes(&format!("{e}-{c}"), SIZES[i]);
        let image = h.push(token, &container, &bytes, TAG).await;
        let coll = h
            .get(&format!("/v1/collections/{e}/{c}"), Some(token))
            .await;
        targets.push(Target {
            entity: e,
            collection: c,
            private,
            team,
            collection_id: coll.data()["id"].as_str().unwrap().parse().unwrap(),
            container_id: container.parse().unwrap(),
            image_id: image.parse().unwrap(),
            bytes,
        });
    }
    for t in targets.iter().filter(|t| !t.team) {
        grant_role(&h, t.collection_id, user_id(&h, "rita").await, "reader").await;
        grant_role(
            &h,
            t.collection_id,
            user_id(&h, "carl").await,
            "contributor",
        )
        .await;
    }

    let mut creds = Vec::new();
    for (who, name) in [
        (Who::Other, "oscar"),
        (Who::Reader, "rita"),
        (Who::Contributor, "carl"),
        (Who::Owner, "olivia"),
        (Who::TeamMember, "tess"),
        (Who::Admin, "root"),
    ] {
        let token = h.token(name).await;
        creds.push((
            who,
            Creds {
                cookie: Some(cookie(&h, &token).await),
                token: Some(token),
                key: Some(key(&h, name, None).await.0),
                share: None,
            },
        ));
    }
    let read_only = h
        .registry
        .create_token(
            "olivia",
            NewToken {
                label: "read".into(),
                scope: Some(Scope::Read),
                expires_in_days: None,
            },
        )
        .await
        .unwrap()
        .secret;
    creds.push((
        Who::ReadOnlyToken,
        Creds {
            cookie: Some(cookie(&h, &read_only).await),
            token: Some(read_only),
            key: Some(key(&h, "olivia", Some(Scope::Read)).await.0),
            share: None,
        },
    ));
    // Disabled after its credentials were issued: a session would simply end, so the
    // browser cells use its token.
    let dora = Creds {
        token: Some(h.token("dora").await),
        key: Some(key(&h, "dora", None).await.0),
        cookie: None,
        share: None,
    };
    let account = h.registry.find_user("dora").await.unwrap().unwrap();
    let mut account: silo_domain::entities::user::ActiveModel = account.into();
    account.is_active = Set(false);
    account.update(h.registry.db()).await.unwrap();
    creds.push((Who::Disabled, dora));
    for (who, revoke) in [(Who::ExpiredToken, false), (Who::RevokedToken, true)] {
        // The owner's own credentials: even they must be refused once spoilt.
        let token = h.token("olivia").await;
        spoil(&h, token_id(&h, &token).await, revoke).await;
        let (key, key_token) = key(&h, "olivia", None).await;
        spoil(&h, key_token, revoke).await;
        creds.push((
            who,
            Creds {
                token: Some(token),
                key: Some(key),
                cookie: None,
                share: None,
            },
        ));
    }
    let diary = targets.iter().find(|t| t.collection == "diary").unwrap();
    let olivia = user_id(&h, "olivia").await;
    creds.push((Who::Anonymous, Creds::default()));
    for (who, expired) in [(Who::ShareLink, false), (Who::ExpiredShareLink, true)] {
        let share = Some(share_row(&h, diary.container_id, olivia, expired).await);
        creds.push((
            who,
            Creds {
                share,
                ..Default::default()
            },
        ));
    }
    assert_eq!(
        sregistry_credential::Entity::find()
            .all(h.registry.db())
            .await
            .unwrap()
            .len(),
        10
    );
    World {
        h,
        targets,
        creds,
        owner_token,
        admin_token,
    }
}
