//! `[metrics]` and `[log]`: what `/metrics` exposes to whom, and how `silo serve` logs.
use serde::{Deserialize, Serialize, Serializer};

/// `[metrics]`: the Prometheus endpoint `/metrics`.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// Serve `/metrics` (404 when false).
    pub enabled: bool,
    /// When set, `/metrics` answers only requests with `Authorization: Bearer <token>`.
    /// Never printed (`silo config show` writes `****`).
    #[serde(serialize_with = "redacted")]
    pub token: String,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings {
            enabled: true,
            token: String::new(),
        }
    }
}

impl std::fmt::Debug for MetricsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsSettings")
            .field("enabled", &self.enabled)
            .field("token", &redact(&self.token))
            .finish()
    }
}

/// How a configured secret is shown: `****`, or empty when unset.
pub fn redact(secret: &str) -> &'static str {
    if secret.is_empty() {
        ""
    } else {
        "****"
    }
}

fn redacted<S: Serializer>(secret: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(redact(secret))
}

/// `[log]`: the log lines of `silo serve` (on standard error).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A level (`error`, `warn`, `info`, `debug`, `trace`) or a full filter such as
    /// `info,server=debug`; the `SILO_LOG` or `RUST_LOG` environment variable wins.
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl LogSettings {
    pub fn problems(&self) -> Vec<String> {
        let level = self.level.trim().to_ascii_lowercase();
        let bare_level_ok = level.contains([',', '='])
            || ["off", "error", "warn", "info", "debug", "trace"].contains(&level.as_str());
        match tracing_subscriber::EnvFilter::try_new(self.filter()) {
            Ok(_) if bare_level_ok => Vec::new(),
            Ok(_) => vec![format!(
                "log.level = {:?} (SILO_LOG__LEVEL): use error, warn, info, debug, trace or a filter",
                self.level
            )],
            Err(e) => vec![format!(
                "log.level = {:?} (SILO_LOG__LEVEL): not a level or filter ({e})",
                self.level
            )],
        }
    }

    /// The filter for `level`: a bare level keeps the database drivers quiet.
    pub fn filter(&self) -> String {
        let level = self.level.trim();
        if level.contains([',', '=']) {
            level.to_string()
        } else {
            format!("{level},sqlx=warn,sea_orm=warn")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_never_shown() {
        let m = MetricsSettings {
            enabled: true,
            token: "scrape-secret".into(),
        };
        assert!(!format!("{m:?}").contains("scrape-secret"));
        let shown = toml::to_string(&m).unwrap();
        assert!(shown.contains("token = \"****\""), "{shown}");
    }

    #[test]
    fn levels_and_filters() {
        let bare = LogSettings::default();
        assert_eq!(bare.filter(), "info,sqlx=warn,sea_orm=warn");
        assert!(bare.problems().is_empty());
        let full = LogSettings {
            level: "warn,server=debug".into(),
            ..LogSettings::default()
        };
        assert_eq!(full.filter(), "warn,server=debug");
        let bad = LogSettings {
            level: "loud".into(),
            ..LogSettings::default()
        };
        assert!(!bad.problems().is_empty());
    }
}
