//! A known-item search benchmark made from the Hugging Face daily-papers
//! files: short queries, each meant to find one paper, written as a BEIR
//! folder (`corpus.jsonl`, `queries.jsonl`, `qrels/test.tsv`) that
//! [`super::beir`] reads back.
//!
//! The corpus is every paper of the files (`_id` = arXiv id, `title`,
//! `text` = abstract). Queries imitate what people type into a paper
//! site's search box — a few technical terms — and are derived by rule, so
//! the same files always give the same set:
//!
//! - [`QueryKind::RareTitleWords`]: the 2 or 3 title words with the lowest
//!   document frequency in the corpus (3 when the title has at least 4
//!   content words), in title order, lower case;
//! - [`QueryKind::Name`]: the method name or acronym before a title's colon
//!   (`ConvLLaVA` of "ConvLLaVA: Hierarchical Backbones …"), as written;
//! - [`QueryKind::FirstSentence`]: 3 or 4 terms of the abstract's first
//!   sentence that are not in the title (4 when it has at least 8), the
//!   rarest ones, in sentence order — the words people remember of what a
//!   paper does rather than what it is called. A *term* is a content word
//!   that appears in at least [`MIN_TITLES_FOR_A_TERM`] titles of the
//!   corpus: titles are dense with technical words, so this keeps
//!   "segmentation" and "rlvr" and drops "underpins" and "remarkable", which
//!   rarity alone would pick.
//!
//! Content words are runs of letters and digits, lower-cased, of at least 3
//! characters, not all digits, and not stop words. Each query has exactly one
//! relevant document, its paper, with grade 1; a query text that two papers
//! both produce (compared case-insensitively) is dropped as ambiguous.
//! Query ids are `<arXiv id>-<kind>`, and each query's `metadata.kind` names
//! its kind, so results can be split by kind.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use paperboy_core::ArxivId;
use paperboy_import::{ParseOptions, Parsed};

use super::beir::{CORPUS_FILE, QRELS_DIR, QUERIES_FILE};

/// A first-sentence word is a term when this many titles use it.
pub const MIN_TITLES_FOR_A_TERM: usize = 2;

/// The split the judgments are written to.
pub const SPLIT: &str = "test";

/// How a query was derived from its paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueryKind {
    RareTitleWords,
    Name,
    FirstSentence,
}

impl QueryKind {
    pub const ALL: [QueryKind; 3] = [
        QueryKind::RareTitleWords,
        QueryKind::Name,
        QueryKind::FirstSentence,
    ];

    /// The name used in query ids and `metadata.kind`.
    pub fn name(self) -> &'static str {
        match self {
            QueryKind::RareTitleWords => "title",
            QueryKind::Name => "name",
            QueryKind::FirstSentence => "abstract",
        }
    }
}

/// What [`write_known_item_set`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// HF files read.
    pub files: usize,
    /// Entries of the files that could not be read (skipped).
    pub skipped_entries: usize,
    /// Distinct papers, all in the corpus.
    pub papers: usize,
    /// Queries written, by kind.
    pub queries: BTreeMap<QueryKind, usize>,
    /// Candidate queries dropped because two papers produced the same text.
    pub ambiguous: usize,
}

impl Summary {
    pub fn total_queries(&self) -> usize {
        self.queries.values().sum()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} papers from {} files ({} entries skipped), {} queries (",
            self.papers,
            self.files,
            self.skipped_entries,
            self.total_queries()
        )?;
        for (i, (kind, n)) in self.queries.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{}: {n}", kind.name())?;
        }
        write!(f, "), {} ambiguous dropped", self.ambiguous)
    }
}

