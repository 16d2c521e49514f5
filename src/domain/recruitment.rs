//! Purposive recruitment: ads on chosen channels, open for a window, and quotas by
//! stratum on a screening answer.

use chrono::{DateTime, Utc};

use super::FieldErrors;
use super::fields::{FieldError, parse_time, required_text};
use super::questionnaire::answers::{Answer, Answers};
use super::questionnaire::{FormDefinition, QuestionType};

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Channel {
        Lms = "lms",
        Email = "email",
        Poster = "poster",
        Social = "social",
        Other = "other",
    }
    else "unknown_channel", "Channel must be lms, email, poster, social or other."
}

impl Channel {
    pub fn label(self) -> &'static str {
        match self {
            Channel::Lms => "Learning-management system",
            Channel::Email => "E-mail list",
            Channel::Poster => "Poster",
            Channel::Social => "Social media",
            Channel::Other => "Other",
        }
    }
}

/// An ad as a coordinator writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdDraft {
    pub code: String,
    pub channel: Channel,
    pub title: String,
    pub body_markdown: String,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
}

pub fn is_ad_code(code: &str) -> bool {
    (3..=64).contains(&code.len())
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !code.starts_with('-')
        && !code.ends_with('-')
}

impl AdDraft {
    pub fn parse(
        code: &str,
        channel: &str,
        title: &str,
        body_markdown: &str,
        opens_at: &str,
        closes_at: &str,
    ) -> Result<AdDraft, FieldErrors> {
        let opens = parse_time(opens_at, "Opening time");
        let closes = parse_time(closes_at, "Closing time");
        Self::checked(code, channel, title, body_markdown, opens, closes)
    }

