//! Embedding vectors of papers: costly to compute (a model runs over each
//! paper's text), so they are stored like data, one per (model, paper).
//!
//! The embedding job reads papers' texts with [`Vectors::texts_changed_since`]
//! (following [`crate::Store::change_seq`], so it resumes where it stopped
//! and sees edited abstracts), and writes vectors with [`Vectors::put_vectors`];
//! the vector index catches up from [`Vectors::vectors_changed_since`], which
//! follows a second sequence of its own that grows only when a vector is
//! written. The store treats vectors and text hashes as opaque: what they mean
//! is the embedder's business.

use paperboy_core::ArxivId;

use crate::StoreError;

/// A paper's text as the embedding job needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperText {
    /// The paper's change sequence number (see [`crate::Store::change_seq`]).
    pub seq: u64,
    pub id: ArxivId,
    pub title: String,
    pub abstract_text: String,
    /// The text hash stored with this paper's vector of the model asked
    /// about; `None` when the paper has no vector of that model yet.
    pub vector_hash: Option<Vec<u8>>,
}

/// One paper's vector of one model, with the hash of the text it embeds.
#[derive(Debug, Clone, PartialEq)]
pub struct PaperVector {
    pub id: ArxivId,
    pub text_hash: Vec<u8>,
    pub vector: Vec<f32>,
}

/// Counts of the vectors of one model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VectorStats {
    /// Papers that have a vector of the model.
    pub vectors: u64,
    /// All papers.
    pub papers: u64,
}

/// Stored embedding vectors. Vectors of different models live side by side,
/// each under its model's name; all of one model must have one dimension.
pub trait Vectors {
    /// Up to `limit` papers whose last change has a sequence number above
    /// `seq`, ascending, each with the stored text hash of its `model` vector.
    fn texts_changed_since(
        &self,
        model: &str,
        seq: u64,
        limit: usize,
    ) -> Result<Vec<PaperText>, StoreError>;

    /// Stores (or replaces) vectors of `model` in one transaction, each
    /// taking the next vector sequence number. `PaperNotFound` (and nothing
    /// stored) when a paper is unknown; `VectorDimension` when a vector's
    /// length differs from the others of the model.
    fn put_vectors(&self, model: &str, vectors: &[PaperVector]) -> Result<(), StoreError>;

    /// Up to `limit` vectors of `model` written after vector sequence number
    /// `seq`, ascending, each with its number.
    fn vectors_changed_since(
        &self,
        model: &str,
        seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, PaperVector)>, StoreError>;

    /// The paper's vector of `model`, `None` when it has none.
    fn paper_vector(&self, model: &str, id: &ArxivId) -> Result<Option<PaperVector>, StoreError>;

    /// The last vector sequence number handed out (0 before the first).
    fn vector_seq(&self) -> Result<u64, StoreError>;

    /// How many papers have a vector of `model`, of how many.
    fn vector_stats(&self, model: &str) -> Result<VectorStats, StoreError>;
}

/// Encodes a vector as stored: little-endian f32s.
pub fn encode_vector(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Decodes a stored vector; `None` when the length is not a multiple of 4.
pub fn decode_vector(bytes: &[u8]) -> Option<Vec<f32>> {
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_through_bytes() {
        let v = vec![0.0, -1.5, f32::MIN_POSITIVE, 3.25e-7];
        assert_eq!(decode_vector(&encode_vector(&v)), Some(v));
        assert_eq!(decode_vector(&[1, 2, 3]), None);
        assert_eq!(decode_vector(&[]), Some(vec![]));
    }
}
