//! Loading refuses missing and wrong files, naming the file.

use paperboy_embed::{EmbedError, MiniLm, model_files};

fn load_error(dir: &std::path::Path) -> EmbedError {
    match MiniLm::load(dir) {
        Ok(_) => panic!("loaded a model from {}", dir.display()),
        Err(e) => e,
    }
}

#[test]
fn a_missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let e = load_error(dir.path());
    assert!(matches!(e, EmbedError::ModelFileUnreadable { .. }), "{e:?}");
    let message = e.to_string();
    assert!(message.contains("config.json"), "{message}");
    assert!(message.contains("scripts/fetch-model"), "{message}");
}

#[test]
fn a_file_with_another_hash_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let real = crate::model_dir();
    for file in model_files::ALL {
        let to = dir.path().join(file.name);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(real.join(file.name), &to).unwrap();
    }
    let mut tokenizer = std::fs::read(dir.path().join("tokenizer.json")).unwrap();
    tokenizer.push(b'\n');
    std::fs::write(dir.path().join("tokenizer.json"), tokenizer).unwrap();

    let e = load_error(dir.path());
    assert!(matches!(e, EmbedError::ModelFileHash { .. }), "{e:?}");
    let message = e.to_string();
    assert!(message.contains("tokenizer.json"), "{message}");
    assert!(message.contains(model_files::TOKENIZER.sha256), "{message}");
}

#[test]
fn fetch_model_pins_the_same_hashes() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/fetch-model");
    let script = std::fs::read_to_string(script).unwrap();
    for file in model_files::ALL {
        let line = format!("{}  {}", file.sha256, file.name);
        assert!(script.contains(&line), "scripts/fetch-model lacks {line:?}");
    }
}
