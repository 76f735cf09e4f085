//! The composition root: turns the command line and configuration into
//! calls on the store, the importers and the harvesters. The only crate that
//! knows clap, the config file and the terminal.

pub mod bench;
pub mod cli;
pub mod config;
pub mod embed;
pub mod import;
pub mod jobs;
pub mod mail;
pub mod migrate;
pub mod progress;
pub mod quality;
pub mod search;
pub mod sync;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use paperboy_import::{Format, ParseOptions};
use paperboy_store::{PgStore, SqliteStore, Store};

use crate::cli::{BenchWhat, Cli, Command};
use crate::config::{Config, FileConfig, Overrides};
use crate::import::{ImportRequest, import_files};
use crate::progress::Progress;

/// Runs one command. Errors carry their context chain for the user.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let file = match &cli.config {
        Some(path) => FileConfig::read(path)?,
        None => FileConfig::default(),
    };
    let mut overrides = Overrides {
        data: cli.data.clone(),
        database_url: cli.database_url.clone(),
        ..Overrides::default()
    };
    match &cli.command {
        Command::Import(args) => overrides.batch_size = args.batch_size,
        Command::Sync(args) => {
            overrides.interval_secs = args.interval;
            match &args.source {
                cli::SyncSource::Arxiv { base_url, .. } => {
                    overrides.arxiv_oai_url.clone_from(base_url)
                }
                cli::SyncSource::Hf { base_url, .. } => overrides.hf_url.clone_from(base_url),
            }
        }
        Command::Serve(args) => {
            overrides.addr.clone_from(&args.addr);
            overrides.base_url.clone_from(&args.base_url);
            overrides.smtp_url.clone_from(&args.smtp_url);
        }
        Command::Digest(cli::DigestArgs {
            action: cli::DigestAction::Send { smtp_url, .. },
        }) => overrides.smtp_url.clone_from(smtp_url),
        Command::Stats(_)
        | Command::Bench(_)
        | Command::User(_)
        | Command::Search(_)
        | Command::Reindex
        | Command::Embed(_)
        | Command::Migrate(_) => {}
    }
    let config = Config::build(file, overrides)?;

    match cli.command {
        Command::Serve(args) => {
            let model_dir = args.model.clone().unwrap_or_else(|| config.model_dir());
            serve(&config, &model_dir)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::User(args) => {
            let cli::UserAction::Add {
                email,
                username,
                name,
                admin,
            } = args.action;
            let store = open_store(&config)?;
            let password = read_password()?;
            let username =
                username.unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string());
            let display_name = name.unwrap_or_else(|| username.clone());
            let user = paperboy_web::account::create_user(
                store.as_ref(),
                &username,
                &email,
                &display_name,
                &password,
                admin,
                chrono::Utc::now(),
            )
            .map_err(|e| anyhow::anyhow!("cannot create the account: {}", e.public_message()))?;
            let role = if user.is_admin { "admin" } else { "user" };
            println!("created {role} {} (id {})", user.username, user.id.0);
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(args) => {
            let format = args
                .format
                .as_deref()
                .map(str::parse::<Format>)
                .transpose()?;
            let store = open_store(&config)?;
            let mut progress = Progress::for_stderr("importing");
            let summary = import_files(
                store.as_ref(),
                ImportRequest {
                    paths: &args.paths,
                    format,
                    options: ParseOptions { day: args.day },
                    batch_size: config.import.batch_size,
                },
                &mut progress,
            )?;
            println!("{summary}");
            if summary.failed_files.is_empty() {
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!(
                    "error: {} of {} files could not be imported",
                    summary.failed_files.len(),
                    summary.files
                );
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Sync(args) => {
            let store = open_store(&config)?;
            sync::run(store.as_ref(), &config, args.source)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Search(args) => {
            let store = open_store(&config)?;
            search::search(store.as_ref(), &config, &args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Digest(cli::DigestArgs {
            action: cli::DigestAction::Send { dry_run, at, .. },
        }) => {
            let at = at
                .as_deref()
                .map(|text| {
                    chrono::DateTime::parse_from_rfc3339(text)
                        .map(|t| t.with_timezone(&chrono::Utc))
                        .with_context(|| {
                            format!("--at {text:?} is not a time like 2026-11-30T08:00:00Z")
                        })
                })
                .transpose()?;
            let store = open_store(&config)?;
            let complete = mail::digest_send(store, &config, dry_run, at)?;
            Ok(if complete {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Migrate(args) => migrate::run(&config, &args),
        Command::Reindex => {
            let store = open_store(&config)?;
            search::reindex(store.as_ref(), &config)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Embed(args) => {
            let model_dir = args.model.unwrap_or_else(|| config.model_dir());
            if let Some(text) = &args.text {
                embed::print_embedding(&model_dir, text)?;
            } else if let Some(path) = &args.export {
                let store = open_store(&config)?;
                let n = embed::export_vectors(store.as_ref(), path)?;
                println!("exported {n} vectors to {}", path.display());
            } else if let Some(path) = &args.import {
                let store = open_store(&config)?;
                let outcome = embed::import_vectors(store.as_ref(), path)?;
                println!(
                    "stored {} vectors; skipped {} of papers not here and {} made for another text",
                    outcome.stored, outcome.unknown, outcome.stale
                );
            } else {
                let store = open_store(&config)?;
                embed::embed_catalog(store.as_ref(), &model_dir)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Stats(args) => {
            let store = open_store(&config)?;
            let stats = store.stats()?;
            if args.json {
                let json = serde_json::json!({
                    "papers": stats.papers,
                    "daily_entries": stats.daily_entries,
                    "days": stats.days,
                    "first_day": stats.first_day,
                    "last_day": stats.last_day,
                });
                println!("{json}");
            } else {
                println!("papers:        {}", stats.papers);
                println!("daily entries: {}", stats.daily_entries);
                println!("days:          {}", stats.days);
                match (stats.first_day, stats.last_day) {
                    (Some(first), Some(last)) => println!("date range:    {first} .. {last}"),
                    _ => println!("date range:    (no daily entries)"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(args) => {
            match args.what {
                BenchWhat::Import {
                    lines,
                    sample,
                    batch_size,
                    workdir,
                } => {
                    bench::bench_import(bench::ImportBench {
                        lines,
                        sample,
                        batch_size,
                        workdir,
                    })?;
                }
                BenchWhat::Search {
                    catalog,
                    queries,
                    limit,
                    papers: Some(papers),
                    max_queries,
                    workdir,
                    model,
                } => {
                    bench::scale::bench_scale(bench::scale::ScaleBench {
                        papers,
                        catalog,
                        queries,
                        max_queries,
                        limit,
                        workdir,
                        model_dir: model.unwrap_or_else(|| config.model_dir()),
                    })?;
                }
                BenchWhat::Search {
                    catalog,
                    queries,
                    limit,
                    papers: None,
                    ..
                } => {
                    bench::bench_search(bench::SearchBench {
                        catalog,
                        queries,
                        limit,
                    })?;
                }
                BenchWhat::Digest {
                    subscribers,
                    catalog,
                    smtp,
                    send,
                    connections,
                } => {
                    bench::digest::bench_digest(bench::digest::DigestBench {
                        catalog,
                        subscribers,
                        smtp,
                        send,
                        connections,
                    })?;
                }
                BenchWhat::Quality {
                    dir,
                    split,
                    model,
                    vectors,
                    sweep,
                } => {
                    bench::quality::bench_quality(bench::quality::QualityBench {
                        dir,
                        split,
                        model_dir: model.unwrap_or_else(|| config.model_dir()),
                        vectors,
                        sweep,
                    })?;
                }
                BenchWhat::KnownItems {
                    out,
                    catalog,
                    max_queries,
                } => {
                    let summary =
                        quality::known_items::write_known_item_set(&catalog, &out, max_queries)?;
                    println!("{summary}");
                }
                BenchWhat::Backends {
                    catalog,
                    connections,
                    secs,
                    batch_size,
                    date,
                    paths,
                } => {
                    let database_url = config.database_url.clone().context(
                        "bench backends needs a PostgreSQL server: --database-url postgres://…",
                    )?;
                    bench::backends::bench_backends(bench::backends::BackendsBench {
                        database_url,
                        catalog,
                        connections,
                        secs,
                        batch_size,
                        date,
                        paths,
                    })?;
                }
                BenchWhat::GenerateKaggle { lines, sample, out } => {
                    bench::generate_kaggle(&sample, lines, &out)?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs the web server until ctrl-c (and, with the embedding model, the
/// background embedding job).
fn serve(config: &Config, model_dir: &std::path::Path) -> anyhow::Result<()> {
    let store = open_store(config)?;
    let web = paperboy_web::WebConfig {
        base_url: config.web.base_url.trim_end_matches('/').to_string(),
        secure_cookies: config.web.secure_cookies,
        site_name: config.web.site_name.clone(),
        mail_enabled: config.mail.smtp_url.is_some(),
        ..paperboy_web::WebConfig::default()
    };
    // Opening is quick; catching up runs in the background (see
    // paperboy_web::search), so the site and keyword search answer at once,
    // and search by meaning joins in as papers get embedded.
    let (engine, embedder) = search::open_engine(config, model_dir)?;
    if let Some(embedder) = embedder {
        embed::spawn_background(Arc::clone(&store), embedder);
    }
    mail::spawn_worker(Arc::clone(&store), config)?;
    let engine = Arc::new(engine);
    let state =
        paperboy_web::AppState::new(Arc::clone(&store), web).with_search(Arc::clone(&engine));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&config.web.addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.web.addr))?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, "serving");
        println!("Paperboy is serving on http://{addr}/ (ctrl-c stops it)");
        paperboy_web::serve(listener, state)
            .await
            .context("the web server failed")
    });
    // Saved so that the next start need not rebuild it from the database.
    if let Some(vectors) = engine.vectors.as_ref().filter(|v| v.is_dirty())
        && let Err(error) = vectors.save()
    {
        tracing::warn!(%error, "cannot save the vector index; the next start rebuilds it");
    }
    served
}

/// The new account's password: `PAPERBOY_PASSWORD`, else one line of stdin.
fn read_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("PAPERBOY_PASSWORD") {
        return Ok(password);
    }
    if std::io::stdin().is_terminal() {
        eprint!("password for the new account (shown as typed; or set PAPERBOY_PASSWORD): ");
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// The store the configuration names: PostgreSQL at `database_url`, else
/// the SQLite file in the data directory.
fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(url) = &config.database_url {
        let store = PgStore::connect(url)
            .with_context(|| format!("cannot open the PostgreSQL database {}", redact_url(url)))?;
        return Ok(Arc::new(store));
    }
    let path = config.database_path();
    let store = SqliteStore::open(&path)
        .with_context(|| format!("cannot open the database {}", path.display()))?;
    Ok(Arc::new(store))
}

/// A database URL without its password, for messages.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    match authority.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{}", &rest[authority.len()..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn database_urls_lose_their_password_in_messages() {
        for (url, shown) in [
            (
                "postgres://paperboy:s3cr:et@db.internal:5432/papers?sslmode=disable",
                "postgres://paperboy:***@db.internal:5432/papers?sslmode=disable",
            ),
            (
                "postgres://paperboy@db/papers",
                "postgres://paperboy@db/papers",
            ),
            ("postgres://db/papers", "postgres://db/papers"),
            ("not a url", "not a url"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }
}
