//! The command line: what users type. Parsing only; `lib.rs` runs it.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

/// Paperboy: discover research papers. A self-hostable daily papers site.
#[derive(Debug, Parser)]
#[command(name = "paperboy", version, about, propagate_version = true)]
pub struct Cli {
    /// Data directory (SQLite database and indexes).
    #[arg(long, global = true, env = "PAPERBOY_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Configuration file (TOML); flags and PAPERBOY_* variables override it.
    #[arg(long, global = true, env = "PAPERBOY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web site, JSON API and feeds.
    Serve(ServeArgs),
    /// Import files: HF daily_papers JSON, PaperExplorer JSON, Kaggle arXiv
    /// JSON lines, arXiv Atom, OAI-PMH (also .gz). The format is detected.
    Import(ImportArgs),
    /// Harvest live data from arXiv (OAI-PMH) or Hugging Face.
    Sync(SyncArgs),
    /// Counts: papers, daily entries, days, date range.
    Stats(StatsArgs),
    /// Print benchmark figures (see docs/benchmarks.md).
    Bench(BenchArgs),
    /// Manage accounts.
    User(UserArgs),
    /// Search the catalog from the command line (the site's search).
    Search(SearchArgs),
    /// Rebuild the search index from the database.
    Reindex,
    /// Embed one text with the semantic-search model and print the first
    /// dimensions (checks the model is installed and runs).
    Embed(EmbedArgs),
}

#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// The text to embed.
    #[arg(long)]
    pub text: String,
    /// Model directory (default: `model` in the data directory); fill it
    /// once with `scripts/fetch-model DIR`.
    #[arg(long, env = "PAPERBOY_MODEL_DIR", value_name = "DIR")]
    pub model: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What to search for: words, "phrases", -excluded, ti: au: abs: cat:
    /// (a query starting with `-` goes after `--`).
    #[arg(required = true, num_args = 1..)]
    pub query: Vec<String>,
    /// Results to print.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// Order: relevance, date or upvotes.
    #[arg(long, default_value = "relevance")]
    pub sort: String,
    /// Print JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PAPERBOY_ADDR", value_name = "HOST:PORT")]
    pub addr: Option<String>,
    /// Public URL of the site (for feeds and links), e.g. https://papers.example.org.
    #[arg(long, env = "PAPERBOY_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub action: UserAction,
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create an account. The password is read from PAPERBOY_PASSWORD or,
    /// on a terminal, asked for.
    Add {
        email: String,
        /// Username (default: the part of the email before '@').
        #[arg(long)]
        username: Option<String>,
        /// Display name (default: the username).
        #[arg(long)]
        name: Option<String>,
        /// Make the account an admin.
        #[arg(long)]
        admin: bool,
    },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files to import.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Force a format: hf, paperexplorer, kaggle, atom, oai.
    #[arg(long)]
    pub format: Option<String>,
    /// Curation day of an HF daily list (default: from the file name).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub day: Option<NaiveDate>,
    /// Records per database transaction.
    #[arg(long, env = "PAPERBOY_IMPORT_BATCH_SIZE")]
    pub batch_size: Option<usize>,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(subcommand)]
    pub source: SyncSource,
    /// Seconds between requests (arXiv asks for 3).
    #[arg(
        long,
        global = true,
        env = "PAPERBOY_SYNC_INTERVAL",
        value_name = "SECONDS"
    )]
    pub interval: Option<f64>,
}

#[derive(Debug, Subcommand)]
pub enum SyncSource {
    /// Incremental OAI-PMH harvest (resumes an interrupted harvest).
    Arxiv {
        /// Harvest records changed since this day (default: where the last harvest ended).
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: Option<NaiveDate>,
        #[arg(long, value_name = "YYYY-MM-DD")]
        until: Option<NaiveDate>,
        /// OAI set, e.g. cs, math, physics:hep-th.
        #[arg(long)]
        set: Option<String>,
        /// OAI-PMH endpoint.
        #[arg(long, env = "PAPERBOY_ARXIV_OAI_URL")]
        base_url: Option<String>,
    },
    /// Pull the HF /api/daily_papers list of a day.
    Hf {
        /// Day to pull (default: today, UTC).
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<NaiveDate>,
        /// Base URL of the HF-compatible API.
        #[arg(long, env = "PAPERBOY_HF_URL")]
        base_url: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
}

#[derive(Debug, Subcommand)]
pub enum BenchWhat {
    /// Import throughput: Kaggle JSON lines into a fresh SQLite store.
    Import {
        /// Lines to generate from the real sample's shapes.
        #[arg(long, default_value_t = 1_000_000)]
        lines: usize,
        /// The real Kaggle sample to take shapes from.
        #[arg(
            long,
            default_value = "../shared/data/arxiv/kaggle-snapshot/arxiv-metadata-oai-snapshot-first200-wanng-ide.jsonl"
        )]
        sample: PathBuf,
        /// Records per transaction.
        #[arg(long, default_value_t = 10_000)]
        batch_size: usize,
        /// Keep the generated file and database here instead of a temp dir.
        #[arg(long)]
        workdir: Option<PathBuf>,
    },
    /// Keyword search latency over the real HF catalog and a real query mix.
    Search {
        /// Folder of HF daily_papers JSON files (the catalog).
        #[arg(long, default_value = "../shared/data/hf-daily-papers")]
        catalog: PathBuf,
        /// CSV with a `search string cleaned` column (the query mix).
        #[arg(long, default_value = "../shared/data/search-queries/popular.csv")]
        queries: PathBuf,
        /// Results per query.
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
    /// Write a generated Kaggle JSON lines file (the bench's input) and exit.
    #[command(hide = true)]
    GenerateKaggle {
        #[arg(long)]
        lines: usize,
        #[arg(long)]
        sample: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
}
