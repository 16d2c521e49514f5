//! The files Consentry carries inside its binary, so it runs from any folder: the
//! page templates, the static files (CSS and the two small scripts) and the seed
//! study's forms. `CONSENTRY_TEMPLATE_DIR` and `CONSENTRY_FORMS_DIR` replace them
//! with folders (to customise the pages or use other forms).

use include_dir::{Dir, include_dir};

static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");
static FORMS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/forms");

/// Every page template, by the name pages render it with (`participant/portal`
/// for `templates/participant/portal.html.j2`).
pub fn templates() -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    collect(&TEMPLATES, &mut |path, text| {
        if let Some(name) = path.strip_suffix(".html.j2") {
            out.push((name.to_string(), text));
        }
    });
    out
}

/// A static file (`app.css`, `questionnaire.js`, …) under `templates/static/`.
pub fn static_file(path: &str) -> Option<&'static [u8]> {
    TEMPLATES.get_file(format!("static/{path}")).map(|f| f.contents())
}

/// The built-in form files under `forms/<folder>/` ending in `.toml`, by path
/// (`forms/questionnaires/demographics.toml`), in name order.
pub fn forms(folder: &str) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    if let Some(dir) = FORMS.get_dir(folder) {
        collect(dir, &mut |path, text| {
            if path.ends_with(".toml") && !path[folder.len() + 1..].contains('/') {
                out.push((format!("forms/{path}"), text));
            }
        });
    }
    out.sort();
    out
}

/// One built-in form file, by its path under `forms/`.
pub fn form(path: &str) -> Option<&'static str> {
    FORMS.get_file(path).and_then(|f| f.contents_utf8())
}

/// Calls `each` with every UTF-8 file under `dir` and its path from the root.
fn collect(dir: &'static Dir<'static>, each: &mut dyn FnMut(&str, &'static str)) {
    for file in dir.files() {
        if let (Some(path), Some(text)) = (file.path().to_str(), file.contents_utf8()) {
            each(path, text);
        }
    }
    for sub in dir.dirs() {
        collect(sub, each);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binary_carries_every_template_static_file_and_form() {
        let names: Vec<String> = templates().into_iter().map(|(n, _)| n).collect();
        for name in
            ["base", "participant/portal", "errors/error", "study/study", "participant/new_link"]
        {
            assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
        }
        assert!(static_file("app.css").is_some_and(|b| !b.is_empty()));
        assert!(static_file("signature-pad.js").is_some());
        assert!(static_file("../Cargo.toml").is_none());
        let questionnaires: Vec<String> =
            forms("questionnaires").into_iter().map(|(p, _)| p).collect();
        assert_eq!(questionnaires.len(), 3, "{questionnaires:?}");
        assert!(questionnaires.contains(&"forms/questionnaires/demographics.toml".to_string()));
        assert_eq!(forms("consent").len(), 2);
        assert!(form("consent/social-media-medical-education.toml").is_some());
        assert!(form("consent/social-media-medical-education.fr.toml").is_some());
    }
}
