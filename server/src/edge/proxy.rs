//! The client's address and scheme behind reverse proxies (`[proxy]`).
//!
//! The address every rate limit counts and every request log names is the TCP peer's,
//! unless the peer is one of `trusted_proxies`: then it is read from the forwarding headers
//! named in `headers`, walking the chain of proxies from the nearest one back and stopping
//! at the first address that is not a trusted proxy. A header sent by anyone else is
//! ignored, so clients cannot pick their own address.
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use tracing::Instrument;

/// `[proxy]`: which peers are reverse proxies and which of their headers to believe.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ProxySettings {
    /// Addresses or CIDR networks of the reverse proxies in front of Silo, e.g.
    /// `["127.0.0.1/32", "10.0.0.0/8"]`. Empty: no peer is a proxy.
    pub trusted_proxies: Vec<String>,
    /// The forwarding headers honoured from trusted proxies: `x-forwarded-for`,
    /// `x-forwarded-proto`, `forwarded` (RFC 7239, `for=` and `proto=`), `x-real-ip`.
    pub headers: Vec<String>,
}

impl Default for ProxySettings {
    fn default() -> Self {
        ProxySettings {
            trusted_proxies: Vec::new(),
            headers: vec!["x-forwarded-for".into(), "x-forwarded-proto".into()],
        }
    }
}

/// The headers [`ProxySettings::headers`] may name.
const KNOWN_HEADERS: &[&str] = &[
    "x-forwarded-for",
    "x-forwarded-proto",
    "forwarded",
    "x-real-ip",
];

impl ProxySettings {
    /// Everything wrong with these settings.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for entry in &self.trusted_proxies {
            if parse_network(entry).is_none() {
                problems.push(format!(
                    "proxy.trusted_proxies (SILO_PROXY__TRUSTED_PROXIES): {entry:?} is not an address or CIDR network"
                ));
            }
        }
        for header in &self.headers {
            if !KNOWN_HEADERS.contains(&header.trim().to_ascii_lowercase().as_str()) {
                problems.push(format!(
                    "proxy.headers (SILO_PROXY__HEADERS): {header:?} is not one of {}",
                    KNOWN_HEADERS.join(", ")
                ));
            }
        }
        problems
    }
}

