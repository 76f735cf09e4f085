//! Field conventions shared by the arXiv-shaped sources (Kaggle, Atom,
//! OAI-PMH): author lists, names, DOIs, categories, RFC 2822 dates, `vN`.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use crate::text_ascii::{clean_line, clean_words, collapse_whitespace};

/// A one-line field (comments, journal-ref, links): whitespace collapsed,
/// `None` when blank.
pub fn one_line(s: &str) -> Option<String> {
    let s = collapse_whitespace(s);
    (!s.is_empty()).then_some(s)
}

/// A display name from arXiv's parts: `Yuan`, `C. -P.`, `Jr` → `C.-P. Yuan Jr`.
/// TeX accents are decoded.
pub fn person_name(forenames: &str, keyname: &str, suffix: &str) -> String {
    // arXiv's author parser writes hyphenated initials as `C. -P.`; the
    // authors themselves wrote `C.-P.`.
    let forenames: Cow<'_, str> = if forenames.contains(". -") {
        forenames.replace(". -", ".-").into()
    } else {
        forenames.into()
    };
    // Blank parts are left out before joining, as the names were always built.
    let mut parts = [""; 3];
    let mut n = 0;
    for part in [&*forenames, keyname, suffix].map(str::trim) {
        if !part.is_empty() {
            parts[n] = part;
            n += 1;
        }
    }
    clean_words(&parts[..n])
}

/// Splits arXiv's free-text author list (`A, B, and C`, `A and B`) into
/// names, dropping affiliations in parentheses (`A (MIT) and B ((1) CERN)`).
pub fn split_author_list(s: &str) -> Vec<String> {
    let text = without_parentheses(s);
    let mut names = Vec::new();
    for part in text.split(',') {
        for name in split_on_and(part) {
            let name = clean_line(name);
            if !name.is_empty() {
                names.push(name);
            }
        }
    }
    names
}

/// `s` without its parenthesised groups, nested ones included. When the
/// parentheses do not balance the text is kept as it is: better a name with
/// an affiliation in it than a lost name.
fn without_parentheses(s: &str) -> Cow<'_, str> {
    if !s.contains('(') {
        return s.into();
    }
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return s.into(),
            ')' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    if depth == 0 { out.into() } else { s.into() }
}

/// Splits on the word `and` (any whitespace around it), also at the start
/// (`, and C`).
fn split_on_and(s: &str) -> impl Iterator<Item = &str> {
    let mut parts = Vec::new();
    let mut rest = s.trim();
    loop {
        if let Some(after) = rest
            .strip_prefix("and")
            .filter(|a| a.starts_with(char::is_whitespace))
        {
            rest = after.trim_start();
            continue;
        }
        match find_word_and(rest) {
            Some((before, after)) => {
                parts.push(before);
                rest = after;
            }
            None => {
                parts.push(rest);
                break;
            }
        }
    }
    parts.into_iter()
}

/// The text before and after the first ` and ` (as a whitespace-bounded word).
fn find_word_and(s: &str) -> Option<(&str, &str)> {
    let mut from = 0;
    while let Some(i) = s[from..].find("and") {
        let at = from + i;
        let before_ok = s[..at].ends_with(char::is_whitespace);
        let after_ok = s[at + 3..].starts_with(char::is_whitespace);
        if before_ok && after_ok && at > 0 {
            return Some((s[..at].trim_end(), s[at + 3..].trim_start()));
        }
        from = at + 3;
    }
    None
}

/// The first DOI of a field that sometimes lists several
/// (`10.1/a 10.1/b`, `10.1/a, 10.1/b;10.1/c`).
pub fn first_doi(s: &str) -> Option<String> {
    s.split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .find(|t| !t.is_empty())
        .map(str::to_string)
}

/// Space-separated categories as a list, the primary first; the primary is
/// the given one, else the first listed.
pub fn categories(list: &str, primary: Option<&str>) -> (Vec<String>, Option<String>) {
    let mut cats: Vec<String> = list.split_whitespace().map(str::to_string).collect();
    let primary = primary.map(str::trim).filter(|p| !p.is_empty());
    if let Some(p) = primary {
        match cats.iter().position(|c| c == p) {
            Some(0) => {}
            Some(i) => {
                let c = cats.remove(i);
                cats.insert(0, c);
            }
            None => cats.insert(0, p.to_string()),
        }
    }
    let primary = cats.first().cloned();
    (cats, primary)
}

