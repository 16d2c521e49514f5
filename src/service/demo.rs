//! The demo: the seed study ("Social media use in medical education", approved by
//! the Monash University Human Research Ethics Committee, CF15/2639-2015001090) with
//! a staff account for every role. Loading it twice changes nothing.

use chrono::{Duration, Utc};

use super::participant::{Invitation, link_for_console};
use super::{Actor, AppState};
use crate::domain::policy::StudyRole;
use crate::domain::study::{NewStudy, StudyInput};
use crate::domain::user::{Email, NewUser};
use crate::error::{AppError, AppResult};
use crate::store;

pub const DEMO_SLUG: &str = "social-media-med-ed";
pub const DEMO_TITLE: &str = "Social media use in medical education";
pub const DEMO_COMMITTEE: &str = "Monash University Human Research Ethics Committee";
pub const DEMO_REFERENCE: &str = "CF15/2639-2015001090";

/// A demo login, printed when the demo starts.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub role: &'static str,
    pub email: &'static str,
    pub name: &'static str,
    pub password: &'static str,
}

pub const DEMO_LOGINS: &[DemoLogin] = &[
    DemoLogin {
        role: "admin",
        email: "admin@demo.consentry.test",
        name: "Ada Admin",
        password: "demo-admin-password",
    },
    DemoLogin {
        role: "coordinator",
        email: "coordinator@demo.consentry.test",
        name: "Cora Ordinator",
        password: "demo-coordinator-password",
    },
    DemoLogin {
        role: "facilitator",
        email: "facilitator@demo.consentry.test",
        name: "Dan Facilitator",
        password: "demo-facilitator-password",
    },
    DemoLogin {
        role: "facilitator",
        email: "research-officer@demo.consentry.test",
        name: "Kim Research-Officer",
        password: "demo-facilitator-password",
    },
    DemoLogin {
        role: "ethics_officer",
        email: "ethics@demo.consentry.test",
        name: "Eve Ethics",
        password: "demo-ethics-password",
    },
];

/// The demo participant whose fresh link is printed at each start.
const DEMO_PARTICIPANT_EMAIL: &str = "demo.participant@student.example.edu";

/// What the demo prints: the staff logins and a participant's private link.
pub struct Demo {
    pub logins: &'static [DemoLogin],
    pub participant_link: String,
}

/// Demo participants who have signed: (name, e-mail, agrees to verbatim quotes).
const DEMO_SIGNED: &[(&str, &str, bool)] = &[
    ("Alex Nguyen", "alex.nguyen@student.example.edu", true),
    ("Sam Taylor", "sam.taylor@student.example.edu", false),
    ("Zoë O’Brien-Nguyễn", "zoe.obrien@student.example.edu", true),
];

async fn sign_demo_participants(
    state: &AppState,
    coordinator: &crate::domain::user::User,
) -> AppResult<()> {
    for (name, email, quotes) in DEMO_SIGNED {
        let invitation =
            super::participant::invite(state, coordinator, DEMO_SLUG, name, email).await?;
        let form =
            super::consent::active_form(state, invitation.participant(), &Default::default())
                .await?;
        answer_review(state, invitation.participant(), &form, !quotes).await?;
        let items = form
            .items
            .iter()
            .map(|i| (i.key.clone(), i.required || (*quotes && i.key == "verbatim_quotes")))
            .collect();
        let request = crate::domain::consent::SignRequest {
            version: form.version.clone(),
            form_hash: form.form_hash.clone(),
            items,
            typed_name: name.to_string(),
            drawn_svg: None,
            read_confirmed: true,
        };
        super::consent::give(state, invitation.participant(), request).await?;
    }
    Ok(())
}

