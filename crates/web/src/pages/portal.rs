//! The public portal: anyone may file a complaint or ask a question without an account, then
//! follow it with a private link (or reference number plus email or phone) and add to it.

use super::*;
use crate::api::cases::{AddressInput, ConsumerInput, CreateCase, open_case};
use crate::error::ApiError;
use axum::Form as PostForm;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::response::Redirect;
use axum::routing::post;
use redress_domain::audit::sha256_hex;
use redress_domain::*;
use redress_store::{Actor, NewEntry, Scope, StoreError};
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

fn portal_actor() -> Actor {
    Actor {
        user_id: None,
        username: "portal".into(),
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
}

async fn portal_home(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let ctx = Ctx::new(&state, &uri, &headers);
    ctx.render(
        StatusCode::OK,
        &HomePage {
            tr: ctx.tr,
            nav: None,
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
    csrf: String,
    form: Form,
    kinds: Options,
    companies: Options,
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
    let (companies, categories) = match (
        state.store.companies().await,
        state.store.categories().await,
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return ApiError::from(e).into_response(),
    };
    let mut company_options = vec![(String::new(), tr.t("intake-company-none"))];
    company_options.extend(companies.into_iter().map(|c| (c.id.to_string(), c.name)));
    let mut category_options = vec![(String::new(), tr.t("intake-category-none"))];
    category_options.extend(categories.into_iter().map(|c| (c.path.clone(), c.path)));
    let page = ComplaintPage {
        tr,
        nav: None,
        switch_href: ctx.switch_href.clone(),
        csrf,
        form,
        kinds: vec![
            ("complaint".into(), tr.t("portal-kind-complaint")),
            ("inquiry".into(), tr.t("portal-kind-inquiry")),
        ],
        companies: company_options,
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
    let kind = match opt(&fields, "kind").as_deref() {
        Some("inquiry") => CaseKind::Inquiry,
        _ => CaseKind::Complaint,
    };
    let company_id = opt(&fields, "company_id").map(|c| c.parse::<i64>());
    if matches!(company_id, Some(Err(_))) {
        form.add(&tr, "company_id", tr.t("error-unknown_company"));
        return complaint_render(
            &state,
            &ctx,
            &headers,
            form,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let input = CreateCase {
        kind,
        channel: Channel::Web,
        description: opt(&fields, "description"),
        // The public never chooses a consumer record: every filing makes a new one with exactly
        // what was typed, and no existing record is read or changed.
        consumer_id: None,
        consumer: Some(ConsumerInput {
            name: opt(&fields, "consumer.name"),
            email: opt(&fields, "consumer.email"),
            phone: opt(&fields, "consumer.phone"),
            preferred_language: Some(if ctx.lang() == Lang::Es {
                Language::Es
            } else {
                Language::En
            }),
            address: Some(AddressInput {
                line1: opt(&fields, "consumer.address.line1"),
                line2: None,
                city: None,
                state: None,
                zip: opt(&fields, "consumer.address.zip"),
            }),
            account_number: opt(&fields, "consumer.account_number"),
        }),
        company_id: company_id.and_then(Result::ok),
        category: opt(&fields, "category"),
        amount_in_dispute: opt(&fields, "amount_in_dispute").map(serde_json::Value::String),
        priority: None,
        flags: vec![],
        unit: None,
        assignee: None,
        office: None,
    };
    let case = match open_case(&state, &portal_actor(), None, input, None).await {
        Ok((case, _)) => case,
        Err(ApiError::Validation(errors)) => {
            form.add_all(&tr, &errors);
            return complaint_render(
                &state,
                &ctx,
                &headers,
                form,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Err(e) => return e.into_response(),
    };
    let token = match mint_link(&state, &case.reference).await {
        Ok(token) => token,
        Err(e) => return ApiError::from(e).into_response(),
    };
    if let Some(email) = case.consumer.as_ref().and_then(|c| c.email.clone()) {
        // From the configured public address, never from the request's Host header.
        let link = state.public_link(&format!("/portal/status/{token}"));
        let mail = redress_store::OutgoingMail {
            recipient: email,
            subject: tr.t1("portal-mail-subject", "reference", &case.reference),
            body: tr.targs(
                "portal-mail-body",
                &[("reference", &case.reference), ("link", &link)],
            ),
            reference: Some(case.reference.clone()),
        };
        if let Err(e) = state.store.enqueue_mail(&mail, state.clock.now()).await {
            return ApiError::from(e).into_response();
        }
    }
    Redirect::to(&format!("/portal/status/{token}?new=1")).into_response()
}

/// A new private status link for a case; only its hash is kept.
async fn mint_link(state: &AppState, reference: &str) -> Result<String, StoreError> {
    let token = crate::auth::random_hex(24).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    state
        .store
        .create_portal_access(reference, &sha256_hex(token.as_bytes()), state.clock.now())
        .await?;
    Ok(token)
}

#[derive(Template)]
#[template(path = "portal_lookup.html")]
struct LookupPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    csrf: String,
    form: Form,
}

fn lookup_render(ctx: &Ctx, headers: &HeaderMap, form: Form, status: StatusCode) -> Response {
    let (csrf, cookie) = form_token(ctx.secure, headers);
    with_cookie(
        ctx.render(
            status,
            &LookupPage {
                tr: ctx.tr,
                nav: None,
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
    lookup_render(&ctx, &headers, Form::default(), StatusCode::OK)
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
        return lookup_render(&ctx, &headers, form, StatusCode::FORBIDDEN);
    }
    let reference = opt(&fields, "reference").map(|r| r.to_ascii_uppercase());
    let contact = opt(&fields, "contact");
    if reference.is_none() {
        form.add(&tr, "reference", tr.t("error-required"));
    }
    if contact.is_none() {
        form.add(&tr, "contact", tr.t("error-required"));
    }
    let (Some(reference), Some(contact)) = (reference, contact) else {
        return lookup_render(&ctx, &headers, form, StatusCode::UNPROCESSABLE_ENTITY);
    };
    if !state.limiter.allow(peer.ip(), state.clock.now()) {
        form.add(&tr, "reference", tr.t("error-rate_limited"));
        return lookup_render(&ctx, &headers, form, StatusCode::TOO_MANY_REQUESTS);
    }
    let matched = match reference.parse::<Reference>() {
        Ok(r) => match state
            .store
            .case(
                &portal_actor(),
                &r.to_string(),
                Scope::default(),
                true,
                state.clock.now(),
            )
            .await
        {
            Ok(case) => case.consumer.as_ref().is_some_and(|c| {
                let email = contact.to_ascii_lowercase();
                c.email.as_deref() == Some(email.as_str())
                    || (validate::normalize_phone(&contact).is_some()
                        && c.phone == validate::normalize_phone(&contact))
            }),
            Err(StoreError::NotFound) => false,
            Err(e) => return ApiError::from(e).into_response(),
        },
        Err(_) => false,
    };
    if !matched {
        form.add(&tr, "reference", tr.t("error-status_not_found"));
        return lookup_render(&ctx, &headers, form, StatusCode::UNPROCESSABLE_ENTITY);
    }
    match mint_link(&state, &reference).await {
        Ok(token) => Redirect::to(&format!("/portal/status/{token}")).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

struct PublicEntry {
    at: String,
    at_iso: String,
    body: String,
    attachment: Option<i64>,
}

#[derive(Template)]
#[template(path = "portal_status.html")]
struct StatusPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    csrf: String,
    form: Form,
    reference: String,
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

fn valid_token(token: &str) -> bool {
    token.len() == 48 && token.chars().all(|c| c.is_ascii_hexdigit())
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
    let not_found = || {
        message(
            ctx,
            None,
            StatusCode::NOT_FOUND,
            "notfound-title",
            "notfound-body",
        )
    };
    if !valid_token(token) {
        return not_found();
    }
    let reference = match state
        .store
        .case_by_portal_token(&sha256_hex(token.as_bytes()))
        .await
    {
        Ok(r) => r,
        Err(StoreError::NotFound) => return not_found(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let now = state.clock.now();
    let actor = portal_actor();
    let case = match state
        .store
        .case(&actor, &reference, Scope::default(), true, now)
        .await
    {
        Ok(c) => c,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let entries = match state
        .store
        .timeline(
            &actor,
            &reference,
            Scope::default(),
            Some(Visibility::Consumer),
            now,
        )
        .await
    {
        Ok(e) => e,
        Err(e) => return ApiError::from(e).into_response(),
    };
    // Where the case stands, in words the public reads, and the termination hold if any.
    let clocks = match state.store.clocks(&reference, Scope::default(), now).await {
        Ok(c) => c,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let spanish = ctx.tr.lang == crate::i18n::Lang::Es;
    let life = match crate::lifecycle::describe(state, &case, &clocks, None, spanish).await {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    // What the consumer may see of the case: the same rule as every other representation.
    let case = state.case_for(redress_domain::view::Audience::Consumer, case);
    let hold = life.hold.as_ref().filter(|h| h.active).map(|h| {
        let amount = h
            .disputed_cents
            .and_then(redress_domain::Money::from_cents)
            .map(|m| format!("${m}"))
            .unwrap_or_default();
        match h.ends_at {
            Some(t) => ctx.tr.targs(
                "hold-until",
                &[("amount", &amount), ("until", &local_time(state, t))],
            ),
            None => ctx.tr.t1("hold-pending", "amount", &amount),
        }
    });
    let (csrf, cookie) = form_token(ctx.secure, headers);
    let link = format!("/portal/status/{token}");
    let page = StatusPage {
        tr: ctx.tr,
        nav: None,
        switch_href: ctx.switch_href.clone(),
        csrf,
        form,
        reference: case.reference.clone(),
        stage: life.stage_label.clone(),
        public_status: life.public_status.clone(),
        hold,
        opened: local_time(state, case.opened_at),
        entries: entries
            .iter()
            .map(|e| PublicEntry {
                at: local_time(state, e.at),
                at_iso: e.at.to_string(),
                body: e.body.clone(),
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

/// The case a private link opens, or the response to give.
async fn linked_case(state: &AppState, ctx: &Ctx, token: &str) -> Result<String, Response> {
    if !valid_token(token) {
        return Err(message(
            ctx,
            None,
            StatusCode::NOT_FOUND,
            "notfound-title",
            "notfound-body",
        ));
    }
    match state
        .store
        .case_by_portal_token(&sha256_hex(token.as_bytes()))
        .await
    {
        Ok(r) => Ok(r),
        Err(StoreError::NotFound) => Err(message(
            ctx,
            None,
            StatusCode::NOT_FOUND,
            "notfound-title",
            "notfound-body",
        )),
        Err(e) => Err(ApiError::from(e).into_response()),
    }
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
    let reference = match linked_case(&state, &ctx, &token).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
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
    let mut errors = FieldErrors::new();
    let body = validate::optional_text(
        &mut errors,
        "body",
        fields.get("body").map(String::as_str),
        validate::BODY_MAX,
    );
    if body.is_none() && upload.is_none() && errors.is_empty() {
        errors.push(
            "body",
            "body_or_file",
            "Write something or attach a document.",
        );
    }
    if !errors.is_empty() {
        form.add_all(&tr, &errors);
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
    let now = state.clock.now();
    let actor = portal_actor();
    if let Some(upload) = upload {
        let size = upload.bytes.len() as i64;
        let sha = match state.blobs.save(upload.bytes).await {
            Ok(sha) => sha,
            Err(e) => {
                return ApiError::Internal(format!("storing an attachment: {e}")).into_response();
            }
        };
        let new = redress_store::NewAttachment {
            filename: upload.filename,
            content_type: upload.content_type.to_string(),
            size_bytes: size,
            sha256: sha,
            visibility: Visibility::Consumer,
            note: None,
            at: now,
            author_id: None,
        };
        if let Err(e) = state
            .store
            .add_attachment(&actor, &reference, &new, Scope::default())
            .await
        {
            return ApiError::from(e).into_response();
        }
    }
    if let Some(body) = body {
        let entry = NewEntry {
            entry_type: EntryType::Note,
            body,
            visibility: Visibility::Consumer,
            data: serde_json::json!({"source": "portal", "from": "consumer"}),
            at: now,
            author_id: None,
        };
        if let Err(e) = state
            .store
            .add_entry(&actor, &reference, &entry, Scope::default())
            .await
        {
            return ApiError::from(e).into_response();
        }
    }
    Redirect::to(&format!("/portal/status/{token}?added=1")).into_response()
}

async fn download(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path((token, id)): Path<(String, String)>,
) -> Response {
    let ctx = Ctx::new(&state, &uri, &headers);
    let reference = match linked_case(&state, &ctx, &token).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let Ok(id) = id.parse::<i64>() else {
        return message(
            &ctx,
            None,
            StatusCode::NOT_FOUND,
            "notfound-title",
            "notfound-body",
        );
    };
    match state
        .store
        .open_attachment(
            &portal_actor(),
            &reference,
            id,
            Scope::default(),
            Some(Visibility::Consumer),
            state.clock.now(),
        )
        .await
    {
        Ok(a) => crate::api::files::send_file(&state, &a)
            .await
            .unwrap_or_else(IntoResponse::into_response),
        Err(StoreError::NotFound) => message(
            &ctx,
            None,
            StatusCode::NOT_FOUND,
            "notfound-title",
            "notfound-body",
        ),
        Err(e) => ApiError::from(e).into_response(),
    }
}
