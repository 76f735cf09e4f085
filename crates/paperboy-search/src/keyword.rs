//! The keyword index: tantivy over title, abstract, authors and categories,
//! ranked by BM25, kept under `<data dir>/index/keyword/`.
//!
//! Derived data: it catches up from the store's change sequence
//! ([`Store::papers_changed_since`]) and remembers the last sequence number it
//! indexed in the payload of its own commit, so documents and number are
//! saved together. A missing or different format version, an index that
//! does not open, or an index ahead of the store (another database) is
//! thrown away and rebuilt from the store, never searched.
//!
//! It never writes to the store and never runs models.

use std::collections::{HashMap, HashSet};
use std::ops::{Bound, Range};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use paperboy_core::ArxivId;
use paperboy_store::{PaperPage, Store};
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::{Directory, INDEX_WRITER_LOCK, MmapDirectory};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, Occur, PhraseQuery, Query as TantivyQuery, RangeQuery,
    TermQuery, TermSetQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{LowerCaser, RawTokenizer, TextAnalyzer};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term,
};

use crate::SearchError;
use crate::query::{self, Clause, SearchField, Text};

/// Bump when the schema, the tokenizers or what a document holds change: an
/// index of another version is rebuilt.
pub const FORMAT_VERSION: u32 = 2;

/// The file holding [`FORMAT_VERSION`], written once a new index exists.
const VERSION_FILE: &str = "paperboy-format-version";

/// Plain words are scored by BM25 over one field holding title and
/// abstract together (plus the authors field, for names), as BM25 was made
/// for: with separate title and abstract fields, each with its own length
/// normalisation and a title boost, SciFact nDCG@10 was 0.636 against 0.663
/// for one field (models.md also measured title boosts hurting both SciFact
/// and short known-item queries). `ti:` and `abs:` use the separate fields.
const TEXT_FIELD: &str = "text";

/// Papers read from the store per catch-up step (and per commit).
const CATCH_UP_BATCH: usize = 2_000;

/// How often a long catch-up commits what it has indexed so far.
const COMMIT_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The indexing memory budget of the one writer thread (tantivy's minimum
/// is 15 MB).
const WRITER_MEMORY: usize = 50_000_000;

/// Characters of abstract in a snippet.
const SNIPPET_CHARS: usize = 240;

/// The tokenizer of title, abstract and authors: split on what is not a
/// letter or digit, lower-case, fold accents to ASCII. No stemming:
/// models.md measured it helping long SciFact claims but hurting the short
/// known-item queries people type on a paper site. No stop-word list: a
/// query of stop words still finds something.
const TEXT_TOKENIZER: &str = "paperboy_en";

/// Category ids are matched whole, case-insensitively (`cs.cl`, `cs`).
const CATEGORY_TOKENIZER: &str = "paperboy_category";

/// Which date a date filter looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateField {
    /// The curation days of the paper's daily entries (any of them).
    #[default]
    Curation,
    /// The arXiv publication date (first version).
    Arxiv,
}

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// BM25 score, best first.
    #[default]
    Relevance,
    /// The result's date (latest curation day, else arXiv date), newest first.
    Date,
    /// Total upvotes, most first.
    Upvotes,
}

/// A search: the user's text plus filters, order and page.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub query: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub date_field: DateField,
    pub min_upvotes: Option<u32>,
    pub sort: SortBy,
    pub offset: usize,
    pub limit: usize,
}

/// A page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    /// How many documents match in all.
    pub total: usize,
    pub hits: Vec<SearchHit>,
}

/// What a result line shows.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub id: ArxivId,
    pub title: String,
    pub snippet: Snippet,
    pub authors: usize,
    /// The latest curation day, else the arXiv date.
    pub date: Option<NaiveDate>,
    pub upvotes: u32,
    /// BM25 score (0 when the results are sorted otherwise).
    pub score: f32,
}

/// A paper as the keyword side of a hybrid search sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub id: ArxivId,
    /// BM25 score.
    pub score: f32,
    pub upvotes: u32,
}

