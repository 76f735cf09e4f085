use std::collections::HashSet;
use std::path::Path;

use super::kmeans::SplitMix64;
use super::*;

const DIM: usize = 384;

fn gaussian(rng: &mut SplitMix64) -> f32 {
    // Box–Muller; `u1` in (0, 1] so the log is finite.
    let u1 = ((rng.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
    let u2 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

fn random_unit(rng: &mut SplitMix64, dim: usize) -> Vec<f32> {
    unit((0..dim).map(|_| gaussian(rng)).collect())
}

/// `n` vectors around `centers` random centres: normalize(centre + noise),
/// noise of about the centre's length, so a cluster's members have cosine
/// ≈ 0.5 with each other and ≈ 0 with the rest.
fn clustered(rng: &mut SplitMix64, n: usize, centers: usize, dim: usize) -> Vec<Vec<f32>> {
    let centres: Vec<Vec<f32>> = (0..centers).map(|_| random_unit(rng, dim)).collect();
    let sigma = 1.0 / (dim as f32).sqrt();
    (0..n)
        .map(|_| {
            let c = &centres[rng.below(centers)];
            unit(c.iter().map(|x| x + sigma * gaussian(rng)).collect())
        })
        .collect()
}

fn brute_force(data: &[Vec<f32>], query: &[f32], k: usize) -> Vec<u32> {
    let mut scored: Vec<(f32, u32)> = data
        .iter()
        .zip(0u32..)
        .map(|(v, i)| (kernels::dot_f32(v, query), i))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(k).map(|(_, i)| i).collect()
}

fn build(data: &[Vec<f32>], params: AnnParams) -> AnnIndex {
    let mut index = AnnIndex::new(data[0].len(), params).unwrap();
    index
        .upsert_batch(data.iter().zip(0u32..).map(|(v, i)| (i, v)))
        .unwrap();
    index
}

/// The true top `k` of each query by `f32` brute force.
fn truths(data: &[Vec<f32>], queries: &[Vec<f32>], k: usize) -> Vec<HashSet<u32>> {
    queries
        .iter()
        .map(|q| brute_force(data, q, k).into_iter().collect())
        .collect()
}

/// Mean recall of `search` against `truths`.
fn recall_against(
    truths: &[HashSet<u32>],
    queries: &[Vec<f32>],
    search: impl Fn(&[f32]) -> Vec<(u32, f32)>,
) -> f64 {
    let mut found = 0;
    let mut total = 0;
    for (truth, q) in truths.iter().zip(queries) {
        found += search(q).iter().filter(|(d, _)| truth.contains(d)).count();
        total += truth.len();
    }
    found as f64 / total as f64
}

/// Mean recall@k of `search` against `f32` brute force over `queries`.
fn recall(
    data: &[Vec<f32>],
    queries: &[Vec<f32>],
    k: usize,
    search: impl Fn(&[f32]) -> Vec<(u32, f32)>,
) -> f64 {
    recall_against(&truths(data, queries, k), queries, search)
}

/// Every document's location points back at it, and the lists hold
/// exactly the documents.
fn assert_consistent(index: &AnnIndex) {
    let mut stored = 0;
    for (l, list) in index.lists.iter().enumerate() {
        assert_eq!(list.docs.len(), list.scales.len());
        assert_eq!(list.blocks.len(), list.len().div_ceil(BLOCK));
        let codes: usize = list.blocks.iter().map(Vec::len).sum();
        assert_eq!(codes, list.len() * index.dim);
        for (pos, doc) in list.docs.iter().enumerate() {
            let loc = index.locs[doc];
            assert_eq!((loc.list as usize, loc.pos as usize), (l, pos), "doc {doc}");
        }
        stored += list.len();
    }
    assert_eq!(stored, index.len());
}

fn docs(hits: &[(u32, f32)]) -> Vec<u32> {
    hits.iter().map(|h| h.0).collect()
}

#[test]
fn exact_search_matches_f32_brute_force_on_random_vectors() {
    let mut rng = SplitMix64::new(1);
    let data: Vec<Vec<f32>> = (0..5_000).map(|_| random_unit(&mut rng, DIM)).collect();
    let queries: Vec<Vec<f32>> = (0..100).map(|_| random_unit(&mut rng, DIM)).collect();
    let index = build(&data, AnnParams::default());
    assert!(index.is_exact());
    let r = recall(&data, &queries, 10, |q| index.search(q, 10, None).unwrap());
    println!("exact recall@10: {r}");
    // Measured 0.99: random vectors' top scores are within rounding of
    // each other, the hardest case for 8-bit codes.
    assert!(r >= 0.98, "recall@10 {r}");
}

#[test]
fn exact_scores_are_cosines_within_rounding() {
    let mut rng = SplitMix64::new(2);
    let data: Vec<Vec<f32>> = (0..500).map(|_| random_unit(&mut rng, DIM)).collect();
    let index = build(&data, AnnParams::default());
    let hits = index.search(&data[7], 5, None).unwrap();
    assert_eq!(hits[0].0, 7);
    assert!((hits[0].1 - 1.0).abs() < 0.01, "{hits:?}");
    for (doc, score) in hits {
        let cos: f32 = data[doc as usize]
            .iter()
            .zip(&data[7])
            .map(|(a, b)| a * b)
            .sum();
        assert!((score - cos).abs() < 0.01, "doc {doc}: {score} vs {cos}");
    }
}

#[test]
fn ivf_recall_on_clustered_vectors() {
    let mut rng = SplitMix64::new(3);
    // 64 dimensions rather than 384 keep k-means quick in a debug build;
    // the release example measures 384.
    let mut all = clustered(&mut rng, 20_100, 200, 64);
    let queries = all.split_off(20_000);
    let params = AnnParams {
        exact_below: 10_000,
        // 58 points per list, enough; the whole 20k would only slow the
        // debug build down.
        train_sample: 8_192,
        ..AnnParams::default()
    };
    let index = build(&all, params);
    assert!(!index.is_exact());
    assert_eq!(index.lists(), 141);
    assert_consistent(&index);
    let truths = truths(&all, &queries, 10);
    let r = recall_against(&truths, &queries, |q| index.search(q, 10, None).unwrap());
    println!("IVF recall@10 at nprobe {}: {r}", index.params().nprobe);
    assert!(r >= 0.9, "recall@10 {r}");
    // One list is not enough on this data: the check above measures
    // something.
    let one = recall_against(&truths, &queries, |q| {
        index.search_probing(q, 10, 1, None).unwrap()
    });
    println!("IVF recall@10 at nprobe 1: {one}");
    assert!(one < r, "nprobe 1: {one}, default: {r}");
}

#[test]
fn upsert_replaces_and_remove_removes() {
    let mut rng = SplitMix64::new(4);
    let data: Vec<Vec<f32>> = (0..300).map(|_| random_unit(&mut rng, DIM)).collect();
    let mut index = build(&data, AnnParams::default());
    assert_eq!(index.len(), 300);

    // Doc 5 now holds doc 200's vector: both are found by it, 5's old one finds neither.
    index.upsert(5, &data[200]).unwrap();
    assert_eq!(index.len(), 300);
    let hits = docs(&index.search(&data[200], 2, None).unwrap());
    assert_eq!(hits, [5, 200]);
    assert_ne!(index.search(&data[5], 1, None).unwrap()[0].0, 5);

    assert!(index.remove(200));
    assert!(!index.remove(200));
    assert!(!index.contains(200));
    assert_eq!(index.get(200), None);
    assert_eq!(index.len(), 299);
    assert_eq!(docs(&index.search(&data[200], 1, None).unwrap()), [5]);
    assert_consistent(&index);
}

#[test]
fn removals_keep_every_location_right() {
    let mut rng = SplitMix64::new(5);
    let data = clustered(&mut rng, 3_000, 20, 32);
    let params = AnnParams {
        exact_below: 1_000,
        auto_train: false,
        ..AnnParams::default()
    };
    let mut index = build(&data, params);
    index.train();
    assert!(!index.is_exact());
    let mut removed = HashSet::new();
    for _ in 0..2_000 {
        let doc = rng.below(3_000) as u32;
        assert_eq!(index.remove(doc), removed.insert(doc));
    }
    assert_eq!(index.len(), 3_000 - removed.len());
    assert_consistent(&index);
    for doc in 0..3_000u32 {
        match index.get(doc) {
            Some(v) => {
                assert!(!removed.contains(&doc));
                let cos: f32 = v.iter().zip(&data[doc as usize]).map(|(a, b)| a * b).sum();
                assert!(cos > 0.995, "doc {doc}: {cos}");
            }
            None => assert!(removed.contains(&doc)),
        }
    }
}

#[test]
fn filter_excludes_documents() {
    let mut rng = SplitMix64::new(6);
    let data = clustered(&mut rng, 2_000, 10, 64);
    let index = build(&data, AnnParams::default());
    let query = &data[0];
    let unfiltered = docs(&index.search(query, 10, None).unwrap());
    assert_eq!(unfiltered[0], 0);

    let not_itself = |doc: u32| doc != 0;
    let hits = docs(&index.search(query, 10, Some(&not_itself)).unwrap());
    assert_eq!(hits.len(), 10);
    assert_eq!(hits[..9], unfiltered[1..]);
    assert!(!hits.contains(&0));

    let even = |doc: u32| doc.is_multiple_of(2);
    let hits = index.search(query, 10, Some(&even)).unwrap();
    assert_eq!(hits.len(), 10);
    assert!(hits.iter().all(|(d, _)| d.is_multiple_of(2)));

    let nothing = |_: u32| false;
    assert!(index.search(query, 10, Some(&nothing)).unwrap().is_empty());
}

#[test]
fn a_selective_filter_probes_more_lists_until_k_are_found() {
    let mut rng = SplitMix64::new(7);
    let data = clustered(&mut rng, 4_000, 40, 32);
    let params = AnnParams {
        exact_below: 1_000,
        nprobe: 1,
        ..AnnParams::default()
    };
    let index = build(&data, params);
    assert!(!index.is_exact());
    // Ten documents, scattered over the lists.
    let wanted: HashSet<u32> = (0..10).map(|i| i * 397).collect();
    let keep = |doc: u32| wanted.contains(&doc);
    let hits = index.search(&data[1], 10, Some(&keep)).unwrap();
    assert_eq!(docs(&hits).into_iter().collect::<HashSet<_>>(), wanted);
}

#[test]
fn results_are_best_first_and_k_bounded() {
    let mut rng = SplitMix64::new(8);
    let data: Vec<Vec<f32>> = (0..100).map(|_| random_unit(&mut rng, 16)).collect();
    let index = build(&data, AnnParams::default());
    let check = |k: usize, expected_len: usize| {
        let hits = index.search(&data[3], k, None).unwrap();
        assert_eq!(hits.len(), expected_len, "k {k}");
        assert!(hits.windows(2).all(|w| w[0].1 >= w[1].1), "k {k}: {hits:?}");
    };
    check(0, 0);
    check(1, 1);
    check(10, 10);
    check(1_000, 100);
}

#[test]
fn bad_vectors_are_errors() {
    let mut index = AnnIndex::new(4, AnnParams::default()).unwrap();
    let check = |result: Result<(), AnnError>, expected: &str| {
        let err = result.unwrap_err();
        assert!(format!("{err:?}").starts_with(expected), "{err:?}");
    };
    check(index.upsert(1, &[1.0, 0.0, 0.0]), "DimensionMismatch");
    check(index.upsert(1, &[0.0; 4]), "InvalidVector");
    check(index.upsert(1, &[f32::NAN, 1.0, 0.0, 0.0]), "InvalidVector");
    check(
        index.search(&[1.0; 5], 3, None).map(drop),
        "DimensionMismatch",
    );
    check(index.search(&[0.0; 4], 3, None).map(drop), "InvalidVector");
    check(
        AnnIndex::new(0, AnnParams::default()).map(drop),
        "UnsupportedDimension",
    );
    assert!(index.is_empty());
    // Not normalised on the way in: still a cosine.
    index.upsert(1, &[3.0, 4.0, 0.0, 0.0]).unwrap();
    let hits = index.search(&[6.0, 8.0, 0.0, 0.0], 1, None).unwrap();
    assert!((hits[0].1 - 1.0).abs() < 0.01);
}

#[test]
fn auto_training_switches_to_ivf_and_back() {
    let mut rng = SplitMix64::new(9);
    let data = clustered(&mut rng, 8_000, 20, 32);
    let params = AnnParams {
        exact_below: 2_000,
        ..AnnParams::default()
    };
    let mut index = AnnIndex::new(32, params).unwrap();
    for (i, v) in data.iter().enumerate().take(1_999) {
        index.upsert(i as u32, v).unwrap();
    }
    assert!(index.is_exact());
    index.upsert(1_999, &data[1_999]).unwrap();
    assert!(!index.is_exact());
    assert_eq!(index.lists(), 45);
    assert_consistent(&index);
    // 4× growth retrains with more lists.
    index
        .upsert_batch((0u32..).zip(&data).skip(2_000).take(6_000))
        .unwrap();
    assert_eq!(index.lists(), 89);
    assert_consistent(&index);
    // Retraining an index that has lists compares each vector with only the
    // new lists near its old one; the result still finds the neighbours.
    let r = recall(&data, &data[..50], 10, |q| {
        index.search(q, 10, None).unwrap()
    });
    assert!(r >= 0.9, "recall@10 after retraining {r}");
    // Below half the threshold: exact again.
    for doc in 0..7_001 {
        index.remove(doc);
    }
    assert!(index.is_exact());
    assert_eq!(index.len(), 999);
    assert_consistent(&index);
}

#[test]
fn training_prepared_before_updates_still_places_them() {
    let mut rng = SplitMix64::new(10);
    let data = clustered(&mut rng, 3_000, 20, 32);
    let params = AnnParams {
        exact_below: 1_000,
        auto_train: false,
        ..AnnParams::default()
    };
    let mut index = build(&data[..2_000], params);
    assert!(index.needs_training());
    let training = index.prepare_training();
    // Changes made while the k-means ran (under a read lock elsewhere).
    index.upsert_batch((0u32..).zip(&data).skip(2_000)).unwrap();
    index.remove(17);
    index.apply_training(training).unwrap();
    assert!(!index.needs_training());
    assert_eq!(index.len(), 2_999);
    assert_consistent(&index);
    let r = recall(&data, &data[2_990..], 5, |q| {
        index.search(q, 6, None).unwrap()
    });
    assert!(r >= 0.9, "{r}");

    let other = AnnIndex::new(16, AnnParams::default()).unwrap();
    let err = index.apply_training(other.prepare_training()).unwrap_err();
    assert!(matches!(err, AnnError::DimensionMismatch { .. }), "{err:?}");
}

#[test]
fn training_is_deterministic() {
    let mut rng = SplitMix64::new(11);
    let data = clustered(&mut rng, 3_000, 20, 32);
    let params = AnnParams {
        exact_below: 1_000,
        ..AnnParams::default()
    };
    let a = build(&data, params.clone());
    let b = build(&data, params);
    assert_eq!(a.centroids, b.centroids);
}

fn save_and_load(index: &AnnIndex, dir: &Path) -> AnnIndex {
    let path = dir.join("vectors.ann");
    index.save(&path).unwrap();
    // Nothing but the snapshot is left behind.
    let names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["vectors.ann"]);
    let mut loaded = AnnIndex::load(&path, index.dim()).unwrap();
    loaded.set_params(index.params().clone());
    loaded
}

#[test]
fn save_and_load_round_trip() {
    let mut rng = SplitMix64::new(12);
    let data = clustered(&mut rng, 3_000, 20, 48);
    let dir = tempfile::tempdir().unwrap();
    for exact_below in [50_000, 1_000] {
        let params = AnnParams {
            exact_below,
            ..AnnParams::default()
        };
        let mut index = build(&data, params);
        index.remove(3);
        let loaded = save_and_load(&index, dir.path());
        assert_eq!(loaded.len(), index.len());
        assert_eq!(loaded.lists(), index.lists());
        assert_eq!(loaded.trained_len, index.trained_len);
        assert_consistent(&loaded);
        for doc in [0, 3, 1_000, 2_999] {
            assert_eq!(loaded.get(doc), index.get(doc), "doc {doc}");
        }
        for q in &data[..20] {
            assert_eq!(
                loaded.search(q, 10, None).unwrap(),
                index.search(q, 10, None).unwrap()
            );
        }
    }
    // An empty index too.
    let empty = AnnIndex::new(8, AnnParams::default()).unwrap();
    assert!(save_and_load(&empty, dir.path()).is_empty());
}

/// Loads `bytes` as a snapshot of 8-dimensional vectors.
fn load_bytes(bytes: &[u8], dim: usize) -> Result<AnnIndex, AnnError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vectors.ann");
    std::fs::write(&path, bytes).unwrap();
    AnnIndex::load(&path, dim)
}

#[test]
fn unusable_snapshots_are_errors() {
    let mut rng = SplitMix64::new(13);
    let data: Vec<Vec<f32>> = (0..200).map(|_| random_unit(&mut rng, 8)).collect();
    let index = build(&data, AnnParams::default());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vectors.ann");
    index.save(&path).unwrap();
    let good = std::fs::read(&path).unwrap();
    assert!(load_bytes(&good, 8).is_ok());

    let check = |bytes: &[u8], dim: usize, expected: &str| {
        let err = load_bytes(bytes, dim).unwrap_err();
        let text = format!("{err:?} {err}");
        assert!(text.contains(expected), "{text}");
    };
    let mut other_version = good.clone();
    other_version[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    check(&other_version, 8, "FormatVersion");
    check(&good, 16, "FileDimension");
    check(&good[..good.len() - 1], 8, "truncated");
    check(&good[..100], 8, "truncated");
    check(&good[..20], 8, "too short");
    check(&[], 8, "too short");
    let mut longer = good.clone();
    longer.push(0);
    check(&longer, 8, "Corrupt");
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x10;
    check(&flipped, 8, "checksum");
    let mut magic = good.clone();
    magic[0] = b'X';
    check(&magic, 8, "magic");
    // A huge count in the header is caught by the length check, before any
    // allocation.
    let mut huge = good.clone();
    huge[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    check(&huge, 8, "Corrupt");

    let missing = AnnIndex::load(&dir.path().join("nope"), 8).unwrap_err();
    assert!(matches!(missing, AnnError::Io { .. }), "{missing:?}");
}

#[test]
fn the_index_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<AnnIndex>();
    assert_send_sync::<AnnError>();
}
