//! OAI-PMH responses (`GetRecord`, `ListRecords`), `arXiv` and `arXivRaw`
//! metadata (and the older `arXivOld`, which is `arXivRaw` without versions).
//!
//! Records are found wherever they are in the document, so a response with
//! several records under `GetRecord`, or without the default namespace, reads
//! like any other. Deleted records are skipped; a record that cannot be read
//! is a problem at the line where it starts.

use chrono::{DateTime, Utc};
use paperboy_core::{ArxivId, Paper, SourceRecord, looks_withdrawn};

use crate::arxiv_fields::{
    categories, first_doi, one_line, parse_rfc2822, person_name, split_author_list, version_number,
};
use crate::json_fields::parse_time;
use crate::text_ascii::{clean_line, normalize_abstract};
use crate::xml_tree::{self, Element};
use crate::{ImportError, Location, Parsed, Problem};

const FORMAT: &str = "OAI-PMH response";

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
    let (response, lines) = xml_tree::parse_document(bytes, FORMAT, "OAI-PMH")?;
    let empty = OaiPage {
        items: Vec::new(),
        resumption_token: None,
        complete_list_size: None,
    };
    if let Some(error) = response.child("error") {
        let code = error.attr("code").unwrap_or_default().to_string();
        if code == "noRecordsMatch" {
            return Ok(empty);
        }
        return Err(ImportError::Oai {
            code,
            message: clean_line(&error.text),
        });
    }

    let items = response
        .descendants_named("record")
        .into_iter()
        .filter_map(|record| {
            record_paper(record).transpose().map(|result| match result {
                Ok(paper) => Parsed::Record(Box::new(SourceRecord { paper, entry: None })),
                Err(message) => Parsed::Problem(Problem {
                    location: Location::Line(lines.line(record.offset)),
                    message,
                }),
            })
        })
        .collect();
    let token = response
        .descendants_named("resumptionToken")
        .into_iter()
        .next();
    Ok(OaiPage {
        items,
        resumption_token: token
            .map(|t| t.text.trim())
            .filter(|t| !t.is_empty())
            .map(str::to_string),
        complete_list_size: token
            .and_then(|t| t.attr("completeListSize"))
            .and_then(|n| n.trim().parse().ok()),
    })
}

/// The paper of one `<record>`; `Ok(None)` for a deleted record.
fn record_paper(record: &Element) -> Result<Option<Paper>, String> {
    let header = record.child("header");
    if header.and_then(|h| h.attr("status")) == Some("deleted") {
        return Ok(None);
    }
    let header_id = header.and_then(|h| h.child_text("identifier"));
    let metadata = record
        .child("metadata")
        .and_then(|m| m.children.first())
        .ok_or_else(|| {
            format!(
                "record {} has no <metadata>",
                header_id.unwrap_or("without identifier")
            )
        })?;
    let raw_id = metadata
        .child_text("id")
        .or(header_id)
        .ok_or("<id>: missing")?;
    let id = ArxivId::parse(raw_id).map_err(|e| format!("<id>: {e}"))?.id;
    let mut paper = Paper::new(id);
    match metadata.name.as_str() {
        "arXiv" => read_arxiv(metadata, &mut paper)?,
        "arXivRaw" | "arXivOld" => read_arxiv_raw(metadata, &mut paper)?,
        other => {
            return Err(format!(
                "metadata format <{other}> is not supported (use arXiv or arXivRaw)"
            ));
        }
    }
    let b = &mut paper.biblio;
    b.title = metadata
        .child_text("title")
        .map(clean_line)
        .unwrap_or_default();
    b.abstract_text = metadata
        .child_text("abstract")
        .map(normalize_abstract)
        .unwrap_or_default();
    (b.categories, b.primary_category) =
        categories(metadata.child_text("categories").unwrap_or_default(), None);
    b.comments = metadata.child_text("comments").and_then(one_line);
    b.journal_ref = metadata.child_text("journal-ref").and_then(one_line);
    b.doi = metadata.child_text("doi").and_then(first_doi);
    b.license = metadata.child_text("license").and_then(one_line);
    Ok(Some(paper))
}

/// `arXiv`: structured authors, `created`/`updated` dates, no versions.
fn read_arxiv(m: &Element, paper: &mut Paper) -> Result<(), String> {
    let b = &mut paper.biblio;
    b.authors = m
        .child("authors")
        .map(|authors| {
            authors
                .children_named("author")
                .map(|a| {
                    person_name(
                        a.child_text("forenames").unwrap_or_default(),
                        a.child_text("keyname").unwrap_or_default(),
                        a.child_text("suffix").unwrap_or_default(),
                    )
                })
                .filter(|n| !n.is_empty())
                .collect()
        })
        .unwrap_or_default();
    b.published = date(m, "created")?;
    b.updated = date(m, "updated")?;
    b.withdrawn = looks_withdrawn(m.child_text("comments"), None);
    Ok(())
}

