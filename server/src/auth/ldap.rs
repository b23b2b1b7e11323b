//! Direct LDAP bind sign-in: find the user with the service account, bind as them with the
//! password they typed, read their attributes and groups.
//!
//! Traps avoided: an empty password is refused before any bind (directories accept a DN with
//! an empty password as an *unauthenticated* bind, RFC 4513 §5.1.2); the typed name is escaped
//! per RFC 4515 before it goes into a filter; a name matching several entries signs nobody
//! in; every credential failure answers the same; a dead or misconfigured directory is an
//! error of its own, never a 500 and never a hang (each step has a timeout).
use ldap3::{LdapConnAsync, LdapConnSettings, LdapError, Scope, SearchEntry, SearchOptions};
use std::path::Path;
use std::sync::Arc;

use super::ldap_config::LdapSettings;

/// `invalidCredentials`: wrong password, unknown or locked account.
const RC_INVALID_CREDENTIALS: u32 = 49;
/// `sizeLimitExceeded`: the user filter matched more entries than asked for.
const RC_SIZE_LIMIT_EXCEEDED: u32 = 4;
/// Longest user name or password accepted (longer ones cannot be real).
const INPUT_MAX: usize = 256;
/// Most groups read for one user.
const GROUPS_MAX: i32 = 1000;

/// A user the directory authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryUser {
    pub dn: String,
    /// `entryUUID` (OpenLDAP) or `objectGUID` (Active Directory, as hex) when readable: a
    /// name that survives renames.
    pub uuid: Option<String>,
    /// The login name as the directory spells it.
    pub username: String,
    pub email: String,
    pub realname: String,
    /// Names of the groups the user is a member of.
    pub groups: Vec<String>,
    /// DNs of the same groups, in the same order.
    pub group_dns: Vec<String>,
}

impl DirectoryUser {
    /// Whether the user is in one of `wanted` (group names or DNs, case-insensitive).
    pub fn in_any_group(&self, wanted: &[String]) -> bool {
        wanted.iter().any(|w| {
            self.groups
                .iter()
                .chain(&self.group_dns)
                .any(|g| g.eq_ignore_ascii_case(w.trim()))
        })
    }
}

/// Why a directory sign-in failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LdapLoginError {
    /// Unknown user, wrong or empty password, ambiguous name: one answer for all.
    #[error("the user name or the password is not valid")]
    InvalidCredentials,
    /// The password was right but the user is in none of `allowed_groups`.
    #[error("your directory account is not in a group allowed to sign in here")]
    NotInAllowedGroup,
    /// The directory could not be used; the text says what to tell the visitor (details
    /// are logged).
    #[error("{0}")]
    Unavailable(String),
}

/// The LDAP directory of `[auth.ldap]`.
#[derive(Clone, Debug)]
pub struct Directory {
    settings: LdapSettings,
}

impl Directory {
    pub fn new(settings: LdapSettings) -> Self {
        Directory { settings }
    }

    pub fn settings(&self) -> &LdapSettings {
        &self.settings
    }

