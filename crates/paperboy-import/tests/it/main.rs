//! Integration tests of paperboy-import: every parser against the real files
//! in `shared/data`, and `open` against files written on the fly.

mod atom;
mod bad_input;
mod hf;
mod kaggle;
mod oai;
mod paperexplorer;

use std::path::PathBuf;

use paperboy_core::SourceRecord;
use paperboy_import::{Format, ImportError, ParseOptions, Parsed, Problem};

/// A path in the shared data folder, a sibling of the repository.
pub fn data(relative: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")).join(relative)
}

/// Records and problems of a parse; an `Err` fails the test.
pub fn split(
    items: impl IntoIterator<Item = Result<Parsed, ImportError>>,
) -> (Vec<SourceRecord>, Vec<Problem>) {
    let mut records = Vec::new();
    let mut problems = Vec::new();
    for item in items {
        match item {
            Ok(Parsed::Record(r)) => records.push(*r),
            Ok(Parsed::Problem(p)) => problems.push(p),
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    (records, problems)
}

/// `open` with format detection, then `split`.
pub fn open_detected(relative: &str) -> (Format, Vec<SourceRecord>, Vec<Problem>) {
    let path = data(relative);
    let file = paperboy_import::open(&path, None, &ParseOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (records, problems) = split(file.iter);
    (file.format, records, problems)
}

/// The record of that id.
pub fn find<'a>(records: &'a [SourceRecord], id: &str) -> &'a SourceRecord {
    records
        .iter()
        .find(|r| r.paper.id.as_str() == id)
        .unwrap_or_else(|| panic!("no record {id}"))
}

/// A time written as RFC 3339, for comparisons.
pub fn time(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|e| panic!("{s}: {e}"))
}
