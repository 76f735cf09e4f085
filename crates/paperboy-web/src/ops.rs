//! Operations: `/healthz` (liveness, with a trivial store read), `/metrics`
//! (Prometheus text format), the middleware that counts every request, and
//! the 404 for unknown paths.
//!
//! Counting is lock-free: a fixed table of routes (open addressing, each
//! slot's name set once) with atomic counters, so the hot path costs a hash,
//! a string comparison and a few atomic adds.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;
use crate::error::{ApiError, PageError, WebError};
use crate::layout::{self, fnv1a};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}

/// 200 `ok` when the store answers a trivial read, 503 otherwise.
async fn healthz(State(state): State<AppState>) -> Response {
    match state.read(|store| store.change_seq()).await {
        Ok(_) => (
            StatusCode::OK,
            [(header::CACHE_CONTROL, "no-store")],
            "ok\n",
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "health check: the store does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CACHE_CONTROL, "no-store")],
                "unavailable\n",
            )
                .into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    // The gauges are read at scrape time; a failing store leaves them out
    // rather than failing the scrape.
    let stats = match state.read(|store| store.stats()).await {
        Ok(stats) => Some(stats),
        Err(err) => {
            tracing::warn!(error = %err, "metrics: cannot read store counts");
            None
        }
    };
    let mut out = state.metrics.render();
    if let Some(stats) = stats {
        gauge(
            &mut out,
            "paperboy_papers",
            "Papers in the catalog.",
            stats.papers,
        );
        gauge(
            &mut out,
            "paperboy_daily_entries",
            "Daily list entries.",
            stats.daily_entries,
        );
        gauge(
            &mut out,
            "paperboy_days",
            "Curation days with at least one entry.",
            stats.days,
        );
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

fn gauge(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
    );
}

/// The answer for a path no route knows: JSON under `/api/`, a page elsewhere.
pub async fn not_found(request: Request) -> Response {
    let err = WebError::not_found("not_found", "There is nothing at this address.");
    if request.uri().path().starts_with("/api/") {
        ApiError(err).into_response()
    } else {
        PageError(err).into_response()
    }
}

/// Middleware around every request: counts it by route and status, times
/// it, and makes the configuration available to the page shell.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = layout::with_config(state.config.clone(), next.run(request)).await;
    let route = route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
    state
        .metrics
        .record(route, response.status(), started.elapsed());
    response
}

/// The route label of requests no route matched.
const UNMATCHED: &str = "unmatched";

/// Slots in the route table: more than the site has routes.
const SLOTS: usize = 128;

/// Status codes counted one by one; any other counts as `other`.
const CODES: [u16; 20] = [
    200, 201, 204, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405, 409, 413, 422, 429, 500,
    503,
];

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Request counters and latencies for `/metrics`.
pub struct Metrics {
    slots: Box<[RouteStats]>,
    /// Routes that found no free slot (never, unless the site grows past
    /// [`SLOTS`] routes).
    overflow: RouteStats,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            slots: (0..SLOTS).map(|_| RouteStats::default()).collect(),
            overflow: RouteStats::default(),
        }
    }
}

