//! Instants as Gazette stores them.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// Rounds down to whole microseconds, the precision both databases keep, so that a value read
/// back (and a cursor made from it) equals the value written.
pub fn storage_precision(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_nanoseconds() {
        let t = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap();
        assert_eq!(storage_precision(t).timestamp_subsec_nanos(), 123_456_000);
    }
}
