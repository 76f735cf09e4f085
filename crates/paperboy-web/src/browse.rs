//! The pages that browse the catalog, server-rendered and usable without
//! JavaScript: the latest day (`/`, `/papers`), a day, a week, a month,
//! trending, and a paper's page.
//!
//! Each handler parses its input strictly (a malformed date, week, month or
//! id is a 400 that says what is wrong), reads the store in one hop to the
//! blocking pool, and renders. It never writes.

use std::collections::HashSet;
use std::future::Future;

use axum::Router;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{Days, NaiveDate};
use maud::{Markup, html};
use paperboy_core::trending::{self, TrendingScore};
use paperboy_core::{ArxivId, Comment, Paper, UserId};
use paperboy_search::SearchHit;
use paperboy_store::{EntryQuery, ListOrder, Listed, PaperPage, Store, StoreError};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Viewer;
use crate::cache;
use crate::error::{PageError, WebError};
use crate::layout::{self, PaperCard, safe_href};
use crate::listing::{self, Period, Trending};

/// A day's list is shown whole up to this many entries (HF's busiest days
/// hold about 60).
const DAY_LIMIT: u64 = 500;

/// Entries per page of a week or a month.
pub const PAGE_SIZE: u64 = 30;

/// How many papers the trending page shows.
pub const TRENDING_SHOWN: usize = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(latest))
        .route("/papers", get(latest))
        .route("/papers/date/{day}", get(day_page))
        .route("/papers/week", get(current_week))
        .route("/papers/week/{week}", get(week_page))
        .route("/papers/month", get(current_month))
        .route("/papers/month/{month}", get(month_page))
        .route("/papers/trending", get(trending_page))
        .route("/papers/{id}", get(paper_page))
        // Old-style ids carry a slash: /papers/hep-th/9901001.
        .route("/papers/{id}/{number}", get(old_style_paper_page))
}

#[derive(Debug, Deserialize)]
struct PageParams {
    p: Option<String>,
}

/// A malformed query string (bad percent-encoding) is the caller's mistake.
pub(crate) fn bad_query(_: QueryRejection) -> WebError {
    WebError::bad_request(
        "bad_query",
        "The query string of this address is malformed.",
    )
}

fn bad_path(_: PathRejection) -> WebError {
    WebError::bad_request("bad_path", "This address is malformed.")
}

// ---------------------------------------------------------------- days

/// One day's list as a page shows it.
struct DayView {
    requested: NaiveDate,
    /// The day shown: the requested one, or the latest earlier day with
    /// entries; `None` when nothing is listed on or before it.
    shown: Option<NaiveDate>,
    entries: Vec<Listed>,
    prev: Option<NaiveDate>,
    next: Option<NaiveDate>,
    upvoted: HashSet<ArxivId>,
}

/// The key a page is cached under: its address, for a visitor who is not
/// signed in (a signed-in viewer's page shows their own upvotes and forms).
fn page_key(viewer: &Viewer, uri: &Uri) -> Option<String> {
    viewer.user.is_none().then(|| {
        uri.path_and_query()
            .map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string())
    })
}

/// Answers from the response cache when it can, else renders the page with
/// `render` (lazy: not run on a hit) and keeps it.
async fn cached_page(
    state: &AppState,
    viewer: &Viewer,
    uri: &Uri,
    render: impl Future<Output = Result<Markup, PageError>>,
) -> Result<Response, PageError> {
    let key = page_key(viewer, uri);
    if let Some(hit) = key.as_deref().and_then(|k| state.cache.lookup(k)) {
        return Ok(hit);
    }
    let generation = state.cache.generation();
    let page = render.await?;
    Ok(state
        .cache
        .keep(key, generation, cache::HTML, page.into_string()))
}

