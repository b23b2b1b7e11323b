//! Configuration in layers: built-in defaults < TOML file (`--config`) < `SILO_*` environment.
//!
//! Nested keys use `__` in the environment: `SILO_BRANDING__NAME` sets `branding.name`.
//! Every subcommand loads the same configuration, so they all see the same database.
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The environment prefix of every setting.
pub const ENV_PREFIX: &str = "SILO_";
/// Environment variables with the prefix that are not settings.
const ENV_NOT_SETTINGS: &[&str] = &[
    "SILO_CONFIG",
    "SILO_TEST_POSTGRES_URL",
    "SILO_LOG",
    "SILO_FAULT_POINT",
];

#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: String,
    /// The URL clients reach Silo at, used in every absolute link Silo hands out
    /// (upload URLs, pull commands). Defaults to `http://<listen>` (`https://` with `[tls]`).
    pub public_url: Option<String>,
    /// Where the SQLite database and the blob store live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; defaults to `<data_dir>/silo.db`. Its password is
    /// never printed (`silo config show` writes `****`).
    #[serde(serialize_with = "serialize_redacted_url")]
    pub database_url: Option<String>,
    /// Serve the SPA from this directory instead of the copy built into the binary.
    pub spa_dir: Option<PathBuf>,
    /// The server's secret key (sregistry secrets derive from it); defaults to
    /// `<data_dir>/secret.key`, created on first start. Replicas must share one file.
    pub secret_key_file: Option<PathBuf>,
    /// Keep uploads that are not SIF images instead of refusing them with 400 (for sites
    /// that push other blobs, for example through oras). Such uploads get no SIF metadata.
    pub accept_non_sif: bool,
    /// Image lookups (`GET /v1/images/…`, shub manifests) kept in memory, about a kilobyte
    /// each; 0 turns the cache off. Every change empties it (see docs/configuration.md).
    pub lookup_cache_entries: usize,
    pub branding: Branding,
    pub storage: StorageSettings,
    pub library: LibrarySettings,
    pub oci: OciSettings,
    pub web: WebSettings,
    /// Institutional sign-in backends (`[auth]`).
    pub auth: crate::auth::AuthSettings,
    /// Periodic housekeeping (`[maintenance]`).
    pub maintenance: crate::background::MaintenanceSettings,
    /// The Prometheus endpoint (`[metrics]`).
    pub metrics: crate::observability::MetricsSettings,
    /// Log format and level of `silo serve` (`[log]`).
    pub log: crate::observability::LogSettings,
    /// HTTPS served by Silo itself (`[tls]`).
    pub tls: crate::edge::tls::TlsSettings,
    /// Reverse proxies whose forwarding headers are believed (`[proxy]`).
    pub proxy: crate::edge::proxy::ProxySettings,
    /// Body sizes, timeouts and request rates (`[limits]`).
    pub limits: crate::edge::limits::LimitSettings,
}

/// Where image bytes are kept (`[storage]`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSettings {
    pub backend: StorageBackend,
    /// The filesystem store's directory; defaults to `<data_dir>/blobs`.
    pub path: Option<PathBuf>,
    /// Filesystem store: fsync every blob (and its directory) before a push is acknowledged.
    /// `false` trades durability across a power cut for the disk's page-cache speed.
    pub fsync: bool,
    /// The S3-compatible store (`backend = "s3"`).
    pub s3: silo_domain::store::S3Settings,
}

impl Default for StorageSettings {
    fn default() -> Self {
        StorageSettings {
            backend: StorageBackend::default(),
            path: None,
            fsync: true,
            s3: silo_domain::store::S3Settings::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    /// A local (or shared) directory.
    #[default]
    Filesystem,
    /// An S3-compatible object store: AWS S3, MinIO, Ceph RGW, Garage, …
    S3,
}

/// The web interface's sign-in sessions and browser uploads.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WebSettings {
    /// A browser session unused for this many minutes ends.
    pub session_idle_minutes: u32,
    /// A browser session ends this many hours after sign-in, however active.
    pub session_max_hours: u32,
    /// Largest image accepted by the browser upload, in MiB.
    pub upload_max_mib: u64,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            session_idle_minutes: 12 * 60,
            session_max_hours: 7 * 24,
            upload_max_mib: 16 * 1024,
        }
    }
}

