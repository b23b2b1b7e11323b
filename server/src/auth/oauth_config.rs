//! Settings of one OAuth 2 / OpenID Connect sign-in provider (`[[auth.oauth]]`), the
//! endpoints each kind implies, and the checks `silo config check` and start-up apply.
//!
//! ```toml
//! [[auth.oauth]]
//! id = "gitlab"                 # /auth/login/gitlab, /auth/callback/gitlab; links accounts
//! kind = "gitlab"               # github | gitlab | google | oidc
//! display_name = "University GitLab"
//! base_url = "https://gitlab.example.edu"
//! client_id = "…"
//! client_secret = "…"
//! ```
use serde::{Deserialize, Serialize, Serializer};
use std::collections::HashSet;

/// The kinds of provider Silo speaks to.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OAuthKind {
    /// github.com or GitHub Enterprise Server (OAuth 2 + the REST API).
    Github,
    /// gitlab.com or a self-hosted GitLab (OAuth 2 + the REST API v4).
    Gitlab,
    /// Google accounts (OpenID Connect at `https://accounts.google.com`).
    Google,
    /// Any OpenID Connect issuer with discovery (Keycloak, Dex, Authentik, Azure AD, …).
    Oidc,
}

impl OAuthKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthKind::Github => "github",
            OAuthKind::Gitlab => "gitlab",
            OAuthKind::Google => "google",
            OAuthKind::Oidc => "oidc",
        }
    }

    /// Whether the kind is OpenID Connect (ID token, nonce, discovery).
    pub fn is_oidc(self) -> bool {
        matches!(self, OAuthKind::Google | OAuthKind::Oidc)
    }
}

/// Google's issuer.
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";
/// The identifier reserved for the direct LDAP backend.
pub const LDAP_ID: &str = "ldap";

/// One OAuth 2 / OIDC provider.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OAuthProviderSettings {
    /// Stable identifier used in URLs (`/auth/login/<id>`) and to link accounts; changing it
    /// detaches every account linked through this provider.
    pub id: String,
    /// Label of the login button ("Sign in with <display_name>"); defaults to the kind's name.
    pub display_name: String,
    /// `github`, `gitlab`, `google` or `oidc` (required).
    pub kind: Option<OAuthKind>,
    /// The OAuth client (application) id registered at the provider.
    pub client_id: String,
    /// The client secret; `silo config show` prints it as `****`.
    #[serde(serialize_with = "redacted")]
    pub client_secret: String,
    /// GitHub / GitLab only: the web address of the server. Defaults to
    /// `https://github.com` / `https://gitlab.com`; GitHub Enterprise and self-hosted GitLab
    /// put theirs here (a path prefix such as `https://example.edu/gitlab` is kept).
    pub base_url: String,
    /// GitHub / GitLab only: the REST API base, when not the usual one
    /// (`https://api.github.com`, `<base_url>/api/v3` for GitHub Enterprise,
    /// `<base_url>/api/v4` for GitLab).
    pub api_url: String,
    /// `oidc` only: the issuer; its `/.well-known/openid-configuration` is read at sign-in.
    pub issuer_url: String,
    /// Scopes to request; empty for the kind's defaults (see [`Self::scopes`]).
    pub scopes: Vec<String>,
    /// `oidc` only: the claim (in the ID token or the userinfo answer) listing the person's
    /// groups. Default `groups`.
    pub groups_claim: String,
    /// Members of any of these groups are administrators, everyone else is not (checked
    /// at every sign-in). Empty: the provider does not decide who is an administrator.
    /// GitHub: organisation logins; GitLab: group full paths; OIDC: values of `groups_claim`.
    pub admin_groups: Vec<String>,
    /// `google` only: a Google Workspace domain; only its accounts may sign in.
    pub hosted_domain: String,
}

fn redacted<S: Serializer>(secret: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if secret.is_empty() { "" } else { "****" })
}

