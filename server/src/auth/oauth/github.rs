//! GitHub and GitHub Enterprise Server: OAuth 2 at `<base_url>/login/oauth/…`, the person
//! from the REST API (`/user`, `/user/emails`, and `/user/orgs` when organisations decide
//! who is an administrator). The subject is GitHub's numeric user id, which survives
//! renames of the login and changes of e-mail.
use oauth2::PkceCodeChallenge;
use serde::Deserialize;

use super::client::{get_json, plain_authorize_url, plain_exchange};
use super::{ExternalProfile, FlowSecrets, LoginError, Provider};

const MEDIA_TYPE: &str = "application/vnd.github+json";

fn endpoints(p: &Provider) -> (String, String) {
    let web = p.settings.web_base();
    (
        format!("{web}/login/oauth/authorize"),
        format!("{web}/login/oauth/access_token"),
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
    login: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

#[derive(Deserialize)]
struct Email {
    email: String,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    verified: bool,
}

#[derive(Deserialize)]
struct Org {
    login: String,
}

pub async fn complete(p: &Provider, flow: FlowSecrets<'_>) -> Result<ExternalProfile, LoginError> {
    let (authorize, token) = endpoints(p);
    let access = plain_exchange(p, &authorize, &token, &flow).await?;
    let api = p.settings.api_base();
    let user: User = get_json(p, &format!("{api}/user"), &access, MEDIA_TYPE).await?;
    // Needs the `user:email` scope; without it only the public e-mail (unverified) is known.
    let emails: Vec<Email> = get_json(p, &format!("{api}/user/emails"), &access, MEDIA_TYPE)
        .await
        .unwrap_or_default();
    let (email, email_verified) = choose_email(&emails, user.email.as_deref());
    let groups = if p.settings.wants_groups() {
        let orgs: Vec<Org> = get_json(
            p,
            &format!("{api}/user/orgs?per_page=100"),
            &access,
            MEDIA_TYPE,
        )
        .await?;
        orgs.into_iter().map(|o| o.login).collect()
    } else {
        Vec::new()
    };
    Ok(ExternalProfile {
        provider: p.settings.id.clone(),
        subject: user.id.to_string(),
        username: user.login,
        email,
        email_verified,
        realname: user.name.unwrap_or_default(),
        admin: p.settings.admin_for(&groups),
        groups,
    })
}

/// The primary verified address, else any verified one, else the public one (unverified).
fn choose_email(emails: &[Email], public: Option<&str>) -> (String, bool) {
    let verified = emails
        .iter()
        .filter(|e| e.verified)
        .max_by_key(|e| e.primary);
    match (verified, public) {
        (Some(e), _) => (e.email.clone(), true),
        (None, Some(public)) => (public.to_string(), false),
        (None, None) => (String::new(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::{choose_email, Email};

    fn email(address: &str, primary: bool, verified: bool) -> Email {
        Email {
            email: address.into(),
            primary,
            verified,
        }
    }

    #[test]
    fn the_primary_verified_address_wins() {
        let emails = [
            email("old@example.org", false, true),
            email("main@example.org", true, true),
            email("new@example.org", false, false),
        ];
        assert_eq!(
            choose_email(&emails, None),
            ("main@example.org".into(), true)
        );
        let unverified = [email("main@example.org", true, false)];
        assert_eq!(
            choose_email(&unverified, Some("pub@example.org")),
            ("pub@example.org".into(), false)
        );
        assert_eq!(choose_email(&[], None), (String::new(), false));
    }
}
