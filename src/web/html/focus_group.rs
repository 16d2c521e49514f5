//! Focus groups for staff: the coordinator schedules sessions, looks at the
//! planner's proposal, places participants and sends invitations; a facilitator
//! opens the session sheet of their own sessions (members, consent items, a warning
//! for anyone who did not agree to audio recording), records attendance and logs
//! the session.

use rocket::http::{ContentType, Status};
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};

use super::study::number;
use super::views::focus_group::{AvailabilityPage, CancelPage, FocusGroupsPage, SheetPage, Slot};
use super::views::{Booking, Download, FormView, Refusal, StaffFrame};
use super::{FormReply, done, outcome_on, participant_frame, shown};
use crate::domain::focus_group::when;
use crate::domain::policy::Capacity;
use crate::domain::study::Zone;
use crate::error::AppError;
use crate::service::AppState;
use crate::service::focus_group::{self, Attendance, NewGroup, Start};
use crate::web::errors::{PageError, PageResult};
use crate::web::guards::{CsrfForm, CsrfToken, ParticipantUser, SessionUser};
use crate::web::html::page::Page;
use chrono::Utc;

fn page_of(slug: &str) -> String {
    format!("/staff/studies/{slug}/focus-groups")
}

fn group_id(raw: &str) -> Result<i64, PageError> {
    raw.parse().map_err(|_| PageError(AppError::NotFound))
}

