//! The row-wise numeric kernels of the BERT forward pass ([`crate::bert`]):
//! layer normalisation (with the bias and residual added in the same pass),
//! bias + GELU, and softmax, over plain `f32` slices.
//!
//! Each is one pass over its row with no allocation, written so the compiler
//! can vectorise it: no branches in the inner loops, `exp` and `erf` as
//! branch-free polynomials rather than libm calls (which it cannot
//! vectorise), and sums over several accumulators. They must never trade
//! accuracy for speed beyond what f32 itself loses: the tests below hold them
//! to naive f64 versions, and the model's output to sentence-transformers'.

/// `row = layer_norm(x + bias + residual) * gamma + beta` with epsilon
/// `eps`; all slices as long as `row`.
pub(crate) fn add_layer_norm(
    row: &mut [f32],
    x: &[f32],
    bias: &[f32],
    residual: &[f32],
    gamma: &[f32],
    beta: &[f32],
    eps: f32,
) {
    let n = row.len();
    debug_assert!(
        [x, bias, residual, gamma, beta]
            .iter()
            .all(|s| s.len() == n)
    );
    for (((o, x), b), r) in row.iter_mut().zip(x).zip(bias).zip(residual) {
        *o = x + b + r;
    }
    let mean = sum(row) / n as f32;
    row.iter_mut().for_each(|x| *x -= mean);
    let var = sum_of_squares(row) / n as f32;
    let inv_std = 1.0 / (var + eps).sqrt();
    for ((x, g), b) in row.iter_mut().zip(gamma).zip(beta) {
        *x = *x * inv_std * g + b;
    }
}

