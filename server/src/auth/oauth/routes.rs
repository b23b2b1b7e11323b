//! The sign-in routes of the OAuth 2 / OpenID Connect providers:
//!
//! - `GET /auth/providers`: `[{"id","name","kind"}]`, the configured providers (and the
//!   LDAP form when `[auth.ldap]` is set), for the login page's buttons.
//! - `GET /auth/login/{id}?return_to=/path`: starts a flow (random `state`, PKCE S256, OIDC
//!   nonce, kept by the domain for 10 minutes) and answers 303 to the provider. The `state`
//!   also goes into a short-lived cookie, so the callback only completes in the browser that
//!   started the login (no login CSRF with someone else's callback URL).
//! - `GET /auth/callback/{id}?code&state`: checks the state (cookie, then the domain's single
//!   use record), exchanges the code, verifies who signed in, lets the domain link and sign
//!   in the account, sets the session cookie and answers 303 to `return_to`.
//!
//! Every failure answers 303 to `/login?error=<message>`, never an error page.
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use openidconnect::{Nonce, PkceCodeChallenge};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::{FlowSecrets, LoginError, OAuthProviders};
use crate::auth::oauth_config::LDAP_ID;
use crate::state::AppState;

/// Cookie binding a flow's `state` to the browser that started it.
const STATE_COOKIE: &str = "silo_oauth_state";
/// Lifetime of that cookie (the domain keeps the flow as long).
const STATE_COOKIE_SECS: u32 = 600;

/// The routes, with the providers of `state.config` prepared once.
pub fn routes(state: &AppState) -> Router<AppState> {
    let providers = OAuthProviders::new(&state.config.auth.oauth, &state.public_url);
    Router::new()
        .route("/auth/providers", get(list))
        .route("/auth/login/{id}", get(login))
        .route("/auth/callback/{id}", get(callback))
        .layer(Extension(providers))
}

/// One entry of `GET /auth/providers`.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct ProviderInfo {
    pub id: String,
    pub name: String,
    pub kind: String,
}

async fn list(
    State(state): State<AppState>,
    Extension(providers): Extension<Arc<OAuthProviders>>,
) -> Json<Vec<ProviderInfo>> {
    let mut list: Vec<ProviderInfo> = providers
        .iter()
        .map(|p| ProviderInfo {
            id: p.settings.id.clone(),
            name: p.settings.name(),
            kind: p.settings.kind().as_str().into(),
        })
        .collect();
    if let Some(ldap) = &state.config.auth.ldap {
        let name = match ldap.display_name.trim() {
            "" => "Directory account".to_string(),
            name => name.to_string(),
        };
        list.push(ProviderInfo {
            id: LDAP_ID.into(),
            name,
            kind: LDAP_ID.into(),
        });
    }
    Json(list)
}