/// Writes the known-item set of every HF file in `hf_dir` (`*.json`,
/// `*.json.gz`, in name order) to `out_dir`, with at most `max_queries`
/// queries (see [`write_known_items`]).
pub fn write_known_item_set(
    hf_dir: &Path,
    out_dir: &Path,
    max_queries: usize,
) -> anyhow::Result<Summary> {
    let entries =
        std::fs::read_dir(hf_dir).with_context(|| format!("{}: cannot list", hf_dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("{}: cannot list", hf_dir.display()))?
            .path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if (name.ends_with(".json") || name.ends_with(".json.gz")) && path.is_file() {
            files.push(path);
        }
    }
    if files.is_empty() {
        bail!("{}: no HF daily-papers files (*.json)", hf_dir.display());
    }
    files.sort();
    write_known_items(&files, out_dir, max_queries)
}

/// Writes the known-item set of the HF files `files` to `out_dir` (created
/// if needed; its three files are replaced). When the papers give more than
/// `max_queries` candidate queries, papers are taken evenly spread over the
/// id order, each with all its queries, up to `max_queries`.
pub fn write_known_items(
    files: &[PathBuf],
    out_dir: &Path,
    max_queries: usize,
) -> anyhow::Result<Summary> {
    if max_queries == 0 {
        bail!("at least one query is needed (max_queries is 0)");
    }
    let mut summary = Summary {
        files: files.len(),
        ..Summary::default()
    };
    let papers = read_papers(files, &mut summary)?;
    if papers.is_empty() {
        bail!("no papers with a title in the {} HF files", files.len());
    }
    summary.papers = papers.len();

    let df = DocumentFrequency::of(&papers);
    let names = NameCounts::of(&papers);
    let mut candidates: Vec<Vec<KnownItem>> = papers
        .iter()
        .map(|p| derive_queries(p, &df, &names))
        .collect();
    summary.ambiguous = drop_ambiguous(&mut candidates);
    let chosen = choose(&candidates, max_queries);
    for q in &chosen {
        *summary.queries.entry(q.kind).or_default() += 1;
    }
    write_set(out_dir, &papers, &chosen)?;
    Ok(summary)
}

/// A paper as the corpus holds it.
#[derive(Debug, Clone)]
struct PaperText {
    id: ArxivId,
    title: String,
    abstract_text: String,
}

/// One query and its paper.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KnownItem {
    paper: ArxivId,
    kind: QueryKind,
    text: String,
}

impl KnownItem {
    fn query_id(&self) -> String {
        format!("{}-{}", self.paper, self.kind.name())
    }
}

/// The distinct papers of the files, by id; the first record with a title
/// wins, a later one only fills a missing abstract.
fn read_papers(files: &[PathBuf], summary: &mut Summary) -> anyhow::Result<Vec<PaperText>> {
    let mut papers: BTreeMap<ArxivId, PaperText> = BTreeMap::new();
    for path in files {
        let opened = paperboy_import::open(path, None, &ParseOptions::default())
            .with_context(|| format!("{}: cannot read", path.display()))?;
        for item in opened.iter {
            let item = item.with_context(|| format!("{}: cannot read", path.display()))?;
            let record = match item {
                Parsed::Record(record) => record,
                Parsed::Problem(_) => {
                    summary.skipped_entries += 1;
                    continue;
                }
            };
            let b = &record.paper.biblio;
            if b.title.trim().is_empty() {
                summary.skipped_entries += 1;
                continue;
            }
            let paper = papers
                .entry(record.paper.id.clone())
                .or_insert_with(|| PaperText {
                    id: record.paper.id.clone(),
                    title: b.title.clone(),
                    abstract_text: String::new(),
                });
            if paper.abstract_text.is_empty() {
                paper.abstract_text.clone_from(&b.abstract_text);
            }
        }
    }
    Ok(papers.into_values().collect())
}

/// In how many papers (title or abstract) each content word occurs.
/// (and in how many titles).
struct DocumentFrequency {
    papers: HashMap<String, usize>,
    titles: HashMap<String, usize>,
}

impl DocumentFrequency {
    fn of(papers: &[PaperText]) -> DocumentFrequency {
        let mut df = DocumentFrequency {
            papers: HashMap::new(),
            titles: HashMap::new(),
        };
        for p in papers {
            let title: HashSet<String> = content_words(&p.title).collect();
            let mut words = title.clone();
            words.extend(content_words(&p.abstract_text));
            for w in words {
                *df.papers.entry(w).or_default() += 1;
            }
            for w in title {
                *df.titles.entry(w).or_default() += 1;
            }
        }
        df
    }

