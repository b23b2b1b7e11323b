//! Signing in and out of the web interface, and who is signed in.
use leptos::prelude::*;

use crate::error::SiloError;
use crate::model::session::Viewer;

/// Signs in with a user name and one of the user's API tokens (`silo token create <user>`)
/// and sets the session cookie. Every failure answers the same message.
#[server(prefix = "/rpc", endpoint = "login")]
pub async fn login(username: String, token: String) -> Result<Viewer, SiloError> {
    let ctx = super::server::context()?;
    let created = ctx
        .registry
        .login_with_token(&username, &token, ctx.session_limits)
        .await;
    let created = super::server::respond(created)?;
    if let Some(old) = &ctx.session_secret {
        // Signing in again replaces the session the browser had.
        super::server::respond(ctx.registry.revoke_session(old).await)?;
    }
    let max_age = (created.expires_at - chrono::Utc::now()).num_seconds();
    let cookie =
        crate::context::session_cookie::set(&created.secret, max_age, ctx.secure_cookies());
    super::server::set_cookie(&cookie);
    super::server::viewer(&created.actor).ok_or(SiloError::Internal)
}

/// Ends the browser's session and clears the cookie.
#[server(prefix = "/rpc", endpoint = "logout")]
pub async fn logout() -> Result<(), SiloError> {
    let ctx = super::server::context()?;
    if let Some(secret) = &ctx.session_secret {
        super::server::respond(ctx.registry.revoke_session(secret).await)?;
    }
    super::server::set_cookie(&crate::context::session_cookie::clear(ctx.secure_cookies()));
    Ok(())
}

/// The signed-in user, or `None` for anonymous visitors.
#[server(prefix = "/rpc", endpoint = "viewer")]
pub async fn get_viewer() -> Result<Option<Viewer>, SiloError> {
    Ok(super::server::viewer(&super::server::current_actor()))
}