/// `row = gelu(x + bias)`, with the exact (erf) GELU BERT uses.
pub(crate) fn add_gelu(row: &mut [f32], x: &[f32], bias: &[f32]) {
    for ((o, x), b) in row.iter_mut().zip(x).zip(bias) {
        let v = x + b;
        *o = 0.5 * v * (1.0 + erf(v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// Appends `softmax(x)` to `out` (which then need not be zeroed first).
pub(crate) fn softmax_onto(out: &mut Vec<f32>, x: &[f32]) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let start = out.len();
    out.extend(x.iter().map(|x| exp(x - max)));
    let row = &mut out[start..];
    let inv_sum = 1.0 / sum(row);
    row.iter_mut().for_each(|x| *x *= inv_sum);
}

/// Sum over eight accumulators, so the additions vectorise (a single running
/// sum forces them into sequence).
fn sum(xs: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = xs.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (a, x) in acc.iter_mut().zip(chunk) {
            *a += x;
        }
    }
    acc.iter().sum::<f32>() + tail
}

fn sum_of_squares(xs: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = xs.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().map(|x| x * x).sum();
    for chunk in chunks {
        for (a, x) in acc.iter_mut().zip(chunk) {
            *a += x * x;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// e^x for x <= 88 (softmax only passes x <= 0), to about 1 ulp: Cephes'
/// `expf` — x = n ln 2 + r with |r| <= ln2/2, a degree-6 polynomial for
/// e^r, and 2^n built from its bits. Inputs below -87.3 give e^-87.3
/// (≈ 1e-38) rather than 0, which no softmax can tell apart.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    // 1.5 * 2^23: adding it rounds to an integer (to nearest), which then
    // sits in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.3, 88.0);
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let n_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    // ln 2 in two parts: 355/512 has few enough bits that n * it is exact.
    let r = x - n * (355.0 / 512.0) - n * -2.121_944_4e-4;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_2e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 0.166_666_65;
    p = p * r + 0.5;
    let e_r = p * r * r + r + 1.0;
    let two_n = f32::from_bits(n_bits.wrapping_add(127) << 23);
    e_r * two_n
}

/// erf(x) to a few ulp: the rational approximation Eigen and XLA use for
/// f32 (odd degree-13 numerator over even degree-8 denominator on [-4, 4],
/// beyond which erf is ±1 in f32).
#[inline(always)]
pub(crate) fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = -2.726_142_3e-10_f32;
    p = p * x2 + 2.770_681_4e-8;
    p = p * x2 + -2.101_024e-6;
    p = p * x2 + -5.692_506_4e-5;
    p = p * x2 + -7.349_906_3e-4;
    p = p * x2 + -2.954_600_1e-3;
    p = p * x2 + -1.609_603_3e-2;
    let p = p * x;
    let mut q = -1.456_607_2e-5_f32;
    q = q * x2 + -2.133_740_6e-4;
    q = q * x2 + -1.682_827e-3;
    q = q * x2 + -7.373_329e-3;
    q = q * x2 + -1.426_474e-2;
    p / q
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::cpu::erf::erf_f64;

    /// Deterministic inputs: a spread of magnitudes and signs, no RNG crate.
    fn inputs(n: usize, amplitude: f32) -> Vec<f32> {
        (0..n)
            .map(|i| {
                let t = (i as f32 * 0.618_034).fract() * 2.0 - 1.0;
                amplitude * t * t * t.signum() + (i % 7) as f32 * 0.01
            })
            .collect()
    }

    fn assert_close(got: &[f32], expect: &[f64], tolerance: f64, what: &str) {
        assert_eq!(got.len(), expect.len());
        for (i, (&g, &e)) in got.iter().zip(expect).enumerate() {
            let err = (f64::from(g) - e).abs();
            assert!(
                err <= tolerance * e.abs().max(1.0),
                "{what}[{i}]: {g} vs {e} (error {err:e})"
            );
        }
    }

    #[test]
    fn exp_matches_f64_within_a_few_ulp() {
        let xs: Vec<f32> = (0..=200_000)
            .map(|i| -87.0 + i as f32 * 0.000_875)
            .collect();
        for x in xs {
            let (got, expect) = (f64::from(exp(x)), f64::from(x).exp());
            let rel = ((got - expect) / expect).abs();
            assert!(
                rel < 3e-7,
                "exp({x}) = {got}, expected {expect} (relative error {rel:e})"
            );
        }
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(-1e4) >= 0.0 && exp(-1e4) < 1e-37);
        assert!(exp(f32::NEG_INFINITY) < 1e-37);
    }

    #[test]
    fn erf_matches_f64_within_a_few_ulp() {
        for i in -60_000..=60_000 {
            let x = i as f32 * 1e-4;
            let (got, expect) = (f64::from(erf(x)), erf_f64(f64::from(x)));
            // Near ±1, 5e-7 is 8 ulp of f32; GELU multiplies it by x / 2
            // and adds it to x / 2, so it stays within f32 rounding there.
            assert!(
                (got - expect).abs() < 5e-7 * expect.abs().max(1e-2),
                "erf({x}) = {got}, expected {expect}"
            );
        }
        assert!((erf(10.0) - 1.0).abs() < 5e-7 && (erf(-10.0) + 1.0).abs() < 5e-7);
    }

    #[test]
    fn gelu_matches_the_erf_definition() {
        let xs = inputs(1536, 8.0);
        let bias = inputs(1536, 0.5);
        let expect: Vec<f64> = xs
            .iter()
            .zip(&bias)
            .map(|(&x, &b)| {
                let v = f64::from(x + b);
                0.5 * v * (1.0 + erf_f64(v / std::f64::consts::SQRT_2))
            })
            .collect();
        let mut got = vec![f32::NAN; xs.len()];
        add_gelu(&mut got, &xs, &bias);
        assert_close(&got, &expect, 1e-6, "gelu");
    }

    #[test]
    fn softmax_matches_naive() {
        let mut got = vec![0.5];
        for (len, amplitude) in [(1, 1.0), (7, 3.0), (239, 40.0)] {
            let xs = inputs(len, amplitude);
            let exps: Vec<f64> = xs.iter().map(|&x| f64::from(x).exp()).collect();
            let total: f64 = exps.iter().sum();
            let expect: Vec<f64> = exps.iter().map(|e| e / total).collect();
            let start = got.len();
            softmax_onto(&mut got, &xs);
            assert_close(&got[start..], &expect, 2e-6, "softmax");
            let sum: f32 = got[start..].iter().sum();
            assert!((sum - 1.0).abs() < 1e-5, "softmax sums to {sum}");
        }
        assert_eq!(got[0], 0.5, "what was there before is kept");
    }

    #[test]
    fn layer_norm_matches_naive() {
        let n = 384;
        let x = inputs(n, 5.0);
        let bias = inputs(n, 0.3);
        let residual: Vec<f32> = inputs(n + 3, 2.0).split_off(3);
        let gamma: Vec<f32> = inputs(n, 1.5).iter().map(|g| g + 1.0).collect();
        let beta = inputs(n, 0.2);
        let check = |bias: &[f32], residual: &[f32]| {
            let v: Vec<f64> = (0..n)
                .map(|i| f64::from(x[i]) + f64::from(bias[i]) + f64::from(residual[i]))
                .collect();
            let mean = v.iter().sum::<f64>() / n as f64;
            let var = v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / n as f64;
            let expect: Vec<f64> = (0..n)
                .map(|i| {
                    (v[i] - mean) / (var + 1e-12).sqrt() * f64::from(gamma[i]) + f64::from(beta[i])
                })
                .collect();
            let mut got = vec![f32::NAN; n];
            add_layer_norm(&mut got, &x, bias, residual, &gamma, &beta, 1e-12);
            assert_close(&got, &expect, 2e-6, "layer norm");
        };
        check(&bias, &residual);
        check(&vec![0.0; n], &vec![0.0; n]);
    }
}
