//! Search on the site: the `/search` page, `GET /api/papers/search` (items
//! shaped like `/api/daily_papers` items) and `/feeds/search.atom`.
//!
//! The query itself is never an error: whatever a user types gets an answer
//! (maybe an empty one with suggestions). Malformed filters (a bad date, a
//! negative upvote count, an unknown sort) are a 400 that says what is wrong.
//! The index lives in [`AppState::search`]; [`spawn_refresher`] keeps it
//! caught up with the store, so writes show within about a second.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use maud::{Markup, html};
use paperboy_search::{
    DateField, Method, SearchError, SearchHit, SearchRequest, SearchResults, Snippet, SortBy,
};
use paperboy_store::{Listed, PaperPage};
use serde::Deserialize;

use crate::AppState;
use crate::api::{self, DailyItem};
use crate::auth::Viewer;
use crate::error::{ApiError, PageError, WebError};
use crate::feeds::{self, Feed};
use crate::layout::{self, PaperCard};

/// Results per page of `/search`.
pub const PAGE_SIZE: usize = 20;

/// Entries of `/feeds/search.atom`.
const FEED_ENTRIES: usize = 30;

/// How often the indexes catch up with the store.
pub const REFRESH_EVERY: Duration = Duration::from_secs(1);

/// How often a changed vector index is saved to disk (so that a restart
/// need not rebuild it from the database).
const SAVE_VECTORS_EVERY: Duration = Duration::from_secs(300);

/// The deepest page served (deeper pages of a search are noise).
const MAX_PAGE: usize = 500;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/search", get(search_page))
        .route("/api/papers/search", get(search_api))
        .route("/feeds/search.atom", get(search_feed))
}

/// Follows the store's changes for as long as the runtime runs: catches the
/// search indexes up now, then after every change (made here or by another
/// process sharing the database: [`paperboy_store::Store::wait_for_changes`])
/// or every [`REFRESH_EVERY`], and marks cached responses stale when the
/// change sequence moved, so that what any node wrote shows on every node.
/// Saves a changed vector index every [`SAVE_VECTORS_EVERY`]. Runs on the
/// blocking pool; must be called inside a tokio runtime.
pub fn spawn_refresher(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        let mut seen: Option<u64> = None;
        let mut saved = std::time::Instant::now();
        loop {
            let store = Arc::clone(&state.store);
            let engine = state.search.clone();
            let save = saved.elapsed() >= SAVE_VECTORS_EVERY;
            if save {
                saved = std::time::Instant::now();
            }
            let wait = seen.is_some();
            let started = std::time::Instant::now();
            let work = move || -> Result<(u64, (u64, u64)), SearchError> {
                if wait {
                    store.wait_for_changes(REFRESH_EVERY)?;
                }
                let seq = store.change_seq()?;
                let Some(engine) = engine else {
                    return Ok((seq, (0, 0)));
                };
                let applied = engine.catch_up(store.as_ref())?;
                if save && let Some(vectors) = engine.vectors.as_ref().filter(|v| v.is_dirty()) {
                    vectors.save()?;
                }
                Ok((seq, applied))
            };
            match tokio::task::spawn_blocking(work).await {
                Ok(Ok((seq, applied))) => {
                    if seen.is_some_and(|seen| seen != seq) {
                        state.cache.invalidate();
                    }
                    seen = Some(seq);
                    if applied != (0, 0) {
                        tracing::info!(
                            papers = applied.0,
                            vectors = applied.1,
                            duration_ms = started.elapsed().as_millis() as u64,
                            "search indexes caught up"
                        );
                    }
                    continue;
                }
                Ok(Err(error)) => tracing::error!(%error, "catching up with the database failed"),
                Err(error) => tracing::error!(%error, "catching up with the database panicked"),
            }
            // Not in a hurry after a failure (the database may be down).
            tokio::time::sleep(REFRESH_EVERY).await;
        }
    });
}

#[derive(Debug, Default, Deserialize)]
struct SearchParams {
    q: Option<String>,
    p: Option<String>,
    sort: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// `curation` (default) or `arxiv`: which date `from`/`to` filter.
    date: Option<String>,
    min_upvotes: Option<String>,
    limit: Option<String>,
    /// `hybrid` (default), `keyword` or `vector`.
    mode: Option<String>,
}

/// The parameters of a search as the index takes them, plus the page.
struct Parsed {
    request: SearchRequest,
    method: Method,
    page: usize,
}

