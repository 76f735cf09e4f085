//! Test support for the property tests: the case count, real samples from
//! `shared/data`, and a strategy that mutates them.

use proptest::prelude::*;

/// 256 cases unless `PROPTEST_CASES` asks for more (or fewer): an explicit
/// `with_cases` would otherwise ignore the variable.
pub fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A file of the shared data folder (a sibling of the repository).
pub fn sample(relative: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../../shared/data/{relative}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One edit of a byte string; positions are fractions of its length so they
/// stay meaningful whatever the sample.
#[derive(Debug, Clone)]
enum Edit {
    Flip { at: f64, byte: u8 },
    Delete { at: f64, len: usize },
    Insert { at: f64, bytes: Vec<u8> },
    Duplicate { at: f64, len: usize },
    Truncate { at: f64 },
}

fn edit() -> impl Strategy<Value = Edit> {
    // Bytes that matter to the parsers are favoured over random noise.
    let interesting = prop_oneof![
        any::<u8>(),
        prop::sample::select(b"<>/&;\"'{}[]:,\\\n 0123456789vV-.xTFN".to_vec()),
    ];
    let snippet = prop_oneof![
        prop::collection::vec(interesting.clone(), 1..8),
        prop::sample::select(vec![
            b"<entry>".to_vec(),
            b"</record>".to_vec(),
            b"<error code=\"x\">".to_vec(),
            b"&amp;".to_vec(),
            b"&#xD800;".to_vec(),
            b"\"id\":".to_vec(),
            b"null".to_vec(),
            b"\\u00e9".to_vec(),
            b"{'paper': ".to_vec(),
            b"\xff\xfe".to_vec(),
        ]),
    ];
    prop_oneof![
        (0.0..1.0, interesting).prop_map(|(at, byte)| Edit::Flip { at, byte }),
        (0.0..1.0, 1usize..64).prop_map(|(at, len)| Edit::Delete { at, len }),
        (0.0..1.0, snippet).prop_map(|(at, bytes)| Edit::Insert { at, bytes }),
        (0.0..1.0, 1usize..256).prop_map(|(at, len)| Edit::Duplicate { at, len }),
        (0.0..1.0).prop_map(|at| Edit::Truncate { at }),
    ]
}

fn apply(mut data: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let pos = |at: f64, len: usize| ((at * len as f64) as usize).min(len);
        match e {
            Edit::Flip { at, byte } => {
                if !data.is_empty() {
                    let i = pos(*at, data.len() - 1);
                    data[i] = *byte;
                }
            }
            Edit::Delete { at, len } => {
                let i = pos(*at, data.len());
                let end = (i + len).min(data.len());
                data.drain(i..end);
            }
            Edit::Insert { at, bytes } => {
                let i = pos(*at, data.len());
                data.splice(i..i, bytes.iter().copied());
            }
            Edit::Duplicate { at, len } => {
                let i = pos(*at, data.len());
                let end = (i + len).min(data.len());
                let copy = data[i..end].to_vec();
                data.splice(end..end, copy);
            }
            Edit::Truncate { at } => {
                let i = pos(*at, data.len());
                data.truncate(i);
            }
        }
    }
    data
}

/// The sample with 1 to 8 random edits.
pub fn mutated(sample: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(edit(), 1..8).prop_map(move |edits| apply(sample.clone(), &edits))
}

/// Values a structure-aware mutation puts in place of a node: wrong types,
/// edge numbers, empty and odd strings.
fn replacement() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            json!(""),
            json!("2024-13-45T99:00:00Z"),
            json!("v0"),
            json!("Mon, 2 Apr 2007 19:18:42 GMT"),
            json!("{'paper': {'id': '2405.15738', 'upvotes': None}}"),
            json!("0704.0001"),
            json!(u64::MAX),
            json!(-1),
            json!([]),
            json!({}),
            json!([null]),
            json!({"id": null}),
        ]),
    ]
}

/// Replaces the node numbered `target` (in depth-first order) by `new`.
fn replace_node(v: &mut serde_json::Value, target: &mut usize, new: &serde_json::Value) -> bool {
    if *target == 0 {
        *v = new.clone();
        return true;
    }
    *target -= 1;
    match v {
        serde_json::Value::Array(items) => items.iter_mut().any(|c| replace_node(c, target, new)),
        serde_json::Value::Object(map) => map.values_mut().any(|c| replace_node(c, target, new)),
        _ => false,
    }
}

fn count_nodes(v: &serde_json::Value) -> usize {
    1 + match v {
        serde_json::Value::Array(items) => items.iter().map(count_nodes).sum(),
        serde_json::Value::Object(map) => map.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// The JSON sample with 1 to 6 of its nodes replaced by odd values: the
/// document stays valid JSON, so the record-level code is what gets tested.
pub fn json_mutated(sample: serde_json::Value) -> impl Strategy<Value = serde_json::Value> {
    prop::collection::vec((0.0..1.0f64, replacement()), 1..6).prop_map(move |edits| {
        let mut v = sample.clone();
        for (at, new) in &edits {
            let mut target = ((at * count_nodes(&v) as f64) as usize).min(count_nodes(&v) - 1);
            replace_node(&mut v, &mut target, new);
        }
        v
    })
}
