//! The Kaggle/Cornell arXiv metadata snapshot: one JSON object a line,
//! millions of lines. Streamed line by line with one reused buffer; fields
//! borrow from it where no unescaping is needed.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, BufRead, Read};
use std::path::PathBuf;

use paperboy_core::{ArxivId, Paper, SourceRecord, looks_withdrawn};
use serde::Deserialize;
use serde::de::{Deserializer, Visitor};
use serde_json::Value;

use crate::arxiv_fields::{
    categories, first_doi, one_line, parse_rfc2822, person_name, split_author_list, version_number,
};
use crate::json_fields::kind;
use crate::text_ascii::{clean_line, normalize_abstract};
use crate::{ImportError, Location, Parsed, Problem, json_message};

/// A line longer than this is reported and skipped rather than buffered:
/// real lines are a few kilobytes.
const MAX_LINE: usize = 16 << 20;

/// Streams the records of a Kaggle JSON-lines file. Blank lines are skipped;
/// a line that cannot be read is a problem at its (1-based) line number. An
/// I/O error ends the stream after yielding `Err`.
pub struct KaggleLines<R> {
    reader: R,
    /// For I/O errors.
    path: PathBuf,
    buf: Vec<u8>,
    line: u64,
    done: bool,
}

impl<R: BufRead> KaggleLines<R> {
    pub fn new(reader: R, path: impl Into<PathBuf>) -> KaggleLines<R> {
        KaggleLines {
            reader,
            path: path.into(),
            buf: Vec::with_capacity(8 << 10),
            line: 0,
            done: false,
        }
    }
}

impl<R: BufRead> Iterator for KaggleLines<R> {
    type Item = Result<Parsed, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            self.buf.clear();
            let complete = match read_line_capped(&mut self.reader, &mut self.buf) {
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Ok(Some(complete)) => complete,
                Err(source) => {
                    self.done = true;
                    return Some(Err(ImportError::Io {
                        path: self.path.clone(),
                        source,
                    }));
                }
            };
            self.line += 1;
            let location = Location::Line(self.line);
            if !complete {
                let message = format!("line longer than {} MiB, skipped", MAX_LINE >> 20);
                return Some(Ok(Parsed::Problem(Problem { location, message })));
            }
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(Ok(match parse_line(&self.buf) {
                Ok(record) => Parsed::Record(Box::new(record)),
                Err(message) => Parsed::Problem(Problem { location, message }),
            }));
        }
        None
    }
}

/// Reads one line into `buf`: `None` at the end, `Some(false)` when the line
/// was too long (its rest is skipped).
fn read_line_capped<R: BufRead>(reader: &mut R, buf: &mut Vec<u8>) -> io::Result<Option<bool>> {
    let n = reader
        .by_ref()
        .take(MAX_LINE as u64)
        .read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(None);
    }
    if n < MAX_LINE || buf.last() == Some(&b'\n') {
        return Ok(Some(true));
    }
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            break;
        }
        if let Some(i) = available.iter().position(|&b| b == b'\n') {
            reader.consume(i + 1);
            break;
        }
        let len = available.len();
        reader.consume(len);
    }
    Ok(Some(false))
}

/// One line of the snapshot, borrowing what it can.
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    id: Option<Text<'a>>,
    #[serde(borrow)]
    title: Option<Text<'a>>,
    #[serde(borrow, rename = "abstract")]
    abstract_text: Option<Text<'a>>,
    #[serde(borrow)]
    authors: Option<Text<'a>>,
    #[serde(borrow)]
    authors_parsed: Option<Vec<Vec<Text<'a>>>>,
    #[serde(borrow)]
    categories: Option<Text<'a>>,
    #[serde(borrow)]
    comments: Option<Text<'a>>,
    #[serde(borrow, rename = "journal-ref")]
    journal_ref: Option<Text<'a>>,
    #[serde(borrow)]
    doi: Option<Text<'a>>,
    #[serde(borrow)]
    license: Option<Text<'a>>,
    #[serde(borrow)]
    versions: Option<Vec<Version<'a>>>,
}

#[derive(Deserialize)]
struct Version<'a> {
    #[serde(borrow)]
    version: Option<Text<'a>>,
    #[serde(borrow)]
    created: Option<Text<'a>>,
}

/// A JSON string borrowed from the line when it has no escapes. (serde
/// borrows a `Cow` field directly but never one inside an `Option` or `Vec`.)
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text<'a>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

fn text<'t>(t: &'t Option<Text<'_>>) -> Option<&'t str> {
    t.as_ref().map(|t| &*t.0)
}

