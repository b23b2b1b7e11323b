//! Settings of the direct LDAP bind backend (`[auth.ldap]`), their defaults and their checks.
//!
//! The sign-in flow these settings drive is in `ldap.rs`; docs/auth-ldap.md shows complete
//! OpenLDAP and Active Directory examples.
use serde::{Deserialize, Serialize, Serializer};
use std::path::PathBuf;

/// What a configured password looks like in `silo config show`.
const REDACTED: &str = "****";

/// Direct LDAP bind: the registry searches the directory for the user, binds as them with the
/// password they typed, and reads their groups.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LdapSettings {
    /// `ldap://host:389` or `ldaps://host:636`.
    pub url: String,
    /// Label of the sign-in form on the login page (e.g. "University account").
    pub display_name: String,
    /// Upgrade an `ldap://` connection with StartTLS before sending any credential.
    pub starttls: bool,
    /// PEM file of the certificate authorities trusted for `ldaps://` and StartTLS; the
    /// system's store when unset.
    pub tls_ca_file: Option<PathBuf>,
    /// DN of the service account that searches for users; empty searches anonymously.
    pub bind_dn: String,
    /// Password of `bind_dn` (never printed by `silo config show`).
    #[serde(serialize_with = "redact")]
    pub bind_password: String,
    /// Where users are searched (subtree).
    pub base_dn: String,
    /// Filter finding the user; `{username}` is replaced by the typed name, escaped per
    /// RFC 4515.
    pub user_filter: String,
    /// Attribute holding the login name (`uid`, or `sAMAccountName` on Active Directory).
    pub username_attr: String,
    pub email_attr: String,
    /// Attribute holding the person's full name.
    pub name_attr: String,
    /// Where groups are searched (subtree); empty disables the group lookup.
    pub group_base_dn: String,
    /// Filter finding the user's groups; `{dn}` is the user's DN and `{username}` their login
    /// name, both escaped.
    pub group_filter: String,
    /// Attribute holding a group's name.
    pub group_name_attr: String,
    /// Members of these groups (by name or DN, case-insensitive) are administrators; others
    /// are not. Empty leaves the administrator flag to the registry.
    pub admin_groups: Vec<String>,
    /// When not empty, only members of these groups may sign in.
    pub allowed_groups: Vec<String>,
    /// Seconds allowed for connecting (including TLS) and for each directory operation.
    pub timeout_seconds: u64,
}

impl Default for LdapSettings {
    fn default() -> Self {
        LdapSettings {
            url: String::new(),
            display_name: "Directory account".into(),
            starttls: false,
            tls_ca_file: None,
            bind_dn: String::new(),
            bind_password: String::new(),
            base_dn: String::new(),
            user_filter: "(uid={username})".into(),
            username_attr: "uid".into(),
            email_attr: "mail".into(),
            name_attr: "cn".into(),
            group_base_dn: String::new(),
            group_filter: "(member={dn})".into(),
            group_name_attr: "cn".into(),
            admin_groups: Vec::new(),
            allowed_groups: Vec::new(),
            timeout_seconds: 10,
        }
    }
}

impl std::fmt::Debug for LdapSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LdapSettings")
            .field("url", &self.url)
            .field("starttls", &self.starttls)
            .field("bind_dn", &self.bind_dn)
            .field("bind_password", &redacted(&self.bind_password))
            .field("base_dn", &self.base_dn)
            .field("user_filter", &self.user_filter)
            .field("group_base_dn", &self.group_base_dn)
            .field("group_filter", &self.group_filter)
            .field("admin_groups", &self.admin_groups)
            .field("allowed_groups", &self.allowed_groups)
            .finish_non_exhaustive()
    }
}

fn redacted(secret: &str) -> &'static str {
    if secret.is_empty() {
        ""
    } else {
        REDACTED
    }
}

/// The configuration is serialised only to show it and for the (empty) built-in defaults,
/// so a configured password is written as `****`.
fn redact<S: Serializer>(secret: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(redacted(secret))
}