impl std::fmt::Debug for OAuthProviderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthProviderSettings")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("client_id", &self.client_id)
            .field("client_secret", &"****")
            .field("base_url", &self.base_url)
            .field("issuer_url", &self.issuer_url)
            .finish_non_exhaustive()
    }
}

impl OAuthProviderSettings {
    /// The kind (validation guarantees it is set; OIDC otherwise).
    pub fn kind(&self) -> OAuthKind {
        self.kind.unwrap_or(OAuthKind::Oidc)
    }

    /// The button label.
    pub fn name(&self) -> String {
        if !self.display_name.trim().is_empty() {
            return self.display_name.trim().to_string();
        }
        match self.kind() {
            OAuthKind::Github => "GitHub".into(),
            OAuthKind::Gitlab => "GitLab".into(),
            OAuthKind::Google => "Google".into(),
            OAuthKind::Oidc => self.id.clone(),
        }
    }

    /// The web base of GitHub / GitLab, without a trailing slash.
    pub fn web_base(&self) -> String {
        let base = self.base_url.trim().trim_end_matches('/');
        match (self.kind(), base.is_empty()) {
            (OAuthKind::Github, true) => "https://github.com".into(),
            (OAuthKind::Gitlab, true) => "https://gitlab.com".into(),
            _ => base.to_string(),
        }
    }

    /// The REST API base of GitHub / GitLab, without a trailing slash.
    pub fn api_base(&self) -> String {
        let api = self.api_url.trim().trim_end_matches('/');
        if !api.is_empty() {
            return api.to_string();
        }
        let web = self.web_base();
        match self.kind() {
            OAuthKind::Github if web == "https://github.com" => "https://api.github.com".into(),
            OAuthKind::Github => format!("{web}/api/v3"),
            _ => format!("{web}/api/v4"),
        }
    }

    /// The OpenID Connect issuer (Google's for `google`).
    pub fn issuer(&self) -> String {
        match self.kind() {
            OAuthKind::Google => GOOGLE_ISSUER.into(),
            _ => self.issuer_url.trim().trim_end_matches('/').to_string(),
        }
    }

    /// The claim holding groups.
    pub fn groups_claim(&self) -> &str {
        match self.groups_claim.trim() {
            "" => "groups",
            claim => claim,
        }
    }

    /// The scopes requested: the configured ones, or the kind's defaults (GitHub asks for
    /// `read:org` and GitLab for `read_api` only when `admin_groups` needs group lists).
    pub fn scopes(&self) -> Vec<String> {
        if !self.scopes.is_empty() {
            return self.scopes.iter().map(|s| s.trim().to_string()).collect();
        }
        let groups = !self.admin_groups.is_empty();
        let scopes: &[&str] = match (self.kind(), groups) {
            (OAuthKind::Github, false) => &["read:user", "user:email"],
            (OAuthKind::Github, true) => &["read:user", "user:email", "read:org"],
            (OAuthKind::Gitlab, false) => &["read_user"],
            (OAuthKind::Gitlab, true) => &["read_user", "read_api"],
            (OAuthKind::Google | OAuthKind::Oidc, _) => &["openid", "email", "profile"],
        };
        scopes.iter().map(|s| s.to_string()).collect()
    }

    /// Whether group lists must be fetched (for the administrator mapping).
    pub fn wants_groups(&self) -> bool {
        !self.admin_groups.is_empty()
    }

    /// The administrator decision for someone in `groups`: `None` when the provider does
    /// not decide.
    pub fn admin_for(&self, groups: &[String]) -> Option<bool> {
        if self.admin_groups.is_empty() {
            return None;
        }
        Some(groups.iter().any(|g| self.admin_groups.contains(g)))
    }
}