/// A piece of abstract with the matched words marked, as byte ranges into
/// `text`: plain text, for the caller to escape and mark up.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snippet {
    pub text: String,
    pub highlighted: Vec<Range<usize>>,
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    title: Field,
    abstract_text: Field,
    /// Title and abstract together, indexed only: what plain words search.
    text: Field,
    authors: Field,
    categories: Field,
    author_count: Field,
    days: Field,
    arxiv_day: Field,
    date: Field,
    upvotes: Field,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text = |stored: bool| {
        let options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TEXT_TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let category = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(CATEGORY_TOKENIZER)
            .set_index_option(IndexRecordOption::Basic),
    );
    let fields = Fields {
        id: builder.add_text_field("id", STRING | STORED),
        title: builder.add_text_field("title", text(true)),
        abstract_text: builder.add_text_field("abstract", text(true)),
        text: builder.add_text_field(TEXT_FIELD, text(false)),
        authors: builder.add_text_field("authors", text(false)),
        categories: builder.add_text_field("categories", category),
        author_count: builder.add_u64_field("author_count", STORED),
        // Day numbers (see `day_number`), so ranges and sorts are plain integers.
        days: builder.add_i64_field("days", INDEXED | FAST),
        arxiv_day: builder.add_i64_field("arxiv_day", INDEXED | FAST),
        date: builder.add_i64_field("date", FAST | STORED),
        upvotes: builder.add_u64_field("upvotes", INDEXED | FAST | STORED),
    };
    (builder.build(), fields)
}

fn register_tokenizers(index: &Index) {
    index
        .tokenizers()
        .register(TEXT_TOKENIZER, crate::matcher::text_analyzer());
    index.tokenizers().register(
        CATEGORY_TOKENIZER,
        TextAnalyzer::builder(RawTokenizer::default())
            .filter(LowerCaser)
            .build(),
    );
}

/// The keyword index of one data directory.
pub struct KeywordIndex {
    dir: PathBuf,
    index: Index,
    fields: Fields,
    reader: IndexReader,
    /// `None` when another process holds the index's write lock: this one
    /// then only reads (and sees that process's commits).
    writer: Option<Mutex<IndexWriter>>,
}

impl KeywordIndex {
    /// Opens the index at `dir`, creating it when missing and recreating it
    /// (empty) when its format version differs or it does not open. Call
    /// [`KeywordIndex::catch_up`] to bring it up to date.
    pub fn open(dir: &Path) -> Result<KeywordIndex, SearchError> {
        match Self::open_existing(dir) {
            Ok(Some(index)) => Ok(index),
            Ok(None) => Self::create(dir),
            Err(error) => {
                tracing::warn!(%error, path = %dir.display(), "the keyword index does not open; rebuilding it");
                Self::create(dir)
            }
        }
    }

    /// Throws the index away and starts an empty one; the next catch-up
    /// reads every paper.
    pub fn recreate(self) -> Result<KeywordIndex, SearchError> {
        let dir = self.dir.clone();
        drop(self);
        Self::create(&dir)
    }

    fn open_existing(dir: &Path) -> Result<Option<KeywordIndex>, SearchError> {
        let version = match std::fs::read_to_string(dir.join(VERSION_FILE)) {
            Ok(text) => text.trim().parse::<u32>().ok(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(SearchError::Io {
                    path: dir.to_path_buf(),
                    source,
                });
            }
        };
        if version != Some(FORMAT_VERSION) {
            tracing::info!(found = ?version, expected = FORMAT_VERSION, "the keyword index has another format version; rebuilding it");
            return Ok(None);
        }
        let index = Index::open_in_dir(dir)?;
        let (schema, fields) = schema();
        if index.schema() != schema {
            tracing::info!("the keyword index has another schema; rebuilding it");
            return Ok(None);
        }
        Ok(Some(Self::from_index(dir, index, fields)?))
    }

