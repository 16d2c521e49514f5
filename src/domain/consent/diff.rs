//! What changed between two consent-form versions, for the ethics officer who
//! approves the new one: the statement line by line, and the items by key.

use serde::Serialize;

use super::{ConsentForm, ConsentItem, Governs};

/// One line of the statement, kept, removed (only in the version in force) or added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", content = "text", rename_all = "snake_case")]
pub enum Line {
    Same(String),
    Removed(String),
    Added(String),
}

/// An item as it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemChange {
    pub key: String,
    /// `added`, `removed`, `changed` or `same`.
    pub change: &'static str,
    pub before: Option<ItemSide>,
    pub after: Option<ItemSide>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemSide {
    pub text: String,
    pub required: bool,
    pub governs: Option<Governs>,
}

impl From<&ConsentItem> for ItemSide {
    fn from(i: &ConsentItem) -> Self {
        Self { text: i.text.clone(), required: i.required, governs: i.governs }
    }
}

/// The statement's lines from `before` to `after` (a longest common subsequence of
/// lines: what stayed, what went, what came).
pub fn lines(before: &str, after: &str) -> Vec<Line> {
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    let mut common = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            common[i][j] = if a[i] == b[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::with_capacity(a.len().max(b.len())));
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push(Line::Same(a[i].to_string()));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || common[i][j + 1] >= common[i + 1][j]) {
            out.push(Line::Added(b[j].to_string()));
            j += 1;
        } else {
            out.push(Line::Removed(a[i].to_string()));
            i += 1;
        }
    }
    out
}

/// The items from `before` to `after`, in the new version's order, then the removed.
pub fn items(before: &[ConsentItem], after: &[ConsentItem]) -> Vec<ItemChange> {
    let mut out: Vec<ItemChange> = after
        .iter()
        .map(|new| {
            let old = before.iter().find(|o| o.key == new.key);
            let change = match old {
                None => "added",
                Some(o)
                    if o.text == new.text
                        && o.required == new.required
                        && o.governs == new.governs =>
                {
                    "same"
                }
                Some(_) => "changed",
            };
            ItemChange {
                key: new.key.clone(),
                change,
                before: old.map(ItemSide::from),
                after: Some(ItemSide::from(new)),
            }
        })
        .collect();
    out.extend(before.iter().filter(|o| !after.iter().any(|n| n.key == o.key)).map(|o| {
        ItemChange {
            key: o.key.clone(),
            change: "removed",
            before: Some(ItemSide::from(o)),
            after: None,
        }
    }));
    out
}

/// Both parts at once: `active` is the version in force (none before the first).
pub fn between(active: Option<&ConsentForm>, draft: &ConsentForm) -> (Vec<Line>, Vec<ItemChange>) {
    let (text, list) = active.map_or(("", &[][..]), |a| (a.body_markdown.as_str(), &a.items[..]));
    (lines(text, &draft.body_markdown), items(list, &draft.items))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(key: &str, text: &str, required: bool) -> ConsentItem {
        ConsentItem { key: key.into(), text: text.into(), required, governs: None }
    }

    #[test]
    fn lines_kept_removed_and_added() {
        let before = "# Statement\nWe record audio.\nContact us.";
        let after = "# Statement\nWe record audio and video.\nContact us.\nA new site joins.";
        assert_eq!(
            lines(before, after),
            vec![
                Line::Same("# Statement".into()),
                Line::Added("We record audio and video.".into()),
                Line::Removed("We record audio.".into()),
                Line::Same("Contact us.".into()),
                Line::Added("A new site joins.".into()),
            ]
        );
        assert_eq!(lines("", "one"), vec![Line::Added("one".into())]);
    }

    #[test]
    fn items_by_key() {
        let before = [
            item("read", "I have read it.", true),
            item("audio", "Audio.", true),
            item("old", "Gone.", false),
        ];
        let after = [
            item("read", "I have read it.", true),
            item("audio", "Audio.", false),
            item("video", "Video.", false),
        ];
        let changes: Vec<(String, &str)> =
            items(&before, &after).into_iter().map(|c| (c.key, c.change)).collect();
        assert_eq!(
            changes,
            [
                ("read".to_string(), "same"),
                ("audio".to_string(), "changed"),
                ("video".to_string(), "added"),
                ("old".to_string(), "removed")
            ]
        );
    }
}
