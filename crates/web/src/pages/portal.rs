//! The public portal: anyone may file a complaint or ask a question without an account, then
//! follow it with a private link (or reference number plus email or phone) and add to it.

use super::*;
use crate::error::ApiError;
use axum::Form as PostForm;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::response::Redirect;
use axum::routing::post;
use redress_app::portal::{PortalComplaint, Sender};
use redress_app::work::Names;
use redress_domain::EntryType;
use std::net::SocketAddr;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal", get(portal_home))
        .route(
            "/portal/complaint",
            get(complaint_page).post(complaint_submit),
        )
        .route("/portal/status", get(lookup_page).post(lookup_submit))
        .route("/portal/status/{token}", get(status_page))
        .route("/portal/status/{token}/add", post(add_information))
        .route("/portal/status/{token}/attachments/{id}", get(download))
}

type Fields = HashMap<String, String>;

/// Who the public is dealing with, on every portal page: the office's name, phone and hours.
pub(super) struct OfficeFooter {
    name: String,
    phone: String,
    hours: String,
}

fn office_footer(state: &AppState, tr: &Tr) -> OfficeFooter {
    let hour = |h: i8| -> String {
        if tr.lang == Lang::Es {
            format!("{h}:00")
        } else {
            match h {
                0 => "12 a.m.".into(),
                1..=11 => format!("{h} a.m."),
                12 => "12 p.m.".into(),
                _ => format!("{} p.m.", h - 12),
            }
        }
    };
    OfficeFooter {
        name: state.office.name.clone(),
        phone: state.settings.office_phone.clone().unwrap_or_default(),
        hours: tr.targs(
            "portal-hours",
            &[
                ("opens", &hour(state.office.opens_at)),
                ("closes", &hour(state.office.closes_at)),
            ],
        ),
    }
}

fn opt(form: &Fields, name: &str) -> Option<String> {
    form.get(name)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

#[derive(Template)]
#[template(path = "portal_home.html")]
struct HomePage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    office: OfficeFooter,
}

async fn portal_home(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let ctx = Ctx::new(&state, &uri, &headers);
    ctx.render(
        StatusCode::OK,
        &HomePage {
            tr: ctx.tr,
            nav: None,
            office: office_footer(&state, &ctx.tr),
            switch_href: ctx.switch_href.clone(),
        },
    )
}

#[derive(Template)]
#[template(path = "portal_form.html")]
struct ComplaintPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    office: OfficeFooter,
    csrf: String,
    form: Form,
    kinds: Options,
    /// The companies on file, suggested as the consumer types.
    companies: Vec<String>,
    categories: Options,
}

