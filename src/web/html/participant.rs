//! Participants' pages: the private link and "get a new link", their page, and the
//! coordinator's direct invitation, new link and reminders. Work without JavaScript.

use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::response::{Flash, Redirect};
use rocket::time::Duration as CookieDuration;
use rocket::{State, get, post, routes};

use super::views::participant::{NewLinkPage, PortalPage, RecordPage, RosterPage};
use super::views::{Booking, FormView, Refusal, StaffFrame};
use super::{PlainForm, outcome, outcome_on, participant_frame};
use crate::error::AppError;
use crate::service::{AppState, consent, participant};
use crate::web::errors::{PageError, PageResult};
use crate::web::guards::{CsrfForm, CsrfToken, PARTICIPANT_COOKIE, ParticipantUser, SessionUser};
use crate::web::html::page::Page;
use rocket::request::FlashMessage;

/// Exchanges the private link's token for a session cookie and moves on, so the
/// token leaves the address bar (and no page with it in its address is kept). An
/// expired or unknown link offers a new one.
#[get("/p/<token>")]
async fn link(
    state: &State<AppState>,
    cookies: &CookieJar<'_>,
    csrf: CsrfToken,
    token: &str,
) -> PageResult<Result<Redirect, (Status, Page)>> {
    match participant::authenticate(state, token).await? {
        Some(_) => {
            sign_in(state, cookies, token);
            Ok(Ok(Redirect::to("/participant")))
        }
        None => Ok(Err((Status::NotFound, new_link_page(&csrf.0, true, "", None)))),
    }
}

page_form! {
    struct LinkForm {
        email: String,
    }
}

/// "Send me a new link": the form, or (`error` aside) the same answer for every
/// address.
fn new_link_page(csrf: &str, dead_link: bool, email: &str, error: Option<&AppError>) -> Page {
    let refusal = Refusal::of(error.filter(|e| e.fields().is_some()));
    Page::render("participant/new_link", NewLinkPage::form(csrf, dead_link, email, &refusal))
}

#[get("/participant/link")]
fn new_link(csrf: CsrfToken) -> Page {
    new_link_page(&csrf.0, false, "", None)
}

#[post("/participant/link", data = "<form>")]
async fn new_link_submit(
    state: &State<AppState>,
    csrf: CsrfToken,
    form: CsrfForm<LinkForm>,
) -> PageResult<(Status, Page)> {
    match participant::request_link(state, &form.0.email).await {
        Ok(()) => Ok((Status::Ok, Page::render("participant/new_link", NewLinkPage::sent()))),
        Err(e @ AppError::Validation(_)) => Ok((
            Status::UnprocessableEntity,
            new_link_page(&csrf.0, false, &form.0.email, Some(&e)),
        )),
        Err(e) => Err(PageError(e)),
    }
}

/// Starts a participant's session on this browser from their private token, with a
/// new CSRF token.
pub(super) fn sign_in(state: &AppState, cookies: &CookieJar<'_>, token: &str) {
    let secure = state.config.public_url.starts_with("https://");
    crate::web::guards::rotate_csrf(cookies, secure);
    cookies.add_private(
        Cookie::build((PARTICIPANT_COOKIE, token.to_string()))
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .path("/")
            .max_age(CookieDuration::days(30)),
    );
}

#[get("/participant")]
async fn portal(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    flash: Option<FlashMessage<'_>>,
) -> PageResult<Page> {
    let consent::Portal { latest, steps, booked } = consent::portal(state, &me.participant).await?;
    let page = PortalPage {
        frame: participant_frame(&me, &csrf.0).told(flash),
        code: me.participant.code.clone(),
        status: me.participant.status(),
        steps,
        booked: booked.map(|g| Booking::new(&g, me.study.timezone)),
        signed_version: latest.as_ref().map(|g| g.record.form_version.clone()),
        signed_at: latest
            .as_ref()
            .map(|g| super::views::in_words_raw(&g.record.signed_at, me.study.timezone)),
    };
    Ok(Page::render("participant/portal", page))
}

page_form! {
    #[derive(Default, serde::Serialize)]
    pub struct InviteForm {
        name: String,
        email: String,
    }
}

/// The list's search: words matched against code, name, address, ad and stratum,
/// and a status.
#[derive(Default, serde::Serialize, rocket::form::FromForm)]
pub struct RosterFilter {
    pub q: Option<String>,
    pub status: Option<String>,
}

async fn roster_page(
    state: &AppState,
    session: &SessionUser,
    csrf: &str,
    flash: Option<FlashMessage<'_>>,
    slug: &str,
    filter: RosterFilter,
    refused: Option<(InviteForm, &AppError)>,
) -> PageResult<(Status, Page)> {
    let (study, capacity, entries) = participant::roster(state, &session.user, slug).await?;
    let earlier: Vec<(String, String)> = crate::service::study::list(state, &session.user)
        .await?
        .into_iter()
        .filter(|(s, c)| *c == crate::domain::policy::Capacity::Coordinator && s.id != study.id)
        .map(|(s, _)| (s.slug, s.title))
        .collect();
    let (values, refusal) = match refused {
        Some((values, e)) => (values, Some(e)),
        None => (<InviteForm as Default>::default(), None),
    };
    let frame = StaffFrame::new(&session.user, csrf.to_string(), flash);
    let coordinator = capacity == crate::domain::policy::Capacity::Coordinator;
    let form = FormView::new(values, refusal);
    let mut page = RosterPage::new(frame, &study, coordinator, &entries, filter, form);
    page.earlier_studies = earlier;
    Ok((super::status_of(refusal), Page::render("participant/roster", page)))
}

