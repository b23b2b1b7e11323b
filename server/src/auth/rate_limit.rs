//! Login rate limiting: failed sign-ins are counted per user name and per client address in a
//! sliding window; past the limit, sign-in is refused with "try again in N s" until the
//! oldest counted failure leaves the window. Every sign-in surface uses it: the token sign-in
//! server function, `POST /auth/ldap`, and the OAuth callbacks
//! ([`LoginLimiter::check`] before, [`LoginLimiter::record_failure`] /
//! [`LoginLimiter::record_success`] after).
//!
//! The state is in-process: several replicas each count their own failures.
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Longest user name kept as a key (longer names are cut).
const USERNAME_KEY_MAX: usize = 128;
/// Forgotten keys are swept when the table grows past this many.
const SWEEP_ABOVE: usize = 10_000;

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
    /// Take the client address from this request header (e.g. `X-Forwarded-For` or
    /// `X-Real-IP`, its last address) instead of the TCP peer. Set it only behind a reverse
    /// proxy that sets the header, or clients can pick their own address.
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

/// Counts failed sign-ins; shared by every request of the server.
#[derive(Debug)]
pub struct LoginLimiter {
    settings: LoginRateLimitSettings,
    failures: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

impl LoginLimiter {
    pub fn new(settings: LoginRateLimitSettings) -> Self {
        LoginLimiter {
            settings,
            failures: Mutex::new(HashMap::new()),
        }
    }

    pub fn settings(&self) -> &LoginRateLimitSettings {
        &self.settings
    }

    /// Whether a sign-in by `username` from `client` may be tried now.
    pub fn check(&self, client: Option<IpAddr>, username: &str) -> Result<(), TooManyAttempts> {
        self.check_at(Instant::now(), client, username)
    }

    /// Counts a failed sign-in (wrong password, unknown user, bad token).
    pub fn record_failure(&self, client: Option<IpAddr>, username: &str) {
        self.record_failure_at(Instant::now(), client, username);
    }

    /// A successful sign-in forgets the user name's failures (the address keeps its own).
    pub fn record_success(&self, username: &str) {
        if let Some(key) = user_key(username) {
            self.table().remove(&key);
        }
    }

    pub fn check_at(
        &self,
        now: Instant,
        client: Option<IpAddr>,
        username: &str,
    ) -> Result<(), TooManyAttempts> {
        let window = self.settings.window();
        let mut table = self.table();
        let mut wait = None::<Duration>;
        for (key, max) in self.keys(client, username) {
            let Some(times) = table.get_mut(&key) else {
                continue;
            };
            forget_old(times, now, window);
            if times.len() >= max as usize {
                // Allowed again once enough failures have left the window.
                let oldest_that_matters = times[times.len() - max as usize];
                let until = (oldest_that_matters + window).saturating_duration_since(now);
                wait = Some(wait.map_or(until, |w| w.max(until)));
            }
        }
        match wait {
            Some(retry_after) => Err(TooManyAttempts {
                retry_after: retry_after.max(Duration::from_millis(1)),
            }),
            None => Ok(()),
        }
    }