    fn get(&self, word: &str) -> usize {
        self.papers.get(word).copied().unwrap_or(0)
    }

    fn is_term(&self, word: &str) -> bool {
        self.titles.get(word).copied().unwrap_or(0) >= MIN_TITLES_FOR_A_TERM
    }

    /// The `n` rarest of `words` (ties: the earlier first), in their
    /// original order.
    fn rarest(&self, words: &[String], n: usize) -> Vec<String> {
        let mut order: Vec<usize> = (0..words.len()).collect();
        order.sort_by_key(|&i| (self.get(&words[i]), i));
        order.truncate(n);
        order.sort_unstable();
        order.into_iter().map(|i| words[i].clone()).collect()
    }
}

/// How many papers' titles start with each name (lower case).
struct NameCounts(HashMap<String, usize>);

impl NameCounts {
    fn of(papers: &[PaperText]) -> NameCounts {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for p in papers {
            if let Some(name) = title_name(&p.title) {
                *counts.entry(name.to_lowercase()).or_default() += 1;
            }
        }
        NameCounts(counts)
    }
}

fn derive_queries(paper: &PaperText, df: &DocumentFrequency, names: &NameCounts) -> Vec<KnownItem> {
    let mut out = Vec::new();
    let mut push = |kind, text: String| {
        out.push(KnownItem {
            paper: paper.id.clone(),
            kind,
            text,
        });
    };

    let title_words = distinct(content_words(&paper.title));
    if title_words.len() >= 2 {
        let n = if title_words.len() >= 4 { 3 } else { 2 };
        push(
            QueryKind::RareTitleWords,
            df.rarest(&title_words, n).join(" "),
        );
    }

    if let Some(name) = title_name(&paper.title)
        && names.0.get(&name.to_lowercase()) == Some(&1)
    {
        push(QueryKind::Name, name);
    }

    let in_title: HashSet<&String> = title_words.iter().collect();
    let sentence_words: Vec<String> = distinct(content_words(first_sentence(&paper.abstract_text)))
        .into_iter()
        .filter(|w| !in_title.contains(w) && df.is_term(w))
        .collect();
    if sentence_words.len() >= 3 {
        let n = if sentence_words.len() >= 8 { 4 } else { 3 };
        push(
            QueryKind::FirstSentence,
            df.rarest(&sentence_words, n).join(" "),
        );
    }
    out
}

/// Drops every query whose text another paper also produced; returns how
/// many were dropped.
fn drop_ambiguous(candidates: &mut [Vec<KnownItem>]) -> usize {
    let mut papers_of: HashMap<String, HashSet<ArxivId>> = HashMap::new();
    for q in candidates.iter().flatten() {
        papers_of
            .entry(q.text.to_lowercase())
            .or_default()
            .insert(q.paper.clone());
    }
    let mut dropped = 0;
    for queries in candidates.iter_mut() {
        let before = queries.len();
        queries.retain(|q| papers_of[&q.text.to_lowercase()].len() == 1);
        // A paper may produce one text under two kinds: keep the first.
        let mut seen = HashSet::new();
        queries.retain(|q| seen.insert(q.text.to_lowercase()));
        dropped += before - queries.len();
    }
    dropped
}

/// Papers evenly spread over the list, each with all its queries, until
/// `max_queries`: as few papers as give that many queries.
fn choose(candidates: &[Vec<KnownItem>], max_queries: usize) -> Vec<KnownItem> {
    let with_queries: Vec<&Vec<KnownItem>> = candidates.iter().filter(|q| !q.is_empty()).collect();
    let total: usize = with_queries.iter().map(|q| q.len()).sum();
    let m = with_queries.len();
    let target = max_queries.min(total);
    if target == 0 {
        return Vec::new();
    }
    // Start at the average number of queries a paper gives; add papers
    // while the spread ones give too few.
    let mut papers = (target * m).div_ceil(total).clamp(1, m);
    loop {
        let spread = (0..papers).map(|j| with_queries[j * m / papers]);
        let mut chosen: Vec<KnownItem> = spread.flatten().take(target).cloned().collect();
        if chosen.len() == target || papers == m {
            chosen.truncate(target);
            return chosen;
        }
        papers += 1;
    }
}

