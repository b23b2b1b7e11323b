//! Parsers for the HTTP header values the protocol adapters read: `Range`, the OCI chunked
//! upload's `Content-Range` and the sregistry `SREGISTRY-HMAC-SHA256` credential. They are
//! pure functions over `&str`, here so that the fuzz targets (domain/fuzz) exercise exactly
//! the code the server runs.
use base64::Engine;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use crate::store::ByteRange;

/// A single `bytes=first-[last]` range. Suffix (`bytes=-n`), multi-range and non-`bytes`
/// requests are `Ok(None)` (served whole); a malformed range is `Err` with a message.
pub fn parse_range(value: &str) -> Result<Option<ByteRange>, String> {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let malformed = || format!("malformed Range {value:?}");
    let (first, last) = spec.split_once('-').ok_or_else(malformed)?;
    if first.trim().is_empty() {
        return Ok(None);
    }
    let first: u64 = first.trim().parse().map_err(|_| malformed())?;
    let last: Option<u64> = match last.trim() {
        "" => None,
        l => Some(l.parse().map_err(|_| malformed())?),
    };
    if last.is_some_and(|l| l < first) {
        return Err(malformed());
    }
    Ok(Some(ByteRange { first, last }))
}

/// The inclusive `(start, end)` of an OCI chunk's `Content-Range: [bytes=|bytes ]<start>-<end>
/// [/<total>]`; `None` when malformed or `end < start`.
pub fn parse_content_range(value: &str) -> Option<(u64, u64)> {
    let text = value.trim();
    let text = text
        .strip_prefix("bytes=")
        .or_else(|| text.strip_prefix("bytes "))
        .unwrap_or(text);
    let text = text.split('/').next().unwrap_or_default();
    let (start, end) = text.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end: u64 = end.trim().parse().ok()?;
    (end >= start).then_some((start, end))
}

/// The scheme of the sregistry client's signed requests.
pub const SREGISTRY_SCHEME: &str = "SREGISTRY-HMAC-SHA256";

/// A parsed `SREGISTRY-HMAC-SHA256 Credential=<kind>/<base64 user>/<YYYYmmddTHHZ>,
/// Signature=<hex>` credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SregistryCredential {
    pub kind: String,
    pub username: String,
    pub timestamp: String,
    pub signature: String,
}

/// Parses the value of the header (or of an upload's `SREGISTRY_EVENT` field).
pub fn parse_sregistry_credential(value: &str) -> Option<SregistryCredential> {
    let rest = value.trim().strip_prefix(SREGISTRY_SCHEME)?.trim_start();
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
    Some(SregistryCredential {
        kind: kind.to_string(),
        username: String::from_utf8(user).ok()?,
        timestamp: timestamp.to_string(),
        signature: signature?.to_string(),
    })
}

/// True when `timestamp` (`YYYYmmddTHHZ`) is the current or the previous UTC hour.
pub fn sregistry_timestamp_is_fresh(timestamp: &str, now: DateTime<Utc>) -> bool {
    let Ok(at) = NaiveDateTime::parse_from_str(&format!("{timestamp}00"), "%Y%m%dT%HZ%M") else {
        return false;
    };
    let current = now.format("%Y%m%dT%HZ").to_string();
    let previous = (now - Duration::hours(1)).format("%Y%m%dT%HZ").to_string();
    let canonical = at.format("%Y%m%dT%HZ").to_string();
    canonical == timestamp && (canonical == current || canonical == previous)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let range = |first, last| Ok(Some(ByteRange { first, last }));
        assert_eq!(parse_range("bytes=0-1024"), range(0, Some(1024)));
        assert_eq!(parse_range("bytes=5-"), range(5, None));
        assert_eq!(parse_range("bytes=-5"), Ok(None));
        assert_eq!(parse_range("bytes=0-1,4-5"), Ok(None));
        assert_eq!(parse_range("items=0-1"), Ok(None));
        assert!(parse_range("bytes=9-2").is_err());
        assert!(parse_range("bytes=x-2").is_err());
        assert!(parse_range("bytes=99999999999999999999-").is_err());
    }

    #[test]
    fn content_ranges() {
        assert_eq!(parse_content_range("0-9"), Some((0, 9)));
        assert_eq!(parse_content_range("bytes=10-19"), Some((10, 19)));
        assert_eq!(parse_content_range("bytes 10-19/100"), Some((10, 19)));
        for bad in ["", "-", "9-2", "a-b", "-5", "5-", "1-99999999999999999999"] {
            assert_eq!(parse_content_range(bad), None, "{bad}");
        }
    }
}
