//! `paperboy search` and `paperboy reindex`: the site's search from the
//! command line, and a rebuild of the indexes from the database; and the
//! search engine `serve` uses (keyword index, plus the vector index and the
//! query encoder when the embedding model is installed).

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use paperboy_embed::{Embedder, MINILM_DIM};
use paperboy_search::{KeywordIndex, Method, SearchEngine, SearchRequest, SortBy, VectorIndex};
use paperboy_store::Store;

use crate::cli::SearchArgs;
use crate::config::Config;

/// Opens the keyword index of the data directory (rebuilding it when its
/// format is another), without catching up.
pub fn open_index(config: &Config) -> anyhow::Result<Arc<KeywordIndex>> {
    let path = config.keyword_index_path();
    let index = KeywordIndex::open(&path)
        .with_context(|| format!("cannot open the search index {}", path.display()))?;
    Ok(Arc::new(index))
}

/// The search engine of the data directory: the keyword index, and when
/// the model loads from `model_dir`, the vector index, the query encoder and
/// the embedder itself (for the background embedding job). Nothing is
/// caught up yet.
pub fn open_engine(
    config: &Config,
    model_dir: &std::path::Path,
) -> anyhow::Result<(SearchEngine, Option<Arc<dyn Embedder>>)> {
    let keyword = open_index(config)?;
    if !model_dir.join("config.json").exists() {
        tracing::info!(
            model = %model_dir.display(),
            "no embedding model: keyword search only (install it with `scripts/fetch-model {}`)",
            model_dir.display()
        );
        return Ok((SearchEngine::keyword_only(keyword), None));
    }
    let model: Arc<dyn Embedder> = Arc::new(crate::embed::load_model(model_dir)?);
    let vectors = VectorIndex::open(&config.vector_index_path(), crate::embed::MODEL, MINILM_DIM)
        .context("cannot open the vector index")?;
    let encoder = Arc::clone(&model);
    let engine = SearchEngine {
        keyword,
        vectors: Some(Arc::new(vectors)),
        encoder: Some(Arc::new(move |text: &str| {
            encoder
                .embed(&[text])
                .map_err(|error| tracing::warn!(%error, "cannot embed a query"))
                .ok()
                .and_then(|mut v| v.pop())
        })),
        params: paperboy_search::FusionParams::default(),
    };
    Ok((engine, Some(model)))
}

/// Catches the indexes up and prints the results.
pub fn search(store: &dyn Store, config: &Config, args: &SearchArgs) -> anyhow::Result<()> {
    let sort = match args.sort.as_str() {
        "relevance" => SortBy::Relevance,
        "date" => SortBy::Date,
        "upvotes" => SortBy::Upvotes,
        other => bail!("--sort is relevance, date or upvotes, not {other:?}"),
    };
    let method: Method = args.mode.parse().map_err(anyhow::Error::msg)?;
    let model_dir = args.model.clone().unwrap_or_else(|| config.model_dir());
    let (engine, _) = open_engine(config, &model_dir)?;
    engine
        .catch_up(store)
        .context("cannot bring the search indexes up to date")?;
    let request = SearchRequest {
        query: args.query.join(" "),
        sort,
        limit: args.limit.max(1),
        ..SearchRequest::default()
    };
    let results = engine.search(&request, method).context("search failed")?;
    if args.json {
        for hit in &results.hits {
            let line = serde_json::json!({
                "id": hit.id.as_str(),
                "title": hit.title,
                "authors": hit.authors,
                "date": hit.date,
                "upvotes": hit.upvotes,
                "score": hit.score,
                "snippet": hit.snippet.text,
                "highlighted": hit.snippet.highlighted.iter().map(|r| [r.start, r.end]).collect::<Vec<_>>(),
            });
            println!("{line}");
        }
        return Ok(());
    }
    println!("{} papers match", results.total);
    for (i, hit) in results.hits.iter().enumerate() {
        let date = hit.date.map(|d| d.to_string()).unwrap_or_default();
        println!(
            "{:>3}. {}  {}\n     {} authors · {} · {} upvotes",
            i + 1,
            hit.id,
            hit.title,
            hit.authors,
            date,
            hit.upvotes
        );
    }
    Ok(())
}

/// Throws the index away and indexes every paper again.
pub fn reindex(store: &dyn Store, config: &Config) -> anyhow::Result<()> {
    let path = config.keyword_index_path();
    let index = KeywordIndex::open(&path)
        .with_context(|| format!("cannot open the search index {}", path.display()))?;
    if !index.is_writer() {
        bail!(
            "another process (a running `paperboy serve`?) holds the search index {}; stop it first",
            path.display()
        );
    }
    let started = Instant::now();
    let index = index.recreate().context("cannot empty the search index")?;
    let papers = index
        .catch_up(store)
        .context("cannot rebuild the search index")?;
    println!(
        "indexed {papers} papers in {:.1} s into {}",
        started.elapsed().as_secs_f64(),
        path.display()
    );
    Ok(())
}
