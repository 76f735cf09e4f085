//! The vector index and hybrid search over the four hand-made papers, with
//! hand-made 4-dimensional vectors (so what "meaning" finds is known):
//! 00001 Mamba and 00002 Attention point one way, 00003 Video Diffusion and
//! 00004 Image Diffusion another.

use std::sync::Arc;

use paperboy_core::ArxivId;
use paperboy_search::{KeywordIndex, Method, SearchEngine, SearchRequest, VectorIndex};
use paperboy_store::{PaperVector, SqliteStore, Store, Vectors};
use tempfile::TempDir;

use crate::{papers, q};

const MODEL: &str = "test-model";

fn id(s: &str) -> ArxivId {
    ArxivId::parse(s).expect("id").id
}

fn unit(v: [f32; 4]) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

fn vectors() -> Vec<PaperVector> {
    [
        ("2406.00001", [1.0, 0.0, 0.0, 0.0]),
        ("2406.00002", [0.8, 0.6, 0.0, 0.0]),
        ("2406.00003", [0.0, 0.0, 1.0, 0.0]),
        ("2406.00004", [0.0, 0.0, 0.6, 0.8]),
    ]
    .into_iter()
    .map(|(s, v)| PaperVector {
        id: id(s),
        text_hash: vec![1],
        vector: unit(v),
    })
    .collect()
}

/// What the test "model" makes of a query.
fn encode(text: &str) -> Option<Vec<f32>> {
    let v = match text {
        "moving pictures synthesis" => [0.0, 0.0, 1.0, 0.1],
        "attention" => [0.0, 0.0, 0.6, 0.8],
        _ => [1.0, 0.0, 0.0, 0.0],
    };
    Some(unit(v))
}

struct Setup {
    store: Arc<SqliteStore>,
    dir: TempDir,
    engine: SearchEngine,
}

fn setup() -> Setup {
    let store = Arc::new(SqliteStore::open_in_memory().expect("store"));
    store.upsert(&papers()).expect("papers");
    store.put_vectors(MODEL, &vectors()).expect("vectors");
    let dir = tempfile::tempdir().expect("temp dir");
    let keyword = KeywordIndex::open(&dir.path().join("keyword")).expect("keyword index");
    let vectors = VectorIndex::open(&dir.path().join("vectors"), MODEL, 4).expect("vector index");
    let engine = SearchEngine {
        keyword: Arc::new(keyword),
        vectors: Some(Arc::new(vectors)),
        encoder: Some(Arc::new(encode)),
        params: Default::default(),
    };
    assert_eq!(engine.catch_up(store.as_ref()).expect("catch up"), (4, 4));
    Setup { store, dir, engine }
}

fn ids(engine: &SearchEngine, request: &SearchRequest, method: Method) -> Vec<String> {
    engine
        .search(request, method)
        .expect("search")
        .hits
        .into_iter()
        .map(|h| h.id.to_string())
        .collect()
}

#[test]
fn meaning_finds_papers_without_their_words() {
    let s = setup();
    let request = q("moving pictures synthesis");
    assert!(ids(&s.engine, &request, Method::Keyword).is_empty());
    let found = s.engine.search(&request, Method::Hybrid).expect("search");
    let order: Vec<String> = found.hits.iter().map(|h| h.id.to_string()).collect();
    assert_eq!(&order[..2], ["2406.00003", "2406.00004"]);
    assert!(found.hits[0].score > found.hits[1].score);
    // Result lines are complete even without a matched word.
    assert_eq!(found.hits[0].title, "Video Diffusion Models");
    assert!(found.hits[0].snippet.text.starts_with("We generate video"));
    assert_eq!(found.total, 4);
}

#[test]
fn exact_syntax_uses_keywords_only() {
    let s = setup();
    let mut found = ids(&s.engine, &q("\"diffusion model\""), Method::Hybrid);
    found.sort();
    assert_eq!(found, ["2406.00003", "2406.00004"]);
    assert_eq!(
        ids(&s.engine, &q("ti:attention"), Method::Hybrid),
        ["2406.00002"]
    );
}

#[test]
fn each_method_ranks_its_own_way() {
    let s = setup();
    let request = q("attention");
    assert_eq!(ids(&s.engine, &request, Method::Keyword)[0], "2406.00002");
    assert_eq!(ids(&s.engine, &request, Method::Vector)[0], "2406.00004");
    // Hybrid: both papers with the word come before those without it.
    let hybrid = ids(&s.engine, &request, Method::Hybrid);
    let mut top2 = hybrid[..2].to_vec();
    top2.sort();
    assert_eq!(top2, ["2406.00002", "2406.00004"]);
}

