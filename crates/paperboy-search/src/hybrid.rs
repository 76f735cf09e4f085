//! Hybrid search: the keyword index and the vector index asked together,
//! their results fused into one ranking.
//!
//! Fusion is a convex combination of normalised scores (each side divided
//! by its best candidate's; see [`fuse`] — better than min-max, z-scores and
//! reciprocal rank fusion on SciFact), with a dense weight that
//! depends on the query, because one fixed weight helps long natural-language
//! questions and hurts the short technical queries people type on a paper
//! site ([`dense_weight`]):
//! - quoted phrases, field syntax (`ti:`, `au:`…) or exclusions ask for
//!   exact matching: keyword only;
//! - queries of up to four words use keywords only; from six words on the
//!   dense side weighs 0.6 (interpolated in between);
//! - a query whose words match nothing falls back to meaning alone.
//!
//! A gentle popularity prior adds `popularity · ln(1 + upvotes) / ln(1 +
//! most upvotes among the candidates)`; it only reorders near-ties.
//!
//! Query vectors come from the caller (this crate never runs models).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use paperboy_core::ArxivId;
use paperboy_store::Store;

use crate::keyword::Scored;
use crate::query::{self, Text};
use crate::{
    KeywordIndex, SearchError, SearchHit, SearchRequest, SearchResults, SortBy, VectorIndex,
};

/// Which ranking to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Keywords only (BM25).
    Keyword,
    /// Meaning only (cosine of embeddings).
    Vector,
    /// Both, fused with a query-dependent weight.
    #[default]
    Hybrid,
}

impl std::str::FromStr for Method {
    type Err = String;

    fn from_str(s: &str) -> Result<Method, String> {
        match s {
            "keyword" => Ok(Method::Keyword),
            "vector" | "semantic" => Ok(Method::Vector),
            "hybrid" => Ok(Method::Hybrid),
            other => Err(format!("mode is keyword, vector or hybrid, not {other:?}")),
        }
    }
}

/// The knobs of the fusion, tuned with `paperboy bench quality` on the
/// SciFact train split (long queries) and known-item queries over the HF
/// papers (short ones).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusionParams {
    /// Dense weight of a query of at most `short_words` words.
    pub short_weight: f32,
    /// Dense weight of a query of at least `long_words` words.
    pub long_weight: f32,
    pub short_words: usize,
    pub long_words: usize,
    /// Weight of the popularity prior.
    pub popularity: f32,
    /// Candidates taken from each side (at least the page's end).
    pub candidates: usize,
}

impl Default for FusionParams {
    fn default() -> FusionParams {
        FusionParams {
            short_weight: 0.0,
            long_weight: 0.6,
            short_words: 4,
            long_words: 6,
            popularity: 0.02,
            candidates: 100,
        }
    }
}

/// The dense weight for a query (0 = keywords only, 1 = meaning only),
/// before looking at results.
pub fn dense_weight(query_text: &str, params: &FusionParams) -> f32 {
    if asks_for_exact_matches(query_text) {
        return 0.0;
    }
    let words = query::parse(query_text).clauses.len();
    if words <= params.short_words {
        return params.short_weight;
    }
    if words >= params.long_words {
        return params.long_weight;
    }
    let t = (words - params.short_words) as f32 / (params.long_words - params.short_words) as f32;
    params.short_weight + t * (params.long_weight - params.short_weight)
}

/// Whether the query uses syntax that asks for exact matching: quoted
/// phrases, field prefixes (`ti:` …) or exclusions.
pub fn asks_for_exact_matches(query_text: &str) -> bool {
    query::parse(query_text)
        .clauses
        .iter()
        .any(|c| c.excluded || c.field.is_some() || matches!(c.text, Text::Phrase(_)))
}

/// The keyword index and (when there is one) the vector index, searched
/// together.
pub struct Hybrid<'a> {
    pub keyword: &'a KeywordIndex,
    pub vectors: Option<&'a VectorIndex>,
    pub params: FusionParams,
}

