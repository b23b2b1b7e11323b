//! STAND-INS for GitHub (Enterprise) and GitLab — not the real services, which cannot be
//! reached from the test machines. One small axum server on loopback plays both, under path
//! prefixes so `base_url` handling is exercised:
//!
//! - `/ghe/login/oauth/authorize`, `/ghe/login/oauth/access_token`, `/ghe/api/v3/user`,
//!   `/ghe/api/v3/user/emails`, `/ghe/api/v3/user/orgs` (GitHub Enterprise Server's layout);
//! - `/gitlab/oauth/authorize`, `/gitlab/oauth/token`, `/gitlab/api/v4/user`,
//!   `/gitlab/api/v4/groups` (a self-hosted GitLab under a path prefix).
//!
//! It checks what the real ones check (client id and secret, redirect URI, single-use codes,
//! PKCE S256, bearer tokens) and answers with the fields Silo reads, in their JSON shapes.
//! The authorize endpoint signs in whoever `set_person` named, without a login page.
#![allow(dead_code)]
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const CLIENT_ID: &str = "silo-standin-client";
pub const CLIENT_SECRET: &str = "silo-standin-secret";

/// The person the stand-in's authorize endpoint signs in.
#[derive(Clone, Debug)]
pub struct Person {
    pub id: u64,
    pub login: String,
    pub name: String,
    pub email: String,
    pub verified: bool,
    /// GitHub organisations / GitLab group paths.
    pub groups: Vec<String>,
}

#[derive(Default)]
struct Inner {
    person: Option<Person>,
    /// Answer the next authorization with `error=access_denied`.
    deny: bool,
    codes: HashMap<String, Grant>,
    tokens: HashMap<String, Person>,
    /// Every request path seen, to assert which endpoints were used.
    seen: Vec<String>,
    /// The `scope` of the last authorization request.
    last_scope: String,
    next: u64,
}

#[derive(Clone)]
struct Grant {
    redirect_uri: String,
    challenge: String,
    person: Person,
}

