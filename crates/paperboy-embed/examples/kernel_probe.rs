//! The speed of candle's matrix products (the `gemm` crate) at the shapes
//! the BERT forward of `paperboy-embed` runs for one batch of 16 abstracts
//! of 239 tokens: the ceiling of the whole forward pass, since everything
//! else is fused row-wise passes. Figures: docs/benchmarks.md, "Embeddings".
//!
//!     cargo run --release -p paperboy-embed --example kernel_probe
use std::time::Instant;

use candle_core::{Device, Tensor};

fn main() {
    let d = Device::Cpu;
    let rows = 16 * 239;
    println!("{} threads", candle_core::utils::get_num_threads());
    // Dense layers: x (rows, in) times W^T, W stored (out, in) as in the
    // model file (a transposed view) or transposed once at load (in, out).
    for (name, k, n, reps) in [
        ("qkv", 384usize, 1152usize, 10),
        ("attention output", 384, 384, 20),
        ("intermediate", 384, 1536, 10),
        ("output", 1536, 384, 10),
    ] {
        let x = Tensor::randn(0f32, 1., (rows, k), &d).unwrap();
        let w = Tensor::randn(0f32, 1., (n, k), &d).unwrap();
        let w_view = w.t().unwrap();
        let w_t = w_view.contiguous().unwrap();
        for (layout, w) in [("(out,in) view", &w_view), ("(in,out)", &w_t)] {
            x.matmul(w).unwrap();
            let t = Instant::now();
            for _ in 0..reps {
                x.matmul(w).unwrap();
            }
            let s = t.elapsed().as_secs_f64();
            println!(
                "{name} {rows}x{k}x{n}, W {layout}: {:.1} GFLOP/s",
                2.0 * (rows * k * n * reps) as f64 / s / 1e9
            );
        }
    }
    // Attention of one text: (12, 239, 32) x (12, 32, 239), then back.
    let (len, reps) = (239usize, 50);
    let q = Tensor::randn(0f32, 1., (12, len, 32), &d).unwrap();
    let k = Tensor::randn(0f32, 1., (12, len, 32), &d).unwrap();
    let kt = k.t().unwrap();
    let p = Tensor::randn(0f32, 1., (12, len, len), &d).unwrap();
    let flop = 2.0 * (12 * len * len * 32 * reps) as f64;
    let t = Instant::now();
    for _ in 0..reps {
        q.matmul(&kt).unwrap();
    }
    println!(
        "attention scores: {:.1} GFLOP/s",
        flop / t.elapsed().as_secs_f64() / 1e9
    );
    let t = Instant::now();
    for _ in 0..reps {
        p.matmul(&k).unwrap();
    }
    println!(
        "attention values: {:.1} GFLOP/s",
        flop / t.elapsed().as_secs_f64() / 1e9
    );
}
