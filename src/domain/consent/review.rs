//! Knowledge review: single-choice questions on the explanatory statement that a
//! participant answers correctly before signing. The questions belong to the
//! approved version (its hash covers them); each answer is an attempt, kept, so the
//! signed record says per question whether it was right the first time, and the
//! committee sees which part of the statement people misread.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::domain::fields::{FieldError, FieldErrors, required_text};

pub const MAX_CHECKS: usize = 20;
pub const MAX_OPTIONS: usize = 8;
pub const MAX_TRIES_LIMIT: u32 = 20;
/// Wrong answers to one question after which even a version without `max_tries`
/// asks the participant to talk to the researchers (and stops keeping answers).
pub const UNLIMITED_TRIES_CAP: u32 = 50;

/// A version's knowledge review: its questions and how many wrong answers a
/// question allows (`None`: as many as needed). Empty when the version asks none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub checks: Vec<Check>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tries: Option<u32>,
}

impl Review {
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty()
    }

    /// Where a participant stands, from their attempts (oldest first); those before
    /// `fresh_from` do not count towards the limit (new tries were allowed).
    pub fn progress(&self, attempts: &[Attempt], fresh_from: usize) -> Progress {
        Progress::since(&self.checks, self.max_tries, attempts, fresh_from)
    }
}

/// One knowledge-review question of a consent-form version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub key: String,
    pub question: String,
    pub options: Vec<String>,
    /// The correct option, word for word.
    pub answer: String,
    /// Shown after a wrong answer: where the statement says it.
    pub explanation: String,
}

/// The raw fields of a question as a request or a file carries them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct CheckInput {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub question: String,
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub answer: String,
    #[serde(default)]
    pub explanation: String,
}

/// Checks every question of a draft, collecting errors under `checks[i].<field>`.
pub fn parse_checks(inputs: &[CheckInput], errors: &mut FieldErrors) -> Vec<Check> {
    if inputs.len() > MAX_CHECKS {
        errors.add(
            "checks",
            "too_many",
            format!("A consent form has at most {MAX_CHECKS} knowledge-review questions."),
        );
    }
    let mut seen = HashSet::new();
    let mut checks = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let at = |f: &str| format!("checks[{i}].{f}");
        let key = input.key.trim();
        let key_ok = !key.is_empty()
            && key.len() <= 64
            && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            errors.add(
                &at("key"),
                "invalid_key",
                "Question keys are lower-case letters, digits and underscores.",
            );
        } else if !seen.insert(key.to_string()) {
            errors.add(&at("key"), "duplicate_key", format!("Question key {key} is used twice."));
        }
        let question =
            errors.take(&at("question"), required_text(&input.question, "Question", 1000));
        let explanation = errors.take(
            &at("explanation"),
            required_text(&input.explanation, "The explanation shown after a wrong answer", 2000),
        );
        let options = errors.take(&at("options"), parse_options(&input.options));
        let answer = input.answer.trim();
        let answer_ok = options.as_ref().is_none_or(|o| o.iter().any(|x| x == answer));
        if answer.is_empty() {
            errors.add(&at("answer"), "required", "Say which option is the correct answer.");
        } else if !answer_ok {
            errors.add(
                &at("answer"),
                "not_an_option",
                format!(
                    "The correct answer \"{answer}\" is not one of the options, word for word."
                ),
            );
        }
        if let (true, Some(question), Some(options), Some(explanation)) =
            (key_ok, question, options, explanation)
        {
            checks.push(Check {
                key: key.to_string(),
                question,
                options,
                answer: answer.to_string(),
                explanation,
            });
        }
    }
    checks
}

fn parse_options(raw: &[String]) -> Result<Vec<String>, FieldError> {
    let options: Vec<String> =
        raw.iter().map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect();
    if options.len() < 2 {
        return Err(FieldError::new("too_few", "A question needs at least two options."));
    }
    if options.len() > MAX_OPTIONS {
        return Err(FieldError::new(
            "too_many",
            format!("A question has at most {MAX_OPTIONS} options."),
        ));
    }
    if let Some(long) = options.iter().find(|o| o.chars().count() > 500) {
        return Err(FieldError::new(
            "too_long",
            format!("Keep each option under 500 characters (\"{}…\").", first_words(long)),
        ));
    }
    let mut seen = HashSet::new();
    if let Some(twice) = options.iter().find(|o| !seen.insert(o.as_str())) {
        return Err(FieldError::new("duplicate_option", format!("\"{twice}\" is listed twice.")));
    }
    Ok(options)
}

