//! Integration tests of paperboy-sync: the polite client, the OAI-PMH harvest
//! and the HF day fetch, against a local HTTP server that replays real
//! recorded responses from `shared/data` (never the internet).

mod client;
mod hf;
mod oai;
mod server;
