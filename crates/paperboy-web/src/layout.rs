//! The page shell every HTML page shares (header with navigation and search,
//! a `<main>` landmark, footer, the one stylesheet), the paper list item used
//! by the day, week, month, trending, user and search pages, and the error
//! page.
//!
//! Everything is rendered with maud, which escapes text and attribute values;
//! nothing here wraps source or user text in `PreEscaped`. Links taken from
//! sources (GitHub repository, project page) pass [`safe_href`] first, so a
//! `javascript:` URL never becomes a link.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use maud::{DOCTYPE, Markup, html};
use paperboy_core::{ArxivId, Paper, Submitter};
use paperboy_store::Listed;

use crate::auth::Viewer;
use crate::error::WebError;
use crate::{AppState, WebConfig};

/// The stylesheet, served by Paperboy itself (no CDN, no web fonts).
const CSS: &str = include_str!("../assets/paperboy.css");

/// Changes whenever the stylesheet does, so that it can be cached for a year.
const CSS_VERSION: u64 = fnv1a(CSS.as_bytes());

/// Where the stylesheet is served.
pub const CSS_PATH: &str = "/assets/paperboy.css";

/// How many characters of an abstract a list shows.
pub const SNIPPET_CHARS: usize = 300;

/// How many author names a list shows before "+N".
const LIST_AUTHORS: usize = 3;

tokio::task_local! {
    /// The configuration of the server answering the current request, set by
    /// [`crate::ops::track`] around every request so that [`page`] and
    /// [`error_page`] (which have no state at hand) can show the site name.
    static CONFIG: Arc<WebConfig>;
}

/// Runs `fut` (a request) with `config` available to the page shell.
pub async fn with_config<F: Future>(config: Arc<WebConfig>, fut: F) -> F::Output {
    CONFIG.scope(config, fut).await
}

fn site_name<R>(f: impl FnOnce(&str) -> R) -> R {
    let mut f = Some(f);
    let from_config = CONFIG.try_with(|config| (f.take().expect("called once"))(&config.site_name));
    match from_config {
        Ok(r) => r,
        Err(_) => (f.take().expect("not called yet"))("Paperboy"),
    }
}

/// The route of the stylesheet.
pub fn routes() -> Router<AppState> {
    Router::new().route(CSS_PATH, get(stylesheet))
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            // The URL carries the content's hash (`?v=`), so a year is safe.
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        CSS,
    )
}

/// A full HTML page: header (site name, navigation, search, account), the
/// `body` inside `<main>`, footer.
pub fn page(title: &str, viewer: &Viewer, body: Markup) -> Markup {
    site_name(|site| {
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    meta name="color-scheme" content="light dark";
                    title { (title) " · " (site) }
                    link rel="stylesheet" href={ (CSS_PATH) "?v=" (format!("{CSS_VERSION:016x}")) };
                    link rel="alternate" type="application/atom+xml" title={ (site) ": daily papers" } href="/feeds/daily.atom";
                    link rel="alternate" type="application/atom+xml" title={ (site) ": trending papers" } href="/feeds/trending.atom";
                }
                body {
                    a.skip-link href="#main" { "Skip to content" }
                    header.site-header {
                        a.brand href="/" { (site) }
                        nav.site-nav aria-label="Main" {
                            ul {
                                li { a href="/papers" { "Daily" } }
                                li { a href="/papers/week" { "Week" } }
                                li { a href="/papers/month" { "Month" } }
                                li { a href="/papers/trending" { "Trending" } }
                                li { a href="/submit" { "Submit" } }
                                li { a href="/subscribe" { "Subscribe" } }
                            }
                        }
                        form.site-search role="search" action="/search" method="get" {
                            label.visually-hidden for="site-search-q" { "Search papers" }
                            input #site-search-q type="search" name="q" placeholder="Search papers";
                            button type="submit" { "Search" }
                        }
                        div.account {
                            @if let Some(user) = &viewer.user {
                                a href={ "/users/" (user.username) } { (user.username) }
                                form method="post" action="/logout" {
                                    (csrf_field(viewer))
                                    button.link-button type="submit" { "Log out" }
                                }
                            } @else {
                                a href="/login" { "Log in" }
                                a href="/signup" { "Sign up" }
                            }
                        }
                    }
                    main #main tabindex="-1" {
                        (body)
                    }
                    footer.site-footer {
                        p {
                            (site) ", a self-hosted Daily Papers. "
                            a href="/papers/trending#formula" { "How trending works" }
                            " · "
                            a href="/feeds/daily.atom" { "Atom feed" }
                            " · "
                            a href="/api/openapi.json" { "JSON API" }
                        }
                    }
                }
            }
        }
    })
}

