//! The vector index: nearest neighbours of embedding vectors by cosine
//! similarity, as a pure in-memory data structure with a one-file snapshot.
//!
//! Documents are dense `u32` numbers chosen by the caller (who maps them to
//! papers); vectors are normalised to unit length on the way in, so a dot
//! product is a cosine. Like every index in this crate it is derived data:
//! it never reads the store, and a snapshot that is missing, of another
//! [`FORMAT_VERSION`] or dimension, or damaged, loads as an [`AnnError`] so the
//! caller rebuilds it from the database. It never runs models and takes no
//! locks: searches are `&self`, updates `&mut self`, the caller wraps it in
//! an `RwLock`.
//!
//! # Design
//!
//! **Storage: 8-bit scalar quantization.** A vector is kept as one `i8` per
//! component plus one `f32` scale (`x ≈ code · max|x| / 127`): 388 bytes for
//! 384 dimensions instead of 1,536, so a million papers take about 400 MB
//! (measured below) where `f32` would take 1.5 GB. A per-vector scale (rather
//! than one global one) matters because unit vectors' components are small
//! and unevenly spread; it costs 4 bytes. A query is quantized to 16 bits
//! with its own scale, so a score is an exact integer dot product
//! (`i16 × i8 → i32`, which LLVM turns into SSE2 `pmaddwd` from plain safe
//! code; no `unsafe`, no intrinsics) times two scales, and nearly all of its
//! error is the stored vector's rounding. Codes live in blocks of [`BLOCK`]
//! vectors, so a list's unused capacity is at most one block (a `Vec` that
//! doubles could waste half the memory) and retraining frees the old layout
//! block by block instead of holding two copies.
//!
//! **Search: exact below a size, IVF above.** Below
//! [`AnnParams::exact_below`] (50,000) vectors everything sits in one list
//! and a search scans it all (≈ 56 ns a vector on one core: ≈ 3 ms at
//! 50k, 56 ms at 1M). Above, the index is an inverted file: about √n unit
//! centroids trained by spherical k-means (Lloyd iterations on a random
//! sample of at most [`AnnParams::train_sample`] vectors, deterministic for
//! a seed), each vector stored in the list of its most similar centroid; a
//! query ranks the centroids in `f32` and scans the [`AnnParams::nprobe`]
//! most similar lists, and further ones while fewer than `k` documents
//! passed the filter, so a filter never starves a search that the whole
//! index could answer. IVF rather than HNSW: every HNSW insertion is a graph
//! search plus link updates, so building one over 1M vectors on two cores
//! is a matter of many minutes, and its links (2 × 16 neighbours × 4 bytes
//! a vector and more) add a third again to the 8-bit codes; IVF trains in under a minute, adds nothing per
//! vector but its position, and its one knob (`nprobe`) trades latency for
//! recall predictably.
//!
//! **Keeping the lists good.** The centroids describe the collection they
//! were trained on. [`AnnIndex::needs_training`] says when to train again: an
//! exact index that reached `exact_below`, or an IVF one that grew
//! [`AnnParams::retrain_growth`] (4) times since it was trained or shrank under
//! half of `exact_below` (it goes back to exact). With
//! [`AnnParams::auto_train`] (the default) updates train inline, so with the
//! defaults an index fed one vector at a time trains at 50k, 200k and 800k
//! vectors. A caller who must not hold its write lock that long turns it off
//! and calls [`AnnIndex::prepare_training`] (k-means and finding every
//! vector's new list: all the arithmetic, under a read lock, searches go
//! on) and then [`AnnIndex::apply_training`] (moving the vectors, about a
//! second at 1M, under the write lock). An update in between makes the
//! prepared lists stale and `apply_training` recomputes them, so the one
//! task that writes should do both.
//!
//! # Measured
//!
//! Tests (`cargo test -p paperboy-search ann`, fixed seeds): exact search
//! against `f32` brute force on 5,000 random 384-d unit vectors (the worst
//! case for the rounding: the top scores are within a few thousandths of
//! each other) has recall@10 0.981; IVF on 20,000 clustered vectors (200
//! centres, 64-d to keep the debug build quick, 141 lists) 0.985 at the
//! default `nprobe` of 16, 0.949 at 1.
//!
//! `cargo run --release -p paperboy-search --example ann_bench` (1,000,000
//! clustered 384-d vectors, 4,096 centres, noise as long as the centre, so
//! cluster members have cosine ≈ 0.5; 1,000 queries; a 2-core machine busy
//! with other builds, so a p99 of ~5 ms is a query that was descheduled,
//! not one that worked longer):
//!
//! | | |
//! |---|---|
//! | memory of the structure | 430 MB (process peak RSS 460–490 MB) |
//! | first training, 1,000 lists | prepare 55 s (k-means on 65,536 vectors, then every vector's list), apply 0.5 s |
//! | training again | prepare 45 s, apply 0.2 s |
//! | snapshot | 393 MB, save 1.0 s, load 0.9 s |
//! | exact scan | p50 56 ms, p99 88 ms; recall@10 vs `f32` 0.984 |
//! | nprobe 1 | p50 0.14 ms, p99 0.28 ms; recall@10 vs exact scan 0.923 (vs `f32` 0.898) |
//! | nprobe 8 | p50 0.47 ms, p99 0.69 ms; 0.956 (0.922) |
//! | nprobe 16 (default) | p50 0.96 ms, p99 5.1 ms; 0.965 (0.938); 0.974 after training again |
//! | nprobe 32 | p50 1.6 ms, p99 5.9 ms; 0.976 (0.943) |
//! | nprobe 64 | p50 3.2 ms, p99 5.9 ms; 0.983 (0.954) |
//!
//! Recall against `f32` is bounded by the 8-bit rounding (0.984 for the
//! exact scan on this data, where a query's ~250 cluster mates all score
//! ≈ 0.5); recall against the exact scan is what `nprobe` buys. Synthetic
//! clusters are not embeddings: measure recall on real vectors against
//! [`AnnIndex::search_exact`] before trusting a smaller `nprobe`.

