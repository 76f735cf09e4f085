//! Ranking quality measures, defined as BEIR reports them (BEIR calls
//! `pytrec_eval`, i.e. trec_eval, for nDCG and recall, and computes MRR
//! itself):
//!
//! - **nDCG@k** (`ndcg_cut_k`): DCG = Σ_{i=1..k} gain_i / log2(i + 1) with
//!   *linear* gains, gain = the judged grade (trec_eval's default; not the
//!   `2^rel − 1` of some papers), over the ranking's first k documents;
//!   divided by the DCG of the ideal ranking (all judged grades, highest
//!   first, cut at k). For binary judgments both conventions agree.
//! - **Recall@k** (`recall_k`): relevant documents among the first k, over
//!   all relevant documents of the query.
//! - **MRR@k**: 1 / rank of the first relevant document within the first k,
//!   else 0.
//!
//! A document is relevant when its grade is > 0; a grade ≤ 0 gains nothing.
//! Only queries with at least one relevant document are evaluated (as BEIR
//! evaluates only the queries in its qrels); a judged query the system did
//! not answer counts as an empty ranking, scoring 0. Means are plain
//! averages over the evaluated queries.
//!
//! A ranking is a list of document ids, best first; the order given is the
//! ranking. trec_eval instead re-sorts by score and breaks ties by document
//! id, descending — [`rank_by_score`] does that for callers that want the
//! exact trec_eval numbers. A document listed twice counts once, at its
//! first position (the later copy is dropped and the rest moves up, as if
//! the ranking were the id → score map trec_eval reads).

use std::collections::{BTreeMap, HashMap, HashSet};

/// Judged documents of one query: corpus id → grade (> 0: relevant).
pub type Judgments = HashMap<String, i32>;

/// Judgments of every query: query id → its judgments.
pub type Qrels = BTreeMap<String, Judgments>;

/// The depths each measure is cut at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    pub ndcg: usize,
    pub recall: usize,
    pub mrr: usize,
}

impl Default for Cutoffs {
    /// What `paperboy bench quality` reports: nDCG@10, Recall@100, MRR@10
    /// (BEIR's headline figures).
    fn default() -> Cutoffs {
        Cutoffs {
            ndcg: 10,
            recall: 100,
            mrr: 10,
        }
    }
}

/// The measures of one query, or their means.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Scores {
    pub ndcg: f64,
    pub recall: f64,
    pub mrr: f64,
}

/// The scores of a whole run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    pub cutoffs: Cutoffs,
    /// Every evaluated query (those with a relevant document).
    pub per_query: BTreeMap<String, Scores>,
    /// Means over `per_query`; all 0 when no query was evaluated.
    pub mean: Scores,
    /// Evaluated queries the run had no ranking for (scored as empty).
    pub unanswered: usize,
    /// Queries in the qrels left out because none of their documents is
    /// relevant.
    pub without_relevant: usize,
}

/// Scores every judged query with a relevant document. `runs` maps a query
/// id to its ranking (best first); rankings of queries not in `qrels` are
/// ignored.
pub fn evaluate(
    qrels: &Qrels,
    runs: &HashMap<String, Vec<String>>,
    cutoffs: Cutoffs,
) -> Evaluation {
    let mut eval = Evaluation {
        cutoffs,
        ..Evaluation::default()
    };
    for (query, judged) in qrels {
        if relevant_count(judged) == 0 {
            eval.without_relevant += 1;
            continue;
        }
        let ranking = match runs.get(query) {
            Some(ranking) => ranking.as_slice(),
            None => {
                eval.unanswered += 1;
                &[]
            }
        };
        eval.per_query
            .insert(query.clone(), score_query(ranking, judged, cutoffs));
    }
    let n = eval.per_query.len();
    if n > 0 {
        let sum = |f: fn(&Scores) -> f64| eval.per_query.values().map(f).sum::<f64>() / n as f64;
        eval.mean = Scores {
            ndcg: sum(|s| s.ndcg),
            recall: sum(|s| s.recall),
            mrr: sum(|s| s.mrr),
        };
    }
    eval
}

/// The three measures of one ranking.
pub fn score_query<S: AsRef<str>>(ranking: &[S], judged: &Judgments, cutoffs: Cutoffs) -> Scores {
    Scores {
        ndcg: ndcg_at(ranking, judged, cutoffs.ndcg),
        recall: recall_at(ranking, judged, cutoffs.recall),
        mrr: mrr_at(ranking, judged, cutoffs.mrr),
    }
}

