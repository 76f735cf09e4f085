//! Mail in the binary: `paperboy digest send` and the mail worker `serve`
//! runs. Both do the same round: the scheduler queues what is due (digests
//! at each subscriber's local send time, saved-search alerts), then the
//! deliverer sends what the outbox holds over SMTP.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use paperboy_mail::deliver::{Deliverer, DeliveryReport};
use paperboy_mail::render::MailSettings;
use paperboy_mail::schedule::{ScheduleReport, Scheduler};
use paperboy_mail::smtp::SmtpSettings;
use paperboy_store::Store;

use crate::config::Config;
use crate::jobs::Lease;

/// Set to `exit-after-accept` to crash the sender right after the SMTP
/// server accepted a message and before it is marked sent (the crash test
/// of the outbox; never set in production).
pub const FAULT_VARIABLE: &str = "PAPERBOY_FAULT";

/// What `paperboy digest send` does: one round at `at` (default now).
/// `dry_run` prints what is due and queued, and whether the mail server
/// answers, changing and sending nothing. Returns whether everything due
/// could be handed to the server (with `dry_run`: whether a configured
/// server answers).
pub fn digest_send(
    store: Arc<dyn Store>,
    config: &Config,
    dry_run: bool,
    at: Option<DateTime<Utc>>,
) -> anyhow::Result<bool> {
    let now = at.unwrap_or_else(Utc::now);
    let scheduler = Scheduler::new(Arc::clone(&store));
    if dry_run {
        let plan = scheduler.plan(now)?;
        let outbox = store.outbox_stats()?;
        println!(
            "due at {}: {} digests ({} periods with nothing to send), {} alert matches, {} alert mails; \
             outbox: {} queued, {} sent, {} failed (dry run: nothing changed, nothing sent)",
            now.to_rfc3339(),
            plan.digests_queued,
            plan.digests_empty,
            plan.alert_matches,
            plan.alert_mails_queued,
            outbox.queued,
            outbox.sent,
            outbox.failed,
        );
        return Ok(match &config.mail.smtp_url {
            None => {
                println!("mail server: none configured (mail.smtp_url)");
                true
            }
            Some(url) => match check_server(url) {
                Ok(server) => {
                    println!("mail server {server}: answers");
                    true
                }
                Err(why) => {
                    println!("mail server: {why}");
                    false
                }
            },
        });
    }
    let Some(deliverer) = deliverer(&store, config, at)? else {
        bail!(
            "no SMTP server is configured: set mail.smtp_url in the config file, \
             PAPERBOY_SMTP_URL or --smtp-url (or look with --dry-run)"
        );
    };
    let (queued, sent) = round(&scheduler, &deliverer, now)?;
    println!("{}", summary(&queued, &sent));
    if let Some(why) = &sent.stopped {
        eprintln!("sending stopped early: {why}; the rest is retried on the next run");
    }
    Ok(sent.stopped.is_none())
}

/// The deliverer for this configuration, `None` without an SMTP URL. With
/// `at`, its clock runs from `at` (so leases and retries agree with the
/// scheduler's time).
fn deliverer(
    store: &Arc<dyn Store>,
    config: &Config,
    at: Option<DateTime<Utc>>,
) -> anyhow::Result<Option<Deliverer>> {
    let Some(url) = &config.mail.smtp_url else {
        return Ok(None);
    };
    let smtp = SmtpSettings::from_url(url)?;
    let transport = smtp
        .transport()
        .with_context(|| format!("cannot set up SMTP to {}", smtp.describe()))?;
    let settings = MailSettings::new(
        &config.mail.from,
        config.web.base_url.trim_end_matches('/'),
        &config.web.site_name,
    )?;
    let mut deliverer = Deliverer::new(Arc::clone(store), Arc::new(transport), settings);
    deliverer.policy.lease = Duration::from_secs(config.mail.lease_secs);
    if let Some(at) = at {
        let offset = at - Utc::now();
        deliverer.clock = Arc::new(move || Utc::now() + offset);
    }
    if std::env::var(FAULT_VARIABLE).is_ok_and(|v| v == "exit-after-accept") {
        deliverer.after_accept = Some(Arc::new(|_| {
            eprintln!("{FAULT_VARIABLE}: crashing after the server accepted a message");
            std::process::abort();
        }));
    }
    Ok(Some(deliverer))
}

