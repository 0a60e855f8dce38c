//! The pages people use in a browser: the agent workspace (`agent.rs`) and the public portal
//! (`portal.rs`). Server-rendered askama templates, plain forms with a 303 after each post,
//! English and Spanish, and JavaScript only as an enhancement.

mod account;
mod admin_people;
mod agent;
mod letters;
mod lists;
mod mail;
mod portal;
mod reports;
mod staff;
mod supervision;

use crate::AppState;
use crate::auth::{self, CurrentUser};
use crate::i18n::{LANG_COOKIE, Lang, Tr, negotiate};
use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use redress_app::AppError;
use redress_domain::Permission;
use redress_domain::validate::FieldErrors;
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/static/redress.css",
            get(|| async {
                asset(
                    "text/css; charset=utf-8",
                    include_str!("../../static/redress.css"),
                )
            }),
        )
        .route(
            "/static/redress.js",
            get(|| async {
                asset(
                    "text/javascript; charset=utf-8",
                    include_str!("../../static/redress.js"),
                )
            }),
        )
        .route("/cases", get(lists::cases_page))
        .route("/cases/saved", axum::routing::post(lists::save_search))
        .route("/cases/download", get(lists::download))
        .route(
            "/cases/saved/{id}/forget",
            axum::routing::post(lists::forget_search),
        )
        .merge(agent::router())
        .merge(portal::router())
        .merge(staff::router())
        .merge(supervision::router())
        .merge(account::router())
        .merge(admin_people::router())
        .merge(mail::router())
        .merge(letters::router())
        .merge(reports::router())
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

/// What every page knows about its request: the language and how to switch it.
pub struct Ctx {
    pub tr: Tr,
    remember_lang: bool,
    pub switch_href: String,
    pub secure: bool,
}

