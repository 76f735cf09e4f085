//! Integration tests of the web crate: the real router on a random port over
//! a temp-dir SQLite database, driven over HTTP.

mod accounts;
mod api;
mod app;
mod broken;
mod browser;
mod feeds;
mod ops;
mod pages;
mod participation;
mod real_data;
mod search;
mod semantic;
mod subscribe;
mod xml;
mod xss;
