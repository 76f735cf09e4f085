//! Figures for the vector index (`paperboy_search::ann`) at catalog scale:
//! build and training time, memory, search latency and recall, exact and
//! IVF, on clustered synthetic unit vectors (random vectors are the worst
//! case of every approximate index and look nothing like embeddings).
//!
//! ```text
//! cargo run --release -p paperboy-search --example ann_bench -- \
//!     [--n 1000000] [--dim 384] [--centers 4096] [--noise 1.0] \
//!     [--queries 1000] [--truth 100] [--nprobe 1,2,4,8,16,32,64]
//! ```
//!
//! `--noise` is the length of the Gaussian noise added to a unit centre
//! before normalising (1.0: members of a cluster have cosine ≈ 0.5; 2.0:
//! ≈ 0.2, much harder). Vectors are regenerated from their number instead
//! of being kept, so the process holds only the index. Recall is measured
//! against the index's own exact scan (all queries) and against `f32`
//! brute force (the first `--truth` queries).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use paperboy_search::ann::{AnnIndex, AnnParams, SplitMix64 as Rng};

struct Args {
    n: usize,
    dim: usize,
    centers: usize,
    noise: f32,
    queries: usize,
    truth: usize,
    nprobe: Vec<usize>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        n: 1_000_000,
        dim: 384,
        centers: 4096,
        noise: 1.0,
        queries: 1000,
        truth: 100,
        nprobe: vec![1, 2, 4, 8, 16, 32, 64],
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--n" => args.n = value.parse()?,
            "--dim" => args.dim = value.parse()?,
            "--centers" => args.centers = value.parse()?,
            "--noise" => args.noise = value.parse()?,
            "--queries" => args.queries = value.parse()?,
            "--truth" => args.truth = value.parse()?,
            "--nprobe" => {
                args.nprobe = value.split(',').map(str::parse).collect::<Result<_, _>>()?
            }
            other => bail!("unknown flag {other}"),
        }
    }
    args.truth = args.truth.min(args.queries);
    Ok(args)
}

fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
}

/// The data set: unit centres, and vector `i` = normalize(centre + noise),
/// reproducible from `i` alone.
struct Data {
    dim: usize,
    noise: f32,
    centers: Vec<f32>,
}

impl Data {
    fn new(args: &Args) -> Self {
        let mut rng = Rng::new(42);
        let mut centers = vec![0f32; args.centers * args.dim];
        for c in centers.chunks_mut(args.dim) {
            rng.fill_gaussian(c);
            normalize(c);
        }
        Self {
            dim: args.dim,
            noise: args.noise / (args.dim as f32).sqrt(),
            centers,
        }
    }

    /// Vector number `i` of stream `stream` (0: the catalog, 1: queries).
    fn vector(&self, stream: u64, i: u64, out: &mut Vec<f32>) {
        let mut rng = Rng::new((stream << 40 | i).wrapping_mul(0xD6E8_FEB8_6659_FD93));
        let clusters = self.centers.len() / self.dim;
        let c = (rng.next_u64() % clusters as u64) as usize;
        out.resize(self.dim, 0.0);
        rng.fill_gaussian(out);
        for (x, center) in out.iter_mut().zip(&self.centers[c * self.dim..]) {
            *x = center + self.noise * *x;
        }
        normalize(out);
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1e3
}

fn rss() -> String {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return "n/a".into();
    };
    status
        .lines()
        .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(", ")
}

fn recall(found: &[Vec<u32>], truth: &[Vec<u32>]) -> f64 {
    let mut hits = 0;
    let mut total = 0;
    for (f, t) in found.iter().zip(truth) {
        let t: HashSet<u32> = t.iter().copied().collect();
        hits += f.iter().filter(|d| t.contains(d)).count();
        total += t.len();
    }
    hits as f64 / total.max(1) as f64
}

/// Runs every query through `search`, one at a time; returns the doc
/// lists and (p50, p99, mean) latency in ms.
fn timed(
    queries: &[Vec<f32>],
    search: impl Fn(&[f32]) -> Vec<(u32, f32)>,
) -> (Vec<Vec<u32>>, (f64, f64, f64)) {
    let mut times = Vec::with_capacity(queries.len());
    let mut results = Vec::with_capacity(queries.len());
    for q in queries {
        let start = Instant::now();
        let hits = search(q);
        times.push(start.elapsed());
        results.push(hits.into_iter().map(|h| h.0).collect());
    }
    let mean = times.iter().sum::<Duration>().as_secs_f64() * 1e3 / times.len() as f64;
    times.sort();
    (
        results,
        (percentile(&times, 0.5), percentile(&times, 0.99), mean),
    )
}