    /// Checks `username` and `password` against the directory.
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<DirectoryUser, LdapLoginError> {
        let username = username.trim();
        if username.is_empty()
            || password.is_empty()
            || username.len() > INPUT_MAX
            || password.len() > INPUT_MAX
            || username.chars().any(char::is_control)
        {
            // Never reaches the directory: an empty password would be an anonymous bind.
            return Err(LdapLoginError::InvalidCredentials);
        }
        // One overall bound besides the per-step timeouts: the steps are few.
        let overall = self.settings.timeout() * 4;
        match tokio::time::timeout(overall, self.authenticate_inner(username, password)).await {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!(url = %self.settings.url, "LDAP sign-in timed out");
                Err(unavailable_timeout())
            }
        }
    }

    async fn authenticate_inner(
        &self,
        username: &str,
        password: &str,
    ) -> Result<DirectoryUser, LdapLoginError> {
        let s = &self.settings;
        let mut ldap = self.connect().await?;
        if !s.bind_dn.trim().is_empty() {
            let bound = ldap
                .with_timeout(s.timeout())
                .simple_bind(s.bind_dn.trim(), &s.bind_password)
                .await
                .map_err(|e| self.failure("service bind", e))?;
            if bound.rc != 0 {
                tracing::error!(rc = bound.rc, text = %bound.text, bind_dn = %s.bind_dn,
                    "the directory refused the service account (check auth.ldap.bind_dn and bind_password)");
                return Err(LdapLoginError::Unavailable(
                    "the directory refused the registry's service account; please tell the \
                     registry's administrators"
                        .into(),
                ));
            }
        }
        let entry = self.find_user(&mut ldap, username).await?;
        let groups = self.find_groups(&mut ldap, &entry.dn, username).await?;
        let bound = ldap
            .with_timeout(s.timeout())
            .simple_bind(&entry.dn, password)
            .await
            .map_err(|e| self.failure("user bind", e))?;
        let _ = ldap.unbind().await;
        match bound.rc {
            0 => {}
            RC_INVALID_CREDENTIALS => return Err(LdapLoginError::InvalidCredentials),
            rc => {
                // Locked, expired or otherwise refused accounts look like a wrong password.
                tracing::info!(rc, text = %bound.text, dn = %entry.dn, "LDAP user bind refused");
                return Err(LdapLoginError::InvalidCredentials);
            }
        }
        let user = self.directory_user(entry, username, groups);
        if !s.allowed_groups.is_empty() && !user.in_any_group(&s.allowed_groups) {
            return Err(LdapLoginError::NotInAllowedGroup);
        }
        Ok(user)
    }

    /// Opens the connection (TLS or StartTLS as configured) and starts driving it.
    async fn connect(&self) -> Result<ldap3::Ldap, LdapLoginError> {
        let s = &self.settings;
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(s.timeout())
            .set_starttls(s.starttls);
        if s.starttls || s.url.starts_with("ldaps:") {
            let tls = tls_config(s.tls_ca_file.as_deref()).map_err(|why| {
                tracing::error!(%why, "LDAP TLS setup failed");
                LdapLoginError::Unavailable(
                    "no secure connection (TLS/StartTLS) to the directory server could be \
                     established; please tell the registry's administrators"
                        .into(),
                )
            })?;
            settings = settings.set_config(tls);
        }
        let (conn, ldap) = LdapConnAsync::with_settings(settings, &s.url)
            .await
            .map_err(|e| self.failure("connect", e))?;
        ldap3::drive!(conn);
        Ok(ldap)
    }

    /// The one entry `username` names, or `InvalidCredentials`.
    async fn find_user(
        &self,
        ldap: &mut ldap3::Ldap,
        username: &str,
    ) -> Result<SearchEntry, LdapLoginError> {
        let s = &self.settings;
        let filter = s
            .user_filter
            .trim()
            .replace("{username}", &ldap3::ldap_escape(username));
        let attrs = [
            s.username_attr.as_str(),
            s.email_attr.as_str(),
            s.name_attr.as_str(),
            "entryUUID",
            "objectGUID",
        ];
        let found = ldap
            .with_timeout(s.timeout())
            .with_search_options(SearchOptions::new().sizelimit(2))
            .search(s.base_dn.trim(), Scope::Subtree, &filter, attrs)
            .await
            .map_err(|e| self.failure("user search", e))?;
        let ldap3::SearchResult(entries, result) = found;
        if result.rc != 0 && result.rc != RC_SIZE_LIMIT_EXCEEDED {
            return Err(self.refused("user search", &result));
        }
        let mut entries = entries.into_iter().map(SearchEntry::construct);
        match (entries.next(), entries.next()) {
            (Some(entry), None) if result.rc == 0 => Ok(entry),
            (None, _) => Err(LdapLoginError::InvalidCredentials),
            _ => {
                tracing::warn!(%filter, "the LDAP user filter matches several entries; nobody signs in with this name");
                Err(LdapLoginError::InvalidCredentials)
            }
        }
    }

    /// `(name, dn)` of the groups `dn` belongs to; none when groups are not configured.
    async fn find_groups(
        &self,
        ldap: &mut ldap3::Ldap,
        dn: &str,
        username: &str,
    ) -> Result<Vec<(String, String)>, LdapLoginError> {
        let s = &self.settings;
        if s.group_base_dn.trim().is_empty() {
            return Ok(Vec::new());
        }
        let filter = s
            .group_filter
            .trim()
            .replace("{dn}", &ldap3::ldap_escape(dn))
            .replace("{username}", &ldap3::ldap_escape(username));
        let found = ldap
            .with_timeout(s.timeout())
            .with_search_options(SearchOptions::new().sizelimit(GROUPS_MAX))
            .search(
                s.group_base_dn.trim(),
                Scope::Subtree,
                &filter,
                [s.group_name_attr.as_str()],
            )
            .await
            .map_err(|e| self.failure("group search", e))?;
        let ldap3::SearchResult(entries, result) = found;
        if result.rc != 0 && result.rc != RC_SIZE_LIMIT_EXCEEDED {
            return Err(self.refused("group search", &result));
        }
        Ok(entries
            .into_iter()
            .map(SearchEntry::construct)
            .map(|group| {
                let name =
                    first_value(&group, &s.group_name_attr).unwrap_or_else(|| group.dn.clone());
                (name, group.dn)
            })
            .collect())
    }

    fn directory_user(
        &self,
        entry: SearchEntry,
        typed: &str,
        groups: Vec<(String, String)>,
    ) -> DirectoryUser {
        let s = &self.settings;
        let uuid = entry_uuid(&entry);
        let (groups, group_dns) = groups.into_iter().unzip();
        DirectoryUser {
            uuid,
            username: first_value(&entry, &s.username_attr).unwrap_or_else(|| typed.to_string()),
            email: first_value(&entry, &s.email_attr).unwrap_or_default(),
            realname: first_value(&entry, &s.name_attr).unwrap_or_default(),
            groups,
            group_dns,
            dn: entry.dn,
        }
    }

    /// An error talking to the directory: logged in full, told to the visitor briefly.
    fn failure(&self, step: &str, err: LdapError) -> LdapLoginError {
        let s = &self.settings;
        tracing::warn!(url = %s.url, step, error = %err, "LDAP sign-in failed");
        let secure = s.starttls || s.url.starts_with("ldaps:");
        let tls_refused = |e: &std::io::Error| {
            e.kind() == std::io::ErrorKind::InvalidData
                || e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>())
        };
        match err {
            LdapError::Timeout { .. } => unavailable_timeout(),
            LdapError::Io { source } if step == "connect" && !(secure && tls_refused(&source)) => {
                LdapLoginError::Unavailable(
                    "the directory server cannot be reached; please try again later".into(),
                )
            }
            _ if step == "connect" && secure => LdapLoginError::Unavailable(
                "no secure connection (TLS/StartTLS) to the directory server could be \
                 established; please tell the registry's administrators"
                    .into(),
            ),
            _ => LdapLoginError::Unavailable(
                "the directory server did not answer properly; please try again later".into(),
            ),
        }
    }

    fn refused(&self, step: &str, result: &ldap3::LdapResult) -> LdapLoginError {
        tracing::error!(url = %self.settings.url, step, rc = result.rc, text = %result.text,
            "the directory refused a search (check auth.ldap base DNs, filters and the service account's rights)");
        LdapLoginError::Unavailable(
            "the directory refused the registry's search; please tell the registry's \
             administrators"
                .into(),
        )
    }
}

