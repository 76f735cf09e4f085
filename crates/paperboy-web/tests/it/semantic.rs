//! Search by meaning and similar papers over HTTP, with hand-made vectors
//! and a stand-in query encoder: `mode=`, the paper page's similar papers,
//! `/api/papers/{id}/similar`, and what a server without a model says.

use paperboy_store::PaperVector;

use crate::app::{TestApp, fixture_now, id, record_with};

fn unit(v: [f32; 3]) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

fn encode(query: &str) -> Option<Vec<f32>> {
    Some(match query {
        "clips that move" => unit([0.0, 0.1, 1.0]),
        _ => unit([1.0, 0.0, 0.0]),
    })
}

fn app() -> TestApp {
    let records = vec![
        record_with("2506.00001", "2025-06-10", 40, |r| {
            r.paper.biblio.title = "Mamba: Selective State Spaces".into();
            r.paper.biblio.abstract_text = "A selective state space model.".into();
        }),
        record_with("2506.00002", "2025-06-11", 90, |r| {
            r.paper.biblio.title = "Attention Is All You Need".into();
            r.paper.biblio.abstract_text = "The Transformer relies on attention.".into();
        }),
        record_with("2506.00003", "2025-06-11", 10, |r| {
            r.paper.biblio.title = "Video Diffusion Models".into();
            r.paper.biblio.abstract_text = "We generate video with diffusion.".into();
        }),
    ];
    let vectors: Vec<PaperVector> = [
        ("2506.00001", [1.0, 0.2, 0.0]),
        ("2506.00002", [0.9, 0.5, 0.1]),
        ("2506.00003", [0.0, 0.2, 1.0]),
    ]
    .into_iter()
    .map(|(s, v)| PaperVector {
        id: id(s),
        text_hash: vec![0],
        vector: unit(v),
    })
    .collect();
    TestApp::start_with_semantic(&records, &vectors, encode, fixture_now())
}

#[test]
fn search_modes_on_the_page_and_the_api() {
    let app = app();
    // No shared word: only meaning finds the video paper.
    let body = app.get("/search?q=clips+that+move").expect(200).to_string();
    assert!(body.contains("Video Diffusion Models"), "{body}");
    assert!(
        body.contains("words and meaning"),
        "the mode choice is offered"
    );
    let first = |path: &str| -> String {
        let answer = app.get(path);
        answer.expect(200);
        answer.json()[0]["paper"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(first("/api/papers/search?q=clips+that+move"), "2506.00003");
    assert_eq!(
        first("/api/papers/search?q=clips+that+move&mode=vector"),
        "2506.00003"
    );
    let answer = app.get("/api/papers/search?q=clips+that+move&mode=keyword");
    answer.expect(200);
    assert_eq!(answer.json(), serde_json::json!([]));
    let answer = app.get("/api/papers/search?q=x&mode=semantic-ish");
    answer.expect(400);
    assert_eq!(answer.json()["error"], "bad_mode");
    // The page keeps the mode in its links and form.
    let body = app
        .get("/search?q=attention&mode=keyword")
        .expect(200)
        .to_string();
    assert!(
        body.contains("<option value=\"keyword\" selected"),
        "{body}"
    );
}

#[test]
fn paper_pages_and_the_api_show_similar_papers() {
    let app = app();
    let body = app.get("/papers/2506.00001").expect(200).to_string();
    let section = &body[body.find("id=\"similar\"").expect("similar section")..];
    let attention = section
        .find("Attention Is All You Need")
        .expect("nearest paper listed");
    let video = section
        .find("Video Diffusion Models")
        .expect("second paper listed");
    assert!(attention < video, "most similar first");
    assert!(
        !section.contains("Mamba: Selective"),
        "not the paper itself"
    );

    let answer = app.get("/api/papers/2506.00001/similar?limit=1");
    answer.expect(200);
    let items = answer.json();
    assert_eq!(items.as_array().map(Vec::len), Some(1));
    assert_eq!(items[0]["id"], "2506.00002");
    assert_eq!(items[0]["title"], "Attention Is All You Need");
    let similarity = items[0]["similarity"].as_f64().expect("similarity");
    assert!((0.9..=1.0).contains(&similarity), "{similarity}");

    app.get("/api/papers/2506.09999/similar").expect(404);
    let answer = app.get("/api/papers/2506.00001/similar?limit=0");
    answer.expect(400);
    assert_eq!(answer.json()["error"], "bad_limit");
    app.get("/api/papers/2506.00001v2/similar").expect(200);
}

#[test]
fn without_a_model_similar_papers_say_so() {
    let records = vec![record_with("2506.00001", "2025-06-10", 4, |_| {})];
    let app = TestApp::start_with_search(&records, fixture_now());
    let body = app.get("/papers/2506.00001").expect(200).to_string();
    assert!(body.contains("need the embedding model"), "{body}");
    let answer = app.get("/api/papers/2506.00001/similar");
    answer.expect(503);
    assert_eq!(answer.json()["error"], "similar_unavailable");
    let body = app.get("/search?q=state").expect(200).to_string();
    assert!(
        !body.contains("words and meaning"),
        "no mode choice without a model"
    );
}
