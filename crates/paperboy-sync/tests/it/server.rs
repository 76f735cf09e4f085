//! A local HTTP server for the tests: it answers each request with what a
//! test's responder says (real recorded bodies, chosen statuses and headers)
//! and records what arrived and when.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use paperboy_sync::Politeness;

/// The shared test data (`/work/shared/data`), read in place.
pub fn data(rel: &str) -> Vec<u8> {
    let path =
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")).join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Politeness for tests: short waits, so failures show quickly.
pub fn quick() -> Politeness {
    Politeness {
        min_interval: Duration::ZERO,
        max_retries: 3,
        backoff_base: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        max_retry_after: Duration::from_secs(5),
        timeout: Duration::from_secs(5),
        ..Politeness::default()
    }
}

/// What the server answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering (to provoke client timeouts).
    pub delay: Duration,
}

impl Reply {
    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply::status(200, body)
    }

    pub fn status(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// A request as it arrived.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Path and query, as sent (`/oai2?verb=ListRecords&…`).
    pub url: String,
    pub at: Instant,
    pub user_agent: Option<String>,
}

pub struct TestServer {
    server: Arc<tiny_http::Server>,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server on a free port; `respond` gets the 0-based number of
    /// the request and its URL.
    pub fn start(respond: impl Fn(usize, &str) -> Reply + Send + 'static) -> TestServer {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1:0"));
        let base = format!(
            "http://{}",
            server.server_addr().to_ip().expect("an IP address")
        );
        let seen = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (server, seen) = (Arc::clone(&server), Arc::clone(&seen));
            thread::spawn(move || {
                for request in server.incoming_requests() {
                    let at = Instant::now();
                    let url = request.url().to_string();
                    let user_agent = request
                        .headers()
                        .iter()
                        .find(|h| h.field.equiv("User-Agent"))
                        .map(|h| h.value.to_string());
                    let n = {
                        let mut seen = seen.lock().unwrap();
                        seen.push(Seen {
                            url: url.clone(),
                            at,
                            user_agent,
                        });
                        seen.len() - 1
                    };
                    let reply = respond(n, &url);
                    // Answer on a thread of its own, so a delayed answer does
                    // not hold up the next request.
                    thread::spawn(move || {
                        thread::sleep(reply.delay);
                        let mut response = tiny_http::Response::from_data(reply.body)
                            .with_status_code(reply.status);
                        for (name, value) in &reply.headers {
                            response.add_header(
                                tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())
                                    .unwrap(),
                            );
                        }
                        // The client may have given up already (timeouts).
                        let _ = request.respond(response);
                    });
                }
            })
        };
        TestServer {
            server,
            base,
            seen,
            thread: Some(thread),
        }
    }

    /// Every request so far, in order of arrival.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn urls(&self) -> Vec<String> {
        self.seen().into_iter().map(|s| s.url).collect()
    }

    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    /// Gaps between consecutive arrivals.
    pub fn gaps(&self) -> Vec<Duration> {
        self.seen().windows(2).map(|w| w[1].at - w[0].at).collect()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A URL on a port where nothing listens.
pub fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/nothing")
}
