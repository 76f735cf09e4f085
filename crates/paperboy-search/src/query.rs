//! The query language users type, parsed to a small AST ([`Query`]): plain
//! words, `"phrases"`, `-excluded` words or phrases, and the field prefixes
//! arXiv and SciRate users know (`ti:`, `au:`, `abs:`, `cat:`).
//!
//! Parsing never fails: whatever is malformed (an unbalanced quote, a
//! dangling `-`, `ti:` with nothing after it, an unknown prefix such as
//! `foo:bar` or a title's `Mamba:`) falls back to plain words. Tantivy's own
//! query syntax is never exposed: the index builds its queries from the AST.

/// At most this many bytes of a query are read; the rest is ignored, so a
/// pasted page of text costs no more than a long sentence.
pub const MAX_QUERY_BYTES: usize = 1024;

/// At most this many clauses are kept.
pub const MAX_CLAUSES: usize = 64;

/// A parsed query: clauses in the order typed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    pub clauses: Vec<Clause>,
}

/// One word or phrase, maybe restricted to a field, maybe excluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// `-word`: documents containing it are left out.
    pub excluded: bool,
    /// `None`: title, abstract and authors.
    pub field: Option<SearchField>,
    pub text: Text,
}

/// The text of a clause, as typed (the index tokenizes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    Word(String),
    /// Words that must appear next to each other, in order.
    Phrase(String),
}

/// The fields a prefix can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchField {
    /// `ti:`
    Title,
    /// `abs:`
    Abstract,
    /// `au:`
    Authors,
    /// `cat:` (`cat:cs.CL`, or `cat:cs` for the whole archive)
    Category,
}

impl SearchField {
    fn from_prefix(prefix: &str) -> Option<SearchField> {
        match prefix.to_ascii_lowercase().as_str() {
            "ti" | "title" => Some(SearchField::Title),
            "abs" | "abstract" => Some(SearchField::Abstract),
            "au" | "author" => Some(SearchField::Authors),
            "cat" | "category" => Some(SearchField::Category),
            _ => None,
        }
    }
}

impl Query {
    /// Whether some clause asks for documents (rather than only excluding).
    pub fn has_positive(&self) -> bool {
        self.clauses.iter().any(|c| !c.excluded)
    }
}

/// Parses what a user typed. Never fails; see the module docs.
pub fn parse(input: &str) -> Query {
    let input = truncate(input, MAX_QUERY_BYTES);
    let mut clauses = Vec::new();
    let mut rest = input;
    while clauses.len() < MAX_CLAUSES {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let (clause, after) = parse_clause(rest);
        if let Some(clause) = clause {
            clauses.push(clause);
        }
        rest = after;
    }
    Query { clauses }
}

/// One clause from the start of `s` (no leading space), and what follows it.
/// `None` when the token holds nothing to search for (a lone `-`).
fn parse_clause(s: &str) -> (Option<Clause>, &str) {
    let (excluded, body) = match s.strip_prefix('-') {
        Some(body) if !body.is_empty() && !body.starts_with(char::is_whitespace) => (true, body),
        // A dangling `-`, or `--`: nothing to exclude; skip it.
        Some(body) => return (None, body),
        None => (false, s),
    };
    let (field, body) = match split_prefix(body) {
        Some((field, after)) if !after.is_empty() && !after.starts_with(char::is_whitespace) => {
            (Some(field), after)
        }
        // `ti:` with nothing after it: the prefix is read as a plain word.
        _ => (None, body),
    };
    if let Some(quoted) = body.strip_prefix('"') {
        if let Some(end) = quoted.find('"') {
            let phrase = quoted[..end].trim();
            let after = &quoted[end + 1..];
            if phrase.is_empty() {
                return (None, after);
            }
            return (
                Some(Clause {
                    excluded,
                    field,
                    text: Text::Phrase(phrase.to_string()),
                }),
                after,
            );
        }
        // An unbalanced quote: the rest of the query is plain words.
        let (word, after) = split_word(quoted.trim_start());
        return (word_clause(excluded, field, word), after);
    }
    let (word, after) = split_word(body);
    (word_clause(excluded, field, word), after)
}

