//! `paperboy embed --text`: a smoke test of the embedding model. Loads it
//! from the model directory and prints the first dimensions of one text's
//! vector. Computing and storing vectors for the catalog comes later.

use std::path::Path;

use anyhow::Context;
use paperboy_embed::{Embedder, MiniLm};

/// How many of the 384 dimensions to print.
const SHOWN: usize = 8;

pub fn print_embedding(model_dir: &Path, text: &str) -> anyhow::Result<()> {
    let model = MiniLm::load(model_dir)
        .with_context(|| format!("loading the embedding model from {}", model_dir.display()))?;
    let vector = model.embed(&[text])?.remove(0);
    let tokens = model.token_ids(text)?.len();
    let shown: Vec<String> = vector[..SHOWN].iter().map(|x| format!("{x:.6}")).collect();
    println!(
        "{} dims, {tokens} tokens: [{}, ...]",
        vector.len(),
        shown.join(", ")
    );
    Ok(())
}
