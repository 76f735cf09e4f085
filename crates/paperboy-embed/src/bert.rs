//! The BERT encoder of all-MiniLM-L6-v2, written out for this one
//! architecture (6 post-LN layers, hidden 384, 12 heads of 32, intermediate
//! 1536, exact GELU), because candle's generic BERT spends more time around
//! its matrix products than in them.
//!
//! How it avoids that:
//! - No padding at all. The texts of a batch are concatenated token after
//!   token into one `(tokens, 384)` matrix, so the dense layers (Q/K/V as one
//!   fused product, attention output, both FFN layers) are each one large
//!   matrix product over every real token of the batch; attention runs per
//!   text on its true length, so no score is computed for a padding token
//!   and no mask is needed.
//! - Everything between the products (bias, GELU, residual, layer norm,
//!   softmax) is one fused row-wise pass ([`crate::kernels`]) over
//!   plain `Vec<f32>`, spread over the cores with rayon.
//!
//! The products themselves are candle's (`Tensor::matmul`, the `gemm`
//! crate's runtime-dispatched AVX2/AVX-512 kernels): the one thing here that
//! needs SIMD intrinsics, which this crate, without `unsafe`, cannot write.
//! Weights are read from the model's safetensors file by name, as
//! transformers' `BertModel` names them.
//!
//! This module never tokenizes and never pools: ids in, one 384-vector per
//! token out (see [`crate::MiniLm`]).

use std::collections::HashMap;

use candle_core::{CpuStorage, DType, Device, Storage, Tensor};
use rayon::prelude::*;

use crate::kernels;

/// Width of every token vector.
pub(crate) const HIDDEN: usize = 384;
const HEADS: usize = 12;
const HEAD_DIM: usize = HIDDEN / HEADS;
const INTERMEDIATE: usize = 1536;
const LAYERS: usize = 6;
const LAYER_NORM_EPS: f32 = 1e-12;

/// Rows per rayon task in the row-wise passes: enough work per task that
/// scheduling costs nothing, small enough to split a small batch in two.
const ROWS_PER_TASK: usize = 16;

/// The encoder's weights.
pub(crate) struct Bert {
    /// (vocabulary, HIDDEN)
    word_embeddings: Vec<f32>,
    /// (max positions, HIDDEN)
    position_embeddings: Vec<f32>,
    /// Token type 0's embedding: every token of a single text has type 0.
    token_type_embedding: Vec<f32>,
    embeddings_norm: LayerNorm,
    layers: Vec<Layer>,
}

struct Layer {
    /// Query, key and value as one product: (HIDDEN, 3 * HIDDEN).
    qkv: Dense,
    attention_output: Dense,
    attention_norm: LayerNorm,
    intermediate: Dense,
    output: Dense,
    output_norm: LayerNorm,
}

/// A linear layer: `x W^T + b`, with W kept transposed, (in, out), so the
/// product reads it row by row.
struct Dense {
    weight_t: Tensor,
    bias: Vec<f32>,
}

struct LayerNorm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

/// Checks that the model's `config.json` describes the architecture this
/// module hard-codes; the message says which field differs.
pub(crate) fn check_config(config: &serde_json::Value) -> Result<(), String> {
    let expected = [
        ("model_type", serde_json::json!("bert")),
        ("hidden_size", HIDDEN.into()),
        ("num_attention_heads", HEADS.into()),
        ("intermediate_size", INTERMEDIATE.into()),
        ("num_hidden_layers", LAYERS.into()),
        ("hidden_act", "gelu".into()),
        ("layer_norm_eps", f64::from(LAYER_NORM_EPS).into()),
        ("position_embedding_type", "absolute".into()),
    ];
    for (field, value) in expected {
        let found = &config[field];
        let same = match (found.as_f64(), value.as_f64()) {
            (Some(a), Some(b)) => ((a - b) / b).abs() < 1e-6,
            _ => *found == value,
        };
        if !same {
            return Err(format!("{field} is {found}, expected {value}"));
        }
    }
    Ok(())
}

/// What can be wrong with a weights file: a message for
/// [`crate::EmbedError::ModelFileInvalid`].
pub(crate) type LoadError = String;

