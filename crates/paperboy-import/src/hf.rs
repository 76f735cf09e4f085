//! HF `GET /api/daily_papers` responses.

use crate::{ImportError, ParseOptions, Parsed};

/// Parses one day's response body (any of its real shapes).
pub fn parse_day(bytes: &[u8], opts: &ParseOptions) -> Result<Vec<Parsed>, ImportError> {
    let _ = (bytes, opts);
    unimplemented!("paperboy-import: hf::parse_day")
}
