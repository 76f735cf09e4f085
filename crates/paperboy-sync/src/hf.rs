//! Hugging Face's `GET /api/daily_papers?date=D`: the Daily Papers list of one
//! curation day, fetched through the [`PoliteClient`] and parsed by
//! `paperboy_import::hf` with that day as the entries' day.
//!
//! Fetching and parsing only: storing the records is the caller's (no
//! database here), and choosing the day is the binary's (no CLI here).

use chrono::NaiveDate;
use paperboy_import::{ParseOptions, Parsed, hf};

use crate::{PoliteClient, SyncError, query};

/// The Hugging Face Hub.
pub const HF_BASE_URL: &str = "https://huggingface.co";

/// Items per response we ask for: the API's maximum. Its default, 50, would
/// cut a busy day's list short (the recorded data has days of exactly 50).
const PAGE_LIMIT: &str = "100";

/// The Daily Papers list of `day` from `base_url` (such as [`HF_BASE_URL`]).
/// Every record's entry is on `day`, the day asked for, even when HF's own
/// timestamp is the evening before.
pub fn fetch_hf_day(
    client: &mut PoliteClient,
    base_url: &str,
    day: NaiveDate,
) -> Result<Vec<Parsed>, SyncError> {
    let url = day_url(base_url, day);
    let body = client.get(&url)?;
    let items = hf::parse_day(&body, &ParseOptions { day: Some(day) })?;
    if items.len() >= 100 {
        tracing::warn!(%day, items = items.len(), "HF returned a full page; the day's list may be longer");
    }
    Ok(items)
}

fn day_url(base_url: &str, day: NaiveDate) -> String {
    let date = day.format("%Y-%m-%d").to_string();
    let endpoint = format!("{}/api/daily_papers", base_url.trim_end_matches('/'));
    query::url_with(&endpoint, &[("date", &date), ("limit", PAGE_LIMIT)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_of_a_day() {
        let day = NaiveDate::from_ymd_opt(2026, 8, 21).unwrap();
        assert_eq!(
            day_url("https://huggingface.co", day),
            "https://huggingface.co/api/daily_papers?date=2026-08-21&limit=100"
        );
        assert_eq!(
            day_url("http://127.0.0.1:9/", day),
            "http://127.0.0.1:9/api/daily_papers?date=2026-08-21&limit=100"
        );
    }
}