/// Parses one line of the snapshot; the error names the field at fault.
pub fn parse_line(line: &[u8]) -> Result<SourceRecord, String> {
    match serde_json::from_slice::<Line<'_>>(line) {
        Ok(l) => record(&l),
        Err(e) => Err(diagnose(line, &e)),
    }
}

fn record(l: &Line<'_>) -> Result<SourceRecord, String> {
    let id = text(&l.id).ok_or("`id`: missing")?;
    let id = ArxivId::parse(id).map_err(|e| format!("`id`: {e}"))?.id;
    let mut paper = Paper::new(id);
    let b = &mut paper.biblio;
    b.title = text(&l.title).map(clean_line).unwrap_or_default();
    b.abstract_text = text(&l.abstract_text)
        .map(normalize_abstract)
        .unwrap_or_default();
    b.authors = match l.authors_parsed.as_deref() {
        Some(parsed) if !parsed.is_empty() => parsed
            .iter()
            .map(|parts| {
                // [last, first, suffix, affiliations...]
                let part = |i: usize| parts.get(i).map_or("", |t| &*t.0);
                person_name(part(1), part(0), part(2))
            })
            .filter(|n| !n.is_empty())
            .collect(),
        _ => text(&l.authors).map(split_author_list).unwrap_or_default(),
    };
    if let Some(versions) = l.versions.as_deref() {
        let created = |i: usize| -> Result<_, String> {
            let Some(v) = versions.get(i).and_then(|v| text(&v.created)) else {
                return Ok(None);
            };
            parse_rfc2822(v)
                .map(Some)
                .ok_or_else(|| format!("`versions[{i}].created`: not an RFC 2822 time: {v:?}"))
        };
        let last = versions.len().saturating_sub(1);
        b.published = created(0)?;
        b.updated = created(last)?;
        if let Some(v) = versions.last().and_then(|v| text(&v.version)) {
            b.version =
                Some(version_number(v).ok_or_else(|| {
                    format!("`versions[{last}].version`: expected vN, got {v:?}")
                })?);
        }
    }
    (b.categories, b.primary_category) = categories(text(&l.categories).unwrap_or_default(), None);
    b.comments = text(&l.comments).and_then(one_line);
    b.journal_ref = text(&l.journal_ref).and_then(one_line);
    b.doi = text(&l.doi).and_then(first_doi);
    b.license = text(&l.license).and_then(one_line);
    b.withdrawn = looks_withdrawn(b.comments.as_deref(), None);
    Ok(SourceRecord { paper, entry: None })
}