/// Connects to the server of `url` as the sender would (TLS, login) and
/// asks NOOP: the server as logs name it, or why it cannot be used.
fn check_server(url: &str) -> Result<String, String> {
    let smtp = SmtpSettings::from_url(url).map_err(|e| e.to_string())?;
    let server = smtp.describe();
    let transport = smtp
        .transport()
        .map_err(|e| format!("cannot set up SMTP to {server}: {e}"))?;
    match transport.check() {
        Ok(()) => Ok(server),
        Err(e) => Err(format!("{server} cannot take mail now: {e}")),
    }
}

/// Queues what is due, then sends.
fn round(
    scheduler: &Scheduler,
    deliverer: &Deliverer,
    now: DateTime<Utc>,
) -> anyhow::Result<(ScheduleReport, DeliveryReport)> {
    let queued = scheduler.run_once(now)?;
    let sent = deliverer.run_once()?;
    Ok((queued, sent))
}

fn summary(queued: &ScheduleReport, sent: &DeliveryReport) -> String {
    format!(
        "queued {} digests ({} periods with nothing to send) and {} alert mails ({} new alert matches); \
         sent {}, to retry {}, failed {}, subscriptions paused {}",
        queued.digests_queued,
        queued.digests_empty,
        queued.alert_mails_queued,
        queued.alert_matches,
        sent.sent,
        sent.retried + sent.released,
        sent.failed,
        sent.paused,
    )
}

/// How often `serve` looks for queued mail (a confirmation mail goes out
/// within this of the form being sent); the scheduler runs every
/// `mail.interval_secs`.
const SEND_EVERY: Duration = Duration::from_secs(2);

/// Starts the mail worker of `serve`: the scheduler every
/// `mail.interval_secs` (of several nodes on one database, the holder of the
/// `mail-scheduler` job lease), the sender every [`SEND_EVERY`] (on every
/// node: the outbox hands each message to one sender). Without an SMTP
/// URL nothing is scheduled or sent (subscriptions and confirmation mails
/// still queue, and go out once one is configured).
pub fn spawn_worker(store: Arc<dyn Store>, config: &Config) -> anyhow::Result<()> {
    let Some(deliverer) = deliverer(&store, config, None)? else {
        tracing::info!("mail is off: no SMTP server configured (mail.smtp_url)");
        return Ok(());
    };
    let scheduler = Scheduler::new(Arc::clone(&store));
    let interval = Duration::from_secs(config.mail.interval_secs);
    let url = config.mail.smtp_url.clone().unwrap_or_default();
    std::thread::Builder::new()
        .name("mail".into())
        .spawn(move || {
            // A wrong password or an unreachable server is said once at
            // start, in words, before the first mails wait for it.
            match check_server(&url) {
                Ok(server) => tracing::info!("mail server {server} answers"),
                Err(why) => {
                    tracing::warn!("mail server: {why}; mail waits in the outbox and is retried")
                }
            }
            // Every node sends (each claims its own messages); one queues.
            let lease = Lease::new(store.as_ref(), "mail-scheduler", interval * 4);
            let mut scheduled: Option<std::time::Instant> = None;
            loop {
                let queued = if scheduled.is_none_or(|at| at.elapsed() >= interval) {
                    scheduled = Some(std::time::Instant::now());
                    match lease.hold() {
                        Ok(true) => scheduler.run_once(Utc::now()),
                        Ok(false) => Ok(ScheduleReport::default()),
                        Err(error) => Err(error.into()),
                    }
                } else {
                    Ok(ScheduleReport::default())
                };
                let sent = deliverer.run_once();
                match (queued, sent) {
                    (Ok(queued), Ok(sent)) => {
                        if !queued.is_idle() || sent != DeliveryReport::default() {
                            tracing::info!("mail: {}", summary(&queued, &sent));
                        }
                    }
                    (Err(error), _) => tracing::warn!("mail scheduling failed: {error:#}"),
                    (_, Err(error)) => tracing::warn!("mail sending failed: {error:#}"),
                }
                std::thread::sleep(SEND_EVERY.min(interval));
            }
        })
        .context("cannot start the mail thread")?;
    Ok(())
}
