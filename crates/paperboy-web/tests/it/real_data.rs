//! One test over real HF responses (`shared/data/hf-daily-papers`): a week
//! imported with `paperboy_import`, then the API compared field by field
//! with the files it came from, and the pages checked against them.

use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use paperboy_core::SourceRecord;
use paperboy_import::{ParseOptions, Parsed};
use serde_json::Value;

use crate::app::TestApp;

const DAYS: [&str; 5] = [
    "2025-06-09",
    "2025-06-10",
    "2025-06-11",
    "2025-06-12",
    "2025-06-13",
];

fn file(day: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/hf-daily-papers"
    ))
    .join(format!("{day}.json"))
}

fn import(day: &str) -> Vec<SourceRecord> {
    let opened = paperboy_import::open(&file(day), None, &ParseOptions::default())
        .unwrap_or_else(|e| panic!("{day}: {e}"));
    opened
        .iter
        .map(
            |parsed| match parsed.unwrap_or_else(|e| panic!("{day}: {e}")) {
                Parsed::Record(record) => *record,
                Parsed::Problem(problem) => panic!("{day}: {problem}"),
            },
        )
        .collect()
}

fn hf(day: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(file(day)).unwrap_or_else(|e| panic!("{day}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{day}: {e}"))
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `2025-06-10T13:04:20.120Z`, exactly.
#[track_caller]
fn assert_hf_time(v: &Value, what: &str) {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {v}"));
    let b = s.as_bytes();
    let shape = b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    assert!(shape, "{what}: {s:?} is not in HF's timestamp format");
}

#[test]
fn a_real_week_of_hf_daily_papers_comes_back_as_hf_serves_it() {
    let records: Vec<SourceRecord> = DAYS.iter().flat_map(|d| import(d)).collect();
    // Sunday morning after that week.
    let app = TestApp::start(
        &records,
        Utc.with_ymd_and_hms(2025, 6, 15, 9, 0, 0).unwrap(),
    );

    let mut total = 0;
    for day in DAYS {
        let theirs = hf(day);
        total += theirs.len();
        let ours = app
            .get(&format!("/api/daily_papers?date={day}&limit=100"))
            .json();
        let ours = ours.as_array().expect("an array");
        assert_eq!(ours.len(), theirs.len(), "{day}: item count");
        for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
            let (op, tp) = (&o["paper"], &t["paper"]);
            let at = format!("{day}[{i}] {}", tp["id"]);
            assert_eq!(op["id"], tp["id"], "{at}: id (and so the order)");
            assert_eq!(op["upvotes"], tp["upvotes"], "{at}: upvotes");
            assert_eq!(
                op["publishedAt"], tp["publishedAt"],
                "{at}: paper.publishedAt"
            );
            assert_eq!(
                op["submittedOnDailyAt"], tp["submittedOnDailyAt"],
                "{at}: submittedOnDailyAt"
            );
            assert_eq!(o["numComments"], t["numComments"], "{at}: numComments");
            assert_eq!(
                o["title"].as_str(),
                Some(collapse(t["title"].as_str().expect("title")).as_str()),
                "{at}: title"
            );
            assert_eq!(op["title"], o["title"], "{at}: paper.title");
            assert_eq!(
                collapse(op["summary"].as_str().expect("summary")),
                collapse(tp["summary"].as_str().expect("summary")),
                "{at}: summary"
            );
            let names = |p: &Value| -> Vec<String> {
                p["authors"]
                    .as_array()
                    .expect("authors")
                    .iter()
                    .map(|a| collapse(a["name"].as_str().expect("name")))
                    .collect()
            };
            assert_eq!(names(op), names(tp), "{at}: authors");
            for a in op["authors"].as_array().expect("authors") {
                assert!(
                    a["_id"].is_string() && a["hidden"] == false,
                    "{at}: author shape {a}"
                );
            }
            for key in ["githubRepo", "githubStars", "projectPage", "ai_keywords"] {
                assert_eq!(
                    op.get(key),
                    tp.get(key)
                        .filter(|v| !v.is_null() && *v != &Value::Array(vec![])),
                    "{at}: {key}"
                );
            }
            assert_eq!(
                op.get("ai_summary").and_then(Value::as_str).map(collapse),
                tp.get("ai_summary").and_then(Value::as_str).map(collapse),
                "{at}: ai_summary"
            );
            assert_eq!(
                o["submittedBy"]["name"], t["submittedBy"]["name"],
                "{at}: submittedBy.name"
            );
            assert_eq!(
                op["submittedOnDailyBy"]["user"], tp["submittedOnDailyBy"]["user"],
                "{at}: submittedOnDailyBy.user"
            );
            assert_eq!(o["isAuthorParticipating"], false);
            assert_hf_time(&op["publishedAt"], &at);
            assert_hf_time(&op["submittedOnDailyAt"], &at);
            assert_hf_time(&o["publishedAt"], &at);
        }
    }

    // The week, ranked by upvotes across its days.
    let week = app.get("/api/daily_papers?week=2025-W24&limit=100").json();
    let week = week.as_array().expect("array");
    assert_eq!(week.len(), total);
    let upvotes: Vec<u64> = week
        .iter()
        .map(|i| i["paper"]["upvotes"].as_u64().expect("upvotes"))
        .collect();
    assert!(upvotes.windows(2).all(|w| w[0] >= w[1]), "{upvotes:?}");

    // The front page on Sunday is Friday's list, in the file's order.
    let friday = hf("2025-06-13");
    let front = app.get("/").expect(200).to_string();
    assert!(front.contains("Friday, June 13, 2025"));
    let first_id = friday[0]["paper"]["id"].as_str().expect("id");
    let first_link = front.find("<h2><a href=\"/papers/").expect("a paper");
    assert!(
        front[first_link..].starts_with(&format!("<h2><a href=\"/papers/{first_id}\"")),
        "first is {first_id}"
    );
    let n = friday[0]["paper"]["authors"]
        .as_array()
        .expect("authors")
        .len();
    assert!(front.contains(&format!("{n} authors: ")), "{n} authors");
    // Saturday's address falls back to Friday and says so.
    assert!(
        app.get("/papers/date/2025-06-14")
            .expect(200)
            .contains("the previous day with papers")
    );

    // A paper page and the paper object of a real paper.
    let rpt = app.get("/papers/2506.08007").expect(200).to_string();
    assert!(rpt.contains("<h1>Reinforcement Pre-Training</h1>"));
    assert!(rpt.contains("7 authors") && rpt.contains("Furu Wei"));
    let paper = app.get("/api/papers/2506.08007").json();
    let june10 = hf("2025-06-10");
    let t = &june10
        .iter()
        .find(|i| i["paper"]["id"] == "2506.08007")
        .expect("in the file")["paper"];
    for key in [
        "id",
        "upvotes",
        "publishedAt",
        "submittedOnDailyAt",
        "ai_keywords",
    ] {
        assert_eq!(paper[key], t[key], "/api/papers: {key}");
    }
}