fn word_clause(excluded: bool, field: Option<SearchField>, word: &str) -> Option<Clause> {
    // Quotes inside a word (`a"b`) are not syntax: keep the letters around
    // them, which the tokenizer splits anyway.
    let word = word.trim_matches('"');
    (!word.is_empty()).then(|| Clause {
        excluded,
        field,
        text: Text::Word(word.to_string()),
    })
}

/// A known field prefix (`ti:`) at the start of `s`, and what follows it.
fn split_prefix(s: &str) -> Option<(SearchField, &str)> {
    let colon = s.find(':')?;
    let prefix = &s[..colon];
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    Some((SearchField::from_prefix(prefix)?, &s[colon + 1..]))
}

/// The word at the start of `s` (up to white space) and what follows.
fn split_word(s: &str) -> (&str, &str) {
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// `s` cut to at most `max` bytes, on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders a query compactly: `-ti:"a b" word`.
    fn render(query: &Query) -> String {
        query
            .clauses
            .iter()
            .map(|c| {
                let mut out = String::new();
                if c.excluded {
                    out.push('-');
                }
                out.push_str(match c.field {
                    None => "",
                    Some(SearchField::Title) => "ti:",
                    Some(SearchField::Abstract) => "abs:",
                    Some(SearchField::Authors) => "au:",
                    Some(SearchField::Category) => "cat:",
                });
                match &c.text {
                    Text::Word(w) => out.push_str(w),
                    Text::Phrase(p) => out.push_str(&format!("\"{p}\"")),
                }
                out
            })
            .collect::<Vec<_>>()
            .join(" | ")
    }

    fn check(input: &str, expect: &str) {
        assert_eq!(render(&parse(input)), expect, "input: {input:?}");
    }

    #[test]
    fn plain_words() {
        check("", "");
        check("   ", "");
        check("attention is all", "attention | is | all");
        check("  spaced\tout\nwords ", "spaced | out | words");
    }

    #[test]
    fn fields() {
        check("ti:transformer", "ti:transformer");
        check("TI:Transformer", "ti:Transformer");
        check("au:hinton abs:dropout", "au:hinton | abs:dropout");
        check("cat:cs.CL", "cat:cs.CL");
        check(
            "title:x author:y abstract:z category:q",
            "ti:x | au:y | abs:z | cat:q",
        );
    }

    #[test]
    fn phrases_and_exclusions() {
        check("\"large language model\"", "\"large language model\"");
        check("ti:\"state space\" mamba", "ti:\"state space\" | mamba");
        check("diffusion -video", "diffusion | -video");
        check("-\"image generation\" x", "-\"image generation\" | x");
        check("-au:smith", "-au:smith");
        check("a\"b\"c", "a\"b\"c");
    }

    #[test]
    fn malformed_falls_back_to_plain_words() {
        check("\"unbalanced quote here", "unbalanced | quote | here");
        check("x \"", "x");
        check("\"\" empty", "empty");
        check("dangling - minus -", "dangling | minus");
        check("--", "--");
        check("ti: nothing", "ti: | nothing");
        check("ti:", "ti:");
        check("foo:bar", "foo:bar");
        check("Mamba: Linear-Time", "Mamba: | Linear-Time");
        check("http://example.org", "http://example.org");
        check("-ti:", "-ti:");
    }

    #[test]
    fn other_scripts_and_emoji_are_words() {
        check("大型语言模型", "大型语言模型");
        check("نموذج لغوي", "نموذج | لغوي");
        check("трансформер", "трансформер");
        check("🚀 rocket", "🚀 | rocket");
    }

    #[test]
    fn long_input_is_bounded() {
        let long = "word ".repeat(2_000);
        let query = parse(&long);
        assert_eq!(query.clauses.len(), MAX_CLAUSES);
        let multibyte = "é".repeat(MAX_QUERY_BYTES);
        let query = parse(&multibyte);
        assert_eq!(query.clauses.len(), 1);
        assert!(matches!(&query.clauses[0].text, Text::Word(w) if w.len() <= MAX_QUERY_BYTES));
    }
}
