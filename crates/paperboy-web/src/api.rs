//! The read side of the JSON API, shaped like Hugging Face's so that HF
//! clients (`huggingface_hub.HfApi(endpoint=...).list_daily_papers()`,
//! `paper_info()`) work unchanged against a Paperboy server:
//!
//! - `GET /api/daily_papers?date=&week=&month=&p=&limit=&sort=&submitter=`
//! - `GET /api/papers/{id}`
//! - `GET /api/papers/{id}/similar?limit=` (Paperboy's own: the paper
//!   objects of `/api/papers/{id}` with a `similarity`)
//! - `GET /api/openapi.json`, the hand-written OpenAPI document of every API
//!   route (the write routes live in `participate.rs`).
//!
//! Field names, nesting and the timestamp format (`2025-06-10T13:04:20.120Z`)
//! follow HF's responses. Values HF has and Paperboy does not (avatars of
//! authors, thumbnails, discussion ids) are left out rather than invented;
//! ids HF clients expect (`authors[]._id`, `submittedBy._id`) are stable
//! synthetic ones. Errors are `{"error", "message", "hint"?}` (`error.rs`).

use std::fmt;

use axum::Router;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use paperboy_core::{ArxivId, DailyEntry, Paper, Submitter};
use paperboy_store::{EntryQuery, ListOrder, Listed, PaperPage, Store, StoreError};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Serialize, Serializer};

use crate::AppState;
use crate::cache;
use crate::error::{ApiError, WebError};
use crate::layout::fnv1a;
use crate::listing::{self, Period, TRENDING_CANDIDATES};

/// The OpenAPI 3.1 document of the API, kept by hand next to the code.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Items per page when `limit` is not given.
pub const DEFAULT_LIMIT: u64 = 50;
/// The largest `limit` accepted.
pub const MAX_LIMIT: u64 = 100;
/// The largest `p` accepted (deeper pages are empty anyway).
const MAX_PAGE: u64 = 100_000;

/// The first and last day a submitter's list (without a period) spans.
const ALL_DAYS: Period = Period {
    from: NaiveDate::from_ymd_opt(1990, 1, 1).expect("valid date"),
    to: NaiveDate::from_ymd_opt(9999, 12, 31).expect("valid date"),
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/daily_papers", get(daily_papers))
        .route("/api/papers/{id}", get(paper))
        // Old-style ids carry a slash: /api/papers/hep-th/9901001.
        .route("/api/papers/{id}/{number}", get(old_style_paper))
        .route("/api/papers/{id}/similar", get(similar))
        .route("/api/papers/{id}/{number}/similar", get(old_style_similar))
        .route("/api/openapi.json", get(openapi))
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

// ---------------------------------------------------------------- /api/daily_papers

#[derive(Debug, Default, Deserialize)]
struct DailyParams {
    date: Option<String>,
    week: Option<String>,
    month: Option<String>,
    p: Option<String>,
    limit: Option<String>,
    sort: Option<String>,
    submitter: Option<String>,
}

/// How `/api/daily_papers` orders its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    /// HF's default: the list as HF serves it, ranked by upvotes (a
    /// submitter's papers without a period: newest arXiv publication first).
    PublishedAt,
    /// By [`paperboy_core::trending::score`], best first.
    Trending,
}

