//! Direct LDAP bind sign-in (`POST /auth/ldap`) against a real OpenLDAP slapd the tests start
//! (ldap_support), and the login rate limit on it and on the token sign-in: sessions, one
//! message for every credential failure, group-to-role mapping (and demotion), filter
//! injection, StartTLS errors, an unreachable directory, registration by group.
mod common;
mod ldap_support;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use common::{Harness, Reply, PUBLIC_URL};
use ldap_support::Slapd;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;
use server::auth::ldap_config::LdapSettings;
use silo_domain::entities::{audit_log, identity, user};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const GENERIC: &str = "the user name or the password is not valid";
const CLIENT: &str = "192.0.2.10:40000";

/// A directory and a registry configured for it (`adjust` changes the settings first).
async fn setup(adjust: impl FnOnce(&mut LdapSettings)) -> Option<(Slapd, Harness)> {
    let slapd = Slapd::start()?;
    let mut settings = slapd.settings();
    adjust(&mut settings);
    assert_eq!(settings.problems(), Vec::<String>::new());
    let h = Harness::with_config(|c| c.auth.ldap = Some(settings)).await;
    Some((slapd, h))
}

/// The login form as the browser posts it, from `client`.
async fn post_form(
    h: &Harness,
    fields: &[(&str, &str)],
    origin: Option<&str>,
    client: &str,
) -> Reply {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let mut builder = Request::builder()
        .method("POST")
        .uri("/auth/ldap")
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(origin) = origin {
        builder = builder.header("origin", origin);
    }
    let mut request = builder.body(Body::from(body)).unwrap();
    let peer: SocketAddr = client.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    h.send(request).await
}

/// What a sign-in led to: the session cookie's value, or the login page's error message.
fn outcome(reply: &Reply) -> Result<String, String> {
    assert_eq!(
        reply.status,
        StatusCode::SEE_OTHER,
        "{reply:?}",
        reply = text(reply)
    );
    let location = reply.header("location").expect("a Location");
    if let Some(query) = location.strip_prefix("/login?") {
        assert!(reply.header("set-cookie").is_none(), "no cookie on failure");
        let error = url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "error")
            .map(|(_, v)| v.into_owned())
            .expect("an error message");
        return Err(error);
    }
    let cookie = reply.header("set-cookie").expect("a session cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    Ok(cookie
        .strip_prefix("silo_session=")
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .to_string())
}

async fn login(h: &Harness, username: &str, password: &str) -> Result<String, String> {
    let reply = post_form(
        h,
        &[("username", username), ("password", password)],
        Some(PUBLIC_URL),
        CLIENT,
    )
    .await;
    outcome(&reply)
}

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

/// The signed-in user as the SPA's `viewer` server function sees them.
async fn viewer(h: &Harness, cookie: &str) -> Value {
    let request = Request::builder()
        .method("POST")
        .uri("/rpc/viewer")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .header("cookie", format!("silo_session={cookie}"))
        .header("origin", PUBLIC_URL)
        .body(Body::empty())
        .unwrap();
    let reply = h.send(request).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    reply.json()
}

async fn account(h: &Harness, name: &str) -> user::Model {
    user::Entity::find()
        .filter(user::Column::Username.eq(name))
        .one(h.registry.db())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no account {name}"))
}

