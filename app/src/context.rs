//! What the server hands to every server function.
use silo_domain::services::SessionLimits;
use silo_domain::{Actor, Registry};

/// The centre's branding, as configured.
#[derive(Clone, Debug, Default)]
pub struct Branding {
    pub name: String,
    pub help_email: String,
    pub institution_name: String,
    pub institution_url: String,
    pub logo_url: String,
    pub about: String,
    pub terms: String,
}

/// Provided to server functions with `provide_context` by the `silo` server.
#[derive(Clone)]
pub struct SiloContext {
    pub registry: Registry,
    pub branding: Branding,
    /// The registry's public base URL, without a trailing slash.
    pub public_url: String,
    /// Who makes the request (from the session cookie or a bearer token).
    pub viewer: Actor,
    /// The secret of the session cookie the request carried, when it named a live session.
    pub session_secret: Option<String>,
    pub session_limits: SessionLimits,
}

impl SiloContext {
    /// Cookies get the `Secure` attribute when the registry is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// The browser session cookie: its name and the `Set-Cookie` values that set and clear it.
pub mod session_cookie {
    /// Name of the cookie holding the session secret.
    pub const NAME: &str = "silo_session";

    /// `Set-Cookie` for a new session; lives until the session's absolute end.
    pub fn set(secret: &str, max_age_secs: i64, secure: bool) -> String {
        format!(
            "{NAME}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
            max_age_secs.max(0),
            if secure { "; Secure" } else { "" }
        )
    }

    /// `Set-Cookie` that removes the cookie.
    pub fn clear(secure: bool) -> String {
        set("", 0, secure)
    }

    /// The session secret from the request's `Cookie` headers.
    pub fn read(headers: &http::HeaderMap) -> Option<String> {
        headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == NAME)
            .map(|(_, value)| value.trim().to_string())
            .filter(|value| !value.is_empty())
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn cookie_round_trip_and_attributes() {
            let set = super::set("abc", 60, true);
            assert!(set.starts_with("silo_session=abc;"));
            for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=60", "Secure"] {
                assert!(set.contains(attr), "{set}");
            }
            assert!(!super::clear(false).contains("Secure"));
            let mut headers = http::HeaderMap::new();
            headers.insert(
                http::header::COOKIE,
                "a=1; silo_session=xyz; b=2".parse().unwrap(),
            );
            assert_eq!(super::read(&headers).as_deref(), Some("xyz"));
            headers.insert(http::header::COOKIE, "silo_session=".parse().unwrap());
            assert_eq!(super::read(&headers), None);
        }
    }
}