fn first_words(s: &str) -> String {
    s.chars().take(40).collect()
}

/// How many wrong answers a question allows before the participant is asked to talk
/// to the researchers: `None` (empty or 0) for as many tries as they need.
pub fn parse_max_tries(raw: Option<u32>, has_checks: bool) -> Result<Option<u32>, FieldError> {
    match raw.filter(|n| *n > 0) {
        None => Ok(None),
        Some(_) if !has_checks => Err(FieldError::new(
            "max_tries_without_checks",
            "A number of tries only applies to knowledge-review questions; add one or leave it empty.",
        )),
        Some(n) if n > MAX_TRIES_LIMIT => Err(FieldError::new(
            "too_many",
            format!("Allow at most {MAX_TRIES_LIMIT} tries, or leave it empty for no limit."),
        )),
        Some(n) => Ok(Some(n)),
    }
}

/// One answer given to one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub key: String,
    pub answer: String,
    pub correct: bool,
}

/// Where a participant stands on one question, from their attempts in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Standing {
    pub key: String,
    pub tries: u32,
    pub correct: bool,
    /// `Some` once answered at least once: whether the first answer was right.
    pub first_try_correct: Option<bool>,
    /// The last wrong answer, while the question is still open.
    pub last_wrong: Option<String>,
    /// Wrong `max_tries` times: the participant must talk to the researchers.
    pub locked: bool,
}

/// Where a participant stands on every question of a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub standings: Vec<Standing>,
}

impl Progress {
    /// Reads `attempts` (oldest first) against the questions. Attempts after the
    /// first correct answer of a question do not count.
    pub fn of(checks: &[Check], max_tries: Option<u32>, attempts: &[Attempt]) -> Self {
        Self::since(checks, max_tries, attempts, 0)
    }

    /// As [`Progress::of`], with only the attempts from `fresh_from` on counting
    /// towards the limit of tries: the researchers allowed new tries after the
    /// ones before. Every attempt still counts in the tries a question took.
    pub fn since(
        checks: &[Check],
        max_tries: Option<u32>,
        attempts: &[Attempt],
        fresh_from: usize,
    ) -> Self {
        let standings = checks
            .iter()
            .map(|c| {
                let mut s = Standing {
                    key: c.key.clone(),
                    tries: 0,
                    correct: false,
                    first_try_correct: None,
                    last_wrong: None,
                    locked: false,
                };
                let mut counted = 0;
                for (i, a) in attempts.iter().enumerate().filter(|(_, a)| a.key == c.key) {
                    if s.correct {
                        break;
                    }
                    s.tries += 1;
                    counted += u32::from(i >= fresh_from);
                    s.first_try_correct.get_or_insert(a.correct);
                    s.correct = a.correct;
                    s.last_wrong = (!a.correct).then(|| a.answer.clone());
                }
                s.locked = !s.correct && counted >= max_tries.unwrap_or(UNLIMITED_TRIES_CAP);
                s
            })
            .collect();
        Self { standings }
    }

    /// Every question answered correctly (true when there are none).
    pub fn passed(&self) -> bool {
        self.standings.iter().all(|s| s.correct)
    }

    /// A question ran out of tries.
    pub fn locked(&self) -> bool {
        self.standings.iter().any(|s| s.locked)
    }

    pub fn get(&self, key: &str) -> Option<&Standing> {
        self.standings.iter().find(|s| s.key == key)
    }

    /// What the signed record keeps of the review.
    pub fn outcomes(&self, checks: &[Check]) -> Vec<CheckOutcome> {
        checks
            .iter()
            .zip(&self.standings)
            .map(|(c, s)| CheckOutcome {
                key: c.key.clone(),
                question: c.question.clone(),
                tries: s.tries,
                first_try_correct: s.first_try_correct.unwrap_or(false),
            })
            .collect()
    }
}

/// One question's result as the signed record keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckOutcome {
    pub key: String,
    pub question: String,
    /// Answers given until the right one (1 when right the first time).
    pub tries: u32,
    pub first_try_correct: bool,
}

impl CheckOutcome {
    /// How the question went, in words (the PDF and the consent story).
    pub fn in_words(&self) -> String {
        match (self.first_try_correct, self.tries) {
            (true, _) => "Correct at the first try.".into(),
            (false, n) => format!("Correct after {n} tries (the first answer was not)."),
        }
    }
}

