//! OpenID Connect (any issuer with discovery, and Google): the provider's metadata and keys
//! come from `<issuer>/.well-known/openid-configuration` (cached for a while); the ID token's
//! signature, issuer, audience, expiry, nonce and access-token hash are verified by the
//! `openidconnect` crate. Claims the ID token leaves out (e-mail, name, groups — many
//! providers put them only in the userinfo answer) are read from the userinfo endpoint,
//! whose `sub` must be the ID token's.
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::client::{get_json, token_error, truncate};
use super::{ExternalProfile, FlowSecrets, LoginError, Provider};
use crate::auth::oauth_config::OAuthKind;

/// How long discovered metadata and keys are reused before being read again.
const METADATA_TTL: Duration = Duration::from_secs(15 * 60);

/// The issuer's discovered metadata (with its signing keys), cached.
pub struct Discovery {
    issuer: String,
    cached: tokio::sync::Mutex<Option<(Instant, Arc<CoreProviderMetadata>)>>,
}

impl Discovery {
    pub fn new(issuer: String) -> Self {
        Discovery {
            issuer,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// The metadata, read from the issuer when not cached or stale.
    pub async fn metadata(
        &self,
        http: &reqwest::Client,
    ) -> Result<Arc<CoreProviderMetadata>, LoginError> {
        let mut cached = self.cached.lock().await;
        if let Some((at, metadata)) = cached.as_ref() {
            if at.elapsed() < METADATA_TTL {
                return Ok(metadata.clone());
            }
        }
        let issuer = IssuerUrl::new(self.issuer.clone())
            .map_err(|_| LoginError::new("the provider's issuer_url is not a URL"))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, http)
            .await
            .map_err(|e| {
                tracing::warn!(issuer = %self.issuer, error = %e, "OpenID Connect discovery failed");
                LoginError::new("the sign-in provider cannot be reached; try again later")
            })?;
        let metadata = Arc::new(metadata);
        *cached = Some((Instant::now(), metadata.clone()));
        Ok(metadata)
    }

    /// Drops the cache (after a failed verification, in case the keys rotated).
    pub async fn forget(&self) {
        *self.cached.lock().await = None;
    }
}

fn client(
    p: &Provider,
    metadata: &CoreProviderMetadata,
) -> Result<
    CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    LoginError,
> {
    let redirect = RedirectUrl::new(p.redirect_uri.clone())
        .map_err(|_| LoginError::new("public_url does not make a valid callback URL"))?;
    Ok(CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new(p.settings.client_id.clone()),
        Some(ClientSecret::new(p.settings.client_secret.clone())),
    )
    .set_redirect_uri(redirect))
}

pub fn authorize_url(
    p: &Provider,
    metadata: &CoreProviderMetadata,
    state: &str,
    challenge: PkceCodeChallenge,
    nonce: &str,
) -> Result<String, LoginError> {
    let (state, nonce) = (state.to_string(), nonce.to_string());
    let client = client(p, metadata)?;
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            move || CsrfToken::new(state),
            move || Nonce::new(nonce),
        )
        .set_pkce_challenge(challenge);
    for scope in p.settings.scopes().into_iter().filter(|s| s != "openid") {
        request = request.add_scope(Scope::new(scope));
    }
    if p.settings.kind() == OAuthKind::Google && !p.settings.hosted_domain.is_empty() {
        request = request.add_extra_param("hd", p.settings.hosted_domain.clone());
    }
    let (url, _, _) = request.url();
    Ok(url.to_string())
}