/// Problems with the `[[auth.oauth]]` tables, one line each, naming the table and the key.
pub fn problems(providers: &[OAuthProviderSettings]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for (index, p) in providers.iter().enumerate() {
        let at = if p.id.is_empty() {
            format!("auth.oauth[{index}]")
        } else {
            format!("auth.oauth[{index}] (id {:?})", p.id)
        };
        let mut problem = |text: String| problems.push(format!("{at}: {text}"));
        let id_ok = !p.id.is_empty()
            && p.id.len() <= 40
            && p.id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !id_ok {
            problem("id: use 1 to 40 characters a-z, 0-9, '-' or '_'".into());
        } else if p.id == LDAP_ID {
            problem("id \"ldap\" is reserved for [auth.ldap]".into());
        } else if !seen.insert(p.id.clone()) {
            problem("id: another [[auth.oauth]] table has the same id".into());
        }
        let Some(kind) = p.kind else {
            problem("kind is missing: github, gitlab, google or oidc".into());
            continue;
        };
        if p.client_id.trim().is_empty() {
            problem(
                "client_id is missing (from the application registered at the provider)".into(),
            );
        }
        if p.client_secret.trim().is_empty() {
            problem("client_secret is missing".into());
        }
        let only = |key: &str, value: bool, kinds: &str| {
            value.then(|| format!("{key} applies only to kind = {kinds}"))
        };
        let misplaced = [
            only(
                "base_url",
                !p.base_url.is_empty() && kind.is_oidc(),
                "github or gitlab",
            ),
            only(
                "api_url",
                !p.api_url.is_empty() && kind.is_oidc(),
                "github or gitlab",
            ),
            only(
                "issuer_url",
                !p.issuer_url.is_empty() && kind != OAuthKind::Oidc,
                "oidc",
            ),
            only(
                "groups_claim",
                !p.groups_claim.is_empty() && kind != OAuthKind::Oidc,
                "oidc",
            ),
            only(
                "hosted_domain",
                !p.hosted_domain.is_empty() && kind != OAuthKind::Google,
                "google",
            ),
        ];
        for text in misplaced.into_iter().flatten() {
            problem(text);
        }
        for (key, value) in [("base_url", &p.base_url), ("api_url", &p.api_url)] {
            if !value.is_empty() && !is_http_url(value) {
                problem(format!(
                    "{key} = {value:?}: expected an http:// or https:// URL"
                ));
            }
        }
        if kind == OAuthKind::Oidc && !is_http_url(&p.issuer_url) {
            problem(format!(
                "issuer_url = {:?}: kind = \"oidc\" needs the issuer's http(s) URL (the part before /.well-known/openid-configuration)",
                p.issuer_url
            ));
        }
        if p.scopes
            .iter()
            .any(|s| s.trim().is_empty() || s.contains(' '))
        {
            problem("scopes: one scope per string, without spaces".into());
        }
        if kind.is_oidc() && !p.scopes.is_empty() && !p.scopes.iter().any(|s| s == "openid") {
            problem("scopes: OpenID Connect needs \"openid\" among the scopes".into());
        }
        if p.admin_groups.iter().any(|g| g.trim().is_empty()) {
            problem("admin_groups: empty group name".into());
        }
        if kind == OAuthKind::Google && p.wants_groups() {
            problem("admin_groups: Google reports no groups; use kind = \"oidc\" with a provider that does".into());
        }
    }
    problems
}

