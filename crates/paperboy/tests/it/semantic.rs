//! Search by meaning through the binary, with the real model (from
//! `PAPERBOY_TEST_MODEL_DIR`, which `scripts/test` fills): `paperboy embed`
//! embeds the catalog and resumes, `paperboy search --mode vector` finds by
//! meaning, `--export` / `--import` move the vectors to another machine.

use std::path::PathBuf;

use crate::{data_dir, paperboy, stderr, stdout};

fn model_dir() -> PathBuf {
    std::env::var_os("PAPERBOY_TEST_MODEL_DIR")
        .map(PathBuf::from)
        .expect(
            "PAPERBOY_TEST_MODEL_DIR must name the model folder: run scripts/test, \
             or scripts/fetch-model DIR and set PAPERBOY_TEST_MODEL_DIR=DIR",
        )
}

fn hf_day(day: &str) -> String {
    data_dir()
        .join(format!("hf-daily-papers/{day}.json"))
        .display()
        .to_string()
}

#[test]
fn embed_search_by_meaning_export_and_import() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let model = model_dir();
    let model = model.to_str().unwrap();
    let out = paperboy(
        &data,
        &["import", &hf_day("2024-06-03"), &hf_day("2024-06-04")],
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let out = paperboy(&data, &["embed", "--model", model]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("embedded 12 papers"), "{text}");
    assert!(text.contains("12 of 12 papers have vectors"), "{text}");
    // Nothing left: a second run resumes at the end.
    let out = paperboy(&data, &["embed", "--model", model]);
    assert!(
        stdout(&out).contains("embedded 0 papers"),
        "{}",
        stdout(&out)
    );

    let search = |data: &std::path::Path, mode: &str, query: &str| -> Vec<String> {
        let out = paperboy(
            data,
            &[
                "search", "--mode", mode, "--json", "--model", model, "--", query,
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
            .lines()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                v["id"].as_str().unwrap().to_string()
            })
            .collect()
    };
    // No word of the title or abstract, only their meaning.
    let query = "low-precision optimizer state to save GPU memory";
    let found = search(&data, "vector", query);
    assert_eq!(
        found.first().map(String::as_str),
        Some("2405.18144"),
        "{found:?}"
    );
    assert_eq!(
        found.len(),
        10,
        "vector search ranks every paper: {found:?}"
    );
    let found = search(
        &data,
        "hybrid",
        "benchmark for multimodal LLMs watching videos",
    );
    assert_eq!(
        found.first().map(String::as_str),
        Some("2405.21075"),
        "{found:?}"
    );

    // Export, and import into a catalog that has one of the two days.
    let file = dir.path().join("vectors.bin");
    let out = paperboy(&data, &["embed", "--export", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("exported 12 vectors"),
        "{}",
        stdout(&out)
    );
    let small = dir.path().join("small");
    let out = paperboy(&small, &["import", &hf_day("2024-06-04")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = paperboy(&small, &["embed", "--import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out)
            .contains("stored 6 vectors; skipped 6 of papers not here and 0 made for another text"),
        "{}",
        stdout(&out)
    );
    let out = paperboy(&small, &["embed", "--model", model]);
    assert!(
        stdout(&out).contains("embedded 0 papers"),
        "imported vectors are not recomputed: {}",
        stdout(&out)
    );

    // A file that is not an export is a clear error.
    let out = paperboy(&small, &["embed", "--import", &hf_day("2024-06-04")]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not a Paperboy vector export"),
        "{}",
        stderr(&out)
    );
}

/// `paperboy serve` with the model embeds what is imported, also while it
/// runs, and paper pages and the API show similar papers as vectors arrive.
#[test]
fn serve_embeds_in_the_background_and_finds_similar_papers() {
    use std::time::{Duration, Instant};

    use crate::e2e::Data;

    let data = Data::with_days(&["2024-06-03"]);
    let server = data.serve_with_model(&model_dir());
    let get = |path: &str| -> String {
        let url = format!("{}{path}", server.url);
        ureq::get(&url)
            .call()
            .unwrap_or_else(|e| panic!("GET {url}: {e}\n{}", server.log()))
            .body_mut()
            .read_to_string()
            .expect("body")
    };
    let similar_to = |id: &str| -> Vec<serde_json::Value> {
        serde_json::from_str(&get(&format!("/api/papers/{id}/similar"))).expect("JSON array")
    };
    let wait_for_similar = |id: &str| -> Vec<serde_json::Value> {
        let started = Instant::now();
        loop {
            let found = similar_to(id);
            if !found.is_empty() {
                return found;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "no similar papers for {id} after 2 minutes:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    };

    // The day's six papers get embedded in the background.
    let found = wait_for_similar("2405.20674");
    let ids: Vec<&str> = found.iter().filter_map(|v| v["id"].as_str()).collect();
    assert!(
        !ids.contains(&"2405.20674"),
        "not the paper itself: {ids:?}"
    );
    assert!(ids.len() >= 2, "{ids:?}");
    // 4Diffusion (multi-view video diffusion) is nearest to Kaleido
    // Diffusion among the day's papers.
    assert_eq!(ids[0], "2405.21048", "{found:?}");
    let page = get("/papers/2405.20674");
    assert!(
        page.contains("Kaleido Diffusion"),
        "the page lists similar papers"
    );

    // Papers imported while the server runs are embedded too.
    let out = crate::paperboy(server.data().path(), &["import", &hf_day("2024-06-04")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let found = wait_for_similar("2406.01493");
    assert!(!found.is_empty());
    let results: Vec<serde_json::Value> = serde_json::from_str(&get(
        "/api/papers/search?q=optimizer+states+in+four+bits&mode=vector&limit=3",
    ))
    .expect("JSON");
    assert_eq!(results[0]["paper"]["id"], "2405.18144", "{results:?}");
}
