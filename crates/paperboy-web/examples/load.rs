//! A rough throughput check of the hot pages: imports the real HF daily
//! papers (`shared/data/hf-daily-papers`, ~10k papers) into a temporary
//! SQLite store, serves the site on 127.0.0.1 with a runtime of
//! `--server-threads` workers, and hammers one path at a time with
//! keep-alive HTTP/1.1 connections for a few seconds.
//!
//! ```text
//! cargo run --release -p paperboy-web --example load -- [--server-threads 2] [--connections 64] [--secs 5]
//! ```
//!
//! The load generator runs on the same machine, so the figures are a lower
//! bound of what the server alone could do.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use paperboy_import::{ParseOptions, Parsed};
use paperboy_store::{Listings, SqliteStore, Store};
use paperboy_web::{AppState, WebConfig};
use std::io::{BufRead, BufReader, Read, Write};

const PATHS: [&str; 4] = [
    "/papers/date/2025-06-10",
    "/api/daily_papers?date=2025-06-10",
    "/papers/2506.08007",
    "/papers/trending",
];

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<()> {
    let server_threads = arg("--server-threads", 2) as usize;
    let connections = arg("--connections", 64) as usize;
    let secs = arg("--secs", 5);

    let dir = tempfile::tempdir()?;
    let store = Arc::new(SqliteStore::open(&dir.path().join("paperboy.db"))?);
    let data = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/hf-daily-papers"
    ));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&data)
        .with_context(|| format!("reading {}", data.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let started = Instant::now();
    for file in &files {
        let opened = paperboy_import::open(file, None, &ParseOptions::default())?;
        let records: Vec<_> = opened
            .iter
            .filter_map(|p| match p {
                Ok(Parsed::Record(r)) => Some(*r),
                _ => None,
            })
            .collect();
        store.upsert(&records)?;
    }
    let stats = store.stats()?;
    eprintln!(
        "imported {} papers, {} entries from {} files in {:.1} s",
        stats.papers,
        stats.daily_entries,
        files.len(),
        started.elapsed().as_secs_f64()
    );

    // Where the time goes: the store's share of the day list.
    let day = chrono::NaiveDate::from_ymd_opt(2025, 6, 10).context("day")?;
    let query = paperboy_store::EntryQuery {
        from: day,
        to: day,
        submitter: None,
        order: paperboy_store::ListOrder::Upvotes,
        offset: 0,
        limit: 50,
    };
    let t0 = Instant::now();
    let mut listed = Vec::new();
    for _ in 0..1000 {
        listed = store.entries(&query)?;
    }
    let per_query = t0.elapsed() / 1000;
    let t0 = Instant::now();
    for _ in 0..1000 {
        let items: Vec<_> = listed
            .iter()
            .map(paperboy_web::api::DailyItem::new)
            .collect();
        std::hint::black_box(serde_json::to_vec(&items)?);
    }
    eprintln!(
        "store.entries(one day, {} entries): {per_query:?}; its JSON: {:?}",
        listed.len(),
        t0.elapsed() / 1000
    );

    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let state = AppState::new(store, WebConfig::default());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(server_threads)
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            axum::serve(listener, paperboy_web::router(state))
                .await
                .expect("serve");
        });
    });

    // Give the server a moment to start.
    std::thread::sleep(Duration::from_millis(200));
    for path in PATHS {
        let done = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..connections)
            .map(|_| {
                let (done, stop) = (done.clone(), stop.clone());
                std::thread::spawn(move || hammer(addr, path, &done, &stop))
            })
            .collect();
        // Warm up, then measure.
        std::thread::sleep(Duration::from_millis(500));
        let before = done.load(Ordering::Relaxed);
        let t0 = Instant::now();
        std::thread::sleep(Duration::from_secs(secs));
        let n = done.load(Ordering::Relaxed) - before;
        let elapsed = t0.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            w.join()
                .map_err(|_| anyhow::anyhow!("a load thread panicked"))??;
        }
        println!("{path:40} {:>8.0} req/s", n as f64 / elapsed);
    }
    Ok(())
}

/// Requests `path` over one keep-alive connection until `stop`.
fn hammer(
    addr: std::net::SocketAddr,
    path: &str,
    done: &AtomicU64,
    stop: &AtomicBool,
) -> Result<()> {
    let stream = std::net::TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    let mut write = stream.try_clone()?;
    let mut read = BufReader::new(stream);
    let request = format!("GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n");
    let mut line = String::new();
    let mut body = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        write.write_all(request.as_bytes())?;
        let mut length = None;
        let mut first = true;
        loop {
            line.clear();
            read.read_line(&mut line)?;
            if first {
                if !line.starts_with("HTTP/1.1 200") {
                    bail!("{path}: {line}");
                }
                first = false;
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let length = length.context("no content-length")?;
        body.resize(length, 0);
        read.read_exact(&mut body)?;
        done.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}
