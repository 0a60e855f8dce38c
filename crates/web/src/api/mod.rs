//! The JSON API under `/api/v1`, described by the OpenAPI document built from these handlers.

pub mod cases;
pub mod directory;
pub mod files;

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
    tags((name = "cases"), (name = "timeline"), (name = "consumers"), (name = "companies"), (name = "reference data"), (name = "users"), (name = "audit"), (name = "health"))
)]
struct ApiDoc;

/// The document's header: title, description, security scheme, tags.
pub fn doc() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
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
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(cases::create_case, cases::list_cases))
        .routes(routes!(cases::get_case, cases::patch_case))
        .routes(routes!(cases::add_entry, cases::get_timeline))
        .routes(routes!(cases::assign))
        .routes(routes!(cases::change_status))
        .routes(routes!(cases::take_transition))
        .routes(routes!(cases::case_lifecycle))
        .routes(routes!(cases::link))
        .routes(routes!(cases::merge))
        .routes(routes!(cases::case_audit))
        .routes(routes!(cases::clocks))
        .routes(routes!(cases::lifecycles))
        .routes(routes!(cases::schedule_reminder))
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
        .routes(routes!(directory::get_company))
        .routes(routes!(directory::list_units, directory::create_unit))
        .routes(routes!(
            directory::list_categories,
            directory::create_category
        ))
        .routes(routes!(directory::list_users, directory::create_user))
        .routes(routes!(directory::me))
        .routes(routes!(directory::list_tokens, directory::create_token))
        .routes(routes!(directory::revoke_token))
        .routes(routes!(directory::login, directory::logout))
        .routes(routes!(directory::verify_audit))
}
