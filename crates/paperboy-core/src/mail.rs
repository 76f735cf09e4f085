//! Mail subscriptions as rules: who asked for which digest, when it is due
//! in the subscriber's own time zone, and which curation days it covers.
//!
//! A digest goes out at the subscriber's local send time: a **daily** digest
//! on weekdays (Monday's covers Friday to Sunday, so no day is skipped and
//! none is sent twice), a **weekly** digest on Mondays (the seven days
//! before). Each sending is a [`Period`] with a stable key, from which the
//! mail's Message-ID is derived: whatever happens, one period is one message.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use crate::account::{AccountRuleError, normalize_email};

/// A subscription's key in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionId(pub i64);

/// A saved search's key in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SavedSearchId(pub i64);

/// A queued message's key in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub i64);

/// A checked, normalised (trimmed, lower-case) email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Checks and normalises an address (see [`normalize_email`]).
    pub fn parse(text: &str) -> Result<EmailAddress, AccountRuleError> {
        normalize_email(text).map(EmailAddress)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How often a subscriber gets a digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cadence {
    /// Monday to Friday.
    Daily,
    /// Mondays, covering the week before.
    Weekly,
    /// No digest: only saved-search alerts go to this address.
    AlertsOnly,
}

impl Cadence {
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Daily => "daily",
            Cadence::Weekly => "weekly",
            Cadence::AlertsOnly => "alerts",
        }
    }

    pub fn parse(text: &str) -> Result<Cadence, MailRuleError> {
        match text {
            "daily" => Ok(Cadence::Daily),
            "weekly" => Ok(Cadence::Weekly),
            "alerts" => Ok(Cadence::AlertsOnly),
            other => Err(MailRuleError::Cadence(other.chars().take(40).collect())),
        }
    }
}

/// Why a subscription setting is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailRuleError {
    #[error("how often is daily, weekly or alerts, not {0:?}")]
    Cadence(String),
    #[error("{0:?} is not a time zone; use a name like Europe/Berlin or America/New_York")]
    TimeZone(String),
    #[error("{0:?} is not a time of day; use HH:MM, e.g. 08:00")]
    SendTime(String),
    #[error("a digest has {min} to {max} papers, not {0}", min = PAPERS_MIN, max = PAPERS_MAX)]
    Papers(u32),
}

/// Fewest and most papers a digest may carry.
pub const PAPERS_MIN: u32 = 1;
pub const PAPERS_MAX: u32 = 50;
/// Papers in a digest unless the subscriber says otherwise.
pub const PAPERS_DEFAULT: u32 = 10;

/// Checks the number of papers a subscriber asked for.
pub fn check_papers(papers: u32) -> Result<u32, MailRuleError> {
    if (PAPERS_MIN..=PAPERS_MAX).contains(&papers) {
        Ok(papers)
    } else {
        Err(MailRuleError::Papers(papers))
    }
}

/// Parses an IANA time zone name (`Europe/Berlin`, `UTC`).
pub fn parse_zone(text: &str) -> Result<Tz, MailRuleError> {
    text.trim()
        .parse::<Tz>()
        .map_err(|_| MailRuleError::TimeZone(text.chars().take(60).collect()))
}

/// Parses a send time, `HH:MM` (24 hours).
pub fn parse_send_time(text: &str) -> Result<NaiveTime, MailRuleError> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M")
        .map_err(|_| MailRuleError::SendTime(text.chars().take(20).collect()))
}

/// When a subscriber's digests go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub cadence: Cadence,
    /// Local time of day in `zone`.
    pub send_at: NaiveTime,
    pub zone: Tz,
}

impl Default for Schedule {
    /// Daily at 08:00 UTC.
    fn default() -> Schedule {
        Schedule {
            cadence: Cadence::Daily,
            send_at: NaiveTime::from_hms_opt(8, 0, 0).expect("valid time"),
            zone: Tz::UTC,
        }
    }
}

/// One sending of a digest: the local day it goes out and the curation days
/// it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    pub cadence: Cadence,
    /// The subscriber's local date on which it is sent.
    pub send_day: NaiveDate,
    /// The first and last curation day it covers (inclusive).
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

impl Period {
    /// A stable name: `daily-2026-11-30`, `weekly-2026-11-30`.
    pub fn key(&self) -> String {
        format!("{}-{}", self.cadence.as_str(), self.send_day)
    }

    /// Parses [`Period::key`] back (the days covered follow from it).
    pub fn from_key(key: &str) -> Option<Period> {
        let (cadence, day) = key.split_once('-')?;
        let cadence = Cadence::parse(cadence).ok()?;
        let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
        period_on(cadence, day)
    }
}

/// The period sent on local date `day`, `None` when `cadence` sends nothing
/// that day.
pub fn period_on(cadence: Cadence, day: NaiveDate) -> Option<Period> {
    match cadence {
        Cadence::AlertsOnly => None,
        Cadence::Daily => {
            let back = match day.weekday() {
                Weekday::Sat | Weekday::Sun => return None,
                // Monday's digest covers Friday, Saturday and Sunday.
                Weekday::Mon => 3,
                _ => 1,
            };
            Some(Period {
                cadence,
                send_day: day,
                first_day: day - Duration::days(back),
                last_day: day - Duration::days(1),
            })
        }
        Cadence::Weekly => (day.weekday() == Weekday::Mon).then(|| Period {
            cadence,
            send_day: day,
            first_day: day - Duration::days(7),
            last_day: day - Duration::days(1),
        }),
    }
}

