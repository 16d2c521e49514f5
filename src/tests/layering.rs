//! The layering rule (STYLE.md): `web → service → {store, audit, pdf, report, mail}
//! → domain`, each framework in its own layer, and the domain pure. A file that
//! cannot be read fails the test rather than passing unread.

use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap_or_else(|e| panic!("{}: {e}", dir.display())).path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every source file under `src/` but the tests, by its path under `src/`, with
/// its text up to its unit tests.
fn sources() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 50, "source files not found under {}", src.display());
    files
        .into_iter()
        .map(|f| {
            let rel = f.strip_prefix(&src).unwrap_or(&f).to_string_lossy().replace('\\', "/");
            let text = fs::read_to_string(&f).unwrap_or_else(|e| panic!("{rel}: {e}"));
            let code = text.split("#[cfg(test)]").next().unwrap_or_default().to_string();
            (rel, code)
        })
        .filter(|(rel, _)| !rel.starts_with("tests/"))
        .collect()
}

fn offenders(allowed: impl Fn(&str) -> bool, banned: &[&str]) -> Vec<String> {
    sources()
        .into_iter()
        .filter(|(rel, _)| !allowed(rel))
        .flat_map(|(rel, code)| {
            banned
                .iter()
                .filter(|b| code.contains(**b))
                .map(|b| format!("{rel}: {b}"))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_domain_is_pure() {
    let found = offenders(
        |rel| !rel.starts_with("domain/"),
        &[
            "rocket",
            "sea_orm",
            "printpdf",
            "minijinja",
            "tokio",
            "Utc::now",
            "std::fs",
            "std::io",
            "std::env",
            "crate::store",
            "crate::service",
            "crate::web",
        ],
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn rocket_lives_in_web_only() {
    let found = offenders(
        |rel| rel.starts_with("web/") || rel == "app.rs" || rel == "main.rs",
        &["rocket::", "use rocket", "rocket_dyn_templates"],
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn only_store_speaks_sea_orm() {
    let found =
        offenders(|rel| rel.starts_with("store/"), &["sea_orm::", "sea_orm_migration", "rusqlite"]);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn web_goes_through_the_service() {
    let found = offenders(
        |rel| !rel.starts_with("web/") && rel != "app.rs",
        &["crate::store", "crate::audit", "crate::pdf", "crate::mail", "crate::report::"],
    );
    assert!(found.is_empty(), "{found:#?}");
}

/// The README's code map names only paths that exist, and every file or folder of
/// the area layers (and every template folder) is on it.
#[test]
fn the_code_map_matches_the_tree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = fs::read_to_string(root.join("README.md")).unwrap_or_else(|e| panic!("{e}"));
    let start = readme.find("## Code map").unwrap_or_else(|| panic!("no Code map section"));
    let map = &readme[start..];
    let map = &map[..map[3..].find("\n## ").map_or(map.len(), |i| i + 3)];
    let mut missing = Vec::new();
    for quoted in map.split('`').skip(1).step_by(2) {
        let path = quoted.split(' ').next().unwrap_or_default();
        let known = ["src/", "templates/", "forms/"].iter().any(|p| path.starts_with(p));
        if known && !path.contains('<') && !root.join(path).exists() {
            missing.push(format!("on the map, not in the tree: {path}"));
        }
    }
    for layer in
        ["src/domain", "src/store", "src/service", "src/web/api", "src/web/html", "templates"]
    {
        let entries = fs::read_dir(root.join(layer)).unwrap_or_else(|e| panic!("{layer}: {e}"));
        for entry in entries {
            let entry = entry.unwrap_or_else(|e| panic!("{layer}: {e}"));
            let name = entry.file_name().to_string_lossy().to_string();
            if name == "mod.rs" || name.ends_with(".html.j2") {
                continue;
            }
            let shown = if entry.path().is_dir() {
                format!("{layer}/{name}/")
            } else {
                format!("{layer}/{name}")
            };
            if !map.contains(&shown) {
                missing.push(format!("in the tree, not on the map: {shown}"));
            }
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}