impl Bert {
    /// Builds the encoder from the tensors of the model's safetensors file.
    pub(crate) fn from_tensors(tensors: &HashMap<String, Tensor>) -> Result<Self, LoadError> {
        let get = |name: &str, shape: &[usize]| -> Result<Tensor, LoadError> {
            let t = tensors
                .get(name)
                .ok_or_else(|| format!("tensor {name} is missing"))?;
            if t.dims() != shape {
                return Err(format!(
                    "tensor {name} has shape {:?}, expected {shape:?}",
                    t.dims()
                ));
            }
            t.to_dtype(DType::F32)
                .map_err(|e| format!("tensor {name}: {e}"))
        };
        let vector = |name: &str, len: usize| -> Result<Vec<f32>, LoadError> {
            get(name, &[len])?
                .to_vec1()
                .map_err(|e| format!("tensor {name}: {e}"))
        };
        let flat = |name: &str, shape: &[usize]| -> Result<Vec<f32>, LoadError> {
            get(name, shape)?
                .flatten_all()
                .and_then(|t| t.to_vec1())
                .map_err(|e| format!("tensor {name}: {e}"))
        };
        let norm = |prefix: &str| -> Result<LayerNorm, LoadError> {
            Ok(LayerNorm {
                gamma: vector(&format!("{prefix}.weight"), HIDDEN)?,
                beta: vector(&format!("{prefix}.bias"), HIDDEN)?,
            })
        };
        // Several (out, in) weights stacked along `out`, then transposed.
        let dense = |prefixes: &[String], out: usize, inp: usize| -> Result<Dense, LoadError> {
            let mut weights = Vec::new();
            let mut bias = Vec::new();
            for prefix in prefixes {
                weights.push(get(&format!("{prefix}.weight"), &[out, inp])?);
                bias.extend(vector(&format!("{prefix}.bias"), out)?);
            }
            let weight_t = Tensor::cat(&weights, 0)
                .and_then(|w| w.t()?.contiguous())
                .map_err(|e| format!("weights {prefixes:?}: {e}"))?;
            Ok(Dense { weight_t, bias })
        };

        let vocab = tensors
            .get("embeddings.word_embeddings.weight")
            .map_or(0, |t| t.dims()[0]);
        let positions = tensors
            .get("embeddings.position_embeddings.weight")
            .map_or(0, |t| t.dims()[0]);
        if positions < crate::MAX_TOKENS {
            return Err(format!(
                "{positions} position embeddings, fewer than {} tokens",
                crate::MAX_TOKENS
            ));
        }
        let layers = (0..LAYERS)
            .map(|i| {
                let p = format!("encoder.layer.{i}");
                let attention = |name: &str| format!("{p}.attention.self.{name}");
                Ok(Layer {
                    qkv: dense(
                        &[attention("query"), attention("key"), attention("value")],
                        HIDDEN,
                        HIDDEN,
                    )?,
                    attention_output: dense(
                        &[format!("{p}.attention.output.dense")],
                        HIDDEN,
                        HIDDEN,
                    )?,
                    attention_norm: norm(&format!("{p}.attention.output.LayerNorm"))?,
                    intermediate: dense(
                        &[format!("{p}.intermediate.dense")],
                        INTERMEDIATE,
                        HIDDEN,
                    )?,
                    output: dense(&[format!("{p}.output.dense")], HIDDEN, INTERMEDIATE)?,
                    output_norm: norm(&format!("{p}.output.LayerNorm"))?,
                })
            })
            .collect::<Result<_, LoadError>>()?;
        if tensors.contains_key(&format!("encoder.layer.{LAYERS}.output.dense.weight")) {
            return Err(format!("more than {LAYERS} layers"));
        }
        Ok(Self {
            word_embeddings: flat("embeddings.word_embeddings.weight", &[vocab, HIDDEN])?,
            position_embeddings: flat(
                "embeddings.position_embeddings.weight",
                &[positions, HIDDEN],
            )?,
            token_type_embedding: flat("embeddings.token_type_embeddings.weight", &[2, HIDDEN])?
                [..HIDDEN]
                .to_vec(),
            embeddings_norm: norm("embeddings.LayerNorm")?,
            layers,
        })
    }