fn parse_network(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

/// The parsed `[proxy]` settings (and the deprecated `auth.rate_limit.client_ip_header`).
#[derive(Clone, Debug, Default)]
pub struct ClientResolver {
    trusted: Vec<IpNet>,
    forwarded_for: bool,
    forwarded_proto: bool,
    forwarded: bool,
    real_ip: bool,
    /// `auth.rate_limit.client_ip_header` (deprecated): its last address is believed from
    /// every peer when no proxy is listed, else only from the listed proxies.
    legacy_header: Option<http::HeaderName>,
}

impl ClientResolver {
    pub fn new(settings: &ProxySettings, legacy_header: Option<&str>) -> Self {
        let has = |name: &str| {
            settings
                .headers
                .iter()
                .any(|h| h.trim().eq_ignore_ascii_case(name))
        };
        ClientResolver {
            trusted: settings
                .trusted_proxies
                .iter()
                .filter_map(|t| parse_network(t))
                .collect(),
            forwarded_for: has("x-forwarded-for"),
            forwarded_proto: has("x-forwarded-proto"),
            forwarded: has("forwarded"),
            real_ip: has("x-real-ip"),
            legacy_header: legacy_header
                .and_then(|h| http::HeaderName::from_bytes(h.trim().as_bytes()).ok()),
        }
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request from `peer` with `headers`.
    pub fn resolve(&self, headers: &http::HeaderMap, peer: Option<SocketAddr>) -> ClientAddress {
        let direct = ClientAddress {
            ip: peer.map(|p| p.ip().to_canonical()),
            https: None,
        };
        let Some(peer_ip) = direct.ip else {
            return direct;
        };
        if let Some(name) = &self.legacy_header {
            if self.trusted.is_empty() || self.is_trusted(peer_ip) {
                let last = header_values(headers, name.as_str())
                    .flat_map(|v| v.split(','))
                    .filter_map(|a| parse_address(a.trim()))
                    .last();
                if let Some(ip) = last {
                    return ClientAddress {
                        ip: Some(ip),
                        https: None,
                    };
                }
            }
        }
        if !self.is_trusted(peer_ip) {
            return direct;
        }
        // The hops the proxies recorded, oldest first; the peer is the newest.
        let mut chain: Vec<IpAddr> = Vec::new();
        let mut https = None;
        if self.forwarded {
            for element in header_values(headers, "forwarded").flat_map(|v| v.split(',')) {
                for pair in element.split(';') {
                    let Some((key, value)) = pair.trim().split_once('=') else {
                        continue;
                    };
                    let value = value.trim().trim_matches('"');
                    if key.eq_ignore_ascii_case("for") {
                        chain.extend(parse_address(value));
                    } else if key.eq_ignore_ascii_case("proto") {
                        https = Some(value.eq_ignore_ascii_case("https"));
                    }
                }
            }
        }
        if self.forwarded_for && chain.is_empty() {
            chain.extend(
                header_values(headers, "x-forwarded-for")
                    .flat_map(|v| v.split(','))
                    .filter_map(|a| parse_address(a.trim())),
            );
        }
        if self.real_ip && chain.is_empty() {
            chain.extend(header_values(headers, "x-real-ip").filter_map(parse_address));
        }
        if self.forwarded_proto && https.is_none() {
            https = header_values(headers, "x-forwarded-proto")
                .flat_map(|v| v.split(','))
                .last()
                .map(|p| p.trim().eq_ignore_ascii_case("https"));
        }
        // Walk back from the nearest hop: the first address that is not a trusted proxy is
        // the client; if every hop is trusted, the oldest one.
        let client = chain
            .iter()
            .rev()
            .find(|ip| !self.is_trusted(**ip))
            .or_else(|| chain.first())
            .copied()
            .unwrap_or(peer_ip);
        ClientAddress {
            ip: Some(client),
            https,
        }
    }
}

fn header_values<'a>(headers: &'a http::HeaderMap, name: &str) -> impl Iterator<Item = &'a str> {
    headers.get_all(name).iter().filter_map(|v| v.to_str().ok())
}

/// `1.2.3.4`, `1.2.3.4:5`, `::1`, `[::1]` or `[::1]:5`.
fn parse_address(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            text.strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse().ok())
        })
        .map(|ip: IpAddr| ip.to_canonical())
}

/// Who sent a request, as far as Silo can tell: put in every request's extensions by
/// [`resolve_client`] and read by rate limits and logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientAddress {
    /// The client's address (None only for requests that did not come over TCP, in tests).
    pub ip: Option<IpAddr>,
    /// Whether a trusted proxy said the client used https (None when it did not say).
    pub https: Option<bool>,
}

impl ClientAddress {
    /// The client of a request whose extensions [`resolve_client`] filled.
    pub fn of(extensions: &http::Extensions) -> ClientAddress {
        extensions
            .get::<ClientAddress>()
            .copied()
            .unwrap_or_else(|| ClientAddress {
                ip: extensions
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|ConnectInfo(peer)| peer.ip().to_canonical()),
                https: None,
            })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(ClientAddress::of(&parts.extensions))
    }
}

