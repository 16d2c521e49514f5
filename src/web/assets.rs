//! The static files built into the binary (`/static/app.css`, the scripts), served
//! when no `CONSENTRY_TEMPLATE_DIR` replaces them.

use std::path::PathBuf;

use rocket::http::ContentType;
use rocket::{get, routes};

#[get("/static/<file..>")]
fn static_file(file: PathBuf) -> Option<(ContentType, &'static [u8])> {
    let bytes = crate::assets::static_file(file.to_str()?)?;
    let kind = file
        .extension()
        .and_then(|e| e.to_str())
        .and_then(ContentType::from_extension)
        .unwrap_or(ContentType::Binary);
    Some((kind, bytes))
}

pub fn routes() -> Vec<rocket::Route> {
    routes![static_file]
}