impl WebSettings {
    /// The session lifetimes the domain applies.
    pub fn session_limits(&self) -> silo_domain::services::SessionLimits {
        silo_domain::services::SessionLimits {
            idle: chrono::Duration::minutes(i64::from(self.session_idle_minutes.max(1))),
            absolute: chrono::Duration::hours(i64::from(self.session_max_hours.max(1))),
        }
    }
}

/// The OCI distribution API (`oras://`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OciSettings {
    /// Config, layer and artifact media types accepted in pushed manifests, besides the SIF
    /// types; empty accepts every media type.
    pub allowed_media_types: Vec<String>,
}

/// How `GET /v1/imagefile/…` answers.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum DownloadMode {
    /// `redirect` to the object store when it serves presigned downloads
    /// (`storage.s3.redirect_downloads`), else `stream`.
    #[default]
    Auto,
    /// 200 with the bytes, streamed by Silo.
    Stream,
    /// 303 to a short-lived download URL serving exact 206 ranges, so that clients download
    /// in parallel: a presigned URL of the object store when it gives them, else Silo's own
    /// signed `/download/…` URL.
    Redirect,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LibrarySettings {
    pub download_mode: DownloadMode,
    /// Part size handed to clients for multipart uploads, in MiB (at least 5).
    pub multipart_part_size_mib: u64,
}

