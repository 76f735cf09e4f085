//! The polite client: spacing, Retry-After, backoff, permanent errors.

use std::time::{Duration, Instant};

use chrono::{DurationRound, TimeDelta, Utc};
use paperboy_sync::{PoliteClient, Politeness, SyncError};

use crate::server::{Reply, TestServer, data, quick, refused_url};

fn client(p: Politeness) -> PoliteClient {
    PoliteClient::new(p)
}

/// Serves `first` for the first `n` requests, then `200 done`.
fn failing_then_ok(n: usize, first: Reply) -> TestServer {
    TestServer::start(move |i, _| {
        if i < n {
            first.clone()
        } else {
            Reply::ok("done")
        }
    })
}

#[test]
fn requests_start_at_least_min_interval_apart() {
    let server = TestServer::start(|_, _| Reply::ok("x"));
    let mut c = client(Politeness {
        min_interval: Duration::from_millis(300),
        ..quick()
    });
    for i in 0..4 {
        assert_eq!(c.get(&format!("{}/p{i}", server.base)).unwrap(), b"x");
    }
    let gaps = server.gaps();
    assert_eq!(gaps.len(), 3);
    for gap in gaps {
        assert!(gap >= Duration::from_millis(300), "gap {gap:?}");
    }
}

#[test]
fn user_agent_names_paperboy() {
    let server = TestServer::start(|_, _| Reply::ok("x"));
    client(quick()).get(&server.base).unwrap();
    let ua = server.seen()[0].user_agent.clone().unwrap();
    assert!(ua.starts_with("paperboy/0.1"), "{ua}");
}

fn check_retry_after(status: u16) {
    let server = failing_then_ok(
        1,
        Reply::status(status, "slow down").header("Retry-After", "1"),
    );
    let mut c = client(quick());
    assert_eq!(c.get(&format!("{}/x", server.base)).unwrap(), b"done");
    assert_eq!(server.count(), 2);
    assert!(
        server.gaps()[0] >= Duration::from_secs(1),
        "retried after {:?}",
        server.gaps()[0]
    );
}

#[test]
fn honours_retry_after_seconds_on_503() {
    check_retry_after(503);
}

#[test]
fn honours_retry_after_seconds_on_429() {
    check_retry_after(429);
}

#[test]
fn honours_retry_after_http_date() {
    // Whole seconds only: two seconds from now, rounded down, is at least one.
    let at = Utc::now().duration_trunc(TimeDelta::seconds(1)).unwrap() + TimeDelta::seconds(2);
    let date = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let server = failing_then_ok(1, Reply::status(503, "").header("Retry-After", &date));
    client(quick()).get(&server.base).unwrap();
    assert_eq!(server.count(), 2);
    assert!(
        server.gaps()[0] >= Duration::from_millis(900),
        "retried after {:?} for {date}",
        server.gaps()[0]
    );
}

