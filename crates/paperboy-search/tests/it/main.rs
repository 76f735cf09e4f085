//! The keyword index over hand-made papers and over the real HF papers: field
//! prefixes, phrases, exclusion, filters, sorts, snippets, catching up,
//! rebuilding, bad input.

mod hybrid;
mod known_item;

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use paperboy_core::{ArxivId, DailyEntry, Paper, SourceRecord};
use paperboy_search::{DateField, KeywordIndex, SearchRequest, SearchResults, SortBy};
use paperboy_store::{SqliteStore, Store};
use tempfile::TempDir;

/// A store in memory and an index in a temporary directory.
pub struct Fixture {
    pub store: Arc<SqliteStore>,
    pub dir: TempDir,
    pub index: KeywordIndex,
}

impl Fixture {
    pub fn empty() -> Fixture {
        let store = Arc::new(SqliteStore::open_in_memory().expect("store"));
        let dir = tempfile::tempdir().expect("temp dir");
        let index = KeywordIndex::open(&dir.path().join("keyword")).expect("index");
        Fixture { store, dir, index }
    }

    pub fn with_papers() -> Fixture {
        let fixture = Fixture::empty();
        fixture.store.upsert(&papers()).expect("upsert");
        fixture
            .index
            .catch_up(fixture.store.as_ref())
            .expect("catch up");
        fixture
    }

    pub fn search(&self, request: SearchRequest) -> SearchResults {
        self.index.search(&request).expect("search")
    }

    /// The ids found for `query`, in order.
    pub fn ids(&self, query: &str) -> Vec<String> {
        self.ids_of(q(query))
    }

    pub fn ids_of(&self, request: SearchRequest) -> Vec<String> {
        self.search(request)
            .hits
            .into_iter()
            .map(|h| h.id.to_string())
            .collect()
    }
}

pub fn q(query: &str) -> SearchRequest {
    SearchRequest {
        query: query.into(),
        limit: 10,
        ..SearchRequest::default()
    }
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 6, d).expect("day")
}

#[allow(clippy::too_many_arguments)] // one row of a table of test papers
pub fn record(
    id: &str,
    title: &str,
    abstract_text: &str,
    authors: &[&str],
    categories: &[&str],
    published: u32,
    curated: u32,
    upvotes: u32,
) -> SourceRecord {
    let id = ArxivId::parse(id).expect("id").id;
    let mut paper = Paper::new(id.clone());
    paper.biblio.version = Some(1);
    paper.biblio.title = title.into();
    paper.biblio.abstract_text = abstract_text.into();
    paper.biblio.authors = authors.iter().map(|a| a.to_string()).collect();
    paper.biblio.categories = categories.iter().map(|c| c.to_string()).collect();
    paper.biblio.published = Some(Utc.with_ymd_and_hms(2024, 6, published, 12, 0, 0).unwrap());
    paper.community.upvotes = Some(upvotes);
    paper.community.observed_at = Some(day(curated).and_hms_opt(0, 0, 0).unwrap().and_utc());
    SourceRecord {
        entry: Some(DailyEntry {
            paper_id: id,
            day: day(curated),
            submitter: None,
            position: 0,
            submitted_at: None,
            num_comments: None,
        }),
        paper,
    }
}

pub fn papers() -> Vec<SourceRecord> {
    vec![
        record(
            "2406.00001",
            "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
            "We introduce a selective state space model that scales linearly in sequence length and rivals attention.",
            &["Albert Gu", "Tri Dao"],
            &["cs.LG"],
            3,
            4,
            50,
        ),
        record(
            "2406.00002",
            "Attention Is All You Need",
            "The Transformer relies entirely on attention, dispensing with recurrence and convolutions.",
            &["Ashish Vaswani", "Noam Shazeer", "Niki Parmar"],
            &["cs.CL", "cs.LG"],
            5,
            6,
            120,
        ),
        record(
            "2406.00003",
            "Video Diffusion Models",
            "We generate video with a diffusion model extending image diffusion architectures to space and time.",
            &["Jonathan Ho", "Tim Salimans"],
            &["cs.CV"],
            7,
            10,
            30,
        ),
        record(
            "2406.00004",
            "Image Diffusion with Café Latents",
            "A latent diffusion model for image generation; attention layers condition on text.",
            &["Robin Rombach"],
            &["cs.CV"],
            10,
            11,
            80,
        ),
    ]
}

