//! The JSON API: HF-shaped daily items and papers, paging, sorting, errors,
//! the OpenAPI document.

use paperboy_core::trending;
use serde_json::Value;

use crate::app::{TestApp, day, fixture, fixture_now};

fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {items}"))
        .iter()
        .map(|i| i["paper"]["id"].as_str().expect("paper.id").to_string())
        .collect()
}

#[track_caller]
fn check_error(app: &TestApp, path: &str, status: u16, code: &str) -> Value {
    let answer = app.get(path);
    assert_eq!(answer.status, status, "{path}: {}", answer.body);
    assert!(
        answer
            .header("content-type")
            .unwrap_or("")
            .starts_with("application/json"),
        "{path}"
    );
    let err = answer.json();
    assert_eq!(err["error"], code, "{path}: {err}");
    assert!(
        err["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{path}: {err}"
    );
    err
}

#[test]
fn without_a_period_the_latest_day_comes_ranked_by_upvotes() {
    let app = TestApp::start(&fixture(), fixture_now());
    let answer = app.get("/api/daily_papers");
    assert!(
        answer
            .header("content-type")
            .unwrap_or("")
            .starts_with("application/json")
    );
    assert_eq!(ids(&answer.json()), ["2506.00007", "2506.00006"]);
}

#[test]
fn a_day_comes_in_hfs_shape() {
    let app = TestApp::start(&fixture(), fixture_now());
    let items = app.get("/api/daily_papers?date=2025-06-10").json();
    assert_eq!(ids(&items), ["2506.00002", "2506.00001", "2506.00003"]);
    let first = &items[0];
    let paper = &first["paper"];
    assert_eq!(paper["title"], "Seven Authors Agree");
    assert_eq!(paper["upvotes"], 20);
    assert_eq!(paper["publishedAt"], "2025-06-09T17:59:53.000Z");
    assert_eq!(paper["submittedOnDailyAt"], "2025-06-10T00:43:01.816Z");
    assert_eq!(
        paper["summary"],
        "First paragraph of the abstract.\n\nSecond paragraph of it."
    );
    assert_eq!(paper["ai_summary"], "A short AI summary.");
    assert_eq!(
        paper["ai_keywords"],
        serde_json::json!(["agreement", "authors"])
    );
    assert_eq!(paper["submittedOnDailyBy"]["user"], "unilm");
    assert_eq!(paper["submittedOnDailyBy"]["fullname"], "Li Dong");
    let authors = paper["authors"].as_array().expect("authors");
    assert_eq!(authors.len(), 7);
    assert_eq!(authors[0]["name"], "Qingxiu Dong");
    assert_eq!(authors[0]["hidden"], false);
    assert!(authors[0]["_id"].as_str().is_some_and(|s| s.len() == 24));
    assert_eq!(first["title"], "Seven Authors Agree");
    assert_eq!(first["summary"], paper["summary"]);
    assert_eq!(first["publishedAt"], "2025-06-10T00:43:01.816Z");
    assert_eq!(first["numComments"], 0);
    assert_eq!(first["isAuthorParticipating"], false);
    assert_eq!(first["submittedBy"]["name"], "unilm");
    assert_eq!(first["submittedBy"]["fullname"], "Li Dong");
    assert_eq!(first["submittedBy"]["type"], "user");
    assert!(
        paper.get("githubRepo").is_none(),
        "absent values are left out, not null"
    );
    let with_repo = &items[2]["paper"];
    assert_eq!(with_repo["githubRepo"], "https://github.com/example/repo");
    assert_eq!(with_repo["githubStars"], 1234);
    assert_eq!(with_repo["projectPage"], "https://example.org/project");
    // The same request gives the same synthetic ids.
    let again = app.get("/api/daily_papers?date=2025-06-10").json();
    assert_eq!(again, items);
}

#[test]
fn an_empty_day_is_an_empty_array() {
    let app = TestApp::start(&fixture(), fixture_now());
    assert_eq!(
        app.get("/api/daily_papers?date=2025-06-14").json(),
        serde_json::json!([])
    );
    let empty = TestApp::start(&[], fixture_now());
    assert_eq!(empty.get("/api/daily_papers").json(), serde_json::json!([]));
    assert_eq!(
        empty.get("/api/daily_papers?sort=trending").json(),
        serde_json::json!([])
    );
}

#[test]
fn weeks_and_months_are_ranked_by_upvotes_and_paged() {
    let app = TestApp::start(&fixture(), fixture_now());
    assert_eq!(
        ids(&app.get("/api/daily_papers?week=2025-W24").json()),
        [
            "2506.00002",
            "2506.00004",
            "2506.00001",
            "hep-th/9901001",
            "2506.00003"
        ]
    );
    let month = |q: &str| {
        ids(&app
            .get(&format!("/api/daily_papers?month=2025-05{q}"))
            .json())
    };
    assert_eq!(month("").len(), 35, "the default limit is 50");
    assert_eq!(
        month("&limit=10"),
        (10001..=10010)
            .map(|i| format!("2505.{i}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        month("&limit=10&p=3"),
        (10031..=10035)
            .map(|i| format!("2505.{i}"))
            .collect::<Vec<_>>()
    );
    assert!(month("&limit=10&p=4").is_empty());
    assert_eq!(month("&limit=1"), ["2505.10001"]);
    assert_eq!(month("&limit=100").len(), 35);
    assert_eq!(
        ids(&app
            .get("/api/daily_papers?date=2025-05-20&limit=5&p=1")
            .json())[0],
        "2505.10006"
    );
}

#[test]
fn limits_pages_and_periods_out_of_bounds_are_400_with_a_hint() {
    let app = TestApp::start(&fixture(), fixture_now());
    for (query, code) in [
        ("limit=0", "bad_limit"),
        ("limit=101", "bad_limit"),
        ("limit=ten", "bad_limit"),
        ("limit=-1", "bad_limit"),
        ("p=-1", "bad_page"),
        ("p=first", "bad_page"),
        ("sort=upvotes", "bad_sort"),
        ("date=2025-02-30", "bad_date"),
        ("date=20250610", "bad_date"),
        ("week=2025-W99", "bad_week"),
        ("month=2025-00", "bad_month"),
        ("date=2025-06-10&month=2025-06", "conflicting_parameters"),
    ] {
        let err = check_error(&app, &format!("/api/daily_papers?{query}"), 400, code);
        assert!(
            err["hint"].as_str().is_some_and(|h| !h.is_empty()),
            "{query}: {err}"
        );
    }
}

#[test]
fn trending_sort_follows_the_formula() {
    let app = TestApp::start(&fixture(), fixture_now());
    let now = fixture_now();
    let score = |up, comments, on| trending::score(up, comments, day(on), now).score;
    // Without a period: the trending window (7 days up to 2025-06-16).
    let mut expected = [
        ("2506.00001", score(5, 0, "2025-06-10")),
        ("2506.00002", score(20, 0, "2025-06-10")),
        ("2506.00003", score(0, 0, "2025-06-10")),
        ("2506.00004", score(10, 0, "2025-06-13")),
        ("hep-th/9901001", score(3, 0, "2025-06-13")),
        ("2506.00006", score(1, 4, "2025-06-16")),
        ("2506.00007", score(2, 0, "2025-06-16")),
    ];
    expected.sort_by(|a, b| b.1.total_cmp(&a.1));
    let want: Vec<&str> = expected.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        ids(&app.get("/api/daily_papers?sort=trending").json()),
        want
    );
    assert_eq!(
        ids(&app
            .get("/api/daily_papers?sort=trending&limit=2&p=1")
            .json()),
        want[2..4]
    );
    // Within a period, and `publishedAt` is the default order.
    let week = ids(&app
        .get("/api/daily_papers?week=2025-W24&sort=trending")
        .json());
    assert_eq!(week.len(), 5);
    assert_eq!(
        ids(&app
            .get("/api/daily_papers?week=2025-W24&sort=publishedAt")
            .json()),
        ids(&app.get("/api/daily_papers?week=2025-W24").json())
    );
}

#[test]
fn submitter_filters_the_list() {
    let app = TestApp::start(&fixture(), fixture_now());
    assert_eq!(
        ids(&app.get("/api/daily_papers?submitter=evil").json()),
        ["2506.00007"]
    );
    assert_eq!(
        ids(&app
            .get("/api/daily_papers?date=2025-06-10&submitter=evil")
            .json()),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&app
            .get("/api/daily_papers?date=2025-06-10&submitter=unilm")
            .json())
        .len(),
        3
    );
    // All days: 41 of the 42 entries are unilm's; newest publication first.
    let all = ids(&app
        .get("/api/daily_papers?submitter=unilm&limit=100")
        .json());
    assert_eq!(all.len(), 41);
    assert_eq!(all[0], "2506.00006");
    assert_eq!(all.last().map(String::as_str), Some("hep-th/9901001"));
}

#[test]
fn a_paper_is_hfs_paper_object_and_counts_local_upvotes() {
    let app = TestApp::start(&fixture(), fixture_now());
    let paper = app.get("/api/papers/2506.00002").json();
    assert_eq!(paper["id"], "2506.00002");
    assert_eq!(paper["title"], "Seven Authors Agree");
    assert_eq!(paper["upvotes"], 20);
    assert_eq!(paper["publishedAt"], "2025-06-09T17:59:53.000Z");
    assert_eq!(paper["submittedOnDailyAt"], "2025-06-10T00:43:01.816Z");
    assert_eq!(paper["authors"].as_array().map(Vec::len), Some(7));
    assert_eq!(paper["ai_summary"], "A short AI summary.");
    // The daily item's paper is the same object.
    let item = &app.get("/api/daily_papers?date=2025-06-10").json()[0];
    assert_eq!(item["paper"], paper);

    // An upvote through the site counts at once, though both answers
    // above came from the response cache.
    let (_, cookie, csrf) = app.sign_in("ada");
    app.post_with(
        "/api/papers/2506.00002/upvote",
        &[("cookie", &cookie), ("x-csrf-token", &csrf)],
    )
    .expect(200);
    assert_eq!(app.get("/api/papers/2506.00002").json()["upvotes"], 21);
    assert_eq!(
        app.get("/api/daily_papers?date=2025-06-10").json()[0]["paper"]["upvotes"],
        21
    );

    assert_eq!(
        app.get("/api/papers/hep-th/9901001").json()["id"],
        "hep-th/9901001"
    );
    assert_eq!(
        app.get("/api/papers/hep-th/9901001").json()["publishedAt"],
        "1999-01-04T10:00:00.000Z"
    );
    assert_eq!(
        app.get("/api/papers/2506.00002v3").json()["id"],
        "2506.00002"
    );

    let err = check_error(&app, "/api/papers/2506.99999", 404, "paper_not_found");
    assert!(err["message"].as_str().unwrap_or("").contains("2506.99999"));
    check_error(&app, "/api/papers/hep-th/9901002", 404, "paper_not_found");
    check_error(&app, "/api/papers/garbage", 400, "bad_arxiv_id");
    check_error(&app, "/api/papers/foo/bar", 400, "bad_arxiv_id");
    check_error(&app, "/api/no/such/thing", 404, "not_found");
}

/// Every API route of the spec (`shared/docs/spec.md`), method and path.
const SPEC_ROUTES: [(&str, &str); 9] = [
    ("get", "/api/daily_papers"),
    ("post", "/api/daily_papers"),
    ("get", "/api/papers/{id}"),
    ("get", "/api/papers/search"),
    ("get", "/api/papers/{id}/similar"),
    ("post", "/api/papers/{id}/upvote"),
    ("delete", "/api/papers/{id}/upvote"),
    ("post", "/api/papers/{id}/comment"),
    ("get", "/api/openapi.json"),
];

/// `METHOD /api/...` routes named in the spec's JSON API section.
fn routes_in_spec(spec: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for method in ["GET", "POST", "DELETE", "PUT", "PATCH"] {
        for (i, _) in spec.match_indices(&format!("{method} /api/")) {
            let rest = &spec[i + method.len() + 1..];
            let end = rest
                .find(|c: char| c == '`' || c == '?' || c.is_whitespace())
                .unwrap_or(rest.len());
            out.push((method.to_ascii_lowercase(), rest[..end].to_string()));
        }
    }
    // "An OpenAPI document is served at `/api/openapi.json`."
    if spec.contains("`/api/openapi.json`") {
        out.push(("get".into(), "/api/openapi.json".into()));
    }
    out
}

#[test]
fn the_openapi_document_lists_every_api_route_of_the_spec() {
    let app = TestApp::start(&[], fixture_now());
    let answer = app.get("/api/openapi.json");
    assert!(
        answer
            .header("content-type")
            .unwrap_or("")
            .starts_with("application/json")
    );
    let doc = answer.json();
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{doc}"
    );
    let has = |method: &str, path: &str| doc["paths"][path][method].is_object();
    for (method, path) in SPEC_ROUTES {
        assert!(
            has(method, path),
            "{method} {path} is missing from openapi.json"
        );
    }
    let spec_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/docs/spec.md");
    if let Ok(spec) = std::fs::read_to_string(spec_path) {
        let named = routes_in_spec(&spec);
        assert!(
            named.len() >= SPEC_ROUTES.len(),
            "the spec's routes were found: {named:?}"
        );
        for (method, path) in named {
            assert!(
                has(&method, &path),
                "{method} {path} (from the spec) is missing from openapi.json"
            );
        }
    }
    // Every $ref points at something that exists.
    let text = answer.body.clone();
    for (i, _) in text.match_indices("\"$ref\": \"#/") {
        let rest = &text[i + "\"$ref\": \"#/".len()..];
        let pointer = &rest[..rest.find('"').expect("end of $ref")];
        assert!(
            doc.pointer(&format!("/{pointer}")).is_some(),
            "dangling $ref {pointer}"
        );
    }
}