/// A demo participant's knowledge review: every question right, after one wrong
/// answer to the first when `slip` (so the committee's first-try rates show one).
async fn answer_review(
    state: &AppState,
    participant: &crate::domain::participant::Participant,
    form: &crate::domain::consent::ConsentForm,
    slip: bool,
) -> AppResult<()> {
    let send =
        |pick: &dyn Fn(&crate::domain::consent::review::Check) -> String| super::consent::Answers {
            version: form.version.clone(),
            form_hash: form.form_hash.clone(),
            answers: form.review.checks.iter().map(|c| (c.key.clone(), pick(c))).collect(),
        };
    let Some(first) = form.review.checks.first().map(|c| c.key.as_str()) else {
        return Ok(());
    };
    if slip {
        let wrong = |c: &crate::domain::consent::review::Check| match c.key == first {
            true => c.options.iter().find(|o| **o != c.answer).cloned().unwrap_or_default(),
            false => c.answer.clone(),
        };
        super::consent::answer(state, participant, send(&wrong)).await?;
    }
    let right = |c: &crate::domain::consent::review::Check| c.answer.clone();
    super::consent::answer(state, participant, send(&right)).await?;
    Ok(())
}

/// The seed study's screening and after-consent questionnaires; the signed demo
/// participants answer the demographics.
async fn attach_instruments(
    state: &AppState,
    coordinator: &crate::domain::user::User,
) -> AppResult<()> {
    use super::questionnaire::{Attach, Submit};
    let instruments = [
        ("screening-medical-students", "screening", Some("enrolled_in_medicine == true")),
        ("demographics", "after_consent", None),
        ("platform-usage", "after_consent", None),
    ];
    for (key, stage, eligible_if) in instruments {
        let req = Attach {
            key: key.to_string(),
            version: 1,
            stage: stage.to_string(),
            eligible_if: eligible_if.map(str::to_string),
        };
        super::questionnaire::attach(state, coordinator, DEMO_SLUG, req).await?;
    }
    let answers = [
        serde_json::json!({"gender": "female", "age": 21, "entry_pathway": "undergraduate", "year_of_course": 3}),
        serde_json::json!({"gender": "male", "age": 27, "entry_pathway": "graduate", "year_of_course": 2,
                           "prior_degree": "Bachelor of Biomedical Science"}),
    ];
    let study =
        store::study::find_by_slug(state.db.conn(), DEMO_SLUG).await?.ok_or(AppError::NotFound)?;
    for ((_, email, _), answer) in DEMO_SIGNED.iter().zip(answers) {
        let email = Email::parse(email).map_err(|e| AppError::Internal(e.message))?;
        let Some(participant) =
            store::participant::find_by_email(state.db.conn(), study.id, &email).await?
        else {
            continue;
        };
        if let serde_json::Value::Object(map) = answer {
            super::questionnaire::answer(
                state,
                &participant,
                "demographics",
                &map,
                Submit::Complete,
            )
            .await?;
        }
    }
    Ok(())
}

/// The Moodle ad, quotas for both entry pathways, and a handful of respondents
/// (one of them not a medical student).
async fn recruit(state: &AppState, coordinator: &crate::domain::user::User) -> AppResult<()> {
    let now = Utc::now();
    let draft = crate::domain::recruitment::AdDraft::parse(
        DEMO_AD,
        "lms",
        "Do you use social media to study medicine?",
        "We are medical-education researchers at Monash University. We would like to hear \
         how you use Facebook, YouTube, Twitter and other platforms for your studies.\n\n\
         Join a relaxed one-hour focus group with five to eight other students on campus. \
         Light refreshments are provided.",
        &(now - Duration::days(1)).to_rfc3339(),
        &(now + Duration::days(60)).to_rfc3339(),
    );
    super::recruitment::create_ad(state, coordinator, DEMO_SLUG, draft).await?;
    for value in ["undergraduate", "graduate"] {
        super::recruitment::add_stratum(
            state,
            coordinator,
            DEMO_SLUG,
            "entry_pathway",
            value,
            12,
            None,
        )
        .await?;
    }
    let respondents = [
        ("Priya Raman", "priya.raman@student.example.edu", true, "undergraduate"),
        ("Tom Becker", "tom.becker@student.example.edu", true, "graduate"),
        ("Lena Park", "lena.park@student.example.edu", true, "undergraduate"),
        ("Jo Smith", "jo.smith@example.org", false, "graduate"),
    ];
    for (name, email, enrolled, pathway) in respondents {
        let answers =
            serde_json::json!({"enrolled_in_medicine": enrolled, "entry_pathway": pathway});
        if let serde_json::Value::Object(map) = answers {
            super::recruitment::enrol(state, DEMO_AD, name, email, &map).await?;
        }
    }
    Ok(())
}