/// `Mon, 2 Apr 2007 19:18:42 GMT` as a UTC time.
pub fn parse_rfc2822(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    arxiv_gmt(s).or_else(|| {
        DateTime::parse_from_rfc2822(s)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// The one shape arXiv writes (`Mon, 2 Apr 2007 19:18:42 GMT`), read
/// directly: chrono's general parser was a twentieth of the Kaggle parse.
/// Anything else is left to chrono.
fn arxiv_gmt(s: &str) -> Option<DateTime<Utc>> {
    let rest = s.get(3..)?.strip_prefix(", ")?.strip_suffix(" GMT")?;
    let mut fields = rest.split(' ');
    let day: u32 = fields.next().filter(|d| d.len() <= 2)?.parse().ok()?;
    let month = match fields.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i32 = fields.next().filter(|y| y.len() == 4)?.parse().ok()?;
    let time = fields.next().filter(|t| t.len() == 8)?;
    if fields.next().is_some() || time.as_bytes()[2] != b':' || time.as_bytes()[5] != b':' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| time.get(range)?.parse::<u32>().ok();
    let date = chrono::NaiveDate::from_ymd_opt(year, month, day)?;
    Some(
        date.and_hms_opt(number(0..2)?, number(3..5)?, number(6..8)?)?
            .and_utc(),
    )
}

/// `v2` → 2.
pub fn version_number(s: &str) -> Option<u32> {
    let s = s.trim();
    let digits = s.strip_prefix(['v', 'V']).unwrap_or(s);
    digits.parse::<u32>().ok().filter(|&n| n >= 1)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(crate::fuzzing::config())]

        #[test]
        fn the_direct_date_path_agrees_with_chrono(s in "(Mon|Tue|Sun), [0-9]{1,2} (Jan|Feb|Apr|Xyz) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT") {
            // chrono also checks the weekday; the direct path does not, so
            // compare only where chrono accepts.
            if let Ok(t) = DateTime::parse_from_rfc2822(&s) {
                prop_assert_eq!(parse_rfc2822(&s), Some(t.with_timezone(&Utc)));
            }
        }

        #[test]
        fn dates_never_panic(s in "\\PC{0,40}") {
            let _ = parse_rfc2822(&s);
        }
    }

    #[test]
    fn author_lists() {
        let cases: [(&str, &[&str]); 8] = [
            (
                "Joshua Berger, Maxim Perelstein, Michael Saelim and Philip Tanedo",
                &[
                    "Joshua Berger",
                    "Maxim Perelstein",
                    "Michael Saelim",
                    "Philip Tanedo",
                ],
            ),
            (
                "D.V. Shetty, S.J. Yennello, and G.A. Souliotis",
                &["D.V. Shetty", "S.J. Yennello", "G.A. Souliotis"],
            ),
            (
                "Ileana Streinu and Louis Theran",
                &["Ileana Streinu", "Louis Theran"],
            ),
            (
                "A. S. Mishchenko (1 and 2) and N. Nagaosa (1 and 3) ((1) CREST, Japan\n  Science, (2) Kurchatov)",
                &["A. S. Mishchenko", "N. Nagaosa"],
            ),
            (r"C. Bal\'azs, E. L. Berger", &["C. Balázs", "E. L. Berger"]),
            (
                "Alexander Anderson and Sandra Band",
                &["Alexander Anderson", "Sandra Band"],
            ),
            ("A. Unbalanced (MIT", &["A. Unbalanced (MIT"]),
            ("", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(split_author_list(input), want, "input {input:?}");
        }
    }

    #[test]
    fn names_from_parts() {
        assert_eq!(person_name("C. -P.", "Yuan", ""), "C.-P. Yuan");
        assert_eq!(person_name("", r"Bal\'azs", ""), "Balázs");
        assert_eq!(person_name("John", "Smith", "Jr"), "John Smith Jr");
        assert_eq!(
            person_name("", "Planck Collaboration", ""),
            "Planck Collaboration"
        );
    }

    #[test]
    fn small_fields() {
        assert_eq!(first_doi("10.1103/A 10.1103/B"), Some("10.1103/A".into()));
        assert_eq!(first_doi(" 10.1/a, 10.1/b;10.1/c"), Some("10.1/a".into()));
        assert_eq!(first_doi("  "), None);
        assert_eq!(
            categories("math.NT math.AG", None),
            (
                vec!["math.NT".into(), "math.AG".into()],
                Some("math.NT".into())
            )
        );
        assert_eq!(categories("a b c", Some("b")).0, ["b", "a", "c"]);
        assert_eq!(categories("a", Some("z")).0, ["z", "a"]);
        assert_eq!(categories("", None), (vec![], None));
        assert_eq!(
            parse_rfc2822("Mon, 2 Apr 2007 19:18:42 GMT").map(|t| t.to_rfc3339()),
            Some("2007-04-02T19:18:42+00:00".into())
        );
        assert_eq!(parse_rfc2822("yesterday"), None);
        // The direct path and chrono agree; chrono takes what it does not know.
        for t in [
            "Mon, 2 Apr 2007 19:18:42 GMT",
            "Tue, 24 Jul 2007 20:10:27 GMT",
            "Sat, 31 Mar 2007 04:47:20 GMT",
            "Sat, 31 Mar 2007 04:47:20 +0200",
            "2 Apr 2007 19:18:42 GMT",
        ] {
            let chrono = DateTime::parse_from_rfc2822(t)
                .ok()
                .map(|t| t.with_timezone(&Utc));
            assert_eq!(parse_rfc2822(t), chrono, "{t}");
            assert!(chrono.is_some(), "{t}");
        }
        for bad in [
            "Mon, 31 Feb 2007 19:18:42 GMT",
            "Mon, 2 Apr 2007 25:18:42 GMT",
            "Mon, 2 Xyz 2007 19:18:42 GMT",
            "Mon, 2 Apr 2007 19-18-42 GMT",
            "Mon, 2 Apr 2007 1é:18:4 GMT",
        ] {
            assert_eq!(parse_rfc2822(bad), None, "{bad}");
        }
        assert_eq!(version_number("v2"), Some(2));
        assert_eq!(version_number("v0"), None);
        assert_eq!(version_number("x"), None);
    }
}
