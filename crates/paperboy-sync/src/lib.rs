//! Live harvests over HTTP: arXiv's OAI-PMH interface (`paperboy sync arxiv`)
//! and the Hugging Face `api/daily_papers` list of a day (`paperboy sync hf`),
//! fetched politely: one request start per `min_interval`, `Retry-After`
//! honoured on 503/429, exponential backoff on other transient failures.
//!
//! Bytes come in here and go out as [`paperboy_import::Parsed`] items; the
//! parsing itself is `paperboy-import`'s. This crate never touches the
//! database (the caller stores what a sink or a return value hands it), knows
//! no CLI and no configuration file, and runs no async runtime: it is blocking
//! code meant for a CLI command or a background thread.

pub mod arxiv;
mod error;
pub mod hf;
pub mod polite;
mod query;

pub use arxiv::{
    ARXIV_OAI_BASE_URL, HarvestPage, HarvestSummary, OaiParams, SinkError, harvest_arxiv,
};
pub use error::SyncError;
pub use hf::{HF_BASE_URL, fetch_hf_day};
pub use polite::{Fetched, PoliteClient, Politeness};
