//! The one timestamp format orgkeys writes, on the wire and in the table:
//! RFC 3339 in UTC with milliseconds (`2026-11-26T10:00:00.000Z`). Fixed width,
//! so stored timestamps also compare correctly as strings.

use chrono::{DateTime, SecondsFormat, Utc};

/// `at` as orgkeys writes it.
pub fn format(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Any RFC 3339 date-time (clients may send offsets and other precisions), in UTC.
pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_is_fixed_width_utc_millis_and_parses_back() {
        let at = parse("2026-01-02T04:04:05.6+01:00").unwrap();
        assert_eq!(format(at), "2026-01-02T03:04:05.600Z");
        assert_eq!(parse(&format(at)), Some(at));
        assert_eq!(parse("yesterday"), None);
    }
}