#[test]
fn plain_words_rank_by_bm25() {
    let f = Fixture::with_papers();
    assert_eq!(f.ids("selective state space")[0], "2406.00001");
    assert_eq!(f.ids("transformer recurrence")[0], "2406.00002");
    let diffusion = f.ids("diffusion");
    assert_eq!(diffusion.len(), 2);
    assert!(diffusion.contains(&"2406.00003".to_string()));
}

#[test]
fn field_prefixes() {
    let f = Fixture::with_papers();
    assert_eq!(f.ids("au:vaswani"), ["2406.00002"]);
    assert_eq!(f.ids("au:\"Tri Dao\""), ["2406.00001"]);
    // "attention" is in three abstracts but one title.
    assert_eq!(f.ids("ti:attention"), ["2406.00002"]);
    assert_eq!(f.ids("abs:convolutions"), ["2406.00002"]);
    assert_eq!(
        f.ids("abs:mamba"),
        Vec::<String>::new(),
        "mamba is only in a title"
    );
    let mut cv = f.ids("cat:cs.CV");
    cv.sort();
    assert_eq!(cv, ["2406.00003", "2406.00004"]);
    assert_eq!(f.ids("cat:cs").len(), 4, "an archive finds its categories");
    assert_eq!(f.ids("cat:CS.cl"), ["2406.00002"]);
}

#[test]
fn phrases_and_exclusion() {
    let f = Fixture::with_papers();
    assert_eq!(f.ids("\"image generation\""), ["2406.00004"]);
    assert_eq!(f.ids("\"generation image\""), Vec::<String>::new());
    assert_eq!(f.ids("diffusion -video"), ["2406.00004"]);
    assert_eq!(f.ids("diffusion -\"video diffusion\""), ["2406.00004"]);
    let mut not_cv = f.ids("-cat:cs.CV");
    not_cv.sort();
    assert_eq!(
        not_cv,
        ["2406.00001", "2406.00002"],
        "only exclusions: all others"
    );
}

#[test]
fn accents_fold_and_case_does_not_matter() {
    let f = Fixture::with_papers();
    assert_eq!(f.ids("cafe"), ["2406.00004"]);
    assert_eq!(f.ids("CAFÉ"), ["2406.00004"]);
}

#[test]
fn filters_by_date_and_upvotes() {
    let f = Fixture::with_papers();
    let mut request = q("diffusion attention model");
    request.from = Some(day(6));
    request.to = Some(day(10));
    let mut found = f.ids_of(request.clone());
    found.sort();
    assert_eq!(found, ["2406.00002", "2406.00003"], "curation days 6..=10");

    request.date_field = DateField::Arxiv;
    let mut found = f.ids_of(request);
    found.sort();
    assert_eq!(found, ["2406.00003", "2406.00004"], "arXiv days 6..=10");

    let mut request = q("diffusion attention model");
    request.min_upvotes = Some(80);
    let mut found = f.ids_of(request);
    found.sort();
    assert_eq!(found, ["2406.00002", "2406.00004"]);

    let mut request = q("");
    request.min_upvotes = Some(100);
    assert_eq!(
        f.ids_of(request),
        ["2406.00002"],
        "filters alone list papers"
    );
}

#[test]
fn sorts() {
    let f = Fixture::with_papers();
    let mut request = q("attention");
    request.sort = SortBy::Upvotes;
    assert_eq!(
        f.ids_of(request.clone()),
        ["2406.00002", "2406.00004", "2406.00001"]
    );
    request.sort = SortBy::Date;
    assert_eq!(
        f.ids_of(request),
        ["2406.00004", "2406.00002", "2406.00001"]
    );
}