    /// An ad whose window was read already (from RFC 3339 times, or a date and a
    /// time on the study's clock), every other field checked here.
    pub fn checked(
        code: &str,
        channel: &str,
        title: &str,
        body_markdown: &str,
        opens: Result<DateTime<Utc>, FieldError>,
        closes: Result<DateTime<Utc>, FieldError>,
    ) -> Result<AdDraft, FieldErrors> {
        let mut errors = FieldErrors::new();
        let code = code.trim();
        if !is_ad_code(code) {
            errors.add(
                "code",
                "invalid",
                "The short link (code) must be 3 to 64 lower-case letters, digits and hyphens.",
            );
        }
        let channel = errors.take("channel", channel.parse::<Channel>());
        let title = errors.take("title", required_text(title, "Title", 200));
        let body =
            errors.take("body_markdown", required_text(body_markdown, "The ad's text", 20_000));
        let opens = errors.take("opens_at", opens);
        let closes = errors.take("closes_at", closes);
        if let (Some(o), Some(c)) = (opens, closes)
            && c <= o
        {
            errors.add("closes_at", "before_open", "The ad must close after it opens.");
        }
        errors.into_result()?;
        match (channel, title, body, opens, closes) {
            (Some(channel), Some(title), Some(body_markdown), Some(opens_at), Some(closes_at)) => {
                Ok(AdDraft {
                    code: code.to_string(),
                    channel,
                    title,
                    body_markdown,
                    opens_at,
                    closes_at,
                })
            }
            _ => Err(FieldErrors::single("code", "invalid", "The ad could not be read.")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ad {
    pub id: i64,
    pub study_id: i64,
    pub code: String,
    pub channel: Channel,
    pub title: String,
    pub body_markdown: String,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub views: i64,
}

impl Ad {
    /// Why the ad takes no respondents at `now`, if it does not.
    pub fn not_open(&self, now: DateTime<Utc>) -> Option<String> {
        if self.closed_at.is_some() {
            Some("This ad has been closed by the researchers.".into())
        } else if now < self.opens_at {
            Some(format!("This ad opens on {} UTC.", self.opens_at.format("%Y-%m-%d %H:%M")))
        } else if now >= self.closes_at {
            Some(format!("This ad closed on {} UTC.", self.closes_at.format("%Y-%m-%d %H:%M")))
        } else {
            None
        }
    }
}

/// How many people an ad or a stratum brought: screened, eligible, consented.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Funnel {
    pub screened: i64,
    pub eligible: i64,
    pub consented: i64,
}

/// A purposive quota on one screening answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stratum {
    pub id: i64,
    pub study_id: i64,
    pub question_key: String,
    pub value: String,
    pub target: i32,
    pub cap: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StratumDraft {
    pub question_key: String,
    pub value: String,
    pub target: i32,
    pub cap: Option<i32>,
}

impl StratumDraft {
    /// Checks a quota against the study's screening questionnaire: the question must
    /// be one with a single answer (a choice, yes/no, a whole number) and the value
    /// one it can take.
    pub fn parse(
        question: &str,
        value: &str,
        target: i64,
        cap: Option<i64>,
        screening: Option<&FormDefinition>,
    ) -> Result<StratumDraft, FieldErrors> {
        let mut errors = FieldErrors::new();
        let Some(def) = screening else {
            return Err(FieldErrors::single(
                "question",
                "no_screening",
                "Attach a screening questionnaire first: strata are defined on its answers.",
            ));
        };
        match def.question(question) {
            None => errors.add("question", "unknown", format!("`{question}` is not a question of {}.", def.key)),
            Some(q) => match q.kind {
                QuestionType::SingleChoice if q.choice_label(value).is_none() => errors.add(
                    "value",
                    "unknown_choice",
                    format!(
                        "'{value}' is not a choice of `{question}` ({}).",
                        q.choices.iter().map(|c| c.value.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                ),
                QuestionType::YesNo if value != "true" && value != "false" => {
                    errors.add("value", "invalid", "A yes/no question's value is true or false.")
                }
                QuestionType::Integer | QuestionType::Scale if value.parse::<i64>().is_err() => {
                    errors.add("value", "invalid", "This question's value is a whole number.")
                }
                QuestionType::SingleChoice | QuestionType::YesNo | QuestionType::Integer | QuestionType::Scale => {}
                other => errors.add(
                    "question",
                    "not_stratifiable",
                    format!("A {other} question cannot define a stratum; use a choice, yes/no or whole number."),
                ),
            },
        }
        let target = i32::try_from(target).ok().filter(|t| (0..=100_000).contains(t));
        if target.is_none() {
            errors.add("target", "invalid", "Target must be a whole number from 0 to 100000.");
        }
        let cap = match cap {
            None => None,
            Some(c) => match i32::try_from(c).ok().filter(|c| (1..=100_000).contains(c)) {
                Some(c) => Some(c),
                None => {
                    errors.add("cap", "invalid", "Cap must be a whole number from 1 to 100000.");
                    None
                }
            },
        };
        errors.into_result()?;
        Ok(StratumDraft {
            question_key: question.to_string(),
            value: value.to_string(),
            target: target.unwrap_or(0),
            cap,
        })
    }
}

/// The text a stratum's `value` is compared with.
pub fn stratum_value(answer: &Answer) -> Option<String> {
    match answer {
        Answer::Choice(s) | Answer::Text(s) => Some(s.clone()),
        Answer::Bool(b) => Some(b.to_string()),
        Answer::Number(n) if n.fract() == 0.0 => Some(format!("{n:.0}")),
        _ => None,
    }
}

/// The first stratum the screening answers fall in.
pub fn matching<'a>(strata: &'a [Stratum], answers: &Answers) -> Option<&'a Stratum> {
    strata.iter().find(|s| {
        answers.get(&s.question_key).and_then(stratum_value).is_some_and(|v| v == s.value)
    })
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use serde_json::json;

    use super::*;
    use crate::domain::questionnaire::answers::{Mode, validate};
    use crate::domain::questionnaire::build;
    use crate::domain::questionnaire::tests::{form, q};

    fn screening() -> FormDefinition {
        let mut pick = q("platform", "single_choice");
        pick.choices = Some("platforms".into());
        build(form(vec![q("enrolled", "yes_no"), pick, q("notes", "text")]), "h".into())
            .unwrap_or_else(|e| panic!("{:?}", e.messages()))
    }

    #[test]
    fn ads_are_checked() {
        let ok = AdDraft::parse(
            "moodle-mbbs",
            "lms",
            "Join us",
            "Text",
            "2026-01-01T00:00:00Z",
            "2026-02-01T00:00:00+10:00",
        );
        assert!(ok.is_ok(), "{ok:?}");
        let e = AdDraft::parse("No Spaces", "radio", " ", "", "yesterday", "2025-01-01T00:00:00Z")
            .err()
            .map(|e| e.messages())
            .unwrap_or_default();
        assert_eq!(
            e.keys().collect::<Vec<_>>(),
            ["body_markdown", "channel", "code", "opens_at", "title"]
        );
        let e = AdDraft::parse(
            "abc",
            "email",
            "T",
            "B",
            "2026-02-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
        )
        .err()
        .map(|e| e.messages())
        .unwrap_or_default();
        assert!(e.contains_key("closes_at"));
    }

    #[test]
    fn an_ad_is_open_in_its_window_until_closed() {
        let now = Utc::now();
        let mut ad = Ad {
            id: 1,
            study_id: 1,
            code: "abc".into(),
            channel: Channel::Lms,
            title: "T".into(),
            body_markdown: "B".into(),
            opens_at: now - Duration::days(1),
            closes_at: now + Duration::days(1),
            closed_at: None,
            views: 0,
        };
        assert_eq!(ad.not_open(now), None);
        assert!(ad.not_open(now - Duration::days(2)).is_some_and(|m| m.contains("opens")));
        assert!(ad.not_open(now + Duration::days(1)).is_some_and(|m| m.contains("closed on")));
        ad.closed_at = Some(now);
        assert!(ad.not_open(now).is_some_and(|m| m.contains("closed by")));
    }

    #[test]
    fn strata_fit_the_screening_questions() {
        let def = screening();
        assert!(StratumDraft::parse("platform", "twitter", 12, Some(14), Some(&def)).is_ok());
        assert!(StratumDraft::parse("enrolled", "true", 1, None, Some(&def)).is_ok());
        let fields = |r: Result<StratumDraft, FieldErrors>| {
            r.err().map(|e| e.messages().into_keys().collect::<Vec<_>>()).unwrap_or_default()
        };
        assert_eq!(
            fields(StratumDraft::parse("platform", "myspace", 1, None, Some(&def))),
            ["value"]
        );
        assert_eq!(fields(StratumDraft::parse("enrolled", "yes", 1, None, Some(&def))), ["value"]);
        assert_eq!(fields(StratumDraft::parse("notes", "x", 1, None, Some(&def))), ["question"]);
        assert_eq!(
            fields(StratumDraft::parse("shoe", "x", -1, Some(0), Some(&def))),
            ["cap", "question", "target"]
        );
        assert_eq!(fields(StratumDraft::parse("platform", "twitter", 1, None, None)), ["question"]);
    }

    #[test]
    fn answers_find_their_stratum() {
        let def = screening();
        let strata = vec![
            Stratum {
                id: 1,
                study_id: 1,
                question_key: "platform".into(),
                value: "twitter".into(),
                target: 1,
                cap: None,
            },
            Stratum {
                id: 2,
                study_id: 1,
                question_key: "enrolled".into(),
                value: "true".into(),
                target: 1,
                cap: None,
            },
        ];
        let read = |v: serde_json::Value| {
            let serde_json::Value::Object(m) = v else { panic!() };
            validate(&def, &m, Mode::STRICT).unwrap_or_else(|e| panic!("{:?}", e.messages()))
        };
        assert_eq!(
            matching(&strata, &read(json!({"platform": "twitter", "enrolled": true})))
                .map(|s| s.id),
            Some(1)
        );
        assert_eq!(
            matching(&strata, &read(json!({"platform": "facebook", "enrolled": true})))
                .map(|s| s.id),
            Some(2)
        );
        assert_eq!(matching(&strata, &read(json!({"enrolled": false}))), None);
    }
}
