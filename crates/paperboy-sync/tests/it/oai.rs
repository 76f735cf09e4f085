//! The OAI-PMH harvest against replayed arXiv responses.

use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use paperboy_import::{ImportError, Parsed};
use paperboy_sync::{
    HarvestPage, HarvestSummary, OaiParams, PoliteClient, SinkError, SyncError, harvest_arxiv,
};

use crate::server::{Reply, TestServer, data, quick};

const RAW: &str = "arxiv/oai-pmh/arXivRaw-mikesaelim";
/// A ListRecords page with a resumptionToken (`726959|1001`), 6 records.
const PAGE_1: &str = "arxiv/oai-pmh/arXivRaw-mikesaelim/ListRecordsResponse.xml";
/// A ListRecords page without a token (the last one), 3 records.
const PAGE_2: &str = "arxiv/oai-pmh/arXiv-hepcrawl/functional/arxiv-physics-hep-th.xml";

fn params(server: &TestServer) -> OaiParams {
    OaiParams {
        base_url: format!("{}/oai2", server.base),
        ..OaiParams::default()
    }
}

/// What a sink saw: each page, and how many requests had reached the server
/// when the page was handed over.
struct Seen {
    page: HarvestPage,
    requests_so_far: usize,
}

fn harvest(
    server: &TestServer,
    params: &OaiParams,
) -> (Result<HarvestSummary, SyncError>, Vec<Seen>) {
    let mut pages = Vec::new();
    let mut client = PoliteClient::new(quick());
    let result = harvest_arxiv(&mut client, params, &mut |page| {
        pages.push(Seen {
            page,
            requests_so_far: server.count(),
        });
        Ok(())
    });
    (result, pages)
}

/// Serves page 1 to a first request and page 2 to the token's request.
fn two_pages() -> TestServer {
    TestServer::start(|_, url| {
        if url.contains("resumptionToken=") {
            Reply::ok(data(PAGE_2))
        } else {
            Reply::ok(data(PAGE_1))
        }
    })
}

fn record_ids(items: &[Parsed]) -> Vec<String> {
    items
        .iter()
        .filter_map(|p| match p {
            Parsed::Record(r) => Some(r.paper.id.as_str().to_string()),
            Parsed::Problem(_) => None,
        })
        .collect()
}

#[test]
fn harvests_two_pages_following_the_token() {
    let server = two_pages();
    let p = OaiParams {
        from: NaiveDate::from_ymd_opt(2014, 10, 1),
        set: Some("physics:hep-th".into()),
        ..params(&server)
    };
    let (result, pages) = harvest(&server, &p);
    let summary = result.unwrap();

    assert_eq!(
        server.urls(),
        [
            "/oai2?verb=ListRecords&metadataPrefix=arXivRaw&from=2014-10-01&set=physics%3Ahep-th",
            "/oai2?verb=ListRecords&resumptionToken=726959%7C1001",
        ]
    );
    assert_eq!(pages.len(), 2);
    let (first, second) = (&pages[0], &pages[1]);
    assert_eq!(first.page.resumption_token.as_deref(), Some("726959|1001"));
    assert_eq!(first.page.complete_list_size, Some(58011));
    // The sink had the token before the second request was made.
    assert_eq!(first.requests_so_far, 1);
    assert_eq!(second.requests_so_far, 2);
    assert_eq!(second.page.resumption_token, None);
    assert_eq!(
        record_ids(&first.page.items),
        [
            "0704.0471",
            "0704.0716",
            "0704.0874",
            "0704.1109",
            "0704.1114",
            "0704.1586"
        ]
    );
    assert_eq!(
        record_ids(&second.page.items),
        ["1412.8323", "1507.07790", "1607.01710"]
    );
    assert_eq!(
        summary,
        HarvestSummary {
            pages: 2,
            records: 9,
            problems: 0
        }
    );
}

#[test]
fn resumes_from_a_token_without_the_first_request() {
    let server = two_pages();
    let p = OaiParams {
        resume_token: Some("726959|1001".into()),
        from: NaiveDate::from_ymd_opt(2014, 10, 1),
        set: Some("cs".into()),
        ..params(&server)
    };
    let (result, pages) = harvest(&server, &p);
    assert_eq!(
        result.unwrap(),
        HarvestSummary {
            pages: 1,
            records: 3,
            problems: 0
        }
    );
    assert_eq!(
        server.urls(),
        ["/oai2?verb=ListRecords&resumptionToken=726959%7C1001"]
    );
    assert_eq!(pages.len(), 1);
}

#[test]
fn the_arxiv_metadata_prefix_and_until_are_sent() {
    let server = TestServer::start(|_, _| Reply::ok(data(PAGE_2)));
    let p = OaiParams {
        metadata_prefix: "arXiv".into(),
        from: NaiveDate::from_ymd_opt(2017, 12, 14),
        until: NaiveDate::from_ymd_opt(2017, 12, 15),
        ..params(&server)
    };
    let (result, _) = harvest(&server, &p);
    assert_eq!(result.unwrap().records, 3);
    assert_eq!(
        server.urls(),
        ["/oai2?verb=ListRecords&metadataPrefix=arXiv&from=2017-12-14&until=2017-12-15"]
    );
}

#[test]
fn a_failing_sink_stops_the_harvest_before_the_next_request() {
    let server = two_pages();
    let mut client = PoliteClient::new(quick());
    let err = harvest_arxiv(&mut client, &params(&server), &mut |_page| -> Result<
        (),
        SinkError,
    > {
        Err("disk full".into())
    })
    .unwrap_err();
    assert!(matches!(err, SyncError::Sink(_)), "{err:?}");
    assert!(err.to_string().contains("disk full"), "{err}");
    assert_eq!(server.count(), 1);
}