impl LdapSettings {
    /// Everything wrong with these settings, each naming the key and the variable to fix.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut bad = |key: &str, why: String| {
            problems.push(format!(
                "auth.ldap.{key} (SILO_AUTH__LDAP__{}): {why}",
                key.to_uppercase()
            ));
        };
        match url::Url::parse(&self.url) {
            Ok(u) if matches!(u.scheme(), "ldap" | "ldaps") && u.host_str().is_some() => {
                if self.starttls && u.scheme() == "ldaps" {
                    bad(
                        "starttls",
                        "ldaps:// is already TLS; use StartTLS only with ldap:// URLs".into(),
                    );
                }
            }
            _ => bad(
                "url",
                format!(
                    "{:?} is not an ldap://host[:port] or ldaps://host[:port] URL",
                    self.url
                ),
            ),
        }
        if self.base_dn.trim().is_empty() {
            bad("base_dn", "required: where users are searched".into());
        }
        if !self.bind_password.is_empty() && self.bind_dn.trim().is_empty() {
            bad(
                "bind_dn",
                "bind_password is set but bind_dn is empty (an empty DN binds anonymously)".into(),
            );
        }
        if !self.bind_dn.trim().is_empty() && self.bind_password.is_empty() {
            bad(
                "bind_password",
                "bind_dn is set without a password; directories treat that as an \
                 unauthenticated bind"
                    .into(),
            );
        }
        if let Some(why) = filter_problem(&self.user_filter, &["{username}"]) {
            bad("user_filter", why);
        }
        for (key, value) in [
            ("username_attr", &self.username_attr),
            ("email_attr", &self.email_attr),
            ("name_attr", &self.name_attr),
            ("group_name_attr", &self.group_name_attr),
        ] {
            if !is_attribute_name(value) {
                bad(key, format!("{value:?} is not an attribute name"));
            }
        }
        let uses_groups = !self.admin_groups.is_empty() || !self.allowed_groups.is_empty();
        if self.group_base_dn.trim().is_empty() {
            if uses_groups {
                bad(
                    "group_base_dn",
                    "required when admin_groups or allowed_groups are set".into(),
                );
            }
        } else if let Some(why) = filter_problem(&self.group_filter, &["{dn}", "{username}"]) {
            bad("group_filter", why);
        }
        if !(1..=300).contains(&self.timeout_seconds) {
            bad("timeout_seconds", "use 1 to 300".into());
        }
        if let Some(path) = &self.tls_ca_file {
            if let Err(why) = super::ldap::load_ca_file(path) {
                bad("tls_ca_file", why);
            }
        }
        problems
    }

    /// The timeout of connecting and of each directory operation.
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout_seconds.clamp(1, 300))
    }
}

/// Why `filter` is not a usable search filter template, if it is not: it must use one of
/// `placeholders` and, with them filled in, parse as an RFC 4515 filter.
fn filter_problem(filter: &str, placeholders: &[&str]) -> Option<String> {
    if !placeholders.iter().any(|p| filter.contains(p)) {
        return Some(format!(
            "{filter:?} must contain {}",
            placeholders.join(" or ")
        ));
    }
    let sample = placeholders
        .iter()
        .fold(filter.trim().to_string(), |f, p| f.replace(p, "x"));
    if !sample.starts_with('(') || ldap3::parse_filter(&sample).is_err() {
        return Some(format!(
            "{filter:?} is not an LDAP filter such as (uid={{username}})"
        ));
    }
    None
}

