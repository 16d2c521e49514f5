//! The layering rule: `src/domain` is pure.

use std::fs;
use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn domain_imports_no_framework() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/domain");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(files.len() >= 4, "domain files not found under {}", root.display());
    for file in files {
        let text = fs::read_to_string(&file).unwrap_or_default();
        for banned in ["rocket", "sea_orm", "printpdf", "minijinja"] {
            assert!(!text.contains(banned), "{} mentions {banned}", file.display());
        }
    }
}

#[test]
fn only_store_speaks_sea_orm() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        let rel = file.strip_prefix(&src).unwrap_or(&file).to_string_lossy().to_string();
        if rel.starts_with("store/") || rel.starts_with("tests/") {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap_or_default();
        assert!(!text.contains("sea_orm::"), "{rel} uses sea_orm outside store/");
    }
}