mod kernels;
mod kmeans;
mod persist;
#[cfg(test)]
mod tests;

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::path::PathBuf;

use kernels::{dequantize_into, dot_f32, dot_i16_i8, normalize, quantize_i8, quantize_i16};
use kmeans::{QuantizedCentroids, par_ranges};

pub use kmeans::SplitMix64;
pub use persist::FORMAT_VERSION;

/// Vectors per block of codes.
pub const BLOCK: usize = 64;

/// The largest dimension the index accepts (the integer dot products are
/// exact up to far beyond it; this only keeps a damaged header from asking
/// for absurd allocations).
pub const MAX_DIM: usize = 16_384;

/// Fewest sample vectors per list: k-means with fewer points than this per
/// centroid gives lists that describe noise.
const MIN_POINTS_PER_LIST: usize = 32;

/// What can go wrong with the vector index. `DimensionMismatch` and
/// `InvalidVector` are the caller's mistakes; the rest are snapshot files
/// that cannot be used, all of which mean "rebuild from the database".
#[derive(Debug, thiserror::Error)]
pub enum AnnError {
    #[error("the vector has {found} dimensions but the index holds {expected}-dimensional vectors")]
    DimensionMismatch { expected: usize, found: usize },
    #[error("the vector is all zeros or holds a NaN or an infinity, so it has no direction")]
    InvalidVector,
    #[error("a vector index of {dim} dimensions is not supported (1 to {MAX_DIM})")]
    UnsupportedDimension { dim: usize },
    #[error("could not read or write the vector index {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the vector index {path} has format version {found}, this build reads version {expected}; rebuild it"
    )]
    FormatVersion {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error(
        "the vector index {path} holds {found}-dimensional vectors, {expected} are expected (another model?); rebuild it"
    )]
    FileDimension {
        path: PathBuf,
        found: usize,
        expected: usize,
    },
    #[error("the vector index {path} is damaged ({message}); rebuild it")]
    Corrupt { path: PathBuf, message: String },
}

