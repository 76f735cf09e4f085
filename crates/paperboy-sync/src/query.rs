//! Query strings for the URLs this crate builds: percent-encoding of values.
//! Only building; no HTTP here.

/// Percent-encodes `value` for use as a query parameter value: everything
/// but RFC 3986's unreserved characters is escaped, so an OAI resumption
/// token such as `726959|1001` or a set such as `physics:hep-th` arrives
/// unchanged.
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `base?k1=v1&k2=v2`, values encoded; `base` may already hold a query.
pub(crate) fn url_with(base: &str, params: &[(&str, &str)]) -> String {
    let mut url = base.to_string();
    let mut sep = if base.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        url.push(sep);
        url.push_str(k);
        url.push('=');
        url.push_str(&encode(v));
        sep = '&';
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_reserved_and_non_ascii() {
        for (input, want) in [
            ("726959|1001", "726959%7C1001"),
            ("physics:hep-th", "physics%3Ahep-th"),
            ("a b&c=d/e+f", "a%20b%26c%3Dd%2Fe%2Bf"),
            ("AZaz09-._~", "AZaz09-._~"),
            ("é", "%C3%A9"),
            ("", ""),
        ] {
            assert_eq!(encode(input), want, "{input:?}");
        }
    }

    #[test]
    fn appends_params() {
        assert_eq!(
            url_with("http://h/oai2", &[("verb", "ListRecords"), ("set", "cs")]),
            "http://h/oai2?verb=ListRecords&set=cs"
        );
        assert_eq!(
            url_with("http://h/x?a=1", &[("b", "2")]),
            "http://h/x?a=1&b=2"
        );
        assert_eq!(url_with("http://h/x", &[]), "http://h/x");
    }
}
