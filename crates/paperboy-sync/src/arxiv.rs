//! arXiv's OAI-PMH interface: an incremental `ListRecords` harvest that
//! follows resumption tokens and hands every page to the caller before it
//! asks for the next, so a killed harvest can resume from the last token.
//!
//! It builds URLs and drives the [`PoliteClient`]; the XML is parsed by
//! `paperboy_import::oai`. It never stores anything itself: that is the sink's
//! job (no database here), and it reads no flags (no CLI here).

use chrono::NaiveDate;
use paperboy_import::{ImportError, Parsed, oai};

use crate::polite::http_error;
use crate::{PoliteClient, SyncError, query};

/// arXiv's OAI-PMH endpoint.
pub const ARXIV_OAI_BASE_URL: &str = "https://export.arxiv.org/oai2";

/// What to harvest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OaiParams {
    pub base_url: String,
    /// `arXivRaw` (every version with its date and size) or `arXiv`.
    pub metadata_prefix: String,
    /// Records changed on or after this day (OAI datestamps are days).
    pub from: Option<NaiveDate>,
    /// Records changed on or before this day.
    pub until: Option<NaiveDate>,
    /// An OAI set such as `cs` or `physics:hep-th`; `None` for everything.
    pub set: Option<String>,
    /// Continue an interrupted harvest: the last token a sink received. When
    /// given, `metadata_prefix`, `from`, `until` and `set` are not sent (the
    /// token stands for them, and OAI-PMH forbids sending both).
    pub resume_token: Option<String>,
}

impl Default for OaiParams {
    fn default() -> OaiParams {
        OaiParams {
            base_url: ARXIV_OAI_BASE_URL.to_string(),
            metadata_prefix: "arXivRaw".to_string(),
            from: None,
            until: None,
            set: None,
            resume_token: None,
        }
    }
}

/// One response of a harvest, as the sink receives it.
#[derive(Debug)]
pub struct HarvestPage {
    pub items: Vec<Parsed>,
    /// The token that fetches the next page; `None` on the last page. A sink
    /// that persists it (with the page's records) lets a killed harvest
    /// resume with [`OaiParams::resume_token`].
    pub resumption_token: Option<String>,
    /// The size of the whole list, when the server says.
    pub complete_list_size: Option<u64>,
}

/// What a finished harvest went through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HarvestSummary {
    /// Responses handed to the sink.
    pub pages: u64,
    /// Records handed to the sink.
    pub records: u64,
    /// Records the parser could not use (reported as problems in the pages).
    pub problems: u64,
}

/// What a sink may fail with; it ends the harvest as [`SyncError::Sink`].
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Harvests `ListRecords` from `params.base_url`, page by page, until the
/// server sends no (or an empty) resumption token. Each page goes to `sink`
/// before the next request is made. `noRecordsMatch` is a harvest of zero
/// records; any other OAI error (`badResumptionToken`, `badArgument`, …) is
/// [`SyncError::Parse`] holding [`ImportError::Oai`].
pub fn harvest_arxiv(
    client: &mut PoliteClient,
    params: &OaiParams,
    sink: &mut dyn FnMut(HarvestPage) -> Result<(), SinkError>,
) -> Result<HarvestSummary, SyncError> {
    let mut summary = HarvestSummary::default();
    let mut token = params.resume_token.clone().filter(|t| !t.trim().is_empty());
    let mut url = match &token {
        Some(t) => resume_url(&params.base_url, t),
        None => first_url(params),
    };
    loop {
        let page = fetch_page(client, &url)?;
        let next = page
            .resumption_token
            .clone()
            .filter(|t| !t.trim().is_empty());
        summary.pages += 1;
        for item in &page.items {
            match item {
                Parsed::Record(_) => summary.records += 1,
                Parsed::Problem(_) => summary.problems += 1,
            }
        }
        tracing::info!(
            pages = summary.pages,
            records = summary.records,
            complete_list_size = page.complete_list_size,
            "OAI-PMH page harvested"
        );
        sink(HarvestPage {
            items: page.items,
            resumption_token: next.clone(),
            complete_list_size: page.complete_list_size,
        })
        .map_err(SyncError::Sink)?;
        match next {
            None => return Ok(summary),
            Some(t) if token.as_deref() == Some(t.as_str()) => {
                // A server that hands back the token it was given would keep
                // us asking for the same page forever.
                return Err(SyncError::Parse(ImportError::Malformed {
                    format: "OAI-PMH",
                    location: paperboy_import::Location::Document,
                    message: format!(
                        "the server returned the resumptionToken it was sent ({t:?}) again"
                    ),
                }));
            }
            Some(t) => {
                url = resume_url(&params.base_url, &t);
                token = Some(t);
            }
        }
    }
}

/// One response, parsed. An OAI-PMH error served with a non-2xx status is
/// still reported as the OAI error it names, which says more than the status.
fn fetch_page(client: &mut PoliteClient, url: &str) -> Result<oai::OaiPage, SyncError> {
    let fetched = client.fetch(url)?;
    if !fetched.is_success() {
        if let Err(e @ ImportError::Oai { .. }) = oai::parse_response(&fetched.body) {
            return Err(SyncError::Parse(e));
        }
        return Err(http_error(&fetched.url, fetched.status, &fetched.body));
    }
    Ok(oai::parse_response(&fetched.body)?)
}

fn first_url(params: &OaiParams) -> String {
    let from = params.from.map(|d| d.format("%Y-%m-%d").to_string());
    let until = params.until.map(|d| d.format("%Y-%m-%d").to_string());
    let mut query = vec![
        ("verb", "ListRecords"),
        ("metadataPrefix", params.metadata_prefix.as_str()),
    ];
    if let Some(from) = &from {
        query.push(("from", from));
    }
    if let Some(until) = &until {
        query.push(("until", until));
    }
    if let Some(set) = &params.set {
        query.push(("set", set));
    }
    query::url_with(&params.base_url, &query)
}

/// OAI-PMH allows nothing but the verb next to a resumption token.
fn resume_url(base_url: &str, token: &str) -> String {
    query::url_with(
        base_url,
        &[("verb", "ListRecords"), ("resumptionToken", token)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let base = OaiParams {
            base_url: "http://h/oai2".into(),
            ..OaiParams::default()
        };
        assert_eq!(
            first_url(&base),
            "http://h/oai2?verb=ListRecords&metadataPrefix=arXivRaw"
        );
        let all = OaiParams {
            metadata_prefix: "arXiv".into(),
            from: Some(day("2024-01-02")),
            until: Some(day("2024-02-03")),
            set: Some("physics:hep-th".into()),
            ..base.clone()
        };
        assert_eq!(
            first_url(&all),
            "http://h/oai2?verb=ListRecords&metadataPrefix=arXiv&from=2024-01-02&until=2024-02-03&set=physics%3Ahep-th"
        );
        assert_eq!(
            resume_url("http://h/oai2", "726959|1001"),
            "http://h/oai2?verb=ListRecords&resumptionToken=726959%7C1001"
        );
    }

    #[test]
    fn defaults_are_arxivs() {
        let p = OaiParams::default();
        assert_eq!(p.base_url, "https://export.arxiv.org/oai2");
        assert_eq!(p.metadata_prefix, "arXivRaw");
        assert!(
            p.from.is_none() && p.until.is_none() && p.set.is_none() && p.resume_token.is_none()
        );
    }
}