#[test]
fn pages() {
    let f = Fixture::with_papers();
    let mut request = q("attention");
    request.sort = SortBy::Upvotes;
    request.limit = 2;
    let first = f.search(request.clone());
    assert_eq!(first.total, 3);
    assert_eq!(first.hits.len(), 2);
    request.offset = 2;
    assert_eq!(f.ids_of(request), ["2406.00001"]);
}

#[test]
fn hits_carry_what_a_result_line_shows() {
    let f = Fixture::with_papers();
    let results = f.search(q("recurrence"));
    assert_eq!(results.total, 1);
    let hit = &results.hits[0];
    assert_eq!(hit.title, "Attention Is All You Need");
    assert_eq!(hit.authors, 3);
    assert_eq!(hit.upvotes, 120);
    assert_eq!(hit.date, Some(day(6)), "the curation day");
    assert!(hit.score > 0.0);
    let marked: Vec<&str> = hit
        .snippet
        .highlighted
        .iter()
        .map(|r| &hit.snippet.text[r.clone()])
        .collect();
    assert_eq!(marked, ["recurrence"]);

    // A title-only match shows the abstract's beginning, unmarked.
    let hit = &f.search(q("mamba")).hits[0];
    assert!(hit.snippet.text.starts_with("We introduce"));
    assert!(hit.snippet.highlighted.is_empty());
}

#[test]
fn bad_input_gives_sensible_answers() {
    let f = Fixture::with_papers();
    assert_eq!(f.search(q("")).total, 0, "empty");
    assert_eq!(f.search(q("   ")).total, 0, "blank");
    assert_eq!(f.search(q("🚀🔥")).total, 0, "only emoji");
    assert_eq!(
        f.search(q("大型语言模型")).total,
        0,
        "Chinese, not in the catalog"
    );
    assert_eq!(f.search(q("نموذج لغوي")).total, 0, "Arabic");
    assert_eq!(f.search(q("трансформер")).total, 0, "Cyrillic");
    assert!(
        f.search(q("the of and is")).total > 0,
        "stop words are kept"
    );
    assert_eq!(
        f.ids("\"selective state")[0],
        "2406.00001",
        "unbalanced quote"
    );
    assert_eq!(f.search(q("- ti: -")).total, 0, "dangling syntax");
    let long = "diffusion ".repeat(1_000);
    assert_eq!(long.len(), 10_000);
    assert_eq!(f.search(q(&long)).total, 2, "a 10,000-character query");
    let mut request = q("attention");
    request.offset = usize::MAX;
    request.limit = usize::MAX;
    assert!(f.search(request).hits.is_empty(), "absurd paging");
}

#[test]
fn non_latin_text_is_found() {
    let f = Fixture::empty();
    f.store
        .upsert(&[record(
            "2406.00009",
            "Модели трансформер для текста",
            "大型语言模型 and النماذج",
            &["Иван Петров"],
            &["cs.CL"],
            3,
            4,
            1,
        )])
        .expect("upsert");
    f.index.catch_up(f.store.as_ref()).expect("catch up");
    assert_eq!(f.ids("трансформер"), ["2406.00009"]);
    assert_eq!(f.ids("au:петров"), ["2406.00009"]);
    assert_eq!(f.ids("大型语言模型"), ["2406.00009"]);
}