impl Hybrid<'_> {
    /// Runs `request` with `method`. `query_vector` is the query's embedding
    /// (`None` when the model is not available: keyword search then). Sorts
    /// other than relevance, and queries that ask for exact matching, use
    /// the keyword index alone.
    pub fn search(
        &self,
        request: &SearchRequest,
        query_vector: Option<&[f32]>,
        method: Method,
    ) -> Result<SearchResults, SearchError> {
        self.search_with(request, query_vector, method, None)
    }

    /// How many candidates each side contributes for `request`.
    pub fn depth(&self, request: &SearchRequest) -> usize {
        self.params
            .candidates
            .max(request.offset.saturating_add(request.limit))
            .min(1_000)
    }

    /// [`Hybrid::search`] with the keyword side's candidates already found
    /// (`keyword`: [`KeywordIndex::scored`] with [`Hybrid::depth`]), e.g.
    /// while the query was being embedded.
    pub fn search_with(
        &self,
        request: &SearchRequest,
        query_vector: Option<&[f32]>,
        method: Method,
        keyword: Option<Vec<Scored>>,
    ) -> Result<SearchResults, SearchError> {
        let vectors = match (self.vectors, query_vector) {
            (Some(index), Some(v)) if !index.is_empty() && request.sort == SortBy::Relevance => {
                Some((index, v))
            }
            _ => None,
        };
        let Some((index, vector)) = vectors else {
            return self.keyword.search(request);
        };
        let weight = match method {
            Method::Keyword => return self.keyword.search(request),
            Method::Vector => 1.0,
            Method::Hybrid => dense_weight(&request.query, &self.params),
        };
        if weight <= 0.0 {
            return self.keyword.search(request);
        }
        let depth = self.depth(request);
        let keyword = match keyword {
            _ if weight >= 1.0 => Vec::new(),
            Some(found) => found,
            None => self.keyword.scored(request, depth)?,
        };
        // Nothing matched the words (a typo, another language): meaning alone.
        let weight = if keyword.is_empty() { 1.0 } else { weight };
        let filtered = request.from.is_some()
            || request.to.is_some()
            || request.min_upvotes.is_some_and(|m| m > 0);
        let mut dense = if filtered {
            // Look deeper: the filters drop some candidates.
            let dense = index.search(vector, depth * 4, &|_| true);
            let ids: Vec<ArxivId> = dense.iter().map(|(id, _)| id.clone()).collect();
            let passing = self.keyword.passing(&ids, request)?;
            dense
                .into_iter()
                .filter(|(id, _)| passing.contains(id))
                .collect()
        } else {
            index.search(vector, depth, &|_| true)
        };
        dense.truncate(depth);
        let fused = fuse(&keyword, &dense, weight, &self.params);
        // A hybrid ranking pages through the best `depth` candidates of each
        // side (deeper pages of a relevance ranking are noise).
        let total = fused.len();
        // Result lines (snippets) only for the page shown.
        let page: Vec<(ArxivId, f32)> = fused
            .into_iter()
            .skip(request.offset)
            .take(request.limit.max(1))
            .collect();
        let ids: Vec<ArxivId> = page.iter().map(|(id, _)| id.clone()).collect();
        let scores: HashMap<ArxivId, f32> = page.into_iter().collect();
        let mut hits = self.keyword.hits_for(&ids, request)?;
        for hit in &mut hits {
            hit.score = scores.get(&hit.id).copied().unwrap_or(0.0);
        }
        Ok(SearchResults { total, hits })
    }
}

/// Turns a query's text into its embedding; `None` when it cannot (the
/// caller owns the model).
pub type QueryEncoder = Arc<dyn Fn(&str) -> Option<Vec<f32>> + Send + Sync>;

/// What a running site searches with: the keyword index, and when the
/// embedding model is installed, the vector index and the query encoder.
pub struct SearchEngine {
    pub keyword: Arc<KeywordIndex>,
    pub vectors: Option<Arc<VectorIndex>>,
    pub encoder: Option<QueryEncoder>,
    pub params: FusionParams,
}

impl SearchEngine {
    /// Keyword search only (no model installed).
    pub fn keyword_only(keyword: Arc<KeywordIndex>) -> SearchEngine {
        SearchEngine {
            keyword,
            vectors: None,
            encoder: None,
            params: FusionParams::default(),
        }
    }

    /// Whether searches by meaning are possible now (a model, and vectors).
    pub fn semantic_ready(&self) -> bool {
        self.encoder.is_some() && self.vectors.as_ref().is_some_and(|v| !v.is_empty())
    }