#[test]
fn filters_apply_to_results_found_by_meaning() {
    let s = setup();
    let mut request = q("moving pictures synthesis");
    request.from = Some(chrono::NaiveDate::from_ymd_opt(2024, 6, 11).unwrap());
    assert_eq!(ids(&s.engine, &request, Method::Hybrid), ["2406.00004"]);
    let mut request = q("moving pictures synthesis");
    request.min_upvotes = Some(60);
    let mut found = ids(&s.engine, &request, Method::Vector);
    found.sort();
    assert_eq!(found, ["2406.00002", "2406.00004"]);
}

#[test]
fn pages_of_a_hybrid_search() {
    let s = setup();
    let mut request = q("moving pictures synthesis");
    request.limit = 2;
    let first = s.engine.search(&request, Method::Hybrid).expect("search");
    request.offset = 2;
    let second = s.engine.search(&request, Method::Hybrid).expect("search");
    assert_eq!(first.total, 4);
    assert_eq!(second.total, 4);
    let mut all: Vec<String> = first
        .hits
        .iter()
        .chain(&second.hits)
        .map(|h| h.id.to_string())
        .collect();
    all.sort();
    assert_eq!(
        all,
        ["2406.00001", "2406.00002", "2406.00003", "2406.00004"]
    );
}

#[test]
fn similar_papers_leave_the_paper_out() {
    let s = setup();
    let similar = s.engine.similar(&id("2406.00003"), 2).expect("similar");
    let order: Vec<String> = similar.iter().map(|h| h.id.to_string()).collect();
    assert_eq!(order, ["2406.00004", "2406.00001"]);
    assert!(
        (similar[0].score - 0.6).abs() < 0.02,
        "{}",
        similar[0].score
    );
    assert!(
        s.engine
            .similar(&id("2406.09999"), 5)
            .expect("none")
            .is_empty()
    );
}

#[test]
fn without_a_model_search_is_keyword_search() {
    let s = setup();
    let engine = SearchEngine::keyword_only(Arc::clone(&s.engine.keyword));
    assert!(!engine.semantic_ready());
    assert!(ids(&engine, &q("moving pictures synthesis"), Method::Vector).is_empty());
    assert_eq!(
        ids(&engine, &q("attention"), Method::Vector)[0],
        "2406.00002"
    );
    assert!(
        engine
            .similar(&id("2406.00003"), 2)
            .expect("none")
            .is_empty()
    );
}

#[test]
fn the_vector_index_is_saved_and_rebuilt_when_it_must_be() {
    let s = setup();
    let vectors = s.engine.vectors.as_ref().expect("vectors");
    assert!(vectors.is_dirty());
    vectors.save().expect("save");
    assert!(!vectors.is_dirty());
    let path = s.dir.path().join("vectors");

    // Reopened: nothing to apply.
    let reopened = VectorIndex::open(&path, MODEL, 4).expect("reopen");
    assert_eq!(reopened.len(), 4);
    assert_eq!(reopened.catch_up(s.store.as_ref()).expect("catch up"), 0);

    // A new vector is applied on the next catch-up.
    let moved = vectors_of("2406.00001", [0.0, 0.0, 1.0, 0.0]);
    s.store.put_vectors(MODEL, &moved).expect("put");
    assert_eq!(reopened.catch_up(s.store.as_ref()).expect("catch up"), 1);
    let near = reopened.search(&unit([0.0, 0.0, 1.0, 0.0]), 2, &|_| true);
    let mut near: Vec<String> = near.into_iter().map(|(id, _)| id.to_string()).collect();
    near.sort();
    assert_eq!(near, ["2406.00001", "2406.00003"]);

    // Another model's or a damaged index is rebuilt from the store.
    let other = VectorIndex::open(&path, "another-model", 4).expect("open");
    assert_eq!(other.len(), 0);
    std::fs::write(path.join("ids.txt"), "not an id\n").expect("damage");
    let damaged = VectorIndex::open(&path, MODEL, 4).expect("open");
    assert_eq!(damaged.len(), 0);
    // One vector per paper, the replaced one at its newest version.
    assert_eq!(damaged.catch_up(s.store.as_ref()).expect("rebuild"), 4);
    assert_eq!(damaged.len(), 4);

    // An index ahead of the database (another database) is rebuilt.
    let fresh = SqliteStore::open_in_memory().expect("store");
    fresh.upsert(&papers()).expect("papers");
    fresh
        .put_vectors(MODEL, &vectors_of("2406.00002", [0.0, 1.0, 0.0, 0.0]))
        .expect("put");
    assert_eq!(damaged.catch_up(&fresh).expect("rebuild"), 1);
    assert_eq!(damaged.len(), 1);
}

fn vectors_of(s: &str, v: [f32; 4]) -> Vec<PaperVector> {
    vec![PaperVector {
        id: id(s),
        text_hash: vec![2],
        vector: unit(v),
    }]
}
