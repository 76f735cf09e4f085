//! `paperboy`: parses the command line, sets up logging, runs the command.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = paperboy::cli::Cli::parse();
    // Logs go to stderr; `PAPERBOY_LOG` (e.g. `debug`, `paperboy_sync=trace`) filters them.
    // tantivy logs every commit at info: quiet by default.
    let filter = EnvFilter::try_from_env("PAPERBOY_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tantivy=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match paperboy::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