    /// Brings both indexes up to date with the store; returns how many
    /// papers and vectors it applied.
    pub fn catch_up(&self, store: &dyn Store) -> Result<(u64, u64), SearchError> {
        let papers = self.keyword.catch_up(store)?;
        let vectors = match &self.vectors {
            Some(index) => index.catch_up(store)?,
            None => 0,
        };
        Ok((papers, vectors))
    }

    /// Runs a search, embedding the query only when the method and the
    /// query's weight need it.
    pub fn search(
        &self,
        request: &SearchRequest,
        method: Method,
    ) -> Result<SearchResults, SearchError> {
        let mut method = method;
        if method == Method::Hybrid
            && self.semantic_ready()
            && request.sort == SortBy::Relevance
            && dense_weight(&request.query, &self.params) <= 0.0
        {
            // Words only (a short query) — unless they match nothing and
            // the query did not ask for exact matches: then by meaning.
            let results = self.keyword.search(request)?;
            if results.total > 0
                || request.query.trim().is_empty()
                || asks_for_exact_matches(&request.query)
            {
                return Ok(results);
            }
            method = Method::Vector;
        }
        let wants_vector = self.semantic_ready()
            && request.sort == SortBy::Relevance
            && match method {
                Method::Keyword => false,
                Method::Vector => true,
                Method::Hybrid => dense_weight(&request.query, &self.params) > 0.0,
            };
        let hybrid = Hybrid {
            keyword: &self.keyword,
            vectors: self.vectors.as_deref(),
            params: self.params,
        };
        let encode = |text: &str| self.encoder.as_ref().and_then(|encode| encode(text.trim()));
        if !wants_vector {
            return hybrid.search(request, None, method);
        }
        if method == Method::Vector {
            return hybrid.search(request, encode(&request.query).as_deref(), method);
        }
        // Both sides: embed the query on another core while the keyword
        // index finds its candidates.
        let (vector, keyword) = std::thread::scope(|scope| {
            let embedding = scope.spawn(|| encode(&request.query));
            let keyword = self.keyword.scored(request, hybrid.depth(request));
            (embedding.join().ok().flatten(), keyword)
        });
        hybrid.search_with(request, vector.as_deref(), method, Some(keyword?))
    }

    /// Papers most similar to `id` by meaning, as result lines, best first;
    /// empty when there is no vector index or the paper has no vector yet.
    pub fn similar(&self, id: &ArxivId, k: usize) -> Result<Vec<SearchHit>, SearchError> {
        let Some(vectors) = &self.vectors else {
            return Ok(Vec::new());
        };
        let near = vectors.similar(id, k);
        let ids: Vec<ArxivId> = near.iter().map(|(id, _)| id.clone()).collect();
        let scores: HashMap<&ArxivId, f32> = near.iter().map(|(id, s)| (id, *s)).collect();
        let mut hits = self.keyword.hits_for(&ids, &SearchRequest::default())?;
        for hit in &mut hits {
            hit.score = scores.get(&hit.id).copied().unwrap_or(0.0);
        }
        Ok(hits)
    }
}