async fn latest(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, PageError> {
    let render = async {
        let view = load_day(&state, &viewer, state.today()).await?;
        Ok(render_day(&viewer, &view, true))
    };
    cached_page(&state, &viewer, &uri, render).await
}

async fn day_page(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    day: Result<Path<String>, PathRejection>,
) -> Result<Response, PageError> {
    let render = async {
        let Path(raw) = day.map_err(bad_path)?;
        let day = listing::parse_day(&raw)?;
        let view = load_day(&state, &viewer, day).await?;
        Ok(render_day(&viewer, &view, false))
    };
    cached_page(&state, &viewer, &uri, render).await
}

async fn load_day(
    state: &AppState,
    viewer: &Viewer,
    requested: NaiveDate,
) -> Result<DayView, WebError> {
    let user = viewer.user.as_ref().map(|u| u.id);
    state
        .read(move |store| {
            let Some(shown) = store.day_with_entries_on_or_before(requested)? else {
                return Ok(DayView {
                    requested,
                    shown: None,
                    entries: Vec::new(),
                    prev: None,
                    next: store.day_with_entries_after(requested)?,
                    upvoted: HashSet::new(),
                });
            };
            let entries = store.entries(&EntryQuery {
                from: shown,
                to: shown,
                submitter: None,
                order: ListOrder::Upvotes,
                offset: 0,
                limit: DAY_LIMIT,
            })?;
            let prev = match shown.pred_opt() {
                Some(before) => store.day_with_entries_on_or_before(before)?,
                None => None,
            };
            let next = store.day_with_entries_after(shown)?;
            let upvoted = upvoted_among(store, user, entries.iter().map(|l| &l.paper.id))?;
            Ok(DayView {
                requested,
                shown: Some(shown),
                entries,
                prev,
                next,
                upvoted,
            })
        })
        .await
}

/// Which of `ids` the signed-in `user` has upvoted (nothing for a visitor).
pub(crate) fn upvoted_among<'a>(
    store: &dyn Store,
    user: Option<UserId>,
    ids: impl Iterator<Item = &'a ArxivId>,
) -> Result<HashSet<ArxivId>, StoreError> {
    let Some(user) = user else {
        return Ok(HashSet::new());
    };
    let ids: Vec<ArxivId> = ids.cloned().collect();
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(store.upvoted_among(user, &ids)?.into_iter().collect())
}

fn cards<'a>(entries: &'a [Listed], upvoted: &HashSet<ArxivId>) -> Vec<PaperCard<'a>> {
    entries
        .iter()
        .map(|l| PaperCard {
            upvoted: upvoted.contains(&l.paper.id),
            ..PaperCard::from_listed(l)
        })
        .collect()
}

fn day_path(day: NaiveDate) -> String {
    format!("/papers/date/{day}")
}

fn render_day(viewer: &Viewer, view: &DayView, latest: bool) -> Markup {
    let Some(shown) = view.shown else {
        let body = html! {
            h1 { "Daily Papers" }
            @if latest {
                p { "No papers have been listed yet." }
                p.muted { "Import a day of Hugging Face Daily Papers with " code { "paperboy import FILE" } ", or submit one." }
            } @else {
                p.notice { "No papers were listed on or before " (layout::day_label(view.requested)) "." }
            }
            @if let Some(next) = view.next {
                nav.pager aria-label="Days" {
                    a.next rel="next" href=(day_path(next)) { "Next day with papers: " (layout::day_label(next)) " →" }
                }
            }
        };
        return layout::page("Daily Papers", viewer, body);
    };
    let return_to = if latest {
        "/".to_string()
    } else {
        day_path(view.requested)
    };
    let cards = cards(&view.entries, &view.upvoted);
    let title = format!("Daily Papers of {}", layout::day_label(shown));
    let body = html! {
        h1 { "Daily Papers " small.muted { time datetime=(shown) { (shown.format("%A, %B %-d, %Y")) } } }
        @if shown != view.requested && !latest {
            p.notice role="status" {
                "No papers were listed on " (view.requested.format("%A, %B %-d, %Y"))
                "; showing " (shown.format("%A, %B %-d, %Y")) ", the previous day with papers."
            }
        }
        (day_pager(view.prev, view.next))
        p.muted {
            (layout::count_label(u32::try_from(view.entries.len()).unwrap_or(u32::MAX), "paper", "papers"))
            ", ranked by upvotes · "
            a href={ "/papers/week/" (listing::week_of(shown)) } { "this week" }
            " · "
            a href={ "/papers/month/" (listing::month_of(shown)) } { "this month" }
        }
        (layout::paper_list(viewer, &cards, &return_to))
        (day_pager(view.prev, view.next))
    };
    layout::page(&title, viewer, body)
}

