//! Server-rendered pages for people. Every page works without JavaScript; every
//! POST form carries a CSRF token (see `CsrfForm`).

pub mod ads;
pub mod focus_group;
pub mod participant;
pub mod questionnaire;
pub mod report;
pub mod staff;
pub mod views;

pub fn routes() -> Vec<rocket::Route> {
    let mut all = staff::routes();
    all.extend(participant::routes());
    all.extend(questionnaire::routes());
    all.extend(ads::routes());
    all.extend(report::routes());
    all.extend(focus_group::routes());
    all
}
