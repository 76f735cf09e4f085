//! What the lists of the site and the API share: the periods a list covers
//! (a day `YYYY-MM-DD`, an ISO week `YYYY-Www`, a month `YYYY-MM`) parsed
//! from what a user typed, and the trending ranking.
//!
//! Parsing is strict and every refusal says what is wrong and what would be
//! right; it never guesses what a malformed value meant.

use std::borrow::Cow;
use std::collections::HashSet;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};
use paperboy_core::trending::{self, TrendingScore};
use paperboy_store::{EntryQuery, ListOrder, Listed, Store, StoreError};

use crate::error::WebError;

/// At most this many entries of the trending window are ranked (about four
/// times what a week of Daily Papers holds).
pub const TRENDING_CANDIDATES: u64 = 2_000;

/// A range of curation days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Parses a curation day: `YYYY-MM-DD`.
pub fn parse_day(input: &str) -> Result<NaiveDate, WebError> {
    let bad = |why: &str| WebError::BadRequest {
        code: "bad_date",
        message: format!("{:?} is not a date: {why}.", shorten(input)),
        hint: Some("Write a day as YYYY-MM-DD, e.g. 2025-06-10.".into()),
    };
    let b = input.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return Err(bad("expected YYYY-MM-DD"));
    }
    let (y, m, d) = (
        number(&input[..4]),
        number(&input[5..7]),
        number(&input[8..]),
    );
    NaiveDate::from_ymd_opt(y as i32, m, d).ok_or_else(|| bad("there is no such day"))
}

/// Parses an ISO week `YYYY-Www` (e.g. `2025-W24`) into Monday..Sunday.
pub fn parse_week(input: &str) -> Result<Period, WebError> {
    let bad = |why: &str| {
        WebError::BadRequest {
        code: "bad_week",
        message: format!("{:?} is not an ISO week: {why}.", shorten(input)),
        hint: Some("Write a week as YYYY-Www, e.g. 2025-W24 (weeks start on Monday; week 1 holds the year's first Thursday).".into()),
    }
    };
    let b = input.as_bytes();
    let shape_ok = b.len() == 8
        && b[4] == b'-'
        && (b[5] == b'W' || b[5] == b'w')
        && b[..4].iter().chain(&b[6..]).all(u8::is_ascii_digit);
    if !shape_ok {
        return Err(bad("expected YYYY-Www"));
    }
    let (year, week) = (number(&input[..4]) as i32, number(&input[6..]));
    let monday = NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)
        .ok_or_else(|| bad(&format!("{year} has no week {week}")))?;
    let sunday = monday
        .checked_add_days(Days::new(6))
        .ok_or_else(|| bad("out of range"))?;
    Ok(Period {
        from: monday,
        to: sunday,
    })
}

/// Parses a month `YYYY-MM` into its first..last day.
pub fn parse_month(input: &str) -> Result<Period, WebError> {
    let bad = |why: &str| WebError::BadRequest {
        code: "bad_month",
        message: format!("{:?} is not a month: {why}.", shorten(input)),
        hint: Some("Write a month as YYYY-MM, e.g. 2025-06.".into()),
    };
    let b = input.as_bytes();
    let shape_ok =
        b.len() == 7 && b[4] == b'-' && b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit);
    if !shape_ok {
        return Err(bad("expected YYYY-MM"));
    }
    let (year, month) = (number(&input[..4]) as i32, number(&input[5..]));
    let first =
        NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(|| bad("there is no such month"))?;
    let last = first
        .checked_add_months(chrono::Months::new(1))
        .and_then(|next| next.pred_opt())
        .ok_or_else(|| bad("out of range"))?;
    Ok(Period {
        from: first,
        to: last,
    })
}

/// The ISO week of `day` as `YYYY-Www`.
pub fn week_of(day: NaiveDate) -> String {
    let w = day.iso_week();
    format!("{:04}-W{:02}", w.year(), w.week())
}

