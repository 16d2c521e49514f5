//! The iCalendar (RFC 5545) file of a focus group: one event per session with a
//! stable `UID`, `SEQUENCE` raised on each change, `METHOD` REQUEST, CANCEL or
//! PUBLISH (RFC 5546), text escaped and lines folded at 75 octets.

use chrono::{DateTime, Utc};

use super::FocusGroup;

/// How an invitation is meant (RFC 5546): a request to attend, a cancellation, or
/// a copy to keep (the staff download).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Request,
    Cancel,
    Publish,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
            Method::Publish => "PUBLISH",
        }
    }
}

/// Who the calendar is about besides the session itself.
#[derive(Debug, Clone)]
pub struct Invite<'a> {
    pub group: &'a FocusGroup,
    pub study_title: &'a str,
    pub ethics_reference: &'a str,
    pub organizer_name: &'a str,
    pub organizer_email: &'a str,
    /// `(first name, address)` of the one person invited; none on the staff copy.
    pub attendee: Option<(&'a str, &'a str)>,
    pub method: Method,
    pub uid_domain: &'a str,
}

/// The session's stable UID: the same across reschedules, so calendars update it.
pub fn uid(group_id: i64, domain: &str) -> String {
    format!("focus-group-{group_id}@{domain}")
}

fn stamp(at: &DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value, quoted when it holds characters a bare value may not.
fn param(value: &str) -> String {
    let clean: String = value.chars().filter(|c| *c != '"' && !c.is_control()).collect();
    if clean.contains([';', ':', ',']) { format!("\"{clean}\"") } else { clean }
}

/// Folds a content line at 75 octets without splitting a UTF-8 character.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

/// The iCalendar file for one session.
pub fn write(invite: &Invite<'_>, now: DateTime<Utc>) -> String {
    let g = invite.group;
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".to_string(),
        "PRODID:-//Consentry//Focus groups//EN".to_string(),
        "CALSCALE:GREGORIAN".to_string(),
        format!("METHOD:{}", invite.method.as_str()),
        "BEGIN:VEVENT".to_string(),
        format!("UID:{}", uid(g.id, invite.uid_domain)),
        format!("SEQUENCE:{}", g.sequence),
        format!("DTSTAMP:{}", stamp(&now)),
        format!("DTSTART:{}", stamp(&g.starts_at)),
        format!("DTEND:{}", stamp(&g.ends_at())),
        format!("SUMMARY:{}", text(&format!("{} ({})", g.title, invite.study_title))),
        format!("LOCATION:{}", text(&g.location)),
        format!(
            "DESCRIPTION:{}",
            text(&format!(
                "{} for the study \"{}\" (ethics approval {}). Facilitator: {}. \
                 Taking part is voluntary; you can withdraw at any time from your page.",
                g.title, invite.study_title, invite.ethics_reference, g.facilitator_name
            ))
        ),
        format!("ORGANIZER;CN={}:mailto:{}", param(invite.organizer_name), invite.organizer_email),
    ];
    if let Some((name, address)) = invite.attendee {
        lines.push(format!(
            "ATTENDEE;CN={};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{address}",
            param(name)
        ));
    }
    lines.push(
        match invite.method {
            Method::Cancel => "STATUS:CANCELLED",
            Method::Request | Method::Publish => "STATUS:CONFIRMED",
        }
        .to_string(),
    );
    lines.push("END:VEVENT".to_string());
    lines.push("END:VCALENDAR".to_string());
    let mut out = String::new();
    for l in &lines {
        fold(l, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::focus_group::tests::{group, now};

    #[test]
    fn the_calendar_is_rfc_5545() {
        let g = group(
            42,
            "Focus group 1; the first, with a very long title that will need folding somewhere",
        );
        let ics = write(
            &Invite {
                group: &g,
                study_title: "Social media, medical education",
                ethics_reference: "CF15/2639-2015001090",
                organizer_name: "Dr Kim, Lead",
                organizer_email: "lead@example.org",
                attendee: Some(("Ann", "ann@example.org")),
                method: Method::Request,
                uid_domain: "consentry.example.org",
            },
            now(),
        );
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(ics.contains("METHOD:REQUEST\r\n"));
        assert!(ics.contains("UID:focus-group-42@consentry.example.org\r\n"));
        assert!(ics.contains("DTSTART:20260308T090000Z\r\n"));
        assert!(ics.contains("DTEND:20260308T100000Z\r\n"));
        assert!(ics.contains("ORGANIZER;CN=\"Dr Kim, Lead\":mailto:lead@example.org"));
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "line longer than 75 octets: {line:?}");
        }
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains("RSVP=TRUE:mailto:ann@example.org"));
        assert!(unfolded.contains("SUMMARY:Focus group 1\\; the first\\, with a very long title"));
        let forged = group(43, "Title\r\nATTENDEE:mailto:evil@example.org\u{b}\u{85}");
        let forged_ics = write(
            &Invite {
                group: &forged,
                study_title: "S\rURL:http://evil.example",
                ethics_reference: "R",
                organizer_name: "O\r\nX-EVIL:1",
                organizer_email: "o@example.org",
                attendee: None,
                method: Method::Request,
                uid_domain: "consentry.example.org",
            },
            now(),
        );
        let forged_lines = forged_ics.replace("\r\n ", "");
        for line in forged_lines.split("\r\n") {
            assert!(
                !line.starts_with("ATTENDEE:mailto:evil")
                    && !line.starts_with("URL:")
                    && !line.starts_with("X-EVIL"),
                "typed text became a calendar property: {line:?}"
            );
            assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
        }
        assert!(unfolded.contains("CF15/2639-2015001090"));
        let cancel = write(
            &Invite {
                method: Method::Cancel,
                attendee: None,
                ..Invite {
                    group: &g,
                    study_title: "S",
                    ethics_reference: "R",
                    organizer_name: "O",
                    organizer_email: "o@example.org",
                    attendee: None,
                    method: Method::Publish,
                    uid_domain: "d",
                }
            },
            now(),
        );
        assert!(cancel.contains("METHOD:CANCEL\r\n") && cancel.contains("STATUS:CANCELLED\r\n"));
        assert!(!cancel.contains("ATTENDEE"));
    }

    #[test]
    fn folding_keeps_multibyte_characters_whole() {
        let mut out = String::new();
        fold(&"é".repeat(80), &mut out);
        for line in out.split("\r\n") {
            assert!(line.len() <= 75);
        }
        assert_eq!(out.replace("\r\n ", "").trim_end(), "é".repeat(80));
    }
}
