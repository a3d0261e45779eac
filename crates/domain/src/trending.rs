//! "Hot this week": views counted in hourly buckets, each weighted by exponential decay.
//!
//! The score of an article at `now` over a window is
//! `Σ views(bucket) · 0.5^((now − bucket hour) / half-life)` over the buckets whose hour lies in
//! the window. Because `0.5^((now − t)/h) = 2^((t − base)/h) · 2^(−(now − base)/h)`, the sum can
//! be kept as a running accumulator `Σ views · 2^((t − base)/h)` that only ever has terms added
//! (a new bucket) or removed (a bucket leaving the window); the common factor is applied when
//! reading. [`bucket_weight`] and [`score_from_accumulator`] are the two halves; [`score`] is the
//! direct definition they are tested against.

use chrono::{DateTime, Duration, DurationRound, Utc};
use uuid::Uuid;

use crate::ValidationError;

/// How far back a trending list looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrendingWindow {
    /// The last 24 hours.
    Day,
    /// The last 7 days.
    Week,
    /// The last 30 days.
    Month,
}

impl TrendingWindow {
    /// Every window, shortest first.
    pub const ALL: [Self; 3] = [Self::Day, Self::Week, Self::Month];

    /// The window's length.
    pub fn length(self) -> Duration {
        match self {
            Self::Day => Duration::days(1),
            Self::Week => Duration::days(7),
            Self::Month => Duration::days(30),
        }
    }

    /// The first bucket hour inside the window at `now`: buckets from this hour on count.
    pub fn first_hour(self, now: DateTime<Utc>) -> DateTime<Utc> {
        bucket_hour(now) - self.length() + Duration::hours(1)
    }

    /// Parses `day`, `week` or `month` (any case), naming `field` otherwise.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        match raw.to_ascii_lowercase().as_str() {
            "day" => Ok(Self::Day),
            "week" => Ok(Self::Week),
            "month" => Ok(Self::Month),
            _ => Err(ValidationError::new(field, "must be day, week or month")),
        }
    }

    /// The stored / URL name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }
}

/// The start of the hour `at` falls in: the bucket a view at `at` is counted in.
pub fn bucket_hour(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::hours(1)).unwrap_or(at)
}

/// Views of one article in one hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// The article.
    pub article_id: Uuid,
    /// Start of the hour.
    pub hour: DateTime<Utc>,
    /// Views counted in it.
    pub views: i64,
}

fn hours_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    // Microsecond precision is plenty and keeps the arithmetic in f64's exact integer range.
    (to - from).num_microseconds().unwrap_or(i64::MAX) as f64 / 3_600_000_000.0
}

fn half_lives(half_life: Duration) -> f64 {
    hours_between(DateTime::UNIX_EPOCH, DateTime::UNIX_EPOCH + half_life).max(1e-9)
}

/// The decay factor of a view at `hour` seen from `now`: 1 at `now`, ½ one half-life before.
/// Views from the future (clock skew) count fully.
pub fn decay(hour: DateTime<Utc>, now: DateTime<Utc>, half_life: Duration) -> f64 {
    let age = hours_between(hour, now).max(0.0);
    0.5_f64.powf(age / half_lives(half_life))
}

/// An article's score at `now` over `window`, straight from its buckets (the definition).
pub fn score(
    buckets: &[Bucket],
    window: TrendingWindow,
    now: DateTime<Utc>,
    half_life: Duration,
) -> (f64, i64) {
    let first = window.first_hour(now);
    buckets
        .iter()
        .filter(|b| b.hour >= first && b.hour <= now)
        .fold((0.0, 0), |(score, views), b| {
            (
                score + b.views as f64 * decay(b.hour, now, half_life),
                views + b.views,
            )
        })
}

/// A bucket's weight in the running accumulator: `2^((hour − base)/half-life)`.
pub fn bucket_weight(hour: DateTime<Utc>, base: DateTime<Utc>, half_life: Duration) -> f64 {
    2.0_f64.powf(hours_between(base, hour) / half_lives(half_life))
}