    pub fn record_failure_at(&self, now: Instant, client: Option<IpAddr>, username: &str) {
        let window = self.settings.window();
        let mut table = self.table();
        if table.len() > SWEEP_ABOVE {
            table.retain(|_, times| {
                forget_old(times, now, window);
                !times.is_empty()
            });
        }
        for (key, max) in self.keys(client, username) {
            let times = table.entry(key).or_default();
            forget_old(times, now, window);
            times.push_back(now);
            // Only the newest `max` failures decide anything.
            while times.len() > max as usize {
                times.pop_front();
            }
        }
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

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<Key, VecDeque<Instant>>> {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn forget_old(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= window)
    {
        times.pop_front();
    }
}

fn user_key(username: &str) -> Option<Key> {
    let name: String = username
        .trim()
        .chars()
        .take(USERNAME_KEY_MAX)
        .flat_map(char::to_lowercase)
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

/// The client's address: the configured proxy header's last address, else the TCP peer.
pub fn client_ip(
    headers: &http::HeaderMap,
    peer: Option<SocketAddr>,
    settings: &LoginRateLimitSettings,
) -> Option<IpAddr> {
    if let Some(name) = &settings.client_ip_header {
        let forwarded = headers
            .get_all(name.trim())
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| parse_address(a.trim()))
            .next_back();
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer.map(|p| p.ip())
}

/// `1.2.3.4`, `1.2.3.4:5`, `::1` or `[::1]:5`.
fn parse_address(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_user: u32, per_ip: u32) -> LoginLimiter {
        LoginLimiter::new(LoginRateLimitSettings {
            max_failures_per_user: per_user,
            max_failures_per_ip: per_ip,
            window_seconds: 300,
            client_ip_header: None,
        })
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn a_user_name_is_blocked_after_its_failures_until_the_window_passes() {
        let l = limiter(3, 100);
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(l.check_at(t0, ip("10.0.0.1"), "alice").is_ok(), "try {i}");
            l.record_failure_at(t0 + Duration::from_secs(i), ip("10.0.0.1"), "alice");
        }
        let refused = l
            .check_at(t0 + Duration::from_secs(10), ip("10.0.0.9"), "ALICE ")
            .unwrap_err();
        // The first failure (t0) leaves the window at t0 + 300 s.
        assert_eq!(refused.retry_after, Duration::from_secs(290));
        assert_eq!(
            refused.to_string(),
            "too many failed sign-in attempts; try again in 290 s"
        );
        assert!(
            l.check_at(t0, ip("10.0.0.1"), "bob").is_ok(),
            "others unaffected"
        );
        assert!(l
            .check_at(t0 + Duration::from_secs(300), None, "alice")
            .is_ok());
    }

    #[test]
    fn a_client_is_blocked_across_user_names() {
        let l = limiter(100, 4);
        let t0 = Instant::now();
        for name in ["a", "b", "c", "d"] {
            l.record_failure_at(t0, ip("192.0.2.7"), name);
        }
        assert!(l.check_at(t0, ip("192.0.2.7"), "e").is_err());
        assert!(l.check_at(t0, ip("192.0.2.8"), "e").is_ok());
        assert!(
            l.check_at(t0, None, "e").is_ok(),
            "no address, no client limit"
        );
    }

    #[test]
    fn ipv6_clients_count_per_64_network() {
        let l = limiter(100, 2);
        let t0 = Instant::now();
        l.record_failure_at(t0, ip("2001:db8:1:2::1"), "a");
        l.record_failure_at(t0, ip("2001:db8:1:2:ffff::9"), "b");
        assert!(l.check_at(t0, ip("2001:db8:1:2::77"), "c").is_err());
        assert!(l.check_at(t0, ip("2001:db8:1:3::1"), "c").is_ok());
        assert_eq!(
            network("::ffff:10.1.2.3".parse().unwrap()),
            ip("10.1.2.3").unwrap()
        );
    }

    #[test]
    fn success_forgets_the_user_but_not_the_client() {
        let l = limiter(2, 3);
        let t0 = Instant::now();
        l.record_failure_at(t0, ip("10.0.0.1"), "alice");
        l.record_failure_at(t0, ip("10.0.0.1"), "alice");
        assert!(l.check_at(t0, None, "alice").is_err());
        l.record_success("Alice");
        assert!(l.check_at(t0, None, "alice").is_ok());
        l.record_failure_at(t0, ip("10.0.0.1"), "zed");
        assert!(
            l.check_at(t0, ip("10.0.0.1"), "x").is_err(),
            "3 from the client"
        );
    }

    #[test]
    fn the_wait_is_until_enough_failures_leave_the_window() {
        let l = limiter(2, 0);
        let t0 = Instant::now();
        for s in [0, 100, 200] {
            l.record_failure_at(t0 + Duration::from_secs(s), None, "alice");
        }
        // Failures at 100 and 200 count; at 250 the next is allowed at 400.
        let refused = l
            .check_at(t0 + Duration::from_secs(250), None, "alice")
            .unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(150));
        assert_eq!(refused.retry_after_secs(), 150);
        assert!(l
            .check_at(t0 + Duration::from_secs(400), None, "alice")
            .is_ok());
    }

    #[test]
    fn zero_disables_a_limit() {
        let l = limiter(0, 0);
        let t0 = Instant::now();
        for _ in 0..50 {
            l.record_failure_at(t0, ip("10.0.0.1"), "alice");
        }
        assert!(l.check_at(t0, ip("10.0.0.1"), "alice").is_ok());
    }

    #[test]
    fn the_client_address_comes_from_the_proxy_header_only_when_configured() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.2".parse().unwrap(),
        );
        let peer: SocketAddr = "127.0.0.1:5555".parse().unwrap();
        let direct = LoginRateLimitSettings::default();
        assert_eq!(client_ip(&headers, Some(peer), &direct), ip("127.0.0.1"));
        let proxied = LoginRateLimitSettings {
            client_ip_header: Some("X-Forwarded-For".into()),
            ..LoginRateLimitSettings::default()
        };
        assert_eq!(
            client_ip(&headers, Some(peer), &proxied),
            ip("198.51.100.2"),
            "the address the proxy appended"
        );
        assert_eq!(
            client_ip(&http::HeaderMap::new(), Some(peer), &proxied),
            ip("127.0.0.1")
        );
        assert_eq!(parse_address("[2001:db8::1]:443"), ip("2001:db8::1"));
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