/// How the index trains and searches. Not stored in snapshots: they are
/// settings of the running program.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnParams {
    /// Below this many vectors the index is one list, searched exactly.
    pub exact_below: usize,
    /// An IVF index needs training again once it holds this many times the
    /// vectors it was trained on.
    pub retrain_growth: usize,
    /// Lists scanned per query. On 1M clustered 384-d vectors (1,000 lists,
    /// see the module docs) 16 gives recall@10 0.965 against the exact scan
    /// at a median of 1 ms; real embeddings may need more: measure recall
    /// against [`AnnIndex::search_exact`].
    pub nprobe: usize,
    /// Most vectors k-means trains on.
    pub train_sample: usize,
    /// Lloyd iterations.
    pub kmeans_iterations: usize,
    /// Seed of the sampling and the initial centroids.
    pub seed: u64,
    /// Train inline in `upsert`/`remove`/`upsert_batch` when
    /// [`AnnIndex::needs_training`].
    pub auto_train: bool,
    /// Threads used for training; 0 means all available cores.
    pub threads: usize,
}

impl Default for AnnParams {
    fn default() -> Self {
        Self {
            exact_below: 50_000,
            retrain_growth: 4,
            nprobe: 16,
            train_sample: 65_536,
            kmeans_iterations: 8,
            seed: 0x5EED_CAFE_F00D,
            auto_train: true,
            threads: 0,
        }
    }
}

impl AnnParams {
    fn thread_count(&self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    /// Lists for an index of `n` vectors: about √n, fewer when the sample
    /// could not fill them; 1 (exact) below `exact_below`.
    fn lists_for(&self, n: usize) -> usize {
        if n < self.exact_below {
            return 1;
        }
        let sample = n.min(self.train_sample);
        let root = (n as f64).sqrt().round() as usize;
        root.min(sample / MIN_POINTS_PER_LIST).max(1)
    }
}

/// Where a document's vector is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Loc {
    list: u32,
    pos: u32,
}

/// One inverted list (or the whole index when exact): parallel arrays of
/// documents and scales, codes in blocks of [`BLOCK`] vectors.
#[derive(Debug, Default)]
struct List {
    docs: Vec<u32>,
    scales: Vec<f32>,
    blocks: Vec<Vec<i8>>,
}

impl List {
    fn len(&self) -> usize {
        self.docs.len()
    }

    fn code(&self, pos: usize, dim: usize) -> &[i8] {
        let start = (pos % BLOCK) * dim;
        &self.blocks[pos / BLOCK][start..start + dim]
    }

    /// Appends a vector and returns its position.
    fn push(&mut self, doc: u32, scale: f32, code: &[i8]) -> usize {
        let pos = self.docs.len();
        if pos.is_multiple_of(BLOCK) {
            self.blocks.push(Vec::with_capacity(BLOCK * code.len()));
        }
        if let Some(block) = self.blocks.last_mut() {
            block.extend_from_slice(code);
        }
        self.docs.push(doc);
        self.scales.push(scale);
        pos
    }

    /// Removes the vector at `pos` by moving the last one into its place;
    /// returns the document that moved, if one did.
    fn swap_remove(&mut self, pos: usize, dim: usize) -> Option<u32> {
        let last = self.docs.len().checked_sub(1)?;
        let moved = (pos != last).then(|| {
            let (to_block, to) = (pos / BLOCK, (pos % BLOCK) * dim);
            let (from_block, from) = (last / BLOCK, (last % BLOCK) * dim);
            if to_block == from_block {
                self.blocks[to_block].copy_within(from..from + dim, to);
            } else {
                let (head, tail) = self.blocks.split_at_mut(from_block);
                head[to_block][to..to + dim].copy_from_slice(&tail[0][from..from + dim]);
            }
            self.docs[pos] = self.docs[last];
            self.scales[pos] = self.scales[last];
            self.docs[pos]
        });
        self.docs.pop();
        self.scales.pop();
        if let Some(block) = self.blocks.last_mut() {
            block.truncate(block.len() - dim);
            if block.is_empty() {
                self.blocks.pop();
            }
        }
        moved
    }

