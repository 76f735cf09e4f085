//! Atom feeds: well-formed XML (checked by quick-xml) with the elements
//! RFC 4287 requires, absolute links from `base_url`.

use crate::app::{TestApp, fixture, fixture_now};
use crate::xml::{self, Element};

const BASE: &str = "https://papers.example.org";

#[track_caller]
fn feed(app: &TestApp, path: &str) -> Element {
    let answer = app.get(path);
    assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    assert_eq!(
        answer.header("content-type"),
        Some("application/atom+xml; charset=utf-8"),
        "{path}"
    );
    let root = xml::parse(&answer.body)
        .unwrap_or_else(|e| panic!("{path} is not well-formed XML: {e}\n{}", answer.body));
    assert_eq!(root.name, "feed");
    assert_eq!(root.attr("xmlns"), Some("http://www.w3.org/2005/Atom"));
    root
}

#[track_caller]
fn is_rfc3339(s: &str) {
    assert!(
        chrono::DateTime::parse_from_rfc3339(s).is_ok(),
        "not an RFC 3339 time: {s:?}"
    );
}

/// What RFC 4287 requires of a feed and its entries.
#[track_caller]
fn check_required(feed: &Element, self_path: &str) {
    assert_eq!(feed.text_of("id"), format!("{BASE}{self_path}"));
    assert!(!feed.text_of("title").is_empty());
    is_rfc3339(feed.text_of("updated"));
    let self_link = feed
        .all("link")
        .find(|l| l.attr("rel") == Some("self"))
        .expect("rel=self link");
    assert_eq!(
        self_link.attr("href"),
        Some(format!("{BASE}{self_path}").as_str())
    );
    assert!(
        feed.child("author")
            .is_some_and(|a| !a.text_of("name").is_empty()),
        "a feed-level author"
    );
    for entry in feed.all("entry") {
        let id = entry.text_of("id");
        assert!(id.starts_with(&format!("{BASE}/papers/")), "{id}");
        assert!(!entry.text_of("title").is_empty());
        is_rfc3339(entry.text_of("updated"));
        let link = entry
            .all("link")
            .find(|l| l.attr("rel") == Some("alternate"))
            .expect("alternate link");
        assert_eq!(link.attr("href"), Some(id));
        assert!(!entry.text_of("summary").is_empty());
        for author in entry.all("author") {
            assert!(!author.text_of("name").is_empty());
        }
    }
}

#[test]
fn the_daily_feed_is_the_latest_day() {
    let app = TestApp::start(&fixture(), fixture_now());
    let feed = feed(&app, "/feeds/daily.atom");
    check_required(&feed, "/feeds/daily.atom");
    assert!(
        feed.text_of("title").contains("Jun 16, 2025"),
        "{}",
        feed.text_of("title")
    );
    let entries: Vec<&Element> = feed.all("entry").collect();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries[0].text_of("id"),
        format!("{BASE}/papers/2506.00007")
    );
    let second = entries[1];
    assert_eq!(second.text_of("title"), "Paper 2506.00006");
    assert_eq!(second.text_of("updated"), "2025-06-16T00:43:01Z");
    assert_eq!(second.text_of("published"), "2025-06-15T17:59:53Z");
    let authors: Vec<&str> = second.all("author").map(|a| a.text_of("name")).collect();
    assert_eq!(authors, ["Ada Lovelace", "Alan Turing"]);
    assert!(
        second
            .text_of("summary")
            .starts_with("We study 2506.00006.")
    );
    assert!(
        second
            .text_of("summary")
            .contains("1 upvotes · 4 comments · listed 2025-06-16 by Li Dong")
    );
    assert_eq!(
        feed.text_of("updated"),
        "2025-06-16T00:43:01Z",
        "the newest entry's time"
    );
    let alternate = feed
        .all("link")
        .find(|l| l.attr("rel") == Some("alternate"))
        .expect("alternate");
    assert_eq!(
        alternate.attr("href"),
        Some(format!("{BASE}/papers/date/2025-06-16").as_str())
    );
}

#[test]
fn the_trending_feed_ranks_like_the_trending_page() {
    let app = TestApp::start(&fixture(), fixture_now());
    let feed = feed(&app, "/feeds/trending.atom");
    check_required(&feed, "/feeds/trending.atom");
    let feed_ids: Vec<String> = feed
        .all("entry")
        .map(|e| e.text_of("id").trim_start_matches(BASE).to_string())
        .collect();
    assert_eq!(feed_ids.len(), 7);
    let page = app.get("/papers/trending").expect(200).to_string();
    let mut at = Vec::new();
    for id in &feed_ids {
        at.push(
            page.find(&format!("<h2><a href=\"{id}\""))
                .unwrap_or_else(|| panic!("{id} not on the page")),
        );
    }
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "the same order as the page"
    );
    assert!(feed_ids.contains(&"/papers/hep-th/9901001".to_string()));
}

#[test]
fn feeds_of_an_empty_site_are_valid_and_empty() {
    let app = TestApp::start(&[], fixture_now());
    for path in ["/feeds/daily.atom", "/feeds/trending.atom"] {
        let feed = feed(&app, path);
        check_required(&feed, path);
        assert_eq!(feed.all("entry").count(), 0);
        assert_eq!(feed.text_of("updated"), "2025-06-16T12:00:00Z");
    }
}
