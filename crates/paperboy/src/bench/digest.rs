//! `paperboy bench digest`: digests for many subscribers, timed in the
//! three steps mail takes: the scheduler composes and queues them (one
//! shared edition of papers per period and size, one outbox row per
//! subscriber), the sender renders each to its MIME bytes, and (with
//! `--smtp`) sends `--send` of them to an SMTP server — beside lettre
//! alone feeding the same server the same bytes over as many connections,
//! with no database: the pace of the SMTP exchange itself.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use paperboy_core::mail::{Cadence, Schedule, parse_zone};
use paperboy_core::{EmailAddress, MessageId};
use paperboy_import::ParseOptions;
use paperboy_mail::deliver::{Deliverer, RetryPolicy};
use paperboy_mail::render::{MailSettings, Renderer};
use paperboy_mail::schedule::Scheduler;
use paperboy_mail::smtp::SmtpSettings;
use paperboy_store::{NewSubscription, SqliteStore, Store};

use crate::bench::json_files;
use crate::import::{ImportRequest, import_files};
use crate::progress::Progress;

/// What `paperboy bench digest` runs.
pub struct DigestBench {
    /// HF daily_papers files; the newest days are the digests' papers.
    pub catalog: PathBuf,
    pub subscribers: usize,
    /// An SMTP server to send them to (e.g. Postfix's `smtp-sink`).
    pub smtp: Option<String>,
    /// How many to send (a set of their own: sending is the slow part).
    pub send: usize,
    /// SMTP connections at once (default: the sender's).
    pub connections: Option<usize>,
}

/// The zones subscribers are spread over, all at 08:00 local.
const ZONES: [&str; 4] = ["Asia/Tokyo", "Europe/Berlin", "UTC", "America/New_York"];

pub fn bench_digest(bench: DigestBench) -> anyhow::Result<()> {
    let files = json_files(&bench.catalog)?;
    let recent = &files[files.len().saturating_sub(10)..];
    let (_temp, store) = catalog_store(recent)?;
    let last_day = recent
        .last()
        .and_then(|p| p.file_stem())
        .and_then(|s| NaiveDate::parse_from_str(&s.to_string_lossy(), "%Y-%m-%d").ok())
        .context("the catalog's newest file is not named YYYY-MM-DD.json")?;
    // The digest of the first weekday after the newest list covers it.
    let mut send_day = last_day + Duration::days(1);
    while matches!(send_day.weekday(), Weekday::Sat | Weekday::Sun) {
        send_day += Duration::days(1);
    }
    // Subscribed the day before; run when every zone's 08:00 has passed and
    // no zone's next one has.
    let subscribed_at = Utc.from_utc_datetime(&(send_day - Duration::days(1)).and_time(noon()));
    let run_at =
        Utc.from_utc_datetime(&send_day.and_time(NaiveTime::from_hms_opt(14, 0, 0).unwrap()));

    let started = Instant::now();
    subscribe(store.as_ref(), bench.subscribers, subscribed_at)?;
    eprintln!(
        "{} confirmed subscribers in 4 zones set up in {:.1} s",
        bench.subscribers,
        started.elapsed().as_secs_f64()
    );

    let scheduler = Scheduler::new(Arc::clone(&store));
    let started = Instant::now();
    let report = scheduler.run_once(run_at)?;
    let composed = started.elapsed();
    if report.digests_queued as usize != bench.subscribers {
        bail!(
            "queued {} digests for {} subscribers",
            report.digests_queued,
            bench.subscribers
        );
    }
    print_rate("compose and queue", report.digests_queued, composed);

    let settings = MailSettings::new(
        "Paperboy <papers@example.org>",
        "https://papers.example.org",
        "Paperboy",
    )?;
    let started = Instant::now();
    let mut bytes = 0usize;
    let mut sample = None;
    let ids: Vec<i64> = (1..=report.digests_queued as i64).collect();
    for batch in ids.chunks(RetryPolicy::default().batch) {
        let messages = batch
            .iter()
            .map(|&id| {
                store
                    .message(MessageId(id))?
                    .context("a queued message is missing")
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        // As the sender renders a batch it claimed: each edition once.
        let mut renderer = Renderer::new(&settings);
        renderer.prepare(&messages);
        for message in &messages {
            let rendered = renderer.render(message)?;
            bytes += rendered.formatted().len();
            sample.get_or_insert_with(|| rendered.formatted().to_vec());
        }
    }
    let rendered = started.elapsed();
    print_rate("render (MIME bytes)", report.digests_queued, rendered);
    println!(
        "{:>24}  {:.1} KB per digest",
        "size",
        bytes as f64 / report.digests_queued.max(1) as f64 / 1024.0
    );

    if let Some(url) = &bench.smtp {
        // Sending takes minutes per 100,000; a smaller set of its own.
        let n = bench.send.min(bench.subscribers);
        let (_temp, store) = catalog_store(recent)?;
        subscribe(store.as_ref(), n, subscribed_at)?;
        Scheduler::new(Arc::clone(&store)).run_once(run_at)?;
        let mut smtp = SmtpSettings::from_url(url)?;
        let mut policy = RetryPolicy::default();
        if let Some(n) = bench.connections {
            policy.connections = n.max(1);
        }
        smtp.pool_max = u32::try_from(policy.connections).unwrap_or(u32::MAX);
        let transport = smtp.transport()?;
        let mut deliverer = Deliverer::new(Arc::clone(&store), Arc::new(transport), settings);
        deliverer.policy = policy;
        let offset = run_at - Utc::now();
        deliverer.clock = Arc::new(move || Utc::now() + offset);
        let connections = deliverer.policy.connections;
        let started = Instant::now();
        let sent = deliverer.run_once()?;
        print_rate(
            &format!("send ({connections} connections)"),
            sent.sent,
            started.elapsed(),
        );
        if sent.sent != n as u64 {
            bail!("sent {} of {n} digests: {sent:?}", sent.sent);
        }
        let bare = bare_client(
            &smtp,
            sample.as_deref().unwrap_or_default(),
            sent.sent,
            connections,
        )?;
        print_rate("bare lettre, same server", sent.sent, bare);
    }
    Ok(())
}

/// A fresh store in a temporary directory holding the HF `files`.
fn catalog_store(files: &[PathBuf]) -> anyhow::Result<(tempfile::TempDir, Arc<dyn Store>)> {
    let temp = tempfile::tempdir().context("cannot make a temporary directory")?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&temp.path().join("paperboy.db"))?);
    import_files(
        store.as_ref(),
        ImportRequest {
            paths: files,
            format: None,
            options: ParseOptions::default(),
            batch_size: 5_000,
        },
        &mut Progress::Silent,
    )?;
    Ok((temp, store))
}

