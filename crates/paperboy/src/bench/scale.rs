//! `paperboy bench search --papers N`: search latency on a generated catalog
//! of N papers (a million by default), built from the real HF papers: each
//! generated paper takes a real title's first half and another's second
//! half, 4–9 sentences of real abstracts, real author names and categories;
//! one in ten sits on a daily list with upvotes.
//!
//! The real model embeds ~10 abstracts a second here, so a million papers'
//! vectors would take days: they are synthetic instead — clustered random
//! unit vectors (a random topic centre per paper plus noise), which gives
//! the vector index the clustered structure real embeddings have. Queries
//! are embedded by the real model, so query-embedding time is real; which
//! papers a vector query finds means nothing on this catalog, only how fast.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use paperboy_core::{ArxivId, DailyEntry, Paper, SourceRecord};
use paperboy_embed::MINILM_DIM;
use paperboy_import::{ParseOptions, Parsed};
use paperboy_search::ann::SplitMix64;
use paperboy_search::{Method, SearchRequest};
use paperboy_store::{PaperVector, SqliteStore, Store, Vectors};

use crate::config::Config;
use crate::embed::MODEL;

/// What `paperboy bench search --papers N` measures.
pub struct ScaleBench {
    pub papers: usize,
    /// Folder of HF daily_papers JSON files (the material).
    pub catalog: PathBuf,
    /// The query mix (CSV with a `search string cleaned` column).
    pub queries: PathBuf,
    /// Queries of the mix to time (the first ones).
    pub max_queries: usize,
    pub limit: usize,
    /// Keep the generated data directory here (reused by a later run with
    /// the same size) instead of a temporary one.
    pub workdir: Option<PathBuf>,
    pub model_dir: PathBuf,
}

/// Topic centres of the synthetic vectors.
const CENTRES: usize = 4096;

/// Records per store transaction while generating.
const BATCH: usize = 10_000;

/// Random unit vector of `dim` numbers.
fn unit_vector(rng: &mut SplitMix64, dim: usize) -> Vec<f32> {
    let mut v = vec![0.0; dim];
    rng.fill_gaussian(&mut v);
    normalise(&mut v);
    v
}

fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    for x in v {
        *x /= norm;
    }
}

/// What generated papers are made of.
struct Material {
    titles: Vec<String>,
    sentences: Vec<String>,
    authors: Vec<String>,
    categories: Vec<Vec<String>>,
    days: Vec<chrono::NaiveDate>,
}

fn material(catalog: &Path) -> anyhow::Result<Material> {
    let files = super::json_files(catalog)?;
    let mut m = Material {
        titles: Vec::new(),
        sentences: Vec::new(),
        authors: Vec::new(),
        categories: Vec::new(),
        days: Vec::new(),
    };
    for path in &files {
        let file = paperboy_import::open(path, None, &ParseOptions::default())
            .with_context(|| format!("cannot open {}", path.display()))?;
        for item in file.iter {
            let Ok(Parsed::Record(record)) = item else {
                continue;
            };
            let b = &record.paper.biblio;
            m.titles.push(b.title.clone());
            m.sentences.extend(
                b.abstract_text
                    .split(". ")
                    .map(str::trim)
                    .filter(|s| s.len() > 20)
                    .map(|s| format!("{}.", s.trim_end_matches('.'))),
            );
            m.authors.extend(b.authors.iter().cloned());
            if !b.categories.is_empty() {
                m.categories.push(b.categories.clone());
            }
            if let Some(entry) = &record.entry {
                m.days.push(entry.day);
            }
        }
    }
    m.days.sort();
    m.days.dedup();
    if m.titles.is_empty() || m.sentences.is_empty() || m.authors.is_empty() {
        bail!("{}: no papers to build a catalog from", catalog.display());
    }
    if m.categories.is_empty() {
        m.categories.push(vec!["cs.LG".into()]);
    }
    Ok(m)
}

