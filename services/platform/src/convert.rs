//! Conversions every API room needs: timestamps, ISO dates, ids, page tokens.

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::AppError;

/// A proto timestamp from a UTC time.
pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: t.timestamp(), nanos: t.timestamp_subsec_nanos() as i32 }
}

/// A UTC time from a required proto timestamp field.
pub fn parse_timestamp(field: &'static str, value: Option<prost_types::Timestamp>) -> Result<DateTime<Utc>, AppError> {
    let ts = value.ok_or_else(|| AppError::invalid(field, "is required"))?;
    DateTime::from_timestamp(ts.seconds, ts.nanos.max(0) as u32)
        .ok_or_else(|| AppError::invalid(field, "is out of range"))
}

/// A date from an ISO 8601 `YYYY-MM-DD` field.
pub fn parse_date(field: &'static str, value: &str) -> Result<NaiveDate, AppError> {
    if value.trim().is_empty() {
        return Err(AppError::invalid(field, "is required (YYYY-MM-DD)"));
    }
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid(field, format!("expected a date as YYYY-MM-DD, got {value:?}")))
}

/// An ISO 8601 date string.
pub fn format_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// A required UUID field, returned in canonical lowercase form.
pub fn parse_id(field: &'static str, value: &str) -> Result<String, AppError> {
    if value.is_empty() {
        return Err(AppError::invalid(field, "is required"));
    }
    uuid::Uuid::parse_str(value)
        .map(|u| u.to_string())
        .map_err(|_| AppError::invalid(field, format!("expected a UUID, got {value:?}")))
}

/// A new time-ordered identifier.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Page size from a request: 0 means `default`; otherwise 1..=`max`.
pub fn page_size(value: i32, default: u64, max: u64) -> Result<u64, AppError> {
    match value {
        0 => Ok(default),
        v if v < 0 || v as u64 > max => Err(AppError::invalid("page_size", format!("must be between 1 and {max}"))),
        v => Ok(v as u64),
    }
}

/// Page tokens are opaque to clients: the sort key of the last row, base64url.
pub fn encode_page_token(key: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

/// Decodes a page token; empty means the first page.
pub fn decode_page_token(token: &str) -> Result<Option<String>, AppError> {
    use base64::Engine;
    if token.is_empty() {
        return Ok(None);
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .map(Some)
        .ok_or_else(|| AppError::invalid("page_token", "is not a token this API returned"))
}

/// A required text field, trimmed, between 1 and `max` characters.
pub fn required_text(field: &'static str, value: &str, max: usize) -> Result<String, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::invalid(field, "is required"));
    }
    if value.chars().count() > max {
        return Err(AppError::invalid(field, format!("must be at most {max} characters")));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_reject_garbage() {
        let t = encode_page_token("DV0000000042");
        assert_eq!(decode_page_token(&t).unwrap().as_deref(), Some("DV0000000042"));
        assert!(decode_page_token("%%%").is_err());
        assert_eq!(decode_page_token("").unwrap(), None);
    }

    #[test]
    fn dates_and_ids_name_the_field() {
        let err = parse_date("date_of_birth", "31/12/2000").unwrap_err();
        assert!(err.to_string().contains("date_of_birth"));
        assert!(parse_id("unit_id", "nope").unwrap_err().to_string().contains("unit_id"));
        assert_eq!(page_size(0, 50, 500).unwrap(), 50);
        assert!(page_size(501, 50, 500).is_err());
    }
}