#[derive(Clone)]
pub struct StandIn {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

impl StandIn {
    /// Starts the stand-in on a free loopback port.
    pub async fn start() -> StandIn {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let standin = StandIn {
            base,
            inner: Arc::default(),
        };
        let app = Router::new()
            .route("/{site}/login/oauth/authorize", get(authorize))
            .route("/{site}/oauth/authorize", get(authorize))
            .route("/{site}/login/oauth/access_token", post(token))
            .route("/{site}/oauth/token", post(token))
            .route("/ghe/api/v3/user", get(github_user))
            .route("/ghe/api/v3/user/emails", get(github_emails))
            .route("/ghe/api/v3/user/orgs", get(github_orgs))
            .route("/gitlab/api/v4/user", get(gitlab_user))
            .route("/gitlab/api/v4/groups", get(gitlab_groups))
            .with_state(standin.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        standin
    }

    pub fn set_person(&self, person: Person) {
        self.inner.lock().unwrap().person = Some(person);
    }

    pub fn deny_next(&self) {
        self.inner.lock().unwrap().deny = true;
    }

    pub fn seen(&self) -> Vec<String> {
        self.inner.lock().unwrap().seen.clone()
    }

    pub fn last_scope(&self) -> String {
        self.inner.lock().unwrap().last_scope.clone()
    }

    fn note(&self, path: &str) {
        self.inner.lock().unwrap().seen.push(path.to_string());
    }

    fn fresh(&self, prefix: &str) -> String {
        let mut inner = self.inner.lock().unwrap();
        inner.next += 1;
        format!("{prefix}-{}-{}", inner.next, rand::random::<u64>())
    }

    /// The person behind `Authorization: Bearer …`.
    fn bearer(&self, headers: &HeaderMap) -> Option<Person> {
        let token = headers
            .get("authorization")?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")?
            .to_string();
        self.inner.lock().unwrap().tokens.get(&token).cloned()
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

async fn authorize(
    State(s): State<StandIn>,
    Path(site): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    s.note(&format!("/{site}/authorize"));
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    if get("client_id") != CLIENT_ID || get("response_type") != "code" {
        return error(StatusCode::BAD_REQUEST, "bad client_id or response_type");
    }
    if get("code_challenge_method") != "S256" || get("code_challenge").len() < 43 {
        return error(StatusCode::BAD_REQUEST, "PKCE S256 required");
    }
    let redirect_uri = get("redirect_uri");
    let mut target = url::Url::parse(&redirect_uri).unwrap();
    let person = {
        let mut inner = s.inner.lock().unwrap();
        inner.last_scope = get("scope");
        if std::mem::take(&mut inner.deny) {
            None
        } else {
            inner.person.clone()
        }
    };
    match person {
        Some(person) => {
            let code = s.fresh("code");
            s.inner.lock().unwrap().codes.insert(
                code.clone(),
                Grant {
                    redirect_uri,
                    challenge: get("code_challenge"),
                    person,
                },
            );
            target.query_pairs_mut().append_pair("code", &code);
        }
        None => {
            target
                .query_pairs_mut()
                .append_pair("error", "access_denied")
                .append_pair(
                    "error_description",
                    "The user has denied your application access.",
                );
        }
    }
    target.query_pairs_mut().append_pair("state", &get("state"));
    Redirect::to(target.as_str()).into_response()
}

async fn token(
    State(s): State<StandIn>,
    Path(site): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    s.note(&format!("/{site}/token"));
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    if get("client_id") != CLIENT_ID || get("client_secret") != CLIENT_SECRET {
        return error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let Some(grant) = s.inner.lock().unwrap().codes.remove(&get("code")) else {
        return error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(get("code_verifier").as_bytes()));
    if get("grant_type") != "authorization_code"
        || get("redirect_uri") != grant.redirect_uri
        || challenge != grant.challenge
    {
        return error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let access = s.fresh("token");
    s.inner
        .lock()
        .unwrap()
        .tokens
        .insert(access.clone(), grant.person);
    Json(json!({"access_token": access, "token_type": "bearer", "scope": ""})).into_response()
}

async fn github_user(State(s): State<StandIn>, headers: HeaderMap) -> Response {
    s.note("/ghe/api/v3/user");
    let Some(p) = s.bearer(&headers) else {
        return error(StatusCode::UNAUTHORIZED, "Bad credentials");
    };
    // GitHub shows only the public e-mail here (null when private).
    Json(
        json!({"id": p.id, "login": p.login, "name": p.name, "email": Value::Null, "type": "User"}),
    )
    .into_response()
}

async fn github_emails(State(s): State<StandIn>, headers: HeaderMap) -> Response {
    s.note("/ghe/api/v3/user/emails");
    let Some(p) = s.bearer(&headers) else {
        return error(StatusCode::UNAUTHORIZED, "Bad credentials");
    };
    Json(json!([
        {"email": format!("{}@users.noreply.example", p.login), "primary": false, "verified": true, "visibility": Value::Null},
        {"email": p.email, "primary": true, "verified": p.verified, "visibility": "private"}
    ]))
    .into_response()
}

async fn github_orgs(State(s): State<StandIn>, headers: HeaderMap) -> Response {
    s.note("/ghe/api/v3/user/orgs");
    let Some(p) = s.bearer(&headers) else {
        return error(StatusCode::UNAUTHORIZED, "Bad credentials");
    };
    let orgs: Vec<Value> = p
        .groups
        .iter()
        .map(|g| json!({"login": g, "id": 1}))
        .collect();
    Json(orgs).into_response()
}

async fn gitlab_user(State(s): State<StandIn>, headers: HeaderMap) -> Response {
    s.note("/gitlab/api/v4/user");
    let Some(p) = s.bearer(&headers) else {
        return error(StatusCode::UNAUTHORIZED, "401 Unauthorized");
    };
    let confirmed = p.verified.then_some("2024-01-01T00:00:00.000Z");
    Json(json!({
        "id": p.id, "username": p.login, "name": p.name, "email": p.email,
        "state": "active", "confirmed_at": confirmed
    }))
    .into_response()
}

async fn gitlab_groups(State(s): State<StandIn>, headers: HeaderMap) -> Response {
    s.note("/gitlab/api/v4/groups");
    let Some(p) = s.bearer(&headers) else {
        return error(StatusCode::UNAUTHORIZED, "401 Unauthorized");
    };
    let groups: Vec<Value> = p
        .groups
        .iter()
        .map(|g| json!({"full_path": g, "path": g.rsplit('/').next()}))
        .collect();
    Json(groups).into_response()
}
