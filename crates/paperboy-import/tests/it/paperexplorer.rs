//! PaperExplorer's scrape.

use paperboy_import::Format;

use crate::{open_detected, time};

#[test]
fn all_753_papers_parse_without_problems() {
    let (format, records, problems) = open_detected("paperexplorer-papers.json");
    assert_eq!(format, Format::PaperExplorer);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(records.len(), 753);
    assert!(
        records
            .iter()
            .all(|r| r.entry.is_none() && r.paper.community.upvotes.is_some())
    );
    assert!(
        records
            .iter()
            .all(|r| !r.paper.biblio.authors.is_empty() && !r.paper.biblio.title.is_empty())
    );

    // File order is kept: the first key of the file comes first.
    let r = &records[0];
    assert_eq!(r.paper.id.as_str(), "2312.17653");
    assert_eq!(
        r.paper.biblio.title,
        "LARP: Language-Agent Role Play for Open-World Games"
    );
    assert_eq!(
        r.paper.biblio.authors,
        [
            "Ming Yan",
            "Ruihao Li",
            "Hao Zhang",
            "Hao Wang",
            "Zhilan Yang",
            "Ji Yan"
        ]
    );
    assert_eq!(r.paper.community.upvotes, Some(29));
    assert_eq!(r.paper.biblio.published, Some(time("2023-12-24T10:08:59Z")));
    assert_eq!(
        r.paper.community.observed_at,
        Some(time("2023-12-24T00:00:00Z"))
    );
    assert!(r.paper.biblio.abstract_text.starts_with(
        "Language agents have shown impressive problem-solving skills within defined settings"
    ));
}