fn bad(code: &'static str, message: impl Into<String>) -> WebError {
    WebError::bad_request(code, message)
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn parse_day(value: &Option<String>, name: &str) -> Result<Option<NaiveDate>, WebError> {
    non_empty(value)
        .map(|raw| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
                bad(
                    "bad_date",
                    format!("`{name}` must be a date like 2025-06-10, not {raw:?}."),
                )
            })
        })
        .transpose()
}

impl Parsed {
    fn from_params(params: &SearchParams, page_size: usize) -> Result<Parsed, WebError> {
        let sort = match non_empty(&params.sort) {
            None | Some("relevance") => SortBy::Relevance,
            Some("date") => SortBy::Date,
            Some("upvotes") => SortBy::Upvotes,
            Some(other) => {
                return Err(bad(
                    "bad_sort",
                    format!("`sort` is relevance, date or upvotes, not {other:?}."),
                ));
            }
        };
        let date_field = match non_empty(&params.date) {
            None | Some("curation") => DateField::Curation,
            Some("arxiv") => DateField::Arxiv,
            Some(other) => {
                return Err(bad(
                    "bad_date_field",
                    format!("`date` is curation or arxiv, not {other:?}."),
                ));
            }
        };
        let min_upvotes = non_empty(&params.min_upvotes)
            .map(|raw| {
                raw.parse::<u32>().map_err(|_| {
                    bad(
                        "bad_min_upvotes",
                        format!("`min_upvotes` must be a whole number ≥ 0, not {raw:?}."),
                    )
                })
            })
            .transpose()?;
        let method = match non_empty(&params.mode) {
            None => Method::Hybrid,
            Some(raw) => raw.parse::<Method>().map_err(|_| {
                bad(
                    "bad_mode",
                    format!("`mode` is hybrid, keyword or vector, not {raw:?}."),
                )
            })?,
        };
        let page = non_empty(&params.p)
            .map(|raw| {
                raw.parse::<usize>()
                    .ok()
                    .filter(|p| (1..=MAX_PAGE).contains(p))
                    .ok_or_else(|| {
                        bad(
                            "bad_page",
                            format!("`p` must be a page number from 1 to {MAX_PAGE}, not {raw:?}."),
                        )
                    })
            })
            .transpose()?
            .unwrap_or(1);
        Ok(Parsed {
            request: SearchRequest {
                query: params.q.clone().unwrap_or_default(),
                from: parse_day(&params.from, "from")?,
                to: parse_day(&params.to, "to")?,
                date_field,
                min_upvotes,
                sort,
                offset: (page - 1) * page_size,
                limit: page_size,
            },
            method,
            page,
        })
    }
}

/// What a search found, with the page data of each hit (in hit order).
struct Found {
    results: SearchResults,
    pages: Vec<(SearchHit, PaperPage)>,
}

/// Runs the search and reads the papers it found, on the blocking pool.
async fn run(
    state: &AppState,
    request: SearchRequest,
    method: Method,
) -> Result<Option<Found>, WebError> {
    let Some(engine) = state.search.clone() else {
        return Ok(None);
    };
    let store = Arc::clone(&state.store);
    let found = tokio::task::spawn_blocking(move || -> Result<Found, WebError> {
        let results = engine.search(&request, method).map_err(search_error)?;
        let mut pages = Vec::with_capacity(results.hits.len());
        for hit in &results.hits {
            // A paper the index still has but the store lost is skipped.
            if let Some(page) = store.paper_page(&hit.id)? {
                pages.push((hit.clone(), page));
            }
        }
        Ok(Found { results, pages })
    })
    .await??;
    Ok(Some(found))
}

pub(crate) fn search_error(err: SearchError) -> WebError {
    match err {
        SearchError::Store(store) => store.into(),
        other => WebError::Internal(format!("search failed: {other}")),
    }
}

fn unavailable_message() -> &'static str {
    "Search is not available on this server right now; try again in a minute."
}

// ---------------------------------------------------------------- /search

