//! The agent workspace: log in, my work, search, intake, the case page and its actions.
//!
//! One file per screen: `signin`, `home` (my work), `intake`, `case_page`, `case_actions` and
//! `case_edit` (correcting a case and its consumer). Each handler reads the request, calls one use case of `redress_app`, and
//! renders.

mod case_actions;
mod case_edit;
mod case_page;
mod home;
mod intake;
mod signin;

use super::*;
use crate::api::cases::{AddressInput, ConsumerInput, CreateCase};
use crate::error::ApiError;
use axum::Form as PostForm;
use axum::extract::{Path, Query, State};
use axum::response::Redirect;
use axum::routing::post;
use case_actions::*;
use case_edit::*;
use case_page::*;
use home::*;
use intake::*;
use redress_app::AppError;
use redress_app::accounts::SecondStep;
use redress_app::cases::{AssignInput, LinkInput, MergeInput, StatusInput, TransitionInput};
use redress_app::correspondence::{EmailToConsumer, NoticePreference};
use redress_app::timeline::{CallInput, NewTimelineEntry};
use redress_app::work::IntakeCall;
use redress_domain::records::TimelineEntry;
use redress_domain::*;
use signin::*;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/help", get(help))
        .route("/search", get(crate::pages::lists::cases_page))
        .route("/cases/new", get(intake_page).post(intake_submit))
        .route("/cases/{reference}", get(case_page))
        .route("/cases/{reference}/note", post(case_note))
        .route("/cases/{reference}/call", post(case_call))
        .route("/cases/{reference}/email", post(case_email))
        .route("/cases/{reference}/notices", post(case_notices))
        .route("/cases/{reference}/status", post(case_status))
        .route("/cases/{reference}/transition", post(case_transition))
        .route("/cases/{reference}/assign", post(case_assign))
        .route("/cases/{reference}/edit", post(case_edit))
        .route("/cases/{reference}/consumer", post(case_consumer))
        .route("/cases/{reference}/lifecycle", post(case_lifecycle_change))
        .route("/cases/{reference}/take", post(case_take))
        .route("/cases/{reference}/attachments", post(case_attach))
        .route("/cases/{reference}/link", post(case_link))
        .route("/cases/{reference}/merge", post(case_merge))
        .route(
            "/cases/{reference}/consumer-merge",
            post(case_consumer_merge),
        )
        .route("/session/extend", post(extend_session))
        .route("/cases/{reference}/attachments/{id}", get(case_download))
}

type Fields = HashMap<String, String>;

fn csrf_ok(user: &CurrentUser, headers: &HeaderMap, form: &Fields) -> bool {
    same_origin(headers)
        && user.csrf.is_some()
        && user.csrf.as_deref() == form.get("csrf").map(String::as_str)
}

fn opt(form: &Fields, name: &str) -> Option<String> {
    form.get(name)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}
