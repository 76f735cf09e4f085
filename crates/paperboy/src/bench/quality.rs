//! `paperboy bench quality DIR`: search quality on a BEIR-layout data set.
//! Loads the corpus into a fresh store, embeds it with the real model,
//! builds both indexes, runs every judged query with each method and prints
//! nDCG@10, Recall@100 and MRR@10 per method.
//!
//! `--vectors FILE` keeps the corpus's vectors in a file between runs (the
//! model needs minutes for a few thousand documents); `--sweep` also prints
//! hybrid search at fixed dense weights from 0 to 1, the tuning table.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::Context;
use paperboy_search::{FusionParams, Method, SearchEngine, SearchRequest};
use paperboy_store::{SqliteStore, Store, Vectors};

use crate::config::Config;
use crate::embed::{self, EmbedJob, MODEL};
use crate::progress::Progress;
use crate::quality::beir::{BeirDir, IdMap};
use crate::quality::metrics::{self, Cutoffs, Evaluation, Qrels};

/// What `paperboy bench quality` runs.
pub struct QualityBench {
    pub dir: PathBuf,
    /// The qrels split (default: `test` when there is one, else the first).
    pub split: Option<String>,
    pub model_dir: PathBuf,
    /// Reuse (and save) the corpus's vectors here.
    pub vectors: Option<PathBuf>,
    /// Also print hybrid search at fixed dense weights.
    pub sweep: bool,
}

/// Results per query: enough for Recall@100.
const DEPTH: usize = 100;

pub fn bench_quality(bench: QualityBench) -> anyhow::Result<()> {
    let set = BeirDir::open(&bench.dir)?;
    let split = bench
        .split
        .clone()
        .unwrap_or_else(|| set.default_split().to_string());
    let qrels = set.qrels(Some(&split))?;
    let queries: Vec<(String, String)> = set
        .queries()?
        .into_iter()
        .filter(|q| qrels.contains_key(&q.id))
        .map(|q| (q.id, q.text))
        .collect();

    let temp = tempfile::tempdir().context("cannot make a temporary directory")?;
    let config = Config {
        data_dir: temp.path().to_path_buf(),
        ..Config::default()
    };
    let store = SqliteStore::open(&config.database_path())?;
    let started = Instant::now();
    let ids = set.load_corpus(2_000, |batch| {
        store.upsert(batch)?;
        Ok(())
    })?;
    eprintln!(
        "{}: {} documents, {} judged queries (split {split}; splits here: {}), loaded in {:.1} s",
        bench.dir.display(),
        ids.len(),
        queries.len(),
        set.splits().join(", "),
        started.elapsed().as_secs_f64()
    );

    embed_corpus(&store, &bench)?;
    let (mut engine, _) = crate::search::open_engine(&config, &bench.model_dir)?;
    engine.catch_up(&store)?;

    let cutoffs = Cutoffs {
        ndcg: 10,
        recall: 100,
        mrr: 10,
    };
    println!(
        "{} ({split}, {} queries, {} documents)",
        bench.dir.display(),
        queries.len(),
        ids.len()
    );
    for (name, method) in [
        ("keyword", Method::Keyword),
        ("vector", Method::Vector),
        ("hybrid", Method::Hybrid),
    ] {
        let (eval, p50) = run(&engine, method, &queries, &ids, &qrels, cutoffs)?;
        print_line(name, &eval, p50);
    }
    if bench.sweep {
        let tuned = engine.params;
        for tenth in 0..=10 {
            let weight = tenth as f32 / 10.0;
            engine.params = FusionParams {
                short_weight: weight,
                long_weight: weight,
                ..tuned
            };
            let (eval, p50) = run(&engine, Method::Hybrid, &queries, &ids, &qrels, cutoffs)?;
            print_line(&format!("w={weight:.1}"), &eval, p50);
        }
        engine.params = FusionParams {
            popularity: 0.0,
            ..tuned
        };
        let (eval, p50) = run(&engine, Method::Hybrid, &queries, &ids, &qrels, cutoffs)?;
        print_line("hybrid, no upvote prior", &eval, p50);
    }
    Ok(())
}

fn print_line(name: &str, eval: &Evaluation, p50: Duration) {
    println!(
        "{name:>10}  nDCG@10 {:.4}  Recall@100 {:.4}  MRR@10 {:.4}  ({} queries, p50 {:.1} ms)",
        eval.mean.ndcg,
        eval.mean.recall,
        eval.mean.mrr,
        eval.per_query.len(),
        p50.as_secs_f64() * 1000.0
    );
}

/// Embeds what has no vector, reusing and then saving `bench.vectors`.
fn embed_corpus(store: &SqliteStore, bench: &QualityBench) -> anyhow::Result<()> {
    if let Some(path) = bench.vectors.as_ref().filter(|p| p.exists()) {
        let imported = embed::import_vectors(store, path)?;
        eprintln!(
            "{}: {} vectors reused, {} for other texts",
            path.display(),
            imported.stored,
            imported.stale + imported.unknown
        );
    }
    let model = embed::load_model(&bench.model_dir)?;
    let job = EmbedJob {
        store,
        embedder: &model,
        model: MODEL,
    };
    let started = Instant::now();
    let mut progress = Progress::for_stderr("embedding");
    let step = job.run(&AtomicBool::new(false), &mut progress)?;
    progress.finish();
    if step.embedded > 0 {
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "embedded {} documents in {secs:.0} s ({:.1}/s)",
            step.embedded,
            step.embedded as f64 / secs
        );
        if let Some(path) = &bench.vectors {
            embed::export_vectors(store, path)?;
        }
    }
    let stats = store.vector_stats(MODEL)?;
    anyhow::ensure!(
        stats.vectors == stats.papers,
        "only {} of {} documents have vectors",
        stats.vectors,
        stats.papers
    );
    Ok(())
}

/// Runs every query with `method`; the evaluation and the median latency.
fn run(
    engine: &SearchEngine,
    method: Method,
    queries: &[(String, String)],
    ids: &IdMap,
    qrels: &Qrels,
    cutoffs: Cutoffs,
) -> anyhow::Result<(Evaluation, Duration)> {
    let mut runs: HashMap<String, Vec<String>> = HashMap::with_capacity(queries.len());
    let mut times = Vec::with_capacity(queries.len());
    for (id, text) in queries {
        let request = SearchRequest {
            query: text.clone(),
            limit: DEPTH,
            ..SearchRequest::default()
        };
        let started = Instant::now();
        let results = engine.search(&request, method)?;
        times.push(started.elapsed());
        let ranking = results
            .hits
            .iter()
            .filter_map(|hit| ids.beir_id(&hit.id).map(str::to_owned))
            .collect();
        runs.insert(id.clone(), ranking);
    }
    times.sort_unstable();
    let p50 = times.get(times.len() / 2).copied().unwrap_or_default();
    Ok((metrics::evaluate(qrels, &runs, cutoffs), p50))
}
