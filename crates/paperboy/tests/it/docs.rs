//! The docs stay true to the code: every crate is on the architecture map.

use std::path::Path;

#[test]
fn architecture_md_names_every_crate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let mut crates: Vec<String> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    crates.sort();
    assert!(crates.len() >= 6, "{crates:?}");
    for name in crates {
        assert!(
            architecture.contains(&format!("### `crates/{name}`")),
            "ARCHITECTURE.md has no section for crates/{name}"
        );
    }
}