fn day_pager(prev: Option<NaiveDate>, next: Option<NaiveDate>) -> Markup {
    html! {
        nav.pager aria-label="Days" {
            @if let Some(prev) = prev {
                a.prev rel="prev" href=(day_path(prev)) { "← " (layout::day_label(prev)) }
            }
            @if let Some(next) = next {
                a.next rel="next" href=(day_path(next)) { (layout::day_label(next)) " →" }
            }
        }
    }
}

// ---------------------------------------------------------------- weeks and months

/// The latest week with papers (or this week).
async fn current_week(State(state): State<AppState>) -> Result<Redirect, PageError> {
    let day = latest_day_or_today(&state).await?;
    Ok(Redirect::temporary(&format!(
        "/papers/week/{}",
        listing::week_of(day)
    )))
}

/// The latest month with papers (or this month).
async fn current_month(State(state): State<AppState>) -> Result<Redirect, PageError> {
    let day = latest_day_or_today(&state).await?;
    Ok(Redirect::temporary(&format!(
        "/papers/month/{}",
        listing::month_of(day)
    )))
}

async fn latest_day_or_today(state: &AppState) -> Result<NaiveDate, WebError> {
    let today = state.today();
    Ok(state
        .read(move |store| store.day_with_entries_on_or_before(today))
        .await?
        .unwrap_or(today))
}

/// A week or a month as a page shows it.
struct PeriodView {
    period: Period,
    page: u64,
    total: u64,
    entries: Vec<Listed>,
    upvoted: HashSet<ArxivId>,
}

impl PeriodView {
    fn pages(&self) -> u64 {
        self.total.div_ceil(PAGE_SIZE).max(1)
    }
}

async fn week_page(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    week: Result<Path<String>, PathRejection>,
    params: Result<Query<PageParams>, QueryRejection>,
) -> Result<Response, PageError> {
    let render = async {
        let Path(raw) = week.map_err(bad_path)?;
        let period = listing::parse_week(&raw)?;
        let Query(params) = params.map_err(bad_query)?;
        let page = listing::parse_page_number(params.p.as_deref())?;
        let view = load_period(&state, &viewer, period, page).await?;
        let label = listing::week_of(period.from);
        let (year, week) = label.split_once("-W").unwrap_or((&label, ""));
        let heading = format!("Week {}, {year}", week.trim_start_matches('0'));
        let neighbours = [
            period
                .from
                .checked_sub_days(Days::new(7))
                .map(|d| (listing::week_of(d), "← Previous week")),
            period
                .from
                .checked_add_days(Days::new(7))
                .map(|d| (listing::week_of(d), "Next week →")),
        ];
        Ok(render_period(
            &viewer,
            &view,
            &heading,
            &format!("/papers/week/{label}"),
            "/papers/week/",
            neighbours,
        ))
    };
    cached_page(&state, &viewer, &uri, render).await
}

async fn month_page(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    month: Result<Path<String>, PathRejection>,
    params: Result<Query<PageParams>, QueryRejection>,
) -> Result<Response, PageError> {
    let render = async {
        let Path(raw) = month.map_err(bad_path)?;
        let period = listing::parse_month(&raw)?;
        let Query(params) = params.map_err(bad_query)?;
        let page = listing::parse_page_number(params.p.as_deref())?;
        let view = load_period(&state, &viewer, period, page).await?;
        let heading = period.from.format("%B %Y").to_string();
        let neighbours = [
            period
                .from
                .pred_opt()
                .map(|d| (listing::month_of(d), "← Previous month")),
            period
                .to
                .succ_opt()
                .map(|d| (listing::month_of(d), "Next month →")),
        ];
        let path = format!("/papers/month/{}", listing::month_of(period.from));
        Ok(render_period(
            &viewer,
            &view,
            &heading,
            &path,
            "/papers/month/",
            neighbours,
        ))
    };
    cached_page(&state, &viewer, &uri, render).await
}

