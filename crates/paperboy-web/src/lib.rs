//! The web site, the HF-compatible JSON API and the Atom feeds, served by
//! axum. The only crate that knows HTTP, HTML and JSON shapes; it reaches the
//! database only through `paperboy_store::Store` (blocking calls run on
//! tokio's blocking pool), and maps every error to a response in one place
//! (`error.rs`).

pub mod account;
pub mod api;
pub mod auth;
pub mod browse;
pub mod cache;
pub mod error;
pub mod feeds;
pub mod layout;
pub mod listing;
pub mod markdown;
pub mod ops;
pub mod participate;
pub mod search;
pub mod subscribe;

use std::sync::Arc;

use axum::Router;
use chrono::{DateTime, NaiveDate, Utc};
use paperboy_store::{Store, StoreError};

use crate::error::WebError;

/// Settings of the web server.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The public URL of the site, without trailing slash
    /// (`https://papers.example.org`): used in feeds and absolute links.
    pub base_url: String,
    /// Mark cookies `Secure` (serve behind TLS).
    pub secure_cookies: bool,
    /// Submitted papers must have an arXiv date at most this many days old.
    pub submit_max_age_days: i64,
    /// Site name shown in the header and feeds.
    pub site_name: String,
    /// Take the client address from `X-Forwarded-For` (its last entry, the
    /// one our reverse proxy added) instead of the socket: only behind a
    /// proxy that sets it, or clients could pick their own rate-limit key.
    pub trust_proxy: bool,
    /// How long a finished page or API list may be answered from memory
    /// (see [`cache`]); zero turns the cache off. Users' writes through the
    /// site show at once regardless; this bounds how late writes by other
    /// processes (an import, a sync) show.
    pub page_cache_ttl: std::time::Duration,
    /// Whether this site sends mail (an SMTP server is configured): without
    /// it, `/subscribe` says so instead of taking addresses it would never
    /// write to.
    pub mail_enabled: bool,
}

impl Default for WebConfig {
    fn default() -> WebConfig {
        WebConfig {
            base_url: "http://127.0.0.1:8080".into(),
            secure_cookies: false,
            submit_max_age_days: 14,
            site_name: "Paperboy".into(),
            trust_proxy: false,
            page_cache_ttl: std::time::Duration::from_secs(2),
            mail_enabled: true,
        }
    }
}

/// The clock handlers read "now" from; tests set it.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<WebConfig>,
    pub clock: Clock,
    pub limits: Arc<auth::RateLimits>,
    pub metrics: Arc<ops::Metrics>,
    /// Finished responses of the hot read routes.
    pub cache: Arc<cache::ResponseCache>,
    /// The search indexes (keyword, and vectors when the embedding model is
    /// installed); `None` serves search pages as unavailable.
    pub search: Option<Arc<paperboy_search::SearchEngine>>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: WebConfig) -> AppState {
        AppState {
            store,
            cache: Arc::new(cache::ResponseCache::new(config.page_cache_ttl)),
            config: Arc::new(config),
            clock: Arc::new(Utc::now),
            limits: Arc::new(auth::RateLimits::default()),
            metrics: Arc::new(ops::Metrics::default()),
            search: None,
        }
    }

    /// This state with search indexes; [`serve`] keeps them caught up with
    /// the store (see [`search::spawn_refresher`]).
    pub fn with_search(mut self, engine: Arc<paperboy_search::SearchEngine>) -> AppState {
        self.search = Some(engine);
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Today's date (UTC) by [`AppState::now`]: the latest curation day a
    /// page may show.
    pub fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }

    /// Runs store reads on tokio's blocking pool, so that a slow query never
    /// stalls the async workers. Several calls that one page needs go into
    /// one closure: one hop to the pool instead of one per call.
    ///
    /// ```text
    /// let entries = state.read(move |store| store.entries(&query)).await?;
    /// ```
    pub async fn read<T, F>(&self, f: F) -> Result<T, WebError>
    where
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let store = Arc::clone(&self.store);
        Ok(tokio::task::spawn_blocking(move || f(store.as_ref())).await??)
    }

    /// Runs store writes on tokio's blocking pool, like [`AppState::read`],
    /// then marks every cached response stale (see [`cache`]), so that what
    /// a user did shows on the next page. Every write a user can see the
    /// effect of on a list or a paper page must go through here.
    pub async fn write<T, F>(&self, f: F) -> Result<T, WebError>
    where
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let result = self.read(f).await;
        self.cache.invalidate();
        result
    }
}

/// Every route of the site.
///
/// Unknown paths get a 404 page (JSON under `/api/`). Every request, the
/// fallback included, passes [`ops::track`], which counts it for `/metrics`
/// and makes the site name available to [`layout::page`].
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(layout::routes())
        .merge(browse::routes())
        .merge(api::routes())
        .merge(feeds::routes())
        .merge(ops::routes())
        .merge(account::routes())
        .merge(participate::routes())
        .merge(search::routes())
        .merge(subscribe::routes())
        .fallback(ops::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::track,
        ))
        .with_state(state)
}

/// Serves the site on `listener` until ctrl-c / SIGTERM, keeping the search
/// index (if any) caught up with the store meanwhile.
///
/// With the peer's socket address in each request (`ConnectInfo`), which
/// rate limits key on ([`auth::ClientIp`]).
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    search::spawn_refresher(&state);
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
