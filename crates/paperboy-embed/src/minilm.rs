use std::path::Path;

use candle_core::Device;
use tokenizers::{Tokenizer, TruncationParams};

use crate::bert::{self, Bert};

use crate::model_files::{self, ModelFile};
use crate::{EmbedError, Embedder, MAX_TOKENS, MINILM_DIM};

/// Texts run through the network together. Nothing is padded (see
/// [`crate::bert`]), so a batch only makes the dense layers' matrix products
/// larger, hence faster per token, at the cost of memory (some 30–50 KB per
/// token of the batch: activations, and the attention scores of the texts
/// being attended at the time).
const DEFAULT_BATCH: usize = 16;

/// sentence-transformers/all-MiniLM-L6-v2 on the CPU.
///
/// Tokenizes with the model's own `tokenizer.json`, but truncated at
/// [`MAX_TOKENS`] (the file says 128, sentence-transformers uses 256) and
/// never padded (the file pads everything to 128); then BERT (this crate's own forward pass),
/// mean pooling over the tokens, and L2 normalisation.
pub struct MiniLm {
    model: Bert,
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
        let config: serde_json::Value = serde_json::from_slice(&config_bytes)
            .map_err(|e| invalid(model_files::CONFIG, e.to_string()))?;
        bert::check_config(&config).map_err(|message| invalid(model_files::CONFIG, message))?;
        // The pooling file is only hash-checked: its pinned content says
        // "mean tokens", which is what `embed_batch` does.
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
        let tensors = candle_core::safetensors::load_buffer(&weights, &Device::Cpu)
            .map_err(|e| invalid(model_files::WEIGHTS, e.to_string()))?;
        let model = Bert::from_tensors(&tensors)
            .map_err(|message| invalid(model_files::WEIGHTS, message))?;

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

    /// Runs one batch of tokenized texts: one vector per text, the mean of
    /// its token vectors (sentence-transformers' "mean tokens" pooling; no
    /// padding, so every token counts), L2-normalised.
    fn embed_batch(&self, batch: &[&[u32]]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let hidden = self.model.forward(batch)?;
        let mut rows = hidden.chunks_exact(bert::HIDDEN);
        Ok(batch
            .iter()
            .map(|ids| {
                let mut v = vec![0f32; bert::HIDDEN];
                for row in rows.by_ref().take(ids.len()) {
                    v.iter_mut().zip(row).for_each(|(a, x)| *a += x);
                }
                let count = ids.len().max(1) as f32;
                v.iter_mut().for_each(|a| *a /= count);
                let norm = v.iter().map(|a| a * a).sum::<f32>().sqrt().max(1e-12);
                v.iter_mut().for_each(|a| *a /= norm);
                v
            })
            .collect())
    }
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
