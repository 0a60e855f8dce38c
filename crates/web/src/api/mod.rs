//! The JSON API under `/api/v1`, described by the OpenAPI document built from these handlers.

pub mod cases;
pub mod directory;
pub mod files;
pub mod letters;
pub mod mail;
pub mod reports;
pub mod routing;
pub mod saved;

use crate::AppState;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Redress API", description = "Case management for public consumer-complaint offices. \
        Authenticate with `Authorization: Bearer TOKEN` (from `redress token create` or POST /api/v1/tokens). \
        Errors are RFC 9457 problem+json with a stable `code` and, for validation, `errors[].field`."),
    modifiers(&BearerAuth),
    tags((name = "cases"), (name = "timeline"), (name = "consumers"), (name = "companies"), (name = "reference data"), (name = "users"), (name = "audit"), (name = "mail"), (name = "letters"), (name = "reports"), (name = "health"))
)]
struct ApiDoc;

/// The document's header: title, description, security scheme, tags.
pub fn doc() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// An RFC 9457 problem: how every error is answered (`application/problem+json`).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
#[allow(dead_code, reason = "describes the body error::ApiError writes")]
struct ProblemDoc {
    /// `/problems/CODE`.
    #[serde(rename = "type")]
    kind: String,
    title: String,
    /// The HTTP status.
    status: u16,
    /// Stable and machine-readable: `validation_failed`, `not_found`, `stale_version`...
    code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    /// For `validation_failed`: each field (dotted path, or the query parameter or header)
    /// and what is wrong with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<redress_domain::FieldError>>,
    /// For `invalid_transition`: what may be done instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed: Option<Vec<String>>,
    /// For `stale_version`: the version to read again.
    #[serde(skip_serializing_if = "Option::is_none")]
    current_version: Option<i64>,
}

/// What the derived document cannot say by itself: the error responses of every operation
/// ([`add_error_responses`]), and that a change must change something (`PatchCase` and
/// `AssignInput` need at least one field).
pub fn complete(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{RefOr, schema::Schema};
    if let Some(components) = openapi.components.as_mut() {
        for name in ["PatchCase", "AssignInput"] {
            if let Some(RefOr::T(Schema::Object(o))) = components.schemas.get_mut(name) {
                o.min_properties = Some(1);
            }
        }
    }
    if let Some(components) = openapi.components.as_mut() {
        for name in REQUEST_SCHEMAS {
            if let Some(schema) = components.schemas.get_mut(*name) {
                state_the_text_rule(schema);
            }
        }
    }
    add_error_responses(openapi);
}

/// The schemas of request bodies, whose strings follow the one text rule.
const REQUEST_SCHEMAS: &[&str] = &[
    "CreateCase",
    "ConsumerInput",
    "AddressInput",
    "PatchCase",
    "NewTimelineEntry",
    "AssignInput",
    "StatusInput",
    "TransitionInput",
    "ReminderInput",
    "NewCompany",
    "NewUnit",
    "NewCategory",
    "NewUserInput",
    "NewTokenInput",
    "LoginInput",
    "MergeConsumerInput",
    "NewRoutingRule",
    "EmailToConsumer",
    "NoticePreference",
    "BatchMailed",
    "FileInbound",
];

/// No control characters except tab and line ends
/// ([`redress_domain::validate::is_clean_text`]).
const CLEAN_TEXT: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";
/// The same, and not blank: required text is trimmed first.
const CLEAN_REQUIRED_TEXT: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

/// Writes the one text rule into a request schema as a `pattern` on each of its free-text
/// strings (those without an enumeration, a format or a pattern of their own).
fn state_the_text_rule(schema: &mut utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, Schema, SchemaType, Type};
    let RefOr::T(schema) = schema else { return };
    match schema {
        Schema::Object(o) => {
            let is_string = match &o.schema_type {
                SchemaType::Type(Type::String) => true,
                SchemaType::Array(types) => types.contains(&Type::String),
                _ => false,
            };
            if is_string && o.enum_values.is_none() && o.format.is_none() && o.pattern.is_none() {
                let required = o.min_length.is_some_and(|n| n > 0);
                o.pattern = Some(
                    if required {
                        CLEAN_REQUIRED_TEXT
                    } else {
                        CLEAN_TEXT
                    }
                    .to_string(),
                );
            }
            for (_, p) in o.properties.iter_mut() {
                state_the_text_rule(p);
            }
            if let Some(extra) = o.additional_properties.as_deref_mut()
                && let AdditionalProperties::RefOr(p) = extra
            {
                state_the_text_rule(p);
            }
        }
        Schema::Array(a) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                state_the_text_rule(items);
            }
        }
        Schema::OneOf(o) => {
            for s in o.items.iter_mut() {
                state_the_text_rule(s);
            }
        }
        _ => {}
    }
}

