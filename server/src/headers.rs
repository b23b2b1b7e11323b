//! Request headers every protocol adapter reads the same way.
use axum::http::{header, HeaderMap};
use silo_domain::store::ByteRange;

/// The declared body length, when present and numeric.
pub fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// A single `bytes=first-[last]` range (see [`silo_domain::headers::parse_range`]): absent,
/// suffix, multi-range and non-`bytes` requests are `Ok(None)` (served whole); a malformed
/// range is `Err` with a message, which each adapter either reports or ignores.
pub fn requested_range(headers: &HeaderMap) -> Result<Option<ByteRange>, String> {
    let Some(value) = headers.get(header::RANGE) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| "unreadable Range header".to_string())?;
    silo_domain::headers::parse_range(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_range(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, value.parse().unwrap());
        h
    }

    #[test]
    fn ranges() {
        assert_eq!(requested_range(&HeaderMap::new()), Ok(None));
        assert_eq!(
            requested_range(&with_range("bytes=0-1024")),
            Ok(Some(ByteRange {
                first: 0,
                last: Some(1024)
            }))
        );
        assert_eq!(
            requested_range(&with_range("bytes=5-")),
            Ok(Some(ByteRange {
                first: 5,
                last: None
            }))
        );
        assert_eq!(requested_range(&with_range("bytes=-5")), Ok(None));
        assert_eq!(requested_range(&with_range("bytes=0-1,4-5")), Ok(None));
        assert_eq!(requested_range(&with_range("items=0-1")), Ok(None));
        assert!(requested_range(&with_range("bytes=9-2")).is_err());
        assert!(requested_range(&with_range("bytes=x-2")).is_err());
    }
}
