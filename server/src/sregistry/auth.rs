//! `Authorization: SREGISTRY-HMAC-SHA256 Credential=<kind>/<base64 user>/<YYYYmmddTHHZ>,
//! Signature=<hex>`: the signature is HMAC-SHA256, keyed with the user's sregistry secret, of
//! `<kind>|<collection>|<timestamp>|<name>|<tag>|`.
//!
//! The timestamp has hour granularity, so a nonce cache cannot tell a replay from a second
//! request within the hour. The bound: a signature is accepted only while its timestamp is
//! the current or the previous UTC hour (at most two hours after it was made), only for its
//! kind, collection, name and tag.
use chrono::Utc;
use http::HeaderMap;
use silo_domain::{Actor, DomainError};

use crate::state::AppState;

pub use silo_domain::headers::{
    parse_sregistry_credential as parse, sregistry_timestamp_is_fresh as timestamp_is_fresh,
    SregistryCredential as Signed, SREGISTRY_SCHEME as SCHEME,
};

/// What a signed request claims to do; the signature must cover exactly this.
#[derive(Clone, Debug)]
pub struct Claim<'a> {
    pub kind: &'a str,
    /// Spellings of the collection the client may have signed (the first is canonical).
    pub collections: Vec<String>,
    pub name: &'a str,
    pub tag: &'a str,
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