async fn load_period(
    state: &AppState,
    viewer: &Viewer,
    period: Period,
    page: u64,
) -> Result<PeriodView, WebError> {
    let user = viewer.user.as_ref().map(|u| u.id);
    let view = state
        .read(move |store| {
            let mut query = EntryQuery {
                from: period.from,
                to: period.to,
                submitter: None,
                order: ListOrder::Upvotes,
                offset: 0,
                limit: PAGE_SIZE,
            };
            let total = store.count_entries(&query)?;
            query.offset = (page - 1) * PAGE_SIZE;
            let entries = if query.offset < total {
                store.entries(&query)?
            } else {
                Vec::new()
            };
            let upvoted = upvoted_among(store, user, entries.iter().map(|l| &l.paper.id))?;
            Ok(PeriodView {
                period,
                page,
                total,
                entries,
                upvoted,
            })
        })
        .await?;
    if view.page > view.pages() {
        return Err(WebError::not_found(
            "page_not_found",
            format!(
                "There is no page {}; this list has {} page(s).",
                view.page,
                view.pages()
            ),
        ));
    }
    Ok(view)
}

fn render_period(
    viewer: &Viewer,
    view: &PeriodView,
    heading: &str,
    path: &str,
    neighbour_prefix: &str,
    neighbours: [Option<(String, &str)>; 2],
) -> Markup {
    let return_to = if view.page > 1 {
        format!("{path}?p={}", view.page)
    } else {
        path.to_string()
    };
    let cards = cards(&view.entries, &view.upvoted);
    let first = (view.page - 1) * PAGE_SIZE + 1;
    let period_nav = html! {
        nav.pager aria-label="Periods" {
            @for (i, n) in neighbours.iter().enumerate() {
                @if let Some((label, text)) = n {
                    a class=(if i == 0 { "prev" } else { "next" }) href={ (neighbour_prefix) (label) } { (text) }
                }
            }
        }
    };
    let body = html! {
        h1 { (heading) }
        p.muted {
            (layout::day_label(view.period.from)) " – " (layout::day_label(view.period.to)) " · "
            (layout::count_label(u32::try_from(view.total).unwrap_or(u32::MAX), "paper", "papers"))
            ", ranked by upvotes"
            @if view.pages() > 1 { " · page " (view.page) " of " (view.pages()) }
        }
        (period_nav)
        @if view.entries.is_empty() {
            p { "No papers were listed in this period." }
        } @else {
            ol.paper-list start=(first) {
                @for card in &cards {
                    li { (layout::paper_card(viewer, card, &return_to)) }
                }
            }
        }
        @if view.pages() > 1 {
            nav.pager aria-label="Pages" {
                @if view.page > 1 {
                    a.prev rel="prev" href=(page_href(path, view.page - 1)) { "← Page " (view.page - 1) }
                }
                @if view.page < view.pages() {
                    a.next rel="next" href=(page_href(path, view.page + 1)) { "Page " (view.page + 1) " →" }
                }
            }
        }
    };
    layout::page(heading, viewer, body)
}

fn page_href(path: &str, page: u64) -> String {
    if page == 1 {
        path.to_string()
    } else {
        format!("{path}?p={page}")
    }
}

// ---------------------------------------------------------------- trending

async fn trending_page(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, PageError> {
    cached_page(&state, &viewer, &uri, render_trending(&state, &viewer)).await
}

async fn render_trending(state: &AppState, viewer: &Viewer) -> Result<Markup, PageError> {
    let now = state.now();
    let user = viewer.user.as_ref().map(|u| u.id);
    let (ranked, upvoted) = state
        .read(move |store| {
            let mut ranked = listing::trending_now(store, now)?;
            ranked.truncate(TRENDING_SHOWN);
            let upvoted = upvoted_among(store, user, ranked.iter().map(|t| &t.listed.paper.id))?;
            Ok((ranked, upvoted))
        })
        .await?;
    let cards: Vec<PaperCard<'_>> = ranked
        .iter()
        .map(|t| PaperCard {
            upvoted: upvoted.contains(&t.listed.paper.id),
            why: Some(why_trending(t)),
            ..PaperCard::from_listed(&t.listed)
        })
        .collect();
    let body = html! {
        h1 { "Trending papers" }
        p.muted {
            "Papers of the last " (trending::WINDOW_DAYS) " days of Daily Papers, ranked by a published formula; "
            a href="#formula" { "how it works" } "."
        }
        @if cards.is_empty() {
            p { "Nothing is trending: no papers have been listed yet." }
        } @else {
            (layout::paper_list(viewer, &cards, "/papers/trending"))
        }
        section #formula aria-labelledby="formula-heading" {
            h2 #formula-heading { "How trending works" }
            p.formula { "score = (upvotes + " (trending::COMMENT_WEIGHT) " × comments + 1) / (age_hours + 2)^" (trending::GRAVITY) }
            ul {
                li { code { "age_hours" } " counts from the start (00:00 UTC) of the day the paper was listed." }
                li { "A comment weighs " (trending::COMMENT_WEIGHT) " upvotes: it takes more effort than a click." }
                li { "The " code { "+ 1" } " lets a brand-new paper without votes rank above an old one without votes." }
                li { "The exponent " (trending::GRAVITY) " (gravity) halves a paper's score in about its first day and a half." }
                li { "Only papers listed in the last " (trending::WINDOW_DAYS) " days up to the latest day with papers are ranked." }
            }
        }
    };
    Ok(layout::page("Trending papers", viewer, body))
}