    /// Scores every vector of the list against the 16-bit query and offers
    /// the good ones to `top`.
    fn scan(&self, query: &[i16], top: &mut TopK, filter: Option<&dyn Fn(u32) -> bool>) {
        let dim = query.len();
        for (b, block) in self.blocks.iter().enumerate() {
            let start = b * BLOCK;
            let end = (start + BLOCK).min(self.docs.len());
            let docs = &self.docs[start..end];
            let scales = &self.scales[start..end];
            for ((code, &doc), &scale) in block.chunks_exact(dim).zip(docs).zip(scales) {
                let score = dot_i16_i8(query, code) as f32 * scale;
                if top.accepts(score) && filter.is_none_or(|keep| keep(doc)) {
                    top.push(doc, score);
                }
            }
        }
    }

    fn memory_bytes(&self) -> usize {
        self.docs.capacity() * 4
            + self.scales.capacity() * 4
            + self.blocks.capacity() * size_of::<Vec<i8>>()
            + self.blocks.iter().map(Vec::capacity).sum::<usize>()
    }
}

/// A scored candidate; greater is better (higher score, then lower doc, so
/// ties come out in a fixed order).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Candidate {
    score: f32,
    doc: u32,
}

impl Eq for Candidate {}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| other.doc.cmp(&self.doc))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The best `k` candidates seen so far, worst on top of a min-heap.
struct TopK {
    k: usize,
    heap: BinaryHeap<Reverse<Candidate>>,
}

impl TopK {
    fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
        }
    }

    fn is_full(&self) -> bool {
        self.heap.len() >= self.k
    }

    /// Whether a candidate with `score` would enter.
    #[inline]
    fn accepts(&self, score: f32) -> bool {
        match self.heap.peek() {
            Some(Reverse(worst)) if self.is_full() => score > worst.score,
            _ => true,
        }
    }

    fn push(&mut self, doc: u32, score: f32) {
        self.heap.push(Reverse(Candidate { score, doc }));
        if self.heap.len() > self.k {
            self.heap.pop();
        }
    }

    /// Best first.
    fn into_sorted(self) -> Vec<Candidate> {
        // `into_sorted_vec` is ascending in `Reverse`, i.e. best first.
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|r| r.0)
            .collect()
    }
}

/// Centroids trained by [`AnnIndex::prepare_training`], to be installed by
/// [`AnnIndex::apply_training`].
#[derive(Debug, Clone)]
pub struct Training {
    dim: usize,
    /// `lists × dim` unit vectors; empty for an exact index.
    centroids: Vec<f32>,
    /// Vectors in the index when it was prepared.
    trained_len: usize,
    /// [`AnnIndex::mutations`] when it was prepared.
    mutations: u64,
    /// The new list of every stored vector, in storage order; usable only
    /// if the index has not changed since.
    assignment: Option<Vec<u32>>,
}

impl Training {
    /// Lists the index will have (1: exact).
    pub fn lists(&self) -> usize {
        (self.centroids.len() / self.dim).max(1)
    }
}

/// The nearest-neighbour index. See the module docs for the design.
#[derive(Debug)]
pub struct AnnIndex {
    dim: usize,
    params: AnnParams,
    /// `lists × dim` unit centroids; empty when the index is exact.
    centroids: Vec<f32>,
    /// One list per centroid, or exactly one when exact.
    lists: Vec<List>,
    locs: HashMap<u32, Loc>,
    /// Vectors in the index when the centroids were trained.
    trained_len: usize,
    /// Largest 16-bit query code for this dimension.
    query_max: f32,
    /// Changes since the index was made or loaded: tells
    /// [`Self::apply_training`] whether a prepared assignment still holds.
    mutations: u64,
}