fn unavailable_timeout() -> LdapLoginError {
    LdapLoginError::Unavailable(
        "the directory server did not answer in time; please try again later".into(),
    )
}

/// `entryUUID`, else Active Directory's binary `objectGUID` as hex (ldap3 files a value
/// under `attrs` when its bytes happen to be UTF-8, under `bin_attrs` otherwise).
fn entry_uuid(entry: &SearchEntry) -> Option<String> {
    first_value(entry, "entryUUID").or_else(|| {
        let binary = entry.bin_attrs.get("objectGUID").and_then(|v| v.first());
        let text = entry.attrs.get("objectGUID").and_then(|v| v.first());
        binary
            .map(hex::encode)
            .or_else(|| text.map(|t| hex::encode(t.as_bytes())))
    })
}

/// The first value of `attr` (attribute names are case-insensitive).
fn first_value(entry: &SearchEntry, attr: &str) -> Option<String> {
    entry
        .attrs
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(attr))
        .and_then(|(_, values)| values.first())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The TLS client configuration: the CA file's certificates, or the system's store. Built
/// with an explicit crypto provider so it never depends on a process-wide default.
fn tls_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            for cert in load_ca_file(path)? {
                roots
                    .add(cert)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The certificates of a PEM file; an error names the file and what is wrong with it.
pub fn load_ca_file(
    path: &Path,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{} is not a PEM certificate file: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{} holds no PEM certificate", path.display()));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_values_are_escaped_per_rfc_4515() {
        assert_eq!(ldap3::ldap_escape("alice"), "alice");
        assert_eq!(
            ldap3::ldap_escape("*)(uid=*))(|(uid=*"),
            "\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a"
        );
        assert_eq!(ldap3::ldap_escape("a\\b\0"), "a\\5cb\\00");
    }

    #[tokio::test]
    async fn empty_passwords_and_odd_names_never_reach_the_directory() {
        // Port 9 on loopback is closed: reaching it would be `Unavailable`.
        let directory = Directory::new(LdapSettings {
            url: "ldap://127.0.0.1:9".into(),
            base_dn: "dc=example".into(),
            ..LdapSettings::default()
        });
        for (user, password) in [
            ("alice", ""),
            ("", "secret"),
            ("   ", "secret"),
            ("ali\nce", "secret"),
        ] {
            assert_eq!(
                directory.authenticate(user, password).await,
                Err(LdapLoginError::InvalidCredentials),
                "{user:?}"
            );
        }
        assert!(matches!(
            directory.authenticate("alice", "secret").await,
            Err(LdapLoginError::Unavailable(_))
        ));
    }

    #[test]
    fn group_membership_matches_names_and_dns_case_insensitively() {
        let user = DirectoryUser {
            dn: "uid=a,dc=x".into(),
            uuid: None,
            username: "a".into(),
            email: String::new(),
            realname: String::new(),
            groups: vec!["Registry-Admins".into()],
            group_dns: vec!["cn=Registry-Admins,ou=groups,dc=x".into()],
        };
        assert!(user.in_any_group(&["registry-admins".into()]));
        assert!(user.in_any_group(&["CN=registry-admins,OU=groups,DC=x".into()]));
        assert!(!user.in_any_group(&["staff".into()]));
        assert!(!user.in_any_group(&[]));
    }

    #[test]
    fn the_subject_is_the_entry_uuid_or_the_object_guid() {
        let entry = |attrs: &[(&str, &str)], bin: &[(&str, &[u8])]| SearchEntry {
            dn: "uid=a,dc=x".into(),
            attrs: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
                .collect(),
            bin_attrs: bin
                .iter()
                .map(|(k, v)| (k.to_string(), vec![v.to_vec()]))
                .collect(),
        };
        let uuid = "a83712c0-7d34-1041-93dc-d9469d416bd0";
        assert_eq!(
            entry_uuid(&entry(&[("entryUUID", uuid)], &[])).as_deref(),
            Some(uuid)
        );
        let guid: &[u8] = &[0xff, 0x01, 0x80, 0x7f];
        assert_eq!(
            entry_uuid(&entry(&[], &[("objectGUID", guid)])).as_deref(),
            Some("ff01807f")
        );
        assert_eq!(
            entry_uuid(&entry(&[("objectGUID", "AB")], &[])).as_deref(),
            Some("4142")
        );
        assert_eq!(entry_uuid(&entry(&[("cn", "a")], &[])), None);
    }

    #[test]
    fn ca_file_problems_are_explained() {
        let missing = load_ca_file(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(missing.contains("cannot read"), "{missing}");
        let mut empty = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut empty, b"not a certificate\n").unwrap();
        let none = load_ca_file(empty.path()).unwrap_err();
        assert!(none.contains("no PEM certificate"), "{none}");
    }
}
