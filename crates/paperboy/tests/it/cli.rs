//! The command line as a user meets it: output, problems, exit codes.

use std::io::Write;

use crate::{data_dir, paperboy, stats, stderr, stdout};

fn kaggle_sample() -> std::path::PathBuf {
    data_dir().join("arxiv/kaggle-snapshot/arxiv-metadata-oai-snapshot-first200-wanng-ide.jsonl")
}

#[test]
fn import_prints_a_summary_and_stats_counts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = paperboy(&data, &["import", kaggle_sample().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("200 records: 200 added, 0 updated, 0 unchanged, 0 skipped"),
        "{}",
        stdout(&out)
    );
    assert_eq!(stats(&data)["papers"], 200);

    let out = paperboy(&data, &["stats"]);
    let text = stdout(&out);
    assert!(text.contains("papers:        200"), "{text}");
    assert!(text.contains("(no daily entries)"), "{text}");

    let again = paperboy(&data, &["import", kaggle_sample().to_str().unwrap()]);
    assert!(
        stdout(&again).contains("0 added, 0 updated, 200 unchanged"),
        "{}",
        stdout(&again)
    );
}

#[test]
fn bad_records_are_reported_with_file_and_line_and_the_rest_goes_in() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = std::fs::read_to_string(kaggle_sample())
        .unwrap()
        .lines()
        .take(5)
        .map(String::from)
        .collect();
    let path = dir.path().join("mixed.jsonl");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "{}", lines[0]).unwrap();
    writeln!(
        f,
        "{{\"id\": \"not an id\", \"title\": \"x\", \"abstract\": \"y\"}}"
    )
    .unwrap();
    writeln!(f, "{}", lines[1]).unwrap();
    writeln!(f, "{{broken json").unwrap();
    writeln!(f, "{}", lines[2]).unwrap();
    drop(f);

    let data = dir.path().join("data");
    let out = paperboy(
        &data,
        &["import", "--format", "kaggle", path.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "record problems do not fail the import: {}",
        stderr(&out)
    );
    let err = stderr(&out);
    let shown = path.display().to_string();
    assert!(
        err.contains(&format!("{shown}:2: ")),
        "line 2 reported: {err}"
    );
    assert!(
        err.contains(&format!("{shown}:4: ")),
        "line 4 reported: {err}"
    );
    assert!(
        stdout(&out).contains("3 added, 0 updated, 0 unchanged, 2 skipped"),
        "{}",
        stdout(&out)
    );
    assert_eq!(stats(&data)["papers"], 3);
}

#[test]
fn unreadable_and_unknown_files_fail_clearly_without_losing_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let unknown = dir.path().join("notes.txt");
    std::fs::write(&unknown, "just some words\n").unwrap();
    let missing = dir.path().join("missing.json");
    let data = dir.path().join("data");
    let out = paperboy(
        &data,
        &[
            "import",
            unknown.to_str().unwrap(),
            missing.to_str().unwrap(),
            kaggle_sample().to_str().unwrap(),
        ],
    );
    assert!(
        !out.status.success(),
        "a failed file makes the exit code non-zero"
    );
    let err = stderr(&out);
    assert!(
        err.contains("notes.txt") && err.contains("unknown format"),
        "{err}"
    );
    assert!(
        err.contains("missing.json") && err.contains("cannot read"),
        "{err}"
    );
    assert!(err.contains("2 of 3 files could not be imported"), "{err}");
    assert_eq!(stats(&data)["papers"], 200, "the good file still went in");

    let out = paperboy(
        &data,
        &[
            "import",
            "--format",
            "bogus",
            kaggle_sample().to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("unknown format name \"bogus\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn every_source_format_imports_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data_dir();
    let files = [
        d.join("paperexplorer-papers.json"),
        d.join("arxiv/atom-api-arxiv.py-fixtures/xml/id_2104.12255v1_s0_m100_6ae69987ffe1.xml"),
        d.join("arxiv/oai-pmh/arXivRaw-mikesaelim/ListRecordsResponse.xml"),
        d.join("arxiv/oai-pmh/arXiv-hepcrawl/functional/arxiv-single.xml"),
        d.join("hf-daily-papers/2025-01-10.json"),
    ];
    let args: Vec<&str> = std::iter::once("import")
        .chain(files.iter().map(|p| p.to_str().unwrap()))
        .collect();
    let out = paperboy(&data, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(" 0 skipped"), "{}", stdout(&out));
    let s = stats(&data);
    assert!(s["papers"].as_u64().unwrap() > 753 + 1 + 1 + 9, "{s}");
    assert_eq!(s["days"], 1);
    assert_eq!(s["first_day"], "2025-01-10");
}

#[test]
fn the_arxiv_error_feed_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let feed =
        data_dir().join("arxiv/atom-api-arxiv.py-fixtures/xml/id_abc_s0_m100_b79c8dcf6bc3.xml");
    let out = paperboy(
        &dir.path().join("data"),
        &["import", feed.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("id_abc_s0_m100_b79c8dcf6bc3.xml: the arXiv API answered with an error"),
        "names the file: {err}"
    );
    assert!(err.contains("incorrect id format for abc"), "{err}");
}

#[test]
fn a_bad_config_file_is_reported_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("paperboy.toml");
    std::fs::write(&config, "[import]\nbatch_size = \"many\"\n").unwrap();
    let out = paperboy(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap(), "stats"],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("paperboy.toml") && err.contains("batch_size"),
        "{err}"
    );
}

/// `bench backends` takes `--database-url` after the subcommand and checks
/// its arguments before it touches a database (nothing is timed here).
#[test]
fn bench_backends_needs_a_database_and_checks_its_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_paperboy"))
            .arg("--data")
            .arg(dir.path())
            .args(args)
            .env_remove("PAPERBOY_CONFIG")
            .env_remove("PAPERBOY_DATABASE_URL")
            .env("PAPERBOY_LOG", "warn")
            .output()
            .expect("run paperboy")
    };
    let out = run(&["bench", "backends", "--secs", "1"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--database-url"), "{}", stderr(&out));

    // Nothing listens on port 1: the check comes first.
    let out = run(&[
        "bench",
        "backends",
        "--database-url",
        "postgres://nobody@127.0.0.1:1/none",
        "--connections",
        "0",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--connections must be at least 1"),
        "{}",
        stderr(&out)
    );
}
