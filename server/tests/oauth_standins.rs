//! GitHub (Enterprise) and GitLab sign-in against local STAND-INS of their OAuth and user
//! endpoints (`oauth_support`, labelled as such: the real services are unreachable here).
//! Silo runs in-process; it reaches the stand-in over real loopback HTTP. Covered: accounts
//! linked by provider + subject (second login reuses the account, a changed e-mail or login
//! name does not make a new one, the same e-mail with another subject does), `base_url`
//! honoured, group → administrator mapping, and every failure (tampered or replayed state,
//! a callback in another browser, a refusal at the provider, a wrong client secret) ending on
//! `/login?error=…` without a session.
mod common;
mod oauth_support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Harness, Reply, PUBLIC_URL};
use oauth_support::{Person, StandIn, CLIENT_ID, CLIENT_SECRET};
use sea_orm::EntityTrait;
use server::auth::oauth_config::{OAuthKind, OAuthProviderSettings};
use server::config::Config;
use silo_domain::entities::identity;

fn github(standin: &StandIn) -> OAuthProviderSettings {
    OAuthProviderSettings {
        id: "ghe".into(),
        kind: Some(OAuthKind::Github),
        display_name: "Example GitHub".into(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        base_url: format!("{}/ghe", standin.base),
        ..Default::default()
    }
}

fn gitlab(standin: &StandIn) -> OAuthProviderSettings {
    OAuthProviderSettings {
        id: "gitlab".into(),
        kind: Some(OAuthKind::Gitlab),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        base_url: format!("{}/gitlab/", standin.base),
        admin_groups: vec!["hpc/registry-admins".into()],
        ..Default::default()
    }
}

async fn harness(providers: Vec<OAuthProviderSettings>) -> Harness {
    Harness::with_config(move |c: &mut Config| {
        c.auth.oauth = providers;
        c.validate().expect("valid test configuration");
    })
    .await
}

fn person(id: u64, login: &str, email: &str) -> Person {
    Person {
        id,
        login: login.into(),
        name: format!("{login} Example"),
        email: email.into(),
        verified: true,
        groups: Vec::new(),
    }
}

async fn get(h: &Harness, uri: &str, cookies: &[(&str, &str)]) -> Reply {
    let mut request = Request::builder().uri(uri);
    if !cookies.is_empty() {
        let header: Vec<String> = cookies.iter().map(|(n, v)| format!("{n}={v}")).collect();
        request = request.header("cookie", header.join("; "));
    }
    h.send(request.body(Body::empty()).unwrap()).await
}

fn location(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{:?}", reply.headers);
    reply.header("location").expect("a Location header")
}

/// The value a `Set-Cookie` of `reply` gives cookie `name` (None when not set).
fn set_cookie(reply: &Reply, name: &str) -> Option<String> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next()?.split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// A browser's part of a login up to the callback: Silo's redirect to the provider, the
/// provider's redirect back. Returns the callback path and the state cookie.
async fn to_callback(h: &Harness, provider: &str, return_to: &str) -> (String, String) {
    let start = get(
        h,
        &format!("/auth/login/{provider}?return_to={return_to}"),
        &[],
    )
    .await;
    let authorize = location(&start);
    let state_cookie = set_cookie(&start, "silo_oauth_state").expect("state cookie");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let back = client.get(&authorize).send().await.unwrap();
    assert_eq!(back.status(), StatusCode::SEE_OTHER, "{authorize}");
    let callback = back.headers()["location"].to_str().unwrap().to_string();
    let path = callback
        .strip_prefix(PUBLIC_URL)
        .unwrap_or_else(|| panic!("callback to this registry: {callback}"))
        .to_string();
    (path, state_cookie)
}

/// A whole login; returns the final reply (303 to return_to, or to /login?error=).
async fn login(h: &Harness, provider: &str, return_to: &str) -> Reply {
    let (callback, state) = to_callback(h, provider, return_to).await;
    get(h, &callback, &[("silo_oauth_state", &state)]).await
}

async fn viewer(h: &Harness, session: &str) -> serde_json::Value {
    let request = Request::builder()
        .method("POST")
        .uri("/rpc/viewer")
        .header("cookie", format!("silo_session={session}"))
        .header("origin", PUBLIC_URL)
        .header("accept", "application/json")
        .body(Body::empty())
        .unwrap();
    h.send(request).await.json()
}

/// Signs in and returns (username, is_admin) of the session's viewer.
async fn signed_in(h: &Harness, provider: &str) -> (String, bool) {
    let reply = login(h, provider, "/c/team/tools").await;
    assert_eq!(location(&reply), "/c/team/tools");
    let session = set_cookie(&reply, "silo_session").expect("a session cookie");
    let me = viewer(h, &session).await;
    let username = me["username"].as_str().expect("signed in").to_string();
    let user = h.registry.find_user(&username).await.unwrap().unwrap();
    (username, user.is_admin)
}

async fn user_count(h: &Harness) -> usize {
    h.registry.list_users().await.unwrap().len()
}

/// (provider, subject, username, e-mail last reported) of every identity link.
async fn links(h: &Harness) -> Vec<(String, String, String, String)> {
    let mut found = Vec::new();
    for link in identity::Entity::find().all(h.registry.db()).await.unwrap() {
        let users = h.registry.list_users().await.unwrap();
        let user = users.iter().find(|u| u.id == link.user_id).unwrap();
        found.push((
            link.provider,
            link.subject,
            user.username.clone(),
            link.email,
        ));
    }
    found.sort();
    found
}

fn link(
    provider: &str,
    subject: &str,
    user: &str,
    email: &str,
) -> (String, String, String, String) {
    (provider.into(), subject.into(), user.into(), email.into())
}

fn login_error(reply: &Reply) -> String {
    let to = location(reply);
    assert!(to.starts_with("/login?error="), "{to}");
    assert!(
        set_cookie(reply, "silo_session").is_none(),
        "no session on failure"
    );
    let url = url::Url::parse(&format!("http://x{to}")).unwrap();
    let (_, message) = url.query_pairs().find(|(k, _)| k == "error").unwrap();
    message.into_owned()
}

#[tokio::test]
async fn github_enterprise_links_accounts_by_provider_and_subject() {
    let standin = StandIn::start().await;
    let h = harness(vec![github(&standin)]).await;
    standin.set_person(person(4242, "octo", "octo@example.org"));

    let (first, admin) = signed_in(&h, "ghe").await;
    assert_eq!(first, "octo");
    assert!(!admin, "no admin_groups: the provider does not make admins");
    assert_eq!(user_count(&h).await, 1);
    let me = h.registry.find_user("octo").await.unwrap().unwrap();
    assert_eq!(me.email, "octo@example.org", "the primary verified address");

    // base_url respected: Enterprise paths under /ghe, API at /ghe/api/v3.
    let seen = standin.seen();
    for path in [
        "/ghe/authorize",
        "/ghe/token",
        "/ghe/api/v3/user",
        "/ghe/api/v3/user/emails",
    ] {
        assert!(seen.iter().any(|s| s == path), "{path} not used: {seen:?}");
    }
    assert_eq!(standin.last_scope(), "read:user user:email");

    // The second login reuses the account.
    assert_eq!(signed_in(&h, "ghe").await.0, "octo");
    assert_eq!(user_count(&h).await, 1);

    // A new e-mail and a renamed login are still the same person (same subject).
    standin.set_person(person(4242, "octo-renamed", "new-address@example.org"));
    assert_eq!(signed_in(&h, "ghe").await.0, "octo");
    assert_eq!(user_count(&h).await, 1);
    assert_eq!(
        links(&h).await,
        [link("ghe", "4242", "octo", "new-address@example.org")]
    );

    // The same e-mail under another subject is someone else: never matched by e-mail.
    standin.set_person(person(777, "mallory", "new-address@example.org"));
    let (other, _) = signed_in(&h, "ghe").await;
    assert_ne!(other, "octo");
    assert_eq!(user_count(&h).await, 2);
    assert_eq!(
        links(&h).await,
        [
            link("ghe", "4242", "octo", "new-address@example.org"),
            link("ghe", "777", &other, "new-address@example.org"),
        ]
    );
}

#[tokio::test]
async fn self_hosted_gitlab_with_group_mapped_administrators() {
    let standin = StandIn::start().await;
    let h = harness(vec![gitlab(&standin)]).await;
    let mut admin = person(11, "root-ish", "ops@example.edu");
    admin.groups = vec!["hpc".into(), "hpc/registry-admins".into()];
    standin.set_person(admin.clone());

    let (name, is_admin) = signed_in(&h, "gitlab").await;
    assert_eq!(name, "root-ish");
    assert!(is_admin, "member of an admin group");
    let seen = standin.seen();
    for path in [
        "/gitlab/authorize",
        "/gitlab/token",
        "/gitlab/api/v4/user",
        "/gitlab/api/v4/groups",
    ] {
        assert!(seen.iter().any(|s| s == path), "{path} not used: {seen:?}");
    }
    assert_eq!(
        standin.last_scope(),
        "read_user read_api",
        "groups need read_api"
    );

    // Leaving the group takes the role away at the next sign-in; still the same account.
    admin.groups = vec!["hpc".into()];
    admin.email = "changed@example.edu".into();
    standin.set_person(admin);
    assert_eq!(
        signed_in(&h, "gitlab").await,
        ("root-ish".to_string(), false)
    );
    assert_eq!(user_count(&h).await, 1);
    assert_eq!(
        links(&h).await,
        [link("gitlab", "11", "root-ish", "changed@example.edu")]
    );
}

#[tokio::test]
async fn tampered_replayed_and_foreign_callbacks_are_refused() {
    let standin = StandIn::start().await;
    let h = harness(vec![github(&standin)]).await;
    standin.set_person(person(5, "eve", "eve@example.org"));

    // A state the flow never had.
    let (callback, state) = to_callback(&h, "ghe", "/").await;
    let tampered = callback.replace(&format!("state={state}"), "state=forged-state");
    assert_ne!(tampered, callback);
    let reply = get(&h, &tampered, &[("silo_oauth_state", "forged-state")]).await;
    let message = login_error(&reply);
    assert!(
        message.contains("expired or was tampered with"),
        "{message}"
    );

    // The real callback in a browser that did not start the login (login CSRF).
    let reply = get(&h, &callback, &[]).await;
    assert!(login_error(&reply).contains("not started in this browser"));
    let reply = get(&h, &callback, &[("silo_oauth_state", "other")]).await;
    login_error(&reply);

    // The real one works once; a replay is refused.
    let reply = get(&h, &callback, &[("silo_oauth_state", &state)]).await;
    assert_eq!(location(&reply), "/");
    assert!(set_cookie(&reply, "silo_session").is_some());
    let replay = get(&h, &callback, &[("silo_oauth_state", &state)]).await;
    login_error(&replay);
    assert_eq!(user_count(&h).await, 1);

    // A flow of one provider cannot finish at another's callback.
    let h2 = harness(vec![github(&standin), {
        let mut other = github(&standin);
        other.id = "other".into();
        other
    }])
    .await;
    let (callback, state) = to_callback(&h2, "ghe", "/").await;
    let moved = callback.replace("/auth/callback/ghe", "/auth/callback/other");
    login_error(&get(&h2, &moved, &[("silo_oauth_state", &state)]).await);
}

#[tokio::test]
async fn provider_refusals_and_misconfiguration_end_on_the_login_page() {
    let standin = StandIn::start().await;
    let mut wrong_secret = github(&standin);
    wrong_secret.id = "wrongsecret".into();
    wrong_secret.client_secret = "not-the-secret".into();
    let h = harness(vec![github(&standin), wrong_secret]).await;
    standin.set_person(person(9, "dora", "dora@example.org"));

    standin.deny_next();
    let message = login_error(&login(&h, "ghe", "/x").await);
    assert!(message.contains("denied"), "{message}");

    let message = login_error(&login(&h, "wrongsecret", "/").await);
    assert!(message.contains("did not accept the sign-in"), "{message}");
    assert!(!message.contains("not-the-secret"), "{message}");

    let unknown = get(&h, "/auth/login/nope?return_to=/c/a", &[]).await;
    let to = location(&unknown);
    assert!(
        to.starts_with("/login?error=unknown") && to.contains("next=%2Fc%2Fa"),
        "{to}"
    );

    // Only paths on this site are followed after sign-in.
    let reply = login(&h, "ghe", "https://evil.example/").await;
    assert_eq!(location(&reply), "/");
    assert_eq!(user_count(&h).await, 1);
}

#[tokio::test]
async fn the_providers_list_feeds_the_login_page() {
    let standin = StandIn::start().await;
    let h = Harness::with_config(|c| {
        c.auth.oauth = vec![github(&standin), gitlab(&standin)];
        c.auth.ldap = Some(server::auth::ldap_config::LdapSettings {
            display_name: "University account".into(),
            ..Default::default()
        });
    })
    .await;
    let list = get(&h, "/auth/providers", &[]).await.json();
    assert_eq!(
        list,
        serde_json::json!([
            {"id": "ghe", "name": "Example GitHub", "kind": "github"},
            {"id": "gitlab", "name": "GitLab", "kind": "gitlab"},
            {"id": "ldap", "name": "University account", "kind": "ldap"},
        ])
    );
    let none = harness(Vec::new()).await;
    assert_eq!(
        get(&none, "/auth/providers", &[]).await.json(),
        serde_json::json!([])
    );
}
