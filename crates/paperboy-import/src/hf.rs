//! HF `GET /api/daily_papers` responses: every shape the API has served (a
//! JSON array; the `{status, date, data}` wrapper; elements that are strings
//! holding a Python `repr`) to papers with their daily entries.
//!
//! Community data is stamped with the curation day at 00:00 UTC, so importing
//! a day again changes nothing and a later day's snapshot wins.

use chrono::NaiveDate;
use paperboy_core::{ArxivId, DailyEntry, Paper, SourceRecord, Submitter};
use serde_json::Value;

use crate::json_fields::{
    Object, kind, midnight, opt_array, opt_count, opt_line, opt_object, opt_str, opt_string_list,
    opt_time, req_str,
};
use crate::text_ascii::{clean_line, normalize_abstract};
use crate::{ImportError, Location, ParseOptions, Parsed, Problem, json_error, pyrepr};

const FORMAT: &str = "HF daily_papers JSON";

/// Avatar paths HF serves relative to its own host.
const HF_HOST: &str = "https://huggingface.co";

/// Parses one day's response body (any of its real shapes).
///
/// The curation day is `opts.day`, else the wrapper's `date`, else each
/// entry's `submittedOnDailyAt` (or, in old files, its `publishedAt`) as a
/// UTC date. A bad element is a problem at its index; the rest go on.
pub fn parse_day(bytes: &[u8], opts: &ParseOptions) -> Result<Vec<Parsed>, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| json_error(FORMAT, &e))?;
    let malformed = |message: String| ImportError::Malformed {
        format: FORMAT,
        location: Location::Document,
        message,
    };
    let (items, wrapped_day) = match doc {
        Value::Array(items) => (items, None),
        Value::Object(mut wrapper) => {
            if let Some(status) = wrapper.get("status").and_then(Value::as_str)
                && status != "success"
            {
                return Err(malformed(format!("the response says status {status:?}")));
            }
            let day = wrapper
                .get("date")
                .and_then(Value::as_str)
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            match wrapper.remove("data") {
                Some(Value::Array(items)) => (items, day),
                Some(other) => {
                    return Err(malformed(format!(
                        "`data`: expected an array, got {}",
                        kind(&other)
                    )));
                }
                None => return Err(malformed("an object without a `data` array".into())),
            }
        }
        other => {
            return Err(malformed(format!(
                "expected an array of entries, got {}",
                kind(&other)
            )));
        }
    };
    let day = opts.day.or(wrapped_day);
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match record(i, item, day) {
            Ok(record) => Parsed::Record(Box::new(record)),
            Err(message) => Parsed::Problem(Problem {
                location: Location::Entry(i),
                message,
            }),
        })
        .collect())
}

fn record(index: usize, item: Value, day: Option<NaiveDate>) -> Result<SourceRecord, String> {
    let item = match item {
        // 2024-12-11 .. 2025-01-09: the entry is the Python repr of a dict.
        Value::String(repr) => pyrepr::parse(&repr)
            .map_err(|e| format!("element is a string but not a Python literal: {e}"))?,
        other => other,
    };
    let Value::Object(item) = item else {
        return Err(format!("element is {}, expected an object", kind(&item)));
    };
    let paper_obj = opt_object(&item, "paper", "paper")?.ok_or("`paper`: missing")?;
    let id = ArxivId::parse(req_str(paper_obj, "id", "paper.id")?)
        .map_err(|e| format!("`paper.id`: {e}"))?
        .id;

    let submitted_at = match opt_time(paper_obj, "submittedOnDailyAt", "paper.submittedOnDailyAt")?
    {
        Some(t) => Some(t),
        None => opt_time(&item, "publishedAt", "publishedAt")?,
    };
    let day = day
        .or_else(|| submitted_at.map(|t| t.date_naive()))
        .ok_or("no curation day: neither the file name, the caller nor `paper.submittedOnDailyAt` gives one")?;

    let mut paper = Paper::new(id.clone());
    let b = &mut paper.biblio;
    // The item's title is clean; the paper's keeps arXiv's hard line breaks.
    let title = match opt_str(&item, "title", "title")? {
        Some(t) => Some(t),
        None => opt_str(paper_obj, "title", "paper.title")?,
    };
    b.title = title.map(clean_line).unwrap_or_default();
    let summary = match opt_str(paper_obj, "summary", "paper.summary")? {
        Some(s) => Some(s),
        None => opt_str(&item, "summary", "summary")?,
    };
    b.abstract_text = summary.map(normalize_abstract).unwrap_or_default();
    b.authors = authors(paper_obj)?;
    b.published = opt_time(paper_obj, "publishedAt", "paper.publishedAt")?;

    let c = &mut paper.community;
    c.observed_at = Some(midnight(day));
    c.upvotes = opt_count(paper_obj, "upvotes", "paper.upvotes")?;
    c.github_repo = opt_line(paper_obj, "githubRepo", "paper.githubRepo")?;
    c.github_stars = opt_count(paper_obj, "githubStars", "paper.githubStars")?;
    c.project_page = opt_line(paper_obj, "projectPage", "paper.projectPage")?;
    c.ai_summary = opt_line(paper_obj, "ai_summary", "paper.ai_summary")?;
    c.ai_keywords = opt_string_list(paper_obj, "ai_keywords", "paper.ai_keywords")?;

    let submitter = match opt_object(&item, "submittedBy", "submittedBy")? {
        Some(by) => submitter(by, "submittedBy")?,
        None => match opt_object(paper_obj, "submittedOnDailyBy", "paper.submittedOnDailyBy")? {
            Some(by) => submitter(by, "paper.submittedOnDailyBy")?,
            None => None,
        },
    };
    let entry = DailyEntry {
        paper_id: id,
        day,
        submitter,
        position: u32::try_from(index).unwrap_or(u32::MAX),
        submitted_at,
        num_comments: opt_count(&item, "numComments", "numComments")?,
    };
    Ok(SourceRecord {
        paper,
        entry: Some(entry),
    })
}

