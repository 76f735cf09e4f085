//! OAI-PMH responses: arXivRaw (mikesaelim) and arXiv (hepcrawl).

use paperboy_import::oai::{self, OaiPage};
use paperboy_import::{Format, ImportError, ParseOptions};

use crate::{data, find, open_detected, split, time};

const RAW: &str = "arxiv/oai-pmh/arXivRaw-mikesaelim";
const HEPCRAWL: &str = "arxiv/oai-pmh/arXiv-hepcrawl";

fn page(relative: &str) -> Result<OaiPage, ImportError> {
    oai::parse_response(&std::fs::read(data(relative)).expect("readable"))
}

#[test]
fn list_records_with_a_resumption_token() {
    let page = page(&format!("{RAW}/ListRecordsResponse.xml")).expect("parses");
    assert_eq!(page.resumption_token.as_deref(), Some("726959|1001"));
    assert_eq!(page.complete_list_size, Some(58_011));
    let (records, problems) = split(page.items.into_iter().map(Ok));
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(records.len(), 6);

    let b = &find(&records, "0704.0471").paper.biblio;
    assert_eq!(
        b.authors,
        ["D.V. Shetty", "S.J. Yennello", "G.A. Souliotis"]
    );
    assert_eq!(
        b.title,
        "Density dependence of the symmetry energy and the nuclear equation of state: A Dynamical and Statistical model perspective"
    );
    assert_eq!(
        (b.version, b.published, b.updated),
        (
            Some(1),
            Some(time("2007-04-03T22:04:11Z")),
            Some(time("2007-04-03T22:04:11Z"))
        )
    );
    assert_eq!(b.categories, ["nucl-ex", "nucl-th"]);
    assert_eq!(b.doi.as_deref(), Some("10.1103/PhysRevC.76.024606"));
    assert_eq!(
        b.journal_ref.as_deref(),
        Some("Phys.Rev.C76:024606,2007; Erratum-ibid.C76:039902,2007")
    );
    assert!(
        b.abstract_text
            .contains("rules out an extremely \" stiff \" and \" soft \" form"),
        "{}",
        b.abstract_text
    );
    assert!(!b.withdrawn);
}

#[test]
fn get_record() {
    let (format, records, problems) = open_detected(&format!("{RAW}/GetRecordResponse.xml"));
    assert_eq!(
        (format, records.len(), problems.len()),
        (Format::OaiPmh, 1, 0)
    );
    let b = &records[0].paper.biblio;
    assert_eq!(records[0].paper.id.as_str(), "1302.2146");
    assert_eq!(b.version, Some(2));
    assert_eq!(b.published, Some(time("2013-02-08T21:00:01Z")));
    assert_eq!(b.updated, Some(time("2013-04-02T01:50:08Z")));
    assert_eq!(
        b.authors,
        [
            "Joshua Berger",
            "Maxim Perelstein",
            "Michael Saelim",
            "Philip Tanedo"
        ]
    );
    assert_eq!(b.title, "The Same-Sign Dilepton Signature of RPV/MFV SUSY");
    assert_eq!(
        (b.categories.as_slice(), b.primary_category.as_deref()),
        (
            &["hep-ph".to_string(), "hep-ex".to_string()][..],
            Some("hep-ph")
        )
    );
    assert_eq!(
        b.comments.as_deref(),
        Some("18 pages, 6 figures; v2: References added")
    );
    assert_eq!(
        b.license.as_deref(),
        Some("http://arxiv.org/licenses/nonexclusive-distrib/1.0/")
    );
    assert!(b.abstract_text.starts_with(
        "The lack of observation of superpartners at the Large Hadron Collider so far has led"
    ));
}

#[test]
fn error_responses() {
    for (file, code) in [
        ("ErrorResponseBadArgument.xml", "badArgument"),
        ("ErrorResponseBadResumptionToken.xml", "badResumptionToken"),
        ("ErrorResponseBadVerb.xml", "badVerb"),
        ("ErrorResponseIdDoesNotExist.xml", "idDoesNotExist"),
    ] {
        match page(&format!("{RAW}/{file}")) {
            Err(ImportError::Oai { code: got, message }) => {
                assert_eq!(got, code, "{file}");
                assert!(!message.is_empty(), "{file}");
            }
            other => panic!("{file}: {other:?}"),
        }
        let opened = paperboy_import::open(
            &data(&format!("{RAW}/{file}")),
            None,
            &ParseOptions::default(),
        );
        assert!(
            matches!(opened, Err(ImportError::Oai { .. })),
            "{file} through open"
        );
    }
    let empty = page(&format!("{RAW}/ErrorResponseNoRecordsMatch.xml"))
        .expect("noRecordsMatch is an empty page");
    assert!(empty.items.is_empty() && empty.resumption_token.is_none());
}