/// The `i`-th generated paper's id: new-style, 99,999 a month from 2001-01.
fn generated_id(i: usize) -> ArxivId {
    let month = i / 99_999;
    let number = i % 99_999 + 1;
    let (yy, mm) = (1 + month / 12, month % 12 + 1);
    ArxivId::parse(&format!("{yy:02}{mm:02}.{number:05}"))
        .map(|v| v.id)
        .expect("generated ids are valid")
}

fn generated_paper(i: usize, m: &Material, rng: &mut SplitMix64) -> SourceRecord {
    let mut paper = Paper::new(generated_id(i));
    let a = &m.titles[rng.below(m.titles.len())];
    let b = &m.titles[rng.below(m.titles.len())];
    let (a_words, b_words): (Vec<&str>, Vec<&str>) = (
        a.split_whitespace().collect(),
        b.split_whitespace().collect(),
    );
    let title: Vec<&str> = a_words[..a_words.len().div_ceil(2)]
        .iter()
        .chain(&b_words[b_words.len() / 2..])
        .copied()
        .collect();
    paper.biblio.title = title.join(" ");
    let sentences = 4 + rng.below(6);
    paper.biblio.abstract_text = (0..sentences)
        .map(|_| m.sentences[rng.below(m.sentences.len())].as_str())
        .collect::<Vec<_>>()
        .join(" ");
    paper.biblio.authors = (0..1 + rng.below(8))
        .map(|_| m.authors[rng.below(m.authors.len())].clone())
        .collect();
    paper.biblio.categories = m.categories[rng.below(m.categories.len())].clone();
    let entry = if rng.below(10) == 0 && !m.days.is_empty() {
        let day = m.days[rng.below(m.days.len())];
        // Few papers get many upvotes.
        let upvotes = (rng.below(1000) as f64 / 1000.0).powi(4) * 300.0;
        paper.community.upvotes = Some(upvotes as u32);
        paper.community.observed_at = day.and_hms_opt(12, 0, 0).map(|t| t.and_utc());
        Some(DailyEntry {
            paper_id: paper.id.clone(),
            day,
            submitter: None,
            position: 0,
            submitted_at: None,
            num_comments: None,
        })
    } else {
        None
    };
    SourceRecord { paper, entry }
}

