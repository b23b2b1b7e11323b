//! `POST /auth/ldap`: the login page's directory form (`username`, `password`, `return_to`,
//! URL-encoded). Success answers 303 to `return_to` (a path of this site, else `/`) with the
//! session cookie; every failure answers 303 to `/login?error=<message>[&next=<return_to>]`, with one message
//! for unknown users and wrong passwords. The same-origin rule (`session.rs`) is the form's
//! CSRF protection; the login rate limit applies; failed attempts are audited.
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use silo_domain::services::ExternalProfile;
use silo_domain::DomainError;

use super::ldap::{Directory, DirectoryUser, LdapLoginError};
use super::login_limits::{add_retry_after, form_field, request_client_ip, SIGN_IN_FORM_MAX};
use crate::state::AppState;

/// The provider name of directory logins (accounts are linked by it and the subject).
pub const PROVIDER: &str = "ldap";
/// Longest `return_to` followed.
const RETURN_TO_MAX: usize = 1024;

pub fn routes() -> Router<AppState> {
    Router::new().route("/auth/ldap", post(sign_in))
}

/// The handler of `POST /auth/ldap`.
pub async fn sign_in(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let caller = match crate::session::web_caller(&state, &parts.headers, true).await {
        Ok(caller) => caller,
        Err(err) => return refusal(err),
    };
    let Some(settings) = state.config.auth.ldap.clone() else {
        return (StatusCode::NOT_FOUND, "LDAP sign-in is not configured").into_response();
    };
    let Ok(form) = axum::body::to_bytes(body, SIGN_IN_FORM_MAX).await else {
        return to_login("the sign-in form is too large", "/");
    };
    let username = form_field(&form, "username").trim().to_string();
    let password = form_field(&form, "password");
    let return_to = safe_return_to(&form_field(&form, "return_to"));

    let limiter = &state.login_limiter;
    let client = request_client_ip(&parts.extensions);
    if let Err(too_many) = limiter.check(client, &username).await {
        let mut response = to_login(&too_many.to_string(), &return_to);
        add_retry_after(&mut response, too_many);
        return response;
    }
    let directory = Directory::new(settings);
    let user = match directory.authenticate(&username, &password).await {
        Ok(user) => user,
        Err(LdapLoginError::InvalidCredentials) => {
            limiter.record_failure(client, &username).await;
            if let Err(err) = state.registry.audit_failed_login(&username).await {
                tracing::error!(error = %err, "could not audit a failed LDAP sign-in");
            }
            return to_login(&LdapLoginError::InvalidCredentials.to_string(), &return_to);
        }
        Err(other) => return to_login(&other.to_string(), &return_to),
    };
    let profile = profile(&directory, user);
    let limits = state.config.web.session_limits();
    let created = match state.registry.sign_in_external(profile, limits).await {
        Ok(created) => created,
        Err(DomainError::Forbidden(message) | DomainError::InvalidInput(message)) => {
            return to_login(&message, &return_to);
        }
        Err(err) => {
            tracing::error!(error = %err, "LDAP sign-in failed in the registry");
            return to_login(
                "the registry ran into an internal error; please try again later",
                &return_to,
            );
        }
    };
    limiter.record_success(&username).await;
    if let Some(old) = &caller.session_secret {
        // Signing in again replaces the session the browser had.
        if let Err(err) = state.registry.revoke_session(old).await {
            tracing::warn!(error = %err, "could not end the previous session");
        }
    }
    let max_age = (created.expires_at - chrono::Utc::now()).num_seconds();
    let cookie = app::context::session_cookie::set(
        &created.secret,
        max_age,
        state.public_url.starts_with("https://"),
    );
    let mut response = see_other(&return_to);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// What the registry learns from the directory: linked by the entry's UUID (its DN when
/// the directory shows none); groups as names; the admin role from `admin_groups`.
pub fn profile(directory: &Directory, user: DirectoryUser) -> ExternalProfile {
    let admin_groups = &directory.settings().admin_groups;
    let admin = (!admin_groups.is_empty()).then(|| user.in_any_group(admin_groups));
    ExternalProfile {
        provider: PROVIDER.to_string(),
        subject: user.uuid.clone().unwrap_or_else(|| user.dn.clone()),
        username: user.username,
        // The directory's administrators maintain its e-mail addresses.
        email_verified: !user.email.is_empty(),
        email: user.email,
        realname: user.realname,
        groups: user.groups,
        admin,
    }
}

/// `return_to` when it is a path of this site; `/` otherwise (no open redirects).
pub fn safe_return_to(wanted: &str) -> String {
    let ok = wanted.starts_with('/')
        && !wanted.starts_with("//")
        && !wanted.starts_with("/\\")
        && wanted.len() <= RETURN_TO_MAX
        && !wanted.chars().any(|c| c.is_control() || c == '\\')
        && !wanted.starts_with("/login");
    if ok {
        wanted.to_string()
    } else {
        "/".to_string()
    }
}

/// 303 to the login page with `message` (and, as the page's `next`, where to go after).
fn to_login(message: &str, return_to: &str) -> Response {
    let mut location = format!("/login?error={}", encode(message));
    if return_to != "/" {
        location.push_str("&next=");
        location.push_str(&encode(return_to));
    }
    see_other(&location)
}

fn see_other(location: &str) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SEE_OTHER;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A request that fails the same-origin rule (or carries a bad bearer token): refused
/// outright, not redirected, since it does not come from the login page.
fn refusal(err: DomainError) -> Response {
    let status = match err {
        DomainError::Unauthenticated => StatusCode::UNAUTHORIZED,
        DomainError::Forbidden(_) => StatusCode::FORBIDDEN,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(error = %err, "LDAP sign-in could not resolve the caller");
        return (status, "the registry ran into an internal error").into_response();
    }
    (status, err.to_string()).into_response()
}

#[cfg(test)]
mod tests {
    use super::safe_return_to;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(safe_return_to("/c/alice/tools"), "/c/alice/tools");
        assert_eq!(safe_return_to("/auth/tokens?x=1"), "/auth/tokens?x=1");
        for bad in [
            "",
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "javascript:alert(1)",
            "/a\r\nSet-Cookie: x=y",
            "/login?error=x",
        ] {
            assert_eq!(safe_return_to(bad), "/", "{bad:?}");
        }
    }
}