#[test]
fn hepcrawl_functional_and_unit_files() {
    for (file, count) in [
        ("functional/arxiv-physics-hep-ex.xml", 3),
        ("functional/arxiv-physics-hep-th.xml", 3),
        ("functional/arxiv-single.xml", 1),
        ("unit/sample_arxiv_record.xml", 12),
        ("unit/sample_arxiv_record0.xml", 1),
        ("unit/sample_arxiv_record1.xml", 1),
        ("unit/sample_arxiv_record2.xml", 1),
        ("unit/sample_arxiv_record3.xml", 1),
        ("unit/sample_arxiv_record4.xml", 1),
        ("unit/sample_arxiv_record5.xml", 1),
        ("unit/sample_arxiv_record6.xml", 1),
        ("unit/sample_arxiv_record7.xml", 1),
        ("unit/sample_arxiv_record8.xml", 1),
        ("unit/sample_arxiv_record9.xml", 1),
        ("unit/sample_arxiv_record10.xml", 1),
    ] {
        let (format, records, problems) = open_detected(&format!("{HEPCRAWL}/{file}"));
        assert_eq!(format, Format::OaiPmh, "{file}");
        assert!(problems.is_empty(), "{file}: {problems:?}");
        assert_eq!(records.len(), count, "{file}");
        for r in &records {
            let b = &r.paper.biblio;
            assert!(b.version.is_none(), "the arXiv format has no versions");
            assert!(
                b.published.is_some()
                    && !b.authors.is_empty()
                    && !b.title.is_empty()
                    && !b.categories.is_empty(),
                "{file}: {}",
                r.paper.id
            );
        }
    }
}

#[test]
fn hepcrawl_spot_checks() {
    let (_, records, _) = open_detected(&format!("{HEPCRAWL}/functional/arxiv-single.xml"));
    let b = &find(&records, "1401.2122").paper.biblio;
    assert_eq!(b.authors, ["A. Sergyeyev"]);
    assert_eq!(
        (b.published, b.updated),
        (
            Some(time("2014-01-09T00:00:00Z")),
            Some(time("2017-10-23T00:00:00Z"))
        )
    );
    assert_eq!(b.categories[0], "math.AP");
    assert_eq!(b.doi.as_deref(), Some("10.1007/s11005-017-1013-4"));
    // An indented line starts a paragraph.
    assert!(
        b.abstract_text
            .contains("contact vector fields.\n\nIn particular, we present"),
        "{}",
        b.abstract_text
    );

    // No default namespace on <arXiv>, several DOIs, a keyname-only author.
    let (_, records, _) = open_detected(&format!("{HEPCRAWL}/unit/sample_arxiv_record0.xml"));
    let b = &find(&records, "1601.03238").paper.biblio;
    assert_eq!(
        b.authors,
        [
            "Planck Collaboration",
            "Jieci Wang",
            "Zehua Tian",
            "Jiliang Jing",
            "Heng Fan"
        ]
    );
    assert_eq!(b.doi.as_deref(), Some("10.1103/PhysRevD.93.016005"));
    assert_eq!(
        b.journal_ref.as_deref(),
        Some("Phys.Rev. D93 (2015) 016005")
    );
    assert_eq!(
        b.license.as_deref(),
        Some("https://creativecommons.org/licenses/by/3.0/")
    );
    assert_eq!(
        b.categories,
        ["quant-ph", "gr-qc", "hep-th", "chao-dyn", "nlin.CD"]
    );

    // Records concatenated under one GetRecord, in document order.
    let (_, records, _) = open_detected(&format!("{HEPCRAWL}/unit/sample_arxiv_record.xml"));
    assert_eq!(
        records.first().map(|r| r.paper.id.as_str()),
        Some("1601.03238")
    );
    assert_eq!(
        records.last().map(|r| r.paper.id.as_str()),
        Some("1808.04927")
    );
    let comments = find(&records, "1606.04259").paper.biblio.comments.clone();
    assert!(comments.is_some_and(|c| c.contains("University\"Federico II\"")));
}