/// The month of `day` as `YYYY-MM`.
pub fn month_of(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

/// Parses a 1-based page number of an HTML list (`?p=`).
pub fn parse_page_number(input: Option<&str>) -> Result<u64, WebError> {
    let Some(input) = input else { return Ok(1) };
    match input.parse::<u64>() {
        Ok(p) if (1..=100_000).contains(&p) => Ok(p),
        _ => Err(WebError::BadRequest {
            code: "bad_page",
            message: format!("{:?} is not a page number.", shorten(input)),
            hint: Some("Pages are numbered from 1: ?p=2 is the second page.".into()),
        }),
    }
}

/// A trending entry: what it is and why it is here.
#[derive(Debug, Clone)]
pub struct Trending {
    pub listed: Listed,
    pub score: TrendingScore,
}

/// The trending list as of `now`: entries of the [`trending::WINDOW_DAYS`]
/// days up to the latest day with entries (on or before `now`'s day),
/// ranked by [`trending::score`]; a paper listed on two days appears once,
/// with its better score. Empty when nothing is listed.
pub fn trending_now(store: &dyn Store, now: DateTime<Utc>) -> Result<Vec<Trending>, StoreError> {
    let Some(latest) = store.day_with_entries_on_or_before(now.date_naive())? else {
        return Ok(Vec::new());
    };
    let window = u64::try_from(trending::WINDOW_DAYS - 1).unwrap_or(0);
    let from = latest.checked_sub_days(Days::new(window)).unwrap_or(latest);
    let entries = store.entries(&EntryQuery {
        from,
        to: latest,
        submitter: None,
        order: ListOrder::Upvotes,
        offset: 0,
        limit: TRENDING_CANDIDATES,
    })?;
    Ok(rank_trending(entries, now))
}

/// Ranks `entries` by trending score, best first (ties: more upvotes, then
/// id), keeping each paper once.
pub fn rank_trending(entries: Vec<Listed>, now: DateTime<Utc>) -> Vec<Trending> {
    let mut ranked: Vec<Trending> = entries
        .into_iter()
        .map(|listed| {
            let score = trending::score(listed.upvotes, listed.comments, listed.entry.day, now);
            Trending { listed, score }
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.score
            .score
            .total_cmp(&a.score.score)
            .then(b.listed.upvotes.cmp(&a.listed.upvotes))
            .then_with(|| a.listed.paper.id.cmp(&b.listed.paper.id))
    });
    let mut seen = HashSet::with_capacity(ranked.len());
    ranked.retain(|t| seen.insert(t.listed.paper.id.clone()));
    ranked
}

/// Digits to a number; callers checked that `s` is all ASCII digits.
fn number(s: &str) -> u32 {
    s.bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0'))
}

/// What of a user's input an error message repeats: at most 40 characters.
pub fn shorten(input: &str) -> Cow<'_, str> {
    match input.char_indices().nth(40) {
        None => Cow::Borrowed(input),
        Some((cut, _)) => Cow::Owned(format!("{}…", &input[..cut])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test day")
    }

    #[test]
    fn days() {
        assert_eq!(parse_day("2025-06-10").ok(), Some(day("2025-06-10")));
        assert_eq!(parse_day("2024-02-29").ok(), Some(day("2024-02-29")));
        for bad in [
            "",
            "2025-6-10",
            "2025-06-1",
            "2025/06/10",
            "2025-13-01",
            "2025-02-30",
            "2023-02-29",
            "x025-06-10",
            "2025-06-10x",
            "+025-06-10",
            "２０２５-06-10",
        ] {
            let err = parse_day(bad).expect_err(bad);
            assert_eq!(err.code(), "bad_date", "{bad}");
            assert!(err.hint().is_some());
        }
        assert!(
            parse_day("2025-02-30")
                .unwrap_err()
                .to_string()
                .contains("no such day")
        );
    }

    #[test]
    fn weeks() {
        let check = |input: &str, from: &str, to: &str| {
            let p = parse_week(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!((p.from, p.to), (day(from), day(to)), "{input}");
        };
        check("2025-W24", "2025-06-09", "2025-06-15");
        check("2025-W01", "2024-12-30", "2025-01-05");
        check("2020-W53", "2020-12-28", "2021-01-03");
        check("2025-w02", "2025-01-06", "2025-01-12");
        for bad in [
            "2025-W00",
            "2025-W53",
            "2025-W54",
            "2025W24",
            "2025-24",
            "2025-W4",
            "2025-W024",
            "",
        ] {
            assert_eq!(parse_week(bad).expect_err(bad).code(), "bad_week", "{bad}");
        }
        assert!(
            parse_week("2025-W53")
                .unwrap_err()
                .to_string()
                .contains("2025 has no week 53")
        );
        assert_eq!(week_of(day("2025-01-01")), "2025-W01");
        assert_eq!(week_of(day("2021-01-03")), "2020-W53");
    }

    #[test]
    fn months() {
        let p = parse_month("2024-02").expect("month");
        assert_eq!((p.from, p.to), (day("2024-02-01"), day("2024-02-29")));
        let p = parse_month("2025-12").expect("month");
        assert_eq!((p.from, p.to), (day("2025-12-01"), day("2025-12-31")));
        for bad in ["2025-13", "2025-00", "2025-6", "2025-06-01", "202506", ""] {
            assert_eq!(
                parse_month(bad).expect_err(bad).code(),
                "bad_month",
                "{bad}"
            );
        }
        assert_eq!(month_of(day("2025-06-10")), "2025-06");
    }

    #[test]
    fn page_numbers() {
        assert_eq!(parse_page_number(None).ok(), Some(1));
        assert_eq!(parse_page_number(Some("3")).ok(), Some(3));
        for bad in ["0", "-1", "x", "", "1.5", "99999999999999999999"] {
            assert_eq!(
                parse_page_number(Some(bad)).expect_err(bad).code(),
                "bad_page",
                "{bad}"
            );
        }
    }

    fn listed(id: &str, on: &str, upvotes: u32, comments: u32) -> Listed {
        let id = paperboy_core::ArxivId::parse(id).expect("id").id;
        Listed {
            entry: paperboy_core::DailyEntry {
                paper_id: id.clone(),
                day: day(on),
                submitter: None,
                position: 0,
                submitted_at: None,
                num_comments: None,
            },
            paper: paperboy_core::Paper::new(id),
            upvotes,
            comments,
        }
    }

    #[test]
    fn trending_ranks_by_score_and_keeps_a_paper_once() {
        use chrono::TimeZone;
        let now = Utc.with_ymd_and_hms(2025, 6, 16, 12, 0, 0).unwrap();
        let ranked = rank_trending(
            vec![
                listed("2506.00001", "2025-06-10", 50, 0),
                listed("2506.00002", "2025-06-16", 3, 1),
                listed("2506.00001", "2025-06-15", 50, 0),
                listed("2506.00003", "2025-06-16", 3, 1),
                listed("2506.00004", "2025-06-12", 0, 0),
            ],
            now,
        );
        let order: Vec<(String, NaiveDate)> = ranked
            .iter()
            .map(|t| (t.listed.paper.id.to_string(), t.listed.entry.day))
            .collect();
        assert_eq!(
            order,
            [
                ("2506.00001".to_string(), day("2025-06-15")),
                ("2506.00002".to_string(), day("2025-06-16")),
                ("2506.00003".to_string(), day("2025-06-16")),
                ("2506.00004".to_string(), day("2025-06-12")),
            ]
        );
        assert_eq!(
            ranked[0].score,
            trending::score(50, 0, day("2025-06-15"), now)
        );
    }

    #[test]
    fn error_messages_do_not_repeat_huge_input() {
        let long = "9".repeat(5000);
        let msg = parse_day(&long).unwrap_err().to_string();
        assert!(msg.len() < 200, "{msg}");
    }
}
