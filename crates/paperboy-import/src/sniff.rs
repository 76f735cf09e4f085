//! Which format a file is, from its first bytes (and, for a JSON object that
//! is not JSON lines, from the whole document).

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

use crate::Format;

/// What the first bytes say.
#[derive(Debug, PartialEq, Eq)]
pub enum Guess {
    Known(Format),
    /// A JSON object that is not JSON lines: an HF wrapper or PaperExplorer.
    /// Only the whole document tells which.
    JsonObject,
    Unknown,
}

/// How many leading lines may be tried as Kaggle objects: a bad first line
/// should not turn a 4 GB file into "read it all to find out".
const PROBE_LINES: usize = 5;

/// Guesses from the head of a file (after decompression).
pub fn guess(head: &[u8]) -> Guess {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let body = &head[start..];
    match body.first() {
        Some(b'<') => match xml_root_name(body) {
            Some("feed") => Guess::Known(Format::ArxivAtom),
            Some("OAI-PMH") => Guess::Known(Format::OaiPmh),
            _ => Guess::Unknown,
        },
        Some(b'[') => Guess::Known(Format::HfDaily),
        Some(b'{') if looks_like_kaggle_lines(body) => Guess::Known(Format::KaggleJsonl),
        Some(b'{') => Guess::JsonObject,
        _ => Guess::Unknown,
    }
}

/// Tells an HF wrapper (`{"status", "date", "data": [...]}`) from
/// PaperExplorer (`{id: {url, title, abstract, ...}}`) in a whole document.
pub fn json_object(doc: &[u8]) -> Option<Format> {
    let doc = doc.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(doc);
    match serde_json::from_slice::<Value>(doc) {
        Ok(Value::Object(map)) => {
            if map.get("data").is_some_and(Value::is_array) {
                return Some(Format::HfDaily);
            }
            let is_paper = |v: &Value| {
                v.as_object().is_some_and(|o| {
                    ["url", "title", "abstract"]
                        .iter()
                        .any(|k| o.contains_key(*k))
                })
            };
            map.values().any(is_paper).then_some(Format::PaperExplorer)
        }
        Ok(_) => None,
        // Broken JSON: go by the first key so that the parser can say where
        // it breaks instead of "unknown format".
        Err(_) => match first_key(doc)?.as_str() {
            "status" | "date" | "count" | "data" => Some(Format::HfDaily),
            key => paperboy_core::ArxivId::parse(key)
                .is_ok()
                .then_some(Format::PaperExplorer),
        },
    }
}

/// The local name of the first element, skipping the XML declaration,
/// processing instructions, comments and a doctype.
fn xml_root_name(mut s: &[u8]) -> Option<&str> {
    loop {
        let start = s.iter().position(|b| !b.is_ascii_whitespace())?;
        s = &s[start..];
        let skip_past = |s: &[u8], end: &[u8]| {
            s.windows(end.len())
                .position(|w| w == end)
                .map(|i| i + end.len())
        };
        if s.starts_with(b"<?") {
            s = &s[skip_past(s, b"?>")?..];
        } else if s.starts_with(b"<!--") {
            s = &s[skip_past(s, b"-->")?..];
        } else if s.starts_with(b"<!") {
            s = &s[skip_past(s, b">")?..];
        } else if let Some(rest) = s.strip_prefix(b"<") {
            let len = rest
                .iter()
                .position(|b| b.is_ascii_whitespace() || matches!(b, b'>' | b'/'))
                .unwrap_or(rest.len());
            let name = std::str::from_utf8(&rest[..len]).ok()?;
            return Some(name.rsplit(':').next().unwrap_or(name));
        } else {
            return None;
        }
    }
}

/// Whether one of the first lines is a whole JSON object with `id` and
/// `abstract` or `authors`: a Kaggle snapshot line.
fn looks_like_kaggle_lines(head: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Probe {
        id: Option<IgnoredAny>,
        #[serde(rename = "abstract")]
        abstract_text: Option<IgnoredAny>,
        authors: Option<IgnoredAny>,
    }
    head.split(|&b| b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .take(PROBE_LINES)
        .any(|line| {
            serde_json::from_slice::<Probe>(line)
                .is_ok_and(|p| p.id.is_some() && (p.abstract_text.is_some() || p.authors.is_some()))
        })
}

/// The first key of a JSON object, read without parsing the rest.
fn first_key(doc: &[u8]) -> Option<String> {
    let open = doc.iter().position(|&b| b == b'{')?;
    let rest = &doc[open + 1..];
    let quote = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    if rest[quote] != b'"' {
        return None;
    }
    let mut end = quote + 1;
    while end < rest.len() && rest[end] != b'"' {
        end += if rest[end] == b'\\' { 2 } else { 1 };
    }
    serde_json::from_slice::<String>(rest.get(quote..=end)?).ok()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn guesses() {
        let cases: [(&[u8], Guess); 12] = [
            (
                b"<?xml version='1.0'?>\n<!-- hi -->\n<feed xmlns='x'>",
                Guess::Known(Format::ArxivAtom),
            ),
            (
                b"\xEF\xBB\xBF<OAI-PMH xmlns='x'>",
                Guess::Known(Format::OaiPmh),
            ),
            (b"<oai:OAI-PMH>", Guess::Known(Format::OaiPmh)),
            (b"<html>", Guess::Unknown),
            (b"  [\n  {\"paper\": {}}", Guess::Known(Format::HfDaily)),
            (
                b"{\"id\":\"0704.0001\",\"abstract\":\"x\"}\n{\"id\":",
                Guess::Known(Format::KaggleJsonl),
            ),
            (
                b"{bad line}\n{\"id\":\"0704.0002\",\"authors\":\"A\"}\n",
                Guess::Known(Format::KaggleJsonl),
            ),
            (
                b"{\"id\":\"0704.0001\",\"abstract\":\"unfinished",
                Guess::JsonObject,
            ),
            (b"{\n  \"status\": \"success\"", Guess::JsonObject),
            (b"{\"2312.17653\": {\"url\": \"x\"}}", Guess::JsonObject),
            (b"hello", Guess::Unknown),
            (b"", Guess::Unknown),
        ];
        for (head, want) in cases {
            assert_eq!(guess(head), want, "{:?}", String::from_utf8_lossy(head));
        }
    }

    #[test]
    fn json_objects() {
        assert_eq!(
            json_object(br#"{"status": "success", "date": "2025-01-10", "data": []}"#),
            Some(Format::HfDaily)
        );
        assert_eq!(
            json_object(br#"{"2312.17653": {"url": "u", "title": "t"}}"#),
            Some(Format::PaperExplorer)
        );
        assert_eq!(
            json_object(br#"{"status": "success", "data": [ broken"#),
            Some(Format::HfDaily)
        );
        assert_eq!(
            json_object(br#"{"2312.17653": {"url": broken"#),
            Some(Format::PaperExplorer)
        );
        assert_eq!(json_object(br#"{"name": "something else"}"#), None);
        assert_eq!(json_object(br#"{"na\"me": broken"#), None);
    }

    proptest! {
        #![proptest_config(crate::fuzzing::config())]

        #[test]
        fn never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = guess(&bytes);
            let _ = json_object(&bytes);
        }

        #[test]
        fn never_panics_on_likely_heads(s in "[<>?!\\-{}\\[\\]\":a-zA-Z \n\\\\]{0,80}") {
            let _ = guess(s.as_bytes());
            let _ = json_object(s.as_bytes());
        }
    }
}