#[tokio::test]
async fn directory_login_opens_a_session_and_groups_decide_the_admin_role() {
    let Some((slapd, h)) = setup(|_| {}).await else {
        return;
    };
    let reply = post_form(
        &h,
        &[
            ("username", "alice"),
            ("password", "alice-password"),
            ("return_to", "/c/alice/tools?tab=tags"),
        ],
        Some(PUBLIC_URL),
        CLIENT,
    )
    .await;
    assert_eq!(
        reply.header("location").as_deref(),
        Some("/c/alice/tools?tab=tags")
    );
    let alice = outcome(&reply).unwrap();
    let me = viewer(&h, &alice).await;
    assert_eq!(me["username"], "alice");
    assert_eq!(me["is_admin"], true, "member of registry-admins");
    let row = account(&h, "alice").await;
    assert_eq!(
        (row.email.as_str(), row.realname.as_str()),
        ("alice@silo.test", "Alice Archer")
    );
    // Linked by the entry's UUID, not by name or e-mail.
    let link = identity::Entity::find()
        .filter(identity::Column::UserId.eq(row.id))
        .one(h.registry.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.provider, "ldap");
    assert_eq!(link.subject.len(), 36, "an entryUUID: {}", link.subject);

    let bob = login(&h, "bob", "bob-password").await.unwrap();
    let me = viewer(&h, &bob).await;
    assert_eq!(
        (me["username"].as_str(), me["is_admin"].as_bool()),
        (Some("bob"), Some(false))
    );

    // Leaving the admin group demotes at the next sign-in; the account stays the same.
    slapd.modify(
        "dn: cn=registry-admins,ou=groups,dc=silo,dc=test\nchangetype: modify\n\
         replace: member\nmember: uid=bob,ou=people,dc=silo,dc=test\n",
    );
    let again = login(&h, "alice", "alice-password").await.unwrap();
    assert_eq!(viewer(&h, &again).await["is_admin"], false);
    assert_eq!(account(&h, "alice").await.id, row.id);
    let bob = login(&h, "bob", "bob-password").await.unwrap();
    assert_eq!(viewer(&h, &bob).await["is_admin"], true, "promoted");
    let users = user::Entity::find().count(h.registry.db()).await.unwrap();
    assert_eq!(users, 2);
}

