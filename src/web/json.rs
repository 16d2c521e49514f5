//! `JsonBody<T>`: a JSON request body whose failures are answered in the error
//! shape of SPEC §5: 400 for a body that is not JSON, 422 naming the field whose
//! value has the wrong type.

use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::outcome::Outcome;
use rocket::request::Request;
use serde::de::DeserializeOwned;

use super::errors::guard_failed;
use crate::error::AppError;

#[derive(Debug)]
pub struct JsonBody<T>(pub T);

/// The field a serde error is about: the path to it, plus the name of a missing field.
fn field_of(path: &str, message: &str) -> String {
    let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
    let path = if path == "." { "" } else { path };
    match (path, missing) {
        ("", Some(m)) => m.to_string(),
        (p, Some(m)) => format!("{p}.{m}"),
        ("", None) => "body".to_string(),
        (p, None) => p.to_string(),
    }
}

fn sentence(message: &str) -> String {
    let cut = message.split(" at line ").next().unwrap_or(message);
    let mut s = cut.to_string();
    if let Some(first) = s.get(..1) {
        s.replace_range(..1, &first.to_uppercase());
    }
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

#[rocket::async_trait]
impl<'r, T: DeserializeOwned> FromData<'r> for JsonBody<T> {
    type Error = ();

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let limit = req.limits().get("json").unwrap_or(1.mebibytes());
        let bytes = match data.open(limit).into_bytes().await {
            Ok(b) if b.is_complete() => b.into_inner(),
            Ok(_) => {
                return Outcome::Error((
                    guard_failed(
                        req,
                        AppError::BadRequest(format!("The body is larger than {limit}.")),
                    ),
                    (),
                ));
            }
            Err(_) => {
                return Outcome::Error((
                    guard_failed(req, AppError::BadRequest("The body could not be read.".into())),
                    (),
                ));
            }
        };
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Ok(value) => match de.end() {
                Ok(()) => Outcome::Success(JsonBody(value)),
                Err(_) => Outcome::Error((
                    guard_failed(
                        req,
                        AppError::BadRequest("The body has text after the JSON value.".into()),
                    ),
                    (),
                )),
            },
            Err(e) => {
                let path = e.path().to_string();
                let inner = e.into_inner();
                let err = if inner.is_data() {
                    let message = inner.to_string();
                    AppError::field(&field_of(&path, &message), "invalid_type", sentence(&message))
                } else {
                    AppError::BadRequest(format!(
                        "The body is not valid JSON: {}",
                        sentence(&inner.to_string())
                    ))
                };
                Outcome::Error((guard_failed(req, err), ()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_named_from_serde_errors() {
        assert_eq!(field_of(".", "missing field `title`"), "title");
        assert_eq!(field_of("ethics", "missing field `reference`"), "ethics.reference");
        assert_eq!(
            field_of("ethics.approved_on", "invalid type: integer `3`, expected a string"),
            "ethics.approved_on"
        );
        assert_eq!(field_of(".", "invalid type: integer, expected struct X"), "body");
        assert_eq!(
            sentence("invalid type: null, expected a string at line 1 column 9"),
            "Invalid type: null, expected a string."
        );
    }
}
