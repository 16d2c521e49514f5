//! Server-rendered pages for people. Every page works without JavaScript; every
//! POST form carries a CSRF token (see `CsrfForm`).

pub mod staff;
pub mod views;

pub fn routes() -> Vec<rocket::Route> {
    staff::routes()
}
