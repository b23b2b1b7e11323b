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

/// A single `bytes=first-[last]` range. Absent, suffix (`bytes=-n`), multi-range and
/// non-`bytes` requests are `Ok(None)` (served whole); a malformed range is `Err` with a
/// message, which each adapter either reports or ignores.
pub fn requested_range(headers: &HeaderMap) -> Result<Option<ByteRange>, String> {
    let Some(value) = headers.get(header::RANGE) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| "unreadable Range header".to_string())?;
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
