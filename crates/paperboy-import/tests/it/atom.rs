//! Every recorded arXiv API response body.

use paperboy_import::{Format, ImportError, ParseOptions, atom};

use crate::{data, find, open_detected, split, time};

const XML: &str = "arxiv/atom-api-arxiv.py-fixtures/xml";

#[test]
fn every_feed() {
    let mut names: Vec<_> = std::fs::read_dir(data(XML))
        .expect("xml folder")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 20);
    for name in &names {
        let bytes = std::fs::read(data(&format!("{XML}/{name}"))).expect("readable");
        let result = atom::parse_feed(&bytes);
        if name.starts_with("id_abc_") {
            match result {
                Err(ImportError::ArxivApi { message }) => {
                    assert_eq!(message, "incorrect id format for abc")
                }
                other => panic!("{name}: {other:?}"),
            }
            continue;
        }
        let feed = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        let (records, problems) = split(feed.items.into_iter().map(Ok));
        assert!(problems.is_empty(), "{name}: {problems:?}");
        let want = match feed.total_results {
            Some(0) => 0,
            // An id list of one, or a page of `max_results` (`_mN_`) of the query.
            Some(1) => 1,
            _ => name
                .split("_m")
                .nth(1)
                .and_then(|s| s.split('_').next())
                .and_then(|n| n.parse().ok())
                .expect("page size"),
        };
        assert_eq!(records.len(), want, "{name}");
        for r in &records {
            let b = &r.paper.biblio;
            assert!(
                b.version.is_some()
                    && b.published.is_some()
                    && !b.authors.is_empty()
                    && !b.title.is_empty(),
                "{name}: {}",
                r.paper.id
            );
            assert_eq!(
                b.categories.first(),
                b.primary_category.as_ref(),
                "{name}: primary first"
            );
        }
    }
}

#[test]
fn spot_checks() {
    let (format, records, _) =
        open_detected(&format!("{XML}/id_2104.12255v1_s0_m100_6ae69987ffe1.xml"));
    assert_eq!(format, Format::ArxivAtom);
    let b = &find(&records, "2104.12255").paper.biblio;
    assert_eq!(b.version, Some(1));
    assert_eq!(b.authors, ["Quan Thoi Minh Nguyen"]);
    assert_eq!(
        (b.categories.as_slice(), b.primary_category.as_deref()),
        (&["cs.CR".to_string()][..], Some("cs.CR"))
    );
    assert_eq!(b.title, "0");
    assert_eq!(b.published, Some(time("2021-04-20T16:07:14Z")));
    assert!(
        b.abstract_text
            .starts_with("What is the funniest number in cryptography? 0.")
    );

    let (_, records, _) = open_detected(&format!(
        "{XML}/id_astro-ph_0601001_s0_m100_3150dca9dc76.xml"
    ));
    let b = &find(&records, "astro-ph/0601001").paper.biblio;
    assert_eq!(
        b.authors,
        [
            "Andrew Gould",
            "Susan Dorsher",
            "B. Scott Gaudi",
            "Andrzej Udalski"
        ]
    );
    assert_eq!(b.journal_ref.as_deref(), Some("ActaAstron.56:1-50,2006"));
    assert!(
        b.comments
            .as_deref()
            .is_some_and(|c| c.starts_with("62 pages including 16 figures"))
    );

    let (_, records, _) = open_detected(&format!(
        "{XML}/id_quant-ph_0201082v1_s0_m100_86989fe779ef.xml"
    ));
    let b = &find(&records, "quant-ph/0201082").paper.biblio;
    assert_eq!(b.categories, ["quant-ph", "cs.PL"]);
    assert_eq!(b.comments.as_deref(), Some("32 pages"));
}

#[test]
fn the_error_feed_and_empty_feeds_through_open() {
    let path = data(&format!("{XML}/id_abc_s0_m100_b79c8dcf6bc3.xml"));
    match paperboy_import::open(&path, None, &ParseOptions::default()) {
        Err(ImportError::ArxivApi { message }) => {
            assert_eq!(message, "incorrect id format for abc")
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("the error feed opened"),
    }
    for empty in [
        "id_0000.0000_s0_m100_8b51d9633a68.xml",
        "id_0808.05394_s0_m100_7b0c7d0a7cdd.xml",
    ] {
        let (format, records, problems) = open_detected(&format!("{XML}/{empty}"));
        assert_eq!(
            (format, records.len(), problems.len()),
            (Format::ArxivAtom, 0, 0),
            "{empty}"
        );
    }
}

#[test]
fn paging_numbers() {
    let bytes = std::fs::read(data(&format!("{XML}/q_testing_s20_m10_348a237fecab.xml")))
        .expect("readable");
    let feed = atom::parse_feed(&bytes).expect("parses");
    assert_eq!(
        (feed.total_results, feed.start_index, feed.items_per_page),
        (Some(214_881), Some(20), Some(10))
    );
}
