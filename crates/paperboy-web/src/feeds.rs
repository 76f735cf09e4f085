//! Atom 1.0 feeds (RFC 4287): `/feeds/daily.atom` (the latest day's list)
//! and `/feeds/trending.atom`. Absolute links use the configured
//! `base_url`. Text is XML-escaped, and characters XML 1.0 forbids (control
//! characters a source may carry) are dropped, so a feed always parses.

use std::fmt::Write as _;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, NaiveTime, SecondsFormat, Utc};
use paperboy_store::{EntryQuery, ListOrder, Listed};

use crate::AppState;
use crate::error::PageError;
use crate::layout;
use crate::listing;

/// Entries in the trending feed.
const TRENDING_ENTRIES: usize = 30;

/// Entries in the daily feed at most (a day holds about 60).
const DAILY_ENTRIES: u64 = 200;

pub const CONTENT_TYPE: &str = "application/atom+xml; charset=utf-8";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/feeds/daily.atom", get(daily))
        .route("/feeds/trending.atom", get(trending))
}

async fn daily(State(state): State<AppState>) -> Result<Response, PageError> {
    const KEY: &str = "/feeds/daily.atom";
    if let Some(hit) = state.cache.lookup(KEY) {
        return Ok(hit);
    }
    let generation = state.cache.generation();
    let today = state.today();
    let (day, entries) = state
        .read(move |store| {
            let Some(day) = store.day_with_entries_on_or_before(today)? else {
                return Ok((None, Vec::new()));
            };
            let entries = store.entries(&EntryQuery {
                from: day,
                to: day,
                submitter: None,
                order: ListOrder::Upvotes,
                offset: 0,
                limit: DAILY_ENTRIES,
            })?;
            Ok((Some(day), entries))
        })
        .await?;
    let config = &state.config;
    let (title, alternate) = match day {
        Some(day) => (
            format!(
                "{}: Daily Papers of {}",
                config.site_name,
                layout::day_label(day)
            ),
            format!("/papers/date/{day}"),
        ),
        None => (
            format!("{}: Daily Papers", config.site_name),
            "/papers".to_string(),
        ),
    };
    let feed = Feed {
        path: "/feeds/daily.atom",
        title: &title,
        alternate: &alternate,
        entries: &entries,
    };
    let body = feed.render(&config.base_url, &config.site_name, state.now());
    Ok(state
        .cache
        .keep(Some(KEY.into()), generation, CONTENT_TYPE, body))
}

async fn trending(State(state): State<AppState>) -> Result<Response, PageError> {
    const KEY: &str = "/feeds/trending.atom";
    if let Some(hit) = state.cache.lookup(KEY) {
        return Ok(hit);
    }
    let generation = state.cache.generation();
    let now = state.now();
    let entries: Vec<Listed> = state
        .read(move |store| {
            let mut ranked = listing::trending_now(store, now)?;
            ranked.truncate(TRENDING_ENTRIES);
            Ok(ranked.into_iter().map(|t| t.listed).collect())
        })
        .await?;
    let config = &state.config;
    let title = format!("{}: Trending papers", config.site_name);
    let feed = Feed {
        path: "/feeds/trending.atom",
        title: &title,
        alternate: "/papers/trending",
        entries: &entries,
    };
    let body = feed.render(&config.base_url, &config.site_name, now);
    Ok(state
        .cache
        .keep(Some(KEY.into()), generation, CONTENT_TYPE, body))
}

/// What a feed lists.
pub(crate) struct Feed<'a> {
    /// The feed's own path (its id and `rel="self"` link).
    pub(crate) path: &'a str,
    pub(crate) title: &'a str,
    /// The HTML page the feed mirrors.
    pub(crate) alternate: &'a str,
    pub(crate) entries: &'a [Listed],
}

/// When an entry last changed, as far as Paperboy knows: when it was listed.
fn entry_updated(listed: &Listed) -> DateTime<Utc> {
    listed
        .entry
        .submitted_at
        .unwrap_or_else(|| listed.entry.day.and_time(NaiveTime::MIN).and_utc())
}

