//! The HTML pages: days, weeks, months, trending, a paper, errors.

use paperboy_core::trending;
use paperboy_store::Participation;

use crate::app::{TestApp, day, fixture, fixture_now, id};

/// The links to paper pages, in page order, without repeats.
fn paper_links(body: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, _) in body.match_indices("<h2><a href=\"/papers/") {
        let rest = &body[i + "<h2><a href=\"".len()..];
        let link = &rest[..rest.find('"').unwrap_or(0)];
        if !out.iter().any(|l| l == link) {
            out.push(link.to_string());
        }
    }
    out
}

#[test]
fn the_front_page_is_the_latest_day_ranked_by_upvotes() {
    let app = TestApp::start(&fixture(), fixture_now());
    for path in ["/", "/papers"] {
        let page = app.get(path);
        assert!(
            page.header("content-type")
                .unwrap_or("")
                .starts_with("text/html"),
            "{path}"
        );
        let body = page.expect(200);
        assert!(body.contains("Monday, June 16, 2025"), "{path}: {body}");
        assert_eq!(
            paper_links(body),
            ["/papers/2506.00007", "/papers/2506.00006"],
            "{path}"
        );
        assert!(
            !body.contains("No papers were listed on"),
            "the latest day needs no notice"
        );
        assert!(
            body.contains(r#"rel="prev" href="/papers/date/2025-06-13""#),
            "{body}"
        );
    }
}

#[test]
fn a_day_lists_its_papers_ranked_by_upvotes_with_authors_and_links() {
    let app = TestApp::start(&fixture(), fixture_now());
    let body = app.get("/papers/date/2025-06-10").expect(200).to_string();
    assert_eq!(
        paper_links(&body),
        [
            "/papers/2506.00002",
            "/papers/2506.00001",
            "/papers/2506.00003"
        ]
    );
    assert!(
        body.contains("<title>Daily Papers of Jun 10, 2025 · Paperboy</title>"),
        "{body}"
    );
    assert!(
        body.contains("7 authors: Qingxiu Dong, Li Dong, Yao Tang +4"),
        "{body}"
    );
    assert!(
        body.contains("2 authors: Ada Lovelace, Alan Turing"),
        "{body}"
    );
    assert!(body.contains("3 papers, ranked by upvotes"), "{body}");
    // Upvote counts, plain for a visitor; the snippet is cut at a word.
    assert!(body.contains(r#"<span class="count">20</span>"#), "{body}");
    assert!(
        !body.contains("<form method=\"post\" action=\"/papers/2506.00002/upvote\""),
        "visitors get no form"
    );
    assert!(body.contains("We study 2506.00001. Results are good."));
    assert!(
        body.contains("good…") || body.contains("are…") || body.contains("Results…"),
        "snippet ends with …"
    );
    assert!(
        !body.contains(&"Results are good. ".repeat(30)),
        "the whole abstract is not in the list"
    );
    assert!(
        body.contains(r#"<a href="https://github.com/example/repo">GitHub ★ 1.2k</a>"#),
        "{body}"
    );
    assert!(body.contains("Submitted by Li Dong"));
    assert!(body.contains(r#"href="/papers/2506.00002#comments""#));
    // Previous and next days with papers, skipping empty ones.
    assert!(
        body.contains(r#"rel="prev" href="/papers/date/2025-05-20""#),
        "{body}"
    );
    assert!(
        body.contains(r#"rel="next" href="/papers/date/2025-06-13""#),
        "{body}"
    );
    assert!(
        body.contains(r#"href="/papers/week/2025-W24""#)
            && body.contains(r#"href="/papers/month/2025-06""#)
    );
}

#[test]
fn an_empty_day_shows_the_previous_day_with_papers_and_says_so() {
    let app = TestApp::start(&fixture(), fixture_now());
    for weekend in ["2025-06-14", "2025-06-15"] {
        let body = app
            .get(&format!("/papers/date/{weekend}"))
            .expect(200)
            .to_string();
        assert!(body.contains("No papers were listed on"), "{body}");
        assert!(
            body.contains("showing Friday, June 13, 2025, the previous day with papers"),
            "{body}"
        );
        assert_eq!(
            paper_links(&body),
            ["/papers/2506.00004", "/papers/hep-th/9901001"]
        );
        assert!(
            body.contains(r#"rel="prev" href="/papers/date/2025-06-10""#),
            "{body}"
        );
        assert!(
            body.contains(r#"rel="next" href="/papers/date/2025-06-16""#),
            "{body}"
        );
    }
    let before_everything = app.get("/papers/date/2001-01-01").expect(200).to_string();
    assert!(
        before_everything.contains("No papers were listed on or before Jan 1, 2001"),
        "{before_everything}"
    );
    assert!(
        before_everything.contains(r#"href="/papers/date/2025-05-20""#),
        "{before_everything}"
    );
    let last = app.get("/papers/date/2025-06-16").expect(200).to_string();
    assert!(
        !last.contains(r#"rel="next""#),
        "nothing after the last day"
    );
}

#[test]
fn an_empty_site_says_so() {
    let app = TestApp::start(&[], fixture_now());
    let body = app.get("/").expect(200).to_string();
    assert!(body.contains("No papers have been listed yet."), "{body}");
    assert!(
        app.get("/papers/trending")
            .expect(200)
            .contains("Nothing is trending")
    );
    assert!(
        app.get("/papers/week/2025-W24")
            .expect(200)
            .contains("No papers were listed in this period.")
    );
}

#[test]
fn a_week_is_ranked_by_upvotes() {
    let app = TestApp::start(&fixture(), fixture_now());
    let body = app.get("/papers/week/2025-W24").expect(200).to_string();
    assert!(body.contains("<h1>Week 24, 2025</h1>"), "{body}");
    assert!(
        body.contains("Jun 9, 2025 – Jun 15, 2025 · 5 papers, ranked by upvotes"),
        "{body}"
    );
    assert_eq!(
        paper_links(&body),
        [
            "/papers/2506.00002",
            "/papers/2506.00004",
            "/papers/2506.00001",
            "/papers/hep-th/9901001",
            "/papers/2506.00003"
        ]
    );
    assert!(
        body.contains(r#"href="/papers/week/2025-W23""#)
            && body.contains(r#"href="/papers/week/2025-W25""#)
    );
    // Lower-case `w` is understood too.
    assert_eq!(
        paper_links(app.get("/papers/week/2025-w24").expect(200)).len(),
        5
    );
}

#[test]
fn a_month_is_ranked_and_paged() {
    let app = TestApp::start(&fixture(), fixture_now());
    let first = app.get("/papers/month/2025-05").expect(200).to_string();
    assert!(first.contains("<h1>May 2025</h1>"), "{first}");
    assert!(
        first.contains("35 papers, ranked by upvotes · page 1 of 2"),
        "{first}"
    );
    let links = paper_links(&first);
    assert_eq!(links.len(), 30);
    assert_eq!(links[0], "/papers/2505.10001");
    assert_eq!(links[29], "/papers/2505.10030");
    assert!(
        first.contains(r#"rel="next" href="/papers/month/2025-05?p=2""#),
        "{first}"
    );
    assert!(
        first.contains(r#"href="/papers/month/2025-04""#)
            && first.contains(r#"href="/papers/month/2025-06""#)
    );

    let second = app.get("/papers/month/2025-05?p=2").expect(200).to_string();
    assert_eq!(
        paper_links(&second),
        (31..=35)
            .map(|i| format!("/papers/2505.100{i}"))
            .collect::<Vec<_>>()
    );
    assert!(
        second.contains(r#"<ol class="paper-list" start="31">"#),
        "{second}"
    );
    assert!(
        second.contains(r#"rel="prev" href="/papers/month/2025-05""#),
        "{second}"
    );

    let past_the_end = app.get("/papers/month/2025-05?p=3");
    assert!(
        past_the_end.expect(404).contains("There is no page 3"),
        "{}",
        past_the_end.body
    );

    let june = app.get("/papers/month/2025-06").expect(200).to_string();
    assert_eq!(paper_links(&june).len(), 7);
    assert_eq!(paper_links(&june)[0], "/papers/2506.00002");
}

#[test]
fn week_and_month_without_a_value_go_to_the_latest() {
    let app = TestApp::start(&fixture(), fixture_now());
    let week = app.get("/papers/week");
    assert_eq!(week.status, 307);
    assert_eq!(week.header("location"), Some("/papers/week/2025-W25"));
    let month = app.get("/papers/month");
    assert_eq!(month.status, 307);
    assert_eq!(month.header("location"), Some("/papers/month/2025-06"));
}

#[test]
fn malformed_periods_are_400_pages_that_say_what_is_wrong() {
    let app = TestApp::start(&fixture(), fixture_now());
    let cases = [
        (
            "/papers/date/2025-13-01",
            "is not a date: there is no such day",
        ),
        ("/papers/date/yesterday", "YYYY-MM-DD"),
        ("/papers/date/2025-6-1", "YYYY-MM-DD"),
        ("/papers/week/2025-W54", "2025 has no week 54"),
        ("/papers/week/2025-24", "YYYY-Www"),
        ("/papers/month/2025-13", "is not a month"),
        ("/papers/month/June", "YYYY-MM"),
        ("/papers/week/2025-W24?p=0", "not a page number"),
        ("/papers/month/2025-05?p=two", "not a page number"),
    ];
    for (path, want) in cases {
        let page = app.get(path);
        assert_eq!(page.status, 400, "{path}: {}", page.body);
        assert!(
            page.header("content-type")
                .unwrap_or("")
                .starts_with("text/html"),
            "{path}"
        );
        assert!(
            page.body.contains(want),
            "{path}: wants {want:?} in {}",
            page.body
        );
        assert!(page.body.contains("<main"), "{path}: a full page");
    }
}

#[test]
fn trending_ranks_by_the_published_formula_and_explains_each_paper() {
    let app = TestApp::start(&fixture(), fixture_now());
    let body = app.get("/papers/trending").expect(200).to_string();
    assert!(
        body.contains("score = (upvotes + 2 × comments + 1) / (age_hours + 2)^1.5"),
        "{body}"
    );
    assert!(body.contains(r#"id="formula""#));
    assert!(body.contains("Why is this here"));
    // The expected ranking, computed with the core formula: the window is
    // the 7 days up to 2025-06-16, so May's papers are out.
    let now = fixture_now();
    let mut expected: Vec<(&str, f64)> = [
        ("2506.00001", 5, 0, "2025-06-10"),
        ("2506.00002", 20, 0, "2025-06-10"),
        ("2506.00003", 0, 0, "2025-06-10"),
        ("2506.00004", 10, 0, "2025-06-13"),
        ("hep-th/9901001", 3, 0, "2025-06-13"),
        ("2506.00006", 1, 4, "2025-06-16"),
        ("2506.00007", 2, 0, "2025-06-16"),
    ]
    .iter()
    .map(|(id, up, comments, on)| (*id, trending::score(*up, *comments, day(on), now).score))
    .collect();
    expected.sort_by(|a, b| b.1.total_cmp(&a.1));
    let want: Vec<String> = expected
        .iter()
        .map(|(id, _)| format!("/papers/{id}"))
        .collect();
    assert_eq!(paper_links(&body), want);
    let top = trending::score(1, 4, day("2025-06-16"), now);
    assert!(
        body.contains(&format!("{:.3}", top.score)),
        "the score is shown: {body}"
    );
    assert!(
        body.contains("1 upvote, 4 comments, listed 12 h ago"),
        "{body}"
    );
}

#[test]
fn a_paper_page_shows_the_paper_its_links_lists_and_comments() {
    let app = TestApp::start(&fixture(), fixture_now());
    let body = app.get("/papers/2506.00002").expect(200).to_string();
    assert!(body.contains("<h1>Seven Authors Agree</h1>"), "{body}");
    assert!(body.contains("7 authors: "));
    assert!(
        body.contains(
            "Qingxiu Dong, Li Dong, Yao Tang, Tianzhu Ye, Yutao Sun, Zhifang Sui, Furu Wei"
        )
    );
    assert!(
        body.contains("<p>First paragraph of the abstract.</p><p>Second paragraph of it.</p>"),
        "{body}"
    );
    assert!(body.contains(r#"href="https://arxiv.org/abs/2506.00002""#));
    assert!(body.contains(r#"href="https://arxiv.org/pdf/2506.00002""#));
    assert!(body.contains("cs.CL, cs.LG"));
    assert!(body.contains("Jun 9, 2025, 17:59 UTC"), "published: {body}");
    assert!(
        body.contains(
            r#"<a href="/papers/date/2025-06-10">Jun 10, 2025</a>, submitted by Li Dong (unilm)"#
        ),
        "{body}"
    );
    assert!(body.contains("A short AI summary.") && body.contains("agreement, authors"));
    assert!(
        body.contains(r#"id="comments""#),
        "the comment section is there: {body}"
    );
    assert!(body.contains(r#"id="similar""#) && body.contains("Similar papers"));
    assert!(body.contains(r#"<span class="count">20</span>"#));

    let links = app.get("/papers/2506.00003").expect(200).to_string();
    assert!(
        links.contains(r#"href="https://github.com/example/repo""#) && links.contains("★ 1.2k"),
        "{links}"
    );
    assert!(links.contains(r#"href="https://example.org/project""#));
}

#[test]
fn old_style_versioned_and_other_spellings_of_ids() {
    let app = TestApp::start(&fixture(), fixture_now());
    let old = app.get("/papers/hep-th/9901001").expect(200).to_string();
    assert!(old.contains("<h1>An Old-Style Paper</h1>"), "{old}");
    assert!(old.contains(r#"href="https://arxiv.org/abs/hep-th/9901001""#));
    for (path, to) in [
        ("/papers/2506.00002v2", "/papers/2506.00002"),
        ("/papers/arXiv:2506.00002", "/papers/2506.00002"),
        ("/papers/hep-th/9901001v3", "/papers/hep-th/9901001"),
        ("/papers/HEP-TH/9901001", "/papers/hep-th/9901001"),
    ] {
        let answer = app.get(path);
        assert_eq!(answer.status, 308, "{path}");
        assert_eq!(answer.header("location"), Some(to), "{path}");
    }
}

#[test]
fn unknown_papers_are_404_and_malformed_ids_400() {
    let app = TestApp::start(&fixture(), fixture_now());
    let unknown = app.get("/papers/2506.99999");
    assert!(
        unknown
            .expect(404)
            .contains("Paper 2506.99999 is not in the catalog."),
        "{}",
        unknown.body
    );
    assert!(
        unknown.body.contains("<main")
            && unknown
                .body
                .contains("<title>404 Not Found · Paperboy</title>")
    );
    let unknown_old = app.get("/papers/hep-th/9901002");
    unknown_old.expect(404);
    for bad in [
        "/papers/not-an-id",
        "/papers/2506.1",
        "/papers/1713.00001",
        "/papers/2506.00002v0",
        "/papers/foo/bar",
    ] {
        let page = app.get(bad);
        assert_eq!(page.status, 400, "{bad}: {}", page.body);
        assert!(
            page.body.contains("is not an arXiv id"),
            "{bad}: {}",
            page.body
        );
        assert!(
            page.body.contains("2305.03048 or hep-th/9901001"),
            "the hint: {}",
            page.body
        );
    }
    let nowhere = app.get("/no/such/page");
    assert!(
        nowhere
            .expect(404)
            .contains("There is nothing at this address.")
    );
    assert!(
        nowhere
            .header("content-type")
            .unwrap_or("")
            .starts_with("text/html")
    );
}

#[test]
fn a_signed_in_viewer_gets_upvote_and_save_forms_with_their_state() {
    let app = TestApp::start(&fixture(), fixture_now());
    let (user, cookie, csrf) = app.sign_in("ada");
    app.store()
        .set_upvote(user.id, &id("2506.00001"), true)
        .expect("upvote");
    let body = app
        .get_with("/papers/date/2025-06-10", &[("cookie", &cookie)])
        .expect(200)
        .to_string();
    assert!(
        body.contains(r#"href="/users/ada""#) && body.contains(r#"action="/logout""#),
        "{body}"
    );
    assert!(
        body.contains(r#"action="/papers/2506.00002/upvote""#),
        "{body}"
    );
    assert!(body.contains(&format!(r#"name="csrf" value="{csrf}""#)));
    assert!(body.contains(r#"name="return_to" value="/papers/date/2025-06-10""#));
    // Their upvote counts and shows as pressed.
    let own = &body[body
        .find(r#"action="/papers/2506.00001/upvote""#)
        .expect("form")..];
    let own = &own[..own.find("</form>").expect("end of form")];
    assert!(
        own.contains(r#"aria-pressed="true""#) && own.contains(r#"<span class="count">6</span>"#),
        "{own}"
    );
    let other = &body[body
        .find(r#"action="/papers/2506.00002/upvote""#)
        .expect("form")..];
    assert!(other[..other.find("</form>").expect("end")].contains(r#"aria-pressed="false""#));

    let paper = app
        .get_with("/papers/2506.00001", &[("cookie", &cookie)])
        .expect(200)
        .to_string();
    assert!(
        paper.contains(r#"action="/papers/2506.00001/save""#),
        "{paper}"
    );
    assert!(paper.contains(r#"action="/papers/2506.00001/upvote""#));
}

#[test]
fn the_stylesheet_is_served_here_with_a_long_cache() {
    let app = TestApp::start(&[], fixture_now());
    let css = app.get("/assets/paperboy.css");
    assert!(css.expect(200).contains("prefers-color-scheme: dark"));
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert!(
        css.header("cache-control")
            .unwrap_or("")
            .contains("max-age=31536000")
    );
    let page = app.get("/").expect(200).to_string();
    assert!(
        page.contains(r#"<link rel="stylesheet" href="/assets/paperboy.css?v="#),
        "{page}"
    );
    assert!(
        !page.contains("https://fonts.") && !page.contains("cdn"),
        "no CDN, no web fonts"
    );
    assert!(page.contains(r#"<meta name="viewport""#));
}