fn write_set(out_dir: &Path, papers: &[PaperText], queries: &[KnownItem]) -> anyhow::Result<()> {
    let qrels_dir = out_dir.join(QRELS_DIR);
    std::fs::create_dir_all(&qrels_dir)
        .with_context(|| format!("{}: cannot create", qrels_dir.display()))?;
    write_lines(&out_dir.join(CORPUS_FILE), |w| {
        for p in papers {
            let doc = serde_json::json!({"_id": p.id, "title": p.title, "text": p.abstract_text});
            writeln!(w, "{doc}")?;
        }
        Ok(())
    })?;
    write_lines(&out_dir.join(QUERIES_FILE), |w| {
        for q in queries {
            let query = serde_json::json!({
                "_id": q.query_id(),
                "text": q.text,
                "metadata": {"kind": q.kind.name()},
            });
            writeln!(w, "{query}")?;
        }
        Ok(())
    })?;
    write_lines(&qrels_dir.join(format!("{SPLIT}.tsv")), |w| {
        writeln!(w, "query-id\tcorpus-id\tscore")?;
        for q in queries {
            writeln!(w, "{}\t{}\t1", q.query_id(), q.paper)?;
        }
        Ok(())
    })
}

fn write_lines(
    path: &Path,
    body: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let write = || {
        let mut w = BufWriter::new(File::create(path)?);
        body(&mut w)?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()
    };
    write().with_context(|| format!("{}: cannot write", path.display()))
}

/// The method name or acronym before a title's colon: one word that is not
/// a generic label ("Survey:", "Position:"), or two or three words one of
/// which looks like a name (a capital after its first letter, a digit, or
/// all capitals: "Video-LLaMA 2", "MMLU Pro").
fn title_name(title: &str) -> Option<String> {
    let (prefix, _) = title.split_once(':')?;
    let name = prefix
        .trim()
        .trim_matches(|c: char| matches!(c, '"' | '\'' | '“' | '”' | '*'))
        .trim();
    let words: Vec<&str> = name.split_whitespace().collect();
    if words.is_empty() || words.len() > 3 || name.chars().count() > 40 {
        return None;
    }
    if name.contains(['"', '“', '”', '(', ')', '[', ']']) {
        return None;
    }
    let looks_named = |w: &str| {
        let letters: Vec<char> = w.chars().filter(|c| c.is_alphabetic()).collect();
        w.chars().any(|c| c.is_ascii_digit())
            || letters.iter().skip(1).any(|c| c.is_uppercase())
            || (letters.len() >= 2 && letters.iter().all(|c| c.is_uppercase()))
    };
    let ok = if let [word] = words[..] {
        let lower = word.to_lowercase();
        word.chars().any(char::is_alphabetic) && !GENERIC_LABELS.contains(&lower.as_str())
    } else {
        words.iter().any(|w| looks_named(w))
    };
    ok.then(|| words.join(" "))
}

/// Single words before a colon that label a kind of paper, not a method.
#[rustfmt::skip]
const GENERIC_LABELS: &[&str] = &[
    "position", "survey", "review", "tutorial", "overview", "perspective", "perspectives",
    "editorial", "erratum", "correction", "introduction", "report", "benchmark", "dataset",
    "vision", "opinion", "commentary", "preprint", "technical", "towards", "beyond",
    "rethinking", "revisiting", "understanding", "why", "what", "how", "when", "less", "more",
];

