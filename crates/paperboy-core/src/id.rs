//! arXiv identifiers: parsing the many spellings found in the wild into one
//! canonical, versionless key.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An arXiv identifier without version: `2305.03048` or `hep-th/9901001`.
///
/// Only [`ArxivId::parse`] builds one, so every value is valid and canonical:
/// new-style ids are `YYMM.NNNN(N)`, old-style ids are `archive/YYMMNNN` with
/// the archive in lower case and any subject class (`math.GT/…`) dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ArxivId(String);

/// Why a string is not an arXiv id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an arXiv id: {input:?} ({reason})")]
pub struct IdError {
    pub input: String,
    pub reason: &'static str,
}

/// An id as it was written, split into the canonical id and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionedId {
    pub id: ArxivId,
    /// `Some(n)` when the input named version `vN`.
    pub version: Option<u32>,
}

impl ArxivId {
    /// Parses an id in any common spelling: bare (`2104.12255`), versioned
    /// (`2104.12255v1`), prefixed (`arXiv:…`, `oai:arXiv.org:…`), or an abs/pdf
    /// URL; old style (`hep-th/9901001`, `math.GT/0309136v2`).
    pub fn parse(input: &str) -> Result<VersionedId, IdError> {
        let err = |reason| IdError {
            input: input.to_string(),
            reason,
        };
        let mut s = input.trim();
        for prefix in [
            "https://arxiv.org/abs/",
            "http://arxiv.org/abs/",
            "https://arxiv.org/pdf/",
            "http://arxiv.org/pdf/",
            "https://export.arxiv.org/abs/",
            "http://export.arxiv.org/abs/",
            "oai:arXiv.org:",
            "arXiv:",
            "arxiv:",
        ] {
            if let Some(rest) = s.strip_prefix(prefix) {
                s = rest;
                break;
            }
        }
        s = s.strip_suffix(".pdf").unwrap_or(s);
        if s.is_empty() {
            return Err(err("empty"));
        }
        let (base, version) = split_version(s).ok_or_else(|| err("bad version suffix"))?;
        let canonical = if let Some((archive, number)) = base.split_once('/') {
            parse_old_style(archive, number).ok_or_else(|| err("bad old-style id"))?
        } else {
            parse_new_style(base).ok_or_else(|| err("expected YYMM.NNNNN"))?
        };
        Ok(VersionedId {
            id: ArxivId(canonical),
            version,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The arXiv abstract page of this paper.
    pub fn abs_url(&self) -> String {
        format!("https://arxiv.org/abs/{}", self.0)
    }

    /// The PDF of the latest version.
    pub fn pdf_url(&self) -> String {
        format!("https://arxiv.org/pdf/{}", self.0)
    }
}

/// Splits `…vN` into the base and `Some(N)`; `None` when a `v` suffix is
/// present but malformed (`v`, `v0`, `vx`).
fn split_version(s: &str) -> Option<(&str, Option<u32>)> {
    let Some(pos) = s.rfind('v') else {
        return Some((s, None));
    };
    let digits = &s[pos + 1..];
    // `v` inside an old-style archive name (`solv-int/…`) is not a version.
    if s[pos..].contains('/') {
        return Some((s, None));
    }
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u32 = digits.parse().ok()?;
    (n >= 1).then_some((&s[..pos], Some(n)))
}

fn valid_yymm(yymm: &str) -> bool {
    yymm.len() == 4
        && yymm.bytes().all(|b| b.is_ascii_digit())
        && matches!(yymm[2..].parse::<u32>(), Ok(1..=12))
}

fn parse_new_style(s: &str) -> Option<String> {
    let (yymm, number) = s.split_once('.')?;
    let ok = valid_yymm(yymm)
        && matches!(number.len(), 4 | 5)
        && number.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| s.to_string())
}

fn parse_old_style(archive: &str, number: &str) -> Option<String> {
    // The subject class (`math.GT`) is an alias: the archive alone names the paper.
    let archive = archive.split('.').next()?.to_ascii_lowercase();
    let ok = !archive.is_empty()
        && archive.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        && number.len() == 7
        && number.bytes().all(|b| b.is_ascii_digit())
        && valid_yymm(&number[..4]);
    ok.then(|| format!("{archive}/{number}"))
}

impl fmt::Display for ArxivId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ArxivId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        let parsed = ArxivId::parse(&s)?;
        match parsed.version {
            None => Ok(parsed.id),
            Some(_) => Err(IdError {
                input: s,
                reason: "an id key carries no version",
            }),
        }
    }
}

impl From<ArxivId> for String {
    fn from(id: ArxivId) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expect: Option<(&str, Option<u32>)>) {
        let got = ArxivId::parse(input).ok().map(|v| (v.id.0, v.version));
        let want = expect.map(|(id, v)| (id.to_string(), v));
        assert_eq!(got, want, "input {input:?}");
    }

    #[test]
    fn parses_the_spellings_seen_in_sources() {
        check("2104.12255", Some(("2104.12255", None)));
        check("2104.12255v1", Some(("2104.12255", Some(1))));
        check("0704.0001", Some(("0704.0001", None)));
        check(" arXiv:2305.03048v12 ", Some(("2305.03048", Some(12))));
        check("oai:arXiv.org:0704.0471", Some(("0704.0471", None)));
        check(
            "http://arxiv.org/abs/2104.12255v1",
            Some(("2104.12255", Some(1))),
        );
        check(
            "https://arxiv.org/pdf/2104.12255v2.pdf",
            Some(("2104.12255", Some(2))),
        );
        check("hep-th/9901001", Some(("hep-th/9901001", None)));
        check("hep-th/9901001v3", Some(("hep-th/9901001", Some(3))));
        check("math.GT/0309136", Some(("math/0309136", None)));
        check("solv-int/9901001", Some(("solv-int/9901001", None)));
        check(
            "http://arxiv.org/abs/quant-ph/0201082v1",
            Some(("quant-ph/0201082", Some(1))),
        );
    }

    #[test]
    fn rejects_what_is_not_an_id() {
        for bad in [
            "",
            "abc",
            "0000.0000",
            "2113.00001",
            "2104.123",
            "2104.123456",
            "2104.12255v",
            "2104.12255v0",
            "2104.12255vx",
            "hep-th/99010",
            "HEP TH/9901001",
            "/9901001",
        ] {
            check(bad, None);
        }
    }

    #[test]
    fn serde_round_trip_refuses_versions() {
        let id: ArxivId = serde_json::from_str("\"2104.12255\"").unwrap();
        assert_eq!(id.as_str(), "2104.12255");
        assert!(serde_json::from_str::<ArxivId>("\"2104.12255v2\"").is_err());
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = ArxivId::parse(&s);
        }

        #[test]
        fn canonical_ids_parse_to_themselves(y in 7u32..=99, m in 1u32..=12, n in 0u32..100_000, v in 1u32..50) {
            let id = format!("{y:02}{m:02}.{n:05}");
            let parsed = ArxivId::parse(&format!("{id}v{v}")).unwrap();
            proptest::prop_assert_eq!(parsed.id.as_str(), id.as_str());
            proptest::prop_assert_eq!(parsed.version, Some(v));
        }
    }
}
