//! A page rendered from its view with the templates `rocket_dyn_templates` loads.
//!
//! `rocket_dyn_templates::Template` turns each view into a configuration value
//! (`figment`) and that into a template value, rebuilding every map of the page key
//! by key twice. A `Page` renders with the same MiniJinja environment, which the
//! template fairing hands to `Pages` each time it loads the templates (at start, and
//! again after an edit in a debug build), from the view turned into a template
//! value once; the longest questionnaire page took 0.75× the time.

use std::borrow::Cow;
use std::sync::{Arc, PoisonError, RwLock};

use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket_dyn_templates::minijinja::{Environment, Error, ErrorKind, Value};
use serde::Serialize;

/// The page templates as last loaded, managed by the application (`app::build`).
#[derive(Clone, Default)]
pub struct Pages(Arc<RwLock<Option<Arc<Environment<'static>>>>>);

impl Pages {
    /// Keeps `env`, the templates just loaded, for the pages drawn from now on.
    pub fn keep(&self, env: &Environment<'static>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(env.clone()));
    }

    fn render(&self, name: &str, context: &Value) -> Result<String, Error> {
        let env = self.0.read().unwrap_or_else(PoisonError::into_inner).clone();
        let env = env.ok_or_else(|| {
            Error::new(ErrorKind::InvalidOperation, "the page templates are not loaded")
        })?;
        env.get_template(name)?.render(context)
    }
}

/// A page: its template's name and its view as a template value.
pub struct Page {
    name: Cow<'static, str>,
    context: Value,
}

impl Page {
    pub fn render(name: impl Into<Cow<'static, str>>, context: impl Serialize) -> Self {
        Self { name: name.into(), context: Value::from_serialize(&context) }
    }
}

impl<'r> Responder<'r, 'static> for Page {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let drawn = match request.rocket().state::<Pages>() {
            Some(pages) => pages.render(&self.name, &self.context),
            None => Err(Error::new(ErrorKind::InvalidOperation, "no page templates are managed")),
        };
        match drawn {
            Ok(html) => (ContentType::HTML, html).respond_to(request),
            Err(e) => {
                tracing::error!(template = %self.name, error = %e, "a page could not be drawn");
                Err(Status::InternalServerError)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket_dyn_templates::minijinja::context;

    #[test]
    fn a_page_is_drawn_with_the_templates_last_kept() {
        let pages = Pages::default();
        let view = Value::from_serialize(context! { who => "<b>" });
        assert!(pages.render("hello", &view).is_err(), "nothing kept yet");
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| rocket_dyn_templates::minijinja::AutoEscape::Html);
        env.add_template("hello", "Hello {{ who }}").expect("parses");
        pages.keep(&env);
        assert_eq!(pages.render("hello", &view).expect("drawn"), "Hello &lt;b&gt;");
        env.add_template("hello", "Goodbye {{ who }}").expect("parses");
        pages.keep(&env);
        assert_eq!(pages.render("hello", &view).expect("drawn"), "Goodbye &lt;b&gt;");
    }
}