impl Default for LibrarySettings {
    fn default() -> Self {
        LibrarySettings {
            download_mode: DownloadMode::Auto,
            multipart_part_size_mib: 64,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Branding {
    /// The centre's name, shown in the page header and title.
    pub name: String,
    /// Where users ask for help; shown on every page.
    pub help_email: String,
    pub institution_name: String,
    pub institution_url: String,
    /// Address of the logo in the header and on the home page (a path on this server or
    /// an absolute URL).
    pub logo_url: String,
    /// Text of the About page (paragraphs separated by blank lines); empty for a default.
    pub about: String,
    /// Text of the Terms page (paragraphs separated by blank lines); empty for a default.
    pub terms: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            data_dir: PathBuf::from("silo-data"),
            database_url: None,
            spa_dir: None,
            secret_key_file: None,
            accept_non_sif: false,
            lookup_cache_entries: silo_domain::services::LOOKUP_CACHE_ENTRIES,
            branding: Branding::default(),
            storage: StorageSettings::default(),
            library: LibrarySettings::default(),
            oci: OciSettings::default(),
            web: WebSettings::default(),
            auth: crate::auth::AuthSettings::default(),
            maintenance: crate::background::MaintenanceSettings::default(),
            metrics: crate::observability::MetricsSettings::default(),
            log: crate::observability::LogSettings::default(),
            tls: crate::edge::tls::TlsSettings::default(),
            proxy: crate::edge::proxy::ProxySettings::default(),
            limits: crate::edge::limits::LimitSettings::default(),
        }
    }
}

impl Default for Branding {
    fn default() -> Self {
        Branding {
            name: "Silo Container Registry".into(),
            help_email: String::new(),
            institution_name: String::new(),
            institution_url: String::new(),
            logo_url: "/logo.svg".into(),
            about: String::new(),
            terms: String::new(),
        }
    }
}

/// A problem found while loading or checking the configuration.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Loads defaults, then `file` (if any), then the environment, and validates the result.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let config = Self::figment(file)?
            .extract::<Config>()
            .map_err(|e| ConfigError(describe_figment_error(e)))?;
        config.validate()?;
        Ok(config)
    }

    fn figment(file: Option<&Path>) -> Result<Figment, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError(format!(
                    "configuration file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let settings = Env::prefixed(ENV_PREFIX).split("__").filter(|key| {
            !ENV_NOT_SETTINGS
                .iter()
                .any(|n| n[ENV_PREFIX.len()..].eq_ignore_ascii_case(key.as_str()))
        });
        Ok(figment.merge(settings))
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        if self.listen.parse::<SocketAddr>().is_err() {
            problems.push(format!(
                "listen = {:?} (SILO_LISTEN): expected an address and port such as 127.0.0.1:8080",
                self.listen
            ));
        }
        if let Some(public) = &self.public_url {
            match url::Url::parse(public) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
                _ => problems.push(format!(
                    "public_url = {public:?} (SILO_PUBLIC_URL): expected an http:// or https:// URL"
                )),
            }
        }
        if let Some(db) = &self.database_url {
            if !(db.starts_with("sqlite:")
                || db.starts_with("postgres://")
                || db.starts_with("postgresql://"))
            {
                problems.push(format!(
                    "database_url (SILO_DATABASE_URL): expected sqlite://… or postgres://…, got {:?}",
                    redact_url(db)
                ));
            }
        }
        if !self.branding.help_email.is_empty() && !self.branding.help_email.contains('@') {
            problems.push(format!(
                "branding.help_email = {:?} (SILO_BRANDING__HELP_EMAIL): not an e-mail address",
                self.branding.help_email
            ));
        }
        if !self.branding.institution_url.is_empty()
            && url::Url::parse(&self.branding.institution_url).is_err()
        {
            problems.push(format!(
                "branding.institution_url = {:?} (SILO_BRANDING__INSTITUTION_URL): not a URL",
                self.branding.institution_url
            ));
        }
        if !(5..=5 * 1024).contains(&self.library.multipart_part_size_mib) {
            problems.push(format!(
                "library.multipart_part_size_mib = {} (SILO_LIBRARY__MULTIPART_PART_SIZE_MIB): use 5 to 5120",
                self.library.multipart_part_size_mib
            ));
        }
        if self.web.session_idle_minutes == 0 || self.web.session_max_hours == 0 {
            problems.push(
                "web.session_idle_minutes and web.session_max_hours (SILO_WEB__…): must be at least 1"
                    .to_string(),
            );
        }
        problems.extend(crate::auth::oauth_config::problems(&self.auth.oauth));
        if let Some(ldap) = &self.auth.ldap {
            problems.extend(ldap.problems());
        }
        problems.extend(self.auth.rate_limit.problems());
        problems.extend(self.maintenance.problems());
        problems.extend(self.log.problems());
        problems.extend(self.tls.problems());
        problems.extend(self.proxy.problems());
        problems.extend(self.limits.problems());
        if self.storage.backend == StorageBackend::S3 {
            problems.extend(
                self.storage
                    .s3
                    .problems()
                    .into_iter()
                    .map(|p| format!("{p} (SILO_STORAGE__S3__…)")),
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(format!(
                "invalid configuration:\n  - {}",
                problems.join("\n  - ")
            )))
        }
    }

    /// The public base URL without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None if self.tls.enabled() => format!("https://{}", self.listen),
            None => format!("http://{}", self.listen),
        }
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => silo_domain::db::sqlite_url(&self.data_dir.join("silo.db")),
        }
    }

    /// `secret_key_file` (unless empty), else `<data_dir>/secret.key`.
    pub fn secret_key_file(&self) -> PathBuf {
        self.secret_key_file
            .clone()
            .filter(|path| !path.as_os_str().is_empty())
            .unwrap_or_else(|| self.data_dir.join(crate::secret_key::FILE_NAME))
    }

    pub fn blob_dir(&self) -> PathBuf {
        match &self.storage.path {
            Some(path) => path.clone(),
            None => self.data_dir.join("blobs"),
        }
    }

    /// `SILO_*` variables that name no setting (likely typos).
    pub fn unknown_env_vars() -> Vec<String> {
        let known = known_env_names();
        std::env::vars()
            .map(|(k, _)| k)
            .filter(|k| k.starts_with(ENV_PREFIX))
            .filter(|k| !ENV_NOT_SETTINGS.contains(&k.as_str()) && !known.contains(k))
            .collect()
    }
}

fn known_env_names() -> Vec<String> {
    let mut value = serde_json::to_value(Config::default()).expect("config serialises");
    // `[auth.ldap]` is absent by default; its keys are settings all the same.
    value["auth"]["ldap"] = serde_json::to_value(crate::auth::ldap_config::LdapSettings::default())
        .expect("LDAP settings serialise");
    let mut names = Vec::new();
    collect_env_names(&value, ENV_PREFIX.to_string(), &mut names);
    names
}

