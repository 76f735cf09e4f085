//! A short-lived cache of finished responses of the hot read routes (the
//! day, week, month and trending lists, paper pages, the JSON lists, the
//! feeds), so that a popular page costs one map lookup instead of store
//! queries and rendering.
//!
//! Only what is the same for everyone is cached: API reads, and pages for a
//! visitor who is not signed in (a signed-in viewer sees their own upvotes
//! and forms). An entry is fresh while no write went through
//! [`crate::AppState::write`] since it was rendered (users' upvotes and
//! comments show at once), the store's change sequence has not moved (writes
//! by other processes — an import, another node sharing the database — show
//! as soon as [`crate::search::spawn_refresher`] sees them), and for at most
//! the configured TTL. Errors are never
//! cached.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// Entries kept at most; past this, stale ones are dropped and new ones are
/// not added until there is room (keys come from URLs people type).
const MAX_ENTRIES: usize = 2048;

/// Bodies larger than this are not kept.
const MAX_BODY: usize = 1 << 20;

pub const HTML: &str = "text/html; charset=utf-8";
pub const JSON: &str = "application/json";

/// The cache; one per server, in [`crate::AppState`].
#[derive(Debug)]
pub struct ResponseCache {
    ttl: Duration,
    /// Grows with every write through `AppState::write`.
    generation: AtomicU64,
    entries: RwLock<HashMap<String, Entry>>,
}

#[derive(Debug, Clone)]
struct Entry {
    generation: u64,
    at: Instant,
    content_type: &'static str,
    body: Bytes,
}

impl ResponseCache {
    /// A cache whose entries live at most `ttl`; zero turns it off.
    pub fn new(ttl: Duration) -> ResponseCache {
        ResponseCache {
            ttl,
            generation: AtomicU64::new(0),
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// Read before reading the store; hand it to [`ResponseCache::keep`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Something changed: every entry is stale. Called after a write
    /// commits, so that nothing read before it is kept as fresh.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The cached answer for `key`, if it is fresh.
    pub fn lookup(&self, key: &str) -> Option<Response> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(key)?;
        self.is_fresh(entry)
            .then(|| respond(entry.content_type, entry.body.clone()))
    }

    fn is_fresh(&self, entry: &Entry) -> bool {
        entry.generation == self.generation() && entry.at.elapsed() < self.ttl
    }

    /// The 200 answer with `body`, kept under `key` (when there is one)
    /// as rendered from what the store held at `generation`.
    pub fn keep(
        &self,
        key: Option<String>,
        generation: u64,
        content_type: &'static str,
        body: impl Into<Bytes>,
    ) -> Response {
        let body = body.into();
        if let Some(key) = key
            && !self.ttl.is_zero()
            && body.len() <= MAX_BODY
            && generation == self.generation()
        {
            let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
            if entries.len() >= MAX_ENTRIES {
                entries.retain(|_, e| e.generation == generation && e.at.elapsed() < self.ttl);
            }
            if entries.len() < MAX_ENTRIES {
                let entry = Entry {
                    generation,
                    at: Instant::now(),
                    content_type,
                    body: body.clone(),
                };
                entries.insert(key, entry);
            }
        }
        respond(content_type, body)
    }
}

fn respond(content_type: &'static str, body: Bytes) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    #[tokio::test]
    async fn fresh_until_a_write_or_the_ttl() {
        let cache = ResponseCache::new(Duration::from_millis(200));
        assert!(cache.lookup("/a").is_none());
        let g = cache.generation();
        let first = cache.keep(Some("/a".into()), g, HTML, "one");
        assert_eq!(text(first).await, "one");
        let hit = cache.lookup("/a").expect("cached");
        assert_eq!(hit.headers()[header::CONTENT_TYPE], HTML);
        assert_eq!(text(hit).await, "one");
        assert!(cache.lookup("/b").is_none());

        cache.invalidate();
        assert!(cache.lookup("/a").is_none(), "a write makes it stale");

        let g = cache.generation();
        cache.keep(Some("/a".into()), g, HTML, "two");
        assert!(cache.lookup("/a").is_some());
        std::thread::sleep(Duration::from_millis(250));
        assert!(cache.lookup("/a").is_none(), "the TTL passed");
    }

    #[tokio::test]
    async fn what_was_read_before_a_write_is_not_kept() {
        let cache = ResponseCache::new(Duration::from_secs(60));
        let before = cache.generation();
        cache.invalidate();
        let answer = cache.keep(Some("/a".into()), before, JSON, "old");
        assert_eq!(text(answer).await, "old", "still answered");
        assert!(cache.lookup("/a").is_none(), "but not kept");
    }

    #[tokio::test]
    async fn no_key_or_zero_ttl_keeps_nothing() {
        let cache = ResponseCache::new(Duration::from_secs(60));
        cache.keep(None, cache.generation(), HTML, "x");
        assert!(cache.entries.read().expect("lock").is_empty());
        let off = ResponseCache::new(Duration::ZERO);
        off.keep(Some("/a".into()), off.generation(), HTML, "x");
        assert!(off.lookup("/a").is_none());
    }

    #[tokio::test]
    async fn the_number_of_entries_is_bounded() {
        let cache = ResponseCache::new(Duration::from_secs(60));
        for i in 0..MAX_ENTRIES + 10 {
            cache.keep(Some(format!("/k{i}")), cache.generation(), HTML, "x");
        }
        assert_eq!(cache.entries.read().expect("lock").len(), MAX_ENTRIES);
        cache.invalidate();
        cache.keep(Some("/new".into()), cache.generation(), HTML, "x");
        assert!(cache.lookup("/new").is_some(), "stale entries make room");
    }
}