/// A validated `/api/daily_papers` request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DailyRequest {
    /// `None`: the latest day with entries (or, with a submitter, all days).
    period: Option<Period>,
    page: u64,
    limit: u64,
    sort: Sort,
    submitter: Option<String>,
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl DailyRequest {
    fn parse(params: &DailyParams) -> Result<DailyRequest, WebError> {
        let limit = match non_empty(&params.limit) {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.parse::<u64>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(WebError::BadRequest {
                        code: "bad_limit",
                        message: format!(
                            "limit={:?} is not a number from 1 to {MAX_LIMIT}.",
                            listing::shorten(raw)
                        ),
                        hint: Some(format!(
                            "Ask for at most {MAX_LIMIT} items a page and use p= for more."
                        )),
                    });
                }
            },
        };
        let page = match non_empty(&params.p) {
            None => 0,
            Some(raw) => match raw.parse::<u64>() {
                Ok(n) if n <= MAX_PAGE => n,
                _ => {
                    return Err(WebError::BadRequest {
                        code: "bad_page",
                        message: format!("p={:?} is not a page number.", listing::shorten(raw)),
                        hint: Some("Pages are numbered from 0: p=1 is the second page.".into()),
                    });
                }
            },
        };
        let sort = match non_empty(&params.sort) {
            None | Some("publishedAt") => Sort::PublishedAt,
            Some("trending") => Sort::Trending,
            Some(other) => {
                return Err(WebError::BadRequest {
                    code: "bad_sort",
                    message: format!("sort={:?} is not a known order.", listing::shorten(other)),
                    hint: Some("Use sort=publishedAt (the default) or sort=trending.".into()),
                });
            }
        };
        let periods = [
            non_empty(&params.date)
                .map(|d| listing::parse_day(d).map(|day| Period { from: day, to: day })),
            non_empty(&params.week).map(listing::parse_week),
            non_empty(&params.month).map(listing::parse_month),
        ];
        let mut given = periods.into_iter().flatten();
        let period = given.next().transpose()?;
        if given.next().is_some() {
            return Err(WebError::BadRequest {
                code: "conflicting_parameters",
                message: "Give at most one of date, week and month.".into(),
                hint: Some(
                    "For example ?date=2025-06-10, ?week=2025-W24 or ?month=2025-06.".into(),
                ),
            });
        }
        let submitter = match non_empty(&params.submitter) {
            Some(name) if name.len() > 100 => {
                return Err(WebError::BadRequest {
                    code: "bad_submitter",
                    message: "submitter is too long to be an account name.".into(),
                    hint: Some("Give the submitter's account name, e.g. submitter=akhaliq.".into()),
                });
            }
            other => other.map(str::to_string),
        };
        Ok(DailyRequest {
            period,
            page,
            limit,
            sort,
            submitter,
        })
    }
}

/// The cache key of an API read: its address (the answer is the same for
/// every caller).
fn api_key(uri: &Uri) -> String {
    uri.path_and_query()
        .map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string())
}

/// `value` as a JSON response, kept in the response cache under `key`.
pub(crate) fn json_answer(
    state: &AppState,
    key: String,
    generation: u64,
    value: &impl Serialize,
) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(value)
        .map_err(|e| WebError::Internal(format!("cannot encode JSON: {e}")))?;
    Ok(state.cache.keep(Some(key), generation, cache::JSON, body))
}

async fn daily_papers(
    State(state): State<AppState>,
    uri: Uri,
    params: Result<Query<DailyParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let key = api_key(&uri);
    if let Some(hit) = state.cache.lookup(&key) {
        return Ok(hit);
    }
    let generation = state.cache.generation();
    let Query(params) = params.map_err(crate::browse::bad_query)?;
    let request = DailyRequest::parse(&params)?;
    let now = state.now();
    let listed = state
        .read(move |store| daily_entries(store, &request, now))
        .await?;
    let items: Vec<DailyItem<'_>> = listed.iter().map(DailyItem::new).collect();
    json_answer(&state, key, generation, &items)
}

/// The entries a `/api/daily_papers` request asks for, in order, one page.
fn daily_entries(
    store: &dyn Store,
    request: &DailyRequest,
    now: DateTime<Utc>,
) -> Result<Vec<Listed>, StoreError> {
    let offset = request.page.saturating_mul(request.limit);
    // A day, week or month is ranked by upvotes, as HF serves it; a
    // submitter's papers of all days come newest first.
    let (period, order) = match (request.period, &request.submitter, request.sort) {
        (Some(period), _, _) => (period, ListOrder::Upvotes),
        (None, Some(_), _) => (ALL_DAYS, ListOrder::Published),
        (None, None, Sort::Trending) => {
            let ranked = listing::trending_now(store, now)?;
            return Ok(page_of(
                ranked.into_iter().map(|t| t.listed),
                offset,
                request.limit,
            ));
        }
        (None, None, Sort::PublishedAt) => {
            match store.day_with_entries_on_or_before(now.date_naive())? {
                Some(day) => (Period { from: day, to: day }, ListOrder::Upvotes),
                None => return Ok(Vec::new()),
            }
        }
    };
    let mut query = EntryQuery {
        from: period.from,
        to: period.to,
        submitter: request.submitter.clone(),
        order,
        offset,
        limit: request.limit,
    };
    match request.sort {
        Sort::PublishedAt => store.entries(&query),
        Sort::Trending => {
            query.order = ListOrder::Upvotes;
            query.offset = 0;
            query.limit = TRENDING_CANDIDATES;
            let ranked = listing::rank_trending(store.entries(&query)?, now);
            Ok(page_of(
                ranked.into_iter().map(|t| t.listed),
                offset,
                request.limit,
            ))
        }
    }
}

