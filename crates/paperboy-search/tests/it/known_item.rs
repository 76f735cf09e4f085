//! Known-item search over the real HF daily papers: 60 curation days in a
//! store, 50 of their papers looked up by a few distinctive title words each,
//! the way people search a paper site. Reports the exact rate.

use std::collections::HashMap;
use std::path::PathBuf;

use paperboy_import::{ParseOptions, Parsed};
use paperboy_search::{KeywordIndex, SearchRequest};
use paperboy_store::{SqliteStore, Store};

fn data(relative: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")).join(relative)
}

/// Lower-cased words of letters and digits, as a reader would type them.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[test]
fn known_items_are_in_the_top_three() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data("hf-daily-papers"))
        .expect("hf-daily-papers is there")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files.truncate(60);

    let store = SqliteStore::open_in_memory().expect("store");
    for path in &files {
        let file = paperboy_import::open(path, None, &ParseOptions::default()).expect("opens");
        let records: Vec<_> = file
            .iter
            .filter_map(|item| match item {
                Ok(Parsed::Record(record)) => Some(*record),
                _ => None,
            })
            .collect();
        store.upsert(&records).expect("upsert");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let index = KeywordIndex::open(&dir.path().join("keyword")).expect("index");
    index.catch_up(&store).expect("catch up");

    // Document frequency of each word over titles and abstracts.
    let papers: Vec<_> = store
        .papers_changed_since(0, usize::MAX)
        .expect("papers")
        .into_iter()
        .map(|(_, page)| page.paper)
        .collect();
    assert!(papers.len() > 500, "{} papers", papers.len());
    let mut df: HashMap<String, usize> = HashMap::new();
    for paper in &papers {
        let mut seen = words(&paper.biblio.title);
        seen.extend(words(&paper.biblio.abstract_text));
        seen.sort();
        seen.dedup();
        for w in seen {
            *df.entry(w).or_default() += 1;
        }
    }

    let step = papers.len() / 50;
    let (mut found, mut asked) = (0, 0);
    // The first three title words of four letters or more: a vaguer query,
    // reported for comparison (not asserted).
    let mut found_plain = 0;
    let mut misses = Vec::new();
    for paper in papers.iter().step_by(step).take(50) {
        let plain: Vec<String> = words(&paper.biblio.title)
            .into_iter()
            .filter(|w| w.chars().count() >= 4)
            .take(3)
            .collect();
        let request = SearchRequest {
            query: plain.join(" "),
            limit: 3,
            ..SearchRequest::default()
        };
        if index
            .search(&request)
            .expect("search")
            .hits
            .iter()
            .any(|h| h.id == paper.id)
        {
            found_plain += 1;
        }
        // The three rarest title words of four letters or more, in title order.
        let title_words = words(&paper.biblio.title);
        let mut ranked: Vec<&String> = title_words
            .iter()
            .filter(|w| w.chars().count() >= 4)
            .collect();
        ranked.sort_by_key(|w| (df.get(*w).copied().unwrap_or(0), w.to_string()));
        ranked.dedup();
        ranked.truncate(3);
        let query: Vec<&str> = title_words
            .iter()
            .filter(|w| ranked.contains(w))
            .map(String::as_str)
            .collect::<Vec<_>>();
        let query = query.join(" ");
        let request = SearchRequest {
            query: query.clone(),
            limit: 3,
            ..SearchRequest::default()
        };
        let hits = index.search(&request).expect("search").hits;
        asked += 1;
        if hits.iter().any(|h| h.id == paper.id) {
            found += 1;
        } else {
            misses.push(format!("{query:?} -> {}", paper.biblio.title));
        }
    }
    let rate = found as f64 / asked as f64;
    eprintln!(
        "known-item top-3: distinctive words {found}/{asked} = {:.1}%, first title words \
         {found_plain}/{asked}, over {} papers of {} days; misses: {misses:#?}",
        rate * 100.0,
        papers.len(),
        files.len()
    );
    assert_eq!(asked, 50);
    assert!(rate >= 0.9, "{found}/{asked}; misses: {misses:#?}");
}