/// Adds to every operation of the document the error responses the server gives it, each a
/// problem+json body, from what the operation takes: credentials (401, 403), a path with a
/// reference or id (404), a JSON body (400 malformed, 413, 415, 422), any query parameter or
/// field (422: `validation_failed` names it), `If-Match` (412, 428 where required), and a
/// change (409: not allowed from the record's state, or already exists).
pub fn add_error_responses(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, Required, ResponseBuilder};
    use utoipa::{PartialSchema, ToSchema};
    let components = openapi.components.get_or_insert_with(Default::default);
    let mut schemas = vec![(ProblemDoc::name().into_owned(), ProblemDoc::schema())];
    ProblemDoc::schemas(&mut schemas);
    for (name, schema) in schemas {
        components.schemas.entry(name).or_insert(schema);
    }
    let problem = || {
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build()
    };
    for (path, item) in openapi.paths.paths.iter_mut() {
        let api = path.starts_with("/api/");
        let has_path_param = path.contains('{');
        for (write, op) in [
            (false, &mut item.get),
            (true, &mut item.post),
            (true, &mut item.put),
            (true, &mut item.patch),
            (true, &mut item.delete),
        ] {
            let Some(op) = op.as_mut() else { continue };
            let mut codes: Vec<(&str, &str)> = Vec::new();
            if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                codes.push(("401", "No valid credentials"));
                codes.push(("403", "The role does not allow this"));
            }
            if api && has_path_param {
                codes.push(("404", "No such record, or not visible to the caller"));
            }
            if api {
                codes.push(("400", "The request could not be read"));
                codes.push((
                    "422",
                    "A field, query parameter or header is missing or invalid; `errors` names each",
                ));
            }
            if let Some(body) = &op.request_body {
                codes.push(("413", "The request body is too large"));
                if body.content.contains_key("application/json") {
                    codes.push(("415", "Send application/json"));
                }
            }
            for p in op.parameters.iter().flatten() {
                if matches!(p.parameter_in, ParameterIn::Header) && p.name == "If-Match" {
                    codes.push(("412", "The case changed since that version was read"));
                    if matches!(p.required, Required::True) {
                        codes.push(("428", "If-Match is required"));
                    }
                }
            }
            if api {
                codes.push((
                    "503",
                    "The database is out of reach; nothing was changed. Retry after `Retry-After` seconds",
                ));
            }
            if api && write && op.security.is_some() {
                codes.push((
                    "409",
                    "Not allowed from the record's current state, or it already exists",
                ));
            }
            for (code, description) in codes {
                op.responses
                    .responses
                    .entry(code.to_string())
                    .or_insert_with(|| {
                        ResponseBuilder::new()
                            .description(description)
                            .content("application/problem+json", problem())
                            .build()
                            .into()
                    });
            }
            // Error responses described by the handler get the problem body too.
            for (code, response) in op.responses.responses.iter_mut() {
                if let (true, utoipa::openapi::RefOr::T(r)) =
                    (code.starts_with(['4', '5']), response)
                    && r.content.is_empty()
                {
                    r.content
                        .insert("application/problem+json".to_string(), problem());
                }
            }
        }
    }
}

struct BearerAuth;
impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("rdr_ token")
                    .build(),
            ),
        );
    }
}

/// Every API route, registered together with its OpenAPI description so neither can drift.
/// A record's id from the path; anything but a number names nothing.
pub(crate) fn id_of(text: &str) -> Result<i64, crate::error::ApiError> {
    text.parse().map_err(|_| crate::error::ApiError::NotFound)
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(cases::create_case, cases::list_cases))
        .routes(routes!(cases::get_case, cases::patch_case))
        .routes(routes!(cases::correct_consumer))
        .routes(routes!(cases::add_entry, cases::get_timeline))
        .routes(routes!(cases::assign))
        .routes(routes!(cases::take))
        .routes(routes!(cases::change_status))
        .routes(routes!(cases::take_transition))
        .routes(routes!(cases::case_lifecycle, cases::change_lifecycle))
        .routes(routes!(cases::link))
        .routes(routes!(cases::merge))
        .routes(routes!(cases::case_audit))
        .routes(routes!(cases::clocks))
        .routes(routes!(cases::lifecycles))
        .routes(routes!(cases::schedule_reminder))
        .routes(routes!(letters::list_letters))
        .routes(routes!(letters::letter_pdf))
        .routes(routes!(letters::make_batch, letters::list_batches))
        .routes(routes!(letters::get_batch))
        .routes(routes!(letters::batch_pdf))
        .routes(routes!(letters::batch_mailed))
        .routes(routes!(saved::list_saved_searches, saved::save_search))
        .routes(routes!(saved::get_saved_search, saved::forget_saved_search))
        .routes(routes!(saved::run_saved_search))
        .routes(routes!(reports::get_report))
        .routes(routes!(reports::list_schedules, reports::add_schedule))
        .routes(routes!(reports::remove_schedule))
        .routes(routes!(reports::list_root_causes, reports::save_root_cause))
        .routes(routes!(reports::company_customers))
        .routes(routes!(reports::set_company_customers))
        .routes(routes!(mail::email_consumer))
        .routes(routes!(mail::notice_preference))
        .routes(routes!(mail::list_inbound))
        .routes(routes!(mail::get_inbound))
        .routes(routes!(mail::file_inbound))
        .routes(routes!(mail::dismiss_inbound))
        .routes(routes!(files::upload, files::list))
        .routes(routes!(files::download))
        .routes(routes!(directory::find_consumers))
        .routes(routes!(directory::get_consumer))
        .routes(routes!(directory::consumer_duplicates))
        .routes(routes!(directory::merge_consumer))
        .routes(routes!(
            directory::list_companies,
            directory::create_company
        ))
        .routes(routes!(directory::get_company, directory::change_company))
        .routes(routes!(directory::list_units, directory::create_unit))
        .routes(routes!(
            directory::list_categories,
            directory::create_category
        ))
        .routes(routes!(directory::change_category))
        .routes(routes!(directory::list_users, directory::create_user))
        .routes(routes!(directory::change_user))
        .routes(routes!(directory::reset_password))
        .routes(routes!(directory::me))
        .routes(routes!(directory::list_tokens, directory::create_token))
        .routes(routes!(directory::revoke_token))
        .routes(routes!(directory::login, directory::logout))
        .routes(routes!(directory::verify_audit))
        .routes(routes!(
            routing::list_routing_rules,
            routing::add_routing_rule
        ))
        .routes(routes!(routing::remove_routing_rule))
}
