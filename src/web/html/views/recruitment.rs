//! The public ad page with its enrolment form, and what follows a submission.

use serde::Serialize;

use super::questionnaire::{SectionView, sections};
use super::study::{AdRow, StratumRow};
use super::{Block, ParticipantFrame, Refusal, StudyBanner, blocks};
use super::{FormView, StaffFrame};
use crate::domain::questionnaire::answers::Answers;
use crate::domain::questionnaire::{FormDefinition, QuestionType};
use crate::domain::recruitment::{Ad, Channel, Funnel, Stratum};
use crate::domain::study::Study;
use crate::service::recruitment::PublicAd;
use crate::web::html::recruitment::{AdForm, StratumForm};

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
        let order: Vec<(String, String)> =
            [("name", "Your name"), ("email", "Your e-mail address")]
                .iter()
                .map(|(k, l)| (k.to_string(), l.to_string()))
                .chain(
                    p.screening
                        .iter()
                        .flat_map(|d| d.questions.iter().map(|q| (q.key.clone(), q.label.clone()))),
                )
                .collect();
        let errors = refusal.in_page_order(&order);
        Self {
            frame: ParticipantFrame::new(&p.study, csrf).at(format!("/ads/{}", p.ad.code)),
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
    /// The ad the visitor came from: where the logo leads.
    pub home: String,
}

/// After screening: not eligible, and why in general terms.
#[derive(Serialize)]
pub struct NotEligiblePage {
    pub study: StudyBanner,
    pub reason: &'static str,
    /// The ad's page, to go back and correct an answer given by mistake.
    pub home: String,
}

/// An ad on the recruitment page: its funnel, public link and QR code.
#[derive(Serialize)]
pub struct AdCard {
    #[serde(flatten)]
    pub row: AdRow,
    pub url: String,
    /// The link as a QR code (inline SVG), for slides and handouts.
    pub qr_svg: String,
    pub closed: bool,
    pub window: String,
}

/// A link as a QR code in SVG, sized for a page; empty when the link is too long
/// to encode (it never is for an ad's link).
pub fn qr_svg(link: &str) -> String {
    match qrcode::QrCode::new(link.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(160, 160)
                .quiet_zone(true)
                .build();
            svg.find("<svg").map_or(String::new(), |at| svg[at..].to_string())
        }
        Err(_) => String::new(),
    }
}

/// A stratum's choice on the form: a screening question and its answers.
#[derive(Serialize)]
pub struct StrataQuestion {
    pub key: String,
    pub label: String,
    pub answers: Vec<(String, String)>,
}

/// A study's recruitment: ads with their funnel, strata against targets, and the
/// forms that add them.
#[derive(Serialize)]
pub struct RecruitmentPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub slug: String,
    pub title: String,
    pub zone: &'static str,
    pub manages: bool,
    pub ads: Vec<AdCard>,
    pub strata: Vec<StratumRow>,
    /// The screening questionnaire's questions a stratum can be set on.
    pub questions: Vec<StrataQuestion>,
    pub channels: Vec<(&'static str, &'static str)>,
    pub ad_form: FormView<AdForm>,
    pub stratum_form: FormView<StratumForm>,
    /// The new ad's text as respondents will see it, when previewing.
    pub preview: Option<Vec<Block>>,
}

impl RecruitmentPage {
    pub fn new<'a>(
        frame: StaffFrame,
        study: &Study,
        manages: bool,
        ads: impl Iterator<Item = (&'a Ad, &'a Funnel, String)>,
        strata: &[(Stratum, Funnel)],
        screening: Option<&FormDefinition>,
        (ad_form, stratum_form): (FormView<AdForm>, FormView<StratumForm>),
    ) -> Self {
        let zone = study.timezone;
        let preview = (ad_form.values.previewing()).then(|| blocks(ad_form.values.body()));
        Self {
            frame,
            slug: study.slug.clone(),
            title: study.title.clone(),
            zone: zone.name(),
            manages,
            ads: ads
                .map(|(a, f, url)| AdCard {
                    row: AdRow::new(a, f, zone),
                    qr_svg: qr_svg(&url),
                    url,
                    closed: a.closed_at.is_some(),
                    window: format!(
                        "{} to {}",
                        zone.local(a.opens_at).format("%-d %B %Y, %H:%M"),
                        zone.local(a.closes_at).format("%-d %B %Y, %H:%M")
                    ),
                })
                .collect(),
            strata: strata.iter().map(|(s, f)| StratumRow::new(s, f)).collect(),
            questions: screening.map(strata_questions).unwrap_or_default(),
            channels: Channel::ALL.iter().map(|c| (c.as_str(), c.label())).collect(),
            ad_form,
            stratum_form,
            preview,
        }
    }
}

/// The screening questions a quota can be set on, with their answers.
fn strata_questions(d: &FormDefinition) -> Vec<StrataQuestion> {
    d.questions
        .iter()
        .filter_map(|q| {
            let answers = match q.kind {
                QuestionType::SingleChoice => {
                    q.choices.iter().map(|c| (c.value.clone(), c.label.clone())).collect()
                }
                QuestionType::YesNo => {
                    vec![("true".to_string(), "Yes".to_string()), ("false".into(), "No".into())]
                }
                _ => return None,
            };
            Some(StrataQuestion { key: q.key.clone(), label: q.label.clone(), answers })
        })
        .collect()
}

/// The page that edits one ad.
#[derive(Serialize)]
pub struct AdEditPage {
    #[serde(flatten)]
    pub frame: StaffFrame,
    pub slug: String,
    pub title: String,
    pub zone: &'static str,
    pub code: String,
    pub channels: Vec<(&'static str, &'static str)>,
    pub form: FormView<AdForm>,
}

impl AdEditPage {
    pub fn new(frame: StaffFrame, study: &Study, ad: &Ad, form: FormView<AdForm>) -> Self {
        Self {
            frame,
            slug: study.slug.clone(),
            title: study.title.clone(),
            zone: study.timezone.name(),
            code: ad.code.clone(),
            channels: Channel::ALL.iter().map(|c| (c.as_str(), c.label())).collect(),
            form,
        }
    }
}
