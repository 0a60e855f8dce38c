//! The mail page: incoming messages that wait for a person (unmatched: a bounce about no known
//! message, one that could not open a case; quarantined: too large, unreadable, no sender), and
//! the recent ones of every kind. A message can be read, filed on a case, or set aside.

use super::staff::{csrf_ok, refused};
use super::*;
use axum::Form as PostForm;
use axum::extract::{Path, Query, State};
use axum::response::Redirect;
use axum::routing::post;
use redress_app::correspondence::{InboundMail, InboundMessage};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/mail", get(mail_page))
        .route("/mail/{id}", get(message_page))
        .route("/mail/{id}/file", post(file_message))
        .route("/mail/{id}/dismiss", post(dismiss_message))
}

type Fields = HashMap<String, String>;

/// A message as a row of the list.
struct Row {
    id: i64,
    received: String,
    received_iso: String,
    sender: String,
    subject: String,
    size: String,
    state: String,
    reason: String,
    reference: String,
}

fn row(state: &AppState, m: &InboundMail) -> Row {
    Row {
        id: m.id,
        received: local_time(state, m.received_at),
        received_iso: m.received_at.to_string(),
        sender: m.sender.clone(),
        subject: m.subject.clone(),
        size: human_size(m.size_bytes),
        state: m.state.clone(),
        reason: m.reason.clone().unwrap_or_default(),
        reference: m.reference.clone().unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "mail.html")]
struct MailPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    notice: Option<String>,
    all: bool,
    rows: Vec<Row>,
}

async fn mail_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<Fields>,
) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let all = q.get("all").is_some_and(|v| v == "1");
    let list = match state.inbound_mail(&user, all).await {
        Ok(l) => l,
        Err(AppError::Forbidden) => return forbidden(&ctx, &user),
        Err(e) => return store_failed(&ctx, e),
    };
    let notice = match q.get("done").map(String::as_str) {
        Some("filed") => Some(ctx.tr.t("mail-filed")),
        Some("dismissed") => Some(ctx.tr.t("mail-dismissed")),
        _ => None,
    };
    let page = MailPage {
        tr: ctx.tr,
        nav: Some(NavUser::of(&user)),
        switch_href: ctx.switch_href.clone(),
        notice,
        all,
        rows: list.iter().map(|m| row(&state, m)).collect(),
    };
    ctx.render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "mail_message.html")]
struct MessagePage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    csrf: String,
    form: Form,
    msg: Row,
    message_id: String,
    source: String,
    recipients: String,
    class: String,
    text: String,
    files: Vec<String>,
    waiting: bool,
}

async fn message_render(
    state: &AppState,
    ctx: &Ctx,
    user: &CurrentUser,
    id: i64,
    form: Form,
    status: StatusCode,
) -> Response {
    let InboundMessage { mail, text, files } = match state.inbound_message(user, id).await {
        Ok(m) => m,
        Err(AppError::NotFound) => {
            return message(
                ctx,
                Some(NavUser::of(user)),
                StatusCode::NOT_FOUND,
                "notfound-title",
                "notfound-body",
            );
        }
        Err(e @ AppError::Forbidden) => return refused(ctx, user, e),
        Err(e) => return store_failed(ctx, e),
    };
    let page = MessagePage {
        tr: ctx.tr,
        nav: Some(NavUser::of(user)),
        switch_href: ctx.switch_href.clone(),
        csrf: user.csrf.clone().unwrap_or_default(),
        form,
        msg: row(state, &mail),
        message_id: mail.message_id.clone(),
        source: mail.source.clone(),
        recipients: mail.recipients.clone(),
        class: mail.class.clone(),
        text,
        files,
        waiting: matches!(mail.state.as_str(), "unmatched" | "quarantined"),
    };
    ctx.render(status, &page)
}

async fn message_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    message_render(&state, &ctx, &user, id, Form::default(), StatusCode::OK).await
}

/// A settling form: the user and context when its token is good, else the page again.
async fn settling(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    id: i64,
    fields: &Fields,
) -> Result<(CurrentUser, Ctx), Response> {
    let user = session(state, headers).await?;
    let ctx = Ctx::new(state, uri, headers);
    if !csrf_ok(&user, headers, fields.get("csrf").map(String::as_str)) {
        let tr = ctx.tr;
        let mut form = Form::with(fields.clone());
        form.add(&tr, "csrf", tr.t("error-csrf"));
        return Err(message_render(state, &ctx, &user, id, form, StatusCode::FORBIDDEN).await);
    }
    Ok((user, ctx))
}

async fn settled(
    state: &AppState,
    ctx: &Ctx,
    user: &CurrentUser,
    id: i64,
    fields: &Fields,
    result: Result<(), AppError>,
    done: &str,
) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!("/mail?done={done}")).into_response(),
        Err(AppError::Validation(errors)) => {
            let tr = ctx.tr;
            let mut form = Form::with(fields.clone());
            form.add_all(&tr, &errors);
            message_render(state, ctx, user, id, form, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(AppError::NotFound) => message(
            ctx,
            Some(NavUser::of(user)),
            StatusCode::NOT_FOUND,
            "notfound-title",
            "notfound-body",
        ),
        Err(e @ AppError::Forbidden) => refused(ctx, user, e),
        Err(e) => store_failed(ctx, e),
    }
}

async fn file_message(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx) = match settling(&state, &uri, &headers, id, &fields).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let reference = fields.get("reference").cloned().unwrap_or_default();
    let result = state.file_inbound(&user, id, &reference).await;
    settled(&state, &ctx, &user, id, &fields, result, "filed").await
}

async fn dismiss_message(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx) = match settling(&state, &uri, &headers, id, &fields).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let result = state.dismiss_inbound(&user, id).await;
    settled(&state, &ctx, &user, id, &fields, result, "dismissed").await
}
