//! `paperboy bench …`: prints measured figures. Targets live in
//! docs/benchmarks.md, never in tests.

pub mod backends;
pub mod digest;
pub mod load;
pub mod quality;
pub mod scale;

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use paperboy_import::{ParseOptions, Parsed};
use paperboy_store::{SqliteStore, Store};

use crate::import::{ImportRequest, import_files};
use crate::progress::Progress;

/// Writes `lines` Kaggle snapshot lines shaped like the real `sample`: each
/// line is a sample record with a fresh unique new-style id and its title
/// words rotated, so no two papers are identical.
pub fn generate_kaggle(sample: &Path, lines: usize, out: &Path) -> anyhow::Result<u64> {
    let reader = BufReader::new(
        File::open(sample).with_context(|| format!("cannot open sample {}", sample.display()))?,
    );
    let mut records = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("{}:{}: cannot read", sample.display(), n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&line)
            .with_context(|| format!("{}:{}: not a JSON object", sample.display(), n + 1))?;
        records.push(value);
    }
    if records.is_empty() {
        bail!("{}: no records to take shapes from", sample.display());
    }
    let mut writer = BufWriter::with_capacity(
        1 << 20,
        File::create(out).with_context(|| format!("cannot create {}", out.display()))?,
    );
    let mut bytes = 0u64;
    for i in 0..lines {
        let mut record = records[i % records.len()].clone();
        // 100,000 ids a month from 2001-01 on: 5-digit new-style ids, all distinct.
        let month = i / 100_000;
        let id = format!(
            "{:02}{:02}.{:05}",
            20 + month / 12,
            1 + month % 12,
            i % 100_000
        );
        record.insert("id".into(), id.into());
        if let Some(serde_json::Value::String(title)) = record.get_mut("title") {
            let mut words: Vec<&str> = title.split(' ').collect();
            let k = i / records.len() % words.len().max(1);
            words.rotate_left(k);
            *title = words.join(" ");
        }
        let line = serde_json::to_string(&record)?;
        bytes += line.len() as u64 + 1;
        writer.write_all(line.as_bytes())?;
        writer.write_all(b"\n")?;
    }
    writer.flush()?;
    Ok(bytes)
}

pub struct ImportBench {
    pub lines: usize,
    pub sample: PathBuf,
    pub batch_size: usize,
    pub workdir: Option<PathBuf>,
}