/// Grades a submission: the attempts to keep, one per question still open. Every
/// open question needs an answer that is one of its options; a submission that
/// fails that is refused whole, so nothing of it is counted.
pub fn grade(
    checks: &[Check],
    progress: &Progress,
    answers: &BTreeMap<String, String>,
) -> Result<Vec<Attempt>, FieldErrors> {
    let mut errors = FieldErrors::new();
    for key in answers.keys() {
        if !checks.iter().any(|c| &c.key == key) {
            errors.add(
                &format!("checks.{key}"),
                "unknown_check",
                format!("{key} is not a question of this consent form."),
            );
        }
    }
    if progress.locked() {
        return Err(FieldErrors::single(
            "checks",
            "no_tries_left",
            "You have used every try on a question: please talk to the researchers before you sign.",
        ));
    }
    let mut attempts = Vec::new();
    for c in checks {
        if progress.get(&c.key).is_some_and(|s| s.correct) {
            continue;
        }
        let field = format!("checks.{}", c.key);
        match answers.get(&c.key).map(|a| a.trim()).filter(|a| !a.is_empty()) {
            None => errors.add(&field, "required", format!("Choose an answer to: {}", c.question)),
            Some(a) if !c.options.iter().any(|o| o == a) => errors.add(
                &field,
                "not_an_option",
                format!("Choose one of the answers offered to: {}", c.question),
            ),
            Some(a) => attempts.push(Attempt {
                key: c.key.clone(),
                answer: a.to_string(),
                correct: a == c.answer,
            }),
        }
    }
    if errors.is_empty() { Ok(attempts) } else { Err(errors) }
}

/// Per question of a version: how many people answered it and how many were right
/// the first time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FirstTryRate {
    pub key: String,
    pub question: String,
    pub answered: u32,
    pub first_try_correct: u32,
}

impl FirstTryRate {
    /// The share right the first time, in whole percent (`None` before anyone answered).
    pub fn percent(&self) -> Option<u32> {
        (self.answered > 0).then(|| {
            ((u64::from(self.first_try_correct) * 100 + u64::from(self.answered) / 2)
                / u64::from(self.answered)) as u32
        })
    }
}

/// The first-try rates of one consent-form version's questions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionRates {
    pub version: String,
    pub rates: Vec<FirstTryRate>,
}

