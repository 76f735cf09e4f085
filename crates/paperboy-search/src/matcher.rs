//! Does one paper match a saved search? The boolean test alerts need, on the
//! same query language ([`crate::query`]) and the same words as the keyword
//! index ([`crate::keyword`]), without an index: the scheduler asks it of
//! each paper that changed since a search last looked.
//!
//! Stricter than a search, which ranks: **every** positive clause must match
//! (a plain word in the title, the abstract or an author's name; `ti:`,
//! `abs:`, `au:` restrict the field; a phrase, or a word the tokenizer
//! splits such as `LLaMA-Adapter`, must have its words next to each other in
//! one field; `cat:cs.CL` is the category, `cat:cs` the archive), and no
//! excluded clause or excluded word may match. A query with nothing positive
//! matches nothing: an alert on "everything but X" would mail the catalog.
//!
//! Words are cut and folded exactly as the keyword index does it (split on
//! what is not a letter or digit, drop tokens of 64 bytes or more,
//! lower-case, fold accents to ASCII; no stemming), so a saved search finds
//! what the same query finds on `/search`. It never touches the store.

use paperboy_core::Paper;
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};

use crate::query::{self, Clause, SearchField, Text};

/// The analyzer of the keyword index's text fields (title, abstract,
/// authors) and of the matcher: one definition, so that an alert finds what
/// `/search` finds (a test in this module checks them against each other).
pub(crate) fn text_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// `text` cut into the index's words.
fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while let Some(token) = stream.next() {
        out.push(token.text.clone());
    }
    out
}

/// A paper's text as the matcher reads it, cut into words once: build it
/// once per paper to test it against many searches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperText {
    title: Vec<String>,
    abstract_text: Vec<String>,
    /// One list per author: a phrase never runs from one name into the next.
    authors: Vec<Vec<String>>,
    /// Lower-case categories and their archives (`cs.cl`, `cs`).
    categories: Vec<String>,
}

impl PaperText {
    pub fn new(paper: &Paper) -> PaperText {
        let mut analyzer = text_analyzer();
        let biblio = &paper.biblio;
        let mut categories = Vec::new();
        for category in &biblio.categories {
            let category = category.trim().to_lowercase();
            if let Some((archive, _)) = category.split_once('.') {
                categories.push(archive.to_owned());
            }
            categories.push(category);
        }
        categories.sort();
        categories.dedup();
        PaperText {
            title: tokens(&mut analyzer, &biblio.title),
            abstract_text: tokens(&mut analyzer, &biblio.abstract_text),
            authors: biblio
                .authors
                .iter()
                .map(|a| tokens(&mut analyzer, a))
                .collect(),
            categories,
        }
    }
}

/// Where a rule looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// Title, abstract or an author's name.
    Any,
    Title,
    Abstract,
    Authors,
    Category,
}

/// One clause, ready to test: words that must appear next to each other in
/// order (one word for most clauses), or a category.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    target: Target,
    /// Never empty. For [`Target::Category`], the one lower-case category.
    words: Vec<String>,
}

impl Rule {
    fn matches(&self, text: &PaperText) -> bool {
        let run = |field: &[String]| contains_run(field, &self.words);
        match self.target {
            Target::Any => {
                run(&text.title) || run(&text.abstract_text) || text.authors.iter().any(|a| run(a))
            }
            Target::Title => run(&text.title),
            Target::Abstract => run(&text.abstract_text),
            Target::Authors => text.authors.iter().any(|a| run(a)),
            Target::Category => text.categories.iter().any(|c| *c == self.words[0]),
        }
    }
}

/// Whether `needle` (not empty) occurs in `haystack` as consecutive words.
fn contains_run(haystack: &[String], needle: &[String]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A saved search, compiled: see the module docs for what matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    required: Vec<Rule>,
    excluded: Vec<Rule>,
}

impl Matcher {
    /// Compiles `query` (the search syntax; it never fails to parse) and the
    /// search's `exclude` list, each entry a word or phrase that keeps a
    /// paper out when its title, abstract or an author's name has it.
    /// Clauses without a searchable word (`🚀`, `-`) are ignored, as the
    /// index ignores them.
    pub fn new(query: &str, exclude: &[String]) -> Matcher {
        let mut analyzer = text_analyzer();
        let mut required = Vec::new();
        let mut excluded = Vec::new();
        for clause in query::parse(query).clauses {
            if let Some(rule) = rule(&mut analyzer, &clause) {
                if clause.excluded {
                    excluded.push(rule);
                } else {
                    required.push(rule);
                }
            }
        }
        for entry in exclude {
            let words = tokens(&mut analyzer, entry);
            if !words.is_empty() {
                excluded.push(Rule {
                    target: Target::Any,
                    words,
                });
            }
        }
        Matcher { required, excluded }
    }