#[tokio::test]
async fn credential_failures_share_one_message_and_are_audited() {
    let Some((_slapd, h)) = setup(|_| {}).await else {
        return;
    };
    let failures = [
        ("alice", "wrong-password"),
        ("nobody", "alice-password"),
        ("alice", ""),
        ("", "alice-password"),
        // The service account exists but is outside base_dn.
        ("registry", "service-secret"),
    ];
    for (name, password) in failures {
        assert_eq!(
            login(&h, name, password).await,
            Err(GENERIC.to_string()),
            "{name:?} / {password:?}"
        );
    }
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("login_failed"))
        .count(h.registry.db())
        .await
        .unwrap();
    assert_eq!(audited, failures.len() as u64);
    assert_eq!(
        user::Entity::find().count(h.registry.db()).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn filter_metacharacters_in_names_are_escaped() {
    let Some((_slapd, h)) = setup(|_| {}).await else {
        return;
    };
    // Unescaped, each of these would find alice's entry (and bind with her password).
    for injected in [
        "al*",
        "*",
        "alice)(uid=*",
        "*)(|(uid=alice",
        "alice)(|(objectClass=*)",
        "al\\2a",
    ] {
        assert_eq!(
            login(&h, injected, "alice-password").await,
            Err(GENERIC.to_string()),
            "{injected:?}"
        );
    }
    assert_eq!(
        user::Entity::find().count(h.registry.db()).await.unwrap(),
        0
    );
    // A real name full of metacharacters is found exactly.
    let orla = login(&h, "o(brien)*", "orla-password").await.unwrap();
    assert_eq!(viewer(&h, &orla).await["username"], "o-brien");
}

#[tokio::test]
async fn anonymous_search_posix_groups_and_allowed_groups() {
    let Some((_slapd, h)) = setup(|s| {
        s.bind_dn.clear();
        s.bind_password.clear();
        s.allowed_groups = vec!["hpc-users".into()];
        s.admin_groups = vec!["cn=staff,ou=groups,dc=silo,dc=test".into()];
    })
    .await
    else {
        return;
    };
    let carol = login(&h, "carol", "carol-password").await.unwrap();
    assert_eq!(viewer(&h, &carol).await["is_admin"], false);
    // bob: posix group member, and admin through the staff group named by its DN.
    let bob = login(&h, "bob", "bob-password").await.unwrap();
    assert_eq!(viewer(&h, &bob).await["is_admin"], true);
    // alice has the right password but is in no allowed group.
    let refused = login(&h, "alice", "alice-password").await.unwrap_err();
    assert!(refused.contains("not in a group allowed"), "{refused}");
}

#[tokio::test]
async fn registration_restricted_to_a_directory_group() {
    let Some((_slapd, h)) = setup(|_| {}).await else {
        return;
    };
    let admin_token = h.user("root", true).await;
    let admin = h.registry.authenticate(&admin_token).await.unwrap();
    let rules = silo_domain::services::RegistrationSettings {
        mode: silo_domain::services::RegistrationMode::Restricted,
        email_domains: Vec::new(),
        groups: vec!["hpc-users".into()],
    };
    h.registry.set_registration(&admin, rules).await.unwrap();
    assert!(login(&h, "carol", "carol-password").await.is_ok());
    let refused = login(&h, "alice", "alice-password").await.unwrap_err();
    assert_eq!(refused, silo_domain::services::REGISTRATION_REFUSED);
}

#[tokio::test]
async fn directory_trouble_is_explained_quickly_and_never_a_500() {
    let Some((slapd, h)) = setup(|s| s.starttls = true).await else {
        return;
    };
    // This slapd has no TLS: StartTLS fails with a clear message, not a hang.
    let started = Instant::now();
    let refused = login(&h, "alice", "alice-password").await.unwrap_err();
    assert!(refused.contains("TLS"), "{refused}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    let mut wrong_service = slapd.settings();
    wrong_service.bind_password = "not-the-password".into();
    let h = Harness::with_config(|c| c.auth.ldap = Some(wrong_service)).await;
    let refused = login(&h, "alice", "alice-password").await.unwrap_err();
    assert!(refused.contains("service account"), "{refused}");

    let mut gone = slapd.settings();
    let port = slapd.port;
    drop(slapd);
    gone.url = format!("ldap://127.0.0.1:{port}");
    let h = Harness::with_config(|c| c.auth.ldap = Some(gone)).await;
    let refused = login(&h, "alice", "alice-password").await.unwrap_err();
    assert!(refused.contains("cannot be reached"), "{refused}");
}

#[tokio::test]
async fn starttls_with_the_sites_ca_signs_in_and_an_untrusted_certificate_does_not() {
    let Some(slapd) = Slapd::start_with_tls() else {
        return;
    };
    let mut settings = slapd.settings();
    settings.starttls = true;
    settings.tls_ca_file = Some(slapd.ca_file());
    assert_eq!(settings.problems(), Vec::<String>::new());
    let h = Harness::with_config(|c| c.auth.ldap = Some(settings.clone())).await;
    let alice = login(&h, "alice", "alice-password").await.unwrap();
    assert_eq!(viewer(&h, &alice).await["username"], "alice");
    // The system store does not know the test CA: refused before any credential is sent.
    settings.tls_ca_file = None;
    let h = Harness::with_config(|c| c.auth.ldap = Some(settings)).await;
    let refused = login(&h, "alice", "alice-password").await.unwrap_err();
    assert!(refused.contains("TLS"), "{refused}");
}

#[tokio::test]
async fn the_form_is_same_origin_only_and_returns_only_to_local_pages() {
    let Some((_slapd, h)) = setup(|_| {}).await else {
        return;
    };
    let form = [("username", "alice"), ("password", "alice-password")];
    for origin in [Some("https://evil.example"), None] {
        let reply = post_form(&h, &form, origin, CLIENT).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", text(&reply));
        assert!(text(&reply).contains("cross-origin"));
        assert!(reply.header("set-cookie").is_none());
    }
    // A failure keeps the page to return to for the login page (`next`).
    let reply = post_form(
        &h,
        &[
            ("username", "alice"),
            ("password", "wrong"),
            ("return_to", "/c/a/b?x=1"),
        ],
        Some(PUBLIC_URL),
        CLIENT,
    )
    .await;
    let location = reply.header("location").unwrap();
    assert!(
        location.ends_with("&next=%2Fc%2Fa%2Fb%3Fx%3D1"),
        "{location}"
    );
    for evil in ["https://evil.example/", "//evil.example/x"] {
        let mut fields = form.to_vec();
        fields.push(("return_to", evil));
        let reply = post_form(&h, &fields, Some(PUBLIC_URL), CLIENT).await;
        assert_eq!(reply.header("location").as_deref(), Some("/"));
    }
    // Without [auth.ldap] there is no such form.
    let plain = Harness::new().await;
    let reply = post_form(&plain, &form, Some(PUBLIC_URL), CLIENT).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn failed_sign_ins_are_rate_limited_per_user_and_per_client() {
    let Some(slapd) = Slapd::start() else {
        return;
    };
    let h = Harness::with_config(|c| {
        c.auth.ldap = Some(slapd.settings());
        c.auth.rate_limit.max_failures_per_user = 3;
        c.auth.rate_limit.max_failures_per_ip = 5;
    })
    .await;
    for _ in 0..3 {
        assert_eq!(login(&h, "alice", "guess").await, Err(GENERIC.to_string()));
    }
    // Now even the right password is refused, with the time to wait.
    let reply = post_form(
        &h,
        &[("username", "Alice"), ("password", "alice-password")],
        Some(PUBLIC_URL),
        "198.51.100.1:1",
    )
    .await;
    let refused = outcome(&reply).unwrap_err();
    assert!(
        refused.starts_with("too many failed sign-in attempts; try again in "),
        "{refused}"
    );
    let wait: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((295..=300).contains(&wait), "{wait}");
    // Other users are unaffected.
    assert!(login(&h, "bob", "bob-password").await.is_ok());
    // Two more failures from the client (5 in all) block it for every name.
    assert!(login(&h, "carol", "guess").await.is_err());
    assert!(login(&h, "nobody", "guess").await.is_err());
    let blocked = login(&h, "carol", "carol-password").await.unwrap_err();
    assert!(blocked.starts_with("too many failed"), "{blocked}");
    let elsewhere = post_form(
        &h,
        &[("username", "carol"), ("password", "carol-password")],
        Some(PUBLIC_URL),
        "198.51.100.2:1",
    )
    .await;
    assert!(outcome(&elsewhere).is_ok(), "another client may sign in");
}

#[tokio::test]
async fn token_sign_in_is_rate_limited_too() {
    let h = Harness::with_config(|c| c.auth.rate_limit.max_failures_per_user = 2).await;
    let token = h.user("alice", false).await;
    let rpc = |form: String| {
        let mut request = Request::builder()
            .method("POST")
            .uri("/rpc/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .header("origin", PUBLIC_URL)
            .body(Body::from(form))
            .unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(CLIENT.parse::<SocketAddr>().unwrap()));
        h.send(request)
    };
    for _ in 0..2 {
        let reply = rpc("username=alice&token=silo_wrong".into()).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", text(&reply));
    }
    let good = format!(
        "username=alice&token={}",
        url::form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()
    );
    let reply = rpc(good.clone()).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        text(&reply)
    );
    let message = reply.json()["Forbidden"].as_str().unwrap().to_string();
    assert!(
        message.starts_with("too many failed sign-in attempts"),
        "{message}"
    );
    assert!(reply.header("retry-after").is_some());
    assert!(reply.header("set-cookie").is_none());
    // Another user name is still welcome.
    let bob = h.user("bob", false).await;
    let reply = rpc(format!(
        "username=bob&token={}",
        url::form_urlencoded::byte_serialize(bob.as_bytes()).collect::<String>()
    ))
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
}
