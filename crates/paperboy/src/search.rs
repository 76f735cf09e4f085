//! `paperboy search` and `paperboy reindex`: the site's keyword search from
//! the command line, and a rebuild of the index from the database.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use paperboy_search::{KeywordIndex, SearchRequest, SortBy};
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

/// Catches the index up (when no server holds it) and prints the results.
pub fn search(store: &dyn Store, config: &Config, args: &SearchArgs) -> anyhow::Result<()> {
    let sort = match args.sort.as_str() {
        "relevance" => SortBy::Relevance,
        "date" => SortBy::Date,
        "upvotes" => SortBy::Upvotes,
        other => bail!("--sort is relevance, date or upvotes, not {other:?}"),
    };
    let index = open_index(config)?;
    index
        .catch_up(store)
        .context("cannot bring the search index up to date")?;
    let request = SearchRequest {
        query: args.query.join(" "),
        sort,
        limit: args.limit.max(1),
        ..SearchRequest::default()
    };
    let results = index.search(&request).context("search failed")?;
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