/// The abstract's first sentence: up to the first `.`, `?` or `!` followed
/// by a space and a capital letter or digit, not after a common
/// abbreviation; at most 60 words.
fn first_sentence(text: &str) -> &str {
    let bytes = text.as_bytes();
    let mut words = 0;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() && i > 0 && !bytes[i - 1].is_ascii_whitespace() {
            words += 1;
            if words >= 60 {
                return &text[..i];
            }
        }
        if !matches!(c, '.' | '?' | '!') {
            continue;
        }
        let rest = &text[i + 1..];
        let Some(after) = rest.strip_prefix(char::is_whitespace) else {
            continue;
        };
        let next_starts = after
            .trim_start()
            .chars()
            .next()
            .is_some_and(|n| n.is_uppercase() || n.is_ascii_digit());
        let before = text[..i].rsplit(char::is_whitespace).next().unwrap_or("");
        let abbreviation = ABBREVIATIONS.contains(&before.to_lowercase().as_str());
        if next_starts && !abbreviation {
            return &text[..=i];
        }
    }
    text
}

#[rustfmt::skip]
const ABBREVIATIONS: &[&str] = &[
    "e.g", "i.e", "al", "vs", "cf", "fig", "eq", "sec", "etc", "approx", "resp",
];

/// Content words of `text` in order (see the module docs).
fn content_words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3 && !w.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_lowercase)
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
}

fn distinct(words: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    words.filter(|w| seen.insert(w.clone())).collect()
}

