//! HTTPS served by Silo itself (`[tls]`): a certificate chain and its private key in PEM
//! files, loaded with rustls at start-up. Clients are offered HTTP/2 and HTTP/1.1 (ALPN).
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// `[tls]`: serve HTTPS instead of plain HTTP.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSettings {
    /// The certificate chain (PEM, the server's certificate first). With `key_file`, Silo
    /// listens with HTTPS.
    pub cert_file: Option<PathBuf>,
    /// The private key of the certificate (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key_file: Option<PathBuf>,
    /// `max-age` of the `Strict-Transport-Security` header, sent when Silo serves TLS or
    /// `public_url` is https; 0 sends no header.
    pub hsts_max_age_seconds: u64,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            cert_file: None,
            key_file: None,
            hsts_max_age_seconds: 365 * 24 * 3600,
        }
    }
}

impl TlsSettings {
    /// Whether Silo serves HTTPS (both files set).
    pub fn enabled(&self) -> bool {
        self.cert_file.is_some() && self.key_file.is_some()
    }

    /// Everything wrong with these settings (the files themselves are read at start-up).
    pub fn problems(&self) -> Vec<String> {
        if self.cert_file.is_some() != self.key_file.is_some() {
            vec![
                "tls.cert_file and tls.key_file (SILO_TLS__CERT_FILE, SILO_TLS__KEY_FILE): set both or neither"
                    .to_string(),
            ]
        } else {
            Vec::new()
        }
    }

    /// The rustls server configuration, or None when TLS is off.
    pub fn server_config(&self) -> anyhow::Result<Option<Arc<rustls::ServerConfig>>> {
        let (Some(cert_file), Some(key_file)) = (&self.cert_file, &self.key_file) else {
            return Ok(None);
        };
        let certs = CertificateDer::pem_file_iter(cert_file)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| {
                anyhow::anyhow!(
                    "tls.cert_file {}: cannot read PEM certificates: {e}",
                    cert_file.display()
                )
            })?;
        if certs.is_empty() {
            anyhow::bail!(
                "tls.cert_file {}: no certificate in it",
                cert_file.display()
            );
        }
        let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| {
            anyhow::anyhow!(
                "tls.key_file {}: cannot read a PEM private key: {e}",
                key_file.display()
            )
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| anyhow::anyhow!("TLS set-up: {e}"))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| {
                anyhow::anyhow!(
                    "tls.cert_file {} and tls.key_file {}: {e}",
                    cert_file.display(),
                    key_file.display()
                )
            })?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Some(Arc::new(config)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_a_pair_is_a_problem_and_bad_files_are_named() {
        assert!(TlsSettings::default().problems().is_empty());
        assert!(!TlsSettings::default().enabled());
        let half = TlsSettings {
            cert_file: Some("cert.pem".into()),
            ..TlsSettings::default()
        };
        assert_eq!(half.problems().len(), 1);
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        std::fs::write(&cert, "not a certificate").unwrap();
        let missing = TlsSettings {
            cert_file: Some(cert.clone()),
            key_file: Some(dir.path().join("absent.pem")),
            ..TlsSettings::default()
        };
        let err = missing.server_config().unwrap_err().to_string();
        assert!(
            err.contains("no certificate") && err.contains("cert.pem"),
            "{err}"
        );
    }
}