fn page_of(items: impl Iterator<Item = Listed>, offset: u64, limit: u64) -> Vec<Listed> {
    let skip = usize::try_from(offset).unwrap_or(usize::MAX);
    let take = usize::try_from(limit).unwrap_or(usize::MAX);
    items.skip(skip).take(take).collect()
}

// ---------------------------------------------------------------- /api/papers/{id}

async fn paper(
    State(state): State<AppState>,
    uri: Uri,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(raw) =
        id.map_err(|_| WebError::bad_request("bad_path", "This address is malformed."))?;
    paper_json(&state, &uri, &raw).await
}

async fn old_style_paper(
    State(state): State<AppState>,
    uri: Uri,
    id: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path((archive, number)) =
        id.map_err(|_| WebError::bad_request("bad_path", "This address is malformed."))?;
    paper_json(&state, &uri, &format!("{archive}/{number}")).await
}

#[derive(Debug, Default, Deserialize)]
struct SimilarParams {
    limit: Option<String>,
}

/// Default and largest `limit` of `/api/papers/{id}/similar`.
const SIMILAR_DEFAULT: usize = 10;
const SIMILAR_MAX: usize = 50;

async fn similar(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    params: Result<Query<SimilarParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Path(raw) =
        id.map_err(|_| WebError::bad_request("bad_path", "This address is malformed."))?;
    similar_json(&state, &raw, params).await
}

async fn old_style_similar(
    State(state): State<AppState>,
    id: Result<Path<(String, String)>, PathRejection>,
    params: Result<Query<SimilarParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Path((archive, number)) =
        id.map_err(|_| WebError::bad_request("bad_path", "This address is malformed."))?;
    similar_json(&state, &format!("{archive}/{number}"), params).await
}

/// `GET /api/papers/{id}/similar`: the papers nearest by meaning, each as
/// `/api/papers/{id}` shows a paper plus its `similarity` (cosine, -1..1).
async fn similar_json(
    state: &AppState,
    raw: &str,
    params: Result<Query<SimilarParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(crate::browse::bad_query)?;
    let limit = match non_empty(&params.limit) {
        None => SIMILAR_DEFAULT,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=SIMILAR_MAX).contains(l))
            .ok_or_else(|| WebError::BadRequest {
                code: "bad_limit",
                message: format!(
                    "limit={:?} is not a number from 1 to {SIMILAR_MAX}.",
                    listing::shorten(raw)
                ),
                hint: None,
            })?,
    };
    let id = match crate::browse::id_from_path(raw)? {
        Ok(id) | Err(id) => id,
    };
    let wanted = id.clone();
    if state
        .read(move |store| store.paper(&wanted))
        .await?
        .is_none()
    {
        return Err(WebError::not_found(
            "paper_not_found",
            format!("Paper {id} is not in the catalog."),
        )
        .into());
    }
    let Some(hits) = crate::browse::similar_papers(state, &id, limit).await? else {
        let body = serde_json::json!({
            "error": "similar_unavailable",
            "message": "This server has no embedding model, so it cannot find similar papers.",
        });
        return Ok((StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response());
    };
    let ids: Vec<(ArxivId, f32)> = hits.into_iter().map(|h| (h.id, h.score)).collect();
    let pages = state
        .read(move |store| {
            let mut pages = Vec::with_capacity(ids.len());
            for (id, score) in ids {
                if let Some(page) = store.paper_page(&id)? {
                    pages.push((page, score));
                }
            }
            Ok(pages)
        })
        .await?;
    let items: Vec<serde_json::Value> = pages
        .iter()
        .map(|(page, score)| {
            let paper = PaperJson::new(&page.paper, page.upvotes, page.entries.first());
            let mut value = serde_json::to_value(&paper).unwrap_or_default();
            if let Some(object) = value.as_object_mut() {
                object.insert("similarity".into(), serde_json::json!(score));
            }
            value
        })
        .collect();
    Ok(axum::Json(items).into_response())
}

