//! PaperExplorer's scrape of HF daily papers:
//! `{arxiv_id: {url, title, authors, abstract, publication_date, upvotes}}`.
//!
//! No curation day is known, so there are no daily entries; upvotes are
//! stamped with the publication day so that an HF snapshot of a later day
//! replaces them and importing this file again does not.

use std::fmt;

use paperboy_core::{ArxivId, Paper, SourceRecord};
use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::Value;

use crate::json_fields::{Object, get, kind, midnight, opt_count, opt_str, opt_time};
use crate::text_ascii::{clean_line, normalize_abstract};
use crate::{ImportError, Location, Parsed, Problem, json_error, pyrepr};

const FORMAT: &str = "PaperExplorer JSON";

/// Parses the whole file. A paper that cannot be read is a problem at its
/// index among the keys, in file order.
pub fn parse(bytes: &[u8]) -> Result<Vec<Parsed>, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let entries: OrderedEntries =
        serde_json::from_slice(bytes).map_err(|e| json_error(FORMAT, &e))?;
    Ok(entries
        .0
        .into_iter()
        .enumerate()
        .map(|(i, (key, value))| match paper(&key, &value) {
            Ok(paper) => Parsed::Record(Box::new(SourceRecord { paper, entry: None })),
            Err(message) => Parsed::Problem(Problem {
                location: Location::Entry(i),
                message,
            }),
        })
        .collect())
}

/// A JSON object's entries in file order (`serde_json::Map` sorts them).
struct OrderedEntries(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for OrderedEntries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedEntries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of papers keyed by arXiv id")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedEntries, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    entries.push(entry);
                }
                Ok(OrderedEntries(entries))
            }
        }
        d.deserialize_map(V)
    }
}

fn paper(key: &str, value: &Value) -> Result<Paper, String> {
    let Value::Object(obj) = value else {
        return Err(format!("{key}: expected an object, got {}", kind(value)));
    };
    let id = ArxivId::parse(key).map_err(|e| format!("key: {e}"))?.id;
    let mut paper = Paper::new(id);
    let b = &mut paper.biblio;
    b.title = opt_str(obj, "title", "title")?
        .map(clean_line)
        .unwrap_or_default();
    b.abstract_text = opt_str(obj, "abstract", "abstract")?
        .map(normalize_abstract)
        .unwrap_or_default();
    b.authors = authors(obj)?;
    b.published = opt_time(obj, "publication_date", "publication_date")?;
    let c = &mut paper.community;
    c.upvotes = opt_count(obj, "upvotes", "upvotes")?;
    c.observed_at = b.published.map(|t| midnight(t.date_naive()));
    Ok(paper)
}

/// A list of names, or a string holding the Python repr of one.
fn authors(obj: &Object) -> Result<Vec<String>, String> {
    let parsed;
    let list = match get(obj, "authors") {
        None => return Ok(Vec::new()),
        Some(Value::String(repr)) => {
            parsed =
                pyrepr::parse(repr).map_err(|e| format!("`authors`: not a Python list: {e}"))?;
            &parsed
        }
        Some(other) => other,
    };
    let Value::Array(items) = list else {
        return Err(format!("`authors`: expected a list, got {}", kind(list)));
    };
    let mut names = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::String(name) = item else {
            return Err(format!(
                "`authors[{i}]`: expected a string, got {}",
                kind(item)
            ));
        };
        let name = clean_line(name);
        if !name.is_empty() {
            names.push(name);
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::fuzzing::{config, json_mutated, mutated, sample};

    #[test]
    fn both_author_spellings_and_string_upvotes() {
        let src = br#"{"2312.17653": {"title": "A\n  B", "authors": "['Ming Yan', \"Ruihao O'Li\"]", "upvotes": "29", "publication_date": "2023-12-24T10:08:59Z"},
                      "2312.00001": {"authors": ["X"], "upvotes": 3},
                      "nope": {},
                      "2312.00002": {"authors": "Ming Yan"}}"#;
        let parsed = parse(src).expect("parses");
        let Parsed::Record(r) = &parsed[0] else {
            panic!("record expected")
        };
        assert_eq!(r.paper.biblio.title, "A B");
        assert_eq!(r.paper.biblio.authors, ["Ming Yan", "Ruihao O'Li"]);
        assert_eq!(r.paper.community.upvotes, Some(29));
        assert_eq!(
            r.paper.community.observed_at.map(|t| t.to_rfc3339()),
            Some("2023-12-24T00:00:00+00:00".into())
        );
        assert!(matches!(&parsed[1], Parsed::Record(r) if r.paper.community.observed_at.is_none()));
        assert!(
            matches!(&parsed[2], Parsed::Problem(p) if p.location == Location::Entry(2) && p.message.contains("key"))
        );
        assert!(
            matches!(&parsed[3], Parsed::Problem(p) if p.location == Location::Entry(3) && p.message.contains("`authors`"))
        );
    }

    #[test]
    fn not_an_object_of_papers() {
        assert!(matches!(parse(b"[1]"), Err(ImportError::Malformed { .. })));
        assert!(matches!(
            parse(b"{\"a\": "),
            Err(ImportError::Malformed { .. })
        ));
    }

    /// The real file cut down to its first `n` papers, still valid JSON.
    fn first_papers(n: usize) -> Vec<u8> {
        let all: OrderedEntries =
            serde_json::from_slice(&sample("paperexplorer-papers.json")).expect("valid sample");
        let mut out = b"{\n".to_vec();
        for (i, (key, value)) in all.0.into_iter().take(n).enumerate() {
            if i > 0 {
                out.extend_from_slice(b",\n");
            }
            let entry =
                serde_json::to_vec_pretty(&serde_json::json!({ key: value })).expect("serialises");
            // Drop the braces of the one-entry object.
            out.extend_from_slice(&entry[1..entry.len() - 1]);
        }
        out.extend_from_slice(b"}\n");
        out
    }

    #[test]
    fn the_cut_down_sample_is_valid() {
        let parsed = parse(&first_papers(6)).expect("parses");
        assert_eq!(parsed.len(), 6);
        assert!(parsed.iter().all(|p| matches!(p, Parsed::Record(_))));
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn mutated_files_never_panic(bytes in mutated(first_papers(6))) {
            let _ = parse(&bytes);
        }

        #[test]
        fn mutated_papers_never_panic(doc in json_mutated(serde_json::from_slice(&first_papers(6)).expect("valid"))) {
            let _ = parse(&serde_json::to_vec(&doc).expect("serialises"));
        }
    }
}