#[test]
fn catches_up_after_an_upsert() {
    let f = Fixture::with_papers();
    assert_eq!(f.index.len(), 4);
    let seq = f.index.indexed_seq().expect("seq");
    assert_eq!(seq, f.store.change_seq().expect("store seq"));
    assert_eq!(f.index.catch_up(f.store.as_ref()).expect("again"), 0);

    let mut revised = record(
        "2406.00002",
        "Attention Is All You Need (Revised)",
        "Now with sparse mixtures.",
        &["Ashish Vaswani"],
        &["cs.CL"],
        5,
        6,
        130,
    );
    revised.paper.biblio.version = Some(2);
    revised.paper.community.observed_at = Some(day(7).and_hms_opt(0, 0, 0).unwrap().and_utc());
    f.store.upsert(&[revised]).expect("upsert");
    assert_eq!(f.index.catch_up(f.store.as_ref()).expect("catch up"), 1);
    assert_eq!(f.index.len(), 4, "replaced, not added");
    assert_eq!(f.ids("sparse mixtures"), ["2406.00002"]);
    assert!(f.ids("recurrence").is_empty(), "the old abstract is gone");
    assert_eq!(f.search(q("revised")).hits[0].upvotes, 130);
}

#[test]
fn reopening_keeps_the_index_and_its_sequence() {
    let f = Fixture::with_papers();
    let path = f.dir.path().join("keyword");
    let seq = f.index.indexed_seq().expect("seq");
    drop(f.index);
    let index = KeywordIndex::open(&path).expect("reopen");
    assert_eq!(index.len(), 4);
    assert_eq!(index.indexed_seq().expect("seq"), seq);
    assert_eq!(index.catch_up(f.store.as_ref()).expect("catch up"), 0);
}

#[test]
fn another_format_version_is_rebuilt() {
    let f = Fixture::with_papers();
    let path = f.dir.path().join("keyword");
    drop(f.index);
    std::fs::write(path.join("paperboy-format-version"), "0\n").expect("damage");
    let index = KeywordIndex::open(&path).expect("reopen");
    assert_eq!(index.len(), 0, "thrown away");
    assert_eq!(index.indexed_seq().expect("seq"), 0);
    assert_eq!(index.catch_up(f.store.as_ref()).expect("rebuild"), 4);
    assert_eq!(index.len(), 4);
}

#[test]
fn a_crash_before_the_version_file_is_rebuilt() {
    let f = Fixture::with_papers();
    let path = f.dir.path().join("keyword");
    drop(f.index);
    std::fs::remove_file(path.join("paperboy-format-version")).expect("remove");
    let index = KeywordIndex::open(&path).expect("reopen");
    assert_eq!(index.len(), 0);
    assert_eq!(index.catch_up(f.store.as_ref()).expect("rebuild"), 4);
}

#[test]
fn garbage_in_the_directory_is_rebuilt() {
    let f = Fixture::with_papers();
    let path = f.dir.path().join("keyword");
    drop(f.index);
    std::fs::write(path.join("meta.json"), "{ not json").expect("damage");
    let index = KeywordIndex::open(&path).expect("reopen");
    assert_eq!(index.catch_up(f.store.as_ref()).expect("rebuild"), 4);
    assert_eq!(index.len(), 4);
}

#[test]
fn an_index_ahead_of_the_database_is_rebuilt() {
    let f = Fixture::with_papers();
    // Another (empty) database behind the same index directory.
    let other = SqliteStore::open_in_memory().expect("store");
    other.upsert(&papers()[..1]).expect("upsert");
    f.index.catch_up(&other).expect("catch up");
    assert_eq!(f.index.len(), 1);
    assert_eq!(f.ids("attention"), ["2406.00001"]);
}

#[test]
fn an_index_another_process_writes_is_never_deleted() {
    let f = Fixture::with_papers();
    let path = f.dir.path().join("keyword");
    // Another version of Paperboy would rebuild it, but this handle (another
    // process, say) holds the write lock.
    std::fs::write(path.join("paperboy-format-version"), "0\n").expect("damage");
    let err = KeywordIndex::open(&path)
        .err()
        .expect("refused while another writer holds the index");
    assert!(
        matches!(err, paperboy_search::SearchError::Locked { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("another process"), "{err}");
    assert_eq!(
        f.ids("mamba"),
        ["2406.00001"],
        "the writer's index is intact"
    );
    assert!(path.join("meta.json").exists());
}
