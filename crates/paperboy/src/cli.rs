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

    /// A PostgreSQL database (postgres://user[:password]@host[:port]/db) to
    /// keep everything in instead of the SQLite file in the data directory;
    /// several `serve` nodes can share one. Indexes stay in the data directory.
    #[arg(
        long,
        global = true,
        env = "PAPERBOY_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

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
    /// Compute the semantic-search vectors of every paper that lacks one
    /// (resumable; `serve` does it in the background too), or move vectors
    /// between machines with --export / --import.
    Embed(EmbedArgs),
    /// Mail: queue the digests and alerts that are due and send the outbox.
    Digest(DigestArgs),
    /// Copy this data directory's SQLite database into an empty PostgreSQL
    /// database (the move to `--database-url`), verified table by table by
    /// row counts and checksums; all or nothing.
    Migrate(MigrateArgs),
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The PostgreSQL database to copy into
    /// (postgres://user[:password]@host[:port]/db); it must hold no data.
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Copy into this schema of the database (created when missing)
    /// instead of the URL's search path (`public` by default).
    #[arg(long, value_name = "NAME")]
    pub schema: Option<String>,
}

#[derive(Debug, Args)]
pub struct DigestArgs {
    #[command(subcommand)]
    pub action: DigestAction,
}

#[derive(Debug, Subcommand)]
pub enum DigestAction {
    /// Queue every digest and alert that is due now and send what the
    /// outbox holds (what `serve` does every mail.interval_secs).
    Send {
        /// Only print what is due and queued; change and send nothing.
        #[arg(long)]
        dry_run: bool,
        /// Act as if it were this time (RFC 3339, e.g. 2026-11-30T08:00:00Z):
        /// with --dry-run, a preview of what a later run will send.
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        /// SMTP server URL (overrides mail.smtp_url).
        #[arg(
            long,
            env = "PAPERBOY_SMTP_URL",
            value_name = "URL",
            hide_env_values = true
        )]
        smtp_url: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// Only embed this text and print the first dimensions (checks that the
    /// model is installed and runs).
    #[arg(long, conflicts_with_all = ["export", "import"])]
    pub text: Option<String>,
    /// Write every stored vector to FILE (for another machine's --import).
    #[arg(long, value_name = "FILE", conflicts_with = "import")]
    pub export: Option<PathBuf>,
    /// Store the vectors of an --export FILE whose papers are here with the
    /// same text; the rest is left to the embedding job.
    #[arg(long, value_name = "FILE")]
    pub import: Option<PathBuf>,
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
    /// Relevance by hybrid (words and meaning), keyword or vector.
    #[arg(long, default_value = "hybrid")]
    pub mode: String,
    /// Model directory (default: `model` in the data directory).
    #[arg(long, env = "PAPERBOY_MODEL_DIR", value_name = "DIR")]
    pub model: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PAPERBOY_ADDR", value_name = "HOST:PORT")]
    pub addr: Option<String>,
    /// Public URL of the site (for feeds and links), e.g. https://papers.example.org.
    #[arg(long, env = "PAPERBOY_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    /// Embedding model directory (default: `model` in the data directory).
    /// With the model, search also finds papers by meaning, paper pages show
    /// similar papers, and new papers are embedded in the background.
    #[arg(long, env = "PAPERBOY_MODEL_DIR", value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// SMTP server for digests, alerts and confirmation mails
    /// (`smtp://user:pass@host:587?tls=required`, `smtps://…`); without one
    /// no mail is sent.
    #[arg(
        long,
        env = "PAPERBOY_SMTP_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,
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
    /// Search latency over a real query mix: keyword search over the real HF
    /// catalog, or with --papers N keyword, vector and hybrid search over a
    /// generated catalog of N papers (synthetic vectors, real query
    /// embedding), with memory.
    Search {
        /// Folder of HF daily_papers JSON files (the catalog, or the material
        /// of the generated one).
        #[arg(long, default_value = "../shared/data/hf-daily-papers")]
        catalog: PathBuf,
        /// CSV with a `search string cleaned` column (the query mix).
        #[arg(long, default_value = "../shared/data/search-queries/popular.csv")]
        queries: PathBuf,
        /// Results per query.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Generate a catalog of this many papers (e.g. 1000000).
        #[arg(long)]
        papers: Option<usize>,
        /// Queries of the mix to time (with --papers).
        #[arg(long, default_value_t = 2000)]
        max_queries: usize,
        /// Keep the generated catalog here and reuse it next time (with --papers).
        #[arg(long)]
        workdir: Option<PathBuf>,
        /// Embedding model directory, to embed queries (with --papers).
        #[arg(long, env = "PAPERBOY_MODEL_DIR", value_name = "DIR")]
        model: Option<PathBuf>,
    },
    /// Mail: compose and queue digests for many subscribers, render them,
    /// and with --smtp send them (e.g. to Postfix's smtp-sink).
    Digest {
        /// Subscribers (synthetic addresses, 4 time zones).
        #[arg(long, default_value_t = 100_000)]
        subscribers: usize,
        /// Folder of HF daily_papers JSON files (the newest days are the
        /// digests' papers).
        #[arg(long, default_value = "../shared/data/hf-daily-papers")]
        catalog: PathBuf,
        /// SMTP server to send the digests to, e.g. smtp://127.0.0.1:2525.
        #[arg(long, value_name = "URL")]
        smtp: Option<String>,
        /// Digests to send with --smtp (a set of their own).
        #[arg(long, default_value_t = 10_000)]
        send: usize,
        /// SMTP connections at once (default: the sender's, 8).
        #[arg(long)]
        connections: Option<usize>,
    },
    /// Search quality on a BEIR-layout data set (corpus.jsonl, queries.jsonl,
    /// qrels/SPLIT.tsv): nDCG@10, Recall@100 and MRR@10 of keyword, vector
    /// and hybrid search, with the real embedding model.
    Quality {
        /// The data set folder, e.g. ../shared/data/scifact.
        dir: PathBuf,
        /// Which qrels/SPLIT.tsv to score (default: test, else the first).
        #[arg(long)]
        split: Option<String>,
        /// Embedding model directory.
        #[arg(long, env = "PAPERBOY_MODEL_DIR", value_name = "DIR")]
        model: Option<PathBuf>,
        /// Reuse the corpus's vectors from FILE when it exists, and save
        /// them there after embedding (an `embed --export` file).
        #[arg(long, value_name = "FILE")]
        vectors: Option<PathBuf>,
        /// Also print hybrid search at fixed dense weights 0.0 .. 1.0.
        #[arg(long)]
        sweep: bool,
    },
    /// Write a BEIR-layout set of short known-item queries (rare title words,
    /// the method's name, abstract terms) made from HF daily_papers files,
    /// for `bench quality`.
    KnownItems {
        /// The folder to write (corpus.jsonl, queries.jsonl, qrels/test.tsv).
        out: PathBuf,
        /// Folder of HF daily_papers JSON files.
        #[arg(long, default_value = "../shared/data/hf-daily-papers")]
        catalog: PathBuf,
        /// How many queries to write.
        #[arg(long, default_value_t = 500)]
        max_queries: usize,
    },
    /// SQLite vs PostgreSQL on the real HF catalog, in one run: import
    /// throughput (the catalog, then the same files again, all unchanged)
    /// into a temporary SQLite store and a PostgreSQL schema of the run's
    /// own (dropped at the end), then req/s, p50 and p99 of
    /// `/api/daily_papers?date=DATE` served by the web stack from each, with
    /// the page cache off and at its default. Needs --database-url.
    Backends {
        /// Folder of HF daily_papers JSON files.
        #[arg(long, default_value = "../shared/data/hf-daily-papers")]
        catalog: PathBuf,
        /// Keep-alive HTTP connections of the load generator.
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Seconds measured per path, backend and cache setting.
        #[arg(long, default_value_t = 5)]
        secs: u64,
        /// Records per import transaction.
        #[arg(long, default_value_t = 5_000)]
        batch_size: usize,
        /// The curation day to list (default: a day with a full page, 50
        /// entries).
        #[arg(long, value_name = "YYYY-MM-DD", default_value = "2026-05-12")]
        date: NaiveDate,
        /// Load this path instead of /api/daily_papers?date=DATE (repeat
        /// for several, e.g. --path /papers/trending).
        #[arg(long = "path", value_name = "PATH")]
        paths: Vec<String>,
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
