//! Login rate limiting: failed sign-ins are counted per user name and per client address in a
//! sliding window; past the limit, sign-in is refused with "try again in N s" until the
//! oldest counted failure leaves the window. Every sign-in surface uses it: the token sign-in
//! server function, `POST /auth/ldap`, and the OAuth callbacks
//! ([`LoginLimiter::check`] before, [`LoginLimiter::record_failure`] /
//! [`LoginLimiter::record_success`] after).
//!
//! The failures are kept in the database (`login_failures`, see
//! `Registry::record_login_failure`), so replicas sharing it count each other's failures;
//! records older than the window are deleted whenever a new failure is recorded.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use silo_domain::Registry;
use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

/// Longest user name kept as a key (longer names are cut).
const USERNAME_KEY_MAX: usize = 128;

/// `[auth.rate_limit]`: how many failed sign-ins are tolerated.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LoginRateLimitSettings {
    /// Failed sign-ins allowed per user name within the window (0 disables this limit).
    pub max_failures_per_user: u32,
    /// Failed sign-ins allowed per client address within the window (0 disables this
    /// limit). IPv6 clients are counted per /64 network.
    pub max_failures_per_ip: u32,
    /// Length of the sliding window, in seconds.
    pub window_seconds: u64,
    /// Deprecated: use `[proxy]`. Takes the client address of every request from this
    /// header (its last address) instead of the TCP peer: from every peer when
    /// `proxy.trusted_proxies` is empty, else only from those proxies.
    pub client_ip_header: Option<String>,
}

impl Default for LoginRateLimitSettings {
    fn default() -> Self {
        LoginRateLimitSettings {
            max_failures_per_user: 10,
            max_failures_per_ip: 30,
            window_seconds: 300,
            client_ip_header: None,
        }
    }
}

impl LoginRateLimitSettings {
    /// Everything wrong with these settings.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(1..=86_400).contains(&self.window_seconds) {
            problems.push(
                "auth.rate_limit.window_seconds (SILO_AUTH__RATE_LIMIT__WINDOW_SECONDS): use 1 to 86400"
                    .to_string(),
            );
        }
        if let Some(header) = &self.client_ip_header {
            if http::HeaderName::from_bytes(header.trim().as_bytes()).is_err() {
                problems.push(format!(
                    "auth.rate_limit.client_ip_header (SILO_AUTH__RATE_LIMIT__CLIENT_IP_HEADER): {header:?} is not a header name"
                ));
            }
        }
        problems
    }

    fn window(&self) -> Duration {
        Duration::from_secs(self.window_seconds.max(1))
    }
}

/// What is counted: a user name (lower-cased) or a client network.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Client(IpAddr),
}

impl Key {
    /// The key as stored in the database (`user:<name>` or `client:<network>`).
    fn stored(&self) -> String {
        match self {
            Key::User(name) => format!("user:{name}"),
            Key::Client(ip) => format!("client:{ip}"),
        }
    }
}

/// The refusal once a limit is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("too many failed sign-in attempts; try again in {} s", retry_after.as_secs().max(1))]
pub struct TooManyAttempts {
    /// When the next attempt may be made.
    pub retry_after: Duration,
}

impl TooManyAttempts {
    /// Whole seconds to wait, for a `Retry-After` header (at least 1).
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0)
    }
}

/// Counts failed sign-ins in the database (`Registry::record_login_failure`), so every
/// replica sharing it sees the same counts; shared by every request of the server.
#[derive(Clone)]
pub struct LoginLimiter {
    settings: LoginRateLimitSettings,
    registry: Registry,
}

impl LoginLimiter {
    pub fn new(settings: LoginRateLimitSettings, registry: Registry) -> Self {
        LoginLimiter { settings, registry }
    }

    pub fn settings(&self) -> &LoginRateLimitSettings {
        &self.settings
    }

    /// Whether a sign-in by `username` from `client` may be tried now.
    pub async fn check(
        &self,
        client: Option<IpAddr>,
        username: &str,
    ) -> Result<(), TooManyAttempts> {
        self.check_at(Utc::now(), client, username).await
    }