async fn search_page(
    State(state): State<AppState>,
    viewer: Viewer,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Response, PageError> {
    let Query(params) = params.map_err(crate::browse::bad_query)?;
    let parsed = Parsed::from_params(&params, PAGE_SIZE)?;
    let typed = params.q.clone().unwrap_or_default();
    let has_query = !typed.trim().is_empty();
    let has_filters = parsed.request.from.is_some()
        || parsed.request.to.is_some()
        || parsed.request.min_upvotes.is_some();
    let found = if has_query || has_filters {
        match run(&state, parsed.request.clone(), parsed.method).await? {
            Some(found) => Some(found),
            None => {
                let body = html! {
                    h1 { "Search" }
                    (search_form(&params, false))
                    p.notice { (unavailable_message()) }
                };
                let page = layout::page("Search", &viewer, body);
                return Ok((StatusCode::SERVICE_UNAVAILABLE, page).into_response());
            }
        }
    } else {
        None
    };
    let title = if has_query {
        format!("Search: {}", layout::snippet(typed.trim(), 60))
    } else {
        "Search".to_string()
    };
    let body = html! {
        h1 { "Search" }
        (search_form(&params, state.search.as_ref().is_some_and(|s| s.semantic_ready())))
        @if viewer.is_signed_in() && has_query {
            p.save-alert { a href=(alert_url(&params)) { "Save this search as an alert" } }
        }
        @match &found {
            None => (syntax_help()),
            Some(found) if found.results.total == 0 => (no_results(&typed, has_filters)),
            Some(found) => (results(&viewer, &params, &parsed, found)),
        }
    };
    Ok(layout::page(&title, &viewer, body).into_response())
}

/// The search form, keeping what was asked; the choice between words and
/// meaning only when search by meaning is possible.
fn search_form(params: &SearchParams, semantic: bool) -> Markup {
    let q = params.q.as_deref().unwrap_or_default();
    let sort = non_empty(&params.sort).unwrap_or("relevance");
    let mode = non_empty(&params.mode).unwrap_or("hybrid");
    let date = non_empty(&params.date).unwrap_or("curation");
    let option = |value: &str, label: &str, current: &str| {
        html! { option value=(value) selected[value == current] { (label) } }
    };
    html! {
        form.search-form role="search" action="/search" method="get" {
            p {
                label for="search-q" { "Search papers" }
                " "
                input #search-q type="search" name="q" value=(q) maxlength="1000"
                    placeholder="e.g. ti:mamba au:gu \"state space\" -vision";
                " "
                button type="submit" { "Search" }
            }
            details open[non_empty(&params.from).is_some() || non_empty(&params.to).is_some() || non_empty(&params.min_upvotes).is_some() || sort != "relevance" || mode != "hybrid"] {
                summary { "Filters and order" }
                @if semantic {
                    p {
                        label for="search-mode" { "Match " }
                        select #search-mode name="mode" {
                            (option("hybrid", "words and meaning", mode))
                            (option("keyword", "words only", mode))
                            (option("vector", "meaning only", mode))
                        }
                    }
                }
                p {
                    label for="search-sort" { "Order by " }
                    select #search-sort name="sort" {
                        (option("relevance", "relevance", sort))
                        (option("date", "date, newest first", sort))
                        (option("upvotes", "upvotes", sort))
                    }
                }
                p {
                    label for="search-from" { "From " }
                    input #search-from type="date" name="from" value=(params.from.as_deref().unwrap_or_default());
                    " "
                    label for="search-to" { "to " }
                    input #search-to type="date" name="to" value=(params.to.as_deref().unwrap_or_default());
                    " "
                    label for="search-date" { "by " }
                    select #search-date name="date" {
                        (option("curation", "curation day", date))
                        (option("arxiv", "arXiv date", date))
                    }
                }
                p {
                    label for="search-min-upvotes" { "At least " }
                    input #search-min-upvotes type="number" min="0" name="min_upvotes" value=(params.min_upvotes.as_deref().unwrap_or_default());
                    " upvotes"
                }
            }
        }
    }
}

fn syntax_help() -> Markup {
    html! {
        section.search-help {
            h2 { "How to search" }
            ul {
                li { "Words find papers with any of them in the title, abstract or authors; the best matches come first." }
                li { "Longer questions in plain words also find papers by meaning, without the same words (unless " em { "Match" } " says words only)." }
                li { code { "\"state space model\"" } ": the words together, in this order." }
                li { code { "ti:mamba" } ", " code { "abs:diffusion" } ", " code { "au:hinton" } ", " code { "cat:cs.CL" } " (or " code { "cat:cs" } "): only that field." }
                li { code { "-video" } ": leave out papers with the word." }
            }
        }
    }
}

fn no_results(typed: &str, has_filters: bool) -> Markup {
    html! {
        section.search-empty {
            @if typed.trim().is_empty() {
                p { "No papers match these filters." }
            } @else {
                p { "No papers match " strong { (layout::snippet(typed.trim(), 200)) } "." }
            }
            p { "Try:" }
            ul {
                li { "fewer or other words, and check their spelling;" }
                @if has_filters { li { "a wider date range, or no upvote minimum;" } }
                li { "without quotes, field prefixes (" code { "ti:" } ", " code { "au:" } ") or " code { "-" } " exclusions;" }
                li { "English words: titles and abstracts are in English;" }
                li { a href="/papers/trending" { "the trending papers" } ", or " a href="/papers" { "today's list" } "." }
            }
        }
    }
}

