//! The HTTP client every harvest goes through: it leaves at least
//! `min_interval` between one request and the next, honours `Retry-After` on 503/429, backs off exponentially
//! on other 5xx, timeouts and refused connections, and gives up after
//! `max_retries` retries. A 4xx other than 429 is final at once.
//!
//! It fetches bytes and nothing more: no parsing of bodies, no database.

use std::thread;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::SyncError;

/// What `User-Agent` says unless the caller sets its own (an operator may
/// append a contact address, as arXiv asks of heavy harvesters).
pub const DEFAULT_USER_AGENT: &str = concat!(
    "paperboy/",
    env!("CARGO_PKG_VERSION"),
    " (self-hosted Daily Papers; +paperboy)"
);

/// How politely to fetch. The defaults follow arXiv's rules for its APIs
/// (one request every 3 seconds, honour `Retry-After`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Politeness {
    /// Least time between two consecutive requests, retries included. It is
    /// counted from the end of one exchange to the start of the next, so the
    /// starts are at least this far apart too, and so are their arrivals at
    /// the server, whatever the network's latency.
    pub min_interval: Duration,
    /// Retries after the first attempt; a request is tried at most
    /// `max_retries + 1` times.
    pub max_retries: u32,
    /// Wait before the first retry when the server names no time; doubled
    /// for every further retry.
    pub backoff_base: Duration,
    /// Upper bound of the doubled backoff.
    pub max_backoff: Duration,
    /// The longest `Retry-After` we wait for. A server asking for more gets
    /// no early retry: the request ends with [`SyncError::WaitTooLong`].
    pub max_retry_after: Duration,
    /// Time limit of one attempt, from connecting to the last body byte.
    pub timeout: Duration,
    /// Largest response body accepted (decompressed).
    pub max_body_bytes: u64,
    pub user_agent: String,
}

impl Default for Politeness {
    fn default() -> Politeness {
        Politeness {
            min_interval: Duration::from_secs(3),
            max_retries: 5,
            backoff_base: Duration::from_secs(5),
            max_backoff: Duration::from_secs(5 * 60),
            max_retry_after: Duration::from_secs(10 * 60),
            timeout: Duration::from_secs(60),
            max_body_bytes: 256 * 1024 * 1024,
            user_agent: DEFAULT_USER_AGENT.to_string(),
        }
    }
}

impl Politeness {
    /// The wait before retry number `retry` (1-based) when the server named
    /// none: `backoff_base * 2^(retry-1)`, at most `max_backoff`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32 << retry.saturating_sub(1).min(31);
        self.backoff_base
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// The final answer to a request: a success, or a status that retrying would
/// not change (404, 400 …), with its body, which may explain the failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The URL asked for (before any redirect).
    pub url: String,
    pub status: u16,
    pub body: Vec<u8>,
}

impl Fetched {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body of a 2xx answer; any other status becomes [`SyncError::Http`].
    pub fn into_success(self) -> Result<Vec<u8>, SyncError> {
        if self.is_success() {
            Ok(self.body)
        } else {
            Err(http_error(&self.url, self.status, &self.body))
        }
    }
}

/// A blocking HTTP client that is polite to the servers it harvests. One per
/// server (or per harvest): the spacing of requests is per client.
#[derive(Debug)]
pub struct PoliteClient {
    agent: ureq::Agent,
    politeness: Politeness,
    /// The earliest moment the next request may start: `min_interval` after
    /// the last exchange ended, later if the server asked or we back off.
    next_start: Option<Instant>,
}

/// What one attempt came to.
enum Attempt {
    /// A final answer, success or not.
    Answer(Fetched),
    /// A transient failure; `asked` is the server's `Retry-After`, if any.
    Transient {
        failure: SyncError,
        asked: Option<Duration>,
    },
    /// A failure that retrying will not mend.
    Fatal(SyncError),
}