/// Top-10 by `f32` brute force for each query, in one pass over the
/// regenerated data, split over the cores.
fn f32_truth(data: &Data, n: usize, queries: &[Vec<f32>]) -> Vec<Vec<u32>> {
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    let chunk = n.div_ceil(threads);
    let parts: Vec<Vec<Vec<(f32, u32)>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|start| {
                s.spawn(move || {
                    let mut tops = vec![Vec::<(f32, u32)>::new(); queries.len()];
                    let mut v = Vec::new();
                    for i in start..(start + chunk).min(n) {
                        data.vector(0, i as u64, &mut v);
                        for (q, top) in queries.iter().zip(&mut tops) {
                            let score: f32 = q.iter().zip(&v).map(|(a, b)| a * b).sum();
                            if top.len() < 10 || score > top[9].0 {
                                top.push((score, i as u32));
                                top.sort_by(|a, b| b.0.total_cmp(&a.0));
                                top.truncate(10);
                            }
                        }
                    }
                    tops
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    (0..queries.len())
        .map(|q| {
            let mut all: Vec<(f32, u32)> = parts.iter().flat_map(|p| p[q].clone()).collect();
            all.sort_by(|a, b| b.0.total_cmp(&a.0));
            all.into_iter().take(10).map(|x| x.1).collect()
        })
        .collect()
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    println!(
        "n {} dim {} centers {} noise {} queries {} (f32 truth for {}), {} cores",
        args.n,
        args.dim,
        args.centers,
        args.noise,
        args.queries,
        args.truth,
        std::thread::available_parallelism().map_or(1, |t| t.get())
    );
    let data = Data::new(&args);

    let params = AnnParams {
        auto_train: false,
        ..AnnParams::default()
    };
    let mut index = AnnIndex::new(args.dim, params)?;
    let start = Instant::now();
    let mut v = Vec::new();
    index.upsert_batch((0..args.n as u64).map(|i| {
        data.vector(0, i, &mut v);
        (i as u32, v.clone())
    }))?;
    println!(
        "insert (generation included): {:.1} s; {} MB held; {}",
        start.elapsed().as_secs_f64(),
        index.memory_bytes() / 1_000_000,
        rss()
    );

    let start = Instant::now();
    let training = index.prepare_training();
    let kmeans = start.elapsed();
    let lists = training.lists();
    let start = Instant::now();
    index.apply_training(training)?;
    let apply = start.elapsed();
    println!(
        "train: {lists} lists; prepare (k-means, finding every vector's list) {:.1} s, \
         apply (moving them) {:.1} s; {} MB held; {}",
        kmeans.as_secs_f64(),
        apply.as_secs_f64(),
        index.memory_bytes() / 1_000_000,
        rss()
    );

    let queries: Vec<Vec<f32>> = (0..args.queries as u64)
        .map(|i| {
            let mut q = Vec::new();
            data.vector(1, i, &mut q);
            q
        })
        .collect();

    let (exact, (p50, p99, mean)) = timed(&queries, |q| index.search_exact(q, 10, None).unwrap());
    println!("exact scan:   p50 {p50:7.2} ms  p99 {p99:7.2} ms  mean {mean:7.2} ms");

    let start = Instant::now();
    let truth = f32_truth(&data, args.n, &queries[..args.truth]);
    println!(
        "f32 brute-force truth for {} queries: {:.1} s; exact scan recall@10 vs f32 {:.3}",
        args.truth,
        start.elapsed().as_secs_f64(),
        recall(&exact[..args.truth], &truth)
    );

    for &nprobe in &args.nprobe {
        let (found, (p50, p99, mean)) = timed(&queries, |q| {
            index.search_probing(q, 10, nprobe, None).unwrap()
        });
        println!(
            "nprobe {nprobe:3}: p50 {p50:7.2} ms  p99 {p99:7.2} ms  mean {mean:7.2} ms  \
             recall@10 vs exact scan {:.3}, vs f32 {:.3}",
            recall(&found, &exact),
            recall(&found[..args.truth], &truth)
        );
    }

    // Training again (what growth triggers) from an index with lists.
    let start = Instant::now();
    let training = index.prepare_training();
    let kmeans = start.elapsed();
    let start = Instant::now();
    index.apply_training(training)?;
    let apply = start.elapsed();
    let nprobe = index.params().nprobe;
    let (found, (p50, p99, _)) = timed(&queries, |q| {
        index.search_probing(q, 10, nprobe, None).unwrap()
    });
    println!(
        "retrain: prepare {:.1} s, apply {:.1} s; then nprobe {nprobe}: \
         p50 {p50:.2} ms p99 {p99:.2} ms recall@10 vs exact scan {:.3}",
        kmeans.as_secs_f64(),
        apply.as_secs_f64(),
        recall(&found, &exact)
    );

    let path = std::env::temp_dir().join(format!("ann_bench-{}.ann", std::process::id()));
    let start = Instant::now();
    index.save(&path)?;
    let save = start.elapsed();
    let size = std::fs::metadata(&path)?.len();
    drop(index);
    let start = Instant::now();
    let loaded = AnnIndex::load(&path, args.dim)?;
    let load = start.elapsed();
    std::fs::remove_file(&path)?;
    println!(
        "snapshot: {} MB, save {:.1} s, load {:.1} s ({} vectors); {}",
        size / 1_000_000,
        save.as_secs_f64(),
        load.as_secs_f64(),
        loaded.len(),
        rss()
    );
    Ok(())
}