/// `arXivRaw`: one author string, and every version with its date and size.
fn read_arxiv_raw(m: &Element, paper: &mut Paper) -> Result<(), String> {
    let b = &mut paper.biblio;
    b.authors = m
        .child_text("authors")
        .map(split_author_list)
        .unwrap_or_default();
    let mut versions = Vec::new();
    for (i, v) in m.children_named("version").enumerate() {
        let date = v
            .child_text("date")
            .ok_or_else(|| format!("<version> {}: <date> missing", i + 1))?;
        let date = parse_rfc2822(date).ok_or_else(|| {
            format!(
                "<version> {}: <date> is not an RFC 2822 time: {date:?}",
                i + 1
            )
        })?;
        versions.push((v.attr("version"), date, v.child_text("size")));
    }
    if let (Some(first), Some(last)) = (versions.first(), versions.last()) {
        b.published = Some(first.1);
        b.updated = Some(last.1);
        let count = u32::try_from(versions.len()).ok();
        b.version = last.0.and_then(version_number).or(count);
    }
    let last_size = versions.last().and_then(|v| v.2);
    b.withdrawn = looks_withdrawn(m.child_text("comments"), last_size);
    Ok(())
}

fn date(m: &Element, name: &str) -> Result<Option<DateTime<Utc>>, String> {
    match m.child_text(name) {
        None => Ok(None),
        Some(t) => parse_time(t)
            .map(Some)
            .ok_or_else(|| format!("<{name}>: not a date: {t:?}")),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::fuzzing::{config, mutated, sample};

    fn records(page: &OaiPage) -> Vec<&SourceRecord> {
        page.items
            .iter()
            .filter_map(|p| match p {
                Parsed::Record(r) => Some(&**r),
                Parsed::Problem(_) => None,
            })
            .collect()
    }

    #[test]
    fn deleted_records_are_skipped_and_bad_ones_reported_at_their_line() {
        let xml = br#"<OAI-PMH><ListRecords>
<record><header status="deleted"><identifier>oai:arXiv.org:0704.0001</identifier></header></record>
<record><header><identifier>oai:arXiv.org:0704.0002</identifier></header>
<metadata><arXivRaw><id>not-an-id</id></arXivRaw></metadata></record>
<record><header><identifier>oai:arXiv.org:0704.0003</identifier></header>
<metadata><arXivRaw><id>0704.0003</id><version version="v1"><date>Sun, 1 Apr 2007 20:46:54 GMT</date><size>0kb</size></version><authors>A and B</authors></arXivRaw></metadata></record>
<resumptionToken cursor="0" completeListSize="3"></resumptionToken>
</ListRecords></OAI-PMH>"#;
        let page = parse_response(xml).expect("parses");
        assert_eq!(page.items.len(), 2);
        assert!(
            matches!(&page.items[0], Parsed::Problem(p) if p.location == Location::Line(3) && p.message.contains("<id>"))
        );
        let r = records(&page)[0];
        assert_eq!(r.paper.biblio.authors, ["A", "B"]);
        assert!(r.paper.biblio.withdrawn, "0kb latest version");
        assert_eq!(page.resumption_token, None, "an empty token ends the list");
        assert_eq!(page.complete_list_size, Some(3));
    }

    #[test]
    fn the_header_identifier_stands_in_for_a_missing_id() {
        let xml = b"<OAI-PMH><GetRecord><record><header><identifier>oai:arXiv.org:hep-th/9901001</identifier></header><metadata><arXiv><title>T</title></arXiv></metadata></record></GetRecord></OAI-PMH>";
        let page = parse_response(xml).expect("parses");
        assert_eq!(records(&page)[0].paper.id.as_str(), "hep-th/9901001");
    }

    #[test]
    fn unknown_metadata_and_bad_dates_are_problems() {
        let xml = b"<OAI-PMH><ListRecords><record><metadata><oai_dc><id>0704.0001</id></oai_dc></metadata></record><record><metadata><arXiv><id>0704.0001</id><created>yesterday</created></arXiv></metadata></record></ListRecords></OAI-PMH>";
        let page = parse_response(xml).expect("parses");
        let messages: Vec<_> = page
            .items
            .iter()
            .map(|p| match p {
                Parsed::Problem(p) => p.message.clone(),
                Parsed::Record(_) => String::new(),
            })
            .collect();
        assert!(messages[0].contains("oai_dc"), "{messages:?}");
        assert!(messages[1].contains("<created>"), "{messages:?}");
    }

    const SAMPLES: [&str; 3] = [
        "arxiv/oai-pmh/arXivRaw-mikesaelim/ListRecordsResponse.xml",
        "arxiv/oai-pmh/arXiv-hepcrawl/unit/sample_arxiv_record0.xml",
        "arxiv/oai-pmh/arXivRaw-mikesaelim/ErrorResponseBadVerb.xml",
    ];

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_response(&bytes);
        }

        #[test]
        fn mutated_responses_never_panic(bytes in prop_oneof![
            mutated(sample(SAMPLES[0])),
            mutated(sample(SAMPLES[1])),
            mutated(sample(SAMPLES[2])),
        ]) {
            let _ = parse_response(&bytes);
        }
    }
}
