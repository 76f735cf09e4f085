//! The first 200 lines of the Kaggle snapshot, streamed through `open`.

use paperboy_import::Format;

use crate::{find, open_detected, time};

const SAMPLE: &str = "arxiv/kaggle-snapshot/arxiv-metadata-oai-snapshot-first200-wanng-ide.jsonl";

#[test]
fn the_sample_parses_without_problems() {
    let (format, records, problems) = open_detected(SAMPLE);
    assert_eq!(format, Format::KaggleJsonl);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(records.len(), 200);
    assert!(
        records
            .iter()
            .all(|r| r.entry.is_none() && r.paper.community == Default::default())
    );
    assert!(
        records
            .iter()
            .all(|r| r.paper.biblio.published.is_some() && r.paper.biblio.version.is_some())
    );
}

#[test]
fn spot_checks() {
    let (_, records, _) = open_detected(SAMPLE);

    let b = &find(&records, "0704.0001").paper.biblio;
    assert_eq!(
        b.authors,
        ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]
    );
    assert_eq!(b.version, Some(2));
    assert_eq!(
        (b.categories.as_slice(), b.primary_category.as_deref()),
        (&["hep-ph".to_string()][..], Some("hep-ph"))
    );
    assert_eq!(b.published, Some(time("2007-04-02T19:18:42Z")));
    assert_eq!(b.updated, Some(time("2007-07-24T20:10:27Z")));
    assert_eq!(
        b.title,
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    );
    assert!(b.abstract_text.starts_with(
        "A fully differential calculation in perturbative quantum chromodynamics is presented"
    ));
    assert!(!b.abstract_text.contains('\n'));
    assert_eq!(b.doi.as_deref(), Some("10.1103/PhysRevD.76.013009"));
    assert_eq!(b.journal_ref.as_deref(), Some("Phys.Rev.D76:013009,2007"));
    assert_eq!(
        b.comments.as_deref(),
        Some("37 pages, 15 figures; published version")
    );
    assert_eq!(b.license, None);
    assert!(!b.withdrawn);

    // Four categories, affiliations in `authors_parsed` left out of the names.
    let b = &find(&records, "0704.0044").paper.biblio;
    assert_eq!(
        b.categories,
        [
            "astro-ph",
            "nlin.CD",
            "physics.plasm-ph",
            "physics.space-ph"
        ]
    );
    assert_eq!(b.primary_category.as_deref(), Some("astro-ph"));
    assert_eq!(b.authors[0], "A. A. Schekochihin");
    assert_eq!(b.authors.len(), 7);
    assert_eq!(b.version, Some(4));
    assert_eq!(b.updated, Some(time("2009-05-09T19:26:10Z")));

    let b = &find(&records, "0704.0002").paper.biblio;
    assert_eq!(b.authors, ["Ileana Streinu", "Louis Theran"]);
    assert_eq!(b.categories, ["math.CO", "cs.CG"]);
    assert_eq!(
        b.license.as_deref(),
        Some("http://arxiv.org/licenses/nonexclusive-distrib/1.0/")
    );

    let b = &find(&records, "0704.0027").paper.biblio;
    assert_eq!(
        b.authors,
        [
            "M. O. Goerbig",
            "J.-N. Fuchs",
            "K. Kechedzhi",
            "Vladimir I. Fal'ko"
        ]
    );

    // TeX accents in titles are decoded, math is left alone.
    assert_eq!(
        find(&records, "0704.0073").paper.biblio.title,
        "A transcendental approach to Kollár's injectivity theorem"
    );
    assert!(
        find(&records, "0704.0019")
            .paper
            .biblio
            .title
            .ends_with("based on the Gröbner basis")
    );
    assert_eq!(
        find(&records, "0704.0005").paper.biblio.title,
        r"From dyadic $\Lambda_{\alpha}$ to $\Lambda_{\alpha}$"
    );

    // The first of two DOIs; a withdrawn paper.
    assert_eq!(
        find(&records, "0704.0033").paper.biblio.doi.as_deref(),
        Some("10.1364/JOSAA.23.002578")
    );
    assert!(find(&records, "0704.0156").paper.biblio.withdrawn);
    assert_eq!(
        records.iter().filter(|r| r.paper.biblio.withdrawn).count(),
        1
    );
}