/// Puts each list on a scale from its theoretical minimum (0 for BM25 and
/// for cosine, negative cosines clipped) to its best candidate, mixes them
/// with `weight` on the dense side plus the popularity prior, and ranks
/// (best first, ties by id). A candidate one side did not return scores as
/// that side's weakest candidate.
///
/// Measured on the SciFact train split, this scale beat min-max (which
/// stretches the weakest candidate to 0 however close it is to the best),
/// z-scores and reciprocal ranks (docs/benchmarks.md).
fn fuse(
    keyword: &[Scored],
    dense: &[(ArxivId, f32)],
    weight: f32,
    params: &FusionParams,
) -> Vec<(ArxivId, f32)> {
    let mut scores: HashMap<ArxivId, f32> = HashMap::new();
    let kw: Vec<(ArxivId, f32)> = keyword.iter().map(|h| (h.id.clone(), h.score)).collect();
    let sides = [(&kw[..], 1.0 - weight), (dense, weight)];
    let mut floors = [0.0f32; 2];
    for (side, (list, w)) in sides.iter().enumerate() {
        if *w <= 0.0 || list.is_empty() {
            continue;
        }
        let max = list.iter().map(|(_, s)| s.max(0.0)).fold(0.0, f32::max);
        let scale = |s: f32| if max > 0.0 { s.max(0.0) / max } else { 1.0 };
        let mut floor = f32::MAX;
        for (id, s) in list.iter() {
            let normalised = scale(*s);
            floor = floor.min(normalised);
            *scores.entry(id.clone()).or_insert(0.0) += w * normalised;
        }
        floors[side] = w * floor;
    }
    for (side, (list, w)) in sides.iter().enumerate() {
        if *w <= 0.0 || list.is_empty() {
            continue;
        }
        let found: HashSet<&ArxivId> = list.iter().map(|(id, _)| id).collect();
        for (id, score) in scores.iter_mut() {
            if !found.contains(id) {
                *score += floors[side];
            }
        }
    }
    if params.popularity > 0.0 {
        let upvotes: HashMap<&ArxivId, u32> = keyword.iter().map(|h| (&h.id, h.upvotes)).collect();
        let most = upvotes.values().copied().max().unwrap_or(0);
        if most > 0 {
            let scale = params.popularity / (most as f32).ln_1p();
            for (id, score) in scores.iter_mut() {
                if let Some(&u) = upvotes.get(id) {
                    *score += scale * (u as f32).ln_1p();
                }
            }
        }
    }
    let mut ranked: Vec<(ArxivId, f32)> = scores.into_iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_syntax_means_keywords_only() {
        let p = FusionParams::default();
        for q in [
            "\"graph neural\"",
            "ti:transformer",
            "diffusion -video",
            "au:hinton",
        ] {
            assert_eq!(dense_weight(q, &p), 0.0, "{q}");
        }
    }

    #[test]
    fn the_weight_grows_with_the_query() {
        let p = FusionParams::default();
        let w = |q: &str| dense_weight(q, &p);
        assert_eq!(w("llama"), p.short_weight);
        assert_eq!(w("vision transformer"), p.short_weight);
        assert!(w("efficient vision transformer for mobile") > p.short_weight);
        assert!(w("efficient vision transformer for mobile") < p.long_weight);
        assert_eq!(
            w("does vitamin d supplementation reduce the risk of fractures in older adults"),
            p.long_weight
        );
    }

    fn id(s: &str) -> ArxivId {
        ArxivId::parse(s).unwrap().id
    }

    fn hit(s: &str, score: f32, upvotes: u32) -> Scored {
        Scored {
            id: id(s),
            score,
            upvotes,
        }
    }

    #[test]
    fn fusion_mixes_normalised_scores() {
        let no_prior = FusionParams {
            popularity: 0.0,
            ..FusionParams::default()
        };
        let keyword = [hit("2401.00001", 10.0, 0), hit("2401.00002", 5.0, 0)];
        let dense = [(id("2401.00003"), 0.9), (id("2401.00002"), 0.5)];
        // Keyword side: 1 → 1.0, 2 → 0.5; dense side: 3 → 1.0, 2 → 0.5/0.9.
        // 1 has no dense score and 3 no keyword score: each gets that
        // side's weakest (0.5/0.9 and 0.5).
        let fused = fuse(&keyword, &dense, 0.3, &no_prior);
        let order: Vec<&str> = fused.iter().map(|(i, _)| i.as_str()).collect();
        assert_eq!(order, ["2401.00001", "2401.00003", "2401.00002"]);
        let weak_dense = 0.5 / 0.9;
        assert!((fused[0].1 - (0.7 + 0.3 * weak_dense)).abs() < 1e-6);
        assert!((fused[1].1 - (0.7 * 0.5 + 0.3)).abs() < 1e-6);
        assert!((fused[2].1 - (0.7 * 0.5 + 0.3 * weak_dense)).abs() < 1e-6);
        // Weight 1: the dense order alone leads.
        let fused = fuse(&keyword, &dense, 1.0, &no_prior);
        assert_eq!(fused[0].0.as_str(), "2401.00003");
    }

    #[test]
    fn popularity_only_breaks_near_ties() {
        let p = FusionParams::default();
        let keyword = [
            hit("2401.00001", 10.0, 0),
            hit("2401.00002", 9.99, 500),
            hit("2401.00003", 1.0, 900),
        ];
        let fused = fuse(&keyword, &[], 0.0, &p);
        let order: Vec<&str> = fused.iter().map(|(i, _)| i.as_str()).collect();
        assert_eq!(order, ["2401.00002", "2401.00001", "2401.00003"]);
    }
}