/// A refused form of the sessions page, with what was typed.
pub enum Refused<'a> {
    Schedule(ScheduleForm, &'a AppError),
    Reschedule(i64, ScheduleForm, &'a AppError),
    Place(i64, CodeForm, &'a AppError),
    Declare(CodeForm, &'a AppError),
}

impl Refused<'_> {
    fn error(&self) -> &AppError {
        match self {
            Refused::Schedule(_, e)
            | Refused::Reschedule(_, _, e)
            | Refused::Place(_, _, e)
            | Refused::Declare(_, e) => e,
        }
    }
}

async fn sessions_page(
    state: &AppState,
    session: &SessionUser,
    csrf: &str,
    flash: Option<FlashMessage<'_>>,
    slug: &str,
    plan: bool,
    refused: Option<Refused<'_>>,
) -> PageResult<(Status, Page)> {
    let user = &session.user;
    let (study, capacity, sessions) = focus_group::overview(state, user, slug).await?;
    let coordinator = capacity == Capacity::Coordinator;
    let proposal = match (plan, coordinator) {
        (true, true) => Some(focus_group::plan(state, user, slug).await?),
        _ => None,
    };
    let conflicts = focus_group::conflicts(state, user, slug).await?;
    let status = super::status_of(refused.as_ref().map(Refused::error));
    let frame = StaffFrame::new(user, csrf.to_string(), flash);
    let mut page = FocusGroupsPage::new(frame, &study, coordinator, &sessions, proposal, refused);
    page.conflicts = conflicts
        .iter()
        .map(|c| {
            let mine = c.facilitator_email == user.email;
            (c.participant_code.clone(), c.facilitator_email.clone(), mine)
        })
        .collect();
    Ok((status, Page::render("focus_group/sessions", page)))
}

#[get("/staff/studies/<slug>/focus-groups?<plan>")]
async fn page(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    flash: Option<FlashMessage<'_>>,
    slug: &str,
    plan: Option<bool>,
) -> PageResult<(Status, Page)> {
    let plan = plan.unwrap_or(false);
    sessions_page(state, &session, &csrf.0, flash, slug, plan, None).await
}

page_form! {
    #[derive(Default, serde::Serialize)]
    pub struct ScheduleForm {
        title: String,
        /// The start as a date and a time of day on the study's clock.
        starts_on: String,
        starts_time: String,
        duration_minutes: String,
        location: String,
        facilitator_email: String,
        capacity: String,
    }
}

impl ScheduleForm {
    /// The session as typed.
    fn group(&self) -> NewGroup<'_> {
        NewGroup {
            title: &self.title,
            start: Start::WallClock { date: &self.starts_on, time: &self.starts_time },
            duration_minutes: number(&self.duration_minutes),
            location: &self.location,
            facilitator_email: &self.facilitator_email,
            capacity: number(&self.capacity),
        }
    }

    /// A new session's form: an hour, eight places, at two in the afternoon.
    pub fn blank() -> Self {
        Self {
            duration_minutes: "60".into(),
            capacity: "8".into(),
            starts_time: "14:00".into(),
            ..<Self as Default>::default()
        }
    }

    /// The form filled with a session as it stands, its start on `zone`'s clock.
    pub fn of(g: &crate::domain::focus_group::FocusGroup, zone: Zone) -> Self {
        let start = zone.local(g.starts_at);
        Self {
            csrf_token: String::new(),
            title: g.title.clone(),
            starts_on: start.format("%Y-%m-%d").to_string(),
            starts_time: start.format("%H:%M").to_string(),
            duration_minutes: g.duration_minutes.to_string(),
            location: g.location.clone(),
            facilitator_email: g.facilitator_email.clone(),
            capacity: g.capacity.to_string(),
        }
    }
}

#[post("/staff/studies/<slug>/focus-groups", data = "<form>")]
async fn schedule(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
    form: CsrfForm<ScheduleForm>,
) -> FormReply {
    let f = form.0;
    Ok(match shown(focus_group::create(state, &session.user, slug, f.group()).await)? {
        Ok(s) => Ok(done(page_of(slug), format!("{} is scheduled.", s.group.title))),
        Err(e) => {
            let refused = Some(Refused::Schedule(f, &e));
            Err(sessions_page(state, &session, &csrf.0, None, slug, false, refused).await?)
        }
    })
}

#[post("/staff/studies/<slug>/focus-groups/<id>", data = "<form>", rank = 2)]
async fn reschedule(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
    id: &str,
    form: CsrfForm<ScheduleForm>,
) -> FormReply {
    let f = form.0;
    let id = group_id(id)?;
    let result = focus_group::reschedule(state, &session.user, slug, id, f.group()).await;
    Ok(match shown(result)? {
        Ok(s) => Ok(done(
            page_of(slug),
            format!("{} is changed; invited members are sent the updated event.", s.group.title),
        )),
        Err(e) => {
            let refused = Some(Refused::Reschedule(id, f, &e));
            Err(sessions_page(state, &session, &csrf.0, None, slug, false, refused).await?)
        }
    })
}

page_form! {
    struct CancelForm {
        /// Cancelling is asked again on a page saying who will be told.
        confirmed: bool,
    }
}

#[post("/staff/studies/<slug>/focus-groups/<id>/cancel", data = "<form>")]
async fn cancel(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
    id: &str,
    form: CsrfForm<CancelForm>,
) -> PageResult<Result<Flash<Redirect>, Page>> {
    if !form.0.confirmed {
        let (study, _, sessions) = focus_group::overview(state, &session.user, slug).await?;
        let id = group_id(id)?;
        let s = sessions.iter().find(|s| s.group.id == id).ok_or(AppError::NotFound)?;
        let frame = StaffFrame::new(&session.user, csrf.0, None);
        let page = CancelPage::new(frame, &study, s);
        return Ok(Err(Page::render("focus_group/cancel", page)));
    }
    cancel_now(state, &session, slug, id).await.map(Ok)
}

async fn cancel_now(
    state: &AppState,
    session: &SessionUser,
    slug: &str,
    id: &str,
) -> PageResult<Flash<Redirect>> {
    let result = focus_group::cancel(state, &session.user, slug, group_id(id)?).await;
    outcome_on(&page_of(slug), result, |s| {
        format!(
            "{} is cancelled; invited members are told and their reminders withdrawn.",
            s.group.title
        )
    })
}

page_form! {
    #[derive(Default, serde::Serialize)]
    pub struct CodeForm {
        participant_code: String,
    }
}

#[post("/staff/studies/<slug>/focus-groups/<id>/members", data = "<form>")]
async fn add_member(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
    id: &str,
    form: CsrfForm<CodeForm>,
) -> FormReply {
    let f = form.0;
    let id = group_id(id)?;
    let result = focus_group::add_member(state, &session.user, slug, id, &f.participant_code);
    Ok(match shown(result.await)? {
        Ok(m) => Ok(done(page_of(slug), format!("{} is placed.", m.code))),
        Err(e) => {
            let refused = Some(Refused::Place(id, f, &e));
            Err(sessions_page(state, &session, &csrf.0, None, slug, false, refused).await?)
        }
    })
}

/// A facilitator declares they know a participant (a student they teach, a
/// colleague): the planner and placing keep them apart.
#[post("/staff/studies/<slug>/focus-groups/conflicts", data = "<form>")]
async fn declare_conflict(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
    form: CsrfForm<CodeForm>,
) -> FormReply {
    let f = form.0;
    let result = focus_group::declare_conflict(state, &session.user, slug, &f.participant_code);
    Ok(match shown(result.await)? {
        Ok(()) => Ok(done(
            page_of(slug),
            format!(
                "Noted: you will not be placed with {} in any session.",
                f.participant_code.trim().to_uppercase()
            ),
        )),
        Err(e) => {
            let refused = Some(Refused::Declare(f, &e));
            Err(sessions_page(state, &session, &csrf.0, None, slug, false, refused).await?)
        }
    })
}

#[post("/staff/studies/<slug>/focus-groups/conflicts/<code>/withdraw", data = "<_form>")]
async fn withdraw_conflict(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    code: &str,
    _form: CsrfForm<super::PlainForm>,
) -> PageResult<Flash<Redirect>> {
    let result = focus_group::withdraw_conflict(state, &session.user, slug, code).await;
    outcome_on(&page_of(slug), result, |()| format!("Your conflict with {code} is withdrawn."))
}

page_form! {
    struct PlaceForm {
        /// `place[CODE]` = the session chosen for that participant, empty to leave
        /// them unplaced.
        place: std::collections::BTreeMap<String, String>,
    }
}

/// Places everyone as the planner proposed, or as the coordinator changed the
/// proposal: each placement is its own step, under every rule of placing one
/// person, and the message says who was placed and who was not, and why.
#[post("/staff/studies/<slug>/focus-groups/place", data = "<form>")]
async fn place_all(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    form: CsrfForm<PlaceForm>,
) -> PageResult<Flash<Redirect>> {
    let mut placed = Vec::new();
    let mut refused = Vec::new();
    for (code, chosen) in &form.0.place {
        let Ok(id) = chosen.trim().parse::<i64>() else { continue };
        match focus_group::add_member(state, &session.user, slug, id, code).await {
            Ok(m) => placed.push(m.code),
            Err(e @ (AppError::Internal(_) | AppError::Db(_))) => return Err(e.into()),
            Err(AppError::NotFound) if placed.is_empty() && refused.is_empty() => {
                return Err(AppError::NotFound.into());
            }
            Err(e) => refused.push(format!("{code}: {}", super::plain(&e))),
        }
    }
    let mut message = match placed.len() {
        0 => "No one was placed.".to_string(),
        n => format!("Placed {n}: {}.", placed.join(", ")),
    };
    if !refused.is_empty() {
        message.push_str(&format!(" Not placed: {}", refused.join(" ")));
    }
    let to = Redirect::to(page_of(slug));
    Ok(if refused.is_empty() { Flash::success(to, message) } else { Flash::error(to, message) })
}

#[post("/staff/studies/<slug>/focus-groups/<id>/members/<code>/remove", data = "<_form>")]
async fn remove_member(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    id: &str,
    code: &str,
    _form: CsrfForm<super::PlainForm>,
) -> PageResult<Flash<Redirect>> {
    let result = focus_group::remove_member(state, &session.user, slug, group_id(id)?, code).await;
    outcome_on(&page_of(slug), result, |_| format!("{code} is no longer in this session."))
}

#[post("/staff/studies/<slug>/focus-groups/<id>/invitations", data = "<_form>")]
async fn invite(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    id: &str,
    _form: CsrfForm<super::PlainForm>,
) -> PageResult<Flash<Redirect>> {
    let result = focus_group::invite(state, &session.user, slug, group_id(id)?).await;
    outcome_on(&page_of(slug), result, |n| {
        format!(
            "{n} invitation(s) queued, each with its calendar file; reminders go the day before."
        )
    })
}

async fn sheet_page(
    state: &AppState,
    session: &SessionUser,
    csrf: &str,
    flash: Option<FlashMessage<'_>>,
    slug: &str,
    id: i64,
    refused: Option<(LogForm, &AppError)>,
) -> PageResult<(Status, Page)> {
    let user = &session.user;
    let (study, s, rows) = focus_group::sheet(state, user, slug, id).await?;
    let (values, refusal) = match refused {
        Some((values, e)) => (values, Some(e)),
        None => (LogForm::of(s.group.log.as_ref()), None),
    };
    let frame = StaffFrame::new(user, csrf.to_string(), flash);
    let form = FormView::new(values, refusal);
    let page = SheetPage::new(frame, &study, &s, &rows, Utc::now(), form);
    Ok((super::status_of(refusal), Page::render("focus_group/sheet", page)))
}

#[get("/staff/studies/<slug>/focus-groups/<id>/sheet")]
async fn sheet(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    flash: Option<FlashMessage<'_>>,
    slug: &str,
    id: &str,
) -> PageResult<(Status, Page)> {
    sheet_page(state, &session, &csrf.0, flash, slug, group_id(id)?, None).await
}

/// Refuses attendance and the log on a page before the session has started: they
/// record what happened in it. (The JSON API takes them at any time, as SPEC §5 and
/// its clients expect.)
async fn started(
    state: &AppState,
    session: &SessionUser,
    slug: &str,
    id: i64,
) -> Result<(), AppError> {
    let (study, _, sessions) = focus_group::overview(state, &session.user, slug).await?;
    let s = sessions.iter().find(|s| s.group.id == id).ok_or(AppError::NotFound)?;
    if s.group.starts_at > Utc::now() {
        return Err(AppError::Conflict(format!(
            "{} starts {}: attendance and the log are recorded once it has started.",
            s.group.title,
            when(&s.group, study.timezone)
        )));
    }
    Ok(())
}

page_form! {
    struct AttendanceForm {
        /// The codes of the members who came; every other member is recorded absent.
        present: Vec<String>,
    }
}

#[post("/staff/studies/<slug>/focus-groups/<id>/attendance", data = "<form>")]
async fn attendance(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    id: &str,
    form: CsrfForm<AttendanceForm>,
) -> PageResult<Flash<Redirect>> {
    let id = group_id(id)?;
    let back = format!("/staff/studies/{slug}/focus-groups/{id}/sheet");
    let result = match started(state, &session, slug, id).await {
        Err(e) => Err(e),
        Ok(()) => {
            let roll = Attendance::Roll { present: &form.0.present };
            focus_group::attendance(state, &session.user, slug, id, roll).await
        }
    };
    outcome_on(&back, result, |n| format!("Attendance saved: {n} came."))
}

page_form! {
    #[derive(Default, serde::Serialize)]
    pub struct LogForm {
        actual_minutes: String,
        new_codes: String,
        notes: String,
    }
}

impl LogForm {
    fn of(log: Option<&crate::domain::focus_group::SessionLog>) -> Self {
        log.map_or_else(<Self as Default>::default, |l| Self {
            csrf_token: String::new(),
            actual_minutes: l.actual_minutes.to_string(),
            new_codes: l.new_codes.to_string(),
            notes: l.notes.clone(),
        })
    }
}

#[post("/staff/studies/<slug>/focus-groups/<id>/log", data = "<form>")]
async fn log(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
    id: &str,
    form: CsrfForm<LogForm>,
) -> FormReply {
    let id = group_id(id)?;
    let f = form.0;
    let result = match started(state, &session, slug, id).await {
        Err(e) => Err(e),
        Ok(()) => {
            let (minutes, codes) = (number(&f.actual_minutes), number(&f.new_codes));
            focus_group::log(state, &session.user, slug, id, minutes, codes, &f.notes).await
        }
    };
    Ok(match shown(result)? {
        Ok(l) => Ok(done(
            format!("/staff/studies/{slug}/focus-groups/{id}/sheet"),
            format!("Session logged: {} minutes, {} new codes.", l.actual_minutes, l.new_codes),
        )),
        Err(e) => Err(sheet_page(state, &session, &csrf.0, None, slug, id, Some((f, &e))).await?),
    })
}

#[get("/staff/studies/<slug>/focus-groups/<id>/invite.ics")]
async fn ics(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    id: &str,
) -> PageResult<Download> {
    let id = group_id(id)?;
    let text = focus_group::ics(state, &session.user, slug, id).await?;
    let kind = ContentType::new("text", "calendar").with_params(("charset", "utf-8"));
    Ok(Download::new(kind, format!("{slug}-focus-group-{id}.ics"), text.into_bytes()))
}

page_form! {
    #[derive(Default)]
    struct AvailabilityForm {
        slots: Vec<i64>,
        /// "None of these times": an answer, unlike a form sent with nothing ticked.
        none: bool,
    }
}

async fn availability_page(
    state: &AppState,
    me: &ParticipantUser,
    csrf: &str,
    error: Option<AppError>,
) -> PageResult<(Status, Page)> {
    let choices = focus_group::availability(state, &me.participant).await?;
    let booked = focus_group::booking(state, &me.participant).await?;
    let status = error.as_ref().map(|e| Status::new(e.status())).unwrap_or(Status::Ok);
    let zone = me.study.timezone;
    let page = AvailabilityPage {
        frame: participant_frame(me, csrf),
        sessions: choices.iter().map(|c| Slot::new(c, zone)).collect(),
        booked: booked.map(|g| Booking::new(&g, zone)),
        consented: me.participant.status() == "consented",
        zone: zone.name(),
        errors: Refusal::of(error.as_ref()).messages(),
    };
    Ok((status, Page::render("focus_group/availability", page)))
}

#[get("/participant/availability")]
async fn availability(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
) -> PageResult<(Status, Page)> {
    availability_page(state, &me, &csrf.0, None).await
}

#[post("/participant/availability", data = "<form>")]
async fn availability_submit(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    form: CsrfForm<AvailabilityForm>,
) -> PageResult<Result<Flash<Redirect>, (Status, Page)>> {
    let form = form.0;
    let refused = match (form.slots.is_empty(), form.none) {
        (true, false) => Some(
            "Tick the sessions you could come to, or tick “None of these times” if none suit you.",
        ),
        (false, true) => {
            Some("You ticked sessions and “None of these times”: untick one or the other.")
        }
        _ => None,
    };
    if let Some(message) = refused {
        let e = AppError::field("slots", "required", message);
        return Ok(Err(availability_page(state, &me, &csrf.0, Some(e)).await?));
    }
    let told = if form.none {
        "Noted: none of these times suit you. We will let you know if other sessions open."
    } else {
        "Thank you: your availability is saved. The researchers will invite you to one session."
    };
    match focus_group::set_availability(state, &me.participant, &form.slots).await {
        Ok(_) => Ok(Ok(Flash::success(Redirect::to("/participant"), told))),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            Ok(Err(availability_page(state, &me, &csrf.0, Some(e)).await?))
        }
        Err(e) => Err(PageError(e)),
    }
}

pub fn routes() -> Vec<rocket::Route> {
    routes![
        place_all,
        declare_conflict,
        withdraw_conflict,
        availability,
        availability_submit,
        page,
        schedule,
        reschedule,
        cancel,
        add_member,
        remove_member,
        invite,
        sheet,
        attendance,
        log,
        ics
    ]
}
