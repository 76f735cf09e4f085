//! `/healthz`, `/metrics`, and what a client sees when the store fails.

use std::sync::Arc;

use crate::app::{TestApp, fixture, fixture_now};
use crate::broken::{BrokenStore, SECRET};

#[test]
fn healthz_reads_the_store() {
    let app = TestApp::start(&fixture(), fixture_now());
    assert_eq!(app.get("/healthz").expect(200), "ok\n");
    let broken = TestApp::serve(Arc::new(BrokenStore), fixture_now());
    let answer = broken.get("/healthz");
    assert_eq!(answer.status, 503);
    assert!(!answer.body.contains(SECRET));
}

#[test]
fn metrics_count_requests_by_route_and_status_and_the_papers() {
    let app = TestApp::start(&fixture(), fixture_now());
    for _ in 0..3 {
        app.get("/papers/date/2025-06-10").expect(200);
    }
    app.get("/papers/date/2025-13-01").expect(400);
    app.get("/papers/2506.99999").expect(404);
    app.get("/nowhere").expect(404);
    let answer = app.get("/metrics");
    assert!(
        answer
            .header("content-type")
            .unwrap_or("")
            .starts_with("text/plain; version=0.0.4")
    );
    let text = answer.expect(200);
    for want in [
        "# TYPE paperboy_http_requests_total counter",
        r#"paperboy_http_requests_total{route="/papers/date/{day}",status="200"} 3"#,
        r#"paperboy_http_requests_total{route="/papers/date/{day}",status="400"} 1"#,
        r#"paperboy_http_requests_total{route="/papers/{id}",status="404"} 1"#,
        r#"paperboy_http_requests_total{route="unmatched",status="404"} 1"#,
        "# TYPE paperboy_http_request_duration_seconds histogram",
        r#"paperboy_http_request_duration_seconds_bucket{route="/papers/date/{day}",le="+Inf"} 4"#,
        r#"paperboy_http_request_duration_seconds_count{route="/papers/date/{day}"} 4"#,
        "# TYPE paperboy_papers gauge",
        "paperboy_papers 42",
        "paperboy_daily_entries 42",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    // Every sample line is `name{labels} value` with a number.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let value = line.rsplit(' ').next().unwrap_or("");
        assert!(value.parse::<f64>().is_ok(), "bad sample line {line:?}");
    }
}

#[test]
fn a_failing_store_shows_a_generic_error_and_never_its_details() {
    let app = TestApp::serve(Arc::new(BrokenStore), fixture_now());
    for path in [
        "/",
        "/papers/date/2025-06-10",
        "/papers/2506.00002",
        "/papers/trending",
        "/feeds/daily.atom",
    ] {
        let answer = app.get(path);
        assert_eq!(answer.status, 500, "{path}");
        assert!(
            answer.body.contains("Something went wrong on our side"),
            "{path}: {}",
            answer.body
        );
        assert!(
            !answer.body.contains(SECRET) && !answer.body.contains("database"),
            "{path}: {}",
            answer.body
        );
    }
    for path in ["/api/daily_papers", "/api/papers/2506.00002"] {
        let answer = app.get(path);
        assert_eq!(answer.status, 500, "{path}");
        let err = answer.json();
        assert_eq!(err["error"], "internal_error");
        assert!(
            !answer.body.contains(SECRET) && !answer.body.contains("database"),
            "{path}: {}",
            answer.body
        );
    }
}