    fn create(dir: &Path) -> Result<KeywordIndex, SearchError> {
        let io = |source| SearchError::Io {
            path: dir.to_path_buf(),
            source,
        };
        if dir.exists() {
            // Another process writing this index (an older Paperboy still
            // running?) keeps it: deleting it under that process would
            // leave both with a broken index.
            if let Ok(directory) = MmapDirectory::open(dir)
                && let Err(tantivy::directory::error::LockError::LockBusy) =
                    directory.acquire_lock(&INDEX_WRITER_LOCK)
            {
                return Err(SearchError::Locked {
                    path: dir.to_path_buf(),
                });
            }
            std::fs::remove_dir_all(dir).map_err(io)?;
        }
        std::fs::create_dir_all(dir).map_err(io)?;
        let (schema, fields) = schema();
        let index = Index::create_in_dir(dir, schema)?;
        // Written only once tantivy's files exist: a crash before this line
        // leaves no version file, so the next start creates the index anew.
        std::fs::write(dir.join(VERSION_FILE), format!("{FORMAT_VERSION}\n")).map_err(io)?;
        Self::from_index(dir, index, fields)
    }

    fn from_index(dir: &Path, index: Index, fields: Fields) -> Result<KeywordIndex, SearchError> {
        register_tokenizers(&index);
        let writer = match index.writer_with_num_threads(1, WRITER_MEMORY) {
            Ok(writer) => Some(Mutex::new(writer)),
            Err(tantivy::TantivyError::LockFailure(..)) => {
                tracing::info!(path = %dir.display(), "another process writes the keyword index; opening it read-only");
                None
            }
            Err(e) => return Err(e.into()),
        };
        let policy = if writer.is_some() {
            ReloadPolicy::Manual
        } else {
            ReloadPolicy::OnCommitWithDelay
        };
        let reader = index.reader_builder().reload_policy(policy).try_into()?;
        Ok(KeywordIndex {
            dir: dir.to_path_buf(),
            index,
            fields,
            reader,
            writer,
        })
    }

