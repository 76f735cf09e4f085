//! The inner loops: quantization and dot products, written in plain safe
//! Rust so LLVM vectorizes them (the workspace forbids `unsafe`, so no
//! intrinsics). Both are written as fixed-size chunks of independent lanes:
//! float sums are not associative, so LLVM vectorizes only what is written
//! in lanes, and the integer one, though it vectorizes in any shape, uses
//! whole SSE2 registers only in this one (see `dot_i16_i8`).
//!
//! The innermost loops are `while` loops over fixed-size chunks, not
//! iterator chains or `for` over ranges: optimised, all compile to the same
//! vector code, but unoptimised (`cargo test`, where this crate is built at
//! opt-level 0) every iterator step is a function call, which made the
//! tests take minutes.

/// Largest stored code magnitude.
pub(super) const CODE_MAX: f32 = 127.0;

/// Largest magnitude of a query (or centroid) in its 16-bit form for vectors
/// of `dim` components, chosen so no partial sum of `dot_i16_i8` can
/// overflow an `i32`: `dim * max * 127 < 2^31`.
pub(super) fn query_max(dim: usize) -> f32 {
    let bound = (i32::MAX as usize) / (127 * dim.max(1));
    bound.min(i16::MAX as usize) as f32
}

/// `Σ q[i] * c[i]` in exact integer arithmetic, in chunks of 32: the shape
/// LLVM compiles to whole-register SSE2 (sign-extend 16 codes, two
/// `pmaddwd`, two `paddd` per 16 components). A plain running sum
/// compiles to half-width `pmaddwd` and is about twice as slow.
#[inline]
pub(super) fn dot_i16_i8(q: &[i16], c: &[i8]) -> i32 {
    debug_assert_eq!(q.len(), c.len());
    const LANES: usize = 32;
    let n = q.len().min(c.len());
    let (q_chunks, q_rest) = q[..n].as_chunks::<LANES>();
    let (c_chunks, c_rest) = c[..n].as_chunks::<LANES>();
    let mut acc = [0i32; LANES];
    for (x, y) in q_chunks.iter().zip(c_chunks) {
        let mut l = 0;
        while l < LANES {
            acc[l] += i32::from(x[l]) * i32::from(y[l]);
            l += 1;
        }
    }
    let mut sum: i32 = acc.iter().sum();
    for (x, y) in q_rest.iter().zip(c_rest) {
        sum += i32::from(*x) * i32::from(*y);
    }
    sum
}

/// `Σ a[i] * b[i]` with 16 lanes of accumulators (float addition is not
/// associative, so LLVM vectorizes only what is written in lanes).
#[inline]
pub(super) fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    const LANES: usize = 16;
    let n = a.len().min(b.len());
    let (a_chunks, a_rest) = a[..n].as_chunks::<LANES>();
    let (b_chunks, b_rest) = b[..n].as_chunks::<LANES>();
    let mut acc = [0f32; LANES];
    for (x, y) in a_chunks.iter().zip(b_chunks) {
        let mut l = 0;
        while l < LANES {
            acc[l] += x[l] * y[l];
            l += 1;
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for (x, y) in a_rest.iter().zip(b_rest) {
        sum += x * y;
    }
    sum
}

/// Scales `v` to unit length in place; `None` when it has no direction (all
/// zero) or holds a NaN or an infinity.
pub(super) fn normalize(v: &mut [f32]) -> Option<()> {
    let norm = dot_f32(v, v).sqrt();
    if !norm.is_finite() || norm == 0.0 {
        return None;
    }
    for x in v.iter_mut() {
        *x /= norm;
    }
    Some(())
}

/// Per-vector scalar quantization of a (unit) vector to 8 bits: `x ≈ code * scale`
/// with `scale = max|x| / 127`. Returns the scale.
pub(super) fn quantize_i8(v: &[f32], code: &mut Vec<i8>) -> f32 {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    let scale = if max > 0.0 { max / CODE_MAX } else { 1.0 };
    code.clear();
    code.extend(
        v.iter()
            .map(|x| (x / scale).round().clamp(-CODE_MAX, CODE_MAX) as i8),
    );
    scale
}

/// The same at 16 bits, for queries and centroids: finer than the stored
/// codes, so a score's error is almost all the stored vector's, and free,
/// because the 8-bit codes are widened to 16 bits for `pmaddwd` anyway.
pub(super) fn quantize_i16(v: &[f32], max_code: f32, code: &mut Vec<i16>) -> f32 {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    let scale = if max > 0.0 { max / max_code } else { 1.0 };
    code.clear();
    code.extend(
        v.iter()
            .map(|x| (x / scale).round().clamp(-max_code, max_code) as i16),
    );
    scale
}

/// `code * scale`, appended to `out`.
pub(super) fn dequantize_into(code: &[i8], scale: f32, out: &mut Vec<f32>) {
    out.extend(code.iter().map(|&c| f32::from(c) * scale));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_dot_cannot_overflow_at_the_bound() {
        for dim in [1, 7, 384, 1024, 4096, 65_536] {
            let m = query_max(dim);
            let q = vec![m as i16; dim];
            let c = vec![-127i8; dim];
            let exact = -(m as i64) * 127 * dim as i64;
            assert_eq!(i64::from(dot_i16_i8(&q, &c)), exact, "dim {dim}");
        }
    }

    #[test]
    fn float_dot_matches_naive_sum_with_a_remainder() {
        let a: Vec<f32> = (0..37).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..37).map(|i| 1.0 - i as f32 * 0.25).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot_f32(&a, &b) - naive).abs() < 1e-3);
    }

    #[test]
    fn quantization_round_trips_within_half_a_step() {
        let v = [0.5f32, -0.25, 0.125, 0.0, -0.8];
        let mut code = Vec::new();
        let scale = quantize_i8(&v, &mut code);
        let mut back = Vec::new();
        dequantize_into(&code, scale, &mut back);
        for (x, y) in v.iter().zip(&back) {
            assert!((x - y).abs() <= scale / 2.0 + 1e-7);
        }
    }
}