fn noon() -> NaiveTime {
    NaiveTime::from_hms_opt(12, 0, 0).expect("a time")
}

/// `n` confirmed daily subscribers at 08:00, spread over [`ZONES`].
fn subscribe(store: &dyn Store, n: usize, at: DateTime<Utc>) -> anyhow::Result<()> {
    for i in 0..n {
        let zone = parse_zone(ZONES[i % ZONES.len()])?;
        let new = NewSubscription {
            email: EmailAddress::parse(&format!("reader{i}@example.org"))?,
            user: None,
            schedule: Schedule {
                cadence: Cadence::Daily,
                send_at: NaiveTime::from_hms_opt(8, 0, 0).expect("a time"),
                zone,
            },
            papers: 10,
            confirm_token_hash: format!("{i:064x}"),
            unsubscribe_token: format!("{:064x}", i + n),
        };
        store.subscribe(&new, at)?;
        store
            .confirm_subscription(&new.confirm_token_hash, at)?
            .context("a fresh subscription confirms")?;
    }
    Ok(())
}

/// Sends `raw` `n` times through the same server with the SMTP client alone
/// (lettre's SMTP over [`paperboy_mail::smtp::SmtpMailer`]'s sockets; no
/// database, no rendering) over `connections` connections at once: how
/// fast the server and the SMTP client take mail.
fn bare_client(
    smtp: &SmtpSettings,
    raw: &[u8],
    n: u64,
    connections: usize,
) -> anyhow::Result<std::time::Duration> {
    let mailer = smtp.transport()?;
    let envelope = lettre::address::Envelope::new(
        Some("papers@example.org".parse()?),
        vec!["reader@example.org".parse()?],
    )?;
    let started = Instant::now();
    let per_thread = n.div_ceil(connections as u64);
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..connections as u64)
            .map(|t| {
                let count = per_thread.min(n.saturating_sub(t * per_thread));
                let envelope = &envelope;
                let mailer = &mailer;
                scope.spawn(move || -> anyhow::Result<()> {
                    for _ in 0..count {
                        mailer
                            .send_raw(envelope, raw)
                            .context("the bare client could not send")?;
                    }
                    Ok(())
                })
            })
            .collect();
        threads.into_iter().try_for_each(|t| {
            t.join()
                .unwrap_or_else(|_| bail!("a sending thread panicked"))
        })
    })?;
    Ok(started.elapsed())
}

fn print_rate(step: &str, n: u64, took: std::time::Duration) {
    println!(
        "{step:>24}  {n} digests in {:.2} s = {:.0} digests/s",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64().max(1e-9)
    );
}