impl Schedule {
    /// The UTC instant at which `period` is due for this schedule.
    ///
    /// A local send time that does not exist that day (clocks jump forward)
    /// moves to the first local time after the gap; one that occurs twice
    /// (clocks go back) is the earlier.
    pub fn due_at(&self, period: &Period) -> DateTime<Utc> {
        let local = period.send_day.and_time(self.send_at);
        let mut probe = local;
        for _ in 0..=4 {
            if let Some(at) = self.zone.from_local_datetime(&probe).earliest() {
                return at.with_timezone(&Utc);
            }
            probe += Duration::minutes(30);
        }
        // No zone has a gap longer than two hours; read the time as UTC.
        Utc.from_utc_datetime(&local)
    }

    /// The first period due strictly after `after`; `None` for
    /// [`Cadence::AlertsOnly`].
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<(Period, DateTime<Utc>)> {
        let start = after.with_timezone(&self.zone).date_naive() - Duration::days(1);
        (0..16).find_map(|offset| {
            let day = start + Duration::days(offset);
            let period = period_on(self.cadence, day)?;
            let due = self.due_at(&period);
            (due > after).then_some((period, due))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn schedule(cadence: Cadence, time: &str, zone: &str) -> Schedule {
        Schedule {
            cadence,
            send_at: parse_send_time(time).unwrap(),
            zone: parse_zone(zone).unwrap(),
        }
    }

    #[test]
    fn daily_periods_cover_every_day_once() {
        // 2026-11-30 is a Monday.
        let mut covered = Vec::new();
        let mut d = day("2026-11-30");
        while d < day("2026-12-15") {
            if let Some(p) = period_on(Cadence::Daily, d) {
                let mut c = p.first_day;
                while c <= p.last_day {
                    covered.push(c);
                    c += Duration::days(1);
                }
            }
            d += Duration::days(1);
        }
        // Fri 27 Nov (covered by Monday 30th) to Sun 13 Dec (by Monday 14th).
        let expected: Vec<NaiveDate> = (0..17)
            .map(|i| day("2026-11-27") + Duration::days(i))
            .collect();
        assert_eq!(covered, expected);
        assert_eq!(period_on(Cadence::Daily, day("2026-12-05")), None);
    }

    #[test]
    fn weekly_is_on_mondays_for_the_week_before() {
        let p = period_on(Cadence::Weekly, day("2026-11-30")).unwrap();
        assert_eq!(
            (p.first_day, p.last_day),
            (day("2026-11-23"), day("2026-11-29"))
        );
        assert_eq!(period_on(Cadence::Weekly, day("2026-12-01")), None);
        assert_eq!(Period::from_key(&p.key()), Some(p));
        assert_eq!(p.key(), "weekly-2026-11-30");
    }

    #[test]
    fn due_in_the_subscribers_zone() {
        let tokyo = schedule(Cadence::Daily, "08:00", "Asia/Tokyo");
        let new_york = schedule(Cadence::Daily, "08:00", "America/New_York");
        let now = utc("2026-11-30T00:00:00Z"); // Monday 09:00 in Tokyo
        let (p, at) = tokyo.next_after(now).unwrap();
        assert_eq!(p.send_day, day("2026-12-01"));
        assert_eq!(at, utc("2026-11-30T23:00:00Z"));
        let (p, at) = new_york.next_after(now).unwrap();
        assert_eq!(p.send_day, day("2026-11-30"));
        assert_eq!(at, utc("2026-11-30T13:00:00Z"));
        // Friday evening: the next daily is Monday's.
        let (p, _) = new_york.next_after(utc("2026-12-04T20:00:00Z")).unwrap();
        assert_eq!(p.send_day, day("2026-12-07"));
        assert_eq!(
            schedule(Cadence::AlertsOnly, "08:00", "UTC").next_after(now),
            None
        );
    }

    #[test]
    fn daylight_saving_gaps_and_overlaps() {
        // Europe/Berlin: 2026-03-29 02:00 → 03:00; 2026-10-25 03:00 → 02:00.
        let s = schedule(Cadence::Daily, "02:30", "Europe/Berlin");
        let on = |d: &str| Period {
            cadence: Cadence::Daily,
            send_day: day(d),
            first_day: day(d),
            last_day: day(d),
        };
        // 02:30 does not exist: the first local time after the gap.
        assert_eq!(s.due_at(&on("2026-03-29")), utc("2026-03-29T01:00:00Z"));
        // 02:30 happens twice: the earlier.
        assert_eq!(s.due_at(&on("2026-10-25")), utc("2026-10-25T00:30:00Z"));
        // Around the change, consecutive dues follow the local clock.
        let (p, at) = s.next_after(utc("2026-03-27T00:00:00Z")).unwrap();
        assert_eq!(p.send_day, day("2026-03-27"));
        assert_eq!(at, utc("2026-03-27T01:30:00Z"));
        let (p, at) = s.next_after(at).unwrap();
        assert_eq!(p.send_day, day("2026-03-30"));
        assert_eq!(at, utc("2026-03-30T00:30:00Z"));
    }

    #[test]
    fn settings_are_checked() {
        assert!(parse_zone("Mars/Olympus").is_err());
        assert_eq!(parse_zone("UTC"), Ok(Tz::UTC));
        assert!(parse_send_time("25:00").is_err());
        assert!(parse_send_time("8am").is_err());
        assert_eq!(check_papers(0), Err(MailRuleError::Papers(0)));
        assert_eq!(check_papers(10), Ok(10));
        assert!(Cadence::parse("hourly").is_err());
        assert_eq!(
            EmailAddress::parse(" Ada@Example.ORG ").unwrap().domain(),
            "example.org"
        );
    }
}