impl AnnIndex {
    /// An empty (exact) index of `dim`-dimensional vectors.
    pub fn new(dim: usize, params: AnnParams) -> Result<Self, AnnError> {
        if dim == 0 || dim > MAX_DIM {
            return Err(AnnError::UnsupportedDimension { dim });
        }
        Ok(Self {
            dim,
            params,
            centroids: Vec::new(),
            lists: vec![List::default()],
            locs: HashMap::new(),
            trained_len: 0,
            query_max: kernels::query_max(dim),
            mutations: 0,
        })
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn len(&self) -> usize {
        self.locs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.locs.is_empty()
    }

    pub fn contains(&self, doc: u32) -> bool {
        self.locs.contains_key(&doc)
    }

    /// Inverted lists: 1 while the index is exact.
    pub fn lists(&self) -> usize {
        self.lists.len()
    }

    /// Whether every search scans every vector.
    pub fn is_exact(&self) -> bool {
        self.centroids.is_empty()
    }

    pub fn params(&self) -> &AnnParams {
        &self.params
    }

    /// Changes the settings; takes effect from the next call (no training
    /// happens here, even if the new settings call for it).
    pub fn set_params(&mut self, params: AnnParams) {
        self.params = params;
    }

    /// Heap bytes held by the index (capacities, not just lengths; the hash
    /// map's share is estimated from its capacity).
    pub fn memory_bytes(&self) -> usize {
        size_of::<Self>()
            + self.centroids.capacity() * 4
            + self.lists.capacity() * size_of::<List>()
            + self.lists.iter().map(List::memory_bytes).sum::<usize>()
            + self.locs.capacity() * (size_of::<(u32, Loc)>() + 1)
    }

    /// Adds the vector of `doc`, replacing the one it had. The vector is
    /// normalised; it must have [`Self::dim`] finite components, not all zero.
    pub fn upsert(&mut self, doc: u32, vector: &[f32]) -> Result<(), AnnError> {
        let mut scratch = Scratch::default();
        self.insert(doc, vector, &mut scratch)?;
        self.maybe_train();
        Ok(())
    }

    /// [`Self::upsert`] for many vectors, training at most once, at the end:
    /// the way to build an index from scratch. Stops at the first invalid
    /// vector (those before it stay in).
    pub fn upsert_batch<V: AsRef<[f32]>>(
        &mut self,
        items: impl IntoIterator<Item = (u32, V)>,
    ) -> Result<(), AnnError> {
        let mut scratch = Scratch::default();
        let mut result = Ok(());
        for (doc, vector) in items {
            if let Err(e) = self.insert(doc, vector.as_ref(), &mut scratch) {
                result = Err(e);
                break;
            }
        }
        self.maybe_train();
        result
    }

    /// Removes `doc`'s vector; false when it had none.
    pub fn remove(&mut self, doc: u32) -> bool {
        let removed = self.remove_quietly(doc);
        if removed {
            self.maybe_train();
        }
        removed
    }

    /// The stored vector of `doc`, dequantized (unit length up to the
    /// rounding): the query for "papers like this one".
    pub fn get(&self, doc: u32) -> Option<Vec<f32>> {
        let loc = self.locs.get(&doc)?;
        let list = &self.lists[loc.list as usize];
        let pos = loc.pos as usize;
        let mut out = Vec::with_capacity(self.dim);
        dequantize_into(list.code(pos, self.dim), list.scales[pos], &mut out);
        Some(out)
    }

    /// The `k` documents most similar to `query`, best first, with their
    /// approximate cosine similarity, probing [`AnnParams::nprobe`] lists.
    /// Only documents for which `filter` returns true are returned.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        filter: Option<&dyn Fn(u32) -> bool>,
    ) -> Result<Vec<(u32, f32)>, AnnError> {
        self.search_probing(query, k, self.params.nprobe, filter)
    }

    /// [`Self::search`] scanning every vector: the reference for recall, and
    /// the fallback for very selective filters.
    pub fn search_exact(
        &self,
        query: &[f32],
        k: usize,
        filter: Option<&dyn Fn(u32) -> bool>,
    ) -> Result<Vec<(u32, f32)>, AnnError> {
        self.search_probing(query, k, usize::MAX, filter)
    }

