//! A file handed to the browser to save, for the JSON API and the pages alike.

use rocket::http::{ContentType, Header};
use rocket::response::Responder;

/// A file to save (`Content-Disposition: attachment`) under `name`.
pub struct Download {
    kind: ContentType,
    name: String,
    bytes: Vec<u8>,
}

impl Download {
    pub fn new(kind: ContentType, name: String, bytes: Vec<u8>) -> Self {
        Self { kind, name, bytes }
    }
}

impl<'r> Responder<'r, 'static> for Download {
    fn respond_to(self, req: &'r rocket::Request<'_>) -> rocket::response::Result<'static> {
        let mut res = (self.kind, self.bytes).respond_to(req)?;
        res.set_header(Header::new(
            "Content-Disposition",
            format!("attachment; filename=\"{}\"", self.name),
        ));
        Ok(res)
    }
}
