//! The print queue: letters waiting to be printed, making the day's batch, a batch's page with
//! its mailing list, its PDF and the form that marks it mailed; any letter as a PDF.

use super::staff::{csrf_ok, refused};
use super::*;
use crate::api::letters::pdf_response;
use axum::Form as PostForm;
use axum::extract::{Path, Query, State};
use axum::response::Redirect;
use axum::routing::post;
use redress_app::letters::{BatchMailed, LetterBatch, PrintedLetter};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/letters", get(queue_page))
        .route("/letters/batches", post(make_batch))
        .route("/letters/batches/{id}", get(batch_page))
        .route("/letters/batches/{id}/pdf", get(batch_pdf))
        .route("/letters/batches/{id}/mailed", post(batch_mailed))
        .route("/letters/{id}/pdf", get(letter_pdf))
}

type Fields = HashMap<String, String>;

/// A letter as a row: id, reference, recipient (one line), letter, language, written.
type LetterRow = (i64, String, String, String, String, String);

fn letter_row(state: &AppState, tr: &Tr, l: &PrintedLetter) -> LetterRow {
    (
        l.id,
        l.reference.clone(),
        l.recipient.join(", "),
        l.name.replace('_', " "),
        tr.word("language", &l.language),
        local_time(state, l.created_at),
    )
}

/// A batch as a row: id, printed for, letters, mailed on (empty: not yet).
type BatchRow = (i64, String, i64, String);

fn batch_row(tr: &Tr, b: &LetterBatch) -> BatchRow {
    let words = |d: &str| {
        d.parse::<jiff::civil::Date>()
            .map(|d| redress_domain::calendar::date_in_words(d, tr.lang == Lang::Es))
            .unwrap_or_else(|_| d.to_string())
    };
    (
        b.id,
        words(&b.mail_on),
        b.letters,
        b.mailed_on.as_deref().map(words).unwrap_or_default(),
    )
}

#[derive(Template)]
#[template(path = "letters.html")]
struct QueuePage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    csrf: String,
    form: Form,
    queued: Vec<LetterRow>,
    batches: Vec<BatchRow>,
}

async fn queue_render(
    state: &AppState,
    ctx: &Ctx,
    user: &CurrentUser,
    form: Form,
    status: StatusCode,
) -> Response {
    let tr = ctx.tr;
    let queued = match state.letters(user, Some("queued")).await {
        Ok(l) => l,
        Err(e @ AppError::Forbidden) => return refused(ctx, user, e),
        Err(e) => return store_failed(ctx, e),
    };
    let batches = match state.letter_batches(user).await {
        Ok(b) => b,
        Err(e) => return store_failed(ctx, e),
    };
    let page = QueuePage {
        tr,
        nav: Some(NavUser::of(user)),
        switch_href: ctx.switch_href.clone(),
        csrf: user.csrf.clone().unwrap_or_default(),
        form,
        queued: queued.iter().map(|l| letter_row(state, &tr, l)).collect(),
        batches: batches.iter().map(|b| batch_row(&tr, b)).collect(),
    };
    ctx.render(status, &page)
}

async fn queue_page(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    queue_render(&state, &ctx, &user, Form::default(), StatusCode::OK).await
}

async fn make_batch(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let tr = ctx.tr;
    let mut form = Form::with(fields.clone());
    if !csrf_ok(&user, &headers, fields.get("csrf").map(String::as_str)) {
        form.add(&tr, "csrf", tr.t("error-csrf"));
        return queue_render(&state, &ctx, &user, form, StatusCode::FORBIDDEN).await;
    }
    match state.make_batch(&user).await {
        Ok(b) => Redirect::to(&format!("/letters/batches/{}", b.id)).into_response(),
        Err(AppError::Validation(errors)) => {
            form.add_all(&tr, &errors);
            queue_render(&state, &ctx, &user, form, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e @ AppError::Forbidden) => refused(&ctx, &user, e),
        Err(e) => store_failed(&ctx, e),
    }
}

#[derive(Template)]
#[template(path = "letter_batch.html")]
struct BatchPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    csrf: String,
    form: Form,
    notice: Option<String>,
    batch: BatchRow,
    printed_by: String,
    letters: Vec<LetterRow>,
}

async fn batch_render(
    state: &AppState,
    ctx: &Ctx,
    user: &CurrentUser,
    id: i64,
    mut form: Form,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let tr = ctx.tr;
    let (batch, letters) = match state.letter_batch(user, id).await {
        Ok(b) => b,
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
    let today = office_zoned(state, state.clock.now()).date().to_string();
    form.values.entry("mailed_on".into()).or_insert(today);
    let page = BatchPage {
        tr,
        nav: Some(NavUser::of(user)),
        switch_href: ctx.switch_href.clone(),
        csrf: user.csrf.clone().unwrap_or_default(),
        form,
        notice,
        batch: batch_row(&tr, &batch),
        printed_by: batch.created_by.clone(),
        letters: letters.iter().map(|l| letter_row(state, &tr, l)).collect(),
    };
    ctx.render(status, &page)
}

async fn batch_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<Fields>,
) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let notice = q
        .get("done")
        .filter(|d| *d == "mailed")
        .map(|_| ctx.tr.t("letters-marked-mailed"));
    batch_render(
        &state,
        &ctx,
        &user,
        id,
        Form::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

async fn batch_mailed(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let tr = ctx.tr;
    let mut form = Form::with(fields.clone());
    if !csrf_ok(&user, &headers, fields.get("csrf").map(String::as_str)) {
        form.add(&tr, "csrf", tr.t("error-csrf"));
        return batch_render(&state, &ctx, &user, id, form, None, StatusCode::FORBIDDEN).await;
    }
    let input = BatchMailed {
        mailed_on: fields.get("mailed_on").cloned().unwrap_or_default(),
    };
    match state.mark_batch_mailed(&user, id, input).await {
        Ok(_) => Redirect::to(&format!("/letters/batches/{id}?done=mailed")).into_response(),
        Err(AppError::Validation(errors)) => {
            form.add_all(&tr, &errors);
            batch_render(
                &state,
                &ctx,
                &user,
                id,
                form,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Conflict(_)) => {
            let notice = Some(tr.t("letters-mailed-before"));
            batch_render(&state, &ctx, &user, id, form, notice, StatusCode::CONFLICT).await
        }
        Err(e @ AppError::Forbidden) => refused(&ctx, &user, e),
        Err(e) => store_failed(&ctx, e),
    }
}

async fn batch_pdf(
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
    match state.batch_pdf(&user, id).await {
        Ok(pdf) => pdf_response(pdf, &format!("letter-batch-{id}.pdf")),
        Err(e) => pdf_failed(&ctx, &user, e),
    }
}

async fn letter_pdf(
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
    match state.letter_pdf(&user, id).await {
        Ok((l, pdf)) => pdf_response(pdf, &format!("{}-letter-{}.pdf", l.reference, l.id)),
        Err(e) => pdf_failed(&ctx, &user, e),
    }
}

fn pdf_failed(ctx: &Ctx, user: &CurrentUser, e: AppError) -> Response {
    match e {
        AppError::NotFound => message(
            ctx,
            Some(NavUser::of(user)),
            StatusCode::NOT_FOUND,
            "notfound-title",
            "notfound-body",
        ),
        e @ AppError::Forbidden => refused(ctx, user, e),
        e => store_failed(ctx, e),
    }
}