#[derive(Deserialize)]
struct LoginQuery {
    return_to: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    Extension(providers): Extension<Arc<OAuthProviders>>,
    Path(id): Path<String>,
    Query(query): Query<LoginQuery>,
) -> Response {
    let return_to = local_path(query.return_to.as_deref());
    let Some(provider) = providers.get(&id) else {
        return to_login_page("unknown sign-in provider", &return_to);
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let nonce = if provider.settings.kind().is_oidc() {
        Nonce::new_random().secret().clone()
    } else {
        String::new()
    };
    let flow_state = match state
        .registry
        .start_login_flow(&id, &nonce, verifier.secret(), &return_to)
        .await
    {
        Ok(flow_state) => flow_state,
        Err(err) => {
            tracing::error!(error = %err, "cannot start a login flow");
            return to_login_page("sign-in is unavailable; try again later", &return_to);
        }
    };
    match provider.authorize_url(&flow_state, challenge, &nonce).await {
        Ok(url) => {
            let cookie = state_cookie(&state, &flow_state, STATE_COOKIE_SECS);
            redirect(&url, &[cookie])
        }
        Err(err) => to_login_page(&err.0, &return_to),
    }
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    /// RFC 9207: the issuer of the answer, sent by OpenID providers that support it.
    iss: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    Extension(providers): Extension<Arc<OAuthProviders>>,
    Path(id): Path<String>,
    Query(query): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    match finish(&state, &providers, &id, query, &headers).await {
        Ok(response) => response,
        Err(err) => to_login_page(&err.0, "/"),
    }
}

async fn finish(
    state: &AppState,
    providers: &OAuthProviders,
    id: &str,
    query: CallbackQuery,
    headers: &HeaderMap,
) -> Result<Response, LoginError> {
    let provider = providers
        .get(id)
        .ok_or_else(|| LoginError::new("unknown sign-in provider"))?;
    let flow_state = query.state.unwrap_or_default();
    let expected = read_cookie(headers, STATE_COOKIE);
    if flow_state.is_empty() || expected.as_deref() != Some(flow_state.as_str()) {
        return Err(LoginError::new(
            "this sign-in was not started in this browser or has expired; please start again",
        ));
    }
    let flow = state
        .registry
        .finish_login_flow(id, &flow_state)
        .await
        .map_err(|err| domain_refusal(&err))?;
    if let (Some(iss), true) = (&query.iss, provider.settings.kind().is_oidc()) {
        if iss.trim_end_matches('/') != provider.settings.issuer() {
            return Err(LoginError::new(
                "the sign-in answer came from another issuer (mix-up); please start again",
            ));
        }
    }
    if let Some(error) = query.error {
        let detail = query.error_description.unwrap_or(error);
        return Err(LoginError::new(format!(
            "{} did not sign you in: {}",
            provider.settings.name(),
            super::client::truncate(&detail, 160)
        )));
    }
    let code = query
        .code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| LoginError::new("the provider sent no authorization code"))?;
    let profile = provider
        .complete(FlowSecrets {
            code: &code,
            pkce_verifier: &flow.pkce_verifier,
            nonce: &flow.nonce,
        })
        .await?;
    let limits = state.config.web.session_limits();
    let created = state
        .registry
        .sign_in_external(profile, limits)
        .await
        .map_err(|err| domain_refusal(&err))?;
    if let Some(old) = app::context::session_cookie::read(headers) {
        // Signing in again replaces the session the browser had.
        if let Err(err) = state.registry.revoke_session(&old).await {
            tracing::warn!(error = %err, "could not end the previous session");
        }
    }
    let max_age = (created.expires_at - chrono::Utc::now()).num_seconds();
    let session = app::context::session_cookie::set(&created.secret, max_age, secure(state));
    let target = local_path(Some(&flow.return_to));
    Ok(redirect(&target, &[session, state_cookie(state, "", 0)]))
}

/// The message for a refusal by the domain (registration closed, account disabled, flow
/// unknown or used); internal errors are logged, not shown.
fn domain_refusal(err: &silo_domain::DomainError) -> LoginError {
    if err.is_internal() {
        tracing::error!(error = %err, "sign-in failed");
        return LoginError::new("sign-in failed on the server; try again later");
    }
    LoginError::new(err.to_string())
}

/// A path on this site from `return_to`, else `/`.
pub fn local_path(return_to: Option<&str>) -> String {
    match return_to {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && path.len() <= 1024
                && !path.chars().any(|c| c.is_control() || c == '\\') =>
        {
            path.to_string()
        }
        _ => "/".into(),
    }
}

fn secure(state: &AppState) -> bool {
    state.public_url.starts_with("https://")
}

fn state_cookie(state: &AppState, value: &str, max_age: u32) -> String {
    format!(
        "{STATE_COOKIE}={value}; Path=/auth/callback/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure(state) { "; Secure" } else { "" }
    )
}

fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn redirect(location: &str, cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    match HeaderValue::from_str(location) {
        Ok(value) => headers.insert(header::LOCATION, value),
        Err(_) => headers.insert(header::LOCATION, HeaderValue::from_static("/login")),
    };
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// 303 to the login page with the message (and the page the person wanted).
fn to_login_page(message: &str, return_to: &str) -> Response {
    let mut url = url::Url::parse("http://silo.invalid/login").expect("static URL");
    url.query_pairs_mut().append_pair("error", message);
    if return_to != "/" {
        url.query_pairs_mut().append_pair("next", return_to);
    }
    let location = format!("/login?{}", url.query().unwrap_or_default());
    // The state cookie stays: a forged callback must not spoil the genuine one still on its
    // way; it expires with the flow.
    redirect(&location, &[])
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn return_to_stays_on_this_site() {
        assert_eq!(local_path(Some("/c/alice/x?tab=2")), "/c/alice/x?tab=2");
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "",
            "x",
        ] {
            assert_eq!(local_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(local_path(Some("/a\r\nSet-Cookie: x")), "/");
        assert_eq!(local_path(None), "/");
    }
}