#[test]
fn no_records_match_is_an_empty_harvest() {
    let server = TestServer::start(|_, _| {
        Reply::ok(data(&format!("{RAW}/ErrorResponseNoRecordsMatch.xml")))
    });
    let (result, pages) = harvest(
        &server,
        &OaiParams {
            set: Some("moo".into()),
            ..params(&server)
        },
    );
    let summary = result.unwrap();
    assert_eq!((summary.records, summary.problems), (0, 0));
    assert!(
        pages
            .iter()
            .all(|s| s.page.items.is_empty() && s.page.resumption_token.is_none())
    );
    assert_eq!(server.count(), 1);
}

/// Real OAI-PMH errors, served with HTTP 200 as arXiv does.
#[test]
fn oai_errors_are_clear_parse_errors() {
    for (file, code) in [
        ("ErrorResponseBadResumptionToken.xml", "badResumptionToken"),
        ("ErrorResponseBadArgument.xml", "badArgument"),
        ("ErrorResponseBadVerb.xml", "badVerb"),
        ("ErrorResponseIdDoesNotExist.xml", "idDoesNotExist"),
    ] {
        let body = data(&format!("{RAW}/{file}"));
        let server = TestServer::start(move |_, _| Reply::ok(body.clone()));
        let (result, pages) = harvest(
            &server,
            &OaiParams {
                resume_token: Some("3".into()),
                ..params(&server)
            },
        );
        let err = result.unwrap_err();
        match &err {
            SyncError::Parse(ImportError::Oai { code: c, .. }) => assert_eq!(c, code, "{file}"),
            other => panic!("{file}: {other:?}"),
        }
        assert!(err.to_string().contains(code), "{file}: {err}");
        assert!(pages.is_empty(), "{file}");
        assert_eq!(server.count(), 1, "{file}");
    }
}

/// Should a server send an OAI error with an HTTP error status, the OAI code
/// is still what the caller learns.
#[test]
fn an_oai_error_with_an_error_status_names_the_oai_code() {
    let server = TestServer::start(|_, _| {
        Reply::status(400, data(&format!("{RAW}/ErrorResponseBadArgument.xml")))
    });
    let (result, _) = harvest(&server, &params(&server));
    let err = result.unwrap_err();
    assert!(
        matches!(&err, SyncError::Parse(ImportError::Oai { code, .. }) if code == "badArgument"),
        "{err:?}"
    );
}

#[test]
fn a_non_oai_error_page_is_an_http_error() {
    let server = TestServer::start(|_, _| Reply::status(404, "<html>Not Found</html>"));
    let (result, _) = harvest(&server, &params(&server));
    let err = result.unwrap_err();
    assert!(
        matches!(&err, SyncError::Http { status: 404, .. }),
        "{err:?}"
    );
}

#[test]
fn a_server_repeating_the_token_is_stopped() {
    let server = TestServer::start(|_, _| Reply::ok(data(PAGE_1)));
    let (result, pages) = harvest(&server, &params(&server));
    let err = result.unwrap_err();
    assert!(err.to_string().contains("726959|1001"), "{err}");
    assert_eq!(pages.len(), 2);
    assert_eq!(server.count(), 2);
}

#[test]
fn a_503_with_retry_after_inside_a_harvest_is_waited_out() {
    // arXiv's OAI flow control: 503 + Retry-After between pages.
    let count = Arc::new(Mutex::new(0));
    let server = {
        let count = Arc::clone(&count);
        TestServer::start(move |i, url| {
            *count.lock().unwrap() += 1;
            match i {
                0 => Reply::ok(data(PAGE_1)),
                1 => {
                    Reply::status(503, "Retry after specified interval").header("Retry-After", "1")
                }
                _ if url.contains("resumptionToken=726959%7C1001") => Reply::ok(data(PAGE_2)),
                _ => Reply::status(400, "unexpected"),
            }
        })
    };
    let (result, pages) = harvest(&server, &params(&server));
    assert_eq!(result.unwrap().records, 9);
    assert_eq!(pages.len(), 2);
    assert_eq!(*count.lock().unwrap(), 3);
    assert!(server.gaps()[1] >= std::time::Duration::from_secs(1));
}

#[test]
fn an_empty_resume_token_starts_afresh() {
    let server = two_pages();
    let (result, _) = harvest(
        &server,
        &OaiParams {
            resume_token: Some(String::new()),
            ..params(&server)
        },
    );
    assert_eq!(result.unwrap().pages, 2);
    assert_eq!(
        server.urls()[0],
        "/oai2?verb=ListRecords&metadataPrefix=arXivRaw"
    );
}

/// A record the parser cannot use is counted as a problem; the rest of the
/// page still goes to the sink.
#[test]
fn a_bad_record_is_a_problem_not_a_failure() {
    let page = String::from_utf8(data(PAGE_2))
        .unwrap()
        .replace("<id>1507.07790</id>", "<id>not an id</id>");
    let server = TestServer::start(move |_, _| Reply::ok(page.clone()));
    let (result, pages) = harvest(&server, &params(&server));
    assert_eq!(
        result.unwrap(),
        HarvestSummary {
            pages: 1,
            records: 2,
            problems: 1
        }
    );
    assert_eq!(
        record_ids(&pages[0].page.items),
        ["1412.8323", "1607.01710"]
    );
}
