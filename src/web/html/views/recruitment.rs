//! The public ad page with its enrolment form, and what follows a submission.

use serde::Serialize;

use super::questionnaire::{SectionView, sections};
use super::{Block, ParticipantFrame, Refusal, StudyBanner, blocks};
use crate::domain::questionnaire::answers::Answers;
use crate::service::recruitment::PublicAd;

#[derive(Serialize)]
pub struct AdPage {
    #[serde(flatten)]
    pub frame: ParticipantFrame,
    pub ad: AdHead,
    pub body: Vec<Block>,
    /// The ad's public address, to share.
    pub url: String,
    pub closed_reason: Option<String>,
    pub sections: Vec<SectionView>,
    pub errors: Vec<(String, Vec<String>)>,
    pub message: Option<String>,
    pub name: String,
    pub email: String,
    pub name_errors: Vec<String>,
    pub email_errors: Vec<String>,
}

#[derive(Serialize)]
pub struct AdHead {
    pub code: String,
    pub title: String,
    pub channel: &'static str,
}

/// What the respondent typed, shown again when the form comes back.
pub struct Entered<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub answers: &'a std::collections::BTreeMap<String, Vec<String>>,
}

impl AdPage {
    pub fn new(
        p: &PublicAd,
        csrf: &str,
        url: String,
        entered: Option<Entered<'_>>,
        refusal: &Refusal,
    ) -> Self {
        let sections = p
            .screening
            .as_ref()
            .map(|d| {
                sections(
                    d,
                    &Answers::default(),
                    entered.as_ref().map(|e| e.answers),
                    &refusal.fields,
                )
            })
            .unwrap_or_default();
        // The summary lists name and e-mail first, then the questions in order.
        let errors = ["name", "email"]
            .iter()
            .map(|k| k.to_string())
            .chain(p.screening.iter().flat_map(|d| d.questions.iter().map(|q| q.key.clone())))
            .filter_map(|k| refusal.fields.get(&k).map(|m| (k, m.clone())))
            .collect();
        Self {
            frame: ParticipantFrame::new(&p.study, csrf),
            ad: AdHead {
                code: p.ad.code.clone(),
                title: p.ad.title.clone(),
                channel: p.ad.channel.as_str(),
            },
            body: blocks(&p.ad.body_markdown),
            url,
            closed_reason: p.closed_because.clone(),
            sections,
            errors,
            message: refusal.message.clone(),
            name: entered.as_ref().map(|e| e.name.to_string()).unwrap_or_default(),
            email: entered.as_ref().map(|e| e.email.to_string()).unwrap_or_default(),
            name_errors: refusal.field("name"),
            email_errors: refusal.field("email"),
        }
    }
}

/// After enrolling: the link was mailed.
#[derive(Serialize)]
pub struct LinkSentPage {
    pub study: StudyBanner,
}

/// After screening: not eligible, and why in general terms.
#[derive(Serialize)]
pub struct NotEligiblePage {
    pub study: StudyBanner,
    pub reason: &'static str,
}
