//! Embedding throughput on real abstracts: SciFact documents as Paperboy
//! embeds papers (title + ". " + abstract, cut at 256 tokens).
//!
//!     cargo run --release -p paperboy-embed --example throughput -- [N] [BATCH]
//!
//! Reads the model from PAPERBOY_MODEL_DIR (default ./paperboy-data/model; fill
//! it with `scripts/fetch-model`) and the corpus from ../shared/data. Compare
//! with `bench/st_throughput.py`, which times sentence-transformers on the
//! same texts.

use std::io::BufRead;
use std::path::PathBuf;
use std::time::Instant;

use paperboy_embed::{Embedder, MiniLm, document_text};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map_or(256, |a| a.parse().expect("N is a number"));
    let batch: usize = args
        .next()
        .map_or(16, |a| a.parse().expect("BATCH is a number"));
    let model_dir = std::env::var_os("PAPERBOY_MODEL_DIR")
        .map_or_else(|| PathBuf::from("paperboy-data/model"), PathBuf::from);
    let corpus = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/scifact/corpus.jsonl"
    );

    let texts: Vec<String> = std::io::BufReader::new(std::fs::File::open(corpus).expect("corpus"))
        .lines()
        .take(n)
        .map(|line| {
            let doc: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
            document_text(
                doc["title"].as_str().unwrap(),
                doc["text"].as_str().unwrap(),
            )
        })
        .collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();

    let started = Instant::now();
    let model = MiniLm::load(&model_dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .with_batch_size(batch);
    let load_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let tokens: usize = texts
        .iter()
        .map(|t| model.token_ids(t).unwrap().len())
        .sum();
    let tokenize_ms = started.elapsed().as_secs_f64() * 1e3 / texts.len() as f64;

    // Warm up (allocator, thread pool) on a few texts first.
    model.embed(&texts[..texts.len().min(8)]).unwrap();
    let started = Instant::now();
    let vectors = model.embed(&texts).unwrap();
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(vectors.len(), texts.len());
    println!(
        "rust: {} abstracts ({:.0} tokens avg, max 256), batch {batch}, {} threads: {:.1} abstracts/s ({secs:.1} s; model load {load_s:.2} s; tokenizing alone {tokenize_ms:.2} ms/abstract)",
        texts.len(),
        tokens as f64 / texts.len() as f64,
        candle_core::utils::get_num_threads(),
        texts.len() as f64 / secs,
    );
}