async fn paper_json(state: &AppState, uri: &Uri, raw: &str) -> Result<Response, ApiError> {
    let key = api_key(uri);
    if let Some(hit) = state.cache.lookup(&key) {
        return Ok(hit);
    }
    let generation = state.cache.generation();
    // Any spelling of a valid id (a version, `arXiv:`) names the paper.
    let id = match crate::browse::id_from_path(raw)? {
        Ok(id) | Err(id) => id,
    };
    let wanted = id.clone();
    let page = state.read(move |store| store.paper_page(&wanted)).await?;
    let Some(page) = page else {
        return Err(WebError::not_found(
            "paper_not_found",
            format!("Paper {id} is not in the catalog."),
        )
        .into());
    };
    let paper = PaperJson::new(&page.paper, page.upvotes, page.entries.first());
    json_answer(state, key, generation, &paper)
}

// ---------------------------------------------------------------- JSON shapes

/// A timestamp as HF writes it: UTC, milliseconds, `Z`
/// (`2025-06-10T13:04:20.120Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HfTime(pub DateTime<Utc>);

impl HfTime {
    /// The 24 ASCII bytes, written without the `fmt` machinery: a list
    /// page has a hundred of these.
    fn ascii(&self) -> [u8; 24] {
        let t = self.0;
        let mut out = *b"0000-00-00T00:00:00.000Z";
        let year = u32::try_from(t.year()).unwrap_or(0).min(9999);
        put_digits(&mut out[0..4], year);
        put_digits(&mut out[5..7], t.month());
        put_digits(&mut out[8..10], t.day());
        put_digits(&mut out[11..13], t.hour());
        put_digits(&mut out[14..16], t.minute());
        put_digits(&mut out[17..19], t.second());
        put_digits(&mut out[20..23], (t.nanosecond() / 1_000_000).min(999));
        out
    }
}

/// Writes `n` as decimal digits filling `out` (leading zeros).
fn put_digits(out: &mut [u8], mut n: u32) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

impl fmt::Display for HfTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.ascii()).map_err(|_| fmt::Error)?)
    }
}

impl Serialize for HfTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ascii = self.ascii();
        serializer.serialize_str(std::str::from_utf8(&ascii).map_err(serde::ser::Error::custom)?)
    }
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// A 24-hex-digit id in the shape of HF's (MongoDB ObjectIds), stable for
/// what it names: `(kind, key, position)`.
#[derive(Debug, Clone, Copy)]
struct SyntheticId(u64, u32);

impl SyntheticId {
    fn of(kind: &str, key: &str, position: u32) -> SyntheticId {
        let mut h = fnv1a(kind.as_bytes());
        for b in key.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        SyntheticId(h, position)
    }
}

impl SyntheticId {
    fn ascii(&self) -> [u8; 24] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 24];
        for (i, slot) in out[..16].iter_mut().enumerate() {
            *slot = HEX[((self.0 >> (60 - 4 * i)) & 0xf) as usize];
        }
        for (i, slot) in out[16..].iter_mut().enumerate() {
            *slot = HEX[((self.1 >> (28 - 4 * i)) & 0xf) as usize];
        }
        out
    }
}

impl fmt::Display for SyntheticId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.ascii()).map_err(|_| fmt::Error)?)
    }
}

impl Serialize for SyntheticId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ascii = self.ascii();
        serializer.serialize_str(std::str::from_utf8(&ascii).map_err(serde::ser::Error::custom)?)
    }
}

/// An item of `/api/daily_papers`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DailyItem<'a> {
    paper: PaperJson<'a>,
    /// When the paper was put on the list (HF: the item's `publishedAt`,
    /// which `huggingface_hub` reads as `submitted_at`).
    published_at: HfTime,
    title: &'a str,
    summary: &'a str,
    num_comments: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    submitted_by: Option<SubmittedBy<'a>>,
    is_author_participating: bool,
}

