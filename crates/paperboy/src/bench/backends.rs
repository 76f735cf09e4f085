//! `paperboy bench backends`: SQLite and PostgreSQL side by side on the real
//! HF catalog, in one run, on one machine.
//!
//! 1. Import: every file of the catalog through the real import pipeline
//!    ([`import_files`]) into a fresh SQLite store in a temporary directory
//!    and into a fresh PostgreSQL schema of the run's own
//!    (`bench_backends_<pid>`, dropped at the end); then the same files
//!    again (every record unchanged: the idempotent re-import). Records/s of
//!    each pass.
//! 2. Serve: each store behind the real web stack ([`paperboy_web::serve`]
//!    on 127.0.0.1), loaded with keep-alive connections ([`super::load`]):
//!    req/s, p50 and p99 of `GET /api/daily_papers?date=D`, with the
//!    response cache off (every request reads the store) and at its default.
//!
//! Both stores are checked to hold the same catalog and list the same
//! papers for D before anything is timed on them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use chrono::NaiveDate;
use paperboy_import::ParseOptions;
use paperboy_store::{EntryQuery, ListOrder, Listed, PgStore, SqliteStore, Store};
use paperboy_web::{AppState, WebConfig};

use super::json_files;
use super::load::{self, Load, LoadResult};
use crate::import::{ImportRequest, ImportSummary, import_files};
use crate::progress::Progress;

/// What `paperboy bench backends` measures.
pub struct BackendsBench {
    /// The PostgreSQL server (`postgres://…`); the bench works in a schema
    /// of its own there.
    pub database_url: String,
    /// A folder of HF daily_papers JSON files.
    pub catalog: PathBuf,
    /// Keep-alive connections of the load generator.
    pub connections: usize,
    /// Measured seconds per path, backend and cache setting.
    pub secs: u64,
    /// Records per import transaction.
    pub batch_size: usize,
    /// The curation day `/api/daily_papers?date=` asks for.
    pub date: NaiveDate,
    /// Paths to load instead of `/api/daily_papers?date=DATE`.
    pub paths: Vec<String>,
}

/// Not counted before each measured window.
const WARMUP: Duration = Duration::from_millis(500);
/// `store.entries(D)` calls timed per backend.
const LISTING_CALLS: u32 = 1_000;

pub fn bench_backends(bench: BackendsBench) -> anyhow::Result<()> {
    ensure!(bench.connections >= 1, "--connections must be at least 1");
    ensure!(bench.secs >= 1, "--secs must be at least 1");
    ensure!(bench.batch_size >= 1, "--batch-size must be at least 1");
    let files = json_files(&bench.catalog)?;
    if files.is_empty() {
        bail!("{}: no .json files to import", bench.catalog.display());
    }
    let paths = if bench.paths.is_empty() {
        vec![format!("/api/daily_papers?date={}", bench.date)]
    } else {
        bench.paths.clone()
    };

    let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
    let sqlite = SqliteStore::open(&dir.path().join("paperboy.db"))?;
    let schema = Schema::create(
        &bench.database_url,
        format!("bench_backends_{}", std::process::id()),
    )?;
    let pg = PgStore::connect_in_schema(&bench.database_url, &schema.name)
        .context("cannot open the PostgreSQL store")?;
    let backends = [
        Backend {
            name: "SQLite",
            store: Arc::new(sqlite),
        },
        Backend {
            name: "PostgreSQL",
            store: Arc::new(pg),
        },
    ];
    eprintln!(
        "catalog: {} files from {}; PostgreSQL schema {}",
        files.len(),
        bench.catalog.display(),
        schema.name
    );

    // 1. Import, twice each.
    let mut imports = Vec::new();
    for backend in &backends {
        imports.push(import_twice(backend, &files, bench.batch_size)?);
    }
    let stats = backends[0].store.stats()?;
    let pg_stats = backends[1].store.stats()?;
    ensure!(
        (stats.papers, stats.daily_entries, stats.days)
            == (pg_stats.papers, pg_stats.daily_entries, pg_stats.days),
        "the stores differ after the import: SQLite {stats:?}, PostgreSQL {pg_stats:?}"
    );
    // What autovacuum would do within a minute of the import: the planner's
    // statistics, so that the first minute after an import is not measured.
    schema.analyze()?;

    // The store's own share of the listing, one thread.
    let query = EntryQuery {
        from: bench.date,
        to: bench.date,
        submitter: None,
        order: ListOrder::Upvotes,
        offset: 0,
        limit: paperboy_web::api::DEFAULT_LIMIT,
    };
    let mut listings = Vec::new();
    for backend in &backends {
        listings.push(time_listing(backend.store.as_ref(), &query)?);
    }
    let ids = |listed: &[Listed]| -> Vec<String> {
        listed
            .iter()
            .map(|l| l.entry.paper_id.to_string())
            .collect()
    };
    ensure!(
        ids(&listings[0].0) == ids(&listings[1].0),
        "the stores list {} differently",
        bench.date
    );

    println!(
        "catalog: {} files, {} records -> {} papers, {} daily entries, {} days \
         (import batches of up to {}, and one at least per file)",
        files.len(),
        thousands(imports[0][0].summary.records as f64),
        thousands(stats.papers as f64),
        thousands(stats.daily_entries as f64),
        stats.days,
        thousands(bench.batch_size as f64)
    );
    println!();
    println!("| import | SQLite | PostgreSQL |");
    println!("|---|---|---|");
    for (pass, what) in ["first pass (all new)", "second pass (all unchanged)"]
        .iter()
        .enumerate()
    {
        println!(
            "| {what} | {} | {} |",
            imports[0][pass].describe(),
            imports[1][pass].describe()
        );
    }
    println!(
        "| `store.entries({})` ({} entries), one thread | {} | {} |",
        bench.date,
        listings[0].0.len(),
        micros(listings[0].1),
        micros(listings[1].1)
    );
    println!();

    // 2. Serve each store and load it.
    let load = Load {
        connections: bench.connections,
        warmup: WARMUP,
        measure: Duration::from_secs(bench.secs),
    };
    let served = serve_and_load(&backends, &paths, load)?;
    print_served(&served, load);

    drop(backends);
    schema.drop_now()?;
    Ok(())
}

