//! The HF day fetch against replayed `api/daily_papers` responses.

use chrono::NaiveDate;
use paperboy_import::Parsed;
use paperboy_sync::{PoliteClient, SyncError, fetch_hf_day};

use crate::server::{Reply, TestServer, data, quick};

/// Serves `hf-daily-papers/D.json` for `GET /api/daily_papers?date=D…`.
fn hf_server() -> TestServer {
    TestServer::start(|_, url| {
        let Some(query) = url.strip_prefix("/api/daily_papers?") else {
            return Reply::status(404, "not found");
        };
        match query.split('&').find_map(|kv| kv.strip_prefix("date=")) {
            Some(date) => Reply::ok(data(&format!("hf-daily-papers/{date}.json")))
                .header("Content-Type", "application/json"),
            None => Reply::status(400, "no date"),
        }
    })
}

fn array_len(rel: &str) -> usize {
    let value: serde_json::Value = serde_json::from_slice(&data(rel)).unwrap();
    match value {
        serde_json::Value::Array(items) => items.len(),
        other => other["data"].as_array().unwrap().len(),
    }
}

fn check_day(date: &str) {
    let server = hf_server();
    let day = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    let items = fetch_hf_day(&mut PoliteClient::new(quick()), &server.base, day).unwrap();

    assert_eq!(
        server.urls(),
        [format!("/api/daily_papers?date={date}&limit=100")]
    );
    assert_eq!(
        items.len(),
        array_len(&format!("hf-daily-papers/{date}.json")),
        "{date}"
    );
    for item in &items {
        let Parsed::Record(record) = item else {
            panic!("{date}: {item:?}")
        };
        let entry = record
            .entry
            .as_ref()
            .unwrap_or_else(|| panic!("{date}: no daily entry for {}", record.paper.id));
        assert_eq!(entry.day, day, "{}", record.paper.id);
        assert_eq!(entry.paper_id, record.paper.id);
    }
}

#[test]
fn fetches_a_day_and_dates_every_entry_on_it() {
    check_day("2026-08-21");
}

/// 2024-12-11 holds Python-repr strings instead of objects.
#[test]
fn fetches_a_day_of_repr_strings() {
    check_day("2024-12-11");
}

#[test]
fn a_day_hf_does_not_have_is_an_http_error() {
    let server = TestServer::start(|_, _| Reply::status(404, "{\"error\":\"Not Found\"}"));
    let day = NaiveDate::from_ymd_opt(2026, 8, 22).unwrap();
    let err = fetch_hf_day(&mut PoliteClient::new(quick()), &server.base, day).unwrap_err();
    assert!(
        matches!(&err, SyncError::Http { status: 404, .. }),
        "{err:?}"
    );
}