/// The score at `now` of an accumulator kept with [`bucket_weight`] against `base`.
pub fn score_from_accumulator(
    accumulator: f64,
    base: DateTime<Utc>,
    now: DateTime<Utc>,
    half_life: Duration,
) -> f64 {
    accumulator * 0.5_f64.powf(hours_between(base, now) / half_lives(half_life))
}

/// Largest exponent an accumulator's weights may reach before the base must move forward
/// (2^600 leaves f64 ample headroom below its 2^1023 limit).
pub const MAX_WEIGHT_EXPONENT: f64 = 600.0;

/// Whether weights computed against `base` at `now` are getting too large, so the base should
/// move to [`rebased`]`(now, …)` and every accumulator be scaled by [`rebase_factor`].
pub fn needs_rebase(base: DateTime<Utc>, now: DateTime<Utc>, half_life: Duration) -> bool {
    hours_between(base, now) / half_lives(half_life) > MAX_WEIGHT_EXPONENT / 2.0
}

/// A new base for accumulators: the start of the longest window at `now`.
pub fn rebased(now: DateTime<Utc>) -> DateTime<Utc> {
    TrendingWindow::Month.first_hour(now)
}

/// The factor that converts an accumulator from `old` base to `new` base.
pub fn rebase_factor(old: DateTime<Utc>, new: DateTime<Utc>, half_life: Duration) -> f64 {
    0.5_f64.powf(hours_between(old, new) / half_lives(half_life))
}

/// An article in the running for a trending list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// The article.
    pub article_id: Uuid,
    /// Its publish time (first tie-breaker: newer first).
    pub published_at: DateTime<Utc>,
    /// Its score.
    pub score: f64,
    /// Views counted in the window.
    pub views: i64,
}

/// Orders candidates for a trending list: highest score first, then newest publish time, then
/// highest id; keeps those with at least one view; returns at most `limit`.
pub fn rank(mut candidates: Vec<Candidate>, limit: usize) -> Vec<Candidate> {
    candidates.retain(|c| c.views > 0 && c.score.is_finite());
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.published_at.cmp(&a.published_at))
            .then(b.article_id.cmp(&a.article_id))
    });
    candidates.truncate(limit);
    candidates
}

/// Most items a trending list returns.
pub const MAX_TRENDING: i32 = 50;
/// Items a trending list returns when the client names no number.
pub const DEFAULT_TRENDING: i32 = 10;

