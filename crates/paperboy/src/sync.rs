//! `paperboy sync arxiv|hf`: harvests through `paperboy-sync` into the store,
//! keeping the harvest cursor in the store so an interrupted harvest resumes.

use std::time::Duration;

use anyhow::{Context, bail};
use chrono::Utc;
use paperboy_core::SourceRecord;
use paperboy_import::{ImportError, Parsed};
use paperboy_store::Store;
use paperboy_sync::{HarvestPage, OaiParams, PoliteClient, Politeness, SyncError};

use crate::cli::SyncSource;
use crate::config::Config;
use crate::import::ImportSummary;
use crate::jobs::Lease;

/// How long a harvest's job lease lasts past each page stored.
const LEASE: Duration = Duration::from_secs(300);

/// Runs one harvest. Of several processes on one database, one harvests a
/// source at a time (the holder of its job lease, renewed with every page);
/// another asking meanwhile is refused, so no page is fetched twice.
pub fn run(store: &dyn Store, config: &Config, source: SyncSource) -> anyhow::Result<()> {
    let job = match &source {
        SyncSource::Arxiv { set, .. } => format!("sync:arxiv:{}", set.as_deref().unwrap_or("all")),
        SyncSource::Hf { .. } => "sync:hf".to_string(),
    };
    let lease = Lease::new(store, job.as_str(), LEASE);
    if !lease.hold()? {
        bail!(
            "another Paperboy process is running this harvest ({job}); try again when it is done"
        );
    }
    let result = harvest_source(store, config, source, &lease);
    lease.release();
    result
}

fn harvest_source(
    store: &dyn Store,
    config: &Config,
    source: SyncSource,
    lease: &Lease<'_>,
) -> anyhow::Result<()> {
    let mut client = PoliteClient::new(Politeness {
        min_interval: Duration::from_secs_f64(config.sync.interval_secs),
        max_retries: config.sync.max_retries,
        ..Politeness::default()
    });
    let summary = match source {
        SyncSource::Arxiv {
            from, until, set, ..
        } => {
            let cursor = Cursor::new(set.as_deref());
            let mut params = OaiParams {
                base_url: config.sync.arxiv_oai_url.clone(),
                from,
                until,
                set,
                ..OaiParams::default()
            };
            if from.is_none() {
                params.resume_token = store
                    .sync_state(&cursor.token_key)?
                    .filter(|t| !t.is_empty());
                params.from = match store.sync_state(&cursor.from_key)? {
                    Some(day) => Some(day.parse().with_context(|| {
                        format!("stored {} is not a date: {day:?}", cursor.from_key)
                    })?),
                    None => None,
                };
            }
            let started = Utc::now().date_naive();
            let summary = match harvest(store, &mut client, &params, &cursor, lease) {
                Err(SyncError::Parse(ImportError::Oai { code, .. }))
                    if code == "badResumptionToken" && params.resume_token.is_some() =>
                {
                    tracing::warn!(
                        "the stored resumption token has expired; harvesting again from the last completed day"
                    );
                    params.resume_token = None;
                    harvest(store, &mut client, &params, &cursor, lease)?
                }
                other => other?,
            };
            store.set_sync_state(&cursor.token_key, "")?;
            store.set_sync_state(&cursor.from_key, &started.to_string())?;
            summary
        }
        SyncSource::Hf { date, .. } => {
            let day = date.unwrap_or_else(|| Utc::now().date_naive());
            let items = paperboy_sync::fetch_hf_day(&mut client, &config.sync.hf_url, day)
                .with_context(|| format!("fetching the HF daily papers of {day}"))?;
            let mut summary = ImportSummary {
                files: 1,
                ..ImportSummary::default()
            };
            store_items(store, items, &format!("hf {day}"), &mut summary)?;
            summary
        }
    };
    println!("{summary}");
    Ok(())
}

/// Keys of an OAI harvest's cursor in the store's sync state, per set.
struct Cursor {
    token_key: String,
    from_key: String,
}

impl Cursor {
    fn new(set: Option<&str>) -> Cursor {
        let set = set.unwrap_or("all");
        Cursor {
            token_key: format!("arxiv:{set}:resumption_token"),
            from_key: format!("arxiv:{set}:next_from"),
        }
    }
}

fn harvest(
    store: &dyn Store,
    client: &mut PoliteClient,
    params: &OaiParams,
    cursor: &Cursor,
    lease: &Lease<'_>,
) -> Result<ImportSummary, SyncError> {
    let mut summary = ImportSummary::default();
    let mut page_no = 0usize;
    let mut sink = |page: HarvestPage| -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        page_no += 1;
        summary.files += 1;
        if !lease.hold()? {
            return Err(
                "another process took this harvest over (this one stalled past its lease)".into(),
            );
        }
        store_items(
            store,
            page.items,
            &format!("oai page {page_no}"),
            &mut summary,
        )?;
        // Only after the page is stored: a harvest killed now resumes after it.
        store.set_sync_state(
            &cursor.token_key,
            page.resumption_token.as_deref().unwrap_or(""),
        )?;
        tracing::info!(
            page = page_no,
            records = summary.records,
            total = page.complete_list_size,
            "harvested"
        );
        Ok(())
    };
    paperboy_sync::harvest_arxiv(client, params, &mut sink)?;
    Ok(summary)
}

fn store_items(
    store: &dyn Store,
    items: Vec<Parsed>,
    origin: &str,
    summary: &mut ImportSummary,
) -> anyhow::Result<()> {
    let mut records: Vec<SourceRecord> = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Parsed::Record(record) => records.push(*record),
            Parsed::Problem(problem) => {
                summary.skipped += 1;
                eprintln!("{origin}: {problem}");
            }
        }
    }
    let outcome = store.upsert(&records)?;
    summary.add_outcome(&outcome);
    Ok(())
}
