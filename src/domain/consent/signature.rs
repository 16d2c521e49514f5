//! Drawn signatures: the signature pad sends an SVG of strokes. Only that shape is
//! accepted — `<svg>` with `<path d="M x y L x y …">` children and presentation
//! attributes — so no script or external reference can ride along, and the strokes
//! can be drawn again into the signed PDF.

use crate::domain::fields::FieldError;

pub const MAX_SVG_BYTES: usize = 200_000;

/// A stroke: points in the signature's own coordinates (y grows downwards).
pub type Stroke = Vec<(f32, f32)>;

#[derive(Debug, Clone, PartialEq)]
pub struct Drawing {
    pub width: f32,
    pub height: f32,
    pub strokes: Vec<Stroke>,
}

const ALLOWED_ATTRS: &[&str] = &[
    "xmlns",
    "viewBox",
    "width",
    "height",
    "d",
    "fill",
    "stroke",
    "stroke-width",
    "stroke-linecap",
    "stroke-linejoin",
];

fn refuse(why: &str) -> FieldError {
    FieldError::new(
        "invalid_signature",
        format!("The drawn signature is not one the signature pad makes: {why}."),
    )
}

fn attributes(tag: &str) -> Result<Vec<(String, String)>, FieldError> {
    let mut out = Vec::new();
    let mut rest = tag.trim();
    while !rest.is_empty() {
        let eq = rest.find('=').ok_or_else(|| refuse("an attribute has no value"))?;
        let name = rest[..eq].trim().to_string();
        let after = rest[eq + 1..].trim_start();
        let quote = after
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')
            .ok_or_else(|| refuse("unquoted attribute"))?;
        let end = after[1..].find(quote).ok_or_else(|| refuse("unterminated attribute"))?;
        let value = after[1..1 + end].to_string();
        if !ALLOWED_ATTRS.contains(&name.as_str()) {
            return Err(refuse(&format!("attribute {name} is not allowed")));
        }
        out.push((name, value));
        rest = after[end + 2..].trim_start();
    }
    Ok(out)
}

fn numbers(s: &str) -> Vec<f32> {
    s.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .filter_map(|t| t.parse().ok())
        .collect()
}

fn parse_path(d: &str) -> Result<Vec<Stroke>, FieldError> {
    let mut strokes: Vec<Stroke> = Vec::new();
    let mut command = ' ';
    let mut pending = String::new();
    let flush =
        |command: char, pending: &str, strokes: &mut Vec<Stroke>| -> Result<(), FieldError> {
            if command == ' ' {
                return Ok(());
            }
            let n = numbers(pending);
            if !n.len().is_multiple_of(2) || n.iter().any(|v| !v.is_finite()) {
                return Err(refuse("a path has an odd coordinate"));
            }
            let points: Vec<(f32, f32)> = n.chunks(2).map(|c| (c[0], c[1])).collect();
            match command {
                'M' => strokes.push(points),
                'L' => match strokes.last_mut() {
                    Some(s) => s.extend(points),
                    None => return Err(refuse("a path draws before it moves")),
                },
                _ => return Err(refuse("only M and L path commands are allowed")),
            }
            Ok(())
        };
    for c in d.chars() {
        if c.is_ascii_alphabetic() {
            flush(command, &pending, &mut strokes)?;
            command = c;
            pending.clear();
        } else if c.is_ascii_digit()
            || matches!(c, '.' | '-' | ',' | ' ' | '\n' | '\t' | '\r' | 'e')
        {
            pending.push(c);
        } else {
            return Err(refuse("a path has an unexpected character"));
        }
    }
    flush(command, &pending, &mut strokes)?;
    Ok(strokes)
}

/// Checks a drawn signature and returns its strokes.
pub fn parse_drawing(svg: &str) -> Result<Drawing, FieldError> {
    if svg.len() > MAX_SVG_BYTES {
        return Err(refuse("it is too large"));
    }
    let mut width = 0.0;
    let mut height = 0.0;
    let mut strokes = Vec::new();
    let mut rest = svg.trim();
    let mut depth = 0;
    let mut seen_svg = false;
    while !rest.is_empty() {
        let start = rest.find('<').ok_or_else(|| refuse("text outside the drawing"))?;
        if !rest[..start].trim().is_empty() {
            return Err(refuse("text inside the drawing"));
        }
        let end = rest[start..].find('>').ok_or_else(|| refuse("an unclosed tag"))? + start;
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            if name.trim() != "svg" || depth != 1 {
                return Err(refuse("an unexpected closing tag"));
            }
            depth = 0;
            continue;
        }
        let self_closing = tag.ends_with('/');
        let body = tag.trim_end_matches('/');
        let (name, attrs) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
        let attrs = attributes(attrs)?;
        match (name, depth, self_closing) {
            ("svg", 0, false) if !seen_svg => {
                seen_svg = true;
                depth = 1;
                let view = attrs
                    .iter()
                    .find(|(k, _)| k == "viewBox")
                    .map(|(_, v)| numbers(v))
                    .unwrap_or_default();
                if view.len() != 4 || view[2] <= 0.0 || view[3] <= 0.0 {
                    return Err(refuse("it needs a viewBox"));
                }
                width = view[2];
                height = view[3];
            }
            ("path", 1, true) => {
                let d = attrs.iter().find(|(k, _)| k == "d").map(|(_, v)| v.as_str()).unwrap_or("");
                strokes.extend(parse_path(d)?);
            }
            _ => return Err(refuse(&format!("element {name} is not allowed here"))),
        }
    }
    if !seen_svg || depth != 0 {
        return Err(refuse("it is not a complete <svg> element"));
    }
    if strokes.iter().all(|s| s.len() < 2) {
        return Err(refuse("it has no strokes"));
    }
    Ok(Drawing { width, height, strokes })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAD: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 100"><path d="M10 50 L20 40 L30 60" fill="none" stroke="black" stroke-width="2"/><path d="M40,50 L50,50"/></svg>"#;

    #[test]
    fn the_pad_drawing_is_accepted() {
        let d = parse_drawing(PAD).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((d.width, d.height), (300.0, 100.0));
        assert_eq!(
            d.strokes,
            vec![vec![(10.0, 50.0), (20.0, 40.0), (30.0, 60.0)], vec![(40.0, 50.0), (50.0, 50.0)]]
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "<svg viewBox=\"0 0 10 10\"><script>alert(1)</script></svg>",
            "<svg viewBox=\"0 0 10 10\" onload=\"x()\"><path d=\"M1 1 L2 2\"/></svg>",
            "<svg viewBox=\"0 0 10 10\"><path d=\"M1 1 C2 2 3 3 4 4\"/></svg>",
            "<svg viewBox=\"0 0 10 10\"><image href=\"http://x\"/></svg>",
            "<svg><path d=\"M1 1 L2 2\"/></svg>",
            "<svg viewBox=\"0 0 10 10\"><path d=\"M1 1\"/></svg>",
            "<svg viewBox=\"0 0 10 10\"><path d=\"M1 1 L2 2\"/>",
            "hello <svg viewBox=\"0 0 10 10\"><path d=\"M1 1 L2 2\"/></svg>",
        ] {
            assert!(parse_drawing(bad).is_err(), "{bad}");
        }
    }
}
