//! Who is calling, and with which token scope: `GET /v2/`, the token endpoint
//! (`GET /v2/token`) and the check every `/v2/<name>/…` request passes.
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use silo_domain::names::ContainerPath;
use silo_domain::services::oci::{parse_repository, ScopeRequest, TokenClaims};
use silo_domain::{Actor, DomainError, Registry};

use super::error::{OciError, OciResult};
use crate::state::AppState;

/// The `WWW-Authenticate` challenge, with the scope a request needs.
pub fn challenge(state: &AppState, scope: Option<&str>) -> String {
    let service = url::Url::parse(&state.public_url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| u.port().map_or(h.to_string(), |p| format!("{h}:{p}")))
        })
        .unwrap_or_default();
    let mut value = format!(
        "Bearer realm=\"{}/v2/token\",service=\"{service}\"",
        state.public_url
    );
    if let Some(scope) = scope {
        value.push_str(&format!(",scope=\"{scope}\""));
    }
    value
}

/// The credentials of a request: none, a registry token, an API token as Bearer, or Basic
/// with a user name and API token.
async fn credentials(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(Actor, Option<TokenClaims>), DomainError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok((Actor::Anonymous, None));
    };
    let value = value.to_str().map_err(|_| DomainError::Unauthenticated)?;
    let (scheme, credential) = value
        .trim()
        .split_once(' ')
        .ok_or(DomainError::Unauthenticated)?;
    let credential = credential.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        if Registry::is_registry_token(credential) {
            let claims = state.registry.verify_registry_token(credential).await?;
            return Ok((claims.actor.clone(), Some(claims)));
        }
        return Ok((state.registry.authenticate(credential).await?, None));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credential)
            .map_err(|_| DomainError::Unauthenticated)?;
        let decoded = String::from_utf8(decoded).map_err(|_| DomainError::Unauthenticated)?;
        let (username, password) = decoded
            .split_once(':')
            .ok_or(DomainError::Unauthenticated)?;
        let actor = state.registry.authenticate(password).await?;
        if actor.principal().map(|p| p.username.as_str()) != Some(username) {
            return Err(DomainError::Unauthenticated);
        }
        return Ok((actor, None));
    }
    Err(DomainError::Unauthenticated)
}

/// `GET /v2/`: 200 for valid credentials, otherwise 401 with the Bearer challenge.
pub async fn base(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match credentials(&state, &headers).await {
        Ok((Actor::User(_), _)) | Ok((Actor::Anonymous, Some(_))) => {
            let mut response = axum::Json(serde_json::json!({})).into_response();
            response.headers_mut().insert(
                "docker-distribution-api-version",
                header::HeaderValue::from_static("registry/2.0"),
            );
            response
        }
        Ok(_) | Err(DomainError::Unauthenticated) => unauthorized(&state, None),
        Err(e) => OciError::from(e).into_response(),
    }
}

fn unauthorized(state: &AppState, scope: Option<&str>) -> Response {
    OciError {
        error: DomainError::Unauthenticated,
        challenge: Some(challenge(state, scope)),
        anonymous: true,
    }
    .into_response()
}

/// `GET /v2/token?service=&scope=…`: a registry token for the scopes the policy allows.
pub async fn token(
    State(state): State<AppState>,
    client: crate::edge::proxy::ClientAddress,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(refusal) = state.edge.requests.check_token_request(client).await {
        return refusal.oci_response();
    }
    let actor = match credentials(&state, &headers).await {
        Ok((actor, _)) => actor,
        Err(DomainError::Unauthenticated) => return unauthorized(&state, None),
        Err(e) => return OciError::from(e).into_response(),
    };
    let query = query.unwrap_or_default();
    let requests: Vec<ScopeRequest> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| {
            v.split(' ')
                .filter_map(ScopeRequest::parse)
                .collect::<Vec<_>>()
        })
        .collect();
    match state.registry.issue_registry_token(&actor, &requests).await {
        Ok(t) => {
            let body = serde_json::json!({
                "token": t.token,
                "access_token": t.token,
                "expires_in": t.expires_in,
                "issued_at": t.issued_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            });
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        Err(e) => OciError::from(e).into_response(),
    }
}

/// A caller allowed (as far as its token goes) to do `action` on a repository; the domain
/// still applies the policy to `actor`.
pub struct Access {
    pub actor: Actor,
    pub path: ContainerPath,
    pub name: String,
    challenge: String,
}

impl Access {
    /// Attaches what the error response needs to a domain error.
    pub fn fail(&self, error: DomainError) -> OciError {
        OciError {
            error,
            challenge: Some(self.challenge.clone()),
            anonymous: matches!(self.actor, Actor::Anonymous),
        }
    }
}

/// Checks the credentials of a `/v2/<e>/<c>/<n>/…` request for `action` (`pull` or
/// `push`; `delete` is checked as push).
pub async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    (e, c, n): (&str, &str, &str),
    action: &str,
) -> OciResult<Access> {
    let name = format!("{e}/{c}/{n}");
    let scope = if action == "pull" {
        format!("repository:{name}:pull")
    } else {
        format!("repository:{name}:pull,push")
    };
    let challenge_value = challenge(state, Some(&scope));
    let unauthenticated = || OciError {
        error: DomainError::Unauthenticated,
        challenge: Some(challenge_value.clone()),
        anonymous: true,
    };
    let (actor, claims) = match credentials(state, headers).await {
        Ok(found) => found,
        Err(DomainError::Unauthenticated) => return Err(unauthenticated()),
        Err(e) => return Err(e.into()),
    };
    let path = parse_repository(&name)?;
    if let Some(claims) = &claims {
        let needed = if action == "pull" { "pull" } else { "push" };
        if !claims.permits(&name, needed) {
            if matches!(actor, Actor::Anonymous) || !claims.names(&name) {
                return Err(unauthenticated());
            }
            // 403 with the challenge: clients holding a narrower token fetch a new one.
            return Err(OciError {
                error: DomainError::forbidden(format!(
                    "your token does not allow {needed} on {name}"
                )),
                challenge: Some(challenge_value.clone()),
                anonymous: false,
            });
        }
    }
    Ok(Access {
        actor,
        path,
        name,
        challenge: challenge_value,
    })
}

/// The actor of a request outside any repository (the catalog).
pub async fn caller(state: &AppState, headers: &HeaderMap) -> OciResult<Actor> {
    credentials(state, headers)
        .await
        .map(|(a, _)| a)
        .map_err(|e| match e {
            DomainError::Unauthenticated => OciError {
                error: e,
                challenge: Some(challenge(state, None)),
                anonymous: true,
            },
            other => other.into(),
        })
}