fn results(viewer: &Viewer, params: &SearchParams, parsed: &Parsed, found: &Found) -> Markup {
    let total = found.results.total;
    let pages = total.div_ceil(PAGE_SIZE).min(MAX_PAGE);
    let first = (parsed.page - 1) * PAGE_SIZE + 1;
    let return_to = search_url(params, parsed.page);
    let cards: Vec<PaperCard<'_>> = found
        .pages
        .iter()
        .map(|(hit, page)| {
            let entry = page.entries.first();
            PaperCard {
                paper: &page.paper,
                day: hit.date,
                submitter: entry.and_then(|e| e.submitter.as_ref()),
                upvotes: page.upvotes,
                comments: page.comments,
                upvoted: false,
                snippet: Some(marked(&hit.snippet)),
                why: None,
            }
        })
        .collect();
    html! {
        p.muted.search-count {
            (layout::count_label(u32::try_from(total).unwrap_or(u32::MAX), "paper", "papers"))
            @if !found.pages.is_empty() {
                " · showing " (first) "–" (first + found.pages.len() - 1)
            }
        }
        @if found.pages.is_empty() {
            p { "There is nothing on page " (parsed.page) "; " a href=(search_url(params, 1)) { "back to the first page" } "." }
        } @else {
            ol.paper-list start=(first) {
                @for card in &cards {
                    li { (layout::paper_card(viewer, card, &return_to)) }
                }
            }
        }
        @if pages > 1 {
            nav.pager aria-label="Result pages" {
                @if parsed.page > 1 {
                    a.prev rel="prev" href=(search_url(params, parsed.page - 1)) { "← Previous" }
                }
                span.muted { "Page " (parsed.page) " of " (pages) }
                @if parsed.page < pages {
                    a.next rel="next" href=(search_url(params, parsed.page + 1)) { "Next →" }
                }
            }
        }
    }
}

/// The snippet with its matched words in `<mark>`; maud escapes the text.
pub fn marked(snippet: &Snippet) -> Markup {
    let text = &snippet.text;
    let mut at = 0;
    let mut parts: Vec<(&str, bool)> = Vec::new();
    for range in &snippet.highlighted {
        // Ranges come from the index; a bad one is skipped, not trusted.
        if range.start < at || range.end > text.len() || range.start >= range.end {
            continue;
        }
        let (Some(before), Some(word)) = (text.get(at..range.start), text.get(range.clone()))
        else {
            continue;
        };
        parts.push((before, false));
        parts.push((word, true));
        at = range.end;
    }
    parts.push((text.get(at..).unwrap_or_default(), false));
    html! {
        @for (part, mark) in parts {
            @if mark { mark { (part) } } @else { (part) }
        }
    }
}

/// The address of page `page` of this search.
fn search_url(params: &SearchParams, page: usize) -> String {
    let mut url = String::from("/search?q=");
    url.push_str(&encode(params.q.as_deref().unwrap_or_default()));
    for (name, value) in [
        ("sort", &params.sort),
        ("from", &params.from),
        ("to", &params.to),
        ("date", &params.date),
        ("min_upvotes", &params.min_upvotes),
        ("mode", &params.mode),
    ] {
        if let Some(value) = non_empty(value) {
            let _ = write!(url, "&{name}={}", encode(value));
        }
    }
    if page > 1 {
        let _ = write!(url, "&p={page}");
    }
    url
}

/// The settings page with the saved-search form filled in with this search
/// (its words and upvote minimum; the other filters are not part of an
/// alert).
fn alert_url(params: &SearchParams) -> String {
    let mut url = String::from("/settings?alert_q=");
    url.push_str(&encode(params.q.as_deref().unwrap_or_default().trim()));
    if let Some(min) = non_empty(&params.min_upvotes) {
        let _ = write!(url, "&alert_min_upvotes={}", encode(min));
    }
    url.push_str("#saved-searches");
    url
}

/// Percent-encodes a query-string value.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

// ---------------------------------------------------------------- API

