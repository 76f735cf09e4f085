//! `paperboy sync` against a local server that replays recorded responses:
//! no test touches the internet.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::{data_dir, paperboy, stats, stderr};

/// A reply the replay server gives: status and body.
type Reply = (u16, Vec<u8>);

/// Serves the queued replies in order and records every request URL.
struct Replay {
    base: String,
    seen: Arc<Mutex<Vec<String>>>,
    _thread: JoinHandle<()>,
}

impl Replay {
    fn start(replies: Vec<Reply>) -> Replay {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let base = format!("http://{}", server.server_addr().to_ip().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let mut queue = VecDeque::from(replies);
        let thread = std::thread::spawn(move || {
            for request in server.incoming_requests() {
                log.lock().unwrap().push(request.url().to_string());
                let (status, body) = queue
                    .pop_front()
                    .unwrap_or((500, b"no more replies".to_vec()));
                let _ =
                    request.respond(tiny_http::Response::from_data(body).with_status_code(status));
            }
        });
        Replay {
            base,
            seen,
            _thread: thread,
        }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn file(rel: &str) -> Vec<u8> {
    std::fs::read(data_dir().join(rel)).unwrap()
}

#[test]
fn sync_hf_stores_the_day_asked_for() {
    let day_file = file("hf-daily-papers/2026-08-21.json");
    let expected: Vec<serde_json::Value> = serde_json::from_slice(&day_file).unwrap();
    let server = Replay::start(vec![(200, day_file)]);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = paperboy(
        &data,
        &[
            "sync",
            "hf",
            "--date",
            "2026-08-21",
            "--base-url",
            &server.base,
            "--interval",
            "0",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let seen = server.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].starts_with("/api/daily_papers?date=2026-08-21"),
        "{seen:?}"
    );
    let s = stats(&data);
    assert_eq!(s["daily_entries"], expected.len());
    assert_eq!(s["first_day"], "2026-08-21");
}

#[test]
fn sync_arxiv_keeps_its_cursor_and_resumes_after_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let page1 = file("arxiv/oai-pmh/arXivRaw-mikesaelim/ListRecordsResponse.xml");
    let page2 = file("arxiv/oai-pmh/arXiv-hepcrawl/functional/arxiv-physics-hep-th.xml");
    let none = file("arxiv/oai-pmh/arXivRaw-mikesaelim/ErrorResponseNoRecordsMatch.xml");

    // Run 1: page 1 arrives, then the server fails for good (404).
    let server = Replay::start(vec![(200, page1), (404, b"gone".to_vec())]);
    let base = format!("{}/oai2", server.base);
    let sync = |extra: &[&str]| {
        let mut args = vec!["sync", "arxiv", "--base-url", &base, "--interval", "0"];
        args.extend_from_slice(extra);
        paperboy(&data, &args)
    };
    let out = sync(&["--from", "2014-10-01"]);
    assert!(!out.status.success(), "a failed harvest exits non-zero");
    assert!(stderr(&out).contains("404"), "{}", stderr(&out));
    let after_page1 = stats(&data)["papers"].as_u64().unwrap();
    assert!(after_page1 > 0, "page 1 was stored before the failure");
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen[0].contains("verb=ListRecords") && seen[0].contains("from=2014-10-01"),
        "{seen:?}"
    );
    assert!(
        seen[1].contains("resumptionToken=726959%7C1001"),
        "{seen:?}"
    );

    // Run 2, without --from: resumes from the stored token.
    let server = Replay::start(vec![(200, page2), (200, none)]);
    let base2 = format!("{}/oai2", server.base);
    let out = paperboy(
        &data,
        &["sync", "arxiv", "--base-url", &base2, "--interval", "0"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let seen = server.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].contains("resumptionToken=726959%7C1001"),
        "{seen:?}"
    );
    assert!(stats(&data)["papers"].as_u64().unwrap() > after_page1);

    // Run 3: the harvest completed, so the next one starts from the day it ran.
    let today = chrono::Utc::now().date_naive().to_string();
    let out = paperboy(
        &data,
        &["sync", "arxiv", "--base-url", &base2, "--interval", "0"],
    );
    assert!(
        out.status.success(),
        "noRecordsMatch is an empty harvest: {}",
        stderr(&out)
    );
    let seen = server.seen();
    assert!(
        seen[1].contains(&format!("from={today}")) && !seen[1].contains("resumptionToken"),
        "{seen:?}"
    );
}
