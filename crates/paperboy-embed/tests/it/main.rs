//! paperboy-embed's integration tests: the real model against
//! sentence-transformers' own output, and the loading checks.
//!
//! The model's files come from the folder named by `PAPERBOY_TEST_MODEL_DIR`,
//! which `scripts/test` fills through `scripts/fetch-model`; without the
//! variable, the cache folder `scripts/test` uses by default. Tests that need
//! the model fail, saying how to get it, when neither has it: they never skip.

mod loading;
mod reference;

use std::path::PathBuf;
use std::sync::OnceLock;

use paperboy_embed::MiniLm;

/// Where the real model's files are, or a failure that says how to get them.
fn model_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PAPERBOY_TEST_MODEL_DIR") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|c| c.join("paperboy/all-minilm-l6-v2"));
    match cache {
        Some(dir) if dir.join("model.safetensors").exists() => dir,
        _ => panic!(
            "these tests run the real embedding model: run them through `scripts/test`, \
             or run `scripts/fetch-model DIR` and set PAPERBOY_TEST_MODEL_DIR=DIR"
        ),
    }
}

/// The real model, loaded once for all tests of this binary.
fn minilm() -> &'static MiniLm {
    static MODEL: OnceLock<MiniLm> = OnceLock::new();
    MODEL.get_or_init(|| {
        let dir = model_dir();
        MiniLm::load(&dir)
            .unwrap_or_else(|e| panic!("loading the model from {}: {e}", dir.display()))
    })
}