fn is_http_url(value: &str) -> bool {
    url::Url::parse(value.trim())
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(id: &str, kind: OAuthKind) -> OAuthProviderSettings {
        OAuthProviderSettings {
            id: id.into(),
            kind: Some(kind),
            client_id: "client".into(),
            client_secret: "secret".into(),
            ..Default::default()
        }
    }

    #[test]
    fn endpoints_follow_the_kind_and_base_url() {
        let github = provider("gh", OAuthKind::Github);
        assert_eq!(github.web_base(), "https://github.com");
        assert_eq!(github.api_base(), "https://api.github.com");
        let enterprise = OAuthProviderSettings {
            base_url: "https://github.example.edu/".into(),
            ..github.clone()
        };
        assert_eq!(enterprise.api_base(), "https://github.example.edu/api/v3");
        let gitlab = OAuthProviderSettings {
            base_url: "https://example.edu/gitlab".into(),
            ..provider("gl", OAuthKind::Gitlab)
        };
        assert_eq!(gitlab.api_base(), "https://example.edu/gitlab/api/v4");
        assert_eq!(provider("g", OAuthKind::Google).issuer(), GOOGLE_ISSUER);
        assert_eq!(provider("g", OAuthKind::Google).name(), "Google");
        assert_eq!(gitlab.scopes(), ["read_user"]);
        let with_admins = OAuthProviderSettings {
            admin_groups: vec!["hpc/admins".into()],
            ..gitlab
        };
        assert_eq!(with_admins.scopes(), ["read_user", "read_api"]);
        assert_eq!(with_admins.admin_for(&["hpc/admins".into()]), Some(true));
        assert_eq!(with_admins.admin_for(&["other".into()]), Some(false));
        assert_eq!(github.admin_for(&["x".into()]), None);
    }

    #[test]
    fn problems_name_the_table_and_key() {
        let good = OAuthProviderSettings {
            issuer_url: "https://sso.example.edu/realms/hpc".into(),
            ..provider("keycloak", OAuthKind::Oidc)
        };
        assert!(problems(std::slice::from_ref(&good)).is_empty());

        let bad = vec![
            good.clone(),
            good.clone(),
            OAuthProviderSettings {
                kind: None,
                ..provider("nokind", OAuthKind::Oidc)
            },
            OAuthProviderSettings {
                issuer_url: String::new(),
                client_secret: String::new(),
                scopes: vec!["email".into()],
                ..provider("Bad Id", OAuthKind::Oidc)
            },
            OAuthProviderSettings {
                issuer_url: "https://x".into(),
                base_url: "not a url".into(),
                ..provider("gh", OAuthKind::Github)
            },
            provider("ldap", OAuthKind::Github),
        ];
        let text = problems(&bad).join("\n");
        for expected in [
            "auth.oauth[1] (id \"keycloak\"): id: another",
            "auth.oauth[2] (id \"nokind\"): kind is missing",
            "auth.oauth[3] (id \"Bad Id\"): id: use",
            "auth.oauth[3] (id \"Bad Id\"): client_secret is missing",
            "auth.oauth[3] (id \"Bad Id\"): issuer_url = \"\"",
            "needs \"openid\"",
            "auth.oauth[4] (id \"gh\"): issuer_url applies only to kind = oidc",
            "auth.oauth[4] (id \"gh\"): base_url = \"not a url\"",
            "id \"ldap\" is reserved",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
    }

    #[test]
    fn tables_parse_from_toml() {
        let auth: crate::auth::AuthSettings = toml::from_str(
            r#"
            [[oauth]]
            id = "github"
            kind = "github"
            client_id = "a"
            client_secret = "b"

            [[oauth]]
            id = "dex"
            kind = "oidc"
            issuer_url = "https://dex.example.edu/dex"
            client_id = "silo"
            client_secret = "c"
            scopes = ["openid", "groups"]
            "#,
        )
        .unwrap();
        assert_eq!(auth.oauth.len(), 2);
        assert_eq!(auth.oauth[1].kind, Some(OAuthKind::Oidc));
        assert!(problems(&auth.oauth).is_empty());
        let typo =
            toml::from_str::<crate::auth::AuthSettings>("[[oauth]]\nid = \"x\"\nkind = \"gitlub\"");
        assert!(typo.unwrap_err().to_string().contains("gitlub"));
    }

    #[test]
    fn secrets_stay_out_of_printouts() {
        let p = provider("gh", OAuthKind::Github);
        let shown = toml::to_string(&p).unwrap();
        assert!(shown.contains("client_secret = \"****\""), "{shown}");
        assert!(!format!("{p:?}").contains("secret\""), "{p:?}");
    }
}