/// Four focus groups, two per facilitator, in the coming weeks at 2 pm on the
/// study's clock (Melbourne); the signed demo participants placed in the first two.
async fn schedule(state: &AppState, coordinator: &crate::domain::user::User) -> AppResult<()> {
    let zone = super::study::SettingsChange {
        timezone: Some("Australia/Melbourne"),
        ..super::study::SettingsChange::default()
    };
    super::study::change_settings(state, coordinator, DEMO_SLUG, zone).await?;
    let start = (Utc::now() + Duration::days(7)).date_naive();
    let mut ids = Vec::new();
    for (n, (days, facilitator)) in [
        (0, "facilitator@demo.consentry.test"),
        (1, "facilitator@demo.consentry.test"),
        (7, "research-officer@demo.consentry.test"),
        (8, "research-officer@demo.consentry.test"),
    ]
    .into_iter()
    .enumerate()
    {
        let date = (start + Duration::days(days)).to_string();
        let session = super::focus_group::create(
            state,
            coordinator,
            DEMO_SLUG,
            super::focus_group::NewGroup {
                title: &format!("Focus group {}", n + 1),
                start: super::focus_group::Start::WallClock { date: &date, time: "14:00" },
                duration_minutes: 60,
                location: "Clayton campus, Building 15, seminar room 1.02",
                facilitator_email: facilitator,
                capacity: 8,
            },
        )
        .await?;
        ids.push(session.group.id);
    }
    for (code, group) in ["P001", "P002", "P003"].into_iter().zip([0, 0, 1]) {
        if let Some(id) = ids.get(group) {
            // A demo database from an earlier version may hold these codes withdrawn.
            match super::focus_group::add_member(state, coordinator, DEMO_SLUG, *id, code).await {
                Ok(_) | Err(AppError::Conflict(_) | AppError::Validation(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// The demo study's ad, at `/ads/moodle-mbbs`.
pub const DEMO_AD: &str = "moodle-mbbs";

/// The demo's consent form: version 1 in English and in French.
pub const DEMO_CONSENT_FILES: [&str; 2] = [
    "consent/social-media-medical-education.toml",
    "consent/social-media-medical-education.fr.toml",
];

/// Loads the demo study, its staff and its consent form (approved, so the study is
/// recruiting), and issues a fresh private link for a demo participant.
#[tracing::instrument(skip_all)]
pub async fn load(state: &AppState) -> AppResult<Demo> {
    let mut coordinator = None;
    let mut facilitators = Vec::new();
    let mut ethics = None;
    for login in DEMO_LOGINS {
        let email = Email::parse(login.email).map_err(|e| AppError::Internal(e.message))?;
        let user = match store::user::find_by_email(state.db.conn(), &email).await? {
            Some(u) => u,
            None => {
                let new = NewUser::parse(login.email, login.name, login.role, login.password)
                    .map_err(|e| AppError::Internal(format!("demo account is invalid: {e:?}")))?;
                super::user::create(state, Actor::Cli, new).await?
            }
        };
        match login.role {
            "coordinator" => coordinator = Some(user),
            "facilitator" => facilitators.push(user),
            "ethics_officer" => ethics = Some(user),
            _ => {}
        }
    }
    let coordinator =
        coordinator.ok_or_else(|| AppError::Internal("demo has no coordinator".into()))?;
    let ethics = ethics.ok_or_else(|| AppError::Internal("demo has no ethics officer".into()))?;

    if store::study::find_by_slug(state.db.conn(), DEMO_SLUG).await?.is_none() {
        let today = Utc::now().date_naive();
        let approved_on = (today - Duration::days(30)).to_string();
        let expires_on = (today + Duration::days(730)).to_string();
        let new = NewStudy::parse(&StudyInput {
            slug: DEMO_SLUG,
            title: DEMO_TITLE,
            summary: "How Australian medical students use social media for their studies: platforms, \
                      purposes, benefits and barriers, explored in four focus groups.",
            committee: DEMO_COMMITTEE,
            reference: DEMO_REFERENCE,
            approved_on: &approved_on,
            expires_on: &expires_on,
            contact_name: coordinator.name.as_str(),
            contact_email: coordinator.email.as_str(),
            identity_check: "none",
        });
        super::study::create(state, &coordinator, new).await?;
    }
    for facilitator in &facilitators {
        super::study::add_staff(
            state,
            &coordinator,
            DEMO_SLUG,
            &facilitator.email,
            StudyRole::Facilitator.as_str(),
        )
        .await?;
    }
    if super::consent::form::list(state, &coordinator, DEMO_SLUG).await?.is_empty() {
        let (study, _) = super::study::get(state, &coordinator, DEMO_SLUG).await?;
        let today = Utc::now().date_naive().to_string();
        // Version 1 in English, then its French text: each drafted and approved.
        for file in DEMO_CONSENT_FILES {
            let source = crate::forms::Source::configured(state.config.forms_dir.as_deref());
            let (path, text) = source.file(file).map_err(|e| AppError::Internal(e.to_string()))?;
            let draft =
                crate::forms::consent::draft_from_str(&path, &text, "1").map_err(|errors| {
                    AppError::Internal(
                        errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
                    )
                })?;
            let language = draft.language.clone();
            super::consent::form::draft(state, &coordinator, DEMO_SLUG, Ok(draft)).await?;
            super::consent::form::approve(
                state,
                &ethics,
                DEMO_SLUG,
                "1",
                Some(&language),
                &study.ethics.reference,
                &today,
            )
            .await?;
        }
        super::study::change_status(state, &coordinator, DEMO_SLUG, "recruiting", None).await?;
        sign_demo_participants(state, &coordinator).await?;
    }
    if super::questionnaire::list(state, &coordinator, DEMO_SLUG).await?.is_empty() {
        attach_instruments(state, &coordinator).await?;
    }
    if super::recruitment::ads(state, &coordinator, DEMO_SLUG).await?.is_empty() {
        recruit(state, &coordinator).await?;
    }
    if super::focus_group::list(state, &coordinator, DEMO_SLUG).await?.is_empty() {
        schedule(state, &coordinator).await?;
    }
    let (study, _) = super::study::get(state, &coordinator, DEMO_SLUG).await?;
    let email = Email::parse(DEMO_PARTICIPANT_EMAIL)
        .map_err(|e| AppError::Internal(format!("demo address: {}", e.message)))?;
    let known = store::participant::find_by_email(state.db.conn(), study.id, &email).await?;
    let participant_link = match known {
        Some(participant) => link_for_console(state, &participant, &study).await?,
        None => {
            let invitation = super::participant::invite(
                state,
                &coordinator,
                DEMO_SLUG,
                "Demo Participant",
                DEMO_PARTICIPANT_EMAIL,
            )
            .await?;
            match invitation {
                Invitation::New { portal_url, .. } => portal_url,
                Invitation::Known { participant } => {
                    link_for_console(state, &participant, &study).await?
                }
            }
        }
    };
    Ok(Demo { logins: DEMO_LOGINS, participant_link })
}