/// An LDAP attribute description: a name (letters, digits, hyphens) or a numeric OID.
fn is_attribute_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == ';')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> LdapSettings {
        LdapSettings {
            url: "ldap://ldap.example.edu".into(),
            base_dn: "ou=people,dc=example,dc=edu".into(),
            ..LdapSettings::default()
        }
    }

    #[test]
    fn defaults_with_a_url_and_base_are_valid() {
        assert_eq!(valid().problems(), Vec::<String>::new());
    }

    #[test]
    fn problems_name_the_key_and_variable() {
        let settings = LdapSettings {
            url: "http://ldap.example.edu".into(),
            base_dn: String::new(),
            bind_password: "secret".into(),
            user_filter: "uid=alice".into(),
            admin_groups: vec!["admins".into()],
            timeout_seconds: 0,
            ..LdapSettings::default()
        };
        let all = settings.problems().join("\n");
        for expected in [
            "auth.ldap.url (SILO_AUTH__LDAP__URL)",
            "auth.ldap.base_dn",
            "auth.ldap.bind_dn",
            "auth.ldap.user_filter",
            "auth.ldap.group_base_dn",
            "auth.ldap.timeout_seconds",
        ] {
            assert!(all.contains(expected), "{expected} missing from:\n{all}");
        }
    }

    #[test]
    fn config_check_reports_ldap_and_rate_limit_problems() {
        let mut config = crate::config::Config::default();
        config.auth.ldap = Some(LdapSettings::default());
        config.auth.rate_limit.window_seconds = 0;
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("auth.ldap.url"), "{err}");
        assert!(err.contains("auth.rate_limit.window_seconds"), "{err}");
        config.auth.ldap = Some(valid());
        config.auth.rate_limit.window_seconds = 60;
        config.validate().unwrap();
    }

    #[test]
    fn starttls_on_ldaps_and_dn_without_password_are_refused() {
        let settings = LdapSettings {
            url: "ldaps://ldap.example.edu".into(),
            starttls: true,
            bind_dn: "cn=reader,dc=example,dc=edu".into(),
            ..valid()
        };
        let all = settings.problems().join("\n");
        assert!(all.contains("already TLS"), "{all}");
        assert!(all.contains("unauthenticated bind"), "{all}");
    }

    #[test]
    fn filters_must_be_balanced_and_use_their_placeholder() {
        assert_eq!(filter_problem("(uid={username})", &["{username}"]), None);
        assert_eq!(
            filter_problem(
                "(&(objectClass=person)(|(uid={username})(mail={username})))",
                &["{username}"]
            ),
            None
        );
        assert!(filter_problem("(uid=alice)", &["{username}"]).is_some());
        assert!(filter_problem("(uid={username}", &["{username}"]).is_some());
        assert!(filter_problem("(uid={username}))(", &["{username}"]).is_some());
        assert!(filter_problem("(a={username})(b=1)", &["{username}"]).is_some());
        assert!(filter_problem("uid={username}", &["{username}"]).is_some());
    }

    #[test]
    fn the_documented_configurations_are_valid() {
        #[derive(serde::Deserialize)]
        struct File {
            auth: crate::auth::AuthSettings,
        }
        let doc = include_str!("../../../docs/auth-ldap.md");
        let blocks: Vec<&str> = doc
            .split("```toml")
            .skip(1)
            .filter_map(|b| b.split("```").next())
            .collect();
        assert_eq!(blocks.len(), 3, "OpenLDAP, Active Directory, rate limit");
        for block in blocks {
            let file: File = toml::from_str(block).unwrap_or_else(|e| panic!("{e}\n{block}"));
            assert!(file.auth.rate_limit.problems().is_empty());
            if let Some(ldap) = file.auth.ldap {
                // The CA files of the examples do not exist here.
                let problems: Vec<_> = ldap
                    .problems()
                    .into_iter()
                    .filter(|p| !p.contains("tls_ca_file"))
                    .collect();
                assert!(problems.is_empty(), "{problems:?}\n{block}");
            }
        }
        let example =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/silo.toml");
        crate::config::Config::load(Some(&example)).unwrap();
    }

    #[test]
    fn the_password_is_never_shown() {
        let settings = LdapSettings {
            bind_dn: "cn=reader".into(),
            bind_password: "hunter2".into(),
            ..valid()
        };
        assert!(!format!("{settings:?}").contains("hunter2"));
        let shown = toml::to_string(&settings).unwrap();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("bind_password = \"****\""), "{shown}");
    }
}