/// nDCG@k with linear gains (see the module docs); 0 without relevant
/// documents.
pub fn ndcg_at<S: AsRef<str>>(ranking: &[S], judged: &Judgments, k: usize) -> f64 {
    let dcg: f64 = top_k(ranking, k)
        .enumerate()
        .map(|(i, doc)| gain(judged.get(doc).copied()) * discount(i))
        .sum();
    let mut ideal: Vec<i32> = judged.values().copied().filter(|&g| g > 0).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .into_iter()
        .take(k)
        .enumerate()
        .map(|(i, g)| gain(Some(g)) * discount(i))
        .sum();
    if idcg > 0.0 { dcg / idcg } else { 0.0 }
}

/// Recall@k: relevant documents in the first k over all relevant ones; 0
/// without relevant documents.
pub fn recall_at<S: AsRef<str>>(ranking: &[S], judged: &Judgments, k: usize) -> f64 {
    let relevant = relevant_count(judged);
    if relevant == 0 {
        return 0.0;
    }
    let found = top_k(ranking, k)
        .filter(|doc| is_relevant(judged, doc))
        .count();
    found as f64 / relevant as f64
}

/// MRR@k: 1 / rank (1-based) of the first relevant document in the first
/// k, else 0.
pub fn mrr_at<S: AsRef<str>>(ranking: &[S], judged: &Judgments, k: usize) -> f64 {
    top_k(ranking, k)
        .position(|doc| is_relevant(judged, doc))
        .map_or(0.0, |i| 1.0 / (i + 1) as f64)
}

/// Orders scored documents as trec_eval does: score descending, ties by
/// document id descending. NaN scores go last.
pub fn rank_by_score(scored: &[(String, f32)]) -> Vec<String> {
    let mut sorted: Vec<&(String, f32)> = scored.iter().collect();
    sorted.sort_by(|(a_id, a), (b_id, b)| {
        let key = |s: f32| if s.is_nan() { f32::NEG_INFINITY } else { s };
        key(*b).total_cmp(&key(*a)).then_with(|| b_id.cmp(a_id))
    });
    sorted.into_iter().map(|(id, _)| id.clone()).collect()
}

/// The first k distinct documents of a ranking.
fn top_k<S: AsRef<str>>(ranking: &[S], k: usize) -> impl Iterator<Item = &str> {
    let mut seen = HashSet::new();
    ranking
        .iter()
        .map(AsRef::as_ref)
        .filter(move |doc| seen.insert(*doc))
        .take(k)
}

fn relevant_count(judged: &Judgments) -> usize {
    judged.values().filter(|&&g| g > 0).count()
}

fn is_relevant(judged: &Judgments, doc: &str) -> bool {
    judged.get(doc).is_some_and(|&g| g > 0)
}

/// Linear gain; unjudged and non-positive grades gain nothing.
fn gain(grade: Option<i32>) -> f64 {
    f64::from(grade.unwrap_or(0).max(0))
}

