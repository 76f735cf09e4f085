//! Where candle's time goes in one MiniLM batch (16 texts × 256 tokens):
//! the speed of each kind of kernel the BERT layers run, at their shapes.
//! Figures and what they suggest: docs/benchmarks.md, "Embeddings".
//!
//!     cargo run --release -p paperboy-embed --example kernel_probe
use candle_core::{Device, Tensor};
use std::time::Instant;
fn main() {
    let d = Device::Cpu;
    for (m, k, n, reps) in [
        (4096usize, 384usize, 384usize, 20),
        (4096, 384, 1536, 10),
        (4096, 1536, 384, 10),
    ] {
        let a = Tensor::randn(0f32, 1., (m, k), &d).unwrap();
        let b = Tensor::randn(0f32, 1., (n, k), &d).unwrap();
        let bt = b.t().unwrap();
        a.matmul(&bt).unwrap();
        let t = Instant::now();
        for _ in 0..reps {
            a.matmul(&bt).unwrap();
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "{m}x{k}x{n}: {:.1} GFLOP/s",
            2.0 * (m * k * n * reps) as f64 / s / 1e9
        );
    }
    // attention: (16*12, 256, 64) x (16*12, 64, 256)
    let q = Tensor::randn(0f32, 1., (16, 12, 256, 64), &d).unwrap();
    let kt = Tensor::randn(0f32, 1., (16, 12, 256, 64), &d)
        .unwrap()
        .t()
        .unwrap()
        .contiguous()
        .unwrap();
    let t = Instant::now();
    for _ in 0..10 {
        q.matmul(&kt).unwrap();
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "attn scores: {:.1} GFLOP/s",
        2.0 * (16u64 * 12 * 256 * 64 * 256 * 10) as f64 / s / 1e9
    );
    let x = Tensor::randn(0f32, 1., (16, 12, 256, 256), &d).unwrap();
    let t = Instant::now();
    for _ in 0..10 {
        candle_nn::ops::softmax(&x, candle_core::D::Minus1).unwrap();
    }
    println!(
        "softmax generic: {:.1} ms",
        t.elapsed().as_secs_f64() * 100.0
    );
    let t = Instant::now();
    for _ in 0..10 {
        candle_nn::ops::softmax_last_dim(&x).unwrap();
    }
    println!(
        "softmax_last_dim: {:.1} ms",
        t.elapsed().as_secs_f64() * 100.0
    );
    let h = Tensor::randn(0f32, 1., (16, 256, 1536), &d).unwrap();
    let t = Instant::now();
    for _ in 0..10 {
        h.gelu_erf().unwrap();
    }
    println!(
        "gelu_erf 16x256x1536: {:.1} ms",
        t.elapsed().as_secs_f64() * 100.0
    );
}