impl PoliteClient {
    pub fn new(politeness: Politeness) -> PoliteClient {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(politeness.timeout))
            .user_agent(politeness.user_agent.as_str())
            .build();
        PoliteClient {
            agent: config.into(),
            politeness,
            next_start: None,
        }
    }

    pub fn politeness(&self) -> &Politeness {
        &self.politeness
    }

    /// GETs `url` and returns the body of a 2xx answer. Any other final
    /// status is [`SyncError::Http`] with the start of the body.
    pub fn get(&mut self, url: &str) -> Result<Vec<u8>, SyncError> {
        self.fetch(url)?.into_success()
    }

    /// GETs `url`, retrying transient failures, and returns the final answer
    /// whatever its status, so that a caller can read an error body (the
    /// arXiv API explains a 400 in Atom). Transient failures that outlast the
    /// retries end in [`SyncError::GaveUp`].
    pub fn fetch(&mut self, url: &str) -> Result<Fetched, SyncError> {
        let mut attempts = 0u32;
        loop {
            self.wait_turn();
            attempts += 1;
            let started = Instant::now();
            let outcome = self.attempt(url);
            self.next_start = Some(Instant::now() + self.politeness.min_interval);
            let (failure, asked) = match outcome {
                Attempt::Answer(fetched) => {
                    tracing::debug!(
                        url,
                        status = fetched.status,
                        duration_ms = started.elapsed().as_millis() as u64,
                        "fetched"
                    );
                    return Ok(fetched);
                }
                Attempt::Fatal(e) => return Err(e),
                Attempt::Transient { failure, asked } => (failure, asked),
            };
            let max = self.politeness.max_retry_after;
            if let Some(asked) = asked.filter(|&asked| asked > max) {
                return Err(SyncError::WaitTooLong {
                    url: url.to_string(),
                    asked,
                    max,
                });
            }
            let wait = asked.unwrap_or_else(|| self.politeness.backoff(attempts));
            // Kept even when we give up, so that the next request of this
            // client still respects the server's wish.
            self.defer_next(wait);
            if attempts > self.politeness.max_retries {
                return Err(SyncError::GaveUp {
                    url: url.to_string(),
                    attempts,
                    last: Box::new(failure),
                });
            }
            tracing::warn!(
                url,
                attempt = attempts,
                wait_ms = wait.as_millis() as u64,
                retry_after = asked.is_some(),
                error = %failure,
                "transient failure, retrying"
            );
        }
    }

    /// Sleeps until this client may start a request.
    fn wait_turn(&self) {
        if let Some(at) = self.next_start {
            let now = Instant::now();
            if at > now {
                thread::sleep(at - now);
            }
        }
    }

    /// Moves the next start to at least `wait` from now.
    fn defer_next(&mut self, wait: Duration) {
        // A year stands for "forever" and keeps `Instant` arithmetic in range
        // whatever the configuration says.
        let at = Instant::now() + wait.min(Duration::from_secs(365 * 24 * 3600));
        self.next_start = Some(self.next_start.map_or(at, |n| n.max(at)));
    }

    fn attempt(&self, url: &str) -> Attempt {
        let mut response = match self.agent.get(url).call() {
            Ok(r) => r,
            Err(e) => return transport_failure(url, e),
        };
        let status = response.status().as_u16();
        let asked = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, Utc::now()));
        let body = response
            .body_mut()
            .with_config()
            .limit(self.politeness.max_body_bytes)
            .read_to_vec();
        match status {
            200..=299 => match body {
                Ok(body) => Attempt::Answer(Fetched {
                    url: url.to_string(),
                    status,
                    body,
                }),
                Err(e) => transport_failure(url, e),
            },
            // 429 and 503 are how servers (arXiv's included) say "slow down";
            // other 5xx are the server's own trouble, usually brief.
            429 | 500..=599 => Attempt::Transient {
                failure: http_error(url, status, &body.unwrap_or_default()),
                asked,
            },
            _ => Attempt::Answer(Fetched {
                url: url.to_string(),
                status,
                body: body.unwrap_or_default(),
            }),
        }
    }
}

