//! Questionnaires attached to a study and the answers to them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::questionnaire::{FormDefinition, Instrument, Question};
use crate::service::questionnaire::Questionnaire;

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct AttachInstrument {
    /// The questionnaire's key in the forms folder, e.g. `demographics`.
    pub key: String,
    /// The questionnaire's version, e.g. `1`.
    pub version: i64,
    /// `screening` (answered with an ad's enrolment) or `after_consent`.
    pub stage: String,
    /// For a screening questionnaire: who is eligible, e.g. `enrolled_in_medicine == true`.
    #[schema(nullable = false)]
    pub eligible_if: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct InstrumentDto {
    pub key: String,
    pub version: u32,
    pub title: String,
    /// SHA-256 of the form file the answers are given against.
    pub form_hash: String,
    pub stage: String,
    pub eligible_if: Option<String>,
    pub questions: usize,
}

#[derive(Serialize, ToSchema)]
pub struct QuestionnaireSummaryDto {
    pub key: String,
    pub version: u32,
    pub title: String,
    /// `not_started`, `in_progress` or `complete`.
    pub status: String,
}

#[derive(Serialize, ToSchema)]
pub struct ChoiceDto {
    pub value: String,
    pub label: String,
}

#[derive(Serialize, ToSchema)]
pub struct QuestionDto {
    pub key: String,
    /// text | long_text | integer | number | single_choice | multi_choice | scale | yes_no | date | email
    #[serde(rename = "type")]
    pub kind: String,
    pub label: String,
    pub help: Option<String>,
    pub required: bool,
    pub section: Option<String>,
    pub choices: Vec<ChoiceDto>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub pattern: Option<String>,
    pub min_choices: Option<usize>,
    pub max_choices: Option<usize>,
    /// When set, the question is asked only when this holds (SPEC §9).
    pub show_if: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct QuestionnaireDto {
    pub key: String,
    pub version: u32,
    pub title: String,
    pub description: Option<String>,
    pub form_hash: String,
    /// `not_started`, `in_progress` or `complete`.
    pub status: String,
    pub revision: i32,
    pub questions: Vec<QuestionDto>,
    /// The answers saved so far, by question key.
    #[schema(value_type = Object)]
    pub answers: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct SubmitAnswers {
    /// Question key to answer: text, number, boolean or list of choices (SPEC §9).
    #[schema(value_type = Object)]
    pub answers: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
pub struct AnswersSavedDto {
    pub key: String,
    pub version: u32,
    pub form_hash: String,
    /// `complete`.
    pub status: String,
    /// 1 for the first save, raised by each revision.
    pub revision: i32,
    #[schema(value_type = Object)]
    pub answers: serde_json::Map<String, serde_json::Value>,
}

impl From<&Question> for QuestionDto {
    fn from(q: &Question) -> Self {
        QuestionDto {
            key: q.key.clone(),
            kind: q.kind.as_str().to_string(),
            label: q.label.clone(),
            help: q.help.clone(),
            required: q.required,
            section: q.section.clone(),
            choices: q
                .choices
                .iter()
                .map(|c| ChoiceDto { value: c.value.clone(), label: c.label.clone() })
                .collect(),
            min: q.min,
            max: q.max,
            min_length: q.min_length,
            max_length: Some(q.length_limit()).filter(|_| q.kind.is_textual()),
            pattern: q.pattern.as_ref().map(|p| p.source.clone()),
            min_choices: q.min_choices,
            max_choices: q.max_choices,
            show_if: q.show_if.as_ref().map(|(s, _)| s.clone()),
        }
    }
}

impl InstrumentDto {
    pub fn new(i: &Instrument, d: &FormDefinition) -> Self {
        Self {
            key: i.key.clone(),
            version: i.version,
            title: d.title.clone(),
            form_hash: i.form_hash.clone(),
            stage: i.stage.as_str().to_string(),
            eligible_if: i.eligible_if.clone(),
            questions: d.questions.len(),
        }
    }
}

impl From<&Questionnaire> for QuestionnaireSummaryDto {
    fn from(q: &Questionnaire) -> Self {
        Self {
            key: q.instrument.key.clone(),
            version: q.instrument.version,
            title: q.definition.title.clone(),
            status: q.status().to_string(),
        }
    }
}

impl From<&Questionnaire> for QuestionnaireDto {
    fn from(q: &Questionnaire) -> Self {
        Self {
            status: q.status().to_string(),
            revision: q.response.as_ref().map(|r| r.revision).unwrap_or(0),
            answers: q.answers.to_json(),
            form_hash: q.instrument.form_hash.clone(),
            ..Self::unanswered(&q.definition)
        }
    }
}

impl QuestionnaireDto {
    /// A questionnaire no one has started (the screening questions of an ad).
    pub fn unanswered(d: &FormDefinition) -> Self {
        Self {
            key: d.key.clone(),
            version: d.version,
            title: d.title.clone(),
            description: d.description.clone(),
            form_hash: d.form_hash.clone(),
            status: "not_started".into(),
            revision: 0,
            questions: d.questions.iter().map(QuestionDto::from).collect(),
            answers: serde_json::Map::new(),
        }
    }
}

impl From<&Questionnaire> for AnswersSavedDto {
    fn from(q: &Questionnaire) -> Self {
        Self {
            key: q.instrument.key.clone(),
            version: q.instrument.version,
            form_hash: q.instrument.form_hash.clone(),
            status: q.status().to_string(),
            revision: q.response.as_ref().map(|r| r.revision).unwrap_or(0),
            answers: q.answers.to_json(),
        }
    }
}