    /// Runs the encoder on `texts` (token ids, each at most
    /// [`crate::MAX_TOKENS`] long) and returns the last layer's token
    /// vectors, `(total tokens, HIDDEN)`, the texts' tokens one after the
    /// other in the order given.
    pub(crate) fn forward(&self, texts: &[&[u32]]) -> candle_core::Result<Vec<f32>> {
        let vocab = self.word_embeddings.len() / HIDDEN;
        let tokens: Vec<(usize, usize)> = texts
            .iter()
            .flat_map(|ids| ids.iter().enumerate().map(|(pos, &id)| (id as usize, pos)))
            .collect();
        if let Some(&(id, _)) = tokens.iter().find(|&&(id, _)| id >= vocab) {
            candle_core::bail!("token id {id} is outside the vocabulary of {vocab}");
        }
        if texts.iter().any(|ids| ids.len() > crate::MAX_TOKENS) {
            candle_core::bail!("a text has more than {} tokens", crate::MAX_TOKENS);
        }
        let lens: Vec<usize> = texts.iter().map(|ids| ids.len()).collect();

        let mut x = vec![0f32; tokens.len() * HIDDEN];
        let norm = &self.embeddings_norm;
        x.par_chunks_mut(HIDDEN)
            .zip(&tokens)
            .with_min_len(ROWS_PER_TASK)
            .for_each(|(row, &(id, pos))| {
                let word = &self.word_embeddings[id * HIDDEN..][..HIDDEN];
                let position = &self.position_embeddings[pos * HIDDEN..][..HIDDEN];
                kernels::add_layer_norm(
                    row,
                    word,
                    position,
                    &self.token_type_embedding,
                    &norm.gamma,
                    &norm.beta,
                    LAYER_NORM_EPS,
                );
            });
        for layer in &self.layers {
            x = layer.forward(x, &lens)?;
        }
        Ok(x)
    }
}

impl Layer {
    fn forward(&self, x: Vec<f32>, lens: &[usize]) -> candle_core::Result<Vec<f32>> {
        let rows = x.len() / HIDDEN;
        let x = Tensor::from_vec(x, (rows, HIDDEN), &Device::Cpu)?;

        let qkv = x.matmul(&self.qkv.weight_t)?;
        let context = with_f32(&qkv, |qkv| attention(qkv, &self.qkv.bias, lens))??;
        let context = Tensor::from_vec(context, (rows, HIDDEN), &Device::Cpu)?;
        let projected = context.matmul(&self.attention_output.weight_t)?;
        let x = add_norm(
            &projected,
            &self.attention_output.bias,
            &x,
            &self.attention_norm,
        )?;

        let x = Tensor::from_vec(x, (rows, HIDDEN), &Device::Cpu)?;
        let intermediate = x.matmul(&self.intermediate.weight_t)?;
        let mut activated = vec![0f32; rows * INTERMEDIATE];
        let bias = &self.intermediate.bias;
        with_f32(&intermediate, |intermediate| {
            activated
                .par_chunks_mut(INTERMEDIATE)
                .zip(intermediate.par_chunks(INTERMEDIATE))
                .with_min_len(ROWS_PER_TASK)
                .for_each(|(row, x)| kernels::add_gelu(row, x, bias));
        })?;
        let activated = Tensor::from_vec(activated, (rows, INTERMEDIATE), &Device::Cpu)?;
        let output = activated.matmul(&self.output.weight_t)?;
        add_norm(&output, &self.output.bias, &x, &self.output_norm)
    }
}

/// `layer_norm(product + bias + residual)`, row by row, into a new matrix.
fn add_norm(
    product: &Tensor,
    bias: &[f32],
    residual: &Tensor,
    norm: &LayerNorm,
) -> candle_core::Result<Vec<f32>> {
    let mut out = vec![0f32; product.elem_count()];
    with_f32(product, |product| {
        with_f32(residual, |residual| {
            out.par_chunks_mut(HIDDEN)
                .zip(product.par_chunks(HIDDEN))
                .zip(residual.par_chunks(HIDDEN))
                .with_min_len(ROWS_PER_TASK)
                .for_each(|((row, x), residual)| {
                    let (gamma, beta) = (&norm.gamma, &norm.beta);
                    kernels::add_layer_norm(row, x, bias, residual, gamma, beta, LAYER_NORM_EPS);
                });
        })
    })??;
    Ok(out)
}