    /// The last change sequence number indexed (0 for a new index).
    pub fn indexed_seq(&self) -> Result<u64, SearchError> {
        let metas = self.index.load_metas()?;
        Ok(metas
            .payload
            .as_deref()
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0))
    }

    /// Number of papers in the index (as last reloaded).
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this handle can write (it holds the index's lock).
    pub fn is_writer(&self) -> bool {
        self.writer.is_some()
    }

    /// Indexes every paper changed since the last catch-up, committing after
    /// each batch; returns how many papers it (re)indexed. A read-only
    /// handle only reloads.
    ///
    /// When the store's change sequence is behind the index's (the database
    /// was replaced), the index is emptied and rebuilt.
    pub fn catch_up(&self, store: &dyn Store) -> Result<u64, SearchError> {
        let Some(writer) = &self.writer else {
            self.reader.reload()?;
            return Ok(0);
        };
        let mut writer = writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut seq = self.indexed_seq()?;
        if store.change_seq()? < seq {
            tracing::warn!(
                index.seq = seq,
                "the keyword index is ahead of the database; rebuilding it"
            );
            writer.delete_all_documents()?;
            seq = 0;
            let mut commit = writer.prepare_commit()?;
            commit.set_payload("0");
            commit.commit()?;
        }
        let mut indexed = 0;
        let mut committed_seq = seq;
        let mut committed_at = std::time::Instant::now();
        loop {
            let changed = store.papers_changed_since(seq, CATCH_UP_BATCH)?;
            let last = changed.last().map(|&(last, _)| last);
            for (_, page) in &changed {
                writer.delete_term(Term::from_field_text(
                    self.fields.id,
                    page.paper.id.as_str(),
                ));
                writer.add_document(self.document(page))?;
            }
            indexed += changed.len() as u64;
            if let Some(last) = last {
                seq = last;
            }
            // Committed at the end and about every second meanwhile: searches
            // see a first build of a large catalog grow, and a small change
            // shows at once, without a commit (a new segment) per batch.
            let at_end = last.is_none() || changed.len() < CATCH_UP_BATCH;
            if seq != committed_seq && (at_end || committed_at.elapsed() >= COMMIT_EVERY) {
                let mut commit = writer.prepare_commit()?;
                commit.set_payload(&seq.to_string());
                commit.commit()?;
                self.reader.reload()?;
                committed_seq = seq;
                committed_at = std::time::Instant::now();
            }
            if at_end {
                break;
            }
        }
        if indexed > 0 {
            tracing::debug!(papers = indexed, index.seq = seq, "keyword index caught up");
        }
        Ok(indexed)
    }

    fn document(&self, page: &PaperPage) -> TantivyDocument {
        let f = &self.fields;
        let biblio = &page.paper.biblio;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, page.paper.id.as_str());
        doc.add_text(f.title, &biblio.title);
        doc.add_text(f.text, &biblio.title);
        doc.add_text(f.text, &biblio.abstract_text);
        doc.add_text(f.abstract_text, &biblio.abstract_text);
        for author in &biblio.authors {
            doc.add_text(f.authors, author);
        }
        let mut categories: Vec<String> = Vec::new();
        for category in &biblio.categories {
            categories.push(category.clone());
            // `cat:cs` finds every `cs.*` paper.
            if let Some((archive, _)) = category.split_once('.') {
                categories.push(archive.to_string());
            }
        }
        categories.sort();
        categories.dedup();
        for category in &categories {
            doc.add_text(f.categories, category);
        }
        doc.add_u64(f.author_count, biblio.authors.len() as u64);
        for entry in &page.entries {
            doc.add_i64(f.days, day_number(entry.day));
        }
        let arxiv_day = biblio.published.map(|t: DateTime<Utc>| t.date_naive());
        if let Some(day) = arxiv_day {
            doc.add_i64(f.arxiv_day, day_number(day));
        }
        // Entries come newest day first.
        let date = page.entries.first().map(|e| e.day).or(arxiv_day);
        doc.add_i64(f.date, date.map(day_number).unwrap_or(i64::MIN));
        doc.add_u64(f.upvotes, u64::from(page.upvotes));
        doc
    }

    /// Runs a search. Never fails on what the user typed: a query with
    /// nothing searchable (empty, only punctuation or emoji) finds nothing.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults, SearchError> {
        let parsed = query::parse(&request.query);
        let Some(query) = self.build_query(&parsed, request) else {
            return Ok(SearchResults {
                total: 0,
                hits: Vec::new(),
            });
        };
        let searcher = self.reader.searcher();
        let limit = request.limit.clamp(1, 1_000);
        let top = TopDocs::with_limit(limit).and_offset(request.offset.min(100_000));
        let (total, addresses): (usize, Vec<(f32, DocAddress)>) = match request.sort {
            SortBy::Relevance => searcher.search(&query, &(Count, top))?,
            SortBy::Date => {
                let (total, docs) = searcher.search(
                    &query,
                    &(Count, top.order_by_fast_field::<i64>("date", Order::Desc)),
                )?;
                (total, docs.into_iter().map(|(_, a)| (0.0, a)).collect())
            }
            SortBy::Upvotes => {
                let (total, docs) = searcher.search(
                    &query,
                    &(
                        Count,
                        top.order_by_fast_field::<u64>("upvotes", Order::Desc),
                    ),
                )?;
                (total, docs.into_iter().map(|(_, a)| (0.0, a)).collect())
            }
        };
        let snippets = self.snippets(&searcher, &parsed)?;
        let mut hits = Vec::with_capacity(addresses.len());
        for (score, address) in addresses {
            let doc: TantivyDocument = searcher.doc(address)?;
            hits.push(self.hit(&doc, score, &snippets)?);
        }
        Ok(SearchResults { total, hits })
    }

    /// The best `depth` papers for `request` by BM25 (its offset, limit and
    /// sort are ignored), as ids, scores and upvotes only: the keyword side
    /// of a hybrid search, which builds result lines only for the page it
    /// shows. Matches are not counted: counting visits every matching paper
    /// (tens of ms for common words at a million papers), while the top
    /// alone lets tantivy skip blocks that cannot make it (block-max WAND).
    pub fn scored(
        &self,
        request: &SearchRequest,
        depth: usize,
    ) -> Result<Vec<Scored>, SearchError> {
        let Some(query) = self.build_query(&query::parse(&request.query), request) else {
            return Ok(Vec::new());
        };
        let searcher = self.reader.searcher();
        let top = TopDocs::with_limit(depth.clamp(1, 10_000));
        let addresses = searcher.search(&query, &top)?;
        let mut out = Vec::with_capacity(addresses.len());
        for (score, address) in addresses {
            let doc: TantivyDocument = searcher.doc(address)?;
            out.push(Scored {
                id: self.stored_id(&doc)?,
                score,
                upvotes: doc
                    .get_first(self.fields.upvotes)
                    .and_then(|v| v.as_u64())
                    .map_or(0, |u| u32::try_from(u).unwrap_or(u32::MAX)),
            });
        }
        Ok(out)
    }

    /// Which of `ids` the request's filters (dates, upvotes) let through.
    pub fn passing(
        &self,
        ids: &[ArxivId],
        request: &SearchRequest,
    ) -> Result<HashSet<ArxivId>, SearchError> {
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        let searcher = self.reader.searcher();
        let query = self.ids_query(ids, request);
        let found = searcher.search(&query, &TopDocs::with_limit(ids.len()))?;
        let mut out = HashSet::with_capacity(found.len());
        for (_, address) in found {
            let doc: TantivyDocument = searcher.doc(address)?;
            out.insert(self.stored_id(&doc)?);
        }
        Ok(out)
    }

    /// The papers `ids` that pass the request's filters.
    fn ids_query(&self, ids: &[ArxivId], request: &SearchRequest) -> BooleanQuery {
        let terms: Vec<Term> = ids
            .iter()
            .map(|id| Term::from_field_text(self.fields.id, id.as_str()))
            .collect();
        let mut clauses: Vec<(Occur, Box<dyn TantivyQuery>)> =
            vec![(Occur::Must, Box::new(TermSetQuery::new(terms)))];
        self.filters(request, &mut clauses);
        BooleanQuery::new(clauses)
    }

    fn stored_id(&self, doc: &TantivyDocument) -> Result<ArxivId, SearchError> {
        let raw = doc
            .get_first(self.fields.id)
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        ArxivId::parse(raw)
            .map(|parsed| parsed.id)
            .map_err(|_| SearchError::Corrupt {
                message: format!("stored id {raw:?} is not an arXiv id"),
            })
    }

    /// Result lines for the papers `ids`, in that order, as [`Self::search`]
    /// would show them for `request` (snippets mark its query's words, score
    /// 0), leaving out papers the index does not have and those the
    /// request's filters (dates, upvotes) refuse.
    pub fn hits_for(
        &self,
        ids: &[ArxivId],
        request: &SearchRequest,
    ) -> Result<Vec<SearchHit>, SearchError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let query = self.ids_query(ids, request);
        let searcher = self.reader.searcher();
        let found = searcher.search(&query, &TopDocs::with_limit(ids.len()))?;
        let snippets = self.snippets(&searcher, &query::parse(&request.query))?;
        let mut by_id: HashMap<ArxivId, SearchHit> = HashMap::with_capacity(found.len());
        for (_, address) in found {
            let doc: TantivyDocument = searcher.doc(address)?;
            let hit = self.hit(&doc, 0.0, &snippets)?;
            by_id.insert(hit.id.clone(), hit);
        }
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    fn hit(
        &self,
        doc: &TantivyDocument,
        score: f32,
        snippets: &SnippetGenerator,
    ) -> Result<SearchHit, SearchError> {
        let f = &self.fields;
        let text = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let id = self.stored_id(doc)?;
        let abstract_text = text(f.abstract_text);
        let snippet = snippets.snippet(&abstract_text);
        let snippet = if snippet.fragment().is_empty() {
            // No query word in the abstract: show its beginning.
            Snippet {
                text: leading_chars(&abstract_text, SNIPPET_CHARS),
                highlighted: Vec::new(),
            }
        } else {
            Snippet {
                text: snippet.fragment().to_string(),
                highlighted: snippet.highlighted().to_vec(),
            }
        };
        let number = |field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0);
        let date = doc
            .get_first(f.date)
            .and_then(|v| v.as_i64())
            .and_then(day_from_number);
        Ok(SearchHit {
            id,
            title: text(f.title),
            snippet,
            authors: number(f.author_count) as usize,
            date,
            upvotes: u32::try_from(number(f.upvotes)).unwrap_or(u32::MAX),
            score,
        })
    }

    /// The tantivy query for a parsed query and the request's filters;
    /// `None` when nothing is searchable.
    fn build_query(
        &self,
        parsed: &query::Query,
        request: &SearchRequest,
    ) -> Option<Box<dyn TantivyQuery>> {
        let mut clauses: Vec<(Occur, Box<dyn TantivyQuery>)> = Vec::new();
        let mut positive = false;
        for clause in &parsed.clauses {
            if let Some(words) = self.plain_word_terms(clause) {
                // Flat: each token in each field is a clause of the top
                // query itself (the same sum of scores as one sub-query per
                // word), so that tantivy can skip blocks that cannot reach
                // the top (block-max WAND works on term clauses only).
                positive |= !words.is_empty();
                clauses.extend(words.into_iter().map(|q| (Occur::Should, q)));
                continue;
            }
            let Some(built) = self.clause_query(clause) else {
                continue;
            };
            let occur = if clause.excluded {
                Occur::MustNot
            } else if clause.field.is_some() || matches!(clause.text, Text::Phrase(_)) {
                // What the user spelled out (a field, a phrase) must match;
                // plain words only rank, as BM25 over long queries expects.
                positive = true;
                Occur::Must
            } else {
                positive = true;
                Occur::Should
            };
            clauses.push((occur, built));
        }
        let filtered = self.filters(request, &mut clauses);
        if !positive {
            // Only exclusions or filters: everything else matches. Nothing
            // at all: nothing matches.
            if clauses.is_empty() && !filtered {
                return None;
            }
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        Some(Box::new(BooleanQuery::new(clauses)))
    }

    /// Adds the request's filters as `Must` clauses; whether there were any.
    fn filters(
        &self,
        request: &SearchRequest,
        clauses: &mut Vec<(Occur, Box<dyn TantivyQuery>)>,
    ) -> bool {
        let mut any = false;
        if request.from.is_some() || request.to.is_some() {
            let field = match request.date_field {
                DateField::Curation => self.fields.days,
                DateField::Arxiv => self.fields.arxiv_day,
            };
            let bound = |day: Option<NaiveDate>| match day {
                Some(day) => Bound::Included(Term::from_field_i64(field, day_number(day))),
                None => Bound::Unbounded,
            };
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(bound(request.from), bound(request.to))),
            ));
            any = true;
        }
        if let Some(min) = request.min_upvotes.filter(|&m| m > 0) {
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_u64(self.fields.upvotes, u64::from(min))),
                    Bound::Unbounded,
                )),
            ));
            any = true;
        }
        any
    }

    /// A plain word (no field, not a phrase, not excluded) as term queries,
    /// one per token and field; `None` for any other clause.
    fn plain_word_terms(&self, clause: &Clause) -> Option<Vec<Box<dyn TantivyQuery>>> {
        let Text::Word(word) = &clause.text else {
            return None;
        };
        if clause.excluded || clause.field.is_some() {
            return None;
        }
        let f = &self.fields;
        let mut out: Vec<Box<dyn TantivyQuery>> = Vec::new();
        for token in self.tokens(word) {
            for field in [f.text, f.authors] {
                out.push(Box::new(TermQuery::new(
                    Term::from_field_text(field, &token),
                    IndexRecordOption::WithFreqs,
                )));
            }
        }
        Some(out)
    }

    /// One clause as a query over its field(s); `None` when its text has no
    /// searchable token.
    fn clause_query(&self, clause: &Clause) -> Option<Box<dyn TantivyQuery>> {
        let f = &self.fields;
        let text = match &clause.text {
            Text::Word(w) | Text::Phrase(w) => w.as_str(),
        };
        let fields: &[(Field, f32)] = match clause.field {
            None => &[(f.text, 1.0), (f.authors, 1.0)],
            Some(SearchField::Title) => &[(f.title, 1.0)],
            Some(SearchField::Abstract) => &[(f.abstract_text, 1.0)],
            Some(SearchField::Authors) => &[(f.authors, 1.0)],
            Some(SearchField::Category) => {
                let category = text.trim().to_lowercase();
                if category.is_empty() {
                    return None;
                }
                return Some(Box::new(TermQuery::new(
                    Term::from_field_text(f.categories, &category),
                    IndexRecordOption::Basic,
                )));
            }
        };
        let tokens = self.tokens(text);
        if tokens.is_empty() {
            return None;
        }
        let mut per_field: Vec<(Occur, Box<dyn TantivyQuery>)> = Vec::new();
        for &(field, boost) in fields {
            let query: Box<dyn TantivyQuery> = if tokens.len() == 1 {
                Box::new(TermQuery::new(
                    Term::from_field_text(field, &tokens[0]),
                    IndexRecordOption::WithFreqs,
                ))
            } else {
                // `"state space"`, `ti:self-attention`, `-llama-adapter`:
                // words in order (plain words never get here).
                let terms = tokens
                    .iter()
                    .map(|t| Term::from_field_text(field, t))
                    .collect();
                Box::new(PhraseQuery::new(terms))
            };
            let query = if (boost - 1.0).abs() > f32::EPSILON {
                Box::new(BoostQuery::new(query, boost))
            } else {
                query
            };
            per_field.push((Occur::Should, query));
        }
        Some(Box::new(BooleanQuery::new(per_field)))
    }

    /// `text` through the index's text tokenizer.
    /// A snippet maker that marks the query's words (those it looks for in
    /// the abstract: plain words, phrases, `abs:`; not exclusions) in the
    /// abstract.
    fn snippets(
        &self,
        searcher: &tantivy::Searcher,
        parsed: &query::Query,
    ) -> Result<SnippetGenerator, SearchError> {
        let terms: Vec<(Occur, Box<dyn TantivyQuery>)> = parsed
            .clauses
            .iter()
            .filter(|c| !c.excluded && matches!(c.field, None | Some(SearchField::Abstract)))
            .flat_map(|c| match &c.text {
                Text::Word(w) | Text::Phrase(w) => self.tokens(w),
            })
            .map(|token| {
                let term = Term::from_field_text(self.fields.abstract_text, &token);
                let query: Box<dyn TantivyQuery> =
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
                (Occur::Should, query)
            })
            .collect();
        let mut snippets = SnippetGenerator::create(
            searcher,
            &BooleanQuery::new(terms),
            self.fields.abstract_text,
        )?;
        snippets.set_max_num_chars(SNIPPET_CHARS);
        Ok(snippets)
    }

    fn tokens(&self, text: &str) -> Vec<String> {
        let mut analyzer = self
            .index
            .tokenizers()
            .get(TEXT_TOKENIZER)
            .expect("registered in from_index");
        let mut stream = analyzer.token_stream(text);
        let mut tokens = Vec::new();
        while let Some(token) = stream.next() {
            tokens.push(token.text.clone());
        }
        tokens
    }
}

/// Days since 0001-01-01 (chrono's day number).
fn day_number(day: NaiveDate) -> i64 {
    i64::from(day.num_days_from_ce())
}

fn day_from_number(n: i64) -> Option<NaiveDate> {
    if n == i64::MIN {
        return None;
    }
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(n).ok()?)
}

/// The start of `text`, at most `max` characters, cut at a word boundary
/// when one is near.
fn leading_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((end, _)) => {
            let cut = text[..end]
                .rfind(' ')
                .filter(|&i| i > end / 2)
                .unwrap_or(end);
            format!("{}…", &text[..cut])
        }
    }
}