    /// [`Self::search`] probing `nprobe` lists (more while fewer than `k`
    /// documents passed the filter).
    pub fn search_probing(
        &self,
        query: &[f32],
        k: usize,
        nprobe: usize,
        filter: Option<&dyn Fn(u32) -> bool>,
    ) -> Result<Vec<(u32, f32)>, AnnError> {
        self.check_dim(query.len())?;
        let mut unit = query.to_vec();
        normalize(&mut unit).ok_or(AnnError::InvalidVector)?;
        if k == 0 || self.is_empty() {
            return Ok(Vec::new());
        }
        let mut query16 = Vec::with_capacity(self.dim);
        let query_scale = quantize_i16(&unit, self.query_max, &mut query16);
        let mut top = TopK::new(k);
        if self.is_exact() {
            self.lists[0].scan(&query16, &mut top, filter);
        } else {
            let mut order: Vec<(f32, u32)> = self
                .centroids
                .chunks_exact(self.dim)
                .zip(0u32..)
                .map(|(c, i)| (dot_f32(&unit, c), i))
                .collect();
            order.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let nprobe = nprobe.max(1);
            for (probed, &(_, list)) in order.iter().enumerate() {
                if probed >= nprobe && top.is_full() {
                    break;
                }
                self.lists[list as usize].scan(&query16, &mut top, filter);
            }
        }
        Ok(top
            .into_sorted()
            .into_iter()
            .map(|c| (c.doc, c.score * query_scale))
            .collect())
    }

    /// Whether the lists no longer fit the collection (see the module docs).
    pub fn needs_training(&self) -> bool {
        let n = self.len();
        if self.is_exact() {
            self.params.lists_for(n) > 1
        } else {
            n >= self
                .trained_len
                .saturating_mul(self.params.retrain_growth.max(2))
                || n < self.params.exact_below / 2
        }
    }

    /// Trains and installs new lists now.
    pub fn train(&mut self) {
        let training = self.prepare_training();
        // Same index, same dimension: cannot fail.
        let _ = self.apply_training(training);
    }

    /// The expensive part of training, under `&self`: samples the stored
    /// vectors, runs k-means and finds every vector's new list. Gives an
    /// exact layout when the index is below [`AnnParams::exact_below`].
    pub fn prepare_training(&self) -> Training {
        let n = self.len();
        let lists = self.params.lists_for(n);
        if lists <= 1 {
            return Training {
                dim: self.dim,
                centroids: Vec::new(),
                trained_len: n,
                mutations: self.mutations,
                assignment: None,
            };
        }
        let mut rng = SplitMix64::new(self.params.seed);
        // A partial Fisher–Yates shuffle of all positions: the first
        // `sample` are a uniform sample in random order.
        let mut positions: Vec<(u32, u32)> = self
            .lists
            .iter()
            .zip(0u32..)
            .flat_map(|(list, l)| (0..list.len() as u32).map(move |p| (l, p)))
            .collect();
        let sample = n.min(self.params.train_sample.max(lists));
        for i in 0..sample {
            let j = i + rng.below(positions.len() - i);
            positions.swap(i, j);
        }
        positions.truncate(sample);
        let mut codes = Vec::with_capacity(sample * self.dim);
        let mut scales = Vec::with_capacity(sample);
        for &(l, p) in &positions {
            let list = &self.lists[l as usize];
            codes.extend_from_slice(list.code(p as usize, self.dim));
            scales.push(list.scales[p as usize]);
        }
        drop(positions);
        let centroids = kmeans::train(
            &codes,
            &scales,
            self.dim,
            lists,
            self.params.kmeans_iterations,
            &mut rng,
            self.params.thread_count(),
        );
        let assignment = Some(self.assign(&centroids));
        Training {
            dim: self.dim,
            centroids,
            trained_len: n,
            mutations: self.mutations,
            assignment,
        }
    }

