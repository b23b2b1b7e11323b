//! The HTTP side shared by every provider: one client that never follows redirects (a
//! provider, or a forged answer, cannot steer Silo to other hosts) and gives up after a few
//! seconds; the plain OAuth 2 code flow of GitHub and GitLab; and JSON reads of their APIs.
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde::de::DeserializeOwned;
use std::time::Duration;

use super::{FlowSecrets, LoginError, Provider};

/// Whole-request limit for every call to a provider.
const TIMEOUT: Duration = Duration::from_secs(15);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The client every provider call goes through.
pub fn build() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("silo/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the TLS backend initialises")
}

type PlainClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

fn plain(p: &Provider, authorize: &str, token: &str) -> Result<PlainClient, LoginError> {
    let bad =
        |what: &str| LoginError::new(format!("{} is misconfigured ({what})", p.settings.name()));
    Ok(
        BasicClient::new(ClientId::new(p.settings.client_id.clone()))
            .set_client_secret(ClientSecret::new(p.settings.client_secret.clone()))
            .set_auth_uri(AuthUrl::new(authorize.into()).map_err(|_| bad("authorization URL"))?)
            .set_token_uri(TokenUrl::new(token.into()).map_err(|_| bad("token URL"))?)
            .set_redirect_uri(
                RedirectUrl::new(p.redirect_uri.clone()).map_err(|_| bad("public_url"))?,
            )
            // GitHub and GitLab both take the client credentials as form fields.
            .set_auth_type(AuthType::RequestBody),
    )
}

/// The authorization URL of a plain OAuth 2 provider (GitHub, GitLab).
pub fn plain_authorize_url(
    p: &Provider,
    authorize: &str,
    token: &str,
    state: &str,
    challenge: PkceCodeChallenge,
) -> Result<String, LoginError> {
    let state = state.to_string();
    let (url, _) = plain(p, authorize, token)?
        .authorize_url(move || CsrfToken::new(state))
        .add_scopes(p.settings.scopes().into_iter().map(Scope::new))
        .set_pkce_challenge(challenge)
        .url();
    Ok(url.to_string())
}

/// Exchanges the code (with the PKCE verifier) for an access token.
pub async fn plain_exchange(
    p: &Provider,
    authorize: &str,
    token: &str,
    flow: &FlowSecrets<'_>,
) -> Result<String, LoginError> {
    let answer = plain(p, authorize, token)?
        .exchange_code(AuthorizationCode::new(flow.code.to_string()))
        .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.to_string()))
        .request_async(&p.http)
        .await
        .map_err(|e| token_error(p, &e))?;
    Ok(answer.access_token().secret().clone())
}

/// A short, secret-free description of a failed code exchange.
pub fn token_error<E: std::error::Error>(p: &Provider, err: &E) -> LoginError {
    tracing::warn!(provider = %p.settings.id, error = %err, "code exchange failed");
    let detail = match std::error::Error::source(err) {
        Some(source) => format!("{err}: {source}"),
        None => err.to_string(),
    };
    LoginError::new(format!(
        "{} did not accept the sign-in ({})",
        p.settings.name(),
        truncate(&detail, 160)
    ))
}

/// GETs `url` with the access token and reads JSON; `accept` is the media type to ask for.
pub async fn get_json<T: DeserializeOwned>(
    p: &Provider,
    url: &str,
    access_token: &str,
    accept: &str,
) -> Result<T, LoginError> {
    let failed = |what: String| {
        tracing::warn!(provider = %p.settings.id, url, "{what}");
        LoginError::new(format!(
            "could not read your account from {} ({what})",
            p.settings.name()
        ))
    };
    let response = p
        .http
        .get(url)
        .bearer_auth(access_token)
        .header(reqwest::header::ACCEPT, accept)
        .send()
        .await
        .map_err(|e| failed(format!("request failed: {}", without_url(&e))))?;
    let status = response.status();
    if !status.is_success() {
        return Err(failed(format!("HTTP {status}")));
    }
    response
        .json::<T>()
        .await
        .map_err(|e| failed(format!("unexpected answer: {}", without_url(&e))))
}

fn without_url(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    if let Some(url) = err.url() {
        text = text.replace(url.as_str(), "…");
    }
    text
}

/// At most `max` characters of `text`.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