async fn search_api(
    State(state): State<AppState>,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(crate::browse::bad_query)?;
    let limit = match non_empty(&params.limit) {
        None => api::DEFAULT_LIMIT as usize,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=api::MAX_LIMIT as usize).contains(l))
            .ok_or_else(|| {
                bad(
                    "bad_limit",
                    format!(
                        "`limit` must be a number from 1 to {}, not {raw:?}.",
                        api::MAX_LIMIT
                    ),
                )
            })?,
    };
    let parsed = Parsed::from_params(&params, limit)?;
    let found = if params.q.as_deref().is_some_and(|q| !q.trim().is_empty())
        || parsed.request.from.is_some()
        || parsed.request.to.is_some()
        || parsed.request.min_upvotes.is_some()
    {
        match run(&state, parsed.request, parsed.method).await? {
            Some(found) => found.pages,
            None => {
                let body = serde_json::json!({
                    "error": "search_unavailable",
                    "message": unavailable_message(),
                });
                return Ok((StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response());
            }
        }
    } else {
        Vec::new()
    };
    let items: Vec<DailyItem<'_>> = found
        .iter()
        .map(|(_, page)| DailyItem::from_page(page))
        .collect();
    Ok(axum::Json(items).into_response())
}

// ---------------------------------------------------------------- feed

async fn search_feed(
    State(state): State<AppState>,
    uri: Uri,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Response, PageError> {
    let Query(params) = params.map_err(crate::browse::bad_query)?;
    let mut parsed = Parsed::from_params(&params, FEED_ENTRIES)?;
    // A feed is read for what is new: newest first unless asked otherwise.
    if non_empty(&params.sort).is_none() {
        parsed.request.sort = SortBy::Date;
    }
    let typed = params.q.clone().unwrap_or_default();
    let found = if typed.trim().is_empty() {
        Vec::new()
    } else {
        // Without an index the feed is empty rather than an error: feed
        // readers retry on their own schedule.
        run(&state, parsed.request, parsed.method)
            .await?
            .map(|found| found.pages)
            .unwrap_or_default()
    };
    // Feed entries are listed papers; a paper no daily list carries is
    // listed on its arXiv date.
    let entries: Vec<Listed> = found
        .into_iter()
        .filter_map(|(hit, page)| {
            let entry = page.entries.first().cloned().or_else(|| {
                Some(paperboy_core::DailyEntry {
                    paper_id: page.paper.id.clone(),
                    day: hit.date?,
                    submitter: None,
                    position: 0,
                    submitted_at: page.paper.biblio.published,
                    num_comments: None,
                })
            })?;
            Some(Listed {
                entry,
                upvotes: page.upvotes,
                comments: page.comments,
                paper: page.paper,
            })
        })
        .collect();
    let config = &state.config;
    let title = format!(
        "{}: search for {}",
        config.site_name,
        layout::snippet(typed.trim(), 100)
    );
    let path = uri
        .path_and_query()
        .map_or("/feeds/search.atom", |p| p.as_str())
        .to_string();
    let alternate = format!("/search?q={}", encode(typed.trim()));
    let feed = Feed {
        path: &path,
        title: &title,
        alternate: &alternate,
        entries: &entries,
    };
    let body = feed.render(&config.base_url, &config.site_name, state.now());
    Ok((
        [(axum::http::header::CONTENT_TYPE, feeds::CONTENT_TYPE)],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ranges`: (start, end) byte offsets, as the index hands them.
    fn check(text: &str, ranges: &[(usize, usize)], expect: &str) {
        let snippet = Snippet {
            text: text.into(),
            highlighted: ranges.iter().map(|&(start, end)| start..end).collect(),
        };
        assert_eq!(marked(&snippet).into_string(), expect);
    }

    #[test]
    fn snippets_mark_and_escape() {
        check("plain", &[], "plain");
        check("a <b> c", &[(2, 5)], "a <mark>&lt;b&gt;</mark> c");
        check(
            "one two",
            &[(0, 3), (4, 7)],
            "<mark>one</mark> <mark>two</mark>",
        );
        check(
            "bad ranges",
            &[(5, 2), (0, 99), (4, 10)],
            "bad <mark>ranges</mark>",
        );
        check("é x", &[(1, 2)], "é x");
    }

    #[test]
    fn urls_keep_the_search() {
        let params = SearchParams {
            q: Some("ti:\"a b\" & c".into()),
            sort: Some("date".into()),
            ..SearchParams::default()
        };
        assert_eq!(
            search_url(&params, 2),
            "/search?q=ti%3A%22a+b%22+%26+c&sort=date&p=2"
        );
        assert_eq!(
            alert_url(&SearchParams {
                min_upvotes: Some("5".into()),
                ..params
            }),
            "/settings?alert_q=ti%3A%22a+b%22+%26+c&alert_min_upvotes=5#saved-searches"
        );
    }
}
