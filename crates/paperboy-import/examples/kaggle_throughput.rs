//! Measures Kaggle JSON-lines parsing speed, either of the 200-line sample
//! repeated to N lines in memory (default 200,000) through `KaggleLines`, or
//! of a file (plain or gzip) through `open`.
//!
//! `cargo run --release -p paperboy-import --example kaggle_throughput [N | FILE]`

use std::path::Path;
use std::time::Instant;

use paperboy_import::kaggle::KaggleLines;
use paperboy_import::{ImportError, ParseOptions, Parsed};

fn main() {
    let arg = std::env::args().nth(1);
    let start = Instant::now();
    let (records, problems) = match arg.as_deref().map(|a| (a, a.parse::<usize>())) {
        Some((path, Err(_))) => {
            let file = paperboy_import::open(Path::new(path), None, &ParseOptions::default())
                .unwrap_or_else(|e| panic!("{e}"));
            count(file.iter)
        }
        Some((_, Ok(lines))) => count(KaggleLines::new(&repeated_sample(lines)[..], "memory")),
        None => count(KaggleLines::new(&repeated_sample(200_000)[..], "memory")),
    };
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{records} records, {problems} problems in {secs:.2} s: {:.0} lines/s",
        (records + problems) as f64 / secs
    );
}

fn repeated_sample(lines: usize) -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/arxiv/kaggle-snapshot/arxiv-metadata-oai-snapshot-first200-wanng-ide.jsonl"
    );
    let sample = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let per_copy = sample.iter().filter(|&&b| b == b'\n').count().max(1);
    sample.repeat(lines.div_ceil(per_copy))
}

fn count(items: impl Iterator<Item = Result<Parsed, ImportError>>) -> (u64, u64) {
    let (mut records, mut problems) = (0u64, 0u64);
    for item in items {
        match item {
            Ok(Parsed::Record(r)) => {
                records += 1;
                std::hint::black_box(r);
            }
            Ok(Parsed::Problem(_)) => problems += 1,
            Err(e) => panic!("{e}"),
        }
    }
    (records, problems)
}
