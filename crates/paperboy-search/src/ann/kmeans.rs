//! Training of the coarse quantizer: spherical k-means (Lloyd iterations
//! on unit vectors, centroids renormalised each step) over a sample of the
//! stored 8-bit codes, with assignment in 16-bit × 8-bit integers, the same
//! kernel queries use. Deterministic for a given seed and thread count
//! (per-thread partial sums are merged in a fixed order).

use std::ops::Range;

use super::kernels::{dot_i16_i8, normalize, quantize_i16, query_max};

/// A small deterministic generator (SplitMix64): training must give the
/// same lists for the same data and seed, and the crate has no `rand`.
/// Public for benchmarks and tests that make synthetic vectors.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0); the modulo bias is irrelevant here.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 + 0.5) / (1u64 << 24) as f32
    }

    /// Standard normal samples (Box–Muller) into `out`.
    pub fn fill_gaussian(&mut self, out: &mut [f32]) {
        for pair in out.chunks_mut(2) {
            let (u1, u2) = (self.uniform(), self.uniform());
            let r = (-2.0 * u1.ln()).sqrt();
            let t = std::f32::consts::TAU * u2;
            pair[0] = r * t.cos();
            if let Some(x) = pair.get_mut(1) {
                *x = r * t.sin();
            }
        }
    }
}

/// Centroids in the integer form assignment uses: 16-bit codes and one
/// scale per centroid.
pub(super) struct QuantizedCentroids {
    dim: usize,
    codes: Vec<i16>,
    scales: Vec<f32>,
}

impl QuantizedCentroids {
    pub(super) fn new(centroids: &[f32], dim: usize) -> Self {
        let max = query_max(dim);
        let mut codes = Vec::with_capacity(centroids.len());
        let mut scales = Vec::with_capacity(centroids.len() / dim);
        let mut code = Vec::with_capacity(dim);
        for c in centroids.chunks_exact(dim) {
            scales.push(quantize_i16(c, max, &mut code));
            codes.extend_from_slice(&code);
        }
        Self { dim, codes, scales }
    }

    /// The centroid most similar to the vector with 8-bit `code` (its own
    /// scale is the same for every centroid, so it is left out).
    pub(super) fn nearest(&self, code: &[i8]) -> usize {
        let mut best = (f32::NEG_INFINITY, 0);
        for (i, (c, s)) in self
            .codes
            .chunks_exact(self.dim)
            .zip(&self.scales)
            .enumerate()
        {
            let score = dot_i16_i8(c, code) as f32 * s;
            if score > best.0 {
                best = (score, i);
            }
        }
        best.1
    }
}

/// Runs `f` over `0..n` split into one contiguous range per thread, and
/// returns the results in range order.
pub(super) fn par_ranges<R: Send>(
    n: usize,
    threads: usize,
    f: impl Fn(Range<usize>) -> R + Sync,
) -> Vec<R> {
    let threads = threads.clamp(1, n.max(1));
    if threads == 1 {
        return vec![f(0..n)];
    }
    let chunk = n.div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|start| scope.spawn(move || f(start..(start + chunk).min(n))))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Trains `lists` unit centroids on the sample (`codes`: one `dim`-long
/// 8-bit code per point, `scales` their scales). The sample is expected in
/// random order: its first `lists` points are the initial centroids.
pub(super) fn train(
    codes: &[i8],
    scales: &[f32],
    dim: usize,
    lists: usize,
    iterations: usize,
    rng: &mut SplitMix64,
    threads: usize,
) -> Vec<f32> {
    let points = scales.len();
    debug_assert!(points >= lists && lists > 0);
    let point = |i: usize| &codes[i * dim..(i + 1) * dim];
    let mut centroids: Vec<f32> = Vec::with_capacity(lists * dim);
    for (i, &scale) in scales.iter().enumerate().take(lists) {
        push_point(&mut centroids, point(i), scale);
    }
    for _ in 0..iterations {
        let quantized = QuantizedCentroids::new(&centroids, dim);
        let parts = par_ranges(points, threads, |range| {
            let mut sums = vec![0f32; lists * dim];
            let mut counts = vec![0u32; lists];
            for i in range {
                let code = point(i);
                let c = quantized.nearest(code);
                counts[c] += 1;
                let scale = scales[i];
                for (s, &x) in sums[c * dim..(c + 1) * dim].iter_mut().zip(code) {
                    *s += f32::from(x) * scale;
                }
            }
            (sums, counts)
        });
        let mut parts = parts.into_iter();
        let Some((mut sums, mut counts)) = parts.next() else {
            break;
        };
        for (s, c) in parts {
            sums.iter_mut().zip(&s).for_each(|(a, b)| *a += b);
            counts.iter_mut().zip(&c).for_each(|(a, b)| *a += b);
        }
        for (c, count) in counts.iter().enumerate() {
            let sum = &mut sums[c * dim..(c + 1) * dim];
            // An empty list (or one whose points cancel out) gets a random
            // sample point: a centroid nobody is near is wasted probing.
            if *count == 0 || normalize(sum).is_none() {
                let i = rng.below(points);
                sum.fill(0.0);
                for (s, &x) in sum.iter_mut().zip(point(i)) {
                    *s = f32::from(x) * scales[i];
                }
                let _ = normalize(sum);
            }
        }
        centroids = sums;
    }
    centroids
}

fn push_point(centroids: &mut Vec<f32>, code: &[i8], scale: f32) {
    let start = centroids.len();
    centroids.extend(code.iter().map(|&x| f32::from(x) * scale));
    // A stored code is never all zero (vectors are normalised before they
    // are quantized), so this cannot fail; a zero centroid would only be
    // useless, not wrong.
    let _ = normalize(&mut centroids[start..]);
}