/// Sorts a ureq failure: the network's hiccups are retried, mistakes
/// (a bad URL, an unknown host, TLS) are not.
fn transport_failure(url: &str, e: ureq::Error) -> Attempt {
    let failure = SyncError::Transport {
        url: url.to_string(),
        message: e.to_string(),
    };
    match e {
        ureq::Error::Timeout(_)
        | ureq::Error::Io(_)
        | ureq::Error::ConnectionFailed
        | ureq::Error::Protocol(_) => Attempt::Transient {
            failure,
            asked: None,
        },
        _ => Attempt::Fatal(failure),
    }
}

/// How much of an error body [`SyncError::Http`] keeps.
const SNIPPET_BYTES: usize = 4096;

pub(crate) fn http_error(url: &str, status: u16, body: &[u8]) -> SyncError {
    let head = &body[..body.len().min(SNIPPET_BYTES)];
    let mut body_snippet = String::from_utf8_lossy(head).into_owned();
    // A cut through a multi-byte character shows as U+FFFD at the end; drop it.
    if head.len() < body.len() && body_snippet.ends_with('\u{FFFD}') {
        body_snippet.pop();
    }
    SyncError::Http {
        url: url.to_string(),
        status,
        body_snippet,
    }
}

/// The wait a `Retry-After` value asks for: delta-seconds (`120`) or an
/// HTTP-date (IMF-fixdate, RFC 850 or asctime form), measured from `now`.
/// A date in the past means "now". `None` for a value that is neither.
pub(crate) fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than a u64 holds is "very long": WaitTooLong, not "now".
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = parse_http_date(value)?;
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// The three forms RFC 9110 (section 5.6.7) tells recipients to accept.
fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    const FORMS: [&str; 3] = [
        "%a, %d %b %Y %H:%M:%S GMT", // Sun, 06 Nov 1994 08:49:37 GMT
        "%A, %d-%b-%y %H:%M:%S GMT", // Sunday, 06-Nov-94 08:49:37 GMT
        "%a %b %e %H:%M:%S %Y",      // Sun Nov  6 08:49:37 1994
    ];
    FORMS
        .iter()
        .find_map(|form| NaiveDateTime::parse_from_str(value, form).ok())
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(value: &str, want: Option<u64>) {
        let now = DateTime::parse_from_rfc3339("1994-11-06T08:49:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_retry_after(value, now),
            want.map(Duration::from_secs),
            "{value:?}"
        );
    }

    #[test]
    fn retry_after_forms() {
        check("120", Some(120));
        check(" 0 ", Some(0));
        check("Sun, 06 Nov 1994 08:49:37 GMT", Some(37));
        check("Sunday, 06-Nov-94 08:49:37 GMT", Some(37));
        check("Sun Nov  6 08:49:37 1994", Some(37));
        check("Sun, 06 Nov 1994 09:49:00 GMT", Some(3600));
        // In the past: retry at once.
        check("Sat, 05 Nov 1994 08:49:37 GMT", Some(0));
        check("99999999999999999999999", Some(u64::MAX));
        check("", None);
        check("-5", None);
        check("1.5", None);
        check("soon", None);
        check("2024-01-01T00:00:00Z", None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = Politeness {
            backoff_base: Duration::from_secs(5),
            max_backoff: Duration::from_secs(60),
            ..Politeness::default()
        };
        let waits: Vec<u64> = (1..=6).map(|n| p.backoff(n).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 60, 60]);
        assert_eq!(p.backoff(200).as_secs(), 60);
    }

    #[test]
    fn snippet_is_cut_on_a_character_boundary() {
        let body = "é".repeat(SNIPPET_BYTES); // 2 bytes each: the cut lands between two
        let SyncError::Http { body_snippet, .. } =
            http_error("u", 400, format!("x{body}").as_bytes())
        else {
            panic!("not Http")
        };
        assert!(!body_snippet.ends_with('\u{FFFD}'));
        assert!(body_snippet.len() <= SNIPPET_BYTES);
    }

    #[test]
    fn default_user_agent_names_paperboy_and_version() {
        assert!(
            Politeness::default()
                .user_agent
                .starts_with(concat!("paperboy/", env!("CARGO_PKG_VERSION")))
        );
    }
}
