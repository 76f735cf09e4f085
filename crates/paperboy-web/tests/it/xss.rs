//! Script and HTML in imported titles, names, abstracts and links stay inert.

use crate::app::{TestApp, XSS_AUTHOR, XSS_TITLE, fixture, fixture_now};
use crate::xml;

#[track_caller]
fn assert_inert(path: &str, body: &str) {
    for live in [
        "<script>alert(1)</script>",
        "<img src=x onerror",
        "<svg onload",
        "<b>bold</b>",
        "href=\"javascript:",
        "href=\"data:",
    ] {
        assert!(!body.contains(live), "{path} carries live {live:?}");
    }
}

#[test]
fn payloads_in_titles_authors_and_links_render_escaped() {
    let app = TestApp::start(&fixture(), fixture_now());
    for path in [
        "/",
        "/papers/date/2025-06-16",
        "/papers/2506.00007",
        "/papers/trending",
        "/papers/week/2025-W25",
    ] {
        let body = app.get(path).expect(200).to_string();
        assert_inert(path, &body);
        assert!(
            body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}: the title is shown as text"
        );
        assert!(
            body.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"),
            "{path}: the author is shown as text"
        );
    }
    let paper = app.get("/papers/2506.00007").expect(200).to_string();
    assert!(paper.contains("&lt;b&gt;bold&lt;/b&gt;"), "{paper}");
    assert!(
        paper.contains("&lt;svg onload=alert(1)&gt;"),
        "the submitter's name as text: {paper}"
    );
    assert!(
        !paper.contains(">GitHub") && !paper.contains("Project page"),
        "unsafe links are dropped"
    );
    assert!(
        paper.contains("<title>&lt;script&gt;alert(1)&lt;/script&gt; · Paperboy</title>"),
        "{paper}"
    );
}

#[test]
fn payloads_stay_text_in_json_and_feeds() {
    let app = TestApp::start(&fixture(), fixture_now());
    let items = app.get("/api/daily_papers?date=2025-06-16").json();
    assert_eq!(items[0]["title"], XSS_TITLE);
    assert_eq!(items[0]["paper"]["authors"][0]["name"], XSS_AUTHOR);

    let answer = app.get("/feeds/daily.atom");
    assert_inert("/feeds/daily.atom", &answer.body);
    let feed = xml::parse(&answer.body).expect("well-formed despite the payloads");
    let entry = feed
        .all("entry")
        .find(|e| e.text_of("id").ends_with("/papers/2506.00007"))
        .expect("the entry");
    assert_eq!(
        entry.text_of("title"),
        XSS_TITLE,
        "the title survives as text"
    );
    let names: Vec<&str> = entry.all("author").map(|a| a.text_of("name")).collect();
    assert_eq!(names[0], XSS_AUTHOR);
}

#[test]
fn payloads_in_the_address_are_not_reflected_raw() {
    let app = TestApp::start(&fixture(), fixture_now());
    let answer = app.get("/papers/%3Cscript%3Ealert(1)%3C%2Fscript%3E");
    assert_eq!(answer.status, 400);
    assert_inert("bad id page", &answer.body);
    assert!(answer.body.contains("&lt;script&gt;"), "{}", answer.body);
    let answer = app.get("/papers/date/%22%3E%3Cimg%20src=x%20onerror=alert(1)%3E");
    assert_eq!(answer.status, 400);
    assert_inert("bad date page", &answer.body);
}
