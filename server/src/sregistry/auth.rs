//! `Authorization: SREGISTRY-HMAC-SHA256 Credential=<kind>/<base64 user>/<YYYYmmddTHHZ>,
//! Signature=<hex>`: the signature is HMAC-SHA256, keyed with the user's sregistry secret, of
//! `<kind>|<collection>|<timestamp>|<name>|<tag>|`.
//!
//! The timestamp has hour granularity, so a nonce cache cannot tell a replay from a second
//! request within the hour. The bound: a signature is accepted only while its timestamp is
//! the current or the previous UTC hour (at most two hours after it was made), only for its
//! kind, collection, name and tag.
use base64::Engine;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use http::HeaderMap;
use silo_domain::{Actor, DomainError};

use crate::state::AppState;

pub const SCHEME: &str = "SREGISTRY-HMAC-SHA256";

/// What a signed request claims to do; the signature must cover exactly this.
#[derive(Clone, Debug)]
pub struct Claim<'a> {
    pub kind: &'a str,
    /// Spellings of the collection the client may have signed (the first is canonical).
    pub collections: Vec<String>,
    pub name: &'a str,
    pub tag: &'a str,
}

/// A parsed `SREGISTRY-HMAC-SHA256` credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    pub kind: String,
    pub username: String,
    pub timestamp: String,
    pub signature: String,
}

/// Parses the value of the header (or of the upload's `SREGISTRY_EVENT` field).
pub fn parse(value: &str) -> Option<Signed> {
    let rest = value.trim().strip_prefix(SCHEME)?.trim_start();
    let mut credential = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (key, val) = part.trim().split_once('=')?;
        match key.trim() {
            "Credential" => credential = Some(val.trim()),
            "Signature" => signature = Some(val.trim()),
            _ => {}
        }
    }
    let mut fields = credential?.split('/');
    let (kind, user, timestamp) = (fields.next()?, fields.next()?, fields.next()?);
    if fields.next().is_some() {
        return None;
    }
    let user = base64::engine::general_purpose::STANDARD
        .decode(user)
        .ok()?;
    Some(Signed {
        kind: kind.to_string(),
        username: String::from_utf8(user).ok()?,
        timestamp: timestamp.to_string(),
        signature: signature?.to_string(),
    })
}

/// True when `timestamp` (`YYYYmmddTHHZ`) is the current or the previous UTC hour.
pub fn timestamp_is_fresh(timestamp: &str, now: DateTime<Utc>) -> bool {
    let Ok(at) = NaiveDateTime::parse_from_str(&format!("{timestamp}00"), "%Y%m%dT%HZ%M") else {
        return false;
    };
    let current = now.format("%Y%m%dT%HZ").to_string();
    let previous = (now - Duration::hours(1)).format("%Y%m%dT%HZ").to_string();
    let canonical = at.format("%Y%m%dT%HZ").to_string();
    canonical == timestamp && (canonical == current || canonical == previous)
}

/// The actor of a legacy request: anonymous without `Authorization`, a bearer token's user,
/// or the signer of an `SREGISTRY-HMAC-SHA256` credential matching `claim`.
pub async fn actor(
    state: &AppState,
    headers: &HeaderMap,
    claim: Option<&Claim<'_>>,
) -> Result<Actor, DomainError> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Ok(Actor::Anonymous);
    };
    let value = value.to_str().map_err(|_| DomainError::Unauthenticated)?;
    if !value.trim_start().starts_with(SCHEME) {
        return state.actor(headers).await;
    }
    verify(state, value, claim).await
}

/// Verifies a signed credential against `claim` (none: signatures are not accepted here).
pub async fn verify(
    state: &AppState,
    value: &str,
    claim: Option<&Claim<'_>>,
) -> Result<Actor, DomainError> {
    let signed = parse(value)
        .ok_or_else(|| DomainError::invalid(format!("malformed {SCHEME} credential")))?;
    let Some(claim) = claim else {
        return Err(DomainError::invalid(format!(
            "{SCHEME} signatures are not used on this endpoint"
        )));
    };
    if signed.kind != claim.kind {
        return Err(DomainError::forbidden(format!(
            "this request needs a {:?} signature, not {:?}",
            claim.kind, signed.kind
        )));
    }
    if !timestamp_is_fresh(&signed.timestamp, Utc::now()) {
        return Err(DomainError::forbidden(
            "the signature's timestamp is not the current or the previous UTC hour",
        ));
    }
    for collection in &claim.collections {
        let payload = format!(
            "{}|{}|{}|{}|{}|",
            claim.kind, collection, signed.timestamp, claim.name, claim.tag
        );
        match state
            .registry
            .authenticate_sregistry(&signed.username, &payload, &signed.signature)
            .await
        {
            Ok(actor) => return Ok(actor),
            Err(DomainError::Unauthenticated) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(DomainError::Unauthenticated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn parses_the_client_header() {
        let h = "SREGISTRY-HMAC-SHA256 Credential=push/YWxpY2U=/20261125T10Z,Signature=abcd";
        let s = parse(h).unwrap();
        assert_eq!(s.kind, "push");
        assert_eq!(s.username, "alice");
        assert_eq!(s.timestamp, "20261125T10Z");
        assert_eq!(s.signature, "abcd");
        for bad in [
            "Bearer x",
            "SREGISTRY-HMAC-SHA256 Credential=push/YWxpY2U=,Signature=ab",
            "SREGISTRY-HMAC-SHA256 Credential=push/!!/20261125T10Z,Signature=ab",
            "SREGISTRY-HMAC-SHA256 Credential=push/YWxpY2U=/20261125T10Z",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn accepts_only_the_current_and_previous_hour() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 10, 30, 0).unwrap();
        assert!(timestamp_is_fresh("20261125T10Z", now));
        assert!(timestamp_is_fresh("20261125T09Z", now));
        assert!(!timestamp_is_fresh("20261125T08Z", now));
        assert!(!timestamp_is_fresh("20261125T11Z", now));
        assert!(!timestamp_is_fresh("2026112510", now));
        assert!(!timestamp_is_fresh("20261125T9Z", now));
        let midnight = Utc.with_ymd_and_hms(2026, 11, 26, 0, 5, 0).unwrap();
        assert!(timestamp_is_fresh("20261125T23Z", midnight));
    }
}
