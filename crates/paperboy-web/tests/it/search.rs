//! Search over HTTP: `/search`, `/api/papers/search`, `/feeds/search.atom`,
//! bad input (never a 500), and writes showing within about a second.

use std::time::{Duration, Instant};

use paperboy_store::Store;

use crate::app::{TestApp, fixture_now, record_with};

fn app() -> TestApp {
    let records = vec![
        record_with("2506.00001", "2025-06-10", 40, |r| {
            r.paper.biblio.title =
                "Mamba: Linear-Time Sequence Modeling with Selective State Spaces".into();
            r.paper.biblio.abstract_text =
                "We introduce a selective state space model <fast> & linear.".into();
            r.paper.biblio.authors = vec!["Albert Gu".into(), "Tri Dao".into()];
        }),
        record_with("2506.00002", "2025-06-11", 90, |r| {
            r.paper.biblio.title = "Attention Is All You Need".into();
            r.paper.biblio.abstract_text =
                "The Transformer relies on attention instead of recurrence.".into();
            r.paper.biblio.authors = vec![
                "Ashish Vaswani".into(),
                "Noam Shazeer".into(),
                "Niki Parmar".into(),
            ];
        }),
    ];
    TestApp::start_with_search(&records, fixture_now())
}

fn encode(q: &str) -> String {
    let mut out = String::new();
    for b in q.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[test]
fn the_page_lists_results_with_marked_snippets() {
    let app = app();
    let body = app.get("/search?q=selective+state").expect(200).to_string();
    assert!(
        body.contains("Mamba: Linear-Time Sequence Modeling"),
        "{body}"
    );
    assert!(body.contains("<mark>selective</mark>"), "{body}");
    assert!(
        body.contains("&lt;fast&gt; &amp; linear"),
        "escaped: {body}"
    );
    assert!(body.contains("2 authors"));
    assert!(body.contains("Jun 10, 2025"));
    assert!(
        body.contains("value=\"selective state\""),
        "the query stays in the box"
    );
    assert!(!body.contains("Attention Is All You Need"));
}

#[test]
fn the_page_sorts_and_filters() {
    let app = app();
    let body = app
        .get("/search?q=attention+selective&sort=upvotes")
        .expect(200)
        .to_string();
    let mamba = body.find("Mamba:").expect("mamba");
    let attention = body.find("Attention Is All").expect("attention");
    assert!(attention < mamba, "most upvotes first");
    let body = app
        .get("/search?q=attention+selective&min_upvotes=50")
        .expect(200)
        .to_string();
    assert!(!body.contains("Mamba:"));
    let body = app
        .get("/search?q=attention+selective&from=2025-06-11&to=2025-06-11")
        .expect(200)
        .to_string();
    assert!(!body.contains("Mamba:"));
    assert!(body.contains("Attention Is All"));
    app.get("/search?q=x&sort=sideways").expect(400);
    app.get("/search?q=x&from=yesterday").expect(400);
    app.get("/search?q=x&min_upvotes=-1").expect(400);
    app.get("/search?q=x&p=0").expect(400);
}

#[test]
fn an_empty_result_helps() {
    let app = app();
    let body = app
        .get("/search?q=quantum+chromodynamics")
        .expect(200)
        .to_string();
    assert!(body.contains("No papers match"), "{body}");
    assert!(body.contains("/papers/trending"));
    let body = app.get("/search").expect(200).to_string();
    assert!(body.contains("How to search"));
}

#[test]
fn bad_input_never_fails() {
    let app = app();
    let long = "attention ".repeat(1_000);
    let queries = [
        "",
        "   ",
        &long,
        "the of and",
        "\"unbalanced quote",
        "- ti: -\"",
        "大型语言模型",
        "نموذج لغوي كبير",
        "трансформер",
        "🚀🔥🤖",
        "<script>alert(1)</script>",
    ];
    for q in queries {
        let q = encode(q);
        let page = app.get(&format!("/search?q={q}"));
        assert_eq!(page.status, 200, "page {q}: {}", page.body);
        assert!(!page.body.contains("<script>alert"), "escaped");
        let api = app.get(&format!("/api/papers/search?q={q}"));
        assert_eq!(api.status, 200, "api {q}: {}", api.body);
        assert!(api.json().is_array());
        let feed = app.get(&format!("/feeds/search.atom?q={q}"));
        assert_eq!(feed.status, 200, "feed {q}");
    }
    let found = app
        .get(&format!("/api/papers/search?q={}", encode(&long)))
        .json();
    assert_eq!(
        found[0]["paper"]["id"], "2506.00002",
        "a long query still finds"
    );
}

#[test]
fn the_api_answers_in_daily_paper_items() {
    let app = app();
    let items = app.get("/api/papers/search?q=recurrence&limit=5").json();
    let items = items.as_array().expect("array");
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(item["paper"]["id"], "2506.00002");
    assert_eq!(item["paper"]["upvotes"], 90);
    assert_eq!(item["title"], "Attention Is All You Need");
    assert!(
        item["paper"]["authors"]
            .as_array()
            .is_some_and(|a| a.len() == 3)
    );
    assert!(item["publishedAt"].is_string());
    app.get("/api/papers/search?q=x&limit=0").expect(400);
    app.get("/api/papers/search?q=x&limit=101").expect(400);
}

#[test]
fn the_feed_lists_results() {
    let app = app();
    let answer = app.get("/feeds/search.atom?q=mamba");
    let body = answer.expect(200);
    assert!(
        answer
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/atom+xml"))
    );
    assert!(
        body.contains(
            "<title>Mamba: Linear-Time Sequence Modeling with Selective State Spaces</title>"
        ),
        "{body}"
    );
    assert!(!body.contains("Attention Is All"));
}

#[test]
fn new_papers_are_found_within_seconds() {
    let app = app();
    assert!(
        app.get("/api/papers/search?q=hyena")
            .json()
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    let hyena = record_with("2506.00003", "2025-06-12", 5, |r| {
        r.paper.biblio.title = "Hyena Hierarchy".into();
    });
    app.store().upsert(&[hyena]).expect("upsert");
    let started = Instant::now();
    loop {
        let found = app.get("/api/papers/search?q=hyena").json();
        if found.as_array().is_some_and(|a| a.len() == 1) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "not found after 5 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn without_an_index_search_is_unavailable_not_broken() {
    let app = TestApp::start(&[], fixture_now());
    app.get("/search?q=x").expect(503);
    app.get("/api/papers/search?q=x").expect(503);
    app.get("/search").expect(200);
    let feed = app.get("/feeds/search.atom?q=x");
    assert!(!feed.expect(200).contains("<entry>"));
}
