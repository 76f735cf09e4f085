//! Text normalisation shared by every source: arXiv hard line breaks, TeX
//! accents in names and titles.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

/// Collapses every run of whitespace (line breaks included) into one space
/// and trims the ends. For titles, names and one-line fields.
pub fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Normalises an abstract: arXiv wraps lines at ~80 columns and starts a new
/// paragraph with an indented line. Wrapped lines are joined with a space;
/// paragraphs (indented or after a blank line) are kept, separated by a blank
/// line, so normalising twice changes nothing.
pub fn normalize_abstract(s: &str) -> String {
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current = String::new();
    for (i, line) in s.trim_matches(['\n', '\r']).lines().enumerate() {
        let indented = line.starts_with([' ', '\t']);
        let text = line.trim();
        let blank = text.is_empty();
        if i > 0 && (indented || blank) && !current.is_empty() {
            paragraphs.push(std::mem::take(&mut current));
        }
        if blank {
            continue;
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(text);
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    paragraphs
        .iter()
        .map(|p| collapse_whitespace(p))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A name or title as it should be shown: TeX accents decoded, whitespace
/// collapsed.
pub fn clean_line(s: &str) -> String {
    collapse_whitespace(&decode_tex_accents(s))
}

/// Decodes the TeX accent commands common in arXiv metadata:
/// `Bal\'azs` → `Balázs`, `{\"o}` → `ö`, `\c{c}` → `ç`, `\ss` → `ß`.
/// Anything else, math included, is left as it is.
pub fn decode_tex_accents(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        // `{\'a}`: a braced accent group; the braces go with the command.
        if chars[i] == '{'
            && chars.get(i + 1) == Some(&'\\')
            && let Some((decoded, used)) = decode_command(&chars[i + 1..])
            && chars.get(i + 1 + used) == Some(&'}')
        {
            out.push_str(&decoded);
            i += used + 2;
            continue;
        }
        if chars[i] == '\\'
            && let Some((decoded, used)) = decode_command(&chars[i..])
        {
            out.push_str(&decoded);
            i += used;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out.nfc().collect()
}

/// Decodes one command at the start of `s` (which begins with `\`),
/// returning the text and how many chars it used.
fn decode_command(s: &[char]) -> Option<(String, usize)> {
    let cmd = *s.get(1)?;
    if let Some(mark) = symbol_accent(cmd) {
        let (base, used) = accent_argument(&s[2..], false)?;
        return Some((format!("{base}{mark}"), 2 + used));
    }
    if let Some(mark) = letter_accent(cmd) {
        // Letter commands need a delimiter (`\c{c}`, `\c c`) so that `\cdot`
        // and `\vec` are never mistaken for accents.
        let (base, used) = accent_argument(&s[2..], true)?;
        return Some((format!("{base}{mark}"), 2 + used));
    }
    let (word, used) = special_letter(s)?;
    Some((word.to_string(), used))
}

/// The argument of an accent: `a`, `{a}`, `\i`, `{\i}`; after a letter
/// command a space or brace is required.
fn accent_argument(s: &[char], needs_delimiter: bool) -> Option<(char, usize)> {
    match s.first()? {
        '{' => {
            let (c, used) = bare_letter(&s[1..])?;
            (s.get(1 + used) == Some(&'}')).then_some((c, used + 2))
        }
        ' ' if needs_delimiter => {
            let (c, used) = bare_letter(&s[1..])?;
            Some((c, used + 1))
        }
        _ if needs_delimiter => None,
        _ => bare_letter(s),
    }
}

/// A letter, or the dotless `\i` / `\j` that accents sit on.
fn bare_letter(s: &[char]) -> Option<(char, usize)> {
    match s {
        ['\\', c @ ('i' | 'j'), rest @ ..] => match rest.first() {
            Some(' ') => Some((*c, 3)),
            Some(next) if next.is_ascii_alphabetic() => None,
            _ => Some((*c, 2)),
        },
        [c, ..] if c.is_alphabetic() => Some((*c, 1)),
        _ => None,
    }
}

fn symbol_accent(c: char) -> Option<char> {
    Some(match c {
        '\'' => '\u{301}',
        '`' => '\u{300}',
        '^' => '\u{302}',
        '"' => '\u{308}',
        '~' => '\u{303}',
        '=' => '\u{304}',
        '.' => '\u{307}',
        _ => return None,
    })
}

fn letter_accent(c: char) -> Option<char> {
    Some(match c {
        'c' => '\u{327}', // cedilla
        'v' => '\u{30C}', // caron
        'u' => '\u{306}', // breve
        'H' => '\u{30B}', // double acute
        'k' => '\u{328}', // ogonek
        'r' => '\u{30A}', // ring
        _ => return None,
    })
}

/// `\ss`, `\o`, `\aa`, `\l`, … : letters TeX spells as commands. The command
/// must end at a non-letter (`\ol` is not `\o` + `l`).
fn special_letter(s: &[char]) -> Option<(&'static str, usize)> {
    const TABLE: [(&str, &str); 12] = [
        ("ss", "ß"),
        ("aa", "å"),
        ("AA", "Å"),
        ("ae", "æ"),
        ("AE", "Æ"),
        ("oe", "œ"),
        ("OE", "Œ"),
        ("o", "ø"),
        ("O", "Ø"),
        ("l", "ł"),
        ("L", "Ł"),
        ("i", "ı"),
    ];
    let name_len = s[1..]
        .iter()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    let name: String = s[1..1 + name_len].iter().collect();
    let (_, out) = TABLE.iter().find(|(n, _)| *n == name)?;
    // `\o{}` and `\ss{}` spell the same letter; a following space is eaten.
    let mut used = 1 + name_len;
    if s.get(used) == Some(&'{') && s.get(used + 1) == Some(&'}') {
        used += 2;
    } else if s.get(used) == Some(&' ') {
        used += 1;
    }
    Some((out, used))
}

/// The first `max` characters of `text`, cut at a word boundary, with `…`
/// when something was cut. Paragraph breaks become spaces.
pub fn snippet(text: &str, max: usize) -> Cow<'_, str> {
    let cut = match text.char_indices().nth(max) {
        None => return collapse_paragraphs(text),
        Some((byte, _)) => byte,
    };
    let head = &text[..cut];
    // Cut at the last whitespace, unless that throws most of it away (one
    // enormous word).
    let end = match head.rfind(char::is_whitespace) {
        Some(space) if space >= cut / 2 => space,
        _ => cut,
    };
    let head = head[..end]
        .trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-'));
    let mut out = collapse_paragraphs(head).into_owned();
    out.push('…');
    Cow::Owned(out)
}

fn collapse_paragraphs(text: &str) -> Cow<'_, str> {
    if text.contains('\n') {
        Cow::Owned(text.split_whitespace().collect::<Vec<_>>().join(" "))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tex_accents() {
        let cases = [
            (r"C. Bal\'azs", "C. Balázs"),
            (r"Bal{\'a}zs", "Balázs"),
            (r"Bal\'{a}zs", "Balázs"),
            (r#"G\"odel"#, "Gödel"),
            (r#"{\"O}zt{\"u}rk"#, "Öztürk"),
            (r"Fran\c{c}ois", "François"),
            (r"Fran\c cois", "François"),
            (r"\v{S}koda", "Škoda"),
            (r"Erd\H{o}s", "Erdős"),
            (r"Garc\'{\i}a", "García"),
            (r"Garc\'\i a", "García"), // TeX eats the space that ends `\i`
            (r"Stra\ss e", "Straße"),
            (r"{\o}rsted", "ørsted"),
            (r#"\AA ngstr\"om"#, "Ångström"),
            (r"Wa\l{}\k{e}sa", "Wałęsa"),
            (r"Mu\~noz", "Muñoz"),
            (r"$\vec{x} \cdot y$", r"$\vec{x} \cdot y$"),
            (r"\emph{no}", r"\emph{no}"),
            ("plain", "plain"),
            ("trailing \\", "trailing \\"),
        ];
        for (input, want) in cases {
            assert_eq!(decode_tex_accents(input), want, "input {input:?}");
        }
    }

    #[test]
    fn abstracts_keep_paragraphs_and_join_wrapped_lines() {
        let raw = "  We introduce a novel construction\nusing Lax pairs.\n  In particular, we\npresent new classes.\n";
        assert_eq!(
            normalize_abstract(raw),
            "We introduce a novel construction using Lax pairs.\n\nIn particular, we present new classes."
        );
        assert_eq!(normalize_abstract("one\n\n\ntwo"), "one\n\ntwo");
        assert_eq!(normalize_abstract(""), "");
    }

    #[test]
    fn titles_collapse_hard_breaks() {
        assert_eq!(
            clean_line(
                "Calculation of prompt diphoton production cross sections at Tevatron and\n  LHC energies"
            ),
            "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
        );
    }

    proptest::proptest! {
        #[test]
        fn normalisers_never_panic_and_are_idempotent(s in "\\PC{0,80}") {
            let once = clean_line(&s);
            proptest::prop_assert_eq!(collapse_whitespace(&once), once.clone());
            let a = normalize_abstract(&s);
            proptest::prop_assert_eq!(normalize_abstract(&a), a.clone());
        }
    }

    #[test]
    fn snippets_cut_at_a_word() {
        let check =
            |text: &str, max: usize, want: &str| assert_eq!(snippet(text, max), want, "{text:?}");
        check("short text", 300, "short text");
        check("one two three four", 10, "one two…");
        check("one two, three four", 9, "one two…");
        check("para one.\n\npara two", 300, "para one. para two");
        check("abcdefghijklmnopqrstuvwxyz", 10, "abcdefghij…");
        check("héllo wörld ünïcode", 13, "héllo wörld…");
        let long = "word ".repeat(200);
        let s = snippet(&long, 300);
        assert!(s.chars().count() <= 300 + 1 && s.ends_with("word…"), "{s}");
    }
}