/// "Why is this here": the inputs of the score and the score.
fn why_trending(t: &Trending) -> Markup {
    let TrendingScore {
        upvotes,
        comments,
        age_hours,
        score,
    } = t.score;
    html! {
        p {
            strong { "Why is this here: " }
            (layout::count_label(upvotes, "upvote", "upvotes")) ", "
            (layout::count_label(comments, "comment", "comments")) ", listed "
            (age_label(age_hours)) " ago → score "
            strong { (score_label(score)) }
            span.muted {
                " = (" (upvotes) " + " (trending::COMMENT_WEIGHT) "×" (comments) " + 1) / ("
                (format!("{age_hours:.1}")) " + 2)^" (trending::GRAVITY)
            }
        }
    }
}

/// A score with three significant digits where that matters: `0.549`,
/// `1.23e-5` for an old paper.
pub(crate) fn score_label(score: f64) -> String {
    if score >= 0.01 || score == 0.0 {
        format!("{score:.3}")
    } else {
        format!("{score:.2e}")
    }
}

fn age_label(hours: f64) -> String {
    if hours < 48.0 {
        format!("{hours:.0} h")
    } else {
        format!("{:.1} days", hours / 24.0)
    }
}

// ---------------------------------------------------------------- a paper

/// A paper as its page shows it.
struct PaperView {
    page: PaperPage,
    comments: Vec<Comment>,
    upvoted: bool,
    saved: bool,
}