/// First-try rates of a version's questions over every participant's first answers:
/// `first` maps each participant to their first attempt per question.
pub fn first_try_rates<'a>(
    checks: &[Check],
    first: impl IntoIterator<Item = &'a Attempt>,
) -> Vec<FirstTryRate> {
    let mut rates: Vec<FirstTryRate> = checks
        .iter()
        .map(|c| FirstTryRate {
            key: c.key.clone(),
            question: c.question.clone(),
            answered: 0,
            first_try_correct: 0,
        })
        .collect();
    for a in first {
        if let Some(r) = rates.iter_mut().find(|r| r.key == a.key) {
            r.answered += 1;
            r.first_try_correct += u32::from(a.correct);
        }
    }
    rates
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn input(key: &str) -> CheckInput {
        CheckInput {
            key: key.into(),
            question: format!("Question {key}?"),
            options: vec!["Yes".into(), "No".into()],
            answer: "No".into(),
            explanation: "The statement says no.".into(),
        }
    }

    fn checks() -> Vec<Check> {
        let mut e = FieldErrors::new();
        let c = parse_checks(&[input("a"), input("b")], &mut e);
        assert!(e.is_empty(), "{e:?}");
        c
    }

    fn attempt(key: &str, answer: &str) -> Attempt {
        Attempt { key: key.into(), answer: answer.into(), correct: answer == "No" }
    }

    #[test]
    fn every_bad_field_of_a_question_is_named() {
        let mut e = FieldErrors::new();
        let bad = [
            CheckInput { key: "A B".into(), ..input("x") },
            CheckInput { options: vec!["Only".into(), " ".into()], ..input("y") },
            CheckInput { answer: "Maybe".into(), ..input("z") },
            CheckInput { question: " ".into(), explanation: String::new(), ..input("z") },
            CheckInput { options: vec!["Yes".into(), "Yes ".into()], ..input("w") },
        ];
        let parsed = parse_checks(&bad, &mut e);
        assert!(parsed.len() <= 2);
        for f in [
            "checks[0].key",
            "checks[1].options",
            "checks[2].answer",
            "checks[3].key",
            "checks[3].question",
            "checks[3].explanation",
            "checks[4].options",
        ] {
            assert!(e.contains(f), "{f} missing from {e:?}");
        }
    }

    #[test]
    fn tries_are_bounded_and_need_questions() {
        assert_eq!(parse_max_tries(None, true), Ok(None));
        assert_eq!(parse_max_tries(Some(0), false), Ok(None));
        assert_eq!(parse_max_tries(Some(3), true), Ok(Some(3)));
        assert!(parse_max_tries(Some(3), false).is_err());
        assert!(parse_max_tries(Some(21), true).is_err());
    }

    #[test]
    fn progress_reads_attempts_in_order() {
        let c = checks();
        let p =
            Progress::of(&c, None, &[attempt("a", "Yes"), attempt("a", "No"), attempt("b", "No")]);
        assert!(p.passed());
        let a = p.get("a").cloned().unwrap_or_else(|| panic!("a"));
        assert_eq!((a.tries, a.first_try_correct, a.last_wrong), (2, Some(false), None));
        let b = p.get("b").cloned().unwrap_or_else(|| panic!("b"));
        assert_eq!((b.tries, b.first_try_correct), (1, Some(true)));
        assert_eq!(
            p.outcomes(&c).iter().map(|o| (o.tries, o.first_try_correct)).collect::<Vec<_>>(),
            [(2, false), (1, true)]
        );

        let open = Progress::of(&c, Some(2), &[attempt("a", "Yes")]);
        assert!(!open.passed() && !open.locked());
        assert_eq!(open.get("a").and_then(|s| s.last_wrong.clone()), Some("Yes".into()));
        let two_wrong = [attempt("a", "Yes"), attempt("a", "Yes")];
        let locked = Progress::of(&c, Some(2), &two_wrong);
        assert!(locked.locked());
        let reopened = Progress::since(&c, Some(2), &two_wrong, 2);
        assert!(!reopened.locked(), "new tries allowed after the first two");
        let three = [attempt("a", "Yes"), attempt("a", "Yes"), attempt("a", "No")];
        let right = Progress::since(&c, Some(2), &three, 2);
        let a = right.get("a").cloned().unwrap_or_else(|| panic!("a"));
        assert_eq!(
            (a.correct, a.tries, a.first_try_correct),
            (true, 3, Some(false)),
            "every try counts in the record"
        );
        assert!(Progress::of(&[], Some(2), &[]).passed(), "no questions: nothing to pass");
        let many: Vec<Attempt> = (0..UNLIMITED_TRIES_CAP).map(|_| attempt("a", "Yes")).collect();
        assert!(!Progress::of(&c, None, &many[1..]).locked(), "no limit set: tries go on");
        assert!(Progress::of(&c, None, &many).locked(), "until the cap that bounds what is kept");
    }

    #[test]
    fn grading_needs_an_offered_answer_to_every_open_question() {
        let c = checks();
        let p = Progress::of(&c, None, &[attempt("a", "No")]);
        let answers = |pairs: &[(&str, &str)]| {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let graded = grade(&c, &p, &answers(&[("b", "Yes")])).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(graded, [attempt("b", "Yes")], "a question answered right is not asked again");

        let e =
            grade(&c, &Progress::of(&c, None, &[]), &answers(&[("a", "Perhaps"), ("zz", "No")]))
                .err()
                .unwrap_or_default();
        for f in ["checks.a", "checks.b", "checks.zz"] {
            assert!(e.contains(f), "{f}: {e:?}");
        }
        let locked = Progress::of(&c, Some(1), &[attempt("a", "Yes")]);
        let e = grade(&c, &locked, &answers(&[("a", "No"), ("b", "No")])).err().unwrap_or_default();
        assert!(e.contains("checks"), "no tries left: {e:?}");
    }

    #[test]
    fn first_try_rates_count_each_first_answer() {
        let c = checks();
        let first =
            [attempt("a", "Yes"), attempt("a", "No"), attempt("b", "No"), attempt("x", "No")];
        let r = first_try_rates(&c, &first);
        assert_eq!(
            r.iter().map(|r| (r.answered, r.first_try_correct, r.percent())).collect::<Vec<_>>(),
            [(2, 1, Some(50)), (1, 1, Some(100))]
        );
        assert_eq!(first_try_rates(&c, &[])[0].percent(), None);
    }
}