fn authors(paper: &Object) -> Result<Vec<String>, String> {
    let Some(list) = opt_array(paper, "authors", "paper.authors")? else {
        return Ok(Vec::new());
    };
    let mut names = Vec::with_capacity(list.len());
    for (i, author) in list.iter().enumerate() {
        let path = format!("paper.authors[{i}]");
        let name = match author {
            Value::Object(a) => req_str(a, "name", &format!("{path}.name"))?,
            // Not seen from HF, but a plain list of names is unambiguous.
            Value::String(s) => s,
            other => return Err(format!("`{path}`: expected an object, got {}", kind(other))),
        };
        let name = clean_line(name);
        if !name.is_empty() {
            names.push(name);
        }
    }
    Ok(names)
}

/// `submittedBy` has the account in `name`; `submittedOnDailyBy` in `user`.
fn submitter(by: &Object, path: &str) -> Result<Option<Submitter>, String> {
    let account = match opt_str(by, "user", &format!("{path}.user"))? {
        Some(u) => Some(u),
        None => opt_str(by, "name", &format!("{path}.name"))?,
    };
    let Some(account) = account.map(str::trim).filter(|a| !a.is_empty()) else {
        return Ok(None);
    };
    let avatar_url = opt_line(by, "avatarUrl", &format!("{path}.avatarUrl"))?.map(|url| {
        if url.starts_with('/') {
            format!("{HF_HOST}{url}")
        } else {
            url
        }
    });
    Ok(Some(Submitter {
        name: account.to_string(),
        fullname: opt_line(by, "fullname", &format!("{path}.fullname"))?,
        avatar_url,
    }))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::fuzzing::{config, json_mutated, mutated, sample};

    fn day(s: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
    }

    fn parse(v: Value, opts_day: Option<&str>) -> Vec<Parsed> {
        let bytes = serde_json::to_vec(&v).expect("serialises");
        parse_day(
            &bytes,
            &ParseOptions {
                day: opts_day.and_then(day),
            },
        )
        .expect("parses")
    }

    fn problem(p: &Parsed) -> Option<&Problem> {
        match p {
            Parsed::Problem(p) => Some(p),
            Parsed::Record(_) => None,
        }
    }

    #[test]
    fn each_bad_element_is_a_problem_naming_the_field() {
        let good = json!({"paper": {"id": "2405.15738", "upvotes": 3}, "publishedAt": "2024-05-27T01:00:00.000Z"});
        let cases = [
            (json!({"paper": {"upvotes": 3}}), "`paper.id`: missing"),
            (
                json!({"paper": {"id": "abc"}}),
                "`paper.id`: not an arXiv id",
            ),
            (
                json!({"paper": {"id": 5}}),
                "`paper.id`: expected a string, got a number",
            ),
            (json!({"nopaper": 1}), "`paper`: missing"),
            (json!(3), "element is a number"),
            (json!("{'paper': "), "not a Python literal"),
            (
                json!({"paper": {"id": "2405.15738", "upvotes": "many"}}),
                "`paper.upvotes`",
            ),
            (
                json!({"paper": {"id": "2405.15738", "authors": [{"name": 1}]}}),
                "`paper.authors[0].name`",
            ),
            (
                json!({"paper": {"id": "2405.15738", "submittedOnDailyAt": "soon"}}),
                "`paper.submittedOnDailyAt`",
            ),
        ];
        for (bad, want) in cases {
            let parsed = parse(json!([good, bad, good]), Some("2024-05-27"));
            assert!(problem(&parsed[0]).is_none() && problem(&parsed[2]).is_none());
            let p = problem(&parsed[1]).unwrap_or_else(|| panic!("no problem for {want}"));
            assert_eq!(p.location, Location::Entry(1));
            assert!(
                p.message.contains(want),
                "{} does not say {want}",
                p.message
            );
        }
    }

    #[test]
    fn the_day_comes_from_the_caller_the_wrapper_or_the_entry() {
        let item = json!({"paper": {"id": "2405.15738", "submittedOnDailyAt": "2024-05-26T21:00:00.000Z"}});
        let day_of = |parsed: &[Parsed]| match &parsed[0] {
            Parsed::Record(r) => r.entry.as_ref().map(|e| e.day.to_string()),
            Parsed::Problem(p) => panic!("{p}"),
        };
        assert_eq!(
            day_of(&parse(json!([item]), Some("2024-05-27"))),
            Some("2024-05-27".into())
        );
        assert_eq!(
            day_of(&parse(
                json!({"status": "success", "date": "2024-05-28", "data": [item]}),
                None
            )),
            Some("2024-05-28".into())
        );
        assert_eq!(
            day_of(&parse(json!([item]), None)),
            Some("2024-05-26".into())
        );
        let no_day = parse(json!([{"paper": {"id": "2405.15738"}}]), None);
        assert!(problem(&no_day[0]).is_some_and(|p| p.message.contains("no curation day")));
    }

    #[test]
    fn documents_that_are_not_a_daily_list() {
        let err = parse_day(b"[\n{\"paper\": }", &ParseOptions::default()).expect_err("not JSON");
        assert!(
            matches!(
                err,
                ImportError::Malformed {
                    location: Location::Line(2),
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            parse_day(
                b"{\"status\": \"error\", \"data\": []}",
                &ParseOptions::default()
            )
            .is_err()
        );
        assert!(parse_day(b"{\"data\": 1}", &ParseOptions::default()).is_err());
        assert!(parse_day(b"7", &ParseOptions::default()).is_err());
    }

    #[test]
    fn without_an_item_title_the_paper_title_is_unwrapped() {
        let item = json!({"paper": {"id": "2405.15738", "title": "ConvLLaVA: Hierarchical\n  Backbones", "summary": "A\nB.\n  C"}});
        let parsed = parse(json!([item]), Some("2024-05-27"));
        let Parsed::Record(r) = &parsed[0] else {
            panic!("record expected")
        };
        assert_eq!(r.paper.biblio.title, "ConvLLaVA: Hierarchical Backbones");
        assert_eq!(r.paper.biblio.abstract_text, "A B.\n\nC");
        assert_eq!(
            r.paper.community.observed_at.map(|t| t.to_rfc3339()),
            Some("2024-05-27T00:00:00+00:00".into())
        );
    }

    #[test]
    fn relative_avatars_get_the_hf_host() {
        let item = json!({"paper": {"id": "2405.15738"}, "submittedBy": {"name": "akhaliq", "fullname": "AK", "avatarUrl": "/avatars/x.svg"}});
        let parsed = parse(json!([item]), Some("2024-05-27"));
        let Parsed::Record(r) = &parsed[0] else {
            panic!("record expected")
        };
        let s = r
            .entry
            .as_ref()
            .and_then(|e| e.submitter.clone())
            .expect("submitter");
        assert_eq!(
            s.avatar_url.as_deref(),
            Some("https://huggingface.co/avatars/x.svg")
        );
        assert_eq!(s.name, "akhaliq");
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_day(&bytes, &ParseOptions::default());
        }

        #[test]
        fn mutated_days_never_panic(bytes in prop_oneof![
            mutated(sample("hf-daily-papers/2025-01-10.json")),
            mutated(sample("hf-daily-papers/2024-12-13.json")),
            mutated(sample("hf-daily-papers/2025-11-03.json")),
        ]) {
            let _ = parse_day(&bytes, &ParseOptions::default());
        }

        #[test]
        fn mutated_entries_never_panic(doc in prop_oneof![
            json_mutated(json_sample("hf-daily-papers/2025-01-10.json")),
            json_mutated(json_sample("hf-daily-papers/2024-06-13.json")),
            json_mutated(json_sample("hf-daily-papers/2026-08-21.json")),
        ]) {
            let bytes = serde_json::to_vec(&doc).expect("serialises");
            let _ = parse_day(&bytes, &ParseOptions::default());
        }
    }

    fn json_sample(relative: &str) -> Value {
        serde_json::from_slice(&sample(relative)).expect("valid sample")
    }
}