impl Ctx {
    pub fn new(state: &AppState, uri: &Uri, headers: &HeaderMap) -> Ctx {
        let query: Vec<(String, String)> = uri
            .query()
            .map(|q| {
                q.split('&')
                    .filter_map(|kv| {
                        kv.split_once('=')
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let asked = query
            .iter()
            .find(|(k, _)| k == "lang")
            .map(|(_, v)| v.as_str());
        let (lang, remember) = negotiate(asked, headers);
        let mut kept: Vec<String> = query
            .iter()
            .filter(|(k, _)| k != "lang")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        kept.push(format!("lang={}", lang.other().code()));
        Ctx {
            tr: Tr::new(lang),
            remember_lang: remember,
            switch_href: format!("{}?{}", uri.path(), kept.join("&")),
            secure: auth::is_secure(state, headers),
        }
    }

    /// Renders a page, remembering a language chosen with `?lang=`.
    pub fn render<T: Template>(&self, status: StatusCode, page: &T) -> Response {
        match page.render() {
            Ok(html) => {
                let mut r = (status, Html(html)).into_response();
                if self.remember_lang {
                    let cookie = format!(
                        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{}",
                        self.tr.lang.code(),
                        if self.secure { "; Secure" } else { "" }
                    );
                    if let Ok(v) = HeaderValue::from_str(&cookie) {
                        r.headers_mut().append(header::SET_COOKIE, v);
                    }
                }
                r
            }
            Err(e) => {
                tracing::error!(error = %e, "rendering a page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
            }
        }
    }

    pub fn lang(&self) -> Lang {
        self.tr.lang
    }
}

/// The signed-in user as the page header shows them.
pub struct NavUser {
    pub display_name: String,
    pub csrf: String,
    pub can_create: bool,
    pub can_supervise: bool,
    pub can_admin: bool,
    /// May read and file incoming mail that matched no case.
    pub can_triage_mail: bool,
    /// May print letters (the print queue).
    pub can_print: bool,
    /// May read the office's reports.
    pub can_report: bool,
    /// When the session ends, in milliseconds since the epoch (for the warning before it does).
    pub expires_ms: i64,
}

impl NavUser {
    pub fn of(u: &CurrentUser) -> NavUser {
        NavUser {
            display_name: u.user.display_name.clone(),
            csrf: u.csrf.clone().unwrap_or_default(),
            can_create: u.user.role.allows(Permission::CaseCreate),
            can_supervise: u.user.role.allows(Permission::CaseAssign),
            can_admin: u.user.role.allows(Permission::UserWrite),
            can_triage_mail: u.user.role.allows(Permission::MailTriage),
            can_print: u.user.role.allows(Permission::CaseChangeStatus)
                && u.user.role.allows(Permission::ConsumerRead),
            can_report: u.user.role.allows(Permission::ReportRead),
            expires_ms: u.session_expires.map(|t| t.as_millisecond()).unwrap_or(0),
        }
    }
}

/// The signed-in user, or a redirect to the login page.
pub(super) async fn session(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<CurrentUser, Response> {
    match auth::session_user(state, headers).await {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(axum::response::Redirect::to("/login").into_response()),
        Err(AppError::Unavailable(_)) => Err(unavailable(state, headers)),
        Err(e) => Err(internal(e)),
    }
}

/// The database is out of reach: say so plainly, keep the session cookie, ask to retry.
pub(super) fn unavailable(state: &AppState, headers: &HeaderMap) -> Response {
    unavailable_page(&Ctx::new(state, &Uri::from_static("/"), headers))
}

/// A failure on a page: the "temporarily unavailable" page for an outage, else an error.
pub(super) fn store_failed(ctx: &Ctx, e: AppError) -> Response {
    if matches!(e, AppError::Unavailable(_)) {
        unavailable_page(ctx)
    } else {
        internal(e)
    }
}

fn unavailable_page(ctx: &Ctx) -> Response {
    let mut r = message(
        ctx,
        None,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable-title",
        "unavailable-body",
    );
    r.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_static(crate::error::RETRY_AFTER_OUTAGE_SECS),
    );
    r
}

/// An unexpected failure: logged with its cause; the person sees a plain error.
pub(super) fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "page failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

/// The page for a role that may not do this.
pub(super) fn forbidden(ctx: &Ctx, user: &CurrentUser) -> Response {
    message(
        ctx,
        Some(NavUser::of(user)),
        StatusCode::FORBIDDEN,
        "forbidden-title",
        "forbidden-body",
    )
}

/// One problem with a form field, ready to show.
pub struct FieldMsg {
    pub id: String,
    pub label: String,
    pub message: String,
}

/// A form's values and its problems, for showing it again.
#[derive(Default)]
pub struct Form {
    pub values: HashMap<String, String>,
    pub errors: Vec<FieldMsg>,
    by_field: HashMap<String, String>,
}

impl Form {
    pub fn with(values: HashMap<String, String>) -> Form {
        Form {
            values,
            ..Form::default()
        }
    }
    pub fn v(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }
    pub fn err(&self, name: &str) -> Option<&str> {
        self.by_field.get(name).map(String::as_str)
    }
    pub fn invalid(&self, name: &str) -> bool {
        self.by_field.contains_key(name)
    }
    pub fn id(&self, name: &str) -> String {
        name.replace('.', "-")
    }
    /// Adds a problem; `field` is the form field's name.
    pub fn add(&mut self, tr: &Tr, field: &str, message: String) {
        let target = match field {
            "consumer" => "consumer.phone",
            "consumer_id" => "consumer.name",
            _ => field,
        };
        // A lifecycle step's fields carry the step in their id (several steps share names).
        let (id, label) = match target.strip_prefix("fields.") {
            Some(name) => (
                format!("t-{}-{name}", self.v("transition")),
                name.replace('_', " "),
            ),
            None => (target.replace('.', "-"), field_label(tr, field)),
        };
        self.errors.push(FieldMsg {
            id,
            label,
            message: message.clone(),
        });
        self.by_field.entry(target.to_string()).or_insert(message);
    }
    /// Adds the API's validation problems, translated.
    pub fn add_all(&mut self, tr: &Tr, errors: &FieldErrors) {
        for e in &errors.0 {
            self.add(tr, &e.field, tr.error(&e.code, &e.message));
        }
    }
}

/// The label people see for a field, for the error summary.
pub fn field_label(tr: &Tr, field: &str) -> String {
    let id = match field {
        "kind" => "intake-kind",
        "channel" => "intake-channel",
        "consumer" | "consumer.phone" => "intake-phone",
        "consumer.name" => "intake-name",
        "consumer_id" => "intake-chosen",
        "consumer.email" => "intake-email",
        "consumer.account_number" => "intake-account",
        "consumer.preferred_language" => "intake-language",
        "consumer.address.line1" => "intake-address",
        "consumer.address.city" => "intake-city",
        "consumer.address.state" => "intake-state",
        "consumer.address.zip" => "intake-zip",
        "company_id" => "intake-company",
        "category" => "intake-category",
        "amount_in_dispute" => "intake-amount",
        "description" => "intake-description",
        "call_length" => "call-length",
        "lifecycle" => "intake-lifecycle",
        "body" | "call_body" => "case-note-body",
        "visibility" => "case-visibility",
        "direction" => "case-call-direction",
        "status" => "case-new-status",
        "reason" => "case-reason",
        "unit" => "case-unit",
        "assignee" => "case-assignee",
        "username" => "login-username",
        "password" => "login-password",
        "reference" => "portal-lookup-reference",
        "contact" => "portal-lookup-contact",
        "display_name" | "name" => "admin-name",
        "email" => "admin-email",
        "role" => "admin-role",
        "code" => "admin-code",
        "user_unit" => "case-unit",
        "case" => "sup-select",
        "current_password" | "totp_password" => "account-current",
        "totp_code" => "totp-code",
        "new_password" => "account-new",
        "confirm_password" => "account-confirm",
        "file" => "case-file",
        "target" => "case-link-target",
        "link_kind" => "case-link-kind",
        "into" => "case-merge-into",
        "note" => "case-file-note",
        "routing_channel" => "sup-channel",
        "routing_kind" => "col-kind",
        "routing_category" => "admin-routing-category",
        "routing_unit" => "home-queue-unit",
        "routing_position" => "admin-routing-position",
        "report" => "schedule-report",
        "every" => "schedule-every",
        "format" => "schedule-format",
        "language" => "schedule-language",
        "recipients" => "schedule-recipients",
        "office" => "report-office",
        "compare_office" => "report-compare-office",
        "from" => "report-from",
        "to" => "report-to",
        "interval" => "report-interval",
        "by" => "report-by",
        "target_days" => "report-target-days",
        "answer_seconds" => "report-answer-seconds",
        "compare_from" => "report-compare-from",
        "compare_to" => "report-compare-to",
        "root_cause" | "fields.root_cause" => "case-root-cause",
        "outcome" | "fields.outcome" => "case-outcome",
        other => return other.to_string(),
    };
    tr.t(id)
}

/// Options for a select: (value, label).
pub type Options = Vec<(String, String)>;

pub fn word_options<T: Copy + std::fmt::Display>(tr: &Tr, prefix: &str, words: &[T]) -> Options {
    words
        .iter()
        .map(|w| (w.to_string(), tr.word(prefix, &w.to_string())))
        .collect()
}

/// Double-submit token for forms shown before anyone logs in (login, portal): a cookie and a
/// hidden field that must match.
pub const FORM_COOKIE: &str = "redress_form";

/// `secure`: the request came over TLS (the cookie is then marked `Secure`).
pub fn form_token(secure: bool, headers: &HeaderMap) -> (String, Option<String>) {
    match auth::cookie_value(headers, FORM_COOKIE)
        .filter(|v| v.len() == 32 && v.chars().all(|c| c.is_ascii_hexdigit()))
    {
        Some(v) => (v, None),
        None => {
            let v = redress_app::accounts::random_hex(16).unwrap_or_default();
            let secure = if secure { "; Secure" } else { "" };
            let cookie = format!("{FORM_COOKIE}={v}; Path=/; HttpOnly; SameSite=Lax{secure}");
            (v, Some(cookie))
        }
    }
}

pub fn with_cookie(mut r: Response, cookie: Option<String>) -> Response {
    if let Some(c) = cookie
        && let Ok(v) = HeaderValue::from_str(&c)
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// Whether a posted anonymous form carries the token of its cookie, and comes from this site.
pub fn form_token_ok(headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    let cookie = auth::cookie_value(headers, FORM_COOKIE);
    same_origin(headers)
        && cookie.is_some()
        && cookie.as_deref() == form.get("csrf").map(String::as_str)
}

/// A cross-site post is refused: the Origin, when sent, must be this host.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin.split_once("://").is_some_and(|(_, h)| h == host)
}

/// A size in bytes as people read it: "12 KB", "1.5 MB".
pub(super) fn human_size(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else if bytes >= 1024 {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}

/// A timestamp in the office's time zone, for people.
pub fn local_time(state: &AppState, t: jiff::Timestamp) -> String {
    match jiff::tz::TimeZone::get(&state.office.time_zone) {
        Ok(tz) => t.to_zoned(tz).strftime("%Y-%m-%d %H:%M").to_string(),
        Err(_) => t.strftime("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

/// A clock's label in the reader's language, from a lifecycle of the case's kind that has it
/// (the clock's name only when none does).
pub fn clock_label(
    state: &AppState,
    tr: &Tr,
    kind: redress_domain::CaseKind,
    name: &str,
) -> String {
    let found = state
        .lifecycles
        .of_kind(kind)
        .into_iter()
        .find_map(|l| l.clock(name));
    match found {
        Some(c) if tr.lang == Lang::Es => c.label_es.clone(),
        Some(c) => c.label.clone(),
        None => tr.word("clock", name),
    }
}

/// An instant a system entry recorded: RFC 3339 text or microseconds since the epoch.
fn recorded_instant(v: &serde_json::Value) -> Option<jiff::Timestamp> {
    match v {
        serde_json::Value::String(s) => s.parse().ok(),
        serde_json::Value::Number(n) => n
            .as_i64()
            .and_then(|m| jiff::Timestamp::from_microsecond(m).ok()),
        _ => None,
    }
}

/// A lifecycle step's entry told again in the reader's language from what it recorded (see
/// `Lifecycle::step_record`). `None` when the lifecycle does not know the step.
fn step_text(
    tr: &Tr,
    lc: &redress_domain::lifecycle::Lifecycle,
    d: &serde_json::Value,
) -> Option<String> {
    let transition = d["transition"].as_str()?;
    lc.transition(transition)?;
    let facts: Vec<(String, String)> = d["facts"]
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Some(lc.step_record(
        transition,
        d["from"].as_str()?,
        d["to"].as_str()?,
        &facts,
        tr.lang == Lang::Es,
    ))
}

/// What a timeline entry says, in the reader's language: what the system wrote is told again
/// from its recorded details (clocks by their labels, people and units by their names); what a
/// person wrote is shown as written.
pub fn entry_text(
    state: &AppState,
    tr: &Tr,
    (kind, lc): (
        redress_domain::CaseKind,
        Option<&redress_domain::lifecycle::Lifecycle>,
    ),
    names: &redress_app::work::Names,
    e: &redress_domain::records::TimelineEntry,
) -> String {
    let d = &e.data;
    if e.entry_type == redress_domain::EntryType::StatusChange
        && let Some(text) = lc.and_then(|lc| step_text(tr, lc, d))
    {
        return text;
    }
    let text = |k: &str| d[k].as_str().unwrap_or_default().to_string();
    let clock = || clock_label(state, tr, kind, d["clock"].as_str().unwrap_or_default());
    let due = || {
        recorded_instant(&d["due_at"])
            .map(|t| local_time(state, t))
            .unwrap_or_default()
    };
    let fields = |key: &str| {
        let list: Vec<String> = match &d[key] {
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_str())
                .map(str::to_string)
                .collect(),
            serde_json::Value::Object(o) => o.keys().cloned().collect(),
            _ => vec![],
        };
        list.iter()
            .map(|f| tr.word("field", f))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match e.entry_type {
        redress_domain::EntryType::Assignment => {
            let who = d["to"]["assignee_id"]
                .as_i64()
                .and_then(|id| names.people.get(&id))
                .map(|(_, n)| n.clone())
                .unwrap_or_else(|| tr.t("case-unassigned"));
            let unit = d["to"]["unit_id"]
                .as_i64()
                .and_then(|id| names.units.get(&id))
                .map(|(_, n)| n.clone())
                .unwrap_or_else(|| tr.t("sup-no-unit"));
            return tr.targs("event-assigned", &[("who", &who), ("unit", &unit)]);
        }
        redress_domain::EntryType::SystemEvent => {}
        _ => return e.body.clone(),
    }
    match d["event"].as_str().unwrap_or_default() {
        "opened" => tr.targs(
            "event-opened",
            &[
                ("kind", &tr.word("kind", &text("kind"))),
                ("channel", &tr.word("channel", &text("channel"))),
            ],
        ),
        "updated" => tr.t1("event-updated", "fields", &fields("changes")),
        "consumer_corrected" => tr.t1("event-consumer-corrected", "fields", &fields("fields")),
        "clock_started" => tr.targs(
            "event-clock-started",
            &[("clock", &clock()), ("due", &due())],
        ),
        "clock_resumed" => tr.targs(
            "event-clock-resumed",
            &[("clock", &clock()), ("due", &due())],
        ),
        "clock_paused" => tr.t1("event-clock-paused", "clock", &clock()),
        "clock_stopped" => tr.targs(
            "event-clock-stopped",
            &[
                ("clock", &clock()),
                ("outcome", &tr.word("clockoutcome", &text("outcome"))),
            ],
        ),
        "clock_due_soon" => tr.targs(
            "event-clock-due-soon",
            &[("clock", &clock()), ("due", &due())],
        ),
        "clock_escalated" => tr.targs(
            "event-clock-missed",
            &[("clock", &clock()), ("due", &due())],
        ),
        "lifecycle_changed" => {
            let name = state
                .lifecycles
                .by_id(&text("to"))
                .map(|l| {
                    if tr.lang == Lang::Es {
                        l.name_es.clone()
                    } else {
                        l.name.clone()
                    }
                })
                .unwrap_or_else(|| text("to"));
            tr.t1("event-lifecycle-changed", "name", &name)
        }
        "letters_mailed" => {
            let letters: Vec<String> = d["letters"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str())
                        .map(|n| n.replace('_', " "))
                        .collect()
                })
                .unwrap_or_default();
            let date = redress_domain::calendar::recorded_in_words(
                &text("mailed_on"),
                tr.lang == Lang::Es,
            );
            tr.targs(
                "event-letters-mailed",
                &[
                    ("date", &date),
                    ("batch", &d["batch_id"].to_string()),
                    ("letters", &letters.join(", ")),
                ],
            )
        }
        "notices_opt_out" => tr.t("event-notices-opt-out"),
        "notices_opt_in" => tr.t("event-notices-opt-in"),
        "email_bounced" => tr.targs(
            "event-email-bounced",
            &[("to", &text("recipient")), ("reason", &text("reason"))],
        ),
        "priority_raised" => tr.targs(
            "event-priority-raised",
            &[
                ("from", &tr.word("priority", &text("from"))),
                ("to", &tr.word("priority", &text("to"))),
            ],
        ),
        _ => e.body.clone(),
    }
}

fn office_zoned(state: &AppState, t: jiff::Timestamp) -> jiff::Zoned {
    let tz = jiff::tz::TimeZone::get(&state.office.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    t.to_zoned(tz)
}

/// A day as people write it in the reader's language: "December 16, 2026", "16 de diciembre
/// de 2026".
pub fn date_words(state: &AppState, tr: &Tr, t: jiff::Timestamp) -> String {
    let z = office_zoned(state, t);
    redress_domain::calendar::date_in_words(z.date(), tr.lang == Lang::Es)
}

/// A day and time as people write them in the reader's language: "December 16, 2026, 3:30
/// p.m.", "16 de diciembre de 2026, 15:30".
pub fn when_words(state: &AppState, tr: &Tr, t: jiff::Timestamp) -> String {
    let z = office_zoned(state, t);
    let day = date_words(state, tr, t);
    match tr.lang {
        Lang::Es => format!("{day}, {}:{:02}", z.hour(), z.minute()),
        Lang::En => {
            let (h, half) = match z.hour() {
                0 => (12, "a.m."),
                h @ 1..=11 => (h, "a.m."),
                12 => (12, "p.m."),
                h => (h - 12, "p.m."),
            };
            format!("{day}, {h}:{:02} {half}", z.minute())
        }
    }
}

/// A call's length as people type it: minutes (`4`, `4.5`) or minutes and seconds (`4:30`,
/// `0:45`), in seconds; `None` for anything else or more than a day.
pub fn call_length(text: &str) -> Option<i64> {
    let t = text.trim();
    let seconds = match t.split_once(':') {
        Some((m, s)) => {
            let m: i64 = m.trim().parse().ok()?;
            let s: i64 = s.trim().parse().ok()?;
            if !(0..60).contains(&s) || m < 0 {
                return None;
            }
            m * 60 + s
        }
        None => {
            let m: f64 = t.replace(',', ".").parse().ok()?;
            if !m.is_finite() || m < 0.0 {
                return None;
            }
            (m * 60.0).round() as i64
        }
    };
    (0..=86_400).contains(&seconds).then_some(seconds)
}

/// A consumer's phone and email, as one line for people.
pub fn contact_line(c: &redress_domain::records::Consumer) -> String {
    [c.phone.as_deref(), c.email.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A day in the office's time zone, for people.
pub fn local_date(state: &AppState, t: jiff::Timestamp) -> String {
    match jiff::tz::TimeZone::get(&state.office.time_zone) {
        Ok(tz) => t.to_zoned(tz).strftime("%Y-%m-%d").to_string(),
        Err(_) => t.strftime("%Y-%m-%d").to_string(),
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub tr: Tr,
    pub nav: Option<NavUser>,
    pub switch_href: String,
    pub title: String,
    pub body: String,
    pub back_href: String,
    pub back_label: String,
}

pub fn message(
    ctx: &Ctx,
    nav: Option<NavUser>,
    status: StatusCode,
    title_id: &str,
    body_id: &str,
) -> Response {
    let tr = ctx.tr;
    ctx.render(
        status,
        &MessagePage {
            tr,
            nav,
            switch_href: ctx.switch_href.clone(),
            title: tr.t(title_id),
            body: tr.t(body_id),
            back_href: "/".into(),
            back_label: tr.t("notfound-home"),
        },
    )
}

pub fn not_found_page(state: &AppState, uri: &Uri, headers: &HeaderMap) -> Response {
    let ctx = Ctx::new(state, uri, headers);
    message(
        &ctx,
        None,
        StatusCode::NOT_FOUND,
        "notfound-title",
        "notfound-body",
    )
}

/// A readable page listing every operation of the OpenAPI document.
pub fn api_docs_page(openapi: &utoipa::openapi::OpenApi) -> String {
    let mut rows = String::new();
    let json = serde_json::to_value(openapi).unwrap_or_default();
    if let Some(paths) = json.get("paths").and_then(|p| p.as_object()) {
        for (path, item) in paths {
            if let Some(ops) = item.as_object() {
                for (method, op) in ops {
                    let summary = op.get("summary").and_then(|s| s.as_str()).unwrap_or("");
                    rows.push_str(&format!(
                        "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                        escape(&method.to_uppercase()),
                        escape(path),
                        escape(summary)
                    ));
                }
            }
        }
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>API reference · Redress</title><link rel=\"stylesheet\" href=\"/static/redress.css\"></head><body><a class=\"skip\" href=\"#main\">Skip to main content</a>\
<header class=\"top\"><p class=\"brand\"><a href=\"/\">Redress</a></p></header><main id=\"main\" tabindex=\"-1\"><h1>Redress API reference</h1>\
<p>The machine-readable description is at <a href=\"/api/openapi.json\">/api/openapi.json</a> (OpenAPI 3.1). Send <code>Authorization: Bearer TOKEN</code>.</p>\
<table><caption>Operations</caption><thead><tr><th scope=\"col\">Method</th><th scope=\"col\">Path</th><th scope=\"col\">What it does</th></tr></thead><tbody>{rows}</tbody></table></main></body></html>"
    )
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::call_length;

    #[test]
    fn a_call_is_typed_in_minutes_or_minutes_and_seconds() {
        assert_eq!(call_length("4"), Some(240));
        assert_eq!(call_length("4:30"), Some(270));
        assert_eq!(call_length(" 0:45 "), Some(45));
        assert_eq!(call_length("2.5"), Some(150));
        assert_eq!(call_length("0"), Some(0));
        for bad in ["", "four", "4:75", "-1", "1441", "1:-5", "NaN", "inf"] {
            assert_eq!(call_length(bad), None, "{bad}");
        }
    }
}
