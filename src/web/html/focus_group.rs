//! Focus groups for staff: the coordinator schedules sessions, looks at the
//! planner's proposal, places participants and sends invitations; a facilitator
//! opens the session sheet of their own sessions (members, consent items, a warning
//! for anyone who did not agree to audio recording), records attendance and logs
//! the session.

use rocket::http::{ContentType, Status};
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};
use rocket_dyn_templates::Template;

use super::views::focus_group::{AvailabilityPage, CancelPage, FocusGroupsPage, SheetPage, Slot};
use super::views::{Booking, Download, Refusal, StaffFrame};
use super::{outcome_on, participant_frame};
use crate::domain::policy::Capacity;
use crate::error::AppError;
use crate::service::AppState;
use crate::service::focus_group::{self, Attendance, NewGroup};
use crate::web::errors::{PageError, PageResult};
use crate::web::guards::{CsrfForm, CsrfToken, ParticipantUser, SessionUser};

fn page_of(slug: &str) -> String {
    format!("/staff/studies/{slug}/focus-groups")
}

fn group_id(raw: &str) -> Result<i64, PageError> {
    raw.parse().map_err(|_| PageError(AppError::NotFound))
}

#[get("/staff/studies/<slug>/focus-groups?<plan>")]
async fn page(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    flash: Option<FlashMessage<'_>>,
    slug: &str,
    plan: Option<bool>,
) -> PageResult<Template> {
    let user = &session.user;
    let (study, capacity, sessions) = focus_group::overview(state, user, slug).await?;
    let coordinator = capacity == Capacity::Coordinator;
    let proposal = match (plan, coordinator) {
        (Some(true), true) => Some(focus_group::plan(state, user, slug).await?),
        _ => None,
    };
    let frame = StaffFrame::new(user, csrf.0, flash);
    let page = FocusGroupsPage::new(frame, &study, coordinator, &sessions, proposal);
    Ok(Template::render("focus_group/sessions", page))
}

page_form! {
    struct ScheduleForm {
        title: String,
        /// `YYYY-MM-DDTHH:MM` from a `datetime-local` input, on the study's clock.
        starts_at: String,
        duration_minutes: String,
        location: String,
        facilitator_email: String,
        capacity: String,
    }
}

impl ScheduleForm {
    /// The session as typed: the start is a `datetime-local` value on the study's clock.
    fn group(&self) -> NewGroup<'_> {
        NewGroup {
            title: &self.title,
            starts_at: &self.starts_at,
            duration_minutes: number(&self.duration_minutes),
            location: &self.location,
            facilitator_email: &self.facilitator_email,
            capacity: number(&self.capacity),
            wall_clock: true,
        }
    }
}

/// A number typed in a form; anything else becomes -1, which the domain refuses
/// with the field's own message.
fn number(raw: &str) -> i64 {
    raw.trim().parse().unwrap_or(-1)
}

#[post("/staff/studies/<slug>/focus-groups", data = "<form>")]
async fn schedule(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    form: CsrfForm<ScheduleForm>,
) -> PageResult<Flash<Redirect>> {
    let f = form.0;
    let result = focus_group::create(state, &session.user, slug, f.group()).await;
    outcome_on(&page_of(slug), result, |s| format!("{} is scheduled.", s.group.title))
}

#[post("/staff/studies/<slug>/focus-groups/<id>", data = "<form>")]
async fn reschedule(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    id: &str,
    form: CsrfForm<ScheduleForm>,
) -> PageResult<Flash<Redirect>> {
    let f = form.0;
    let result =
        focus_group::reschedule(state, &session.user, slug, group_id(id)?, f.group()).await;
    outcome_on(&page_of(slug), result, |s| {
        format!("{} is changed; invited members are sent the updated event.", s.group.title)
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
) -> PageResult<Result<Flash<Redirect>, Template>> {
    if !form.0.confirmed {
        let (study, _, sessions) = focus_group::overview(state, &session.user, slug).await?;
        let id = group_id(id)?;
        let s = sessions.iter().find(|s| s.group.id == id).ok_or(AppError::NotFound)?;
        let frame = StaffFrame::new(&session.user, csrf.0, None);
        let page = CancelPage::new(frame, &study, s);
        return Ok(Err(Template::render("focus_group/cancel", page)));
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
    struct CodeForm {
        participant_code: String,
    }
}

#[post("/staff/studies/<slug>/focus-groups/<id>/members", data = "<form>")]
async fn add_member(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    id: &str,
    form: CsrfForm<CodeForm>,
) -> PageResult<Flash<Redirect>> {
    let result = focus_group::add_member(
        state,
        &session.user,
        slug,
        group_id(id)?,
        &form.0.participant_code,
    )
    .await;
    outcome_on(&page_of(slug), result, |m| format!("{} is placed.", m.code))
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

#[get("/staff/studies/<slug>/focus-groups/<id>/sheet")]
async fn sheet(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    flash: Option<FlashMessage<'_>>,
    slug: &str,
    id: &str,
) -> PageResult<Template> {
    let user = &session.user;
    let (study, s, rows) = focus_group::sheet(state, user, slug, group_id(id)?).await?;
    let page = SheetPage::new(StaffFrame::new(user, csrf.0, flash), &study, &s, &rows);
    Ok(Template::render("focus_group/sheet", page))
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
    let roll = Attendance::Roll { present: &form.0.present };
    let result = focus_group::attendance(state, &session.user, slug, id, roll).await;
    let back = format!("/staff/studies/{slug}/focus-groups/{id}/sheet");
    outcome_on(&back, result, |n| format!("Attendance saved: {n} came."))
}

page_form! {
    struct LogForm {
        actual_minutes: String,
        new_codes: String,
        notes: String,
    }
}

#[post("/staff/studies/<slug>/focus-groups/<id>/log", data = "<form>")]
async fn log(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    id: &str,
    form: CsrfForm<LogForm>,
) -> PageResult<Flash<Redirect>> {
    let id = group_id(id)?;
    let f = form.0;
    let result = focus_group::log(
        state,
        &session.user,
        slug,
        id,
        number(&f.actual_minutes),
        number(&f.new_codes),
        &f.notes,
    )
    .await;
    let back = format!("/staff/studies/{slug}/focus-groups/{id}/sheet");
    outcome_on(&back, result, |l| {
        format!("Session logged: {} minutes, {} new codes.", l.actual_minutes, l.new_codes)
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
    }
}

async fn availability_page(
    state: &AppState,
    me: &ParticipantUser,
    csrf: &str,
    error: Option<AppError>,
) -> PageResult<(Status, Template)> {
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
    Ok((status, Template::render("focus_group/availability", page)))
}

#[get("/participant/availability")]
async fn availability(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
) -> PageResult<(Status, Template)> {
    availability_page(state, &me, &csrf.0, None).await
}

#[post("/participant/availability", data = "<form>")]
async fn availability_submit(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    form: CsrfForm<AvailabilityForm>,
) -> PageResult<Result<Redirect, (Status, Template)>> {
    match focus_group::set_availability(state, &me.participant, &form.0.slots).await {
        Ok(_) => Ok(Ok(Redirect::to("/participant"))),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            Ok(Err(availability_page(state, &me, &csrf.0, Some(e)).await?))
        }
        Err(e) => Err(PageError(e)),
    }
}

pub fn routes() -> Vec<rocket::Route> {
    routes![
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
