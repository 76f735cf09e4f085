//! ASCII fast paths of `paperboy_core::text`'s normalisers, equal to them
//! (the property tests below compare both on arbitrary text).
//!
//! The Kaggle snapshot has millions of abstracts and most of its text is
//! ASCII; the core functions, written for any Unicode, spent a quarter of the
//! parse time splitting words. These work on byte runs and fall back to the
//! core functions for anything that is not ASCII.

use paperboy_core::text;

/// Rust's `char::is_whitespace` restricted to ASCII (it includes the
/// vertical tab, which `u8::is_ascii_whitespace` does not).
fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ')
}

/// Appends ASCII `s` to `out` with every whitespace run made one space and
/// the ends trimmed; a space separates it from what `out` already holds when
/// `join` is set and both are non-empty.
fn push_collapsed(out: &mut String, s: &str, join: bool) {
    let s = s.trim_matches(|c: char| c.is_ascii() && is_space(c as u8));
    if s.is_empty() {
        return;
    }
    if join && !out.is_empty() {
        out.push(' ');
    }
    // Most text has no whitespace but single spaces: two quick scans (both
    // vectorise) decide that, and the text goes in as it is.
    let has_control = s.bytes().fold(false, |acc, b| acc | (b < b' '));
    if !has_control && !s.contains("  ") {
        out.push_str(s);
        return;
    }
    // Otherwise it is copied in runs; a run ends where whitespace is not a
    // single space (a line break, a tab, two spaces).
    let bytes = s.as_bytes();
    let mut run_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b > b' ' || !is_space(b) {
            i += 1;
            continue;
        }
        let next_is_space = bytes.get(i + 1).is_some_and(|&n| is_space(n));
        if b == b' ' && !next_is_space {
            i += 1;
            continue;
        }
        // Slicing ASCII text at any byte is on a char boundary.
        out.push_str(&s[run_start..i]);
        out.push(' ');
        while bytes.get(i).is_some_and(|&n| is_space(n)) {
            i += 1;
        }
        run_start = i;
    }
    out.push_str(&s[run_start..]);
}

/// Same as [`text::collapse_whitespace`].
pub fn collapse_whitespace(s: &str) -> String {
    if !s.is_ascii() {
        return text::collapse_whitespace(s);
    }
    let mut out = String::with_capacity(s.len());
    push_collapsed(&mut out, s, false);
    out
}

/// Same as [`text::clean_line`]: without a backslash there is no TeX to
/// decode.
pub fn clean_line(s: &str) -> String {
    if s.contains('\\') {
        return text::clean_line(s);
    }
    collapse_whitespace(s)
}

/// Same as `clean_line(&parts.join(" "))`, without the intermediate strings.
pub fn clean_words(parts: &[&str]) -> String {
    if parts.iter().any(|p| !p.is_ascii() || p.contains('\\')) {
        return text::clean_line(&parts.join(" "));
    }
    let mut out = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for part in parts {
        push_collapsed(&mut out, part, true);
    }
    out
}

/// Same as [`text::normalize_abstract`].
pub fn normalize_abstract(s: &str) -> String {
    if !s.is_ascii() {
        return text::normalize_abstract(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut in_paragraph = false;
    // The core's rule, line by line: an indented or blank line ends a
    // paragraph; wrapped lines join with a space.
    for (i, line) in s.trim_matches(['\n', '\r']).lines().enumerate() {
        let indented = line.starts_with([' ', '\t']);
        let trimmed = line.trim();
        let blank = trimmed.is_empty();
        if i > 0 && (indented || blank) && in_paragraph {
            in_paragraph = false;
        }
        if blank {
            continue;
        }
        if !in_paragraph && !out.is_empty() {
            out.push_str("\n\n");
        }
        push_collapsed(&mut out, trimmed, in_paragraph);
        in_paragraph = true;
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn examples() {
        assert_eq!(collapse_whitespace("  a \t b\n\n c  "), "a b c");
        assert_eq!(collapse_whitespace("a\u{b}b"), "a b");
        assert_eq!(clean_line("Tevatron and\n  LHC"), "Tevatron and LHC");
        assert_eq!(clean_line(r"Bal\'azs"), "Balázs");
        assert_eq!(clean_words(&["C.-P.", " Yuan", ""]), "C.-P. Yuan");
        assert_eq!(
            normalize_abstract("  One\ntwo.\n  Three\nfour.\n"),
            "One two.\n\nThree four."
        );
    }

    /// Text made mostly of the characters the normalisers care about.
    fn texty() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-c \t\n\r\u{b}\u{c}\\\\'{}]{0,60}",
            "[a-c \t\n\r\u{a0}\u{85}\u{2028}é]{0,40}",
            "\\PC{0,40}",
            any::<String>(),
        ]
    }

    proptest! {
        #![proptest_config(crate::fuzzing::config())]

        #[test]
        fn equal_to_the_core(s in texty()) {
            prop_assert_eq!(collapse_whitespace(&s), text::collapse_whitespace(&s));
            prop_assert_eq!(clean_line(&s), text::clean_line(&s));
            prop_assert_eq!(normalize_abstract(&s), text::normalize_abstract(&s));
        }

        #[test]
        fn words_equal_the_core(parts in prop::collection::vec(texty(), 0..4)) {
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            prop_assert_eq!(clean_words(&parts), text::clean_line(&parts.join(" ")));
        }
    }
}
