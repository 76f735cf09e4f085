//! All 580 real HF daily-papers files: counts, idempotency.

use paperboy::import::{ImportRequest, ImportSummary, import_files};
use paperboy::progress::Progress;
use paperboy_import::ParseOptions;
use paperboy_store::{SqliteStore, Store};

use crate::data_dir;

fn import_all(store: &SqliteStore, paths: &[std::path::PathBuf]) -> ImportSummary {
    let request = ImportRequest {
        paths,
        format: None,
        options: ParseOptions::default(),
        batch_size: 1000,
    };
    import_files(store, request, &mut Progress::Silent).expect("import runs")
}

#[test]
fn all_hf_files_import_exactly_and_a_second_run_changes_nothing() {
    let mut paths: Vec<_> = std::fs::read_dir(data_dir().join("hf-daily-papers"))
        .expect("shared HF data")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 580);

    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("paperboy.db")).unwrap();
    let first = import_all(&store, &paths);
    assert_eq!(first.skipped, 0, "no problem reported: {first}");
    assert!(first.failed_files.is_empty(), "{:?}", first.failed_files);
    assert_eq!(first.records, 9_881);
    assert_eq!(first.added, 9_877);
    assert_eq!(first.entries_added, 9_881);

    let stats = store.stats().unwrap();
    assert_eq!(stats.papers, 9_877);
    assert_eq!(stats.daily_entries, 9_881);
    assert_eq!(stats.days, 580);
    assert_eq!(stats.first_day.unwrap().to_string(), "2024-05-27");
    assert_eq!(stats.last_day.unwrap().to_string(), "2026-08-21");

    let second = import_all(&store, &paths);
    assert_eq!(
        (second.added, second.updated, second.unchanged),
        (0, 0, 9_881),
        "{second}"
    );
    assert_eq!(second.entries_added + second.entries_updated, 0);
    assert_eq!(store.stats().unwrap(), stats);

    // The curation day is the file's day even when HF's timestamp is the
    // evening before: 2024-05-27's list holds exactly that file's papers.
    let day = "2024-05-27".parse().unwrap();
    let listed = store.day_entries(day).unwrap();
    let file: Vec<serde_json::Value> = serde_json::from_slice(
        &std::fs::read(data_dir().join("hf-daily-papers/2024-05-27.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(listed.len(), file.len());
    let (_, top) = &listed[0];
    let max_upvotes = file
        .iter()
        .map(|e| e["paper"]["upvotes"].as_u64().unwrap())
        .max()
        .unwrap();
    assert_eq!(
        top.community.upvotes,
        Some(max_upvotes as u32),
        "the day is ranked by upvotes"
    );
}
