//! The text shapes in which both backends store times, days and lists, so
//! that their rows compare, sort and checksum alike (and `paperboy migrate`
//! copies them as they are): times as RFC 3339 UTC with milliseconds, days
//! as `YYYY-MM-DD`, lists as JSON arrays of strings, mail schedules as
//! their cadence, `HH:MM` and zone name.

use std::borrow::Cow;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, SecondsFormat, SubsecRound, Timelike, Utc};
use paperboy_core::mail::{Schedule, parse_send_time};
use paperboy_core::{ArxivId, DailyEntry, Paper};

use crate::StoreError;

/// A stored timestamp: RFC 3339, UTC, milliseconds (`2025-06-10T13:04:20.120Z`).
pub(crate) fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A stored curation day: `YYYY-MM-DD`.
pub(crate) fn format_day(day: NaiveDate) -> String {
    if (0..=9999).contains(&day.year()) {
        format!("{:04}-{:02}-{:02}", day.year(), day.month(), day.day())
    } else {
        day.format("%Y-%m-%d").to_string()
    }
}

/// Reads a stored curation day. Listings read one per row, so the stored
/// shape is read by hand; anything else goes to chrono, which says what is
/// wrong with it.
pub(crate) fn parse_day(text: &str) -> Result<NaiveDate, String> {
    fast_day(text.as_bytes()).map(Ok).unwrap_or_else(|| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| format!("{text:?}: {e}"))
    })
}

/// Reads a stored timestamp; the shape [`format_time`] writes is read by hand
/// (listings read several per row), anything else by chrono.
pub(crate) fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Some(time) = fast_time(text.as_bytes()) {
        return Ok(time);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{text:?}: {e}"))
}

/// The number written by the ASCII digits `digits`, `None` if any is not one.
fn digits(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

/// `YYYY-MM-DD`.
fn fast_day(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(&b[0..4])?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(&b[5..7])?, digits(&b[8..10])?)
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, as [`format_time`] writes it.
fn fast_time(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() != 24
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[23] != b'Z'
    {
        return None;
    }
    let day = fast_day(&b[..10])?;
    let time = NaiveTime::from_hms_milli_opt(
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
        digits(&b[20..23])?,
    )?;
    Some(day.and_time(time).and_utc())
}

/// Reads a stored JSON array of strings. What Paperboy writes (no escapes,
/// no spaces) is split by hand, one allocation per string; anything else goes
/// to serde_json, which also says what is wrong with it.
pub(crate) fn parse_list(text: &str) -> Result<Vec<String>, serde_json::Error> {
    fast_list(text).map_or_else(|| serde_json::from_str(text), Ok)
}

fn fast_list(text: &str) -> Option<Vec<String>> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    if inner.is_empty() {
        return Some(Vec::new());
    }
    // Without a backslash or a control character, every quote delimits a
    // string, so `"a","b"` splits at quotes into "", a, ",", b, "".
    if inner.bytes().any(|b| b == b'\\' || b < 0x20) {
        return None;
    }
    let quotes = inner.bytes().filter(|&b| b == b'"').count();
    let mut out = Vec::with_capacity(quotes / 2);
    let mut parts = inner.split('"');
    if !parts.next()?.is_empty() {
        return None;
    }
    loop {
        out.push(parts.next()?.to_owned());
        match parts.next()? {
            "," => {}
            "" => return parts.next().is_none().then_some(out),
            _ => return None,
        }
    }
}

/// A list as the JSON array it is stored as.
pub(crate) fn encode_list(
    paper_id: &ArxivId,
    field: &'static str,
    list: &[String],
) -> Result<String, StoreError> {
    serde_json::to_string(list).map_err(|source| StoreError::Encode {
        paper_id: paper_id.clone(),
        field,
        source,
    })
}

/// Whether a timestamp has precision beyond the stored milliseconds.
fn finer_than_millis(time: &chrono::DateTime<Utc>) -> bool {
    time.trunc_subsecs(3) != *time
}

/// The paper with its timestamps cut to milliseconds, as it will be stored;
/// borrowed when it already is (the common case).
pub(crate) fn paper_to_millis(paper: &Paper) -> Cow<'_, Paper> {
    let times = [
        paper.biblio.published,
        paper.biblio.updated,
        paper.community.observed_at,
    ];
    if !times.iter().flatten().any(finer_than_millis) {
        return Cow::Borrowed(paper);
    }
    let mut paper = paper.clone();
    for time in [
        &mut paper.biblio.published,
        &mut paper.biblio.updated,
        &mut paper.community.observed_at,
    ] {
        *time = time.map(|t| t.trunc_subsecs(3));
    }
    Cow::Owned(paper)
}

