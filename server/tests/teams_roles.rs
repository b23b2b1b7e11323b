//! Teams, roles and robots over HTTP: a robot token pushing with the library API (as
//! Apptainer's client does) into its team's collection and being refused elsewhere with the
//! library error envelope; the teams' server functions behind the same-origin rule; robots
//! kept out of the web interface.
mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{sha256_hex, Harness, Reply, PUBLIC_URL};
use serde_json::json;
use silo_domain::policy::Role;
use silo_domain::services::{RobotFor, RoleHolder};
use silo_domain::Scope;

/// A server function call as the SPA makes it (URL-encoded arguments).
async fn rpc(
    h: &Harness,
    name: &str,
    form: &str,
    cookie: Option<&str>,
    origin: Option<&str>,
) -> Reply {
    let mut builder = Request::builder()
        .method("POST")
        .uri(format!("/rpc/{name}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json");
    if let Some(cookie) = cookie {
        builder = builder.header("cookie", format!("silo_session={cookie}"));
    }
    if let Some(origin) = origin {
        builder = builder.header("origin", origin);
    }
    h.send(builder.body(Body::from(form.to_string())).unwrap())
        .await
}

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

/// Signs in through the web interface and returns the session cookie's value.
async fn sign_in(h: &Harness, user: &str, token: &str) -> String {
    let form = format!("username={user}&token={token}");
    let reply = rpc(h, "login", &form, None, Some(PUBLIC_URL)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let cookie = reply.header("set-cookie").expect("a session cookie");
    cookie
        .strip_prefix("silo_session=")
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .to_string()
}

/// olga owns team `lab` (collection `lab/ci`, private) and her own private `olga/own`;
/// `lab-bot-ci` is the team's robot with a push token. Returns (olga's token, robot token).
async fn world(h: &Harness) -> (String, String) {
    let olga_token = h.user("olga", false).await;
    let olga = h.registry.authenticate(&olga_token).await.unwrap();
    h.registry.create_team(&olga, "lab", "").await.unwrap();
    h.container(&olga_token, "lab/ci/seed", true).await;
    h.container(&olga_token, "olga/own/seed", true).await;
    let olga = h.registry.authenticate(&olga_token).await.unwrap();
    h.registry
        .create_robot(&olga, &RobotFor::Team("lab".into()), "ci")
        .await
        .unwrap();
    let robot_token = h
        .registry
        .create_robot_token(&olga, "lab-bot-ci", "gitlab", Scope::Push, 30)
        .await
        .unwrap()
        .secret;
    (olga_token, robot_token)
}

#[tokio::test]
async fn a_robot_pushes_into_its_team_collection_and_nowhere_else() {
    let h = Harness::new().await;
    let (olga_token, robot) = world(&h).await;

    // Into the team's private collection: the whole library push flow works.
    let container_id = h.container(&robot, "lab/ci/app", true).await;
    let bytes = b"built by the pipeline".to_vec();
    let image_id = h.push(&robot, &container_id, &bytes, "v1").await;
    let pulled = h
        .get("/v1/images/lab/ci/app:v1?arch=amd64", Some(&robot))
        .await;
    assert_eq!(pulled.status, StatusCode::OK, "{}", text(&pulled));
    assert_eq!(pulled.data()["id"], image_id.as_str());
    h.get("/v1/images/lab/ci/app:v1?arch=amd64", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);

    // Into olga's own private collection: refused, without confirming that it exists.
    let message = h
        .post_json(
            "/v1/collections",
            Some(&robot),
            json!({"name": "other", "entity": h.get("/v1/entities/olga", Some(&olga_token)).await.data()["id"]}),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN);
    assert!(message.contains("olga"), "{message}");
    h.get("/v1/collections/olga/own", Some(&robot))
        .await
        .assert_error(StatusCode::NOT_FOUND);
    let olga_container = h.container(&olga_token, "olga/own/app", true).await;
    let hash = sha256_hex(b"sneaky");
    h.post_json(
        "/v1/images",
        Some(&robot),
        json!({"hash": format!("sha256.{hash}"), "container": olga_container}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND);
    // Robots create no entity, not even one named after them.
    h.post_json("/v1/entities", Some(&robot), json!({"name": "lab-bot-ci"}))
        .await
        .assert_error(StatusCode::FORBIDDEN);

    // A contributor role on olga's collection opens it, from the next request on.
    let olga = h.registry.authenticate(&olga_token).await.unwrap();
    let holder = RoleHolder::User("lab-bot-ci".into());
    h.registry
        .grant_collection_role(&olga, "olga", "own", &holder, Role::Contributor)
        .await
        .unwrap();
    h.push(&robot, &olga_container, b"now allowed", "latest")
        .await;
    h.registry
        .revoke_collection_role(&olga, "olga", "own", &holder)
        .await
        .unwrap();
    let hash = sha256_hex(b"after revoke");
    h.post_json(
        "/v1/images",
        Some(&robot),
        json!({"hash": format!("sha256.{hash}"), "container": olga_container}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn robots_stay_out_of_the_web_interface() {
    let h = Harness::new().await;
    let (_, robot) = world(&h).await;
    let form = format!("username=lab-bot-ci&token={robot}");
    let refused = rpc(&h, "login", &form, None, Some(PUBLIC_URL)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", text(&refused));
    assert!(refused.header("set-cookie").is_none());
    // With its bearer token, a robot may not mint itself more tokens or make teams.
    for (name, form) in [
        (
            "robot_token_create",
            "robot=lab-bot-ci&label=x&scope=push&days=30",
        ),
        ("team_create", "name=botteam&description="),
    ] {
        let reply = h
            .send(
                Request::post(format!("/rpc/{name}"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("accept", "application/json")
                    .header("authorization", format!("Bearer {robot}"))
                    .body(Body::from(form))
                    .unwrap(),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{name}: {}",
            text(&reply)
        );
    }
}

#[tokio::test]
async fn team_server_functions_need_the_same_origin() {
    let h = Harness::new().await;
    let (olga_token, _) = world(&h).await;
    h.user("max", false).await;
    let cookie = sign_in(&h, "olga", &olga_token).await;

    let forged = rpc(
        &h,
        "team_member_add",
        "team=lab&username=max&role=owner",
        Some(&cookie),
        Some("https://evil.example"),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", text(&forged));
    let page = rpc(&h, "team", "name=lab", Some(&cookie), Some(PUBLIC_URL)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", text(&page));
    let members: Vec<String> = page.json()["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["username"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        members,
        ["olga", "lab-bot-ci"],
        "the forged request changed nothing"
    );
    assert_eq!(page.json()["robots"][0]["name"], "lab-bot-ci");

    let added = rpc(
        &h,
        "team_member_add",
        "team=lab&username=max&role=member",
        Some(&cookie),
        Some(PUBLIC_URL),
    )
    .await;
    assert_eq!(added.status, StatusCode::OK, "{}", text(&added));
    let grant = rpc(
        &h,
        "collection_role_grant",
        "entity=olga&collection=own&holder_kind=team&holder=lab&role=reader",
        Some(&cookie),
        Some(PUBLIC_URL),
    )
    .await;
    assert_eq!(grant.status, StatusCode::OK, "{}", text(&grant));
    let roles = rpc(
        &h,
        "collection_roles",
        "entity=olga&collection=own",
        Some(&cookie),
        Some(PUBLIC_URL),
    )
    .await;
    assert_eq!(roles.json()[0]["holder"], "lab");
    assert_eq!(roles.json()[0]["role"], "reader");
    // Anyone else who sees the collection gets no roles and no error (no Access panel).
    let max_token = h.token("max").await;
    let max_cookie = sign_in(&h, "max", &max_token).await;
    let not_owner = rpc(
        &h,
        "collection_roles",
        "entity=olga&collection=own",
        Some(&max_cookie),
        Some(PUBLIC_URL),
    )
    .await;
    assert_eq!(not_owner.status, StatusCode::OK, "{}", text(&not_owner));
    assert_eq!(not_owner.json(), serde_json::Value::Null);
    let visible = rpc(
        &h,
        "collection",
        "entity=olga&collection=own",
        Some(&max_cookie),
        Some(PUBLIC_URL),
    )
    .await;
    assert_eq!(
        visible.status,
        StatusCode::OK,
        "the team's role: {}",
        text(&visible)
    );
    // Revoking through the server function closes the collection for max again.
    let revoke = rpc(
        &h,
        "collection_role_revoke",
        "entity=olga&collection=own&holder_kind=team&holder=lab",
        Some(&cookie),
        Some(PUBLIC_URL),
    )
    .await;
    assert_eq!(revoke.status, StatusCode::OK, "{}", text(&revoke));
    let hidden = rpc(
        &h,
        "collection",
        "entity=olga&collection=own",
        Some(&max_cookie),
        Some(PUBLIC_URL),
    )
    .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", text(&hidden));
    let unknown = rpc(
        &h,
        "collection_role_grant",
        "entity=olga&collection=own&holder_kind=user&holder=nobody&role=reader",
        Some(&cookie),
        Some(PUBLIC_URL),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", text(&unknown));
    let bad_role = rpc(
        &h,
        "collection_role_grant",
        "entity=olga&collection=own&holder_kind=user&holder=max&role=admin",
        Some(&cookie),
        Some(PUBLIC_URL),
    )
    .await;
    assert_eq!(
        bad_role.status,
        StatusCode::BAD_REQUEST,
        "{}",
        text(&bad_role)
    );
}
