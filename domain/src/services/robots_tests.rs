//! Robot accounts through the real services: where their tokens push, what they may never do,
//! and who manages them (SQLite, or PostgreSQL with SILO_TEST_POSTGRES_URL).
use super::teams_tests::{user, World};
use super::*;
use crate::policy::{Role, Scope};
use crate::DomainError;

#[tokio::test]
async fn robots_push_only_where_granted_and_never_sign_in_or_administer() {
    let w = World::new().await;
    let olga_t = w.person("olga", false).await;
    let eve_t = w.person("eve", false).await;
    let olga = w.actor(&olga_t).await;
    w.r.create_team(&olga, "lab", "").await.unwrap();
    let olga = w.actor(&olga_t).await;
    w.collection(&olga, "lab", "ci", true).await;
    w.collection(&olga, "olga", "mine", true).await;
    w.collection(&olga, "olga", "granted", true).await;
    let team_bot =
        w.r.create_robot(&olga, &RobotFor::Team("lab".into()), "ci")
            .await
            .unwrap();
    assert_eq!(team_bot.username, "lab-bot-ci");
    assert_eq!(team_bot.kind, ROBOT_KIND);
    assert_eq!(team_bot.robot_owner_id, Some(olga.user_id().unwrap()));
    let own_bot =
        w.r.create_robot(&olga, &RobotFor::Me, "deploy")
            .await
            .unwrap();
    assert_eq!(own_bot.username, "olga-bot-deploy");
    // Someone who does not own the team cannot make robots for it.
    let eve = w.actor(&eve_t).await;
    assert!(matches!(
        w.r.create_robot(&eve, &RobotFor::Team("lab".into()), "x")
            .await,
        Err(DomainError::Forbidden(_))
    ));

    let admin_scope =
        w.r.create_robot_token(&olga, "lab-bot-ci", "ci", Scope::Admin, 30)
            .await;
    assert!(matches!(admin_scope, Err(DomainError::InvalidInput(_))));
    assert!(w
        .r
        .create_robot_token(&olga, "lab-bot-ci", "ci", Scope::Push, 0)
        .await
        .is_err());
    assert!(matches!(
        w.r.create_robot_token(&eve, "lab-bot-ci", "ci", Scope::Push, 30)
            .await,
        Err(DomainError::Forbidden(_))
    ));
    let token =
        w.r.create_robot_token(&olga, "lab-bot-ci", "gitlab", Scope::Push, 30)
            .await
            .unwrap();
    assert!(token.record.expires_at.is_some());
    let bot = w.actor(&token.secret).await;
    let principal = bot.principal().unwrap();
    assert!(principal.is_robot && !bot.is_admin());
    assert_eq!(principal.scope, Scope::Push);

    // The team's collection: yes. Its creator's private collections: no.
    w.push(&bot, "lab/ci/app", b"built by ci").await.unwrap();
    assert!(w.push(&bot, "olga/mine/app", b"no").await.is_err());
    assert!(matches!(
        w.push(&bot, "olga/granted/app", b"no").await,
        Err(DomainError::Forbidden(_))
    ));
    w.r.grant_collection_role(
        &olga,
        "olga",
        "granted",
        &user("olga-bot-deploy"),
        Role::Contributor,
    )
    .await
    .unwrap();
    w.r.grant_collection_role(
        &olga,
        "olga",
        "granted",
        &user("lab-bot-ci"),
        Role::Contributor,
    )
    .await
    .unwrap();
    w.push(
        &w.actor(&token.secret).await,
        "olga/granted/app",
        b"granted",
    )
    .await
    .unwrap();
    // Robots create no entities, and never manage robots or teams.
    assert!(w.push(&bot, "lab-bot-ci/x/y", b"no").await.is_err());
    assert!(w.r.create_team(&bot, "botteam", "").await.is_err());
    assert!(w
        .r
        .create_robot_token(&bot, "lab-bot-ci", "more", Scope::Push, 30)
        .await
        .is_err());
    // An admin flag on a robot account never becomes admin rights.
    let mut active: crate::entities::user::ActiveModel = team_bot.clone().into();
    active.is_admin = sea_orm::Set(true);
    sea_orm::ActiveModelTrait::update(active, w.r.db())
        .await
        .unwrap();
    assert!(!w.actor(&token.secret).await.is_admin());
    // No browser sign-in, with the login form or any other session.
    let limits = SessionLimits::default();
    assert!(w
        .r
        .login_with_token("lab-bot-ci", &token.secret, limits)
        .await
        .is_err());
    assert!(w.r.create_session(&bot, limits).await.is_err());

    // Listing and revoking.
    let robots = w.r.robots(&olga).await.unwrap();
    let names: Vec<&str> = robots.iter().map(|r| r.robot.username.as_str()).collect();
    assert_eq!(names, ["lab-bot-ci", "olga-bot-deploy"]);
    assert_eq!(robots[0].teams, ["lab"]);
    assert_eq!(robots[0].tokens.len(), 1);
    assert!(w.r.robots(&eve).await.unwrap().is_empty());
    w.r.revoke_robot_token(&olga, "lab-bot-ci", token.record.id)
        .await
        .unwrap();
    assert!(matches!(
        w.r.authenticate(&token.secret).await,
        Err(DomainError::Unauthenticated)
    ));
    w.r.delete_robot(&olga, "olga-bot-deploy").await.unwrap();
    assert!(w.r.find_user("olga-bot-deploy").await.unwrap().is_none());
    assert_eq!(w.audited("robot_create").await, 2);
    assert_eq!(w.audited("robot_token_create").await, 1);
    assert_eq!(w.audited("robot_token_revoke").await, 1);
    assert_eq!(w.audited("robot_delete").await, 1);
}

#[tokio::test]
async fn robots_join_teams_only_through_their_managers() {
    let w = World::new().await;
    let olga_t = w.person("olga", false).await;
    let eve_t = w.person("eve", false).await;
    let olga = w.actor(&olga_t).await;
    w.r.create_robot(&olga, &RobotFor::Me, "ci").await.unwrap();
    let eve = w.actor(&eve_t).await;
    w.r.create_team(&eve, "evil", "").await.unwrap();
    let eve = w.actor(&eve_t).await;
    // Eve owns a team but not the robot: adding it would hand her its tokens.
    assert!(matches!(
        w.r.add_team_member(&eve, "evil", "olga-bot-ci", TeamRole::Member)
            .await,
        Err(DomainError::Forbidden(_))
    ));
    assert!(w.r.robot(&eve, "olga-bot-ci").await.is_err());
    w.r.create_team(&olga, "lab", "").await.unwrap();
    let olga = w.actor(&olga_t).await;
    assert!(matches!(
        w.r.add_team_member(&olga, "lab", "olga-bot-ci", TeamRole::Owner)
            .await,
        Err(DomainError::InvalidInput(_))
    ));
    let added =
        w.r.add_team_member(&olga, "lab", "olga-bot-ci", TeamRole::Member)
            .await
            .unwrap();
    assert!(added.is_robot);
    assert!(matches!(
        w.r.add_team_member(&olga, "lab", "olga-bot-ci", TeamRole::Member)
            .await,
        Err(DomainError::Conflict(_))
    ));
    assert!(matches!(
        w.r.add_team_member(&olga, "lab", "nobody", TeamRole::Member)
            .await,
        Err(DomainError::NotFound(_))
    ));
}
