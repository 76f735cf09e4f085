//! Search quality evaluation: the pure parts of `paperboy bench quality`.
//!
//! [`beir`] reads a data set in the BEIR layout (`corpus.jsonl`,
//! `queries.jsonl`, `qrels/<split>.tsv`) and turns its documents into
//! Paperboy records under synthetic arXiv ids; [`metrics`] scores rankings
//! against the judgments (nDCG@k, Recall@k, MRR@k, as BEIR reports them);
//! [`known_items`] writes a BEIR-layout set of short known-item queries made
//! from the Hugging Face daily-papers files.
//!
//! Nothing here opens a store, builds an index or runs a model: the command
//! wires those around these pieces.

pub mod beir;
pub mod known_items;
pub mod metrics;