#[test]
fn a_retry_after_longer_than_allowed_is_not_waited_for() {
    let server = failing_then_ok(1, Reply::status(503, "").header("Retry-After", "3600"));
    let started = Instant::now();
    let err = client(quick()).get(&server.base).unwrap_err();
    assert!(
        matches!(&err, SyncError::WaitTooLong { asked, .. } if asked.as_secs() == 3600),
        "{err:?}"
    );
    assert!(err.to_string().contains("3600"), "{err}");
    assert_eq!(server.count(), 1);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn backs_off_on_500_and_succeeds_on_the_third_attempt() {
    let server = failing_then_ok(2, Reply::status(500, "oops"));
    let mut c = client(Politeness {
        backoff_base: Duration::from_millis(100),
        ..quick()
    });
    assert_eq!(c.get(&server.base).unwrap(), b"done");
    assert_eq!(server.count(), 3);
    let gaps = server.gaps();
    // 100 ms, then doubled.
    assert!(gaps[0] >= Duration::from_millis(100), "{gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(200), "{gaps:?}");
}

#[test]
fn gives_up_after_max_retries() {
    let server = TestServer::start(|_, _| Reply::status(503, "busy"));
    let err = client(Politeness {
        max_retries: 2,
        ..quick()
    })
    .get(&server.base)
    .unwrap_err();
    let SyncError::GaveUp { attempts, last, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*attempts, 3);
    assert!(
        matches!(**last, SyncError::Http { status: 503, .. }),
        "{last:?}"
    );
    assert_eq!(err.status(), Some(503));
    assert_eq!(server.count(), 3);
    assert!(err.to_string().contains("after 3 attempts"), "{err}");
}

#[test]
fn a_404_is_final_at_once() {
    let server = TestServer::start(|_, _| Reply::status(404, "no such page"));
    let url = format!("{}/missing", server.base);
    let err = client(quick()).get(&url).unwrap_err();
    match &err {
        SyncError::Http {
            url: u,
            status: 404,
            body_snippet,
        } => {
            assert_eq!(u, &url);
            assert_eq!(body_snippet, "no such page");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.count(), 1);
}

#[test]
fn fetch_returns_a_final_error_status_with_its_body() {
    let server = TestServer::start(|_, _| Reply::status(410, "gone for good"));
    let fetched = client(quick()).fetch(&server.base).unwrap();
    assert_eq!(fetched.status, 410);
    assert!(!fetched.is_success());
    assert_eq!(fetched.body, b"gone for good");
    assert_eq!(server.count(), 1);
}

#[test]
fn a_refused_connection_is_retried_then_given_up() {
    let url = refused_url();
    let started = Instant::now();
    let err = client(Politeness {
        max_retries: 2,
        backoff_base: Duration::from_millis(50),
        ..quick()
    })
    .get(&url)
    .unwrap_err();
    let SyncError::GaveUp {
        attempts: 3, last, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(
        matches!(&**last, SyncError::Transport { url: u, .. } if *u == url),
        "{last:?}"
    );
    // Two backoffs: 50 ms and 100 ms.
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[test]
fn a_timeout_is_retried() {
    let server = TestServer::start(|i, _| {
        if i == 0 {
            Reply::ok("late").delayed(Duration::from_millis(1500))
        } else {
            Reply::ok("in time")
        }
    });
    let mut c = client(Politeness {
        timeout: Duration::from_millis(500),
        ..quick()
    });
    assert_eq!(c.get(&server.base).unwrap(), b"in time");
    assert_eq!(server.count(), 2);
}

#[test]
fn an_unusable_url_is_not_retried() {
    let err = client(quick()).get("not a url").unwrap_err();
    assert!(matches!(err, SyncError::Transport { .. }), "{err:?}");
}

/// The arXiv API explains a bad request in an Atom feed served with 400; the
/// client keeps that body for the caller.
#[test]
fn arxiv_api_400_keeps_the_atom_error_body() {
    let recorded: serde_json::Value = serde_json::from_slice(&data(
        "arxiv/atom-api-arxiv.py-fixtures/recorded/id_abc_s0_m100_b79c8dcf6bc3.json",
    ))
    .unwrap();
    let status = recorded["status_code"].as_u64().unwrap() as u16;
    let body = recorded["body"].as_str().unwrap().to_string();
    assert_eq!(status, 400);
    let server = TestServer::start(move |_, _| Reply::status(status, body.clone()));
    let url = format!("{}/api/query?id_list=abc", server.base);
    let mut c = client(quick());

    let err = c.get(&url).unwrap_err();
    let SyncError::Http {
        status: 400,
        body_snippet,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(
        body_snippet.contains("incorrect id format for abc"),
        "{body_snippet}"
    );
    assert!(
        err.to_string().contains("incorrect id format for abc"),
        "{err}"
    );

    let fetched = c.fetch(&url).unwrap();
    assert_eq!(fetched.status, 400);
    assert!(
        String::from_utf8(fetched.body)
            .unwrap()
            .contains("<summary>incorrect id format for abc</summary>")
    );
    assert_eq!(server.count(), 2);
}