    /// Whether the search has nothing it asks for, so it matches no paper
    /// (only exclusions, or no searchable word at all). The web site should
    /// refuse to save such a search, or say that it will never alert.
    pub fn is_empty(&self) -> bool {
        self.required.is_empty()
    }

    /// Whether `paper` matches. For many searches over one paper, build a
    /// [`PaperText`] once and use [`Matcher::matches_text`].
    pub fn matches(&self, paper: &Paper) -> bool {
        !self.is_empty() && self.matches_text(&PaperText::new(paper))
    }

    /// Whether the paper whose text this is matches.
    pub fn matches_text(&self, text: &PaperText) -> bool {
        !self.is_empty()
            && self.required.iter().all(|r| r.matches(text))
            && !self.excluded.iter().any(|r| r.matches(text))
    }
}

/// The rule for one clause; `None` when it has no searchable word.
fn rule(analyzer: &mut TextAnalyzer, clause: &Clause) -> Option<Rule> {
    let text = match &clause.text {
        Text::Word(w) | Text::Phrase(w) => w.as_str(),
    };
    let target = match clause.field {
        None => Target::Any,
        Some(SearchField::Title) => Target::Title,
        Some(SearchField::Abstract) => Target::Abstract,
        Some(SearchField::Authors) => Target::Authors,
        Some(SearchField::Category) => {
            // As the index: the category whole, lower-cased.
            let category = text.trim().to_lowercase();
            return (!category.is_empty()).then(|| Rule {
                target: Target::Category,
                words: vec![category],
            });
        }
    };
    let words = tokens(analyzer, text);
    (!words.is_empty()).then_some(Rule { target, words })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use paperboy_core::{ArxivId, SourceRecord};
    use paperboy_store::{SqliteStore, Store};

    use super::*;
    use crate::keyword::{KeywordIndex, SearchRequest};

    fn paper(id: &str, title: &str, abstract_text: &str, authors: &[&str], cats: &[&str]) -> Paper {
        let mut paper = Paper::new(ArxivId::parse(id).expect("test id").id);
        paper.biblio.title = title.into();
        paper.biblio.abstract_text = abstract_text.into();
        paper.biblio.authors = authors.iter().map(|a| a.to_string()).collect();
        paper.biblio.categories = cats.iter().map(|c| c.to_string()).collect();
        paper.biblio.published = Utc.with_ymd_and_hms(2024, 6, 3, 17, 0, 0).single();
        paper
    }

    /// The papers every test looks at.
    fn papers() -> Vec<Paper> {
        vec![
            paper(
                "2406.00001",
                "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
                "Foundation models are almost universally based on the Transformer \
                 architecture. We propose selective state space models.",
                &["Albert Gu", "Tri Dao"],
                &["cs.LG", "cs.AI"],
            ),
            paper(
                "2406.00002",
                "LLaMA-Adapter: Efficient Fine-tuning of Language Models",
                "We present a lightweight adaption method for large language models.",
                &["Renrui Zhang", "Jiaming Han"],
                &["cs.CV", "cs.CL"],
            ),
            paper(
                "2406.00003",
                "Réseaux de neurones pour la détection d'images",
                "Une méthode de génération d'images par diffusion. Video is out of scope.",
                &["Zoë Ångström", "José Núñez"],
                &["cs.CV"],
            ),
            paper(
                "2406.00004",
                "Attention Is All You Need",
                "The dominant sequence transduction models are based on recurrent \
                 networks. We propose the Transformer, based solely on attention.",
                &["Ashish Vaswani", "Noam Shazeer"],
                &["cs.CL", "hep-th"],
            ),
        ]
    }

    /// The papers (by the last digit of their id) `query` with `exclude`
    /// matches, as a string: `"1 4"`.
    fn matched(query: &str, exclude: &[&str]) -> String {
        let exclude: Vec<String> = exclude.iter().map(|e| e.to_string()).collect();
        let matcher = Matcher::new(query, &exclude);
        papers()
            .iter()
            .filter(|p| matcher.matches(p))
            .map(|p| p.id.as_str()[p.id.as_str().len() - 1..].to_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn check(query: &str, expect: &str) {
        assert_eq!(matched(query, &[]), expect, "query: {query:?}");
    }

    #[test]
    fn plain_words_must_all_match_anywhere() {
        check("transformer", "1 4");
        check("Transformer attention", "4");
        check("sequence", "1 4");
        check("vaswani", "4");
        check("dao", "1");
        check("nothing-like-this", "");
        // No stemming: the index does not stem either.
        check("model", "");
        check("models", "1 2 4");
    }

    #[test]
    fn fields_restrict_where_a_word_may_be() {
        check("ti:attention", "4");
        check("abs:attention", "4");
        check("ti:transformer", "");
        check("abs:transformer", "1 4");
        check("au:gu", "1");
        check("au:attention", "");
        check("ti:mamba abs:selective", "1");
        check("ti:mamba abs:attention", "");
    }

    #[test]
    fn phrases_need_their_words_in_order() {
        check("\"state space\"", "1");
        check("\"space state\"", "");
        check("\"selective state spaces\"", "1");
        check("ti:\"attention is all\"", "4");
        check("abs:\"attention is all\"", "");
        // A word the tokenizer splits is a phrase too.
        check("LLaMA-Adapter", "2");
        check("llama adapter", "2");
        check("adapter-llama", "");
        // A phrase never runs from one author's name into the next.
        check("au:\"gu tri\"", "");
        check("au:\"albert gu\"", "1");
    }

    #[test]
    fn exclusions_keep_papers_out() {
        check("models -transformer", "2");
        check("models -\"state space\"", "2 4");
        check("models -au:vaswani", "1 2");
        check("images -ti:video", "3");
        check("images -video", "");
        assert_eq!(matched("models", &["Transformer"]), "2");
        assert_eq!(matched("models", &["large language"]), "1 4");
        assert_eq!(matched("models", &["\"large language\"", "  "]), "1 4");
        assert_eq!(
            matched("models", &["au:zhang"]),
            "1 2 4",
            "no syntax in the list"
        );
    }

    #[test]
    fn accents_fold_to_ascii_both_ways() {
        check("detection", "3");
        check("détection", "3");
        check("generation", "3");
        check("au:angstrom", "3");
        check("au:Ångström", "3");
        check("au:nunez", "3");
        check("ZOË", "3");
    }

    #[test]
    fn categories_whole_or_by_archive() {
        check("cat:cs.CL", "2 4");
        check("cat:cs.cl", "2 4");
        check("cat:cs", "1 2 3 4");
        check("cat:hep-th", "4");
        check("cat:hep", "");
        check("cat:cs.C", "");
        check("cat:cs.CV -cat:cs.CL", "3");
        check("cat:cs.LG transformer", "1");
    }

    #[test]
    fn nothing_positive_matches_nothing() {
        for query in ["", "   ", "-transformer", "-cat:cs", "🚀", "- --", "\"\""] {
            assert!(Matcher::new(query, &[]).is_empty(), "query: {query:?}");
            assert_eq!(matched(query, &[]), "", "query: {query:?}");
        }
        assert!(Matcher::new("🚀 -x", &["y".into()]).is_empty());
        assert!(!Matcher::new("🚀 mamba", &[]).is_empty());
        check("🚀 mamba", "1");
    }

    #[test]
    fn long_words_are_dropped_as_the_index_drops_them() {
        let long = "a".repeat(64);
        let mut p = papers().remove(0);
        p.biblio.title.push(' ');
        p.biblio.title.push_str(&long);
        assert!(Matcher::new(&format!("{long} mamba"), &[]).matches(&p));
        assert!(Matcher::new(&long, &[]).is_empty());
        let text = PaperText::new(&p);
        assert!(Matcher::new("mamba", &[]).matches_text(&text));
    }

    /// Where the index's semantics and the matcher's coincide (one plain
    /// word, or fields and phrases, which the index requires too), they
    /// find the same papers: same words, same folding.
    #[test]
    fn agrees_with_the_keyword_index() {
        let store = SqliteStore::open_in_memory().expect("store");
        let records: Vec<SourceRecord> = papers()
            .into_iter()
            .map(|paper| SourceRecord { paper, entry: None })
            .collect();
        store.upsert(&records).expect("upsert");
        let dir = tempfile::tempdir().expect("temp dir");
        let index = KeywordIndex::open(&dir.path().join("keyword")).expect("index");
        index.catch_up(&store).expect("catch up");
        for query in [
            "transformer",
            "Détection",
            "ZOË",
            "models",
            "LLaMA-Adapter",
            "ti:\"state space\"",
            "\"state space\"",
            "abs:transformer -au:vaswani",
            "au:núñez",
            "cat:cs",
            "cat:cs.CL -ti:attention",
            "ti:linear-time abs:selective",
            "ti:\"d'images\"",
        ] {
            let request = SearchRequest {
                query: query.into(),
                limit: 10,
                ..SearchRequest::default()
            };
            let mut by_index: Vec<String> = index
                .search(&request)
                .expect("search")
                .hits
                .into_iter()
                .map(|h| h.id.to_string())
                .collect();
            by_index.sort();
            let matcher = Matcher::new(query, &[]);
            let by_matcher: Vec<String> = papers()
                .iter()
                .filter(|p| matcher.matches(p))
                .map(|p| p.id.to_string())
                .collect();
            assert_eq!(by_matcher, by_index, "query: {query:?}");
        }
    }
}