impl<'a> DailyItem<'a> {
    pub fn new(listed: &'a Listed) -> DailyItem<'a> {
        let entry = &listed.entry;
        let listed_at = entry.submitted_at.unwrap_or_else(|| midnight(entry.day));
        DailyItem {
            paper: PaperJson::new(&listed.paper, listed.upvotes, Some(entry)),
            published_at: HfTime(listed_at),
            title: &listed.paper.biblio.title,
            summary: &listed.paper.biblio.abstract_text,
            num_comments: listed.comments,
            submitted_by: entry.submitter.as_ref().map(SubmittedBy),
            is_author_participating: false,
        }
    }

    /// The item of a paper found by search: listed on its newest daily
    /// entry, or (a paper no daily list carries) on its arXiv date.
    pub fn from_page(page: &'a PaperPage) -> DailyItem<'a> {
        let entry = page.entries.first();
        let paper = &page.paper;
        let listed_at = entry
            .map(|e| e.submitted_at.unwrap_or_else(|| midnight(e.day)))
            .or(paper.biblio.published)
            .or(paper.community.observed_at)
            .unwrap_or(DateTime::UNIX_EPOCH);
        DailyItem {
            paper: PaperJson::new(paper, page.upvotes, entry),
            published_at: HfTime(listed_at),
            title: &paper.biblio.title,
            summary: &paper.biblio.abstract_text,
            num_comments: page.comments,
            submitted_by: entry.and_then(|e| e.submitter.as_ref()).map(SubmittedBy),
            is_author_participating: false,
        }
    }
}

/// The paper object: `paper` of a daily item, and `/api/papers/{id}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaperJson<'a> {
    id: &'a str,
    authors: Authors<'a>,
    published_at: HfTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    submitted_on_daily_at: Option<HfTime>,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    submitted_on_daily_by: Option<DailyBy<'a>>,
    summary: &'a str,
    upvotes: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    github_repo: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    github_stars: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    project_page: Option<&'a str>,
    #[serde(rename = "ai_summary", skip_serializing_if = "Option::is_none")]
    ai_summary: Option<&'a str>,
    #[serde(rename = "ai_keywords", skip_serializing_if = "<[String]>::is_empty")]
    ai_keywords: &'a [String],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    withdrawn: bool,
}

impl<'a> PaperJson<'a> {
    /// `entry`: the daily entry the paper is shown for (its newest one on
    /// `/api/papers/{id}`), if any.
    pub fn new(paper: &'a Paper, upvotes: u32, entry: Option<&'a DailyEntry>) -> PaperJson<'a> {
        let b = &paper.biblio;
        let c = &paper.community;
        let listed_at = entry.map(|e| e.submitted_at.unwrap_or_else(|| midnight(e.day)));
        // HF always has a publication time; a paper known only from a list
        // falls back to when it was listed, then to when it was first seen.
        let published = b
            .published
            .or(listed_at)
            .or(c.observed_at)
            .unwrap_or(DateTime::UNIX_EPOCH);
        PaperJson {
            id: paper.id.as_str(),
            authors: Authors {
                paper: paper.id.as_str(),
                names: &b.authors,
            },
            published_at: HfTime(published),
            submitted_on_daily_at: listed_at.map(HfTime),
            title: &b.title,
            submitted_on_daily_by: entry.and_then(|e| e.submitter.as_ref()).map(DailyBy),
            summary: &b.abstract_text,
            upvotes,
            github_repo: c.github_repo.as_deref(),
            github_stars: c.github_stars,
            project_page: c.project_page.as_deref(),
            ai_summary: c.ai_summary.as_deref(),
            ai_keywords: &c.ai_keywords,
            withdrawn: b.withdrawn,
        }
    }
}

/// `authors: [{_id, name, hidden}]`, serialised without building a Vec.
#[derive(Debug)]
struct Authors<'a> {
    paper: &'a str,
    names: &'a [String],
}

#[derive(Serialize)]
struct Author<'a> {
    #[serde(rename = "_id")]
    id: SyntheticId,
    name: &'a str,
    hidden: bool,
}

impl Serialize for Authors<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let base = SyntheticId::of("author", self.paper, 0);
        let mut seq = serializer.serialize_seq(Some(self.names.len()))?;
        for (i, name) in self.names.iter().enumerate() {
            let id = SyntheticId(base.0, u32::try_from(i).unwrap_or(u32::MAX));
            seq.serialize_element(&Author {
                id,
                name,
                hidden: false,
            })?;
        }
        seq.end()
    }
}

/// The item's `submittedBy` (HF: the account in `name`).
#[derive(Debug)]
struct SubmittedBy<'a>(&'a Submitter);

