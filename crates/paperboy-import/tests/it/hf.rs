//! All 580 HF daily_papers files, through `open` with format detection.

use std::collections::{BTreeSet, HashSet};

use chrono::NaiveDate;
use paperboy_import::{Format, ParseOptions, hf};

use crate::{data, find, open_detected, split, time};

#[test]
fn every_daily_file_parses_without_problems() {
    let mut files: Vec<_> = std::fs::read_dir(data("hf-daily-papers"))
        .expect("hf-daily-papers is there")
        .map(|e| {
            e.expect("readable dir")
                .file_name()
                .into_string()
                .expect("utf-8 name")
        })
        .filter(|n| n.ends_with(".json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 580);

    let (mut entries, mut evening_before) = (0usize, 0usize);
    let mut ids = HashSet::new();
    let mut days = BTreeSet::new();
    for name in &files {
        let (format, records, problems) = open_detected(&format!("hf-daily-papers/{name}"));
        assert_eq!(format, Format::HfDaily, "{name}");
        assert!(problems.is_empty(), "{name}: {problems:?}");
        let file_day = NaiveDate::parse_from_str(&name[..10], "%Y-%m-%d").expect("dated name");
        for (i, r) in records.iter().enumerate() {
            let entry = r.entry.as_ref().expect("HF records have entries");
            assert_eq!(entry.day, file_day, "{name}");
            assert_eq!(entry.position as usize, i, "{name}");
            assert_eq!(entry.paper_id, r.paper.id);
            assert_eq!(
                r.paper.community.observed_at,
                Some(file_day.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
            );
            assert!(
                !r.paper.biblio.title.is_empty() && !r.paper.biblio.title.contains('\n'),
                "{name}: {}",
                r.paper.id
            );
            assert!(!r.paper.biblio.authors.is_empty(), "{name}: {}", r.paper.id);
            let submitted = entry
                .submitted_at
                .expect("every entry has a submission time");
            assert!(
                submitted.date_naive() <= file_day,
                "{name}: {} submitted after its day",
                r.paper.id
            );
            if submitted.date_naive() < file_day {
                evening_before += 1;
            }
            ids.insert(r.paper.id.clone());
            days.insert(entry.day);
            entries += 1;
        }
    }
    assert_eq!(entries, 9_881);
    assert_eq!(ids.len(), 9_877);
    assert_eq!(days.len(), 580);
    assert_eq!(evening_before, 534);
}

#[test]
fn a_python_repr_file() {
    let (_, records, problems) = open_detected("hf-daily-papers/2024-12-11.json");
    assert!(problems.is_empty());
    assert_eq!(records.len(), 26);
    let r = &records[0];
    assert_eq!(r.paper.id.as_str(), "2412.07730");
    assert_eq!(
        r.paper.biblio.title,
        "STIV: Scalable Text and Image Conditioned Video Generation"
    );
    assert_eq!(r.paper.biblio.authors.len(), 17);
    assert_eq!(
        r.paper.biblio.authors[..3],
        ["Zongyu Lin", "Wei Liu", "Chen Chen"]
    );
    assert_eq!(r.paper.biblio.published, Some(time("2024-12-10T18:27:06Z")));
    assert!(r.paper.biblio.abstract_text.starts_with(
        "The field of video generation has made remarkable advancements, yet there remain"
    ));
    assert_eq!(r.paper.community.upvotes, Some(54));
    let entry = r.entry.as_ref().expect("entry");
    assert_eq!(entry.submitted_at, Some(time("2024-12-11T01:02:25.688Z")));
    assert_eq!(entry.num_comments, Some(2));
    assert_eq!(
        entry.submitter.as_ref().map(|s| s.name.as_str()),
        Some("yyf86")
    );
    // A repr string with an escaped backslash: `\\url` in the repr is `\url`.
    let codearena = find(&records, "2412.05210");
    assert!(
        codearena
            .paper
            .biblio
            .abstract_text
            .contains("human preference alignment.\\url{https://"),
        "{}",
        codearena.paper.biblio.abstract_text
    );
}

#[test]
fn the_wrapped_file() {
    let (format, records, problems) = open_detected("hf-daily-papers/2025-01-10.json");
    assert_eq!(
        (format, problems.len(), records.len()),
        (Format::HfDaily, 0, 9)
    );
    let r = &records[0];
    assert_eq!(r.paper.id.as_str(), "2501.05441");
    assert_eq!(
        r.paper.biblio.title,
        "The GAN is dead; long live the GAN! A Modern GAN Baseline"
    );
    assert_eq!(
        r.paper.biblio.authors[..3],
        ["Yiwen Huang", "Aaron Gokaslan", "Volodymyr Kuleshov"]
    );
    assert_eq!(r.paper.community.upvotes, Some(51));
    let entry = r.entry.as_ref().expect("entry");
    assert_eq!(entry.day.to_string(), "2025-01-10");
    assert_eq!(
        entry.submitted_at,
        Some(time("2025-01-09T22:24:36.430Z")),
        "the evening before"
    );
    assert_eq!(
        entry.submitter.as_ref().map(|s| s.name.as_str()),
        Some("Skylion007")
    );

    // Without a file name the wrapper's `date` gives the day.
    let bytes = std::fs::read(data("hf-daily-papers/2025-01-10.json")).expect("readable");
    let (records, _) = split(
        hf::parse_day(&bytes, &ParseOptions::default())
            .expect("parses")
            .into_iter()
            .map(Ok),
    );
    assert!(
        records
            .iter()
            .all(|r| r.entry.as_ref().map(|e| e.day.to_string()).as_deref() == Some("2025-01-10"))
    );
}

#[test]
fn a_title_with_a_hard_line_break_and_the_newest_fields() {
    let (_, records, _) = open_detected("hf-daily-papers/2024-05-27.json");
    let r = find(&records, "2405.15738");
    // `paper.title` is "...Large Multimodal\n  Models".
    assert_eq!(
        r.paper.biblio.title,
        "ConvLLaVA: Hierarchical Backbones as Visual Encoder for Large Multimodal Models"
    );
    assert!(r.paper.biblio.abstract_text.starts_with(
        "High-resolution Large Multimodal Models (LMMs) encounter the challenges of excessive"
    ));

    let (_, records, _) = open_detected("hf-daily-papers/2026-08-21.json");
    let r = find(&records, "2608.19880");
    let c = &r.paper.community;
    assert_eq!(c.upvotes, Some(163));
    assert_eq!(
        c.github_repo.as_deref(),
        Some("https://github.com/google-research/envharness")
    );
    assert_eq!(c.github_stars, Some(8));
    assert_eq!(c.project_page.as_deref(), Some("https://envharness.com/"));
    assert!(
        c.ai_summary
            .as_deref()
            .is_some_and(|s| s.starts_with("EnvHarness and EnvRigger"))
    );
    assert_eq!(c.ai_keywords.len(), 8);
    let submitter = r
        .entry
        .as_ref()
        .and_then(|e| e.submitter.as_ref())
        .expect("submitter");
    assert_eq!(
        (submitter.name.as_str(), submitter.fullname.as_deref()),
        ("taesiri", Some("taesiri"))
    );
    assert!(
        submitter
            .avatar_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    );
}
