//! Search over the catalog: the keyword (full-text) index ([`keyword`]), the
//! vector index of embeddings ([`vector`], over the [`ann`] structure), and
//! their fusion ([`hybrid`]).
//!
//! Everything here is derived from the [`paperboy_store::Store`] and can be
//! thrown away and rebuilt from it: indexes catch up through
//! [`paperboy_store::Store::papers_changed_since`] and never write to the
//! store. This crate never runs models (it will take query vectors) and knows
//! nothing of HTTP: results are plain data (snippets as text plus highlighted
//! ranges), for the caller to render and escape.

pub mod ann;
pub mod hybrid;
pub mod keyword;
pub mod matcher;
pub mod query;
pub mod vector;

use std::path::PathBuf;

pub use hybrid::{FusionParams, Hybrid, Method, QueryEncoder, SearchEngine};
pub use keyword::{
    DateField, KeywordIndex, Scored, SearchHit, SearchRequest, SearchResults, Snippet, SortBy,
};
pub use matcher::{Matcher, PaperText};
pub use vector::VectorIndex;

/// What can go wrong while keeping or searching an index. None of it is the
/// user's fault: queries never fail to parse.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("the search index failed: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("the search index could not read the database: {0}")]
    Store(#[from] paperboy_store::StoreError),
    #[error("could not use the index directory {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the search index holds damaged data: {message}")]
    Corrupt { message: String },
    #[error(
        "the search index {path} must be rebuilt, but another process writes it; stop that process (an older `paperboy serve`?) first"
    )]
    Locked { path: PathBuf },
}
