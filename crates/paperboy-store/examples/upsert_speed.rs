//! A quick measure of `Store::upsert` on SQLite: 200,000 synthetic papers
//! shaped like Kaggle arXiv records (~1.2 KB abstract), in batches of 10,000,
//! into a temporary file database; then the same papers again (all
//! unchanged). Timing lives here, never in tests.
//!
//! `cargo run --release -p paperboy-store --example upsert_speed`

use std::time::Instant;

use chrono::{TimeZone, Utc};
use paperboy_core::{ArxivId, Paper, SourceRecord};
use paperboy_store::{BatchOutcome, SqliteStore, Store};

const PAPERS: u32 = 200_000;
const BATCH: u32 = 10_000;

fn paper(i: u32) -> Paper {
    let id = format!(
        "{:02}{:02}.{:05}",
        10 + i / 1_200_000,
        1 + (i / 100_000) % 12,
        i % 100_000
    );
    let mut paper = Paper::new(ArxivId::parse(&id).expect("synthetic id").id);
    let b = &mut paper.biblio;
    b.version = Some(1 + i % 3);
    b.title = format!("A study of synthetic paper number {i} and its many properties");
    b.abstract_text = format!(
        "Paper {i}. {}",
        "We propose a method that improves results. ".repeat(28)
    );
    b.authors = (0..5).map(|a| format!("Author {a} of {i}")).collect();
    b.categories = vec!["cs.CL".into(), "cs.LG".into()];
    b.primary_category = Some("cs.CL".into());
    b.published = Utc
        .timestamp_opt(1_500_000_000 + i64::from(i) * 60, 0)
        .single();
    b.updated = b.published;
    b.comments = Some("10 pages".into());
    b.doi = (i % 4 == 1).then(|| format!("10.1000/{i}"));
    b.license = Some("http://creativecommons.org/licenses/by/4.0/".into());
    paper
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&dir.path().join("speed.sqlite"))?;
    let batches: Vec<Vec<SourceRecord>> = (0..PAPERS / BATCH)
        .map(|b| {
            (b * BATCH..(b + 1) * BATCH)
                .map(|i| SourceRecord {
                    paper: paper(i),
                    entry: None,
                })
                .collect()
        })
        .collect();
    let abstract_len = batches[0][0].paper.biblio.abstract_text.len();

    for pass in ["new papers", "same papers again"] {
        let start = Instant::now();
        let mut outcome = BatchOutcome::default();
        for batch in &batches {
            outcome += store.upsert(batch)?;
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{pass}: {} papers ({abstract_len} B abstracts) in {secs:.2} s = {:.0} papers/s  {outcome:?}",
            outcome.records(),
            f64::from(PAPERS) / secs,
        );
    }
    let size = std::fs::metadata(dir.path().join("speed.sqlite"))?.len();
    println!(
        "database file: {:.0} MB (WAL not counted)",
        size as f64 / 1e6
    );
    Ok(())
}