/// Serves each store with the web stack, the response cache off and then at
/// its default, and loads each path from it.
fn serve_and_load(
    backends: &[Backend],
    paths: &[String],
    load: Load,
) -> anyhow::Result<Vec<Served>> {
    let default_ttl = WebConfig::default().page_cache_ttl;
    let caches = [
        ("off".to_string(), Duration::ZERO),
        (
            format!("default ({} s)", default_ttl.as_secs_f64()),
            default_ttl,
        ),
    ];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the server runtime")?;
    let mut served = Vec::new();
    for backend in backends {
        for (cache, ttl) in &caches {
            let state = AppState::new(
                Arc::clone(&backend.store),
                WebConfig {
                    page_cache_ttl: *ttl,
                    ..WebConfig::default()
                },
            );
            let listener = runtime
                .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                .context("cannot listen on 127.0.0.1")?;
            let addr = listener.local_addr()?;
            let server = runtime.spawn(paperboy_web::serve(listener, state));
            for path in paths {
                eprintln!(
                    "loading {path} from {} (page cache {cache}), {} connections, {} s …",
                    backend.name,
                    load.connections,
                    load.measure.as_secs_f64()
                );
                let body = load::fetch(addr, path)?;
                let result = load::hammer(addr, path, load)?;
                served.push(Served {
                    backend: backend.name,
                    cache: cache.clone(),
                    path: path.clone(),
                    body,
                    result,
                });
            }
            server.abort();
        }
    }
    // The servers' background tasks (the change listener) are left behind.
    runtime.shutdown_timeout(Duration::from_secs(2));
    Ok(served)
}

fn print_served(served: &[Served], load: Load) {
    println!(
        "web stack on 127.0.0.1, {} keep-alive connections, {} s measured after {} s warm-up:",
        load.connections,
        load.measure.as_secs_f64(),
        load.warmup.as_secs_f64()
    );
    println!();
    println!("| path | backend | page cache | req/s | p50 | p99 | body |");
    println!("|---|---|---|---|---|---|---|");
    for row in served {
        println!(
            "| `{}` | {} | {} | **{}** | {:.2} ms | {:.2} ms | {:.1} KB |",
            row.path,
            row.backend,
            row.cache,
            thousands(row.result.per_sec()),
            row.result.quantile_ms(0.50),
            row.result.quantile_ms(0.99),
            row.body.len() as f64 / 1000.0
        );
    }
    let mut paths: Vec<&str> = served.iter().map(|r| r.path.as_str()).collect();
    paths.sort_unstable();
    paths.dedup();
    for path in paths {
        let mut bodies = served.iter().filter(|r| r.path == path).map(|r| &r.body);
        let first = bodies.next();
        if bodies.any(|body| Some(body) != first) {
            println!("note: {path} answered with different bodies on the two backends");
        }
    }
}

/// A store under test.
struct Backend {
    name: &'static str,
    store: Arc<dyn Store>,
}