/// 1 / log2(rank + 1) for the 0-based position `i` (rank i + 1).
fn discount(i: usize) -> f64 {
    1.0 / ((i + 2) as f64).log2()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(pairs: &[(&str, i32)]) -> Judgments {
        pairs.iter().map(|&(d, g)| (d.to_string(), g)).collect()
    }

    /// Checks (nDCG@k, Recall@k, MRR@k) of `ranking` at one depth k.
    fn check(ranking: &[&str], judgments: &[(&str, i32)], k: usize, expect: (f64, f64, f64)) {
        let judged = judged(judgments);
        let cutoffs = Cutoffs {
            ndcg: k,
            recall: k,
            mrr: k,
        };
        let got = score_query(ranking, &judged, cutoffs);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-4;
        assert!(
            close(got.ndcg, expect.0) && close(got.recall, expect.1) && close(got.mrr, expect.2),
            "ranking {ranking:?} judged {judgments:?} @{k}: got {got:?}, want {expect:?}"
        );
    }

    #[test]
    fn binary_judgments() {
        // DCG = 1 + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3) + 1/log2(4) = 2.13093.
        check(
            &["a", "x", "b"],
            &[("a", 1), ("b", 1), ("c", 1)],
            10,
            (0.70392, 2.0 / 3.0, 1.0),
        );
        check(&["a", "b"], &[("a", 1), ("b", 1)], 10, (1.0, 1.0, 1.0));
        // First relevant at rank 2: DCG = 1/log2(3) = 0.63093 = nDCG.
        check(&["x", "a"], &[("a", 1)], 10, (0.63093, 1.0, 0.5));
        // The ideal ranking is cut at k too: IDCG@1 = 1.
        check(&["a", "b"], &[("a", 1), ("b", 1)], 1, (1.0, 0.5, 1.0));
    }

    #[test]
    fn graded_judgments_use_linear_gains() {
        // DCG = 1 + 2/log2(3) = 2.26186; IDCG = 2 + 1/log2(3) = 2.63093.
        // (Exponential gains would give 2.89279 / 3.63093 = 0.79671.)
        check(&["b", "a"], &[("a", 2), ("b", 1)], 10, (0.85972, 1.0, 1.0));
        // Grade 0 and negative grades are judged but not relevant.
        check(
            &["z", "n", "a"],
            &[("a", 3), ("z", 0), ("n", -1)],
            10,
            (0.5, 1.0, 1.0 / 3.0),
        );
        // DCG = 3/log2(3) = 1.89279 over IDCG = 3 + 1/log2(3) = 3.63093.
        check(
            &["x", "a", "b"],
            &[("a", 3), ("b", 1)],
            2,
            (0.52130, 0.5, 0.5),
        );
    }

    #[test]
    fn equal_grades_in_any_order_score_the_same() {
        let judgments = [("a", 2), ("b", 2), ("c", 1)];
        check(&["a", "b", "c"], &judgments, 10, (1.0, 1.0, 1.0));
        check(&["b", "a", "c"], &judgments, 10, (1.0, 1.0, 1.0));
        // The ideal keeps the two 2s ahead of the 1: IDCG@2 = 2 + 2/log2(3) = 3.26186;
        // DCG@2 of [c, a] = 1 + 2/log2(3) = 2.26186.
        check(&["c", "a", "b"], &judgments, 2, (0.69343, 2.0 / 3.0, 1.0));
    }

    #[test]
    fn cutoffs_and_empty_rankings() {
        check(&["x", "y", "a"], &[("a", 1)], 2, (0.0, 0.0, 0.0));
        check(&["x", "y", "a"], &[("a", 1)], 3, (0.5, 1.0, 1.0 / 3.0));
        check(&[], &[("a", 1)], 10, (0.0, 0.0, 0.0));
        check(&["a"], &[("a", 1)], 0, (0.0, 0.0, 0.0));
        // No relevant document: 0, not NaN.
        check(&["a"], &[("a", 0)], 10, (0.0, 0.0, 0.0));
        check(&["a"], &[], 10, (0.0, 0.0, 0.0));
    }

    #[test]
    fn duplicates_in_a_ranking_count_once() {
        // [a, a, b] reads as [a, b]: b is at rank 2, within k = 2.
        check(&["a", "a", "b"], &[("a", 1), ("b", 1)], 2, (1.0, 1.0, 1.0));
        // Without the dedup, a's gain would count twice and nDCG exceed 1.
        check(
            &["a", "a", "a"],
            &[("a", 1), ("b", 1)],
            10,
            (0.61315, 0.5, 1.0),
        );
        check(&["x", "x", "a"], &[("a", 1)], 2, (0.63093, 1.0, 0.5));
    }

    #[test]
    fn evaluate_averages_over_queries_with_relevant_documents() {
        let qrels: Qrels = [
            ("q1", judged(&[("a", 1)])),
            ("q2", judged(&[("b", 1)])),
            ("q3", judged(&[("c", 0)])),
            ("q4", judged(&[("d", 2)])),
        ]
        .into_iter()
        .map(|(q, j)| (q.to_string(), j))
        .collect();
        let runs: HashMap<String, Vec<String>> = [
            ("q1", vec!["a"]),
            ("q2", vec!["x", "b"]),
            ("q3", vec!["c"]),
            ("q9", vec!["a"]),
        ]
        .into_iter()
        .map(|(q, r)| (q.to_string(), r.into_iter().map(String::from).collect()))
        .collect();
        let eval = evaluate(&qrels, &runs, Cutoffs::default());
        assert_eq!(
            eval.per_query.keys().collect::<Vec<_>>(),
            ["q1", "q2", "q4"]
        );
        assert_eq!((eval.unanswered, eval.without_relevant), (1, 1));
        assert_eq!(eval.per_query["q4"], Scores::default());
        assert!((eval.mean.ndcg - (1.0 + 0.63093) / 3.0).abs() < 1e-4);
        assert!((eval.mean.recall - 2.0 / 3.0).abs() < 1e-9);
        assert!((eval.mean.mrr - 0.5).abs() < 1e-9);

        let none = evaluate(&Qrels::new(), &runs, Cutoffs::default());
        assert_eq!(none.mean, Scores::default());
        assert!(none.per_query.is_empty());
    }

    #[test]
    fn rank_by_score_breaks_ties_like_trec_eval() {
        let scored: Vec<(String, f32)> = [
            ("a", 1.0),
            ("b", 1.0),
            ("c", 2.0),
            ("n", f32::NAN),
            ("d", -1.0),
        ]
        .into_iter()
        .map(|(d, s)| (d.to_string(), s))
        .collect();
        assert_eq!(rank_by_score(&scored), ["c", "b", "a", "d", "n"]);
    }
}