async fn complaint_render(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    form: Form,
    status: StatusCode,
) -> Response {
    let tr = ctx.tr;
    let (csrf, cookie) = form_token(ctx.secure, headers);
    let choices = match state.portal_choices().await {
        Ok(c) => c,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let spanish = tr.lang == Lang::Es;
    let company_names = choices.companies.into_iter().map(|c| c.name).collect();
    // The public chooses what the problem is about in plain words: the top of the category
    // tree, in their language; staff refine it later.
    let mut topics: Vec<(String, String)> = choices
        .categories
        .iter()
        .filter(|c| c.parent_id.is_none())
        .map(|c| (c.path.clone(), c.name_in(spanish).to_string()))
        .collect();
    topics.sort_by_key(|t| t.1.to_lowercase());
    let mut category_options = vec![(String::new(), tr.t("portal-topic-none"))];
    category_options.extend(topics);
    let page = ComplaintPage {
        tr,
        nav: None,
        office: office_footer(state, &ctx.tr),
        switch_href: ctx.switch_href.clone(),
        csrf,
        form,
        kinds: vec![
            ("complaint".into(), tr.t("portal-kind-complaint")),
            ("inquiry".into(), tr.t("portal-kind-inquiry")),
        ],
        companies: company_names,
        categories: category_options,
    };
    with_cookie(ctx.render(status, &page), cookie)
}

async fn complaint_page(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let ctx = Ctx::new(&state, &uri, &headers);
    let form = Form::with([("kind".to_string(), "complaint".to_string())].into());
    complaint_render(&state, &ctx, &headers, form, StatusCode::OK).await
}

async fn complaint_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let ctx = Ctx::new(&state, &uri, &headers);
    let tr = ctx.tr;
    let mut form = Form::with(fields.clone());
    if !form_token_ok(&headers, &fields) {
        form.add(&tr, "csrf", tr.t("error-csrf"));
        return complaint_render(&state, &ctx, &headers, form, StatusCode::FORBIDDEN).await;
    }
    if opt(&fields, "website").is_some() {
        // The hidden field people never see was filled in: a robot. Store nothing.
        return Redirect::to("/portal").into_response();
    }
    if !state.limiter.allow(peer.ip(), state.clock.now()) {
        form.add(&tr, "csrf", tr.t("error-rate_limited"));
        return complaint_render(&state, &ctx, &headers, form, StatusCode::TOO_MANY_REQUESTS).await;
    }
    let complaint = PortalComplaint {
        kind: opt(&fields, "kind"),
        description: opt(&fields, "description"),
        name: opt(&fields, "consumer.name"),
        email: opt(&fields, "consumer.email"),
        phone: opt(&fields, "consumer.phone"),
        address_line1: opt(&fields, "consumer.address.line1"),
        zip: opt(&fields, "consumer.address.zip"),
        account_number: opt(&fields, "consumer.account_number"),
        company: opt(&fields, "company"),
        category: opt(&fields, "category"),
        amount_in_dispute: opt(&fields, "amount_in_dispute"),
        spanish: ctx.lang() == Lang::Es,
        publish_consent: fields.get("publish_consent").is_some_and(|v| v == "yes"),
    };
    // The link mailed to the consumer, in the language they filed in.
    let letter = |reference: &str, link: &str| {
        (
            tr.t1("portal-mail-subject", "reference", reference),
            tr.targs(
                "portal-mail-body",
                &[("reference", reference), ("link", link)],
            ),
        )
    };
    match state.file_from_portal(complaint, letter).await {
        Ok(token) => Redirect::to(&format!("/portal/status/{token}?new=1")).into_response(),
        Err(AppError::Validation(errors)) => {
            form.add_all(&tr, &errors);
            complaint_render(
                &state,
                &ctx,
                &headers,
                form,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "portal_lookup.html")]
struct LookupPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    office: OfficeFooter,
    csrf: String,
    form: Form,
}

fn lookup_render(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    form: Form,
    status: StatusCode,
) -> Response {
    let (csrf, cookie) = form_token(ctx.secure, headers);
    with_cookie(
        ctx.render(
            status,
            &LookupPage {
                tr: ctx.tr,
                nav: None,
                office: office_footer(state, &ctx.tr),
                switch_href: ctx.switch_href.clone(),
                csrf,
                form,
            },
        ),
        cookie,
    )
}

async fn lookup_page(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let ctx = Ctx::new(&state, &uri, &headers);
    lookup_render(&state, &ctx, &headers, Form::default(), StatusCode::OK)
}

async fn lookup_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let ctx = Ctx::new(&state, &uri, &headers);
    let tr = ctx.tr;
    let mut form = Form::with(fields.clone());
    if !form_token_ok(&headers, &fields) {
        form.add(&tr, "csrf", tr.t("error-csrf"));
        return lookup_render(&state, &ctx, &headers, form, StatusCode::FORBIDDEN);
    }
    let reference = opt(&fields, "reference");
    let contact = opt(&fields, "contact");
    if reference.is_none() {
        form.add(&tr, "reference", tr.t("error-required"));
    }
    if contact.is_none() {
        form.add(&tr, "contact", tr.t("error-required"));
    }
    let (Some(reference), Some(contact)) = (reference, contact) else {
        return lookup_render(
            &state,
            &ctx,
            &headers,
            form,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    if !state.limiter.allow(peer.ip(), state.clock.now()) {
        form.add(&tr, "reference", tr.t("error-rate_limited"));
        return lookup_render(&state, &ctx, &headers, form, StatusCode::TOO_MANY_REQUESTS);
    }
    match state.portal_link_by_contact(&reference, &contact).await {
        Ok(Some(token)) => Redirect::to(&format!("/portal/status/{token}")).into_response(),
        Ok(None) => {
            form.add(&tr, "reference", tr.t("error-status_not_found"));
            lookup_render(
                &state,
                &ctx,
                &headers,
                form,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

struct PublicEntry {
    at: String,
    at_iso: String,
    /// Who the update is from, in the reader's words.
    from: String,
    body: String,
    attachment: Option<i64>,
}

#[derive(Template)]
#[template(path = "portal_status.html")]
struct StatusPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    office: OfficeFooter,
    csrf: String,
    form: Form,
    reference: String,
    /// `complaint` or `inquiry`: what happens next differs.
    kind: String,
    stage: String,
    public_status: String,
    hold: Option<String>,
    opened: String,
    entries: Vec<PublicEntry>,
    link: String,
    link_full: String,
    just_filed: bool,
    has_email: bool,
    added: bool,
}

async fn status_render(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    token: &str,
    form: Form,
    flags: (bool, bool),
    status: StatusCode,
) -> Response {
    let spanish = ctx.tr.lang == crate::i18n::Lang::Es;
    let shown = match state.portal_status(token, spanish).await {
        Ok(s) => s,
        Err(AppError::NotFound) => return not_found(ctx),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let (case, entries, life) = (shown.case, shown.entries, shown.stage);
    let hold = life.hold.as_ref().filter(|h| h.active).map(|h| {
        let amount = h
            .disputed_cents
            .and_then(redress_domain::Money::from_cents)
            .map(|m| format!("${m}"))
            .unwrap_or_default();
        match h.ends_at {
            Some(t) => ctx.tr.targs(
                "hold-until",
                &[
                    ("amount", &amount),
                    ("until", &when_words(state, &ctx.tr, t)),
                ],
            ),
            None => ctx.tr.t1("hold-pending", "amount", &amount),
        }
    });
    let (csrf, cookie) = form_token(ctx.secure, headers);
    let link = format!("/portal/status/{token}");
    let page = StatusPage {
        tr: ctx.tr,
        nav: None,
        office: office_footer(state, &ctx.tr),
        switch_href: ctx.switch_href.clone(),
        csrf,
        form,
        reference: case.reference.clone(),
        kind: case.kind.as_str().to_string(),
        stage: life.stage_label.clone(),
        public_status: life.public_status.clone(),
        hold,
        opened: date_words(state, &ctx.tr, case.opened_at),
        entries: entries
            .iter()
            .map(|(e, from)| PublicEntry {
                at: when_words(state, &ctx.tr, e.at),
                at_iso: e.at.to_string(),
                from: ctx.tr.t(match from {
                    Sender::You => "portal-from-you",
                    Sender::Office => "portal-from-office",
                }),
                body: entry_text(
                    state,
                    &ctx.tr,
                    (case.kind, state.lifecycle_of(&case).ok()),
                    &Names::default(),
                    e,
                ),
                attachment: (e.entry_type == EntryType::Attachment)
                    .then(|| e.data["attachment_id"].as_i64())
                    .flatten(),
            })
            .collect(),
        link_full: state.public_link(&link),
        link,
        just_filed: flags.0,
        has_email: case.consumer.as_ref().is_some_and(|c| c.email.is_some()),
        added: flags.1,
    };
    with_cookie(ctx.render(status, &page), cookie)
}

async fn status_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(q): Query<Fields>,
) -> Response {
    let ctx = Ctx::new(&state, &uri, &headers);
    let flags = (q.contains_key("new"), q.contains_key("added"));
    status_render(
        &state,
        &ctx,
        &headers,
        &token,
        Form::default(),
        flags,
        StatusCode::OK,
    )
    .await
}

/// The page for a private link that opens nothing.
fn not_found(ctx: &Ctx) -> Response {
    message(
        ctx,
        None,
        StatusCode::NOT_FOUND,
        "notfound-title",
        "notfound-body",
    )
}

async fn add_information(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(token): Path<String>,
    mp: axum::extract::Multipart,
) -> Response {
    let ctx = Ctx::new(&state, &uri, &headers);
    let tr = ctx.tr;
    let max = state.settings.max_upload_bytes;
    let (upload, fields) = match crate::attachments::read_upload(mp, max, false).await {
        Ok(x) => x,
        Err(p) => {
            let mut form = Form::default();
            form.add(&tr, "file", tr.error(p.code(), &p.message(max)));
            return status_render(
                &state,
                &ctx,
                &headers,
                &token,
                form,
                (false, false),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let mut form = Form::with(
        fields
            .iter()
            .filter(|(k, _)| k.as_str() == "body")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    );
    if !form_token_ok(&headers, &fields) {
        form.add(&tr, "body", tr.t("error-csrf"));
        return status_render(
            &state,
            &ctx,
            &headers,
            &token,
            form,
            (false, false),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let body = fields.get("body").map(String::as_str);
    match state.add_from_portal(&token, body, upload).await {
        Ok(()) => Redirect::to(&format!("/portal/status/{token}?added=1")).into_response(),
        Err(AppError::NotFound) => not_found(&ctx),
        Err(AppError::Validation(errors)) => {
            form.add_all(&tr, &errors);
            status_render(
                &state,
                &ctx,
                &headers,
                &token,
                form,
                (false, false),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn download(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path((token, id)): Path<(String, String)>,
) -> Response {
    let ctx = Ctx::new(&state, &uri, &headers);
    let Ok(id) = id.parse::<i64>() else {
        return not_found(&ctx);
    };
    match state.portal_download(&token, id).await {
        Ok((a, bytes)) => crate::api::files::send_file(&a, bytes),
        Err(AppError::NotFound) => not_found(&ctx),
        Err(e) => ApiError::from(e).into_response(),
    }
}
