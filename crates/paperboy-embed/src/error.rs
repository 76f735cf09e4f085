use std::path::PathBuf;

/// What can go wrong loading or running an embedding model.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// A model file is missing or unreadable.
    #[error(
        "model file {path} cannot be read (put the model files there with `scripts/fetch-model {dir}`)",
        dir = path.parent().map(|p| p.display().to_string()).unwrap_or_default()
    )]
    ModelFileUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },

    /// A model file is there but is not the pinned one (corrupt, truncated or
    /// another model's).
    #[error(
        "model file {path} has sha256 {actual}, expected {expected}; it is damaged or another model's: fetch it again with `scripts/fetch-model`"
    )]
    ModelFileHash {
        path: PathBuf,
        expected: &'static str,
        actual: String,
    },

    /// A model file has the right hash but could not be understood (a bug in
    /// this crate or its dependencies rather than in the file).
    #[error("model file {path} cannot be loaded: {message}")]
    ModelFileInvalid { path: PathBuf, message: String },

    /// Tokenising a text failed.
    #[error("tokenizing failed: {0}")]
    Tokenize(String),

    /// Running the network failed.
    #[error("running the model failed: {0}")]
    Inference(#[from] candle_core::Error),
}