pub(crate) fn entry_to_millis(entry: &DailyEntry) -> Cow<'_, DailyEntry> {
    match entry.submitted_at {
        Some(t) if finer_than_millis(&t) => Cow::Owned(DailyEntry {
            submitted_at: Some(t.trunc_subsecs(3)),
            ..entry.clone()
        }),
        _ => Cow::Borrowed(entry),
    }
}

/// A schedule as its columns store it.
pub(crate) struct ScheduleValues {
    pub(crate) cadence: &'static str,
    pub(crate) send_at: String,
    pub(crate) zone: &'static str,
}

impl ScheduleValues {
    pub(crate) fn new(schedule: &Schedule) -> ScheduleValues {
        ScheduleValues {
            cadence: schedule.cadence.as_str(),
            send_at: format_send_at(schedule.send_at),
            zone: schedule.zone.name(),
        }
    }
}

/// `HH:MM`, as subscribers give it; seconds only in the odd case that a
/// time has them (never dropped silently).
pub(crate) fn format_send_at(time: NaiveTime) -> String {
    if time.second() == 0 {
        time.format("%H:%M").to_string()
    } else {
        time.format("%H:%M:%S").to_string()
    }
}

/// A stored send time ([`format_send_at`]).
pub(crate) fn parse_send_at(text: &str) -> Option<NaiveTime> {
    parse_send_time(text)
        .ok()
        .or_else(|| NaiveTime::parse_from_str(text, "%H:%M:%S").ok())
}

/// When a subscription confirmed (or changed) at `now` has its first digest
/// due, as stored; `None` for alerts only.
pub(crate) fn first_due(schedule: &Schedule, now: DateTime<Utc>) -> Option<String> {
    // Milliseconds, as stored: the instant read back is the one compared.
    schedule
        .next_after(now.trunc_subsecs(3))
        .map(|(_, due)| format_time(due))
}

#[cfg(test)]
mod tests {
    use chrono::SubsecRound;

    use super::*;

    /// The hand-written fast paths agree with chrono and serde_json on what
    /// Paperboy writes, and leave everything else to them.
    #[test]
    fn fast_paths_read_what_the_slow_ones_read() {
        for list in [
            "[]",
            "[\"\"]",
            "[\"a\"]",
            "[\"a\",\"b, c\",\"\",\"日本語 🚀\"]",
            "[\"with \\\"quotes\\\" and \\\\ \"]",
            "[\"a\", \"b\"]",
            "[ \"a\" ]",
        ] {
            let slow: Vec<String> = serde_json::from_str(list).expect(list);
            assert_eq!(parse_list(list).expect(list), slow, "{list}");
        }
        for bad in [
            "",
            "[",
            "[\"a\"",
            "[\"a\",]",
            "[1, 2]",
            "[\"a\"\"b\"]",
            "[\"a\",\"b\"",
            "{}",
            "[\"a\" \"b\"]",
        ] {
            assert!(parse_list(bad).is_err(), "{bad}");
        }
        let strings = ["a", "b, c", "", "\"q\"", "back\\slash", "tab\there", "日本"];
        let written = serde_json::to_string(&strings).expect("json");
        assert_eq!(parse_list(&written).expect("list"), strings);

        let time = Utc::now();
        let written = format_time(time);
        assert_eq!(parse_time(&written), Ok(time.trunc_subsecs(3)));
        assert_eq!(fast_time(written.as_bytes()), Some(time.trunc_subsecs(3)));
        assert_eq!(
            parse_time("2024-03-04T10:00:00+02:00")
                .map(format_time)
                .as_deref(),
            Ok("2024-03-04T08:00:00.000Z")
        );
        for bad in [
            "2024-03-04T25:00:00.000Z",
            "2024-02-30T10:00:00.000Z",
            "yesterday",
            "2024-03-04T10:00:0x.000Z",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }

        let day = NaiveDate::from_ymd_opt(2024, 3, 4).expect("day");
        assert_eq!(format_day(day), "2024-03-04");
        assert_eq!(parse_day("2024-03-04"), Ok(day));
        assert_eq!(
            parse_day(&format_day(
                NaiveDate::from_ymd_opt(12345, 1, 2).expect("day")
            )),
            Ok(NaiveDate::from_ymd_opt(12345, 1, 2).expect("day"))
        );
        for bad in ["2024-02-30", "2024/03/04", "2024-03-0a", "2024-13-01"] {
            assert!(parse_day(bad).is_err(), "{bad}");
        }
    }
}
