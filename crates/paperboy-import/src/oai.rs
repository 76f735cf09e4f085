//! OAI-PMH responses (`GetRecord`, `ListRecords`), `arXiv` and `arXivRaw` metadata.

use crate::{ImportError, Parsed};

/// One response of an OAI-PMH harvest.
#[derive(Debug)]
pub struct OaiPage {
    pub items: Vec<Parsed>,
    /// Present (and non-empty) when the list continues.
    pub resumption_token: Option<String>,
    pub complete_list_size: Option<u64>,
}

/// Parses one response body. An OAI `<error>` is `ImportError::Oai`, except
/// `noRecordsMatch`, which is an empty page.
pub fn parse_response(bytes: &[u8]) -> Result<OaiPage, ImportError> {
    let _ = bytes;
    unimplemented!("paperboy-import: oai::parse_response")
}
