use crate::{EmbedError, Embedder, MINILM_DIM};

/// A deterministic stand-in for the real model, for tests that must not need
/// its files: a hashed bag of lower-cased words, L2-normalised. Texts sharing
/// words get positive cosines, identical texts identical vectors, and the same
/// text gives the same vector on every machine and run. It knows no meaning:
/// synonyms are unrelated.
#[derive(Debug, Clone)]
pub struct FakeEmbedder {
    dim: usize,
}

impl FakeEmbedder {
    /// A fake with `dim` dimensions (at least 1).
    pub fn new(dim: usize) -> Self {
        Self { dim: dim.max(1) }
    }
}

impl Default for FakeEmbedder {
    /// As many dimensions as the real model.
    fn default() -> Self {
        Self::new(MINILM_DIM)
    }
}

impl Embedder for FakeEmbedder {
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts.iter().map(|t| self.embed_one(t)).collect())
    }

    fn dim(&self) -> usize {
        self.dim
    }
}

impl FakeEmbedder {
    fn embed_one(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0f32; self.dim];
        for word in text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            let h = fnv1a(&word.to_lowercase());
            let sign = if h >> 63 == 0 { 1.0 } else { -1.0 };
            v[(h % self.dim as u64) as usize] += sign;
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm == 0.0 {
            // No words: a fixed unit vector rather than NaNs.
            v[0] = 1.0;
        } else {
            v.iter_mut().for_each(|x| *x /= norm);
        }
        v
    }
}

/// FNV-1a, 64 bits: stable across Rust versions, unlike `DefaultHasher`.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosine;

    fn embed(text: &str) -> Vec<f32> {
        FakeEmbedder::default().embed(&[text]).unwrap().remove(0)
    }

    #[test]
    fn vectors_are_unit_length_and_deterministic() {
        for text in ["", "   ", "graph neural networks", "Émoji 🚀 und Umlaute"] {
            let v = embed(text);
            assert_eq!(v.len(), MINILM_DIM);
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-5, "{text:?}: norm {norm}");
            assert_eq!(v, embed(text));
        }
    }

    #[test]
    fn shared_words_make_texts_closer() {
        let q = embed("diffusion models for images");
        let near = embed("Image diffusion models");
        let far = embed("protein folding with transformers");
        assert!(cosine(&q, &near) > cosine(&q, &far));
        assert!((cosine(&q, &embed("DIFFUSION models, for images!")) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn a_pinned_vector_never_changes() {
        // Other crates' tests may store fake vectors; changing the hash would
        // silently change them.
        let v = FakeEmbedder::new(8).embed(&["a b"]).unwrap().remove(0);
        let nonzero: Vec<usize> = (0..8).filter(|&i| v[i] != 0.0).collect();
        assert_eq!(nonzero.len(), 2, "{v:?}");
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
