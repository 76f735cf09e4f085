//! Progress reporting for long work: a live bar on a terminal, a plain log
//! line every few seconds elsewhere (CI, pipes, services).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const LOG_EVERY: Duration = Duration::from_secs(5);

pub enum Progress {
    Bar(ProgressBar),
    Log {
        what: &'static str,
        started: Instant,
        last: Instant,
    },
    Silent,
}

impl Progress {
    /// A bar when stderr is a terminal, log lines otherwise.
    pub fn for_stderr(what: &'static str) -> Progress {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {msg} {human_pos} records ({per_sec}) [{elapsed}]",
                )
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar.set_message(what);
            Progress::Bar(bar)
        } else {
            let now = Instant::now();
            Progress::Log {
                what,
                started: now,
                last: now,
            }
        }
    }

    /// Sets the current position (records processed) and context (file).
    pub fn update(&mut self, done: u64, context: &str) {
        match self {
            Progress::Bar(bar) => {
                bar.set_position(done);
                bar.set_message(context.to_string());
            }
            Progress::Log {
                what,
                started,
                last,
            } => {
                if last.elapsed() >= LOG_EVERY {
                    *last = Instant::now();
                    let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-9);
                    tracing::info!(
                        records = done,
                        per_sec = rate.round() as u64,
                        file = context,
                        "{what}"
                    );
                }
            }
            Progress::Silent => {}
        }
    }

    /// Prints a line without tearing the bar.
    pub fn println(&self, line: &str) {
        match self {
            Progress::Bar(bar) => bar.suspend(|| eprintln!("{line}")),
            _ => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}
