//! A quick measure of `Listings` on SQLite, the calls behind every day, week
//! and month page: 10,000 synthetic papers (~1.2 KB abstracts) on 200 days
//! of 50 entries, with some users' votes, in a temporary file database; then
//! pages requested from 1 and 2 threads for a few seconds each. Timing lives
//! here, never in tests.
//!
//! `cargo run --release -p paperboy-store --example listing_speed [KEEP.sqlite]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use paperboy_core::{ArxivId, DailyEntry, NewUser, Paper, SourceRecord, Submitter};
use paperboy_store::{
    Accounts, EntryQuery, ListOrder, Listings, Participation, SqliteStore, Store,
};

const DAYS: u32 = 200;
const PER_DAY: u32 = 50;
const RUN: Duration = Duration::from_secs(3);

fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).expect("day")
}

fn record(i: u32) -> SourceRecord {
    let id = format!("24{:02}.{:05}", 1 + (i / 1000) % 12, i);
    let mut paper = Paper::new(ArxivId::parse(&id).expect("synthetic id").id);
    let b = &mut paper.biblio;
    b.version = Some(1);
    b.title = format!("A study of synthetic paper number {i} and its many properties");
    b.abstract_text = format!(
        "Paper {i}. {}",
        "We propose a method that improves results. ".repeat(28)
    );
    b.authors = (0..6).map(|a| format!("Author {a} of {i}")).collect();
    b.categories = vec!["cs.CL".into(), "cs.LG".into()];
    b.primary_category = Some("cs.CL".into());
    b.published = Utc
        .timestamp_opt(1_700_000_000 + i64::from(i) * 600, 0)
        .single();
    b.updated = b.published;
    let c = &mut paper.community;
    c.observed_at = b.published;
    c.upvotes = Some((i * 7919) % 300);
    c.github_repo = Some(format!("https://github.com/example/repo{i}"));
    c.ai_summary = Some("A short summary of what the paper does.".into());
    c.ai_keywords = vec!["llm".into(), "benchmark".into()];
    let entry = DailyEntry {
        paper_id: paper.id.clone(),
        day: first_day() + chrono::Duration::days(i64::from(i / PER_DAY)),
        submitter: Some(Submitter {
            name: format!("submitter{}", i % 20),
            fullname: Some("Some Body".into()),
            avatar_url: None,
        }),
        position: i % PER_DAY,
        submitted_at: b.published,
        num_comments: Some(i % 5),
    };
    SourceRecord {
        paper,
        entry: Some(entry),
    }
}

/// Requests per second of `request` from `threads` threads for [`RUN`].
fn measure(threads: usize, request: impl Fn(u64) + Send + Sync + 'static) -> f64 {
    let request = Arc::new(request);
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let request = Arc::clone(&request);
            std::thread::spawn(move || {
                let mut n = 0u64;
                while start.elapsed() < RUN {
                    request(n * 31 + t as u64);
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = workers.into_iter().map(|w| w.join().expect("worker")).sum();
    total as f64 / start.elapsed().as_secs_f64()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // An argument names a (new) database file to keep for a closer look.
    let dir = tempfile::tempdir()?;
    let path = std::env::args_os()
        .nth(1)
        .map_or_else(|| dir.path().join("speed.sqlite"), Into::into);
    let store = Arc::new(SqliteStore::open(&path)?);
    let records: Vec<SourceRecord> = (0..DAYS * PER_DAY).map(record).collect();
    for batch in records.chunks(5_000) {
        store.upsert(batch)?;
    }
    let now = Utc::now();
    let users: Vec<_> = (0..20)
        .map(|u| {
            store.create_user(
                &NewUser {
                    username: format!("user{u}"),
                    email: format!("user{u}@example.org"),
                    display_name: format!("User {u}"),
                    password_hash: "x".into(),
                    admin: false,
                },
                now,
            )
        })
        .collect::<Result<_, _>>()?;
    let votes = Instant::now();
    for (i, record) in records.iter().enumerate().step_by(7) {
        let user = &users[i % users.len()];
        store.set_upvote(user.id, &record.paper.id, true)?;
    }
    println!(
        "{} single upvotes in {:.2} s",
        records.len().div_ceil(7),
        votes.elapsed().as_secs_f64()
    );

    // "Recent" pages cycle over the last 5 days (what most visitors ask
    // for: the store remembers them until something changes); "any" pages
    // over all 200 (nearly every request reads the database).
    let day_of = |n: u64, days: u64| {
        first_day() + chrono::Duration::days((DAYS as u64 - 1 - n % days) as i64)
    };
    let pages: [(&str, u64, ListOrder, u64); 6] = [
        (
            "day page (50 entries + count), recent days",
            0,
            ListOrder::Upvotes,
            5,
        ),
        (
            "day page (50 entries + count), any day",
            0,
            ListOrder::Upvotes,
            200,
        ),
        (
            "day page by publication time, any day",
            0,
            ListOrder::Published,
            200,
        ),
        (
            "week page (first 30 of 350 + count), any week",
            6,
            ListOrder::Upvotes,
            190,
        ),
        (
            "month page (first 30 of 1500 + count), recent",
            29,
            ListOrder::Upvotes,
            5,
        ),
        (
            "month page (first 30 of 1500 + count), any",
            29,
            ListOrder::Upvotes,
            170,
        ),
    ];
    for (name, span, order, days) in pages {
        for threads in [1, 2] {
            let store = Arc::clone(&store);
            let rate = measure(threads, move |n| {
                let to = day_of(n, days);
                let query = EntryQuery {
                    from: to - chrono::Duration::days(span as i64),
                    to,
                    submitter: None,
                    order,
                    offset: 0,
                    limit: if span == 0 { 100 } else { 30 },
                };
                let listed = store.entries(&query).expect("entries");
                let count = store.count_entries(&query).expect("count");
                assert!(!listed.is_empty() && count > 0);
            });
            println!("{name}, {threads} thread(s): {rate:.0} requests/s");
        }
    }
    let store2 = Arc::clone(&store);
    let rate = measure(2, move |n| {
        let query = EntryQuery {
            from: first_day(),
            to: first_day() + chrono::Duration::days(i64::from(DAYS)),
            submitter: Some(format!("submitter{}", n % 20)),
            order: ListOrder::Upvotes,
            offset: 0,
            limit: 30,
        };
        store2.entries(&query).expect("entries");
        store2.count_entries(&query).expect("count");
    });
    println!("submitter page (first 30 of 500 + count), 2 threads: {rate:.0} requests/s");
    let store3 = Arc::clone(&store);
    let ids: Arc<Vec<ArxivId>> = Arc::new(records.iter().map(|r| r.paper.id.clone()).collect());
    let rate = measure(2, move |n| {
        let id = &ids[(n as usize * 7) % ids.len()];
        store3.paper_page(id).expect("page").expect("known");
    });
    println!("paper page, 2 threads: {rate:.0} requests/s");
    println!("stats: {:?}", store.stats()?);
    Ok(())
}
