//! arXiv API (`/api/query`) Atom feeds: each `<entry>` to a paper record;
//! the API's error feed to [`ImportError::ArxivApi`].

use paperboy_core::{ArxivId, Paper, SourceRecord, looks_withdrawn};

use crate::arxiv_fields::{categories, first_doi, one_line};
use crate::json_fields::parse_time;
use crate::text_ascii::{clean_line, normalize_abstract};
use crate::xml_tree::{self, Element};
use crate::{ImportError, Location, Parsed, Problem};

const FORMAT: &str = "arXiv Atom feed";

/// One response of the arXiv API.
#[derive(Debug)]
pub struct AtomFeed {
    pub items: Vec<Parsed>,
    /// `opensearch:totalResults`: how many papers the query matches in all.
    pub total_results: Option<u64>,
    /// `opensearch:startIndex`: the 0-based index of this page's first entry.
    pub start_index: Option<u64>,
    /// `opensearch:itemsPerPage`.
    pub items_per_page: Option<u64>,
}

/// Parses one feed. An entry that is not a paper (no valid id) is a problem
/// at its line; the API's error feed (an entry whose id is under
/// `arxiv.org/api/errors`) is [`ImportError::ArxivApi`].
pub fn parse_feed(bytes: &[u8]) -> Result<AtomFeed, ImportError> {
    let (feed, lines) = xml_tree::parse_document(bytes, FORMAT, "feed")?;
    let number = |name: &str| feed.child_text(name).and_then(|t| t.parse::<u64>().ok());
    let mut items = Vec::new();
    for entry in feed.children_named("entry") {
        if let Some(message) = api_error(entry) {
            return Err(ImportError::ArxivApi { message });
        }
        items.push(match paper(entry) {
            Ok(paper) => Parsed::Record(Box::new(SourceRecord { paper, entry: None })),
            Err(message) => Parsed::Problem(Problem {
                location: Location::Line(lines.line(entry.offset)),
                message,
            }),
        });
    }
    Ok(AtomFeed {
        items,
        total_results: number("totalResults"),
        start_index: number("startIndex"),
        items_per_page: number("itemsPerPage"),
    })
}

/// The message of the API's error entry, if this is one.
fn api_error(entry: &Element) -> Option<String> {
    let id = entry.child_text("id")?;
    let is_error = [
        "https://arxiv.org/api/errors",
        "http://arxiv.org/api/errors",
        "http://export.arxiv.org/api/errors",
    ]
    .iter()
    .any(|p| id.starts_with(p));
    is_error.then(|| {
        entry
            .child_text("summary")
            .map(clean_line)
            .unwrap_or_else(|| format!("error {}", id.rsplit('#').next().unwrap_or(id)))
    })
}

fn paper(entry: &Element) -> Result<Paper, String> {
    let raw_id = entry.child_text("id").ok_or("<id>: missing")?;
    let parsed = ArxivId::parse(raw_id).map_err(|e| format!("<id>: {e}"))?;
    let mut paper = Paper::new(parsed.id);
    let b = &mut paper.biblio;
    b.version = parsed.version;
    b.title = entry
        .child_text("title")
        .map(clean_line)
        .unwrap_or_default();
    b.abstract_text = entry
        .child_text("summary")
        .map(normalize_abstract)
        .unwrap_or_default();
    b.authors = entry
        .children_named("author")
        .filter_map(|a| a.child_text("name"))
        .map(clean_line)
        .filter(|n| !n.is_empty())
        .collect();
    let terms: Vec<&str> = entry
        .children_named("category")
        .filter_map(|c| c.attr("term"))
        .collect();
    let primary = entry.child("primary_category").and_then(|c| c.attr("term"));
    (b.categories, b.primary_category) = categories(&terms.join(" "), primary);
    b.published = time(entry, "published")?;
    b.updated = time(entry, "updated")?;
    b.comments = entry.child_text("comment").and_then(one_line);
    b.journal_ref = entry.child_text("journal_ref").and_then(one_line);
    b.doi = entry.child_text("doi").and_then(first_doi);
    b.withdrawn = looks_withdrawn(b.comments.as_deref(), None);
    Ok(paper)
}

fn time(entry: &Element, name: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
    match entry.child_text(name) {
        None => Ok(None),
        Some(t) => parse_time(t)
            .map(Some)
            .ok_or_else(|| format!("<{name}>: not a time: {t:?}")),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::fuzzing::{config, mutated, sample};

    #[test]
    fn an_entry_without_an_id_is_a_problem_at_its_line() {
        let feed = b"<feed xmlns='http://www.w3.org/2005/Atom'>\n<entry>\n<title>x</title></entry>\n<entry><id>http://arxiv.org/abs/2104.12255v3</id><updated>2021-01-01T00:00:00Z</updated></entry></feed>";
        let parsed = parse_feed(feed).expect("parses");
        assert!(
            matches!(&parsed.items[0], Parsed::Problem(p) if p.location == Location::Line(2) && p.message.contains("<id>"))
        );
        let Parsed::Record(r) = &parsed.items[1] else {
            panic!("record expected")
        };
        assert_eq!(
            (r.paper.id.as_str(), r.paper.biblio.version),
            ("2104.12255", Some(3))
        );
    }

    #[test]
    fn no_default_namespace_and_prefixed_elements_both_work() {
        let feed = b"<a:feed xmlns:a='http://www.w3.org/2005/Atom' xmlns:arxiv='http://arxiv.org/schemas/atom'><a:entry><a:id>http://arxiv.org/abs/hep-th/9901001v2</a:id><arxiv:primary_category term='hep-th'/><a:category term='gr-qc'/><arxiv:comment>Withdrawn by the author</arxiv:comment></a:entry></a:feed>";
        let parsed = parse_feed(feed).expect("parses");
        let Parsed::Record(r) = &parsed.items[0] else {
            panic!("record expected")
        };
        assert_eq!(r.paper.id.as_str(), "hep-th/9901001");
        assert_eq!(r.paper.biblio.categories, ["hep-th", "gr-qc"]);
        assert!(r.paper.biblio.withdrawn);
    }

    #[test]
    fn not_a_feed() {
        assert!(matches!(
            parse_feed(b"<html/>"),
            Err(ImportError::Malformed {
                location: Location::Document,
                ..
            })
        ));
        assert!(matches!(
            parse_feed(b"<feed>\n<entry>"),
            Err(ImportError::Malformed { .. })
        ));
    }

    const SAMPLE: &str = "arxiv/atom-api-arxiv.py-fixtures/xml/q_testing_s0_m10_bc5a6c384fe9.xml";

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_feed(&bytes);
        }

        #[test]
        fn mutated_feeds_never_panic(bytes in mutated(sample(SAMPLE))) {
            let _ = parse_feed(&bytes);
        }
    }
}
