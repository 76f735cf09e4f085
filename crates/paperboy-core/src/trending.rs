//! The trending formula, published on the trending page and in the docs:
//!
//! ```text
//! score = (upvotes + 2 × comments + 1) / (age_hours + 2) ^ 1.5
//! ```
//!
//! `age_hours` counts from the start of the paper's curation day (UTC). A
//! comment weighs two upvotes because it costs more effort; the `+ 1` lets a
//! brand-new paper rank above an old one with no votes; the gravity 1.5 halves
//! a paper's score in roughly its first day and a half (Hacker News uses 1.8).
//! Cheap enough to compute for every request over a week of entries.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// How fast scores fall with age.
pub const GRAVITY: f64 = 1.5;
/// The weight of a comment, in upvotes.
pub const COMMENT_WEIGHT: f64 = 2.0;
/// Trending considers entries of this many days up to the latest day.
pub const WINDOW_DAYS: i64 = 7;

/// A score with what went into it ("why is this here").
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrendingScore {
    pub upvotes: u32,
    pub comments: u32,
    pub age_hours: f64,
    pub score: f64,
}

/// The score of a paper on the list of `day`, as of `now`.
pub fn score(upvotes: u32, comments: u32, day: NaiveDate, now: DateTime<Utc>) -> TrendingScore {
    let listed_at = day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or(now);
    let age_hours = ((now - listed_at).num_seconds() as f64 / 3600.0).max(0.0);
    let weight = f64::from(upvotes) + COMMENT_WEIGHT * f64::from(comments) + 1.0;
    TrendingScore {
        upvotes,
        comments,
        age_hours,
        score: weight / (age_hours + 2.0).powf(GRAVITY),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, d).unwrap()
    }

    #[test]
    fn the_published_formula() {
        let now = Utc.with_ymd_and_hms(2026, 1, 3, 0, 0, 0).unwrap();
        let s = score(10, 2, day(2), now);
        assert_eq!(s.age_hours, 24.0);
        assert!((s.score - 15.0 / 26f64.powf(1.5)).abs() < 1e-12);
    }

    #[test]
    fn newer_beats_older_with_equal_votes_and_votes_beat_age_up_to_a_point() {
        let now = Utc.with_ymd_and_hms(2026, 1, 5, 12, 0, 0).unwrap();
        assert!(score(10, 0, day(5), now).score > score(10, 0, day(3), now).score);
        assert!(score(100, 0, day(4), now).score > score(10, 0, day(5), now).score);
        assert!(score(0, 3, day(5), now).score > score(5, 0, day(5), now).score);
    }

    #[test]
    fn a_future_day_counts_as_age_zero() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(score(1, 0, day(9), now).age_hours, 0.0);
    }
}