#[derive(Default)]
struct RouteStats {
    route: OnceLock<Box<str>>,
    /// By [`CODES`] index; the last one is "other".
    statuses: [AtomicU64; CODES.len() + 1],
    /// Non-cumulative: `buckets[i]` counts requests in `(BUCKETS[i-1], BUCKETS[i]]`;
    /// the last one those above every bound.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

impl Metrics {
    /// Counts one answered request.
    pub fn record(&self, route: &str, status: StatusCode, elapsed: Duration) {
        let stats = self.slot(route);
        let code = status.as_u16();
        let i = CODES.iter().position(|c| *c == code).unwrap_or(CODES.len());
        stats.statuses[i].fetch_add(1, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        let b = BUCKETS
            .iter()
            .position(|bound| secs <= *bound)
            .unwrap_or(BUCKETS.len());
        stats.buckets[b].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        stats.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// The slot of `route`, claiming a free one the first time.
    fn slot(&self, route: &str) -> &RouteStats {
        let start = usize::try_from(fnv1a(route.as_bytes()) % SLOTS as u64).unwrap_or(0);
        for probe in 0..SLOTS {
            let slot = &self.slots[(start + probe) % SLOTS];
            let name = match slot.route.get() {
                Some(name) => name,
                // Another thread may claim it first; then look at what it set.
                None => slot.route.get_or_init(|| route.into()),
            };
            if &**name == route {
                return slot;
            }
        }
        &self.overflow
    }

    /// The counters in Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8192);
        let mut routes: Vec<(&str, &RouteStats)> = self
            .slots
            .iter()
            .filter_map(|s| s.route.get().map(|r| (&**r, s)))
            .collect();
        routes.push(("other", &self.overflow));
        routes.sort_by_key(|(route, _)| *route);

        out.push_str(
            "# HELP paperboy_http_requests_total HTTP requests answered, by route and status.\n",
        );
        out.push_str("# TYPE paperboy_http_requests_total counter\n");
        for (route, stats) in &routes {
            for (i, count) in stats.statuses.iter().enumerate() {
                let count = count.load(Ordering::Relaxed);
                if count == 0 {
                    continue;
                }
                let status = CODES
                    .get(i)
                    .map_or_else(|| "other".to_string(), u16::to_string);
                let _ = writeln!(
                    out,
                    "paperboy_http_requests_total{{route=\"{}\",status=\"{status}\"}} {count}",
                    label(route)
                );
            }
        }

        out.push_str(
            "# HELP paperboy_http_request_duration_seconds Time to answer a request, by route.\n",
        );
        out.push_str("# TYPE paperboy_http_request_duration_seconds histogram\n");
        for (route, stats) in &routes {
            let counts: Vec<u64> = stats
                .buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect();
            let total: u64 = counts.iter().sum();
            if total == 0 {
                continue;
            }
            let route = label(route);
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(&counts) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "paperboy_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "paperboy_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {total}"
            );
            let sum = stats.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "paperboy_http_request_duration_seconds_sum{{route=\"{route}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "paperboy_http_request_duration_seconds_count{{route=\"{route}\"}} {total}"
            );
        }
        out
    }
}

/// Escapes a Prometheus label value.
fn label(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_route_and_status_with_a_cumulative_histogram() {
        let m = Metrics::default();
        m.record("/papers/{id}", StatusCode::OK, Duration::from_micros(300));
        m.record("/papers/{id}", StatusCode::OK, Duration::from_millis(3));
        m.record(
            "/papers/{id}",
            StatusCode::NOT_FOUND,
            Duration::from_secs(20),
        );
        m.record(
            "/healthz",
            StatusCode::IM_A_TEAPOT,
            Duration::from_micros(10),
        );
        let text = m.render();
        for want in [
            r#"paperboy_http_requests_total{route="/papers/{id}",status="200"} 2"#,
            r#"paperboy_http_requests_total{route="/papers/{id}",status="404"} 1"#,
            r#"paperboy_http_requests_total{route="/healthz",status="other"} 1"#,
            r#"paperboy_http_request_duration_seconds_bucket{route="/papers/{id}",le="0.0005"} 1"#,
            r#"paperboy_http_request_duration_seconds_bucket{route="/papers/{id}",le="0.005"} 2"#,
            r#"paperboy_http_request_duration_seconds_bucket{route="/papers/{id}",le="10"} 2"#,
            r#"paperboy_http_request_duration_seconds_bucket{route="/papers/{id}",le="+Inf"} 3"#,
            r#"paperboy_http_request_duration_seconds_count{route="/papers/{id}"} 3"#,
            "# TYPE paperboy_http_request_duration_seconds histogram",
        ] {
            assert!(text.contains(want), "missing {want} in\n{text}");
        }
    }

    #[test]
    fn many_routes_share_the_table_and_the_rest_overflow() {
        let m = Metrics::default();
        for i in 0..SLOTS + 5 {
            m.record(&format!("/r{i}"), StatusCode::OK, Duration::ZERO);
        }
        m.record("/r0", StatusCode::OK, Duration::ZERO);
        let text = m.render();
        assert!(
            text.contains(r#"paperboy_http_requests_total{route="/r0",status="200"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"paperboy_http_requests_total{route="other",status="200"} 5"#),
            "{text}"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
