//! Python literals (the `repr` of dicts, lists, tuples, strings, numbers,
//! `True`/`False`/`None`) to JSON values.
//!
//! Some HF daily_papers files hold each entry as a string containing the
//! Python `repr` of a dict, and PaperExplorer writes author lists the same
//! way. This is a small, strict parser for exactly that language: it never
//! evaluates anything, never panics, and refuses what `repr` cannot produce
//! (names other than the three constants, calls, operators).

use serde_json::{Map, Number, Value};

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 128;

/// Why a text is not a Python literal, and where (byte offset).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at byte {offset}")]
pub struct PyReprError {
    pub offset: usize,
    pub message: String,
}

/// Parses one Python literal. Dicts become objects (non-string keys are
/// written as Python would print them), lists, tuples and sets become arrays,
/// `None` is null. Infinite and NaN floats are refused: JSON has no such
/// numbers.
pub fn parse(src: &str) -> Result<Value, PyReprError> {
    let mut p = Parser {
        src,
        pos: 0,
        depth: 0,
    };
    let value = p.value()?;
    p.skip_ws();
    if p.pos < src.len() {
        return Err(p.err("unexpected text after the literal"));
    }
    Ok(value)
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, message: impl Into<String>) -> PyReprError {
        PyReprError {
            offset: self.pos,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Result<Value, PyReprError> {
        self.skip_ws();
        match self.peek() {
            None => Err(self.err("expected a value, found the end")),
            Some(b'{') => self.nested(Self::dict_or_set),
            Some(b'[') => self.nested(|p| p.sequence(b']')),
            Some(b'(') => self.nested(|p| p.sequence(b')')),
            Some(b'\'' | b'"') => self.string(false).map(Value::String),
            Some(b'0'..=b'9' | b'-' | b'+' | b'.') => self.number(),
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => self.name_or_prefixed_string(),
            Some(_) => Err(self.err(format!("unexpected character {:?}", self.current_char()))),
        }
    }

    fn current_char(&self) -> char {
        self.src[self.pos..].chars().next().unwrap_or('\0')
    }

    /// Runs a container parser one level deeper, refusing runaway nesting.
    fn nested(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<Value, PyReprError>,
    ) -> Result<Value, PyReprError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    /// `[a, b]` or `(a, b,)`: the opening bracket is at `pos`.
    fn sequence(&mut self, close: u8) -> Result<Value, PyReprError> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok(Value::Array(items));
            }
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(c) if c == close => {}
                _ => return Err(self.err(format!("expected ',' or '{}'", close as char))),
            }
        }
    }

    /// `{k: v, ...}` (a dict) or `{a, b}` (a set, returned as an array).
    fn dict_or_set(&mut self) -> Result<Value, PyReprError> {
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(Map::new()));
        }
        let first = self.value()?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return self.rest_of_set(first);
        }
        let mut map = Map::new();
        let mut key = first;
        loop {
            let key_text = self.key_text(key)?;
            // The ':' after the key.
            self.pos += 1;
            let value = self.value()?;
            // Python keeps the last of duplicate keys; so does insert.
            map.insert(key_text, value);
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        return Ok(Value::Object(map));
                    }
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(map));
                }
                _ => return Err(self.err("expected ',' or '}' in a dict")),
            }
            key = self.value()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':' after a dict key"));
            }
        }
    }

    fn rest_of_set(&mut self, first: Value) -> Result<Value, PyReprError> {
        let mut items = vec![first];
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        continue;
                    }
                    items.push(self.value()?);
                }
                _ => return Err(self.err("expected ',', ':' or '}'")),
            }
        }
    }

    /// A dict key as JSON wants it: strings as they are, scalars as Python
    /// prints them.
    fn key_text(&self, key: Value) -> Result<String, PyReprError> {
        match key {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(true) => Ok("True".into()),
            Value::Bool(false) => Ok("False".into()),
            Value::Null => Ok("None".into()),
            Value::Array(_) | Value::Object(_) => {
                Err(self.err("a dict key must be a string or a number"))
            }
        }
    }

    /// `True`, `False`, `None`, or a string with a prefix (`u'…'`, `r'…'`, `b'…'`).
    fn name_or_prefixed_string(&mut self) -> Result<Value, PyReprError> {
        let start = self.pos;
        let len = self.src.as_bytes()[start..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        let name = &self.src[start..start + len];
        let after = self.src.as_bytes().get(start + len).copied();
        if matches!(after, Some(b'\'' | b'"'))
            && len <= 2
            && name.chars().all(|c| "rRbBuU".contains(c))
        {
            let raw = name.contains(['r', 'R']);
            self.pos += len;
            return self.string(raw).map(Value::String);
        }
        let value = match name {
            "True" => Value::Bool(true),
            "False" => Value::Bool(false),
            "None" => Value::Null,
            _ => return Err(self.err(format!("unexpected name {name:?}"))),
        };
        self.pos += len;
        Ok(value)
    }

    /// A quoted string (the quote is at `pos`), with Python's escapes unless `raw`.
    fn string(&mut self, raw: bool) -> Result<String, PyReprError> {
        let bytes = self.src.as_bytes();
        let quote = bytes[self.pos];
        let triple =
            bytes.get(self.pos + 1) == Some(&quote) && bytes.get(self.pos + 2) == Some(&quote);
        let start_len = if triple { 3 } else { 1 };
        let opened_at = self.pos;
        self.pos += start_len;
        let mut out = String::new();
        loop {
            // Copy the run of ordinary characters in one go.
            let run = bytes[self.pos..]
                .iter()
                .take_while(|&&c| c != quote && c != b'\\' && c != b'\n')
                .count();
            out.push_str(&self.src[self.pos..self.pos + run]);
            self.pos += run;
            match self.peek() {
                None => {
                    self.pos = opened_at;
                    return Err(self.err("unterminated string"));
                }
                Some(b'\n') if !triple => return Err(self.err("line break inside a string")),
                Some(b'\n') => {
                    out.push('\n');
                    self.pos += 1;
                }
                Some(b'\\') => self.escape(raw, &mut out)?,
                Some(_) => {
                    // A quote: the end, unless a triple-quoted string goes on.
                    if !triple {
                        self.pos += 1;
                        return Ok(out);
                    }
                    if bytes.get(self.pos + 1) == Some(&quote)
                        && bytes.get(self.pos + 2) == Some(&quote)
                    {
                        self.pos += 3;
                        return Ok(out);
                    }
                    out.push(quote as char);
                    self.pos += 1;
                }
            }
        }
    }

    /// One backslash escape at `pos`, appended to `out`.
    fn escape(&mut self, raw: bool, out: &mut String) -> Result<(), PyReprError> {
        let Some(next) = self.src[self.pos + 1..].chars().next() else {
            return Err(self.err("unterminated string"));
        };
        if raw {
            // In a raw string the backslash stays, and only keeps the next
            // character from ending the string.
            out.push('\\');
            out.push(next);
            self.pos += 1 + next.len_utf8();
            return Ok(());
        }
        let simple = match next {
            '\n' => Some(None),
            '\\' => Some(Some('\\')),
            '\'' => Some(Some('\'')),
            '"' => Some(Some('"')),
            'a' => Some(Some('\u{7}')),
            'b' => Some(Some('\u{8}')),
            'f' => Some(Some('\u{c}')),
            'n' => Some(Some('\n')),
            'r' => Some(Some('\r')),
            't' => Some(Some('\t')),
            'v' => Some(Some('\u{b}')),
            _ => None,
        };
        if let Some(c) = simple {
            out.extend(c);
            self.pos += 2;
            return Ok(());
        }
        match next {
            'x' => self.hex_escape(2, out),
            'u' => self.hex_escape(4, out),
            'U' => self.hex_escape(8, out),
            '0'..='7' => {
                let digits = self.src.as_bytes()[self.pos + 1..]
                    .iter()
                    .take(3)
                    .take_while(|c| (b'0'..=b'7').contains(c))
                    .count();
                let text = &self.src[self.pos + 1..self.pos + 1 + digits];
                let code =
                    u32::from_str_radix(text, 8).map_err(|_| self.err("bad octal escape"))?;
                out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                self.pos += 1 + digits;
                Ok(())
            }
            'N' => Err(self.err("named escapes (\\N{...}) are not supported")),
            other => {
                // Python keeps unknown escapes as they are.
                out.push('\\');
                out.push(other);
                self.pos += 1 + other.len_utf8();
                Ok(())
            }
        }
    }

    /// `\xHH`, `\uHHHH`, `\UHHHHHHHH`: exactly `len` hex digits. Lone
    /// surrogates (which Python can hold) become U+FFFD.
    fn hex_escape(&mut self, len: usize, out: &mut String) -> Result<(), PyReprError> {
        let start = self.pos + 2;
        let digits = self
            .src
            .get(start..start + len)
            .filter(|d| d.bytes().all(|c| c.is_ascii_hexdigit()));
        let Some(digits) = digits else {
            return Err(self.err(format!("expected {len} hex digits in an escape")));
        };
        let code = u32::from_str_radix(digits, 16).map_err(|_| self.err("bad hex escape"))?;
        if code > 0x10FFFF {
            return Err(self.err("escape beyond the last Unicode character"));
        }
        out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
        self.pos = start + len;
        Ok(())
    }

    /// An int or float as `repr` writes it: `-12`, `3.5`, `1e-05`, `.5`.
    fn number(&mut self) -> Result<Value, PyReprError> {
        let bytes = self.src.as_bytes();
        let start = self.pos;
        let mut end = start;
        if matches!(bytes.get(end), Some(b'-' | b'+')) {
            end += 1;
        }
        let digits = |from: usize| {
            bytes[from..]
                .iter()
                .take_while(|c| c.is_ascii_digit() || **c == b'_')
                .count()
        };
        end += digits(end);
        let mut is_float = false;
        if bytes.get(end) == Some(&b'.') {
            is_float = true;
            end += 1;
            end += digits(end);
        }
        if matches!(bytes.get(end), Some(b'e' | b'E')) {
            let mut exp = end + 1;
            if matches!(bytes.get(exp), Some(b'-' | b'+')) {
                exp += 1;
            }
            let n = digits(exp);
            if n > 0 {
                is_float = true;
                end = exp + n;
            }
        }
        let text: String = self.src[start..end].chars().filter(|&c| c != '_').collect();
        if matches!(bytes.get(end), Some(c) if c.is_ascii_alphanumeric()) {
            self.pos = end;
            return Err(self.err("not a number repr can write"));
        }
        let number = if is_float {
            None
        } else if let Ok(i) = text.parse::<i64>() {
            Some(Number::from(i))
        } else {
            text.parse::<u64>().ok().map(Number::from)
        };
        let number = match number {
            Some(n) => n,
            // Floats, and ints too big for 64 bits, as f64.
            None => text
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .ok_or_else(|| self.err("not a number"))?,
        };
        self.pos = end;
        Ok(Value::Number(number))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(src: &str, expect: Value) {
        assert_eq!(parse(src), Ok(expect), "input {src:?}");
    }

    fn check_err(src: &str, message_part: &str) {
        match parse(src) {
            Ok(v) => panic!("input {src:?} parsed as {v}"),
            Err(e) => assert!(e.message.contains(message_part), "input {src:?}: {e}"),
        }
    }

    #[test]
    fn scalars() {
        check("True", json!(true));
        check("False", json!(false));
        check("None", json!(null));
        check("0", json!(0));
        check("-12", json!(-12));
        check("18446744073709551615", json!(18446744073709551615u64));
        check("3.5", json!(3.5));
        check("1e-05", json!(1e-05));
        check(".5", json!(0.5));
        check("  42  ", json!(42));
    }

    #[test]
    fn strings_and_escapes() {
        check("'plain'", json!("plain"));
        check("\"it's\"", json!("it's"));
        check(r"'it\'s'", json!("it's"));
        check(r"'a\\b'", json!("a\\b"));
        check(r"'line\nbreak\ttab'", json!("line\nbreak\ttab"));
        check(r"'\x41\u00e9\U0001F600'", json!("Aé😀"));
        check(r"'\101'", json!("A"));
        check(r"'\q'", json!("\\q"));
        check(r"'\ud83d'", json!("\u{FFFD}"));
        check("'Kühn — 東京'", json!("Kühn — 東京"));
        check(r"r'\n'", json!("\\n"));
        check(r"u'x'", json!("x"));
        check(r"b'x'", json!("x"));
        check("''", json!(""));
        check("'''a'b'''", json!("a'b"));
    }

    #[test]
    fn containers() {
        check("[]", json!([]));
        check("{}", json!({}));
        check("()", json!([]));
        check("(1,)", json!([1]));
        check("[1, 'a', None, [True]]", json!([1, "a", null, [true]]));
        check(
            "{'a': 1, 'b': {'c': [False]},}",
            json!({"a": 1, "b": {"c": [false]}}),
        );
        check("{1: 'x', None: 'y'}", json!({"1": "x", "None": "y"}));
        check("{'a', 'b'}", json!(["a", "b"]));
        check("{'k': 1, 'k': 2}", json!({"k": 2}));
        check(
            "['Ming Yan', 'Ruihao Li']",
            json!(["Ming Yan", "Ruihao Li"]),
        );
    }

    #[test]
    fn a_real_hf_entry_fragment() {
        let src = r#"{'paper': {'id': '2412.07730', 'authors': [{'_id': '67590ae2', 'name': 'Zongyu Lin', 'hidden': False}], 'summary': 'We\nstudy "quotes" and it\'s fine', 'upvotes': 5}, 'numComments': 0}"#;
        check(
            src,
            json!({"paper": {"id": "2412.07730", "authors": [{"_id": "67590ae2", "name": "Zongyu Lin", "hidden": false}],
                   "summary": "We\nstudy \"quotes\" and it's fine", "upvotes": 5}, "numComments": 0}),
        );
    }

    #[test]
    fn refusals() {
        check_err("", "expected a value");
        check_err("[1, 2", "expected ',' or ']'");
        check_err("[1, ", "expected a value");
        check_err("[1 2]", "expected ','");
        check_err("'open", "unterminated");
        check_err("'a\nb'", "line break");
        check_err("{'a' 1}", "expected ','");
        check_err("{'a': 1, 'b'}", "expected ':'");
        check_err("{[1]: 2}", "dict key");
        check_err("true", "unexpected name");
        check_err("datetime(2024, 1, 1)", "unexpected name");
        check_err("1 2", "after the literal");
        check_err(r"'\x4'", "hex digits");
        check_err(r"'\N{DASH}'", "named escapes");
        check_err("1e999", "not a number");
        check_err("12abc", "not a number");
        check_err("@", "unexpected character");
        check_err(&"[".repeat(1000), "nested too deeply");
    }

    #[test]
    fn error_offsets_point_at_the_problem() {
        assert_eq!(parse("[1, @]").map_err(|e| e.offset), Err(4));
        assert_eq!(parse("  'abc").map_err(|e| e.offset), Err(2));
    }

    proptest::proptest! {
        #![proptest_config(crate::fuzzing::config())]

        #[test]
        fn never_panics(src in "\\PC{0,60}") {
            let _ = parse(&src);
        }

        #[test]
        fn never_panics_on_python_like_text(src in "[\\[\\]{}()'\"\\\\:,. 0-9a-zA-Z_eE+-]{0,60}") {
            let _ = parse(&src);
        }

        /// Strings written the way Python's repr writes them come back intact.
        #[test]
        fn repr_strings_round_trip(s in "\\PC{0,40}") {
            proptest::prop_assert_eq!(parse(&python_repr(&s)), Ok(Value::String(s)));
        }
    }

    /// Python's `repr(str)`, enough for the test: single quotes unless the
    /// text has one and no double quote.
    fn python_repr(s: &str) -> String {
        let quote = if s.contains('\'') && !s.contains('"') {
            '"'
        } else {
            '\''
        };
        let mut out = String::from(quote);
        for c in s.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c == quote => {
                    out.push('\\');
                    out.push(c);
                }
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c => out.push(c),
            }
        }
        out.push(quote);
        out
    }
}
