//! The JSON API under `/api/v1` (SPEC §5), one file per area, and its OpenAPI
//! document at `/api/v1/openapi.json`. Each handler is listed once, in `api!`, which mounts it
//! and documents it; `src/tests/errors_and_ops.rs` checks that every mounted route is documented.

pub mod audit;
pub mod auth;
pub mod consent;
pub mod dto;
pub mod focus_group;
pub mod mail;
pub mod participant;
pub mod questionnaire;
pub mod recruitment;
pub mod report;
pub mod responses;
pub mod study;
pub mod user;

use rocket::http::ContentType;
use rocket::{Route, get, routes};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Declares the API once: every handler listed here is both mounted and documented.
macro_rules! api {
    ($($handler:path),* $(,)?) => {
        #[derive(OpenApi)]
        #[openapi(
            info(
                title = "Consentry",
                description = "Survey and informed-consent management for human research. \
                               Errors are `{\"error\": {\"code\", \"message\", \"fields\"?}}`.",
                version = "1"
            ),
            paths($($handler),*),
            security(("bearer" = [])),
            modifiers(&BearerAuth, &PathParams),
            tags(
                (name = "auth", description = "Staff sign-in"),
                (name = "staff", description = "Staff accounts"),
                (name = "studies", description = "Studies under ethics approval"),
                (name = "consent", description = "Consent-form versions under the study's approval"),
                (name = "recruitment", description = "Ads, screening, strata and enrolment"),
                (name = "questionnaires", description = "Questionnaires attached to a study"),
                (name = "participants", description = "A participant's own record, by their private token"),
                (name = "focus groups", description = "Sessions, members, invitations, attendance and the session log"),
                (name = "report", description = "What the study found"),
                (name = "mail", description = "The outbox"),
                (name = "audit", description = "The tamper-evident audit log"),
            )
        )]
        pub struct ApiDoc;

        pub fn routes() -> Vec<Route> {
            routes![openapi, $($handler),*]
        }
    };
}

api![
    auth::token,
    auth::revoke,
    user::create,
    user::list,
    user::change,
    study::create,
    study::list,
    study::get,
    study::staff_list,
    study::add_staff,
    study::remove_staff,
    study::change_status,
    study::settings,
    study::approvals,
    study::record_approval,
    consent::form::create,
    consent::form::list,
    consent::form::get,
    consent::form::approve,
    consent::register::register,
    consent::register::pdf,
    consent::register::reconsent,
    consent::choices::results_summary,
    participant::invite,
    participant::invite_from_study,
    participant::send_link,
    participant::portal,
    consent::signing::consent_form,
    consent::signing::answer_checks,
    consent::signing::give,
    consent::signing::change_choices,
    consent::signing::history,
    consent::signing::pdf_of,
    consent::signing::pdf,
    consent::signing::receipt,
    consent::signing::withdraw,
    consent::signing::send_code,
    consent::signing::verify_code,
    participant::remind,
    participant::request_link,
    questionnaire::attach,
    questionnaire::list,
    questionnaire::mine,
    questionnaire::definition,
    questionnaire::answer,
    recruitment::create_ad,
    recruitment::list_ads,
    recruitment::update_ad,
    recruitment::close_ad,
    recruitment::reopen_ad,
    recruitment::public_ad,
    recruitment::enrol,
    recruitment::add_stratum,
    recruitment::list_strata,
    focus_group::create,
    focus_group::list,
    focus_group::get,
    focus_group::reschedule,
    focus_group::cancel,
    focus_group::plan,
    focus_group::add_member,
    focus_group::remove_member,
    focus_group::invitations,
    focus_group::ics,
    focus_group::attendance,
    focus_group::log,
    focus_group::declare_conflict,
    focus_group::list_conflicts,
    focus_group::withdraw_conflict,
    focus_group::my_availability,
    focus_group::set_availability,
    report::json,
    report::export_csv,
    report::codebook_csv,
    report::report_csv,
    report::report_pdf,
    report::export_r,
    report::export_sps,
    mail::list,
    audit::events,
    audit::verify,
    audit::pack,
];

/// What a path parameter holds: text (with an example) or a numeric id.
enum Holds {
    Text(&'static str),
    Id,
}

/// What each path parameter is, by the collection it names an item of: declared once here
/// instead of on every route (`/studies/{slug}` is a study's slug wherever it appears).
const PATH_PARAMS: &[(&str, &str, &str, Holds)] = &[
    ("studies", "slug", "The study's slug", Holds::Text("social-media-med-ed")),
    ("ads", "code", "The ad's code", Holds::Text("moodle-mbbs")),
    ("participants", "code", "The participant's code", Holds::Text("P001")),
    ("members", "code", "The participant's code", Holds::Text("P001")),
    ("conflicts", "code", "The participant's code", Holds::Text("P001")),
    ("consent-forms", "version", "The version label", Holds::Text("1")),
    ("questionnaires", "key", "The questionnaire's key", Holds::Text("demographics")),
    ("consents", "consent_id", "The consent's id from the register", Holds::Id),
    ("focus-groups", "id", "The session's id", Holds::Id),
    ("users", "id", "The account's id", Holds::Id),
    ("staff", "user_id", "The staff member's account id", Holds::Id),
];

/// Describes every path parameter from `PATH_PARAMS`, found by the segment before it.
struct PathParams;

impl PathParams {
    fn describe(path: &str, parameter: &mut Parameter) {
        let placeholder = format!("/{{{}}}", parameter.name);
        let Some(at) = path.find(&placeholder) else {
            return;
        };
        let collection = path[..at].rsplit('/').next().unwrap_or_default();
        let Some((_, _, description, holds)) =
            PATH_PARAMS.iter().find(|(c, name, ..)| *c == collection && *name == parameter.name)
        else {
            return;
        };
        let described = ParameterBuilder::from(parameter.clone()).description(Some(*description));
        *parameter = match holds {
            Holds::Text(example) => described.example(Some((*example).into())),
            Holds::Id => described.schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64))),
            )),
        }
        .build();
    }
}

impl Modify for PathParams {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations =
                [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                for parameter in operation.parameters.iter_mut().flatten() {
                    if parameter.parameter_in == ParameterIn::Path {
                        Self::describe(path, parameter);
                    }
                }
            }
        }
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

#[get("/openapi.json")]
fn openapi() -> (ContentType, String) {
    (ContentType::JSON, ApiDoc::openapi().to_json().unwrap_or_default())
}
