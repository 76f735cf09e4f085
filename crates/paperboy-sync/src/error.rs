//! The one error type of this crate, in the words of a harvest: which URL,
//! what the server said, how often we tried. No formatting for a UI here;
//! the binary decides how to show it.

use std::time::Duration;

use paperboy_import::ImportError;

/// Why a fetch or a harvest stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The server answered with a status that retrying will not change (a 4xx
    /// other than 429, or a 3xx left over). `body_snippet` is the start of
    /// the body (lossy UTF-8): the arXiv API explains a 400 in an Atom feed.
    #[error("{url}: the server answered HTTP {status}: {}", one_line(body_snippet))]
    Http {
        url: String,
        status: u16,
        body_snippet: String,
    },

    /// No HTTP answer: connection refused or reset, timeout, bad URL, TLS.
    #[error("{url}: {message}")]
    Transport { url: String, message: String },

    /// Every attempt failed with a transient failure; `last` is the last one.
    #[error("gave up on {url} after {attempts} attempts; the last one failed: {last}")]
    GaveUp {
        url: String,
        attempts: u32,
        #[source]
        last: Box<SyncError>,
    },

    /// The server asked (by `Retry-After`) to wait longer than we are willing
    /// to wait in one command; retrying earlier would be impolite.
    #[error(
        "{url}: the server asks to retry in {} s, more than the allowed {} s; try again later",
        asked.as_secs(),
        max.as_secs()
    )]
    WaitTooLong {
        url: String,
        asked: Duration,
        max: Duration,
    },

    /// The body arrived but is not what was expected, or is an OAI-PMH error
    /// (`badResumptionToken`, `badArgument`, …).
    #[error("cannot use the response: {0}")]
    Parse(#[from] ImportError),

    /// The caller's sink failed to take a page; the harvest stopped there and
    /// can resume from the last token the sink accepted.
    #[error("the harvest stopped because storing a page failed: {0}")]
    Sink(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl SyncError {
    /// The HTTP status the server answered with, if the failure was (or ended
    /// with) an HTTP answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            SyncError::Http { status, .. } => Some(*status),
            SyncError::GaveUp { last, .. } => last.status(),
            _ => None,
        }
    }
}

/// At most 300 characters of `s` on one line, for a readable `Display`; the
/// field itself keeps the whole snippet. Markup (an Atom error feed, an HTML
/// error page) is reduced to its text, where the explanation is.
fn one_line(s: &str) -> String {
    const MAX: usize = 300;
    let text = if s.trim_start().starts_with('<') {
        strip_markup(s)
    } else {
        s.to_string()
    };
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match joined.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &joined[..cut]),
        None => joined,
    }
}

/// The text between tags, tags replaced by spaces (entities left as they are).
fn strip_markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_display_is_one_short_line() {
        let e = SyncError::Http {
            url: "http://x/api".into(),
            status: 400,
            body_snippet: format!("<feed>\n  <summary>bad id</summary>\n{}", "y".repeat(1000)),
        };
        let shown = e.to_string();
        assert!(
            shown.starts_with("http://x/api: the server answered HTTP 400: bad id yyy"),
            "{shown}"
        );
        assert!(!shown.contains('\n'));
        assert!(shown.ends_with('…'));
        assert!(shown.chars().count() < 400);
        assert_eq!(e.status(), Some(400));
    }

    #[test]
    fn markup_is_reduced_to_its_text() {
        assert_eq!(
            one_line(
                "<?xml version='1.0'?>\n<feed><title>Error</title>\n <summary>bad id</summary></feed>"
            ),
            "Error bad id"
        );
        assert_eq!(
            one_line("<html><body><h1>Not Found</h1></body></html>"),
            "Not Found"
        );
        assert_eq!(one_line("plain a < b > c"), "plain a < b > c");
    }
}