/// Middleware: works out the request's [`ClientAddress`], stores it in the request and runs
/// the rest of the request in a `client` log span naming it.
pub async fn resolve_client(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| *peer);
    let client = state.edge.clients.resolve(request.headers(), peer);
    request.extensions_mut().insert(client);
    let span = match client.ip {
        Some(ip) => tracing::info_span!("client", addr = %ip),
        None => tracing::info_span!("client"),
    };
    next.run(request).instrument(span).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        map
    }

    fn peer(text: &str) -> Option<SocketAddr> {
        Some(text.parse().unwrap())
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    fn resolver(trusted: &[&str], names: &[&str]) -> ClientResolver {
        let settings = ProxySettings {
            trusted_proxies: trusted.iter().map(|s| s.to_string()).collect(),
            headers: names.iter().map(|s| s.to_string()).collect(),
        };
        assert!(settings.problems().is_empty(), "{:?}", settings.problems());
        ClientResolver::new(&settings, None)
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let r = resolver(&["10.0.0.0/8"], &["x-forwarded-for", "x-forwarded-proto"]);
        let spoofed = headers(&[
            ("x-forwarded-for", "203.0.113.66"),
            ("x-forwarded-proto", "https"),
        ]);
        let got = r.resolve(&spoofed, peer("198.51.100.7:4000"));
        assert_eq!(got.ip, ip("198.51.100.7"));
        assert_eq!(got.https, None);
    }

    #[test]
    fn a_trusted_chain_is_walked_back_to_the_first_untrusted_hop() {
        let r = resolver(
            &["10.0.0.0/8", "192.0.2.1"],
            &["x-forwarded-for", "x-forwarded-proto"],
        );
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.99, 203.0.113.5, 192.0.2.1"),
            ("x-forwarded-proto", "https"),
        ]);
        let got = r.resolve(&h, peer("10.1.2.3:55"));
        assert_eq!(got.ip, ip("203.0.113.5"), "the client the outer proxy saw");
        assert_eq!(got.https, Some(true));
        let only_proxies = headers(&[("x-forwarded-for", "10.9.9.9")]);
        assert_eq!(
            r.resolve(&only_proxies, peer("10.1.2.3:55")).ip,
            ip("10.9.9.9")
        );
        assert_eq!(
            r.resolve(&http::HeaderMap::new(), peer("10.1.2.3:55")).ip,
            ip("10.1.2.3")
        );
    }

    #[test]
    fn forwarded_and_x_real_ip_only_when_named() {
        let h = headers(&[
            (
                "forwarded",
                "for=\"[2001:db8::7]:443\";proto=https, for=10.0.0.2",
            ),
            ("x-forwarded-for", "198.51.100.1"),
            ("x-real-ip", "198.51.100.2"),
        ]);
        let forwarded = resolver(&["10.0.0.0/8"], &["forwarded"]);
        let got = forwarded.resolve(&h, peer("10.0.0.1:1"));
        assert_eq!(got.ip, ip("2001:db8::7"));
        assert_eq!(got.https, Some(true));
        let real_ip = resolver(&["10.0.0.0/8"], &["x-real-ip"]);
        assert_eq!(
            real_ip.resolve(&h, peer("10.0.0.1:1")).ip,
            ip("198.51.100.2")
        );
        let none = resolver(&["10.0.0.0/8"], &[]);
        assert_eq!(none.resolve(&h, peer("10.0.0.1:1")).ip, ip("10.0.0.1"));
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_networks() {
        let r = resolver(&["127.0.0.1"], &["x-forwarded-for"]);
        let h = headers(&[("x-forwarded-for", "203.0.113.8")]);
        assert_eq!(
            r.resolve(&h, peer("[::ffff:127.0.0.1]:80")).ip,
            ip("203.0.113.8")
        );
    }

    #[test]
    fn the_deprecated_client_ip_header_still_works() {
        let h = headers(&[("x-real-ip", "203.0.113.9"), ("x-forwarded-for", "1.2.3.4")]);
        let legacy = ClientResolver::new(&ProxySettings::default(), Some("X-Real-IP"));
        assert_eq!(
            legacy.resolve(&h, peer("198.51.100.7:1")).ip,
            ip("203.0.113.9")
        );
        let listed = ProxySettings {
            trusted_proxies: vec!["10.0.0.0/8".into()],
            ..ProxySettings::default()
        };
        let guarded = ClientResolver::new(&listed, Some("X-Real-IP"));
        assert_eq!(
            guarded.resolve(&h, peer("198.51.100.7:1")).ip,
            ip("198.51.100.7"),
            "with proxies listed, only they are believed"
        );
    }

    #[test]
    fn bad_settings_are_named() {
        let bad = ProxySettings {
            trusted_proxies: vec!["10.0.0.0/33".into(), "proxy.example".into()],
            headers: vec!["x-forwarded-host".into()],
        };
        assert_eq!(bad.problems().len(), 3);
        assert!(ProxySettings::default().problems().is_empty());
    }
}
