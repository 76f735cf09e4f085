//! `paperboy migrate --to URL`: the move from the data directory's SQLite
//! file to PostgreSQL (see `paperboy_store::copy_sqlite_to_postgres`), with
//! progress on the terminal and a table of what was copied.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use paperboy_store::{CopyReport, copy_sqlite_to_postgres};

use crate::cli::MigrateArgs;
use crate::config::Config;
use crate::progress::Progress;

/// Copies and verifies; prints one line per table and a summary. Any error
/// leaves PostgreSQL as it was (the copy is one transaction).
pub fn run(config: &Config, args: &MigrateArgs) -> anyhow::Result<ExitCode> {
    let source = config.database_path();
    let started = Instant::now();
    let mut progress = Progress::for_stderr("migrating");
    let copied = copy_sqlite_to_postgres(&source, &args.to, args.schema.as_deref(), |p| {
        progress.update(p.rows, &format!("{} {}", p.step, p.table));
    });
    progress.finish();
    let report = copied.context("nothing was copied to PostgreSQL")?;
    print!("{}", table(&report));
    println!(
        "migrated {} rows in {} tables from {} to {} in {:.1} s: every table's row count and checksum match",
        report.rows(),
        report.tables.len(),
        source.display(),
        report.target,
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// One line per table: name, rows, SHA-256 of its rows.
fn table(report: &CopyReport) -> String {
    let width = report
        .tables
        .iter()
        .map(|t| t.table.len())
        .max()
        .unwrap_or(0)
        .max("table".len());
    let mut text = format!("{:<width$}  {:>9}  sha256\n", "table", "rows");
    for t in &report.tables {
        text.push_str(&format!(
            "{:<width$}  {:>9}  {}\n",
            t.table, t.rows, t.checksum
        ));
    }
    text
}