pub async fn complete(
    p: &Provider,
    metadata: &CoreProviderMetadata,
    flow: FlowSecrets<'_>,
) -> Result<ExternalProfile, LoginError> {
    let client = client(p, metadata)?;
    let answer = client
        .exchange_code(AuthorizationCode::new(flow.code.to_string()))
        .map_err(|_| LoginError::new("the provider names no token endpoint"))?
        .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.to_string()))
        .request_async(&p.http)
        .await
        .map_err(|e| token_error(p, &e))?;
    let id_token = answer
        .id_token()
        .ok_or_else(|| LoginError::new("the provider sent no ID token"))?;
    let verifier = client.id_token_verifier();
    let refused = |what: String| {
        tracing::warn!(provider = %p.settings.id, "ID token refused: {what}");
        LoginError::new(format!(
            "the sign-in answer from {} could not be verified ({})",
            p.settings.name(),
            truncate(&what, 120)
        ))
    };
    let claims = match id_token.claims(&verifier, &Nonce::new(flow.nonce.to_string())) {
        Ok(claims) => claims,
        Err(e) => {
            if let Some(discovery) = &p.oidc {
                discovery.forget().await;
            }
            return Err(refused(e.to_string()));
        }
    };
    if let Some(expected) = claims.access_token_hash() {
        let algorithm = id_token.signing_alg().map_err(|e| refused(e.to_string()))?;
        let key = id_token
            .signing_key(&verifier)
            .map_err(|e| refused(e.to_string()))?;
        let actual = AccessTokenHash::from_token(answer.access_token(), algorithm, key)
            .map_err(|e| refused(e.to_string()))?;
        if actual != *expected {
            return Err(refused("access token hash mismatch".into()));
        }
    }
    // The signature is verified: read the raw claims for what the standard type drops.
    let mut raw = payload(&id_token.to_string()).unwrap_or_default();
    let subject = claims.subject().as_str().to_string();
    if let Some(url) = metadata.userinfo_endpoint() {
        let info: Value = get_json(
            p,
            url.as_str(),
            answer.access_token().secret(),
            "application/json",
        )
        .await?;
        let Value::Object(info) = info else {
            return Err(LoginError::new(
                "the provider's userinfo answer is not a JSON object",
            ));
        };
        if info.get("sub").and_then(Value::as_str) != Some(subject.as_str()) {
            return Err(refused("userinfo is about another subject".into()));
        }
        for (key, value) in info {
            raw.entry(key).or_insert(value);
        }
    }
    profile(p, subject, &raw)
}

/// The claims of a compact JWS, without checking anything (the caller has).
fn payload(jwt: &str) -> Option<Map<String, Value>> {
    use base64::Engine;
    let part = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The profile from verified claims (ID token merged with userinfo).
fn profile(
    p: &Provider,
    subject: String,
    claims: &Map<String, Value>,
) -> Result<ExternalProfile, LoginError> {
    let text = |key: &str| {
        claims
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let email = text("email");
    if p.settings.kind() == OAuthKind::Google && !p.settings.hosted_domain.is_empty() {
        let hd = text("hd");
        if !hd.eq_ignore_ascii_case(&p.settings.hosted_domain) {
            return Err(LoginError::new(format!(
                "only {} accounts may sign in here",
                p.settings.hosted_domain
            )));
        }
    }
    let email_verified = match claims.get("email_verified") {
        Some(Value::Bool(b)) => *b,
        // Some providers send the boolean as a string.
        Some(Value::String(s)) => s == "true",
        _ => false,
    };
    let username = [
        text("preferred_username"),
        local_part(&email),
        subject.clone(),
    ]
    .into_iter()
    .find(|s| !s.is_empty())
    .unwrap_or_default();
    let realname = match text("name") {
        name if !name.is_empty() => name,
        _ => format!("{} {}", text("given_name"), text("family_name"))
            .trim()
            .to_string(),
    };
    let groups = groups(claims, p.settings.groups_claim());
    Ok(ExternalProfile {
        provider: p.settings.id.clone(),
        subject,
        username,
        email,
        email_verified,
        realname,
        admin: p.settings.admin_for(&groups),
        groups,
    })
}

fn local_part(email: &str) -> String {
    email.split('@').next().unwrap_or("").to_string()
}

/// The groups under `claim`, a dotted path for nested claims (Keycloak's
/// `realm_access.roles`): a list of strings, or one string.
fn groups(claims: &Map<String, Value>, claim: &str) -> Vec<String> {
    let mut parts = claim.split('.');
    let first = parts.next().unwrap_or_default();
    let mut value = claims.get(first);
    for part in parts {
        value = value.and_then(|v| v.get(part));
    }
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|g| g.trim_start_matches('/').to_string())
            .collect(),
        Some(Value::String(one)) => vec![one.trim_start_matches('/').to_string()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::{groups, payload};
    use serde_json::json;

    #[test]
    fn groups_from_flat_and_nested_claims() {
        let claims = json!({
            "groups": ["/hpc/admins", "users"],
            "realm_access": {"roles": ["registry-admin"]},
            "team": "one"
        });
        let claims = claims.as_object().unwrap();
        assert_eq!(groups(claims, "groups"), ["hpc/admins", "users"]);
        assert_eq!(groups(claims, "realm_access.roles"), ["registry-admin"]);
        assert_eq!(groups(claims, "team"), ["one"]);
        assert!(groups(claims, "missing.path").is_empty());
    }

    #[test]
    fn payload_reads_the_middle_part() {
        use base64::Engine;
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"x"}"#);
        let map = payload(&format!("h.{body}.s")).unwrap();
        assert_eq!(map["sub"], "x");
        assert!(payload("nodots").is_none());
    }
}