impl Feed<'_> {
    /// The feed document. `now` is its `updated` only when it has no entries.
    pub(crate) fn render(&self, base_url: &str, site_name: &str, now: DateTime<Utc>) -> String {
        let base = base_url.trim_end_matches('/');
        let updated = self.entries.iter().map(entry_updated).max().unwrap_or(now);
        let mut out = String::with_capacity(1024 + self.entries.len() * 2048);
        out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
        element(&mut out, 1, "id", &format!("{base}{}", self.path));
        element(&mut out, 1, "title", self.title);
        element(&mut out, 1, "updated", &rfc3339(updated));
        link(
            &mut out,
            1,
            "self",
            &format!("{base}{}", self.path),
            Some("application/atom+xml"),
        );
        link(
            &mut out,
            1,
            "alternate",
            &format!("{base}{}", self.alternate),
            Some("text/html"),
        );
        out.push_str("  <author>\n");
        element(&mut out, 2, "name", site_name);
        element(&mut out, 2, "uri", &format!("{base}/"));
        out.push_str("  </author>\n");
        element(&mut out, 1, "generator", "Paperboy");
        for listed in self.entries {
            let paper = &listed.paper;
            let url = format!("{base}{}", layout::paper_path(&paper.id));
            out.push_str("  <entry>\n");
            element(&mut out, 2, "id", &url);
            element(&mut out, 2, "title", layout::display_title(paper));
            element(&mut out, 2, "updated", &rfc3339(entry_updated(listed)));
            if let Some(published) = paper.biblio.published {
                element(&mut out, 2, "published", &rfc3339(published));
            }
            link(&mut out, 2, "alternate", &url, Some("text/html"));
            link(
                &mut out,
                2,
                "related",
                &paper.id.abs_url(),
                Some("text/html"),
            );
            for name in &paper.biblio.authors {
                out.push_str("    <author>\n");
                element(&mut out, 3, "name", name);
                out.push_str("    </author>\n");
            }
            for category in &paper.biblio.categories {
                let _ = writeln!(out, "    <category term=\"{}\"/>", escape(category));
            }
            let mut summary = paper.biblio.abstract_text.clone();
            if !summary.is_empty() {
                summary.push_str("\n\n");
            }
            let _ = write!(
                summary,
                "{} upvotes · {} comments · listed {}",
                listed.upvotes, listed.comments, listed.entry.day
            );
            if let Some(by) = &listed.entry.submitter {
                let _ = write!(summary, " by {}", layout::submitter_name(by));
            }
            element(&mut out, 2, "summary", &summary);
            out.push_str("  </entry>\n");
        }
        out.push_str("</feed>\n");
        out
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// `<name>text</name>` with `text` escaped.
fn element(out: &mut String, depth: usize, name: &str, text: &str) {
    indent(out, depth);
    let _ = writeln!(out, "<{name}>{}</{name}>", escape(text));
}

fn link(out: &mut String, depth: usize, rel: &str, href: &str, kind: Option<&str>) {
    indent(out, depth);
    let _ = write!(out, "<link rel=\"{rel}\" href=\"{}\"", escape(href));
    if let Some(kind) = kind {
        let _ = write!(out, " type=\"{kind}\"");
    }
    out.push_str("/>\n");
}

/// Escapes text for XML content and attribute values, dropping characters
/// XML 1.0 does not allow at all.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if allowed_in_xml(c) => out.push(c),
            _ => {}
        }
    }
    out
}

/// XML 1.0's `Char` production, less the whitespace handled by the caller.
fn allowed_in_xml(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        let check = |input: &str, want: &str| assert_eq!(escape(input), want, "{input:?}");
        check("plain", "plain");
        check("a < b & c > d", "a &lt; b &amp; c &gt; d");
        check(
            r#"<script>alert("x")</script>"#,
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;",
        );
        check("it's", "it&apos;s");
        check(
            "bell\u{7}, nul\u{0}, fffe\u{FFFE}, tab\tnewline\n",
            "bell, nul, fffe, tab\tnewline\n",
        );
        check("ünïcødé 🚀", "ünïcødé 🚀");
    }
}
