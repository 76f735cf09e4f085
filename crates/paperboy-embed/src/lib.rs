//! Text embeddings for semantic search: turns a paper's text into a unit
//! vector whose cosine with a query's vector measures how related they are.
//!
//! [`MiniLm`] runs sentence-transformers/all-MiniLM-L6-v2 (BERT, 6 layers,
//! 384 dimensions, mean pooling, L2-normalised, at most 256 tokens) on the CPU
//! with its own BERT forward pass over candle's matrix products, from model
//! files on disk whose SHA-256 it checks
//! ([`model_files`]). [`FakeEmbedder`] is a small deterministic stand-in for
//! tests elsewhere that must not need the model.
//!
//! This crate never downloads anything, never touches the database and knows
//! nothing of indexes: it takes text and gives vectors. Documents are embedded
//! as [`document_text`] (title + ". " + abstract); queries as they are typed.

mod bert;
mod error;
mod fake;
mod kernels;
mod minilm;
pub mod model_files;

pub use error::EmbedError;
pub use fake::FakeEmbedder;
pub use minilm::MiniLm;

/// Dimensions of an all-MiniLM-L6-v2 vector.
pub const MINILM_DIM: usize = 384;

/// The most tokens (including `[CLS]` and `[SEP]`) the model sees of a text;
/// the rest is cut off, as sentence-transformers does (`max_seq_length`).
pub const MAX_TOKENS: usize = 256;

/// Something that turns texts into unit vectors of [`Embedder::dim`] numbers.
///
/// Object-safe and shareable, so callers can hold an `Arc<dyn Embedder>` and
/// tests can swap in [`FakeEmbedder`].
pub trait Embedder: Send + Sync {
    /// One L2-normalised vector per text, in the order given.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;

    /// Length of every vector [`Embedder::embed`] returns.
    fn dim(&self) -> usize;
}

/// The text a paper is embedded as: its title, ". ", then its abstract (the
/// title alone when there is no abstract). Both are trimmed. With the
/// 256-token limit, long abstracts lose their ends, never the title.
pub fn document_text(title: &str, abstract_: &str) -> String {
    let (title, abstract_) = (title.trim(), abstract_.trim());
    if abstract_.is_empty() {
        title.to_owned()
    } else {
        format!("{title}. {abstract_}")
    }
}

/// Cosine of two vectors (their dot product when both are unit vectors).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_text_joins_title_and_abstract() {
        let check = |title: &str, abs: &str, expect: &str| {
            assert_eq!(document_text(title, abs), expect, "{title:?} + {abs:?}");
        };
        check(
            "Attention Is All You Need",
            "We propose.",
            "Attention Is All You Need. We propose.",
        );
        check("  Spaced  ", "\n abstract \n", "Spaced. abstract");
        check("Title only", "   ", "Title only");
    }

    #[test]
    fn cosine_of_parallel_and_orthogonal_vectors() {
        assert!((cosine(&[1.0, 0.0], &[2.0, 0.0]) - 1.0).abs() < 1e-6);
        assert!(cosine(&[1.0, 0.0], &[0.0, 3.0]).abs() < 1e-6);
    }
}