/// A study's participants, searchable; "Find a participant" (`code`) goes straight
/// to their consent story.
#[get("/staff/studies/<slug>/participants?<code>&<filter..>")]
async fn roster(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    flash: Option<FlashMessage<'_>>,
    slug: &str,
    code: Option<&str>,
    filter: RosterFilter,
) -> PageResult<Result<(Status, Page), Redirect>> {
    if let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) {
        let code: String = code.chars().filter(char::is_ascii_alphanumeric).collect();
        let to = format!("/staff/studies/{slug}/participants/{}", code.to_uppercase());
        return Ok(Err(Redirect::to(to)));
    }
    roster_page(state, &session, &csrf.0, flash, slug, filter, None).await.map(Ok)
}

/// One participant for their coordinator: steps, session and the mail sent to them.
#[get("/staff/studies/<slug>/people/<id>")]
async fn record(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    flash: Option<FlashMessage<'_>>,
    slug: &str,
    id: i64,
) -> PageResult<Page> {
    let (study, record) = participant::record(state, &session.user, slug, id).await?;
    let frame = StaffFrame::new(&session.user, csrf.0, flash);
    Ok(Page::render("participant/record", RecordPage::new(frame, &study, &record)))
}

#[post("/staff/studies/<slug>/participants", data = "<form>")]
async fn invite(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
    form: CsrfForm<InviteForm>,
) -> super::FormReply {
    let f = form.0;
    let result = participant::invite(state, &session.user, slug, &f.name, &f.email).await;
    Ok(match super::shown(result)? {
        Ok(inv) => Ok(super::done(
            format!("/staff/studies/{slug}/participants"),
            match inv {
                participant::Invitation::New { .. } => {
                    format!("An invitation with a private link was mailed to {}.", f.email.trim())
                }
                participant::Invitation::Known { .. } => format!(
                    "{} is in the study already: a new link was mailed to the address on record (the links they hold still work).",
                    f.email.trim()
                ),
            },
        )),
        Err(e) => {
            let filter = RosterFilter::default();
            let page = roster_page(state, &session, &csrf.0, None, slug, filter, Some((f, &e)));
            Err(page.await?)
        }
    })
}

page_form! {
    struct FromStudyForm {
        study: String,
    }
}

/// Invites everyone of an earlier study who agreed to be contacted about future
/// studies (and only them).
#[post("/staff/studies/<slug>/participants/from-study", data = "<form>")]
async fn invite_from_study(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    form: CsrfForm<FromStudyForm>,
) -> PageResult<Flash<Redirect>> {
    let result = participant::invite_from_study(state, &session.user, slug, &form.0.study).await;
    outcome_on(&format!("/staff/studies/{slug}/participants"), result, |r| {
        format!(
            "{} invitation(s) with a private link were mailed; {} of those who agreed are in this study already.",
            r.invited, r.already
        )
    })
}

page_form! {
    /// "Send a new link", from the study's register or from a participant's record
    /// (`back_to`: the record's id, where the answer is then shown).
    pub struct NewLinkForm {
        back_to: String,
    }
}

#[post("/staff/studies/<slug>/participants/<code>/link", data = "<form>")]
async fn send_link(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    code: &str,
    form: CsrfForm<NewLinkForm>,
) -> PageResult<Flash<Redirect>> {
    let result = participant::send_link(state, &session.user, slug, code).await;
    let back = match form.0.back_to.trim().parse::<i64>() {
        Ok(id) => format!("/staff/studies/{slug}/people/{id}"),
        Err(_) => format!("/staff/studies/{slug}"),
    };
    outcome_on(&back, result, |()| {
        format!(
            "A new link was mailed to {code}'s address on record; the links they hold still work."
        )
    })
}

page_form! {
    /// Nothing but the CSRF token.
    pub struct ReopenForm {}
}

/// New tries on the knowledge review for someone who used them all, once the
/// researchers have talked with them.
#[post("/staff/studies/<slug>/people/<id>/review/reopen", data = "<_form>")]
async fn reopen_review(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    id: i64,
    _form: CsrfForm<ReopenForm>,
) -> PageResult<Flash<Redirect>> {
    let result = crate::service::consent::reopen_review(state, &session.user, slug, id).await;
    outcome_on(&format!("/staff/studies/{slug}/people/{id}"), result, |()| {
        "They can answer the questions again, and sign once every answer is right.".to_string()
    })
}

#[post("/staff/studies/<slug>/reminders", data = "<_form>")]
async fn remind(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    _form: CsrfForm<PlainForm>,
) -> PageResult<Flash<Redirect>> {
    let result = participant::remind(state, &session.user, slug).await;
    outcome(slug, result, |n| match n {
        0 => {
            "No one needed a reminder (each person is reminded at most every 48 hours).".to_string()
        }
        1 => "A reminder was queued for 1 participant.".to_string(),
        n => format!("Reminders were queued for {n} participants."),
    })
}

pub fn routes() -> Vec<rocket::Route> {
    routes![
        link,
        new_link,
        new_link_submit,
        portal,
        roster,
        record,
        invite,
        invite_from_study,
        send_link,
        reopen_review,
        remind
    ]
}