fn collect_env_names(value: &serde_json::Value, prefix: String, out: &mut Vec<String>) {
    if let serde_json::Value::Object(map) = value {
        for (key, child) in map {
            let name = format!("{prefix}{}", key.to_uppercase());
            if child.is_object() {
                collect_env_names(child, format!("{name}__"), out);
            } else {
                out.push(name);
            }
        }
    }
}

fn describe_figment_error(err: figment::Error) -> String {
    err.into_iter()
        .map(|e| {
            let source = e
                .metadata
                .as_ref()
                .map(|m| format!(" (from {})", m.name))
                .unwrap_or_default();
            let path = if e.path.is_empty() {
                String::new()
            } else {
                format!("{}: ", e.path.join("."))
            };
            format!("{path}{}{source}", e.kind)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn serialize_redacted_url<S: serde::Serializer>(
    url: &Option<String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match url {
        Some(url) => serializer.serialize_some(&redact_url(url)),
        None => serializer.serialize_none(),
    }
}

/// Like the derived `Debug`, with the database password hidden (the other secrets hide
/// themselves).
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("spa_dir", &self.spa_dir)
            .field("secret_key_file", &self.secret_key_file)
            .field("accept_non_sif", &self.accept_non_sif)
            .field("lookup_cache_entries", &self.lookup_cache_entries)
            .field("branding", &self.branding)
            .field("storage", &self.storage)
            .field("library", &self.library)
            .field("oci", &self.oci)
            .field("web", &self.web)
            .field("auth", &self.auth)
            .field("maintenance", &self.maintenance)
            .field("metrics", &self.metrics)
            .field("log", &self.log)
            .finish()
    }
}

/// Hides a password in a database URL.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("****"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn defaults_are_valid_and_local() {
        let c = Config::default();
        c.validate().unwrap();
        assert_eq!(c.public_url(), "http://127.0.0.1:8080");
        assert!(c.database_url().starts_with("sqlite://silo-data/silo.db"));
    }

    #[test]
    fn file_overrides_defaults_and_unknown_keys_are_named() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(
            f,
            "listen = \"0.0.0.0:9000\"\n[branding]\nname = \"Test Centre\""
        )
        .unwrap();
        let c = Config::load(Some(f.path())).unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert_eq!(c.branding.name, "Test Centre");

        let mut bad = tempfile::NamedTempFile::new().unwrap();
        writeln!(bad, "listn = \"0.0.0.0:9000\"").unwrap();
        let err = Config::load(Some(bad.path())).unwrap_err().to_string();
        assert!(err.contains("listn"), "{err}");
    }

    #[test]
    fn bad_values_are_explained() {
        let c = Config {
            listen: "nowhere".into(),
            public_url: Some("ftp://x".into()),
            ..Config::default()
        };
        let err = c.validate().unwrap_err().to_string();
        assert!(
            err.contains("SILO_LISTEN") && err.contains("SILO_PUBLIC_URL"),
            "{err}"
        );
    }

    #[test]
    fn env_names_cover_nested_keys() {
        let names = known_env_names();
        assert!(names.contains(&"SILO_BRANDING__HELP_EMAIL".to_string()));
        assert!(names.contains(&"SILO_DATA_DIR".to_string()));
        assert!(names.contains(&"SILO_AUTH__LDAP__BIND_PASSWORD".to_string()));
        assert!(names.contains(&"SILO_AUTH__RATE_LIMIT__CLIENT_IP_HEADER".to_string()));
    }

    #[test]
    fn example_configurations_load_and_validate() {
        let top = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let single = Config::load(Some(&top.join("examples/silo.toml"))).unwrap();
        assert_eq!(
            single,
            Config::default(),
            "examples/silo.toml shows the defaults"
        );
        let scaled = Config::load(Some(&top.join("examples/scale-out/silo.toml"))).unwrap();
        assert_eq!(scaled.storage.backend, StorageBackend::S3);
        assert!(scaled.database_url().starts_with("postgres://"));
        assert_eq!(
            scaled.storage.s3.public_endpoint.as_deref(),
            Some("https://s3.example.edu")
        );
    }
}