/// Multi-head self-attention of each text over its own tokens. `qkv` holds
/// every token's query, key and value projections side by side (before
/// their bias), texts one after the other with `lens` tokens each; the result
/// is every token's attended values, (tokens, HIDDEN), heads side by side.
fn attention(qkv: &[f32], bias: &[f32], lens: &[usize]) -> candle_core::Result<Vec<f32>> {
    let rows = qkv.len() / (3 * HIDDEN);
    let mut context = vec![0f32; rows * HIDDEN];
    // Split both into per-text pieces, then run the texts in parallel.
    let mut pieces = Vec::with_capacity(lens.len());
    let (mut qkv_rest, mut out_rest) = (qkv, context.as_mut_slice());
    for &len in lens {
        let (qkv_text, q_rest) = qkv_rest.split_at(len * 3 * HIDDEN);
        let (out_text, o_rest) = out_rest.split_at_mut(len * HIDDEN);
        pieces.push((qkv_text, out_text));
        (qkv_rest, out_rest) = (q_rest, o_rest);
    }
    pieces
        .into_par_iter()
        .try_for_each(|(qkv, out)| attention_one(qkv, bias, out))?;
    Ok(context)
}

/// Attention of one text of `len = out.len() / HIDDEN` tokens.
fn attention_one(qkv: &[f32], bias: &[f32], out: &mut [f32]) -> candle_core::Result<()> {
    let len = out.len() / HIDDEN;
    // Regroup by head, (HEADS, len, HEAD_DIM) each, bias added; the queries
    // also scaled by 1/sqrt(HEAD_DIM) here, where it costs one multiply per
    // number rather than one per score.
    let scale = 1.0 / (HEAD_DIM as f32).sqrt();
    let by_head = |which: usize, scale: f32| {
        let mut dst = Vec::with_capacity(len * HIDDEN);
        for h in 0..HEADS {
            let from = which * HIDDEN + h * HEAD_DIM;
            let bias = &bias[from..from + HEAD_DIM];
            for row in qkv.chunks_exact(3 * HIDDEN) {
                let row = &row[from..from + HEAD_DIM];
                dst.extend(row.iter().zip(bias).map(|(x, b)| (x + b) * scale));
            }
        }
        Tensor::from_vec(dst, (HEADS, len, HEAD_DIM), &Device::Cpu)
    };
    let (q, k, v) = (by_head(0, scale)?, by_head(1, 1.0)?, by_head(2, 1.0)?);

    let scores = q.matmul(&k.t()?)?;
    let mut probs = Vec::with_capacity(HEADS * len * len);
    with_f32(&scores, |scores| {
        for row in scores.chunks_exact(len) {
            kernels::softmax_onto(&mut probs, row);
        }
    })?;
    let probs = Tensor::from_vec(probs, (HEADS, len, len), &Device::Cpu)?;
    let attended = probs.matmul(&v)?;
    with_f32(&attended, |attended| {
        for (h, head) in attended.chunks_exact(len * HEAD_DIM).enumerate() {
            for (t, values) in head.chunks_exact(HEAD_DIM).enumerate() {
                out[t * HIDDEN + h * HEAD_DIM..][..HEAD_DIM].copy_from_slice(values);
            }
        }
    })
}

/// Runs `f` on a contiguous f32 CPU tensor's numbers, without copying them.
fn with_f32<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> R) -> candle_core::Result<R> {
    let (storage, layout) = t.storage_and_layout();
    match (&*storage, layout.contiguous_offsets()) {
        (Storage::Cpu(CpuStorage::F32(data)), Some((start, end))) => Ok(f(&data[start..end])),
        _ => candle_core::bail!("expected a contiguous f32 CPU tensor, got {:?}", t.dtype()),
    }
}