/// The hidden CSRF field of a form a signed-in viewer posts.
pub fn csrf_field(viewer: &Viewer) -> Markup {
    html! {
        @if let Some(token) = &viewer.csrf_token {
            input type="hidden" name="csrf" value=(token);
        }
    }
}

/// The page shown for an error: status, what went wrong, how to fix it.
/// Internal errors show only the generic public message.
pub fn error_page(err: &WebError) -> Markup {
    let status = err.status();
    let heading = match status.as_u16() {
        400 => "That address is not quite right",
        401 => "Sign in first",
        403 => "Not allowed",
        404 => "Not found",
        409 => "Already done",
        429 => "Slow down",
        _ => "Something went wrong",
    };
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    page(
        &title,
        &Viewer::default(),
        html! {
            h1 { (heading) }
            p { (err.public_message()) }
            @if let Some(hint) = err.hint() {
                p.muted { (hint) }
            }
            p.muted { "Error " (status.as_u16()) " · " code { (err.code()) } }
            p { a href="/" { "Go to the latest papers" } }
        },
    )
}

/// What a list shows of one paper.
#[derive(Debug, Clone)]
pub struct PaperCard<'a> {
    pub paper: &'a Paper,
    /// The curation day of the entry shown, if any.
    pub day: Option<NaiveDate>,
    pub submitter: Option<&'a Submitter>,
    pub upvotes: u32,
    pub comments: u32,
    /// The viewer has upvoted it.
    pub upvoted: bool,
    /// Shown instead of the abstract snippet (search marks matched words).
    pub snippet: Option<Markup>,
    /// An explanation under the card ("why is this here" on trending).
    pub why: Option<Markup>,
}

