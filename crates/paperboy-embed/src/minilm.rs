use std::path::Path;

use candle_core::{D, DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Tokenizer, TruncationParams};

use crate::model_files::{self, ModelFile};
use crate::{EmbedError, Embedder, MAX_TOKENS, MINILM_DIM};

/// Texts run through the network together. Batches are formed from texts of
/// similar token counts (see [`MiniLm::embed`]), so little is spent on padding.
const DEFAULT_BATCH: usize = 16;

/// sentence-transformers/all-MiniLM-L6-v2 on the CPU.
///
/// Tokenizes with the model's own `tokenizer.json`, but truncated at
/// [`MAX_TOKENS`] (the file says 128, sentence-transformers uses 256) and
/// padded per batch to its longest text (the file pads everything to 128);
/// then BERT, mean pooling over real tokens, and L2 normalisation.
pub struct MiniLm {
    model: BertModel,
    tokenizer: Tokenizer,
    batch: usize,
}

impl MiniLm {
    /// Loads the model from `dir` (the folder `scripts/fetch-model` fills),
    /// checking every file's SHA-256 against [`model_files`] first.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let invalid = |file: ModelFile, message: String| EmbedError::ModelFileInvalid {
            path: dir.join(file.name),
            message,
        };

        let config_bytes = model_files::read_verified(dir, model_files::CONFIG)?;
        let config: Config = serde_json::from_slice(&config_bytes)
            .map_err(|e| invalid(model_files::CONFIG, e.to_string()))?;
        if config.hidden_size != MINILM_DIM {
            return Err(invalid(
                model_files::CONFIG,
                format!(
                    "hidden_size is {}, expected {MINILM_DIM}",
                    config.hidden_size
                ),
            ));
        }
        // The pooling file is only hash-checked: its pinned content says
        // "mean tokens", which is what `mean_pool` does.
        model_files::read_verified(dir, model_files::POOLING)?;

        let tokenizer_bytes = model_files::read_verified(dir, model_files::TOKENIZER)?;
        let mut tokenizer = Tokenizer::from_bytes(&tokenizer_bytes)
            .map_err(|e| invalid(model_files::TOKENIZER, e.to_string()))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..TruncationParams::default()
            }))
            .map_err(|e| invalid(model_files::TOKENIZER, e.to_string()))?;
        // Padding is done per batch in `embed_batch`.
        tokenizer.with_padding(None);

        let weights = model_files::read_verified(dir, model_files::WEIGHTS)?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &Device::Cpu)
            .map_err(|e| invalid(model_files::WEIGHTS, e.to_string()))?;
        let model = BertModel::load(vb, &config)
            .map_err(|e| invalid(model_files::WEIGHTS, e.to_string()))?;

        Ok(Self {
            model,
            tokenizer,
            batch: DEFAULT_BATCH,
        })
    }

    /// Sets how many texts run through the network at once (at least 1).
    pub fn with_batch_size(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// Token ids the model sees for `text`, `[CLS]` and `[SEP]` included,
    /// after truncation to [`MAX_TOKENS`].
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, EmbedError> {
        let encoding = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| EmbedError::Tokenize(e.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Runs one batch of tokenized texts, padded to the longest.
    fn embed_batch(&self, batch: &[&[u32]]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let len = batch.iter().map(|ids| ids.len()).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(batch.len() * len);
        let mut mask = Vec::with_capacity(batch.len() * len);
        for seq in batch {
            ids.extend_from_slice(seq);
            ids.extend(std::iter::repeat_n(0u32, len - seq.len()));
            mask.extend(std::iter::repeat_n(1u32, seq.len()));
            mask.extend(std::iter::repeat_n(0u32, len - seq.len()));
        }
        let shape = (batch.len(), len);
        let ids = Tensor::from_vec(ids, shape, &Device::Cpu)?;
        let mask = Tensor::from_vec(mask, shape, &Device::Cpu)?;
        let token_types = ids.zeros_like()?;
        let hidden = self.model.forward(&ids, &token_types, Some(&mask))?;
        let pooled = mean_pool(&hidden, &mask)?;
        let normalised = pooled.broadcast_div(&pooled.sqr()?.sum_keepdim(1)?.sqrt()?)?;
        Ok(normalised.to_vec2::<f32>()?)
    }
}

/// Mean of the token vectors `hidden` (batch, tokens, dim) over the tokens
/// whose `mask` (batch, tokens) is 1, as sentence-transformers' Pooling does.
fn mean_pool(hidden: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
    let mask = mask.to_dtype(DType::F32)?.unsqueeze(D::Minus1)?;
    let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
    let counts = mask.sum(1)?.clamp(1e-9, f64::MAX)?;
    summed.broadcast_div(&counts)
}

impl Embedder for MiniLm {
    /// Tokenizes everything, then runs batches of texts sorted by token count
    /// so each batch pads little, and puts the vectors back in input order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Tokenize(e.to_string()))?;
        let ids: Vec<&[u32]> = encodings.iter().map(|e| e.get_ids()).collect();
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| ids[i].len());

        let mut out = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(self.batch) {
            let batch: Vec<&[u32]> = chunk.iter().map(|&i| ids[i]).collect();
            for (&i, vector) in chunk.iter().zip(self.embed_batch(&batch)?) {
                out[i] = vector;
            }
        }
        Ok(out)
    }

    fn dim(&self) -> usize {
        MINILM_DIM
    }
}