pub fn bench_import(b: ImportBench) -> anyhow::Result<()> {
    let temp;
    let dir = match &b.workdir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let input = dir.join("bench-kaggle.jsonl");
    let db = dir.join("bench.db");
    for stale in ["bench.db", "bench.db-wal", "bench.db-shm"] {
        let _ = std::fs::remove_file(dir.join(stale));
    }
    let t = Instant::now();
    let bytes = generate_kaggle(&b.sample, b.lines, &input)?;
    println!(
        "generated {} lines ({:.0} MB) of Kaggle JSON lines in {:.1} s",
        b.lines,
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let mut parsed = 0u64;
    for item in paperboy_import::open(&input, None, &ParseOptions::default())?.iter {
        if let Parsed::Record(_) = item? {
            parsed += 1;
        }
    }
    let parse_secs = t.elapsed().as_secs_f64();
    println!(
        "parse only:       {parsed} papers in {parse_secs:.2} s = {:.0} papers/s",
        parsed as f64 / parse_secs
    );

    let store = SqliteStore::open(&db)?;
    let t = Instant::now();
    let summary = import_files(
        &store,
        ImportRequest {
            paths: std::slice::from_ref(&input),
            format: None,
            options: ParseOptions::default(),
            batch_size: b.batch_size,
        },
        &mut Progress::Silent,
    )?;
    let secs = t.elapsed().as_secs_f64();
    let stats = store.stats()?;
    println!(
        "import (parse + SQLite, batch {}): {} papers in {secs:.2} s = {:.0} papers/s",
        b.batch_size,
        summary.added,
        summary.added as f64 / secs
    );
    let db_bytes: u64 = ["bench.db", "bench.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "store: {} papers, database {:.0} MB",
        stats.papers,
        db_bytes as f64 / 1e6
    );
    if let Some(kb) = peak_rss_kb() {
        println!("peak RSS: {:.0} MB", kb as f64 / 1024.0);
    }
    if stats.papers != b.lines as u64 || summary.skipped != 0 {
        bail!(
            "expected {} papers and no problems, got {} papers, {} skipped",
            b.lines,
            stats.papers,
            summary.skipped
        );
    }
    Ok(())
}

/// Peak resident memory of this process (Linux), in KiB.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// What `paperboy bench search` measures.
pub struct SearchBench {
    /// A folder of HF daily_papers JSON files (the catalog).
    pub catalog: PathBuf,
    /// A CSV with a `search string cleaned` column (the query mix).
    pub queries: PathBuf,
    /// Results per query, snippets included.
    pub limit: usize,
}

/// Imports the catalog into a fresh temporary store, builds the keyword
/// index and prints the latency of each query of the mix (one thread, warm
/// index, snippets included): p50, p99, max.
pub fn bench_search(bench: SearchBench) -> anyhow::Result<()> {
    let queries = read_query_mix(&bench.queries)?;
    let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
    let store = SqliteStore::open(&dir.path().join("paperboy.db"))?;
    let files = json_files(&bench.catalog)?;
    // The import pipeline itself, quietly: the bench times search, not this.
    import_files(
        &store,
        ImportRequest {
            paths: &files,
            format: None,
            options: ParseOptions::default(),
            batch_size: 5_000,
        },
        &mut Progress::Silent,
    )?;
    let papers = store.stats()?.papers;
    let started = Instant::now();
    let index = paperboy_search::KeywordIndex::open(&dir.path().join("index/keyword"))?;
    index.catch_up(&store)?;
    let build = started.elapsed();
    println!(
        "keyword index: {papers} papers from {} files, built in {:.2} s",
        files.len(),
        build.as_secs_f64()
    );
    let mut micros = Vec::with_capacity(queries.len());
    let mut empty = 0usize;
    for query in &queries {
        let request = paperboy_search::SearchRequest {
            query: query.clone(),
            limit: bench.limit,
            ..paperboy_search::SearchRequest::default()
        };
        let started = Instant::now();
        let results = index.search(&request)?;
        micros.push(started.elapsed().as_micros() as u64);
        if results.total == 0 {
            empty += 1;
        }
    }
    micros.sort_unstable();
    let at = |q: f64| {
        let i = ((micros.len() as f64 * q).ceil() as usize).clamp(1, micros.len()) - 1;
        micros[i] as f64 / 1000.0
    };
    println!(
        "keyword search, {} queries (top {}, snippets): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {empty} found nothing",
        micros.len(),
        bench.limit,
        at(0.50),
        at(0.99),
        at(1.0)
    );
    Ok(())
}

/// The `*.json` files of a folder (e.g. the HF daily files), sorted.
pub(crate) fn json_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// The `search string cleaned` column of a CSV (quoted fields allowed), one
/// query per row, empty ones dropped.
fn read_query_mix(path: &Path) -> anyhow::Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut rows = csv_rows(text.trim_start_matches('\u{feff}'));
    let header = rows
        .next()
        .with_context(|| format!("{}: empty", path.display()))?;
    let column = header
        .iter()
        .position(|h| h == "search string cleaned")
        .with_context(|| format!("{}: no `search string cleaned` column", path.display()))?;
    let queries: Vec<String> = rows
        .filter_map(|row| row.get(column).cloned())
        .filter(|q| !q.trim().is_empty())
        .collect();
    if queries.is_empty() {
        bail!("{}: no queries", path.display());
    }
    Ok(queries)
}

/// Rows of RFC 4180 CSV: fields split on commas, `"quoted, fields"` with
/// `""` for a quote, rows on line breaks outside quotes.
fn csv_rows(text: &str) -> impl Iterator<Item = Vec<String>> + '_ {
    let mut chars = text.chars().peekable();
    std::iter::from_fn(move || {
        chars.peek()?;
        let mut row = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                ('"', true) => quoted = false,
                ('"', false) if field.is_empty() => quoted = true,
                (',', false) => row.push(std::mem::take(&mut field)),
                ('\n', false) => break,
                ('\r', false) => {}
                (c, _) => field.push(c),
            }
        }
        row.push(field);
        Some(row)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_handle_quotes() {
        let rows: Vec<Vec<String>> = csv_rows("a,b\n\"x, y\",\"say \"\"hi\"\"\"\r\n,z\n").collect();
        assert_eq!(
            rows,
            [
                vec!["a".to_string(), "b".into()],
                vec!["x, y".into(), "say \"hi\"".into()],
                vec!["".into(), "z".into()],
            ]
        );
    }
}
