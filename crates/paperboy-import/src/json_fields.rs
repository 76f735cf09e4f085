//! Typed reads of fields of a `serde_json` object, with errors that name the
//! field (`paper.upvotes: expected a number, got a string`).
//!
//! Missing fields and `null` are the same thing: absent. A field that is
//! present with the wrong type is an error, never silently dropped.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

pub type Object = Map<String, Value>;

/// What a JSON value is, for messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong(path: &str, expected: &str, got: &Value) -> String {
    format!("`{path}`: expected {expected}, got {}", kind(got))
}

/// The field, `None` when missing or null.
pub fn get<'a>(obj: &'a Object, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

pub fn opt_str<'a>(obj: &'a Object, key: &str, path: &str) -> Result<Option<&'a str>, String> {
    match get(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(wrong(path, "a string", other)),
    }
}

/// A string field that must be there.
pub fn req_str<'a>(obj: &'a Object, key: &str, path: &str) -> Result<&'a str, String> {
    opt_str(obj, key, path)?.ok_or_else(|| format!("`{path}`: missing"))
}

/// A string field as one clean line, `None` when absent or blank.
pub fn opt_line(obj: &Object, key: &str, path: &str) -> Result<Option<String>, String> {
    Ok(opt_str(obj, key, path)?.and_then(crate::arxiv_fields::one_line))
}

pub fn opt_object<'a>(
    obj: &'a Object,
    key: &str,
    path: &str,
) -> Result<Option<&'a Object>, String> {
    match get(obj, key) {
        None => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(other) => Err(wrong(path, "an object", other)),
    }
}

pub fn opt_array<'a>(
    obj: &'a Object,
    key: &str,
    path: &str,
) -> Result<Option<&'a [Value]>, String> {
    match get(obj, key) {
        None => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(other) => Err(wrong(path, "an array", other)),
    }
}

/// A count: a non-negative integer, or a string holding one (PaperExplorer
/// writes upvotes as strings).
pub fn opt_count(obj: &Object, key: &str, path: &str) -> Result<Option<u32>, String> {
    let bad = || format!("`{path}`: expected a count (a non-negative integer)");
    match get(obj, key) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(bad),
        Some(Value::String(s)) => s.trim().parse::<u32>().map(Some).map_err(|_| bad()),
        Some(other) => Err(wrong(path, "a count", other)),
    }
}

/// A list of strings, each made one clean line; blanks dropped.
pub fn opt_string_list(obj: &Object, key: &str, path: &str) -> Result<Vec<String>, String> {
    let Some(items) = opt_array(obj, key, path)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item {
            Value::String(s) => out.extend(crate::arxiv_fields::one_line(s)),
            other => return Err(wrong(&format!("{path}[{i}]"), "a string", other)),
        }
    }
    Ok(out)
}

/// An RFC 3339 time (`2024-05-24T17:34:15.000Z`), or a bare date taken as
/// 00:00 UTC.
pub fn opt_time(obj: &Object, key: &str, path: &str) -> Result<Option<DateTime<Utc>>, String> {
    let Some(s) = opt_str(obj, key, path)? else {
        return Ok(None);
    };
    parse_time(s)
        .map(Some)
        .ok_or_else(|| format!("`{path}`: not a time: {s:?}"))
}

/// An RFC 3339 time, or a bare `YYYY-MM-DD` date at 00:00 UTC.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(midnight)
}

/// 00:00 UTC of a day.
pub fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn obj(v: Value) -> Object {
        match v {
            Value::Object(o) => o,
            _ => unreachable!("test objects are objects"),
        }
    }

    #[test]
    fn reads_and_names_fields() {
        let o = obj(
            json!({"s": "x", "n": 5, "ns": " 7 ", "neg": -1, "null": null, "t": "2024-05-24T17:34:15.000Z", "d": "2024-05-24"}),
        );
        assert_eq!(opt_str(&o, "s", "a.s"), Ok(Some("x")));
        assert_eq!(opt_str(&o, "null", "a.null"), Ok(None));
        assert_eq!(
            opt_str(&o, "n", "a.n"),
            Err("`a.n`: expected a string, got a number".into())
        );
        assert_eq!(
            req_str(&o, "missing", "a.missing"),
            Err("`a.missing`: missing".into())
        );
        assert_eq!(opt_count(&o, "n", "a.n"), Ok(Some(5)));
        assert_eq!(opt_count(&o, "ns", "a.ns"), Ok(Some(7)));
        assert!(
            opt_count(&o, "neg", "a.neg")
                .unwrap_err()
                .contains("`a.neg`")
        );
        assert_eq!(
            opt_time(&o, "t", "t").unwrap().map(|t| t.to_rfc3339()),
            Some("2024-05-24T17:34:15+00:00".into())
        );
        assert_eq!(
            opt_time(&o, "d", "d").unwrap().map(|t| t.to_rfc3339()),
            Some("2024-05-24T00:00:00+00:00".into())
        );
        assert!(opt_time(&o, "s", "a.s").unwrap_err().contains("not a time"));
    }
}