impl Serialize for SubmittedBy<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let s = self.0;
        let mut map = serializer.serialize_map(Some(9))?;
        map.serialize_entry("_id", &SyntheticId::of("user", &s.name, 0))?;
        map.serialize_entry("avatarUrl", s.avatar_url.as_deref().unwrap_or(""))?;
        map.serialize_entry("fullname", s.fullname.as_deref().unwrap_or(&s.name))?;
        map.serialize_entry("name", &s.name)?;
        map.serialize_entry("type", "user")?;
        map.serialize_entry("isPro", &false)?;
        map.serialize_entry("isHf", &false)?;
        map.serialize_entry("isHfAdmin", &false)?;
        map.serialize_entry("isMod", &false)?;
        map.end()
    }
}

/// The paper's `submittedOnDailyBy` (HF: the account in `user`).
#[derive(Debug)]
struct DailyBy<'a>(&'a Submitter);

impl Serialize for DailyBy<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let s = self.0;
        let mut map = serializer.serialize_map(Some(6))?;
        map.serialize_entry("_id", &SyntheticId::of("user", &s.name, 0))?;
        map.serialize_entry("avatarUrl", s.avatar_url.as_deref().unwrap_or(""))?;
        map.serialize_entry("isPro", &false)?;
        map.serialize_entry("fullname", s.fullname.as_deref().unwrap_or(&s.name))?;
        map.serialize_entry("user", &s.name)?;
        map.serialize_entry("type", "user")?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use paperboy_core::ArxivId;
    use serde_json::{Value, json};

    use super::*;

    fn params(query: &[(&str, &str)]) -> DailyParams {
        let mut p = DailyParams::default();
        for (k, v) in query {
            let v = Some(v.to_string());
            match *k {
                "date" => p.date = v,
                "week" => p.week = v,
                "month" => p.month = v,
                "p" => p.p = v,
                "limit" => p.limit = v,
                "sort" => p.sort = v,
                "submitter" => p.submitter = v,
                other => panic!("unknown parameter {other}"),
            }
        }
        p
    }

    fn check_bad(query: &[(&str, &str)], code: &str) {
        let err = DailyRequest::parse(&params(query)).expect_err(code);
        assert_eq!(err.code(), code, "{query:?}");
        assert_eq!(err.status(), axum::http::StatusCode::BAD_REQUEST);
        assert!(err.hint().is_some(), "{query:?} has a hint");
    }

    #[test]
    fn daily_parameters() {
        let r = DailyRequest::parse(&params(&[])).expect("defaults");
        assert_eq!(
            (r.period, r.page, r.limit, r.sort),
            (None, 0, DEFAULT_LIMIT, Sort::PublishedAt)
        );
        let r = DailyRequest::parse(&params(&[
            ("date", "2025-06-10"),
            ("p", "2"),
            ("limit", "100"),
            ("sort", "trending"),
        ]))
        .expect("valid");
        let day = NaiveDate::from_ymd_opt(2025, 6, 10).expect("day");
        assert_eq!(
            (r.period, r.page, r.limit, r.sort),
            (Some(Period { from: day, to: day }), 2, 100, Sort::Trending)
        );
        let r = DailyRequest::parse(&params(&[("date", ""), ("submitter", "akhaliq")]))
            .expect("empty is absent");
        assert_eq!((r.period, r.submitter.as_deref()), (None, Some("akhaliq")));

        check_bad(&[("date", "2025-13-01")], "bad_date");
        check_bad(&[("week", "2025-24")], "bad_week");
        check_bad(&[("month", "June")], "bad_month");
        check_bad(&[("limit", "0")], "bad_limit");
        check_bad(&[("limit", "101")], "bad_limit");
        check_bad(&[("limit", "ten")], "bad_limit");
        check_bad(&[("p", "-1")], "bad_page");
        check_bad(&[("sort", "upvotes")], "bad_sort");
        check_bad(
            &[("date", "2025-06-10"), ("week", "2025-W24")],
            "conflicting_parameters",
        );
        check_bad(&[("submitter", &"x".repeat(101))], "bad_submitter");
    }

    #[test]
    fn synthetic_ids_are_24_hex_digits() {
        assert_eq!(
            SyntheticId(0x0123_4567_89ab_cdef, 0x2a).to_string(),
            "0123456789abcdef0000002a"
        );
        assert_eq!(
            SyntheticId(u64::MAX, u32::MAX).to_string(),
            "ffffffffffffffffffffffff"
        );
    }

    #[test]
    fn timestamps_are_written_as_hf_writes_them() {
        let t = Utc.with_ymd_and_hms(2025, 6, 10, 13, 4, 20).unwrap()
            + chrono::Duration::milliseconds(120);
        assert_eq!(HfTime(t).to_string(), "2025-06-10T13:04:20.120Z");
        let t = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(HfTime(t).to_string(), "2024-01-02T03:04:05.000Z");
        assert_eq!(
            serde_json::to_string(&HfTime(t)).expect("json"),
            "\"2024-01-02T03:04:05.000Z\""
        );
        let late = Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 59).unwrap()
            + chrono::Duration::nanoseconds(999_999_999);
        assert_eq!(HfTime(late).to_string(), "1999-12-31T23:59:59.999Z");
    }

    #[test]
    fn the_item_shape_is_hfs() {
        let id = ArxivId::parse("2506.08007").expect("id").id;
        let mut paper = Paper::new(id.clone());
        paper.biblio.title = "Reinforcement Pre-Training".into();
        paper.biblio.abstract_text = "In this work…".into();
        paper.biblio.authors = vec!["Qingxiu Dong".into(), "Li Dong".into()];
        paper.biblio.published = Some(Utc.with_ymd_and_hms(2025, 6, 9, 17, 59, 53).unwrap());
        paper.community.github_repo = Some("https://github.com/x/y".into());
        paper.community.ai_keywords = vec!["RL".into()];
        let entry = DailyEntry {
            paper_id: id,
            day: NaiveDate::from_ymd_opt(2025, 6, 10).expect("day"),
            submitter: Some(Submitter {
                name: "unilm".into(),
                fullname: Some("Li Dong".into()),
                avatar_url: None,
            }),
            position: 0,
            submitted_at: Some(Utc.with_ymd_and_hms(2025, 6, 10, 0, 43, 1).unwrap()),
            num_comments: Some(3),
        };
        let listed = Listed {
            entry,
            paper,
            upvotes: 97,
            comments: 3,
        };
        let v: Value = serde_json::to_value(DailyItem::new(&listed)).expect("serialises");
        assert_eq!(v["paper"]["id"], "2506.08007");
        assert_eq!(v["paper"]["publishedAt"], "2025-06-09T17:59:53.000Z");
        assert_eq!(v["paper"]["submittedOnDailyAt"], "2025-06-10T00:43:01.000Z");
        assert_eq!(v["paper"]["upvotes"], 97);
        assert_eq!(v["paper"]["githubRepo"], "https://github.com/x/y");
        assert_eq!(v["paper"]["ai_keywords"], json!(["RL"]));
        assert!(v["paper"].get("githubStars").is_none() && v["paper"].get("ai_summary").is_none());
        assert_eq!(v["paper"]["authors"][1]["name"], "Li Dong");
        assert_eq!(v["paper"]["authors"][1]["hidden"], false);
        let a0 = v["paper"]["authors"][0]["_id"].as_str().expect("_id");
        let a1 = v["paper"]["authors"][1]["_id"].as_str().expect("_id");
        assert!(
            a0.len() == 24 && a0 != a1 && a0.chars().all(|c| c.is_ascii_hexdigit()),
            "{a0} {a1}"
        );
        assert_eq!(v["paper"]["submittedOnDailyBy"]["user"], "unilm");
        assert_eq!(v["submittedBy"]["name"], "unilm");
        assert_eq!(v["submittedBy"]["fullname"], "Li Dong");
        assert_eq!(v["publishedAt"], "2025-06-10T00:43:01.000Z");
        assert_eq!(v["numComments"], 3);
        assert_eq!(v["isAuthorParticipating"], false);
        assert_eq!(v["title"], "Reinforcement Pre-Training");
        // The same paper gets the same ids every time.
        let again: Value = serde_json::to_value(DailyItem::new(&listed)).expect("serialises");
        assert_eq!(again, v);
    }

    #[test]
    fn the_openapi_document_is_json() {
        let doc: Value = serde_json::from_str(OPENAPI).expect("openapi.json parses");
        assert_eq!(
            doc["openapi"].as_str().map(|v| v.starts_with("3.1")),
            Some(true)
        );
    }
}