    /// The cheap part, under `&mut self`: moves every vector to the list of
    /// its most similar centroid. Old blocks are freed as they are emptied.
    /// If the index changed since `training` was prepared, the lists found
    /// then no longer match and every vector is compared with every
    /// centroid again here (correct, but the expensive part again, now
    /// under the write lock): prepare and apply with no update in between
    /// (e.g. in the one task that writes).
    pub fn apply_training(&mut self, training: Training) -> Result<(), AnnError> {
        if training.dim != self.dim {
            return Err(AnnError::DimensionMismatch {
                expected: self.dim,
                found: training.dim,
            });
        }
        let dim = self.dim;
        let new_lists = training.lists();
        if new_lists == 1 && self.is_exact() {
            self.trained_len = training.trained_len;
            return Ok(());
        }
        let assignment = match training.assignment {
            Some(a) if training.mutations == self.mutations && a.len() == self.len() => a,
            _ => self.assign(&training.centroids),
        };
        let mut counts = vec![0usize; new_lists];
        for &a in &assignment {
            counts[a as usize] += 1;
        }
        let mut lists: Vec<List> = counts
            .iter()
            .map(|&c| List {
                docs: Vec::with_capacity(c),
                scales: Vec::with_capacity(c),
                blocks: Vec::with_capacity(c.div_ceil(BLOCK)),
            })
            .collect();
        let mut targets = assignment.into_iter();
        for old in std::mem::take(&mut self.lists) {
            let List {
                docs,
                scales,
                blocks,
            } = old;
            let mut pos = 0;
            for block in blocks {
                for code in block.chunks_exact(dim) {
                    let target = targets.next().unwrap_or(0);
                    let new_pos = lists[target as usize].push(docs[pos], scales[pos], code);
                    if let Some(loc) = self.locs.get_mut(&docs[pos]) {
                        *loc = Loc {
                            list: target,
                            pos: new_pos as u32,
                        };
                    }
                    pos += 1;
                }
                // `block` is dropped here: memory is handed back as it
                // is copied, never two full copies at once.
            }
        }
        self.lists = lists;
        self.centroids = training.centroids;
        self.trained_len = training.trained_len;
        self.mutations += 1;
        Ok(())
    }

    /// The list each stored vector belongs in under `centroids`, in
    /// storage order (list by list, position by position).
    fn assign(&self, centroids: &[f32]) -> Vec<u32> {
        let lists = centroids.len() / self.dim;
        if lists <= 1 {
            return vec![0; self.len()];
        }
        let quantized = QuantizedCentroids::new(centroids, self.dim);
        let blocks: Vec<&[i8]> = self
            .lists
            .iter()
            .flat_map(|l| l.blocks.iter().map(Vec::as_slice))
            .collect();
        par_ranges(blocks.len(), self.params.thread_count(), |range| {
            let mut out = Vec::with_capacity(range.len() * BLOCK);
            for block in &blocks[range] {
                for code in block.chunks_exact(self.dim) {
                    out.push(quantized.nearest(code) as u32);
                }
            }
            out
        })
        .concat()
    }

    fn maybe_train(&mut self) {
        if self.params.auto_train && self.needs_training() {
            self.train();
        }
    }

    fn check_dim(&self, found: usize) -> Result<(), AnnError> {
        if found == self.dim {
            Ok(())
        } else {
            Err(AnnError::DimensionMismatch {
                expected: self.dim,
                found,
            })
        }
    }

    fn insert(&mut self, doc: u32, vector: &[f32], scratch: &mut Scratch) -> Result<(), AnnError> {
        self.check_dim(vector.len())?;
        scratch.unit.clear();
        scratch.unit.extend_from_slice(vector);
        normalize(&mut scratch.unit).ok_or(AnnError::InvalidVector)?;
        let scale = quantize_i8(&scratch.unit, &mut scratch.code);
        self.remove_quietly(doc);
        self.mutations += 1;
        let list = self.nearest_list(&scratch.unit);
        let pos = self.lists[list].push(doc, scale, &scratch.code);
        self.locs.insert(
            doc,
            Loc {
                list: list as u32,
                pos: pos as u32,
            },
        );
        Ok(())
    }

    fn remove_quietly(&mut self, doc: u32) -> bool {
        let Some(loc) = self.locs.remove(&doc) else {
            return false;
        };
        self.mutations += 1;
        let moved = self.lists[loc.list as usize].swap_remove(loc.pos as usize, self.dim);
        if let Some(moved) = moved
            && let Some(moved_loc) = self.locs.get_mut(&moved)
        {
            moved_loc.pos = loc.pos;
        }
        true
    }

    fn nearest_list(&self, unit: &[f32]) -> usize {
        let mut best = (f32::NEG_INFINITY, 0);
        for (i, c) in self.centroids.chunks_exact(self.dim).enumerate() {
            let score = dot_f32(unit, c);
            if score > best.0 {
                best = (score, i);
            }
        }
        best.1
    }
}

/// Buffers reused across the vectors of one batch.
#[derive(Default)]
struct Scratch {
    unit: Vec<f32>,
    code: Vec<i8>,
}