async fn paper_page(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, PageError> {
    let Path(raw) = id.map_err(bad_path)?;
    show_paper(&state, &viewer, &uri, &raw).await
}

async fn old_style_paper_page(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
    id: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, PageError> {
    let Path((archive, number)) = id.map_err(bad_path)?;
    show_paper(&state, &viewer, &uri, &format!("{archive}/{number}")).await
}

/// Parses an id from a path: a malformed one is a 400; any other spelling
/// of a valid id (a version, `arXiv:`, upper-case archive) is `Err(canonical)`
/// so that the caller redirects there.
pub(crate) fn id_from_path(raw: &str) -> Result<Result<ArxivId, ArxivId>, WebError> {
    let parsed = ArxivId::parse(raw).map_err(|e| WebError::BadRequest {
        code: "bad_arxiv_id",
        message: format!(
            "{:?} is not an arXiv id ({}).",
            listing::shorten(raw),
            e.reason
        ),
        hint: Some("arXiv ids look like 2305.03048 or hep-th/9901001.".into()),
    })?;
    Ok(if parsed.id.as_str() == raw {
        Ok(parsed.id)
    } else {
        Err(parsed.id)
    })
}

async fn show_paper(
    state: &AppState,
    viewer: &Viewer,
    uri: &Uri,
    raw: &str,
) -> Result<Response, PageError> {
    let id = match id_from_path(raw)? {
        Ok(id) => id,
        Err(canonical) => {
            return Ok(Redirect::permanent(&layout::paper_path(&canonical)).into_response());
        }
    };
    cached_page(state, viewer, uri, render_paper_page(state, viewer, id)).await
}

async fn render_paper_page(
    state: &AppState,
    viewer: &Viewer,
    id: ArxivId,
) -> Result<Markup, PageError> {
    let user = viewer.user.as_ref().map(|u| u.id);
    let wanted = id.clone();
    let view = state
        .read(move |store| {
            let Some(page) = store.paper_page(&wanted)? else {
                return Ok(None);
            };
            let comments = store.comments(&wanted)?;
            let (upvoted, saved) = match user {
                Some(user) => (
                    !store
                        .upvoted_among(user, std::slice::from_ref(&wanted))?
                        .is_empty(),
                    store.saved_papers(user)?.iter().any(|p| p.id == wanted),
                ),
                None => (false, false),
            };
            Ok(Some(PaperView {
                page,
                comments,
                upvoted,
                saved,
            }))
        })
        .await?;
    let Some(view) = view else {
        return Err(WebError::not_found(
            "paper_not_found",
            format!("Paper {id} is not in the catalog."),
        )
        .into());
    };
    let similar = similar_papers(state, &id, SIMILAR_ON_PAGE).await?;
    Ok(render_paper(viewer, &view, similar.as_deref()))
}

/// Similar papers shown on a paper's page.
const SIMILAR_ON_PAGE: usize = 8;

/// The papers most similar to `id` by meaning, best first; `None` when this
/// server has no vector index (no embedding model).
pub(crate) async fn similar_papers(
    state: &AppState,
    id: &ArxivId,
    k: usize,
) -> Result<Option<Vec<SearchHit>>, WebError> {
    let Some(engine) = state.search.clone().filter(|e| e.vectors.is_some()) else {
        return Ok(None);
    };
    let id = id.clone();
    let hits = tokio::task::spawn_blocking(move || engine.similar(&id, k))
        .await?
        .map_err(crate::search::search_error)?;
    Ok(Some(hits))
}

fn similar_section(similar: Option<&[SearchHit]>) -> Markup {
    html! {
        section #similar aria-labelledby="similar-heading" {
            h2 #similar-heading { "Similar papers" }
            @match similar {
                None => p.muted { "Similar papers need the embedding model, which this server does not have." },
                Some([]) => p.muted { "None yet: this paper's text has not been embedded yet. Try again in a few minutes." },
                Some(hits) => ol.similar-list {
                    @for hit in hits {
                        li {
                            a href=(layout::paper_path(&hit.id)) { (hit.title) }
                            br;
                            span.muted {
                                (layout::authors_count(hit.authors))
                                @if let Some(day) = hit.date { " · " (layout::day_label(day)) }
                                " · " (layout::count_label(hit.upvotes, "upvote", "upvotes"))
                                " · similarity " (format!("{:.2}", hit.score))
                            }
                        }
                    }
                },
            }
        }
    }
}

fn render_paper(viewer: &Viewer, view: &PaperView, similar: Option<&[SearchHit]>) -> Markup {
    let paper: &Paper = &view.page.paper;
    let b = &paper.biblio;
    let c = &paper.community;
    let path = layout::paper_path(&paper.id);
    let title = layout::display_title(paper);
    let body = html! {
        article.paper {
            header.paper-head {
                h1 { (title) }
                @if b.withdrawn {
                    p.notice { "This paper has been withdrawn by its authors." }
                }
                @if !b.authors.is_empty() {
                    p.authors {
                        span.muted { (layout::authors_count(b.authors.len())) ": " }
                        (b.authors.join(", "))
                    }
                }
            }
            div.actions {
                div.upvote { (layout::upvote_control(viewer, &paper.id, view.page.upvotes, view.upvoted, &path)) }
                @if viewer.user.is_some() {
                    (crate::participate::save_control(viewer, &paper.id, view.saved, &path))
                } @else {
                    p.muted { a href="/login" { "Log in" } " to upvote, comment or save this paper." }
                }
            }
            ul.links {
                li { a.button href=(paper.id.abs_url()) { "arXiv page" } }
                li { a.button href=(paper.id.pdf_url()) { "PDF" } }
                @if let Some(repo) = c.github_repo.as_deref().and_then(safe_href) {
                    li {
                        a.button href=(repo) {
                            "GitHub"
                            @if let Some(stars) = c.github_stars { " ★ " (layout::human_count(stars)) }
                        }
                    }
                }
                @if let Some(project) = c.project_page.as_deref().and_then(safe_href) {
                    li { a.button href=(project) { "Project page" } }
                }
            }
            dl.facts {
                dt { "arXiv id" }
                dd { (paper.id) @if let Some(v) = b.version { " (v" (v) ")" } }
                @if let Some(published) = b.published {
                    dt { "Published" }
                    dd { time datetime=(published.to_rfc3339()) { (layout::time_label(published)) } }
                }
                @if let Some(updated) = b.updated.filter(|u| Some(*u) != b.published) {
                    dt { "Updated" }
                    dd { time datetime=(updated.to_rfc3339()) { (layout::time_label(updated)) } }
                }
                @if !b.categories.is_empty() {
                    dt { "Categories" }
                    dd { (b.categories.join(", ")) }
                }
                @if let Some(comments) = &b.comments {
                    dt { "Comments" }
                    dd { (comments) }
                }
                @if let Some(journal) = &b.journal_ref {
                    dt { "Journal reference" }
                    dd { (journal) }
                }
                @if let Some(doi) = &b.doi {
                    dt { "DOI" }
                    dd { a href={ "https://doi.org/" (doi) } { (doi) } }
                }
                dt { "Upvotes" }
                dd { (view.page.upvotes) }
            }
            section.abstract aria-labelledby="abstract-heading" {
                h2 #abstract-heading { "Abstract" }
                @if b.abstract_text.trim().is_empty() {
                    p.muted { "No abstract is known yet." }
                }
                @for paragraph in b.abstract_text.split("\n\n").filter(|p| !p.trim().is_empty()) {
                    p { (paragraph) }
                }
            }
            @if let Some(summary) = &c.ai_summary {
                section aria-labelledby="ai-summary-heading" {
                    h2 #ai-summary-heading { "AI summary" }
                    p { (summary) }
                    @if !c.ai_keywords.is_empty() {
                        p.muted { "Keywords: " (c.ai_keywords.join(", ")) }
                    }
                    p.muted { "Generated by the source of this paper's Daily Papers entry." }
                }
            }
            @if !view.page.entries.is_empty() {
                section aria-labelledby="lists-heading" {
                    h2 #lists-heading { "On Daily Papers" }
                    ul {
                        @for entry in &view.page.entries {
                            li {
                                a href=(day_path(entry.day)) { (layout::day_label(entry.day)) }
                                @if let Some(by) = &entry.submitter {
                                    ", submitted by " (layout::submitter_name(by))
                                    @if layout::submitter_name(by) != by.name { " (" (by.name) ")" }
                                }
                            }
                        }
                    }
                }
            }
            (crate::participate::comment_section(viewer, &paper.id, &view.comments))
            (similar_section(similar))
        }
    };
    layout::page(title, viewer, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_paths() {
        let check = |raw: &str, want: Result<Result<&str, &str>, &str>| {
            let got = id_from_path(raw)
                .map(|r| r.map(|id| id.to_string()).map_err(|id| id.to_string()))
                .map_err(|e| e.code());
            let want = want.map(|r| r.map(str::to_string).map_err(str::to_string));
            assert_eq!(got, want, "{raw}");
        };
        check("2506.08007", Ok(Ok("2506.08007")));
        check("hep-th/9901001", Ok(Ok("hep-th/9901001")));
        check("2506.08007v2", Ok(Err("2506.08007")));
        check("arXiv:2506.08007", Ok(Err("2506.08007")));
        check("math.GT/0309136", Ok(Err("math/0309136")));
        check("2506.8007x", Err("bad_arxiv_id"));
        check("", Err("bad_arxiv_id"));
    }

    #[test]
    fn scores_keep_three_significant_digits() {
        assert_eq!(score_label(0.5491), "0.549");
        assert_eq!(score_label(12.0), "12.000");
        assert_eq!(score_label(0.0000123), "1.23e-5");
        assert_eq!(score_label(0.0), "0.000");
        assert_eq!(age_label(12.4), "12 h");
        assert_eq!(age_label(72.0), "3.0 days");
    }
}