/// Why a line did not deserialise, naming the field: only on this slow path
/// is the line parsed a second time, untyped.
fn diagnose(line: &[u8], err: &serde_json::Error) -> String {
    let value: Value = match serde_json::from_slice(line) {
        Ok(v) => v,
        Err(e) => return format!("not JSON (column {}): {}", e.column(), json_message(&e)),
    };
    let Value::Object(obj) = value else {
        return format!("expected a JSON object, got {}", kind(&value));
    };
    let bad = |path: String, expected: &str, got: &Value| {
        format!("`{path}`: expected {expected}, got {}", kind(got))
    };
    let present = |key: &str| obj.get(key).filter(|v| !v.is_null());
    for key in [
        "id",
        "title",
        "abstract",
        "authors",
        "categories",
        "comments",
        "journal-ref",
        "doi",
        "license",
    ] {
        if let Some(v) = present(key).filter(|v| !v.is_string()) {
            return bad(key.into(), "a string", v);
        }
    }
    if let Some(v) = present("authors_parsed") {
        let Value::Array(list) = v else {
            return bad("authors_parsed".into(), "an array", v);
        };
        for (i, parts) in list.iter().enumerate() {
            let Value::Array(parts) = parts else {
                return bad(format!("authors_parsed[{i}]"), "an array", parts);
            };
            if let Some((j, p)) = parts.iter().enumerate().find(|(_, p)| !p.is_string()) {
                return bad(format!("authors_parsed[{i}][{j}]"), "a string", p);
            }
        }
    }
    if let Some(v) = present("versions") {
        let Value::Array(list) = v else {
            return bad("versions".into(), "an array", v);
        };
        for (i, version) in list.iter().enumerate() {
            let Value::Object(fields) = version else {
                return bad(format!("versions[{i}]"), "an object", version);
            };
            for key in ["version", "created"] {
                if let Some(f) = fields.get(key).filter(|f| !f.is_null() && !f.is_string()) {
                    return bad(format!("versions[{i}].{key}"), "a string", f);
                }
            }
        }
    }
    json_message(err)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::fuzzing::{config, json_mutated, mutated, sample};

    const SAMPLE: &str =
        "arxiv/kaggle-snapshot/arxiv-metadata-oai-snapshot-first200-wanng-ide.jsonl";

    fn check_err(line: &str, want: &str) {
        match parse_line(line.as_bytes()) {
            Ok(r) => panic!("{line} parsed as {r:?}"),
            Err(message) => assert!(
                message.contains(want),
                "{line}: {message:?} does not say {want:?}"
            ),
        }
    }

    #[test]
    fn errors_name_the_field() {
        check_err(r#"{"title": "x"}"#, "`id`: missing");
        check_err(r#"{"id": null}"#, "`id`: missing");
        check_err(r#"{"id": "nope"}"#, "`id`: not an arXiv id");
        check_err(
            r#"{"id": 704.0001}"#,
            "`id`: expected a string, got a number",
        );
        check_err(
            r#"{"id": "0704.0001", "title": ["x"]}"#,
            "`title`: expected a string, got an array",
        );
        check_err(
            r#"{"id": "0704.0001", "authors_parsed": [["a", 1]]}"#,
            "`authors_parsed[0][1]`",
        );
        check_err(
            r#"{"id": "0704.0001", "versions": [{"version": "v1", "created": 5}]}"#,
            "`versions[0].created`",
        );
        check_err(
            r#"{"id": "0704.0001", "versions": [{"version": "v1", "created": "May 5th"}]}"#,
            "`versions[0].created`: not an RFC 2822",
        );
        check_err(
            r#"{"id": "0704.0001", "versions": [{"version": "one", "created": null}]}"#,
            "`versions[0].version`",
        );
        check_err(r#"{"id": "0704.0001", "#, "not JSON (column");
        check_err("[1]", "expected a JSON object, got an array");
    }

    #[test]
    fn falls_back_to_the_author_string_and_old_style_ids() {
        let r = parse_line(br#"{"id": "math/0309136", "authors": "A. One, B. Two and C. Three", "categories": "math.GT math.AG"}"#)
            .expect("parses");
        assert_eq!(r.paper.id.as_str(), "math/0309136");
        assert_eq!(r.paper.biblio.authors, ["A. One", "B. Two", "C. Three"]);
        assert_eq!(r.paper.biblio.primary_category.as_deref(), Some("math.GT"));
        assert_eq!(r.paper.biblio.version, None);
    }

    #[test]
    fn streams_lines_skipping_blanks_and_reporting_bad_ones() {
        let input = "\n{\"id\": \"0704.0001\"}\n  \n{oops\n{\"id\": \"0704.0002\"}";
        let items: Vec<_> = KaggleLines::new(input.as_bytes(), "x.jsonl").collect();
        assert_eq!(items.len(), 3);
        assert!(matches!(&items[1], Ok(Parsed::Problem(p)) if p.location == Location::Line(4)));
        assert!(matches!(&items[2], Ok(Parsed::Record(r)) if r.paper.id.as_str() == "0704.0002"));
    }

    #[test]
    fn an_io_error_ends_the_stream() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk on fire"))
            }
        }
        let mut lines = KaggleLines::new(io::BufReader::new(Failing), "x.jsonl");
        assert!(matches!(lines.next(), Some(Err(ImportError::Io { .. }))));
        assert!(lines.next().is_none());
    }

    /// The first lines of the sample, each a JSON object.
    fn sample_lines(n: usize) -> Vec<Value> {
        sample(SAMPLE)
            .split(|&b| b == b'\n')
            .take(n)
            .map(|l| serde_json::from_slice(l).expect("valid line"))
            .collect()
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn mutated_fields_never_panic(line in json_mutated(Value::Array(sample_lines(3)))) {
            // One mutated array of lines, written back as JSON lines.
            let Value::Array(lines) = line else { return Ok(()) };
            for l in lines {
                let _ = parse_line(&serde_json::to_vec(&l).expect("serialises"));
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            for item in KaggleLines::new(&bytes[..], "x") {
                let _ = item;
            }
        }

        #[test]
        fn mutated_lines_never_panic(bytes in mutated(sample(SAMPLE).split(|&b| b == b'\n').take(4).collect::<Vec<_>>().join(&b'\n'))) {
            for item in KaggleLines::new(&bytes[..], "x") {
                let _ = item;
            }
        }
    }
}