/// English function words and the stock words of abstracts, which nobody
/// types to find a paper.
#[rustfmt::skip]
const STOP_WORDS: &[&str] = &[
    "about", "above", "across", "after", "again", "against", "all", "also", "although", "among",
    "and", "any", "are", "aren", "because", "been", "before", "being", "below", "between",
    "both", "but", "can", "cannot", "could", "did", "does", "doing", "done", "down", "due",
    "during", "each", "either", "else", "even", "ever", "every", "few", "for", "from",
    "further", "had", "has", "have", "having", "her", "here", "hers", "him", "his", "how",
    "however", "into", "its", "itself", "just", "let", "many", "may", "might", "more", "most",
    "much", "must", "neither", "nor", "not", "now", "off", "often", "once", "one", "only",
    "onto", "other", "others", "our", "ours", "out", "over", "own", "per", "rather", "same",
    "several", "shall", "she", "should", "since", "some", "such", "than", "that", "the",
    "their", "theirs", "them", "then", "there", "these", "they", "this", "those", "though",
    "through", "thus", "too", "toward", "towards", "two", "under", "until", "upon", "use",
    "used", "uses", "using", "very", "via", "was", "way", "ways", "well", "were", "what",
    "when", "where", "whether", "which", "while", "who", "whom", "whose", "why", "will", "with",
    "within", "without", "would", "yet", "you", "your",
    // The stock words of abstracts.
    "paper", "papers", "work", "works", "propose", "proposed", "proposes", "present",
    "presents", "presented", "introduce", "introduces", "introduced", "novel", "new", "show",
    "shows", "shown", "demonstrate", "demonstrates", "results", "result", "approach",
    "approaches", "method", "methods", "based", "recent", "recently", "existing", "despite",
    "significant", "significantly", "first", "study", "studies", "address", "addresses",
    "enable", "enables", "achieve", "achieves", "remain", "remains", "still", "like", "make",
    "makes", "key", "less",
];

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::quality::beir::BeirDir;

    fn paper(id: &str, title: &str, abstract_text: &str) -> PaperText {
        PaperText {
            id: ArxivId::parse(id).unwrap().id,
            title: title.into(),
            abstract_text: abstract_text.into(),
        }
    }

    #[test]
    fn names_before_a_colon() {
        let check = |title: &str, expect: Option<&str>| {
            assert_eq!(title_name(title).as_deref(), expect, "{title:?}");
        };
        check("ConvLLaVA: Hierarchical Backbones", Some("ConvLLaVA"));
        check("Mamba: Linear-Time Sequence Modeling", Some("Mamba"));
        check("Video-LLaMA 2: Advancing Audio", Some("Video-LLaMA 2"));
        check("GPT-4o System Card: x", Some("GPT-4o System Card"));
        check("Position: Agents Need Memory", None);
        check("Beyond Accuracy: Evaluating Models", None);
        check("A Survey of Things: part one", None);
        check("Large Language Models Are Good: or not", None);
        check("No colon in this title", None);
        check(": empty", None);
        check("\"Quoted\": x", Some("Quoted"));
    }

    #[test]
    fn first_sentences() {
        let check = |text: &str, expect: &str| assert_eq!(first_sentence(text), expect);
        check("We study X. Then Y.", "We study X.");
        check(
            "Models, e.g. Transformers, fail. We fix it.",
            "Models, e.g. Transformers, fail.",
        );
        check(
            "Smith et al. Showed this. Next.",
            "Smith et al. Showed this.",
        );
        check("Version 2.0 is out. Next", "Version 2.0 is out.");
        check("no end here", "no end here");
        check("Why? Because.", "Why?");
        check("", "");
        let long = "word ".repeat(100);
        assert_eq!(first_sentence(&long).split_whitespace().count(), 60);
    }

    #[test]
    fn queries_of_a_paper() {
        let papers = [
            paper(
                "2405.15738",
                "ConvLLaVA: Hierarchical Backbones as Visual Encoder for Large Multimodal Models",
                "High-resolution Large Multimodal Models (LMMs) encounter the challenges of excessive visual tokens and quadratic visual complexity. Current methods fail.",
            ),
            paper(
                "2405.00001",
                "Quadratic Tokens for Visual Tasks",
                "Excessive visual models are large. Tokens.",
            ),
            paper(
                "2405.00002",
                "Quadratic Complexity of Excessive Tokens",
                "Encoder models are multimodal.",
            ),
            paper(
                "2405.00003",
                "Excessive Complexity in High Resolution",
                "None.",
            ),
        ];
        let df = DocumentFrequency::of(&papers);
        let names = NameCounts::of(&papers);
        let got: Vec<(QueryKind, String)> = derive_queries(&papers[0], &df, &names)
            .into_iter()
            .map(|q| (q.kind, q.text))
            .collect();
        // Title words by df: convllava 1, hierarchical 1, backbones 1, visual 2,
        // encoder 2, large 2, multimodal 2, models 3; the 3 rarest, in order.
        // First sentence, less title words: high, resolution, lmms, encounter,
        // challenges, excessive, tokens, quadratic, complexity; in two titles
        // (terms): excessive (df 4), tokens, quadratic, complexity (df 3).
        let want = [
            (
                QueryKind::RareTitleWords,
                "convllava hierarchical backbones",
            ),
            (QueryKind::Name, "ConvLLaVA"),
            (QueryKind::FirstSentence, "tokens quadratic complexity"),
        ];
        assert_eq!(got, want.map(|(k, t)| (k, t.to_string())));
        // Two title words: a 2-word query; no colon: no name; a short first
        // sentence gives no abstract query.
        let got: Vec<String> = derive_queries(
            &paper("2405.00003", "Tiny Parsers", "We parse."),
            &df,
            &names,
        )
        .into_iter()
        .map(|q| q.text)
        .collect();
        assert_eq!(got, ["tiny parsers"]);
    }

    #[test]
    fn ambiguous_queries_are_dropped_and_selection_is_spread() {
        let id = |s: &str| ArxivId::parse(s).unwrap().id;
        let q = |paper: &str, kind, text: &str| KnownItem {
            paper: id(paper),
            kind,
            text: text.into(),
        };
        let mut candidates = vec![
            vec![
                q("2401.00001", QueryKind::Name, "Foo"),
                q("2401.00001", QueryKind::RareTitleWords, "a b"),
            ],
            vec![q("2401.00002", QueryKind::Name, "foo")],
            vec![
                q("2401.00003", QueryKind::RareTitleWords, "c d"),
                q("2401.00003", QueryKind::FirstSentence, "c d"),
            ],
            vec![q("2401.00004", QueryKind::RareTitleWords, "e f")],
        ];
        assert_eq!(drop_ambiguous(&mut candidates), 3);
        let texts = |qs: &[KnownItem]| qs.iter().map(|q| q.text.clone()).collect::<Vec<_>>();
        assert_eq!(texts(&choose(&candidates, 10)), ["a b", "c d", "e f"]);
        assert_eq!(texts(&choose(&candidates, 1)), ["a b"]);
        // Two of three papers, spread: the first and the second-half one.
        assert_eq!(texts(&choose(&candidates, 2)), ["a b", "c d"]);
    }

    /// A tiny HF daily-papers file: `[(id, title, summary)]`.
    fn hf_file(dir: &Path, day: &str, papers: &[(&str, &str, &str)]) -> PathBuf {
        let items: Vec<_> = papers
            .iter()
            .map(|(id, title, summary)| {
                json!({
                    "paper": {"id": id, "title": title, "summary": summary, "authors": [], "upvotes": 1},
                    "title": title,
                    "publishedAt": format!("{day}T10:00:00.000Z"),
                })
            })
            .collect();
        let path = dir.join(format!("{day}.json"));
        std::fs::write(&path, serde_json::to_vec(&items).unwrap()).unwrap();
        path
    }

    /// (query or document id, text or document id) pairs.
    type Pairs = Vec<(String, String)>;

    /// The corpus ids, the queries and the judged pairs of a written set.
    fn read_back(out: &Path) -> (Vec<String>, Pairs, Pairs) {
        let set = BeirDir::open(out).unwrap();
        assert_eq!(set.splits(), [SPLIT]);
        let corpus: Vec<String> = set.corpus().unwrap().map(|d| d.unwrap().id).collect();
        let queries = set
            .queries()
            .unwrap()
            .into_iter()
            .map(|q| (q.id, q.text))
            .collect();
        let mut qrels = Vec::new();
        for (query, judged) in set.qrels(None).unwrap() {
            assert_eq!(judged.len(), 1, "{query}");
            for (doc, grade) in judged {
                assert_eq!(grade, 1);
                qrels.push((query.clone(), doc));
            }
        }
        (corpus, queries, qrels)
    }

    #[test]
    fn writes_a_beir_folder_from_hf_files() {
        let hf = tempfile::tempdir().unwrap();
        let flash = (
            "2406.00001",
            "FlashSort: Sorting Arrays Quickly on Graphics Processors",
            "Sorting large arrays remains costly on accelerators with limited memory bandwidth. We fix it.",
        );
        hf_file(
            hf.path(),
            "2024-06-03",
            &[
                flash,
                (
                    "2406.00002",
                    "Memory Bandwidth of Graph Accelerators",
                    "Knowledge graphs complement pretrained transformers for factual question answering. More.",
                ),
            ],
        );
        hf_file(
            hf.path(),
            "2024-06-04",
            &[
                // Seen again the next day: one paper.
                flash,
                (
                    "2406.00003",
                    "Accelerators for Protein Folding with Limited Memory Bandwidth",
                    "Protein structure prediction benefits from generative diffusion priors trained on crystallography data.",
                ),
            ],
        );
        std::fs::write(hf.path().join("notes.txt"), "not a data file").unwrap();
        let out = hf.path().join("set");
        let summary = write_known_item_set(hf.path(), &out, 100).unwrap();
        assert_eq!(
            (summary.files, summary.papers, summary.skipped_entries),
            (2, 3, 0)
        );

        let (corpus, queries, qrels) = read_back(&out);
        assert_eq!(corpus, ["2406.00001", "2406.00002", "2406.00003"]);
        let want = [
            // 6 title words, all in one paper: the first 3.
            ("2406.00001-title", "flashsort sorting arrays"),
            ("2406.00001-name", "FlashSort"),
            // Words in two titles (terms): accelerators, memory, bandwidth.
            ("2406.00001-abstract", "accelerators memory bandwidth"),
            // graph (df 1), then memory and bandwidth (df 3, before accelerators).
            ("2406.00002-title", "memory bandwidth graph"),
            // No first-sentence word is a term in 00002 and 00003.
            ("2406.00003-title", "protein folding limited"),
        ];
        let got: Vec<(&str, &str)> = queries
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert_eq!(got, want);
        assert_eq!(summary.total_queries(), 5);
        assert_eq!(summary.queries[&QueryKind::Name], 1);
        for (query, doc) in &qrels {
            assert!(query.starts_with(doc.as_str()), "{query} -> {doc}");
        }
        assert_eq!(qrels.len(), 5);
        let text = std::fs::read_to_string(out.join(QUERIES_FILE)).unwrap();
        assert!(text.contains(r#""metadata":{"kind":"name"}"#), "{text}");

        // Deterministic: the same files give the same bytes; a cap spreads.
        let again = hf.path().join("again");
        write_known_item_set(hf.path(), &again, 100).unwrap();
        for name in [CORPUS_FILE, QUERIES_FILE, "qrels/test.tsv"] {
            assert_eq!(
                std::fs::read(out.join(name)).unwrap(),
                std::fs::read(again.join(name)).unwrap()
            );
        }
        let capped = write_known_item_set(hf.path(), &hf.path().join("capped"), 3).unwrap();
        assert_eq!(capped.total_queries(), 3);
        assert_eq!(capped.papers, 3);
    }

    #[test]
    fn unusable_input_is_an_error() {
        let hf = tempfile::tempdir().unwrap();
        let out = hf.path().join("out");
        let err = format!(
            "{:#}",
            write_known_item_set(hf.path(), &out, 10).unwrap_err()
        );
        assert!(err.contains("no HF daily-papers files"), "{err}");
        std::fs::write(hf.path().join("2024-06-03.json"), "[{\"nopaper\": 1}]").unwrap();
        let err = format!(
            "{:#}",
            write_known_item_set(hf.path(), &out, 10).unwrap_err()
        );
        assert!(err.contains("no papers with a title"), "{err}");
        std::fs::write(hf.path().join("2024-06-03.json"), "{broken").unwrap();
        let err = format!(
            "{:#}",
            write_known_item_set(hf.path(), &out, 10).unwrap_err()
        );
        assert!(err.contains("2024-06-03.json: cannot read"), "{err}");
        let err = format!(
            "{:#}",
            write_known_item_set(hf.path(), &out, 0).unwrap_err()
        );
        assert!(err.contains("max_queries is 0"), "{err}");
    }

    #[test]
    fn three_real_hf_files() {
        let dir =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/hf-daily-papers");
        // A plain day, a day of Python-repr elements, the wrapped day.
        let files: Vec<PathBuf> = ["2024-05-27.json", "2024-12-11.json", "2025-01-10.json"]
            .iter()
            .map(|f| dir.join(f))
            .collect();
        if !files.iter().all(|f| f.is_file()) {
            eprintln!("skipped: {} not found", dir.display());
            return;
        }
        let out = tempfile::tempdir().unwrap();
        let summary = write_known_items(&files, out.path(), 40).unwrap();
        assert!(summary.papers > 30, "{summary}");
        assert_eq!(summary.total_queries(), 40, "{summary}");
        for kind in QueryKind::ALL {
            assert!(
                summary.queries.get(&kind).is_some_and(|&n| n > 0),
                "{summary}"
            );
        }
        let (corpus, queries, qrels) = read_back(out.path());
        assert_eq!(corpus.len(), summary.papers);
        assert_eq!(queries.len(), 40);
        let in_corpus: HashSet<&String> = corpus.iter().collect();
        assert!(qrels.iter().all(|(_, doc)| in_corpus.contains(doc)));
        for (_, text) in &queries {
            let words = text.split_whitespace().count();
            assert!((1..=4).contains(&words) && !text.contains(':'), "{text:?}");
        }

        let all = tempfile::tempdir().unwrap();
        write_known_items(&files, all.path(), usize::MAX).unwrap();
        let (_, queries, _) = read_back(all.path());
        let find = |id: &str| {
            queries
                .iter()
                .find(|(q, _)| q == id)
                .map(|(_, t)| t.as_str())
        };
        assert_eq!(find("2405.15738-name"), Some("ConvLLaVA"));
    }
}