/// Validates a requested list length: 1 to [`MAX_TRENDING`].
pub fn trending_limit(field: &str, first: i32) -> Result<usize, ValidationError> {
    if !(1..=MAX_TRENDING).contains(&first) {
        return Err(ValidationError::new(
            field,
            format!("must be between 1 and {MAX_TRENDING}"),
        ));
    }
    Ok(usize::try_from(first).unwrap_or(10))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 5, 15, h, m, 0).unwrap()
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn a_view_counts_in_the_hour_it_falls_in() {
        assert_eq!(bucket_hour(at(9, 59)), at(9, 0));
        assert_eq!(bucket_hour(at(10, 0)), at(10, 0));
    }

    #[test]
    fn decay_halves_each_half_life() {
        let h = Duration::hours(24);
        let now = at(12, 0);
        assert_eq!(decay(now, now, h), 1.0);
        assert!((decay(now - Duration::hours(24), now, h) - 0.5).abs() < 1e-12);
        assert!((decay(now - Duration::hours(48), now, h) - 0.25).abs() < 1e-12);
        assert_eq!(
            decay(now + Duration::hours(1), now, h),
            1.0,
            "future counts fully"
        );
    }

    #[test]
    fn score_by_hand() {
        // Half-life 2 h, now 12:00. Buckets: 10 views at 12:00 (×1), 8 at 10:00 (×½),
        // 4 at 08:00 (×¼), and 100 at 11:00 the previous day (outside a DAY window).
        let h = Duration::hours(2);
        let now = at(12, 0);
        let a = id(1);
        let buckets = [
            Bucket {
                article_id: a,
                hour: at(12, 0),
                views: 10,
            },
            Bucket {
                article_id: a,
                hour: at(10, 0),
                views: 8,
            },
            Bucket {
                article_id: a,
                hour: at(8, 0),
                views: 4,
            },
            Bucket {
                article_id: a,
                hour: at(11, 0) - Duration::days(1),
                views: 100,
            },
        ];
        let (s, views) = score(&buckets, TrendingWindow::Day, now, h);
        assert!((s - (10.0 + 4.0 + 1.0)).abs() < 1e-9, "{s}");
        assert_eq!(views, 22);
        // The week window takes the old bucket too: 100 × 0.5^(25/2).
        let (s, views) = score(&buckets, TrendingWindow::Week, now, h);
        assert!((s - (15.0 + 100.0 * 0.5_f64.powf(12.5))).abs() < 1e-9);
        assert_eq!(views, 122);
    }

    #[test]
    fn the_day_window_is_the_last_24_hours() {
        let now = at(12, 30);
        assert_eq!(
            TrendingWindow::Day.first_hour(now),
            at(13, 0) - Duration::days(1)
        );
        assert_eq!(
            TrendingWindow::Week.first_hour(now),
            at(13, 0) - Duration::days(7)
        );
    }

    #[test]
    fn accumulator_equals_the_definition() {
        let h = Duration::hours(30);
        let base = at(0, 0) - Duration::days(3);
        let now = at(12, 17);
        let buckets: Vec<Bucket> = (0..60)
            .map(|i| Bucket {
                article_id: id(1),
                hour: at(12, 0) - Duration::hours(i),
                views: i * 3 + 1,
            })
            .collect();
        let acc: f64 = buckets
            .iter()
            .map(|b| b.views as f64 * bucket_weight(b.hour, base, h))
            .sum();
        let (direct, _) = score(&buckets, TrendingWindow::Week, now, h);
        let via = score_from_accumulator(acc, base, now, h);
        assert!((direct - via).abs() / direct < 1e-12, "{direct} vs {via}");
        // Moving the base scales the accumulator and leaves the score alone.
        let new_base = rebased(now);
        let moved = acc * rebase_factor(base, new_base, h);
        let again = score_from_accumulator(moved, new_base, now, h);
        assert!((direct - again).abs() / direct < 1e-12);
    }

    #[test]
    fn rebase_is_needed_long_before_overflow() {
        let h = Duration::hours(1);
        let base = at(0, 0);
        assert!(!needs_rebase(base, base + Duration::hours(299), h));
        assert!(needs_rebase(base, base + Duration::hours(301), h));
        assert!(bucket_weight(base + Duration::hours(600), base, h).is_finite());
    }

    #[test]
    fn ties_go_to_the_newer_story_then_the_higher_id() {
        let c = |n, published: DateTime<Utc>, score: f64, views| Candidate {
            article_id: id(n),
            published_at: published,
            score,
            views,
        };
        let ranked = rank(
            vec![
                c(1, at(8, 0), 5.0, 5),
                c(2, at(9, 0), 5.0, 5),
                c(3, at(9, 0), 5.0, 5),
                c(4, at(7, 0), 9.0, 9),
                c(5, at(7, 0), 0.0, 0),
            ],
            10,
        );
        let order: Vec<u128> = ranked.iter().map(|c| c.article_id.as_u128()).collect();
        assert_eq!(order, [4, 3, 2, 1], "no-view article dropped");
        assert_eq!(rank(ranked, 2).len(), 2);
    }

    #[test]
    fn windows_and_limits_parse() {
        assert_eq!(
            TrendingWindow::parse("window", "WEEK").unwrap(),
            TrendingWindow::Week
        );
        assert_eq!(
            TrendingWindow::parse("window", "year").unwrap_err().field,
            "window"
        );
        assert_eq!(trending_limit("first", 50).unwrap(), 50);
        assert!(trending_limit("first", 51).is_err());
        assert!(trending_limit("first", 0).is_err());
    }
}
