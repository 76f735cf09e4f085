//! `open` on files written for the test: bad lines, bad elements, gzip,
//! unknown formats, missing files.

use std::io::Write;
use std::path::{Path, PathBuf};

use paperboy_import::{Format, ImportError, Location, ParseOptions};
use tempfile::TempDir;

use crate::{data, split};

const KAGGLE: &str = "arxiv/kaggle-snapshot/arxiv-metadata-oai-snapshot-first200-wanng-ide.jsonl";

fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("writable temp dir");
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("in memory");
    enc.finish().expect("in memory")
}

fn open(path: &Path) -> Result<paperboy_import::FileRecords, ImportError> {
    paperboy_import::open(path, None, &ParseOptions::default())
}

#[test]
fn a_bad_kaggle_line_is_reported_with_its_number_and_the_rest_goes_in() {
    let sample = std::fs::read_to_string(data(KAGGLE)).expect("readable");
    let mut lines: Vec<&str> = sample.lines().take(10).collect();
    lines.insert(
        5,
        r#"{"id": "0704.9999", "versions": [{"version": "v1", "created": 17}]}"#,
    );
    lines.insert(3, "");
    // Line 7 (1-based) is the bad one, after the blank line 4.
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "kaggle.jsonl", lines.join("\n").as_bytes());
    let file = open(&path).expect("opens");
    assert_eq!(file.format, Format::KaggleJsonl);
    let (records, problems) = split(file.iter);
    assert_eq!(records.len(), 10);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].location, Location::Line(7));
    assert!(
        problems[0].message.contains("`versions[0].created`"),
        "{}",
        problems[0].message
    );
}

#[test]
fn an_hf_element_without_an_id_is_reported_at_its_index() {
    let day = std::fs::read(data("hf-daily-papers/2024-06-13.json")).expect("readable");
    let mut items: Vec<serde_json::Value> = serde_json::from_slice(&day).expect("an array");
    let n = items.len();
    if let Some(paper) = items[2].get_mut("paper").and_then(|p| p.as_object_mut()) {
        paper.remove("id");
    }
    let dir = TempDir::new().expect("temp dir");
    let path = write(
        &dir,
        "2024-06-13.json",
        &serde_json::to_vec(&items).expect("serialises"),
    );
    let (records, problems) = split(open(&path).expect("opens").iter);
    assert_eq!((records.len(), problems.len()), (n - 1, 1));
    assert_eq!(problems[0].location, Location::Entry(2));
    assert!(
        problems[0].message.contains("`paper.id`: missing"),
        "{}",
        problems[0].message
    );
}

#[test]
fn gzip_round_trips() {
    let dir = TempDir::new().expect("temp dir");
    for (source, name) in [
        (KAGGLE, "kaggle.jsonl.gz"),
        ("hf-daily-papers/2024-12-11.json", "2024-12-11.json.gz"),
    ] {
        let plain = std::fs::read(data(source)).expect("readable");
        let (plain_format, plain_records, _) = crate::open_detected(source);
        let path = write(&dir, name, &gzip(&plain));
        let file = open(&path).expect("opens");
        assert_eq!(file.format, plain_format, "{name}");
        let (records, problems) = split(file.iter);
        assert!(problems.is_empty(), "{name}");
        assert_eq!(
            records, plain_records,
            "{name}: gzip changes nothing, the day comes from the name"
        );
    }
}

#[test]
fn a_truncated_gzip_is_an_io_error_after_the_records_before_it() {
    let dir = TempDir::new().expect("temp dir");
    let whole = gzip(&std::fs::read(data(KAGGLE)).expect("readable"));
    let path = write(&dir, "cut.jsonl.gz", &whole[..whole.len() / 2]);
    let items: Vec<_> = open(&path).expect("opens").iter.collect();
    assert!(
        matches!(items.last(), Some(Err(ImportError::Io { .. }))),
        "{:?}",
        items.last()
    );
    assert!(items.len() > 20, "records before the cut come through");
}

#[test]
fn unknown_formats_and_missing_files() {
    let dir = TempDir::new().expect("temp dir");
    for (name, bytes) in [
        ("notes.txt", &b"hello, world\n"[..]),
        ("page.html", b"<!DOCTYPE html><html><body/></html>"),
        ("other.json", br#"{"name": "not a paper list"}"#),
        ("empty.json", b""),
    ] {
        let path = write(&dir, name, bytes);
        assert!(
            matches!(open(&path), Err(ImportError::UnknownFormat { .. })),
            "{name}"
        );
    }
    let missing = dir.path().join("missing.json");
    match open(&missing) {
        Err(ImportError::Io { path, .. }) => assert_eq!(path, missing),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a missing file opened"),
    }
}

#[test]
fn a_given_format_skips_detection_and_a_broken_document_is_malformed() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(
        &dir,
        "2024-05-27.json",
        b"[\n  {\"paper\": {\"id\": \"2405.15738\"}},\n  oops\n]",
    );
    match paperboy_import::open(&path, Some(Format::HfDaily), &ParseOptions::default()) {
        Err(ImportError::Malformed { location, .. }) => assert_eq!(location, Location::Line(3)),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("opened"),
    }
    // A wrapped HF file cut short is still recognised, and says where it breaks.
    let path = write(
        &dir,
        "2025-01-10.json",
        br#"{"status": "success", "date": "2025-01-10", "data": ["#,
    );
    assert!(matches!(open(&path), Err(ImportError::Malformed { .. })));
}