impl<'a> PaperCard<'a> {
    /// The card of a listed daily entry.
    pub fn from_listed(listed: &'a Listed) -> PaperCard<'a> {
        PaperCard {
            paper: &listed.paper,
            day: Some(listed.entry.day),
            submitter: listed.entry.submitter.as_ref(),
            upvotes: listed.upvotes,
            comments: listed.comments,
            upvoted: false,
            snippet: None,
            why: None,
        }
    }
}

/// A ranked list of papers (`<ol>`).
pub fn paper_list(viewer: &Viewer, cards: &[PaperCard<'_>], return_to: &str) -> Markup {
    html! {
        ol.paper-list {
            @for card in cards {
                li { (paper_card(viewer, card, return_to)) }
            }
        }
    }
}

/// One paper in a list: upvote control, title, snippet, authors, day,
/// submitter, comments, GitHub stars.
pub fn paper_card(viewer: &Viewer, card: &PaperCard<'_>, return_to: &str) -> Markup {
    let paper = card.paper;
    let href = paper_path(&paper.id);
    let authors = &paper.biblio.authors;
    html! {
        article.paper-card {
            div.upvote { (upvote_control(viewer, &paper.id, card.upvotes, card.upvoted, return_to)) }
            div.body {
                h2 { a href=(href) { (display_title(paper)) } }
                @if let Some(snippet) = &card.snippet {
                    p.snippet { (snippet) }
                } @else if !paper.biblio.abstract_text.is_empty() {
                    p.snippet { (snippet(&paper.biblio.abstract_text, SNIPPET_CHARS)) }
                }
                p.meta {
                    @if !authors.is_empty() {
                        span.authors {
                            (authors_count(authors.len()))
                            ": "
                            (authors.iter().take(LIST_AUTHORS).map(String::as_str).collect::<Vec<_>>().join(", "))
                            @if authors.len() > LIST_AUTHORS { " +" (authors.len() - LIST_AUTHORS) }
                        }
                    }
                    @if let Some(day) = card.day {
                        span { "Listed " time datetime=(day) { (day_label(day)) } }
                    }
                    @if let Some(by) = card.submitter {
                        span { "Submitted by " (submitter_name(by)) }
                    }
                    span { a href={ (href) "#comments" } { (count_label(card.comments, "comment", "comments")) } }
                    // The repository, with its stars once it has any ("★ 0" says nothing);
                    // an unsafe link is dropped but its stars still shown.
                    @let stars = paper.community.github_stars.filter(|s| *s > 0);
                    @if let Some(repo) = paper.community.github_repo.as_deref().and_then(safe_href) {
                        span {
                            a href=(repo) {
                                "GitHub"
                                @if let Some(stars) = stars { " ★ " (human_count(stars)) }
                            }
                        }
                    } @else if let Some(stars) = stars {
                        span { "GitHub ★ " (human_count(stars)) }
                    }
                }
                @if let Some(why) = &card.why {
                    div.why { (why) }
                }
            }
        }
    }
}

/// The upvote button of a paper: a form posting to `/papers/{id}/upvote`
/// (with the CSRF token and where to come back to) for a signed-in viewer,
/// the plain count otherwise.
pub fn upvote_control(
    viewer: &Viewer,
    id: &ArxivId,
    upvotes: u32,
    upvoted: bool,
    return_to: &str,
) -> Markup {
    html! {
        @if viewer.user.is_some() {
            form method="post" action={ (paper_path(id)) "/upvote" } {
                (csrf_field(viewer))
                input type="hidden" name="return_to" value=(return_to);
                input type="hidden" name="upvoted" value=(if upvoted { "false" } else { "true" });
                button type="submit" aria-pressed=(if upvoted { "true" } else { "false" })
                    title=(if upvoted { "Remove your upvote" } else { "Upvote" }) {
                    span aria-hidden="true" { "▲" }
                    span.count { (upvotes) }
                    span.visually-hidden { (if upvoted { " upvotes, upvoted by you; remove upvote" } else { " upvotes; upvote" }) }
                }
            }
        } @else {
            div.count-box {
                span aria-hidden="true" { "▲" }
                span.count { (upvotes) }
                span.visually-hidden { " upvotes" }
            }
        }
    }
}

/// The page of a paper (old-style ids keep their slash: `/papers/hep-th/9901001`).
pub fn paper_path(id: &ArxivId) -> String {
    format!("/papers/{id}")
}

/// A paper's title, or its id when the source gave none.
pub fn display_title(paper: &Paper) -> &str {
    if paper.biblio.title.is_empty() {
        paper.id.as_str()
    } else {
        &paper.biblio.title
    }
}

/// How a submitter is named: full name when known, else the account.
pub fn submitter_name(by: &Submitter) -> &str {
    by.fullname
        .as_deref()
        .filter(|f| !f.trim().is_empty())
        .unwrap_or(&by.name)
}

/// "1 author", "7 authors".
pub fn authors_count(n: usize) -> String {
    if n == 1 {
        "1 author".into()
    } else {
        format!("{n} authors")
    }
}

/// "1 comment", "3 comments".
pub fn count_label(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `Jun 10, 2025`.
pub fn day_label(day: NaiveDate) -> String {
    day.format("%b %-d, %Y").to_string()
}

/// `Jun 10, 2025, 13:04 UTC`.
pub fn time_label(t: DateTime<Utc>) -> String {
    t.format("%b %-d, %Y, %H:%M UTC").to_string()
}

/// 950 → `950`, 1234 → `1.2k`, 25300 → `25k`.
pub fn human_count(n: u32) -> String {
    match n {
        0..=999 => n.to_string(),
        1_000..=9_999 => format!("{:.1}k", f64::from(n) / 1000.0),
        _ => format!("{}k", n / 1000),
    }
}

pub use paperboy_core::text::snippet;

/// `url` when it is an absolute http(s) URL that is safe in an `href`;
/// `None` for anything else (`javascript:`, `data:`, relative paths).
pub fn safe_href(url: &str) -> Option<&str> {
    let url = url.trim();
    let scheme_ok = url
        .get(..8)
        .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
        || url
            .get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("http://"));
    let clean = !url.chars().any(|c| c.is_whitespace() || c.is_control());
    (scheme_ok && clean && url.len() > 8).then_some(url)
}

/// FNV-1a, 64 bits: a cheap, stable hash (cache-busting versions, synthetic
/// ids). Not for anything secret.
pub const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use paperboy_core::{User, UserId};

    use super::*;

    fn paper(title: &str, authors: &[&str]) -> Paper {
        let mut p = Paper::new(ArxivId::parse("2506.08007").expect("id").id);
        p.biblio.title = title.into();
        p.biblio.authors = authors.iter().map(|a| a.to_string()).collect();
        p.biblio.abstract_text = "First paragraph.\n\nSecond paragraph.".into();
        p
    }

    fn signed_in() -> Viewer {
        Viewer {
            user: Some(User {
                id: UserId(1),
                username: "ada".into(),
                email: "ada@example.org".into(),
                display_name: "Ada".into(),
                is_admin: false,
                created_at: Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
            }),
            csrf_token: Some("tok\"en<".into()),
        }
    }

    #[test]
    fn only_http_links_are_links() {
        for ok in [
            "https://github.com/a/b",
            "http://example.org/x",
            "HTTPS://EXAMPLE.ORG",
        ] {
            assert_eq!(safe_href(ok), Some(ok));
        }
        for bad in [
            "javascript:alert(1)",
            " javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,<script>",
            "//evil.example",
            "/relative",
            "https://",
            "https://a b",
            "",
        ] {
            assert_eq!(safe_href(bad), None, "{bad}");
        }
    }

    #[test]
    fn counts_read_naturally() {
        assert_eq!(human_count(950), "950");
        assert_eq!(human_count(1234), "1.2k");
        assert_eq!(human_count(25_300), "25k");
        assert_eq!(authors_count(1), "1 author");
        assert_eq!(authors_count(7), "7 authors");
        assert_eq!(count_label(1, "comment", "comments"), "1 comment");
        assert_eq!(count_label(0, "comment", "comments"), "0 comments");
        assert_eq!(
            day_label(NaiveDate::from_ymd_opt(2025, 6, 10).unwrap()),
            "Jun 10, 2025"
        );
    }

    #[test]
    fn the_card_shows_authors_and_escapes_source_text() {
        let mut p = paper(
            "<script>alert(1)</script>",
            &["\"><img src=x onerror=alert(1)>", "B", "C", "D"],
        );
        p.community.github_repo = Some("javascript:alert(1)".into());
        p.community.github_stars = Some(1500);
        let card = PaperCard {
            paper: &p,
            day: NaiveDate::from_ymd_opt(2025, 6, 10),
            submitter: None,
            upvotes: 7,
            comments: 1,
            upvoted: false,
            snippet: None,
            why: None,
        };
        let html = paper_card(&Viewer::default(), &card, "/papers").into_string();
        assert!(html.contains("4 authors"), "{html}");
        assert!(html.contains(" +1"), "{html}");
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("GitHub ★ 1.5k"), "{html}");
        assert!(html.contains("1 comment"), "{html}");
        assert!(
            !html.contains("<form"),
            "signed out: no upvote form: {html}"
        );
    }