    /// Counts a failed sign-in (wrong password, unknown user, bad token).
    pub async fn record_failure(&self, client: Option<IpAddr>, username: &str) {
        self.record_failure_at(Utc::now(), client, username).await;
    }

    /// A successful sign-in forgets the user name's failures (the address keeps its own).
    pub async fn record_success(&self, username: &str) {
        if let Some(key) = user_key(username) {
            if let Err(err) = self.registry.forget_login_failures(&key.stored()).await {
                tracing::error!(error = %err, "could not clear the failed sign-ins of a user");
            }
        }
    }

    /// [`LoginLimiter::check`] at `now`. When the database cannot be asked, the attempt is
    /// let through (the sign-in itself needs the database and fails on its own).
    pub async fn check_at(
        &self,
        now: DateTime<Utc>,
        client: Option<IpAddr>,
        username: &str,
    ) -> Result<(), TooManyAttempts> {
        let limits: Vec<(String, u32)> = self
            .keys(client, username)
            .into_iter()
            .map(|(key, max)| (key.stored(), max))
            .collect();
        if limits.is_empty() {
            return Ok(());
        }
        match self.registry.login_wait(&limits, self.window(), now).await {
            Ok(None) => Ok(()),
            Ok(Some(wait)) => Err(TooManyAttempts {
                retry_after: wait
                    .to_std()
                    .unwrap_or_default()
                    .max(Duration::from_millis(1)),
            }),
            Err(err) => {
                tracing::error!(error = %err, "could not read the failed sign-ins");
                Ok(())
            }
        }
    }

    pub async fn record_failure_at(
        &self,
        now: DateTime<Utc>,
        client: Option<IpAddr>,
        username: &str,
    ) {
        let keys: Vec<String> = self
            .keys(client, username)
            .into_iter()
            .map(|(key, _)| key.stored())
            .collect();
        if let Err(err) = self
            .registry
            .record_login_failure(&keys, self.window(), now)
            .await
        {
            tracing::error!(error = %err, "could not record a failed sign-in");
        }
    }

    fn window(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.settings.window()).unwrap_or(chrono::Duration::MAX)
    }

    /// The keys a sign-in is counted under, with their limits (disabled limits left out).
    fn keys(&self, client: Option<IpAddr>, username: &str) -> Vec<(Key, u32)> {
        let mut keys = Vec::with_capacity(2);
        if self.settings.max_failures_per_user > 0 {
            if let Some(key) = user_key(username) {
                keys.push((key, self.settings.max_failures_per_user));
            }
        }
        if self.settings.max_failures_per_ip > 0 {
            if let Some(ip) = client {
                keys.push((Key::Client(network(ip)), self.settings.max_failures_per_ip));
            }
        }
        keys
    }
}

fn user_key(username: &str) -> Option<Key> {
    let name: String = username
        .trim()
        .chars()
        .flat_map(char::to_lowercase)
        .take(USERNAME_KEY_MAX)
        .collect();
    (!name.is_empty()).then_some(Key::User(name))
}

