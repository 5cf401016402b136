//! Conversions every API room needs: timestamps, ISO dates, ids, page tokens.

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::AppError;

/// A proto timestamp from a UTC time.
pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: t.timestamp(), nanos: t.timestamp_subsec_nanos() as i32 }
}

/// Earliest date or time any request may carry (1900-01-01).
pub const EARLIEST_DATE: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid date");
/// Day after the latest date or time any request may carry (2200-01-01).
pub const END_OF_DATES: NaiveDate = NaiveDate::from_ymd_opt(2200, 1, 1).expect("valid date");

/// A UTC time from a required proto timestamp field: nanos in 0..1e9 and the instant in
/// [1900-01-01, 2200-01-01) UTC, so every stored time is one every protobuf runtime reads.
pub fn parse_timestamp(field: &'static str, value: Option<prost_types::Timestamp>) -> Result<DateTime<Utc>, AppError> {
    let ts = value.ok_or_else(|| AppError::invalid(field, "is required"))?;
    if !(0..1_000_000_000).contains(&ts.nanos) {
        return Err(AppError::invalid(field, "nanos must be between 0 and 999,999,999"));
    }
    let earliest = EARLIEST_DATE.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp();
    let end = END_OF_DATES.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp();
    if !(earliest..end).contains(&ts.seconds) {
        return Err(AppError::invalid(field, "must be between 1900-01-01 and 2199-12-31"));
    }
    DateTime::from_timestamp(ts.seconds, ts.nanos as u32).ok_or_else(|| AppError::invalid(field, "is out of range"))
}

/// A date from an ISO 8601 `YYYY-MM-DD` field.
pub fn parse_date(field: &'static str, value: &str) -> Result<NaiveDate, AppError> {
    if value.trim().is_empty() {
        return Err(AppError::invalid(field, "is required (YYYY-MM-DD)"));
    }
    let date = NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::invalid(field, format!("expected a date as YYYY-MM-DD, got {}", crate::text::quote(value)))
    })?;
    if !(EARLIEST_DATE..END_OF_DATES).contains(&date) {
        return Err(AppError::invalid(field, "must be between 1900-01-01 and 2199-12-31"));
    }
    Ok(date)
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
        .map_err(|_| AppError::invalid(field, format!("expected a UUID, got {}", crate::text::quote(value))))
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

/// A required single-line text field of at most `max` characters (see [`crate::text`]).
pub fn required_text(field: &'static str, value: &str, max: usize) -> Result<String, AppError> {
    crate::text::TextRule::line(max).parse(field, value)
}

/// An optional single-line text field of at most `max` characters.
pub fn optional_text(field: &'static str, value: &str, max: usize) -> Result<String, AppError> {
    crate::text::TextRule::optional_line(max).parse(field, value)
}

/// Optional paragraphs of at most `max` characters.
pub fn paragraphs(field: &'static str, value: &str, max: usize) -> Result<String, AppError> {
    crate::text::TextRule::paragraphs(max).parse(field, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_every_runtime_reads() {
        let ts = |seconds, nanos| Some(prost_types::Timestamp { seconds, nanos });
        assert!(parse_timestamp("starts_at", ts(1_800_000_000, 0)).is_ok());
        assert!(parse_timestamp("starts_at", ts(1_800_000_000, -1)).is_err(), "negative nanos");
        assert!(parse_timestamp("starts_at", ts(1_800_000_000, 1_000_000_000)).is_err());
        assert!(parse_timestamp("starts_at", ts(253_402_300_800, 0)).is_err(), "year 10000");
        assert!(parse_timestamp("starts_at", ts(-219_845_721_600, 0)).is_err(), "year -5000");
        assert!(parse_timestamp("starts_at", None).unwrap_err().to_string().contains("starts_at"));
    }

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
        let long = parse_id("unit_id", &"a".repeat(10_000)).unwrap_err().to_string();
        assert!(long.len() < 100, "a long bad value is quoted short: {long}");
        assert!(parse_date("admitted_on", "10000-01-01").is_err());
        assert!(parse_date("admitted_on", "1899-12-31").is_err());
        assert!(page_size(501, 50, 500).is_err());
    }
}
