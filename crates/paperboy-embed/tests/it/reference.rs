//! The Rust embedder against vectors sentence-transformers computed
//! (`bench/st_reference.py`, stored in `tests/reference_vectors.json`).

use paperboy_embed::{Embedder, MAX_TOKENS, MINILM_DIM, cosine};
use serde::Deserialize;

use crate::minilm;

#[derive(Deserialize)]
struct Reference {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    token_ids: Vec<u32>,
    vector: Vec<f32>,
}

fn reference() -> Reference {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference_vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Embeds `texts` together (so batching and padding are exercised) and
/// checks each against sentence-transformers' vector.
fn check(cases: &[&Case]) {
    let texts: Vec<&str> = cases.iter().map(|c| c.text.as_str()).collect();
    let got = minilm().embed(&texts).unwrap();
    for (case, vector) in cases.iter().zip(&got) {
        assert_eq!(vector.len(), MINILM_DIM);
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{:?}: norm {norm}", case.text);
        let cos = cosine(vector, &case.vector);
        assert!(
            cos >= 0.9999,
            "{:?}: cosine {cos} with sentence-transformers",
            case.text
        );
        let max_diff = vector
            .iter()
            .zip(&case.vector)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        eprintln!(
            "{:?}: cosine {cos:.7}, largest difference {max_diff:.1e}",
            case.text.chars().take(40).collect::<String>()
        );
    }
}

#[test]
fn tokens_match_sentence_transformers() {
    for case in reference().cases {
        assert_eq!(
            minilm().token_ids(&case.text).unwrap(),
            case.token_ids,
            "{:?}",
            case.text
        );
    }
}

#[test]
fn vectors_match_sentence_transformers_in_one_batch() {
    let reference = reference();
    check(&reference.cases.iter().collect::<Vec<_>>());
}

#[test]
fn vectors_match_sentence_transformers_one_by_one() {
    for case in &reference().cases {
        check(&[case]);
    }
}

#[test]
fn a_long_document_is_cut_at_256_tokens_like_sentence_transformers() {
    let reference = reference();
    let long = reference.cases.last().unwrap();
    assert!(
        long.text.split_whitespace().count() > MAX_TOKENS,
        "the fixture's long text is long"
    );
    assert_eq!(long.token_ids.len(), MAX_TOKENS);
    assert_eq!(minilm().token_ids(&long.text).unwrap().len(), MAX_TOKENS);
    check(&[long]);
}

#[test]
fn input_order_is_kept_whatever_the_lengths() {
    let reference = reference();
    // Longest first, so sorting by length inside `embed` reorders them.
    let mut cases: Vec<&Case> = reference.cases.iter().collect();
    cases.reverse();
    check(&cases);
    assert!(minilm().embed(&[]).unwrap().is_empty());
}