    #[test]
    fn a_signed_in_viewer_gets_an_upvote_form_with_csrf_and_return_to() {
        let viewer = signed_in();
        let id = ArxivId::parse("hep-th/9901001").expect("id").id;
        let html =
            upvote_control(&viewer, &id, 3, true, "/papers/date/2025-06-10?p=2&x=\"").into_string();
        assert!(
            html.contains(r#"action="/papers/hep-th/9901001/upvote""#),
            "{html}"
        );
        assert!(
            html.contains(r#"name="csrf" value="tok&quot;en&lt;""#),
            "{html}"
        );
        assert!(
            html.contains(r#"name="return_to" value="/papers/date/2025-06-10?p=2&amp;x=&quot;""#),
            "{html}"
        );
        assert!(html.contains(r#"aria-pressed="true""#), "{html}");
        assert!(html.contains(r#"name="upvoted" value="false""#), "{html}");
    }

    #[test]
    fn the_shell_has_landmarks_labels_and_the_account_menu() {
        let html = page("Title <x>", &signed_in(), html! { p { "hello" } }).into_string();
        for want in [
            "<!DOCTYPE html>",
            "<title>Title &lt;x&gt; · Paperboy</title>",
            r##"href="#main""##,
            r#"<main id="main""#,
            r#"<label class="visually-hidden" for="site-search-q">"#,
            r#"action="/search""#,
            r#"href="/users/ada""#,
            r#"action="/logout""#,
            "/assets/paperboy.css?v=",
            "<footer",
        ] {
            assert!(html.contains(want), "missing {want}: {html}");
        }
        let anonymous = page("T", &Viewer::default(), html! {}).into_string();
        assert!(anonymous.contains(r#"href="/login""#) && !anonymous.contains("/logout"));
    }

    #[test]
    fn the_stylesheet_is_responsive_with_dark_mode_and_focus_states() {
        assert!(CSS.contains("prefers-color-scheme: dark"));
        assert!(CSS.contains("max-width: 640px"));
        assert!(CSS.contains(":focus-visible"));
        assert!(!CSS.contains("@import") && !CSS.contains("@font-face"));
    }
}