/// IPv4 addresses count alone; IPv6 clients by their /64 (one host usually owns a whole /64).
fn network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration as Span;
    use silo_domain::store::FsBlobStore;
    use silo_domain::testing::TestDb;
    use std::sync::Arc;

    /// A limiter over a fresh database (kept alive by the returned `TestDb`).
    async fn limiter(per_user: u32, per_ip: u32) -> (LoginLimiter, TestDb) {
        let db = TestDb::new().await;
        let store = FsBlobStore::open(db.dir.path().join("blobs"))
            .await
            .unwrap();
        let registry = Registry::new(db.db.clone(), Arc::new(store));
        let settings = LoginRateLimitSettings {
            max_failures_per_user: per_user,
            max_failures_per_ip: per_ip,
            window_seconds: 300,
            client_ip_header: None,
        };
        (LoginLimiter::new(settings, registry), db)
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    fn secs(s: i64) -> Span {
        Span::seconds(s)
    }

    #[tokio::test]
    async fn a_user_name_is_blocked_after_its_failures_until_the_window_passes() {
        let (l, _db) = limiter(3, 100).await;
        let t0 = Utc::now();
        for i in 0..3 {
            assert!(
                l.check_at(t0, ip("10.0.0.1"), "alice").await.is_ok(),
                "try {i}"
            );
            l.record_failure_at(t0 + secs(i), ip("10.0.0.1"), "alice")
                .await;
        }
        let refused = l
            .check_at(t0 + secs(10), ip("10.0.0.9"), "ALICE ")
            .await
            .unwrap_err();
        // The first failure (t0) leaves the window at t0 + 300 s.
        assert_eq!(refused.retry_after, Duration::from_secs(290));
        assert_eq!(
            refused.to_string(),
            "too many failed sign-in attempts; try again in 290 s"
        );
        assert!(
            l.check_at(t0, ip("10.0.0.1"), "bob").await.is_ok(),
            "others unaffected"
        );
        assert!(l.check_at(t0 + secs(300), None, "alice").await.is_ok());
    }

    #[tokio::test]
    async fn a_client_is_blocked_across_user_names() {
        let (l, _db) = limiter(100, 4).await;
        let t0 = Utc::now();
        for name in ["a", "b", "c", "d"] {
            l.record_failure_at(t0, ip("192.0.2.7"), name).await;
        }
        assert!(l.check_at(t0, ip("192.0.2.7"), "e").await.is_err());
        assert!(l.check_at(t0, ip("192.0.2.8"), "e").await.is_ok());
        assert!(
            l.check_at(t0, None, "e").await.is_ok(),
            "no address, no client limit"
        );
    }

    #[tokio::test]
    async fn ipv6_clients_count_per_64_network() {
        let (l, _db) = limiter(100, 2).await;
        let t0 = Utc::now();
        l.record_failure_at(t0, ip("2001:db8:1:2::1"), "a").await;
        l.record_failure_at(t0, ip("2001:db8:1:2:ffff::9"), "b")
            .await;
        assert!(l.check_at(t0, ip("2001:db8:1:2::77"), "c").await.is_err());
        assert!(l.check_at(t0, ip("2001:db8:1:3::1"), "c").await.is_ok());
        assert_eq!(
            network("::ffff:10.1.2.3".parse().unwrap()),
            ip("10.1.2.3").unwrap()
        );
    }

    #[tokio::test]
    async fn success_forgets_the_user_but_not_the_client() {
        let (l, _db) = limiter(2, 3).await;
        let t0 = Utc::now();
        l.record_failure_at(t0, ip("10.0.0.1"), "alice").await;
        l.record_failure_at(t0, ip("10.0.0.1"), "alice").await;
        assert!(l.check_at(t0, None, "alice").await.is_err());
        l.record_success("Alice").await;
        assert!(l.check_at(t0, None, "alice").await.is_ok());
        l.record_failure_at(t0, ip("10.0.0.1"), "zed").await;
        assert!(
            l.check_at(t0, ip("10.0.0.1"), "x").await.is_err(),
            "3 from the client"
        );
    }

    #[tokio::test]
    async fn the_wait_is_until_enough_failures_leave_the_window() {
        let (l, _db) = limiter(2, 0).await;
        let t0 = Utc::now();
        for s in [0, 100, 200] {
            l.record_failure_at(t0 + secs(s), None, "alice").await;
        }
        // Failures at 100 and 200 count; at 250 the next is allowed at 400.
        let refused = l.check_at(t0 + secs(250), None, "alice").await.unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(150));
        assert_eq!(refused.retry_after_secs(), 150);
        assert!(l.check_at(t0 + secs(400), None, "alice").await.is_ok());
    }

    #[tokio::test]
    async fn zero_disables_a_limit() {
        let (l, _db) = limiter(0, 0).await;
        let t0 = Utc::now();
        for _ in 0..50 {
            l.record_failure_at(t0, ip("10.0.0.1"), "alice").await;
        }
        assert!(l.check_at(t0, ip("10.0.0.1"), "alice").await.is_ok());
    }

    #[test]
    fn settings_are_checked() {
        assert!(LoginRateLimitSettings::default().problems().is_empty());
        let bad = LoginRateLimitSettings {
            window_seconds: 0,
            client_ip_header: Some("bad header".into()),
            ..LoginRateLimitSettings::default()
        };
        assert_eq!(bad.problems().len(), 2);
    }
}
