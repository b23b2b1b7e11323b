//! GitLab (gitlab.com or self-hosted, also under a path prefix): OAuth 2 at
//! `<base_url>/oauth/…`, the person from the REST API v4 (`/user`, and `/groups` when groups
//! decide who is an administrator). The subject is GitLab's numeric user id.
use oauth2::PkceCodeChallenge;
use serde::Deserialize;

use super::client::{get_json, plain_authorize_url, plain_exchange};
use super::{ExternalProfile, FlowSecrets, LoginError, Provider};

const MEDIA_TYPE: &str = "application/json";

fn endpoints(p: &Provider) -> (String, String) {
    let web = p.settings.web_base();
    (
        format!("{web}/oauth/authorize"),
        format!("{web}/oauth/token"),
    )
}

pub fn authorize_url(
    p: &Provider,
    state: &str,
    challenge: PkceCodeChallenge,
) -> Result<String, LoginError> {
    let (authorize, token) = endpoints(p);
    plain_authorize_url(p, &authorize, &token, state, challenge)
}

#[derive(Deserialize)]
struct User {
    id: u64,
    username: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    /// Set once the primary address is confirmed (reported for the signed-in user).
    #[serde(default)]
    confirmed_at: Option<String>,
    #[serde(default)]
    state: Option<String>,
}

#[derive(Deserialize)]
struct Group {
    full_path: String,
}

pub async fn complete(p: &Provider, flow: FlowSecrets<'_>) -> Result<ExternalProfile, LoginError> {
    let (authorize, token) = endpoints(p);
    let access = plain_exchange(p, &authorize, &token, &flow).await?;
    let api = p.settings.api_base();
    let user: User = get_json(p, &format!("{api}/user"), &access, MEDIA_TYPE).await?;
    if user.state.as_deref().is_some_and(|s| s != "active") {
        return Err(LoginError::new(format!(
            "your {} account is not active",
            p.settings.name()
        )));
    }
    let groups = if p.settings.wants_groups() {
        // Needs the `read_api` scope; min_access_level=10 (guest) lists memberships only.
        let url = format!("{api}/groups?min_access_level=10&per_page=100");
        let found: Vec<Group> = get_json(p, &url, &access, MEDIA_TYPE).await?;
        found.into_iter().map(|g| g.full_path).collect()
    } else {
        Vec::new()
    };
    let email = user.email.unwrap_or_default();
    Ok(ExternalProfile {
        provider: p.settings.id.clone(),
        subject: user.id.to_string(),
        username: user.username,
        email_verified: !email.is_empty() && user.confirmed_at.is_some(),
        email,
        realname: user.name.unwrap_or_default(),
        admin: p.settings.admin_for(&groups),
        groups,
    })
}
