//! The range of instants the service stores and compares: years 1 to 9999.
//!
//! chrono parses RFC 3339 with years from -262143 to +262142, PostgreSQL's
//! `timestamptz` ends at 294276 AD and starts at 4713 BC, and SQLite stores
//! the RFC 3339 text, whose order is the time order only for four-digit
//! years. Years 1 to 9999 mean the same on both backends; an instant outside
//! them is the client's error (`BAD_USER_INPUT`), not the database's.

use chrono::{DateTime, NaiveDate, Utc};

/// `0001-01-01T00:00:00Z`.
pub fn earliest() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(1, 1, 1)
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map_or(DateTime::<Utc>::MIN_UTC, |at| at.and_utc())
}

/// `9999-12-31T23:59:59.999999Z`.
pub fn latest() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|date| date.and_hms_micro_opt(23, 59, 59, 999_999))
        .map_or(DateTime::<Utc>::MAX_UTC, |at| at.and_utc())
}

/// `at` if it is storable; else why not (for a `BAD_USER_INPUT` message).
pub fn storable(at: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if (earliest()..=latest()).contains(&at) {
        Ok(at)
    } else {
        Err(format!(
            "{} is outside the supported range 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z",
            at.to_rfc3339()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::storable;
    use chrono::{DateTime, Utc};

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn accepts_four_digit_years_only() {
        assert!(storable(at("0001-01-01T00:00:00Z")).is_ok());
        assert!(storable(at("9999-12-31T23:59:59.999999Z")).is_ok());
        assert!(storable(at("2026-12-02T10:00:00+02:00")).is_ok());
        for bad in [
            "-262143-01-01T00:00:00Z",
            "+262142-12-31T00:00:00Z",
            "0000-12-31T23:59:59Z",
        ] {
            let Ok(parsed) = DateTime::parse_from_rfc3339(bad) else {
                continue;
            };
            assert!(storable(parsed.to_utc()).is_err(), "{bad}");
        }
        assert!(storable(DateTime::<Utc>::MIN_UTC).is_err());
        assert!(storable(DateTime::<Utc>::MAX_UTC).is_err());
    }
}