/// One import pass and how long it took.
struct TimedImport {
    summary: ImportSummary,
    elapsed: Duration,
}

impl TimedImport {
    fn describe(&self) -> String {
        let secs = self.elapsed.as_secs_f64();
        format!(
            "**{} records/s** ({secs:.2} s)",
            thousands(self.summary.records as f64 / secs)
        )
    }
}

/// The files into the store, then the same files again (which must change
/// nothing).
fn import_twice(
    backend: &Backend,
    files: &[PathBuf],
    batch_size: usize,
) -> anyhow::Result<[TimedImport; 2]> {
    eprintln!("importing into {} …", backend.name);
    let first = timed_import(backend, files, batch_size)?;
    let again = timed_import(backend, files, batch_size)?;
    let (new, old) = (&first.summary, &again.summary);
    ensure!(
        new.skipped == 0 && new.failed_files.is_empty(),
        "{}: the import had problems: {new}",
        backend.name
    );
    ensure!(
        old.added == 0 && old.updated == 0 && old.unchanged == new.records,
        "{}: importing the same files again changed something: {old}",
        backend.name
    );
    Ok([first, again])
}

fn timed_import(
    backend: &Backend,
    files: &[PathBuf],
    batch_size: usize,
) -> anyhow::Result<TimedImport> {
    let started = Instant::now();
    let summary = import_files(
        backend.store.as_ref(),
        ImportRequest {
            paths: files,
            format: None,
            options: ParseOptions::default(),
            batch_size,
        },
        &mut Progress::Silent,
    )
    .with_context(|| format!("importing into {}", backend.name))?;
    Ok(TimedImport {
        summary,
        elapsed: started.elapsed(),
    })
}

/// The listing of `query` and the mean time of one `store.entries` call
/// (after a few untimed ones).
fn time_listing(store: &dyn Store, query: &EntryQuery) -> anyhow::Result<(Vec<Listed>, Duration)> {
    let mut listed = Vec::new();
    for _ in 0..10 {
        listed = store.entries(query)?;
    }
    let started = Instant::now();
    for _ in 0..LISTING_CALLS {
        std::hint::black_box(store.entries(query)?);
    }
    Ok((listed, started.elapsed() / LISTING_CALLS))
}

/// `n` rounded, with a comma every three digits (`12,345`).
fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n.abs());
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if n < -0.5 {
        out.insert(0, '-');
    }
    out
}

fn micros(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

/// One loaded path.
struct Served {
    backend: &'static str,
    cache: String,
    path: String,
    body: Vec<u8>,
    result: LoadResult,
}

/// The bench's PostgreSQL schema: made empty at the start, dropped at the
/// end (also when the bench fails).
struct Schema {
    url: String,
    name: String,
    dropped: bool,
}

impl Schema {
    fn create(url: &str, name: String) -> anyhow::Result<Schema> {
        let schema = Schema {
            url: url.to_string(),
            name,
            dropped: false,
        };
        // A schema of this name is a leftover of a killed run (same pid).
        schema.drop_schema()?;
        Ok(schema)
    }

    /// `ANALYZE` of every table of the schema.
    fn analyze(&self) -> anyhow::Result<()> {
        let mut client = self.client()?;
        let tables = client.query(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1",
            &[&self.name],
        )?;
        for table in tables {
            let table: String = table.get(0);
            client.batch_execute(&format!(
                "ANALYZE \"{}\".\"{}\"",
                self.name,
                table.replace('"', "\"\"")
            ))?;
        }
        Ok(())
    }

    fn drop_now(mut self) -> anyhow::Result<()> {
        self.dropped = true;
        self.drop_schema()
    }

    fn drop_schema(&self) -> anyhow::Result<()> {
        self.execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name))
    }

    fn execute(&self, sql: &str) -> anyhow::Result<()> {
        self.client()?
            .batch_execute(sql)
            .with_context(|| format!("PostgreSQL: {sql}"))
    }

    fn client(&self) -> anyhow::Result<postgres::Client> {
        postgres::Client::connect(&self.url, postgres::NoTls)
            .context("cannot connect to PostgreSQL")
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if !self.dropped
            && let Err(error) = self.drop_schema()
        {
            eprintln!(
                "warning: cannot drop the PostgreSQL schema {}: {error:#}",
                self.name
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_get_commas() {
        for (n, shown) in [
            (0.0, "0"),
            (999.4, "999"),
            (1_000.0, "1,000"),
            (12_345.6, "12,346"),
            (1_234_567.0, "1,234,567"),
        ] {
            assert_eq!(thousands(n), shown);
        }
    }
}
