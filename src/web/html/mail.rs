//! The outbox as staff read it (links and codes hidden).

use rocket::{State, get, routes};
use rocket_dyn_templates::{Template, context};

use super::views::Viewer;
use crate::service::AppState;
use crate::web::errors::PageResult;
use crate::web::guards::{CsrfToken, SessionUser};

/// Every message the outbox holds for this person's studies (admins: all), so a
/// local demo without SMTP shows what would have been sent.
#[get("/staff/outbox")]
async fn outbox(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
) -> PageResult<Template> {
    let mail: Vec<serde_json::Value> = crate::service::mail::list(state, &session.user, 200)
        .await?
        .into_iter()
        .map(|m| {
            serde_json::json!({
                "kind": m.message.kind, "to": m.message.to, "subject": m.message.subject,
                "body": m.message.body, "attachment": m.message.attachment.map(|a| a.name),
                "status": m.status.as_str(), "attempts": m.attempts,
                "created_at": m.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                "sent_at": m.sent_at.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
            })
        })
        .collect();
    Ok(Template::render(
        "staff/outbox",
        context! { viewer: Viewer::from(&session.user), csrf: csrf.0, mail },
    ))
}

pub fn routes() -> Vec<rocket::Route> {
    routes![outbox]
}