/// Fills `store` with `n` generated papers and their synthetic vectors.
fn generate(store: &SqliteStore, n: usize, m: &Material) -> anyhow::Result<()> {
    let mut rng = SplitMix64::new(0x5EED);
    let centres: Vec<Vec<f32>> = (0..CENTRES)
        .map(|_| unit_vector(&mut rng, MINILM_DIM))
        .collect();
    // Noise of about the size of the centre: neighbours within a topic are
    // at cosine ~0.5, as related abstracts are with MiniLM.
    let spread = 1.0 / (MINILM_DIM as f32).sqrt();
    let started = Instant::now();
    for start in (0..n).step_by(BATCH) {
        let end = (start + BATCH).min(n);
        let records: Vec<SourceRecord> = (start..end)
            .map(|i| generated_paper(i, m, &mut rng))
            .collect();
        store.upsert(&records)?;
        let vectors: Vec<PaperVector> = records
            .iter()
            .map(|r| {
                let centre = &centres[rng.below(CENTRES)];
                let mut v = vec![0.0; MINILM_DIM];
                rng.fill_gaussian(&mut v);
                for (x, c) in v.iter_mut().zip(centre) {
                    *x = c + spread * *x;
                }
                normalise(&mut v);
                PaperVector {
                    id: r.paper.id.clone(),
                    text_hash: vec![0; 16],
                    vector: v,
                }
            })
            .collect();
        store.put_vectors(MODEL, &vectors)?;
        if end.is_multiple_of(100_000) || end == n {
            eprintln!(
                "generated {end} papers with vectors ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

/// Current and peak resident memory of this process, in MB.
fn memory_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

pub fn bench_scale(bench: ScaleBench) -> anyhow::Result<()> {
    let queries = super::read_query_mix(&bench.queries)?;
    let queries: Vec<String> = queries.into_iter().take(bench.max_queries).collect();
    let temp;
    let dir = match &bench.workdir {
        Some(dir) => dir.clone(),
        None => {
            temp = tempfile::tempdir().context("cannot make a temporary directory")?;
            temp.path().to_path_buf()
        }
    };
    let config = Config {
        data_dir: dir.clone(),
        ..Config::default()
    };
    let store = SqliteStore::open(&config.database_path())?;
    let have = store.stats()?.papers as usize;
    if have != bench.papers {
        if have != 0 {
            bail!(
                "{} holds {have} papers, not {}; use an empty --workdir",
                dir.display(),
                bench.papers
            );
        }
        let m = material(&bench.catalog)?;
        eprintln!(
            "material: {} titles, {} sentences, {} author names",
            m.titles.len(),
            m.sentences.len(),
            m.authors.len()
        );
        generate(&store, bench.papers, &m)?;
    }
    let store: Arc<dyn Store> = Arc::new(store);

    let (engine, _) = crate::search::open_engine(&config, &bench.model_dir)?;
    if engine.encoder.is_none() {
        bail!(
            "the embedding model is needed to embed queries: scripts/fetch-model {}",
            bench.model_dir.display()
        );
    }
    let started = Instant::now();
    let papers = engine.keyword.catch_up(store.as_ref())?;
    let keyword_build = started.elapsed();
    let started = Instant::now();
    let vectors = engine
        .vectors
        .as_ref()
        .map(|v| v.catch_up(store.as_ref()))
        .transpose()?
        .unwrap_or(0);
    let vector_build = started.elapsed();
    // Saved, so that a second run over the same --workdir starts at once.
    if let Some(index) = engine.vectors.as_ref().filter(|v| v.is_dirty()) {
        index.save()?;
    }
    let indexed = engine.vectors.as_ref().map_or(0, |v| v.len());
    let (rss, _) = memory_mb();
    println!(
        "catalog: {} papers; keyword index: {papers} indexed in {:.1} s; vector index: {vectors} applied in {:.1} s ({indexed} vectors); RSS {rss:.0} MB",
        bench.papers,
        keyword_build.as_secs_f64(),
        vector_build.as_secs_f64(),
    );

    // One warm-up pass so that every method meets warm caches.
    for query in queries.iter().take(50) {
        let request = SearchRequest {
            query: query.clone(),
            limit: bench.limit,
            ..SearchRequest::default()
        };
        engine.search(&request, Method::Hybrid)?;
    }
    let mut encode = Vec::with_capacity(queries.len());
    if let Some(encoder) = &engine.encoder {
        for query in &queries {
            let started = Instant::now();
            encoder(query);
            encode.push(started.elapsed());
        }
    }
    encode.sort_unstable();
    println!(
        "query embedding alone, {} queries: p50 {:.2} ms, p99 {:.2} ms",
        encode.len(),
        percentile(&encode, 0.5),
        percentile(&encode, 0.99)
    );
    for (name, method) in [
        ("keyword", Method::Keyword),
        ("vector", Method::Vector),
        ("hybrid", Method::Hybrid),
    ] {
        let mut times = Vec::with_capacity(queries.len());
        let mut empty = 0;
        for query in &queries {
            let request = SearchRequest {
                query: query.clone(),
                limit: bench.limit,
                ..SearchRequest::default()
            };
            let started = Instant::now();
            let results = engine.search(&request, method)?;
            times.push(started.elapsed());
            if results.hits.is_empty() {
                empty += 1;
            }
        }
        times.sort_unstable();
        println!(
            "{name:>7}: {} queries (top {}, snippets, query embedding included): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {empty} empty",
            times.len(),
            bench.limit,
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            percentile(&times, 1.0)
        );
    }
    let (rss, peak) = memory_mb();
    println!("memory: RSS now {rss:.0} MB, peak {peak:.0} MB");
    Ok(())
}
