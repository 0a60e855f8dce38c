//! What the case page's forms do: notes, calls, status, lifecycle steps, assignment,
//! attachments, links and merges.

use super::*;

/// What a case action needs: the user, the context and the checked form, or a response.
pub(super) async fn action(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    reference: &str,
    fields: &Fields,
    permission: Permission,
) -> Result<(CurrentUser, Ctx, String), Response> {
    let user = session(state, headers).await?;
    let ctx = Ctx::new(state, uri, headers);
    let Ok(reference) = reference.parse::<Reference>() else {
        return Err(message(
            &ctx,
            Some(NavUser::of(&user)),
            StatusCode::NOT_FOUND,
            "notfound-title",
            "notfound-body",
        ));
    };
    if !csrf_ok(&user, headers, fields) {
        let tr = ctx.tr;
        let mut form = Form::with(fields.clone());
        form.add(&tr, "csrf", tr.t("error-csrf"));
        return Err(case_render(
            state,
            &ctx,
            &user,
            &reference.to_string(),
            ("all", 1),
            form,
            None,
            StatusCode::FORBIDDEN,
        )
        .await);
    }
    if !user.user.role.allows(permission) {
        return Err(forbidden(&ctx, &user));
    }
    Ok((user, ctx, reference.to_string()))
}

pub(super) fn back_to(reference: &str) -> Response {
    Redirect::to(&format!("/cases/{reference}#timeline")).into_response()
}

pub(super) async fn failed(
    state: &AppState,
    ctx: &Ctx,
    user: &CurrentUser,
    reference: &str,
    fields: &Fields,
    e: AppError,
) -> Response {
    let tr = ctx.tr;
    let mut form = Form::with(fields.clone());
    match e {
        AppError::Validation(errors) => {
            form.add_all(&tr, &errors);
            case_render(
                state,
                ctx,
                user,
                reference,
                ("all", 1),
                form,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        AppError::InvalidTransition { .. } => {
            case_render(
                state,
                ctx,
                user,
                reference,
                ("all", 1),
                form,
                Some(tr.t("case-status-not-allowed")),
                StatusCode::CONFLICT,
            )
            .await
        }
        AppError::Stale { .. } => {
            case_render(
                state,
                ctx,
                user,
                reference,
                ("all", 1),
                form,
                Some(tr.t("case-stale")),
                StatusCode::CONFLICT,
            )
            .await
        }
        AppError::Forbidden => forbidden(ctx, user),
        other => ApiError::from(other).into_response(),
    }
}

pub(super) async fn case_note(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx, reference) = match action(
        &state,
        &uri,
        &headers,
        &reference,
        &fields,
        Permission::TimelineWrite,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    // The rules (text required, company users write company-visible notes) are the use case's.
    let visibility = match fields.get("visibility").map(|v| v.parse::<Visibility>()) {
        None => None,
        Some(Ok(v)) => Some(v),
        Some(Err(_)) => {
            let e = AppError::field("visibility", "not_allowed", "Not allowed.");
            return failed(&state, &ctx, &user, &reference, &fields, e).await;
        }
    };
    let entry = NewTimelineEntry {
        entry_type: EntryType::Note,
        body: fields.get("body").cloned(),
        visibility,
        call: None,
    };
    match state.add_to_timeline(&user, &reference, entry).await {
        Ok(_) => back_to(&reference),
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e).await,
    }
}

pub(super) async fn case_call(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx, reference) = match action(
        &state,
        &uri,
        &headers,
        &reference,
        &fields,
        Permission::CaseChangeStatus,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut errors = FieldErrors::new();
    let body = validate::required_text(
        &mut errors,
        "call_body",
        fields.get("call_body").map(String::as_str),
        validate::BODY_MAX,
    );
    let direction = fields
        .get("direction")
        .and_then(|d| d.parse::<CallDirection>().ok());
    if direction.is_none() {
        errors.push("direction", "unknown_value", "Choose a direction.");
    }
    let seconds = fields
        .get("call_length")
        .and_then(|m| crate::pages::call_length(m));
    if seconds.is_none() {
        errors.push(
            "call_length",
            "invalid_call_length",
            "Minutes, or minutes and seconds such as 4:30.",
        );
    }
    let (Some(body), Some(direction), Some(seconds), true) =
        (body, direction, seconds, errors.is_empty())
    else {
        return failed(
            &state,
            &ctx,
            &user,
            &reference,
            &fields,
            AppError::Validation(errors),
        )
        .await;
    };
    let entry = NewTimelineEntry {
        entry_type: EntryType::Call,
        body: Some(body),
        visibility: Some(Visibility::Internal),
        call: Some(CallInput {
            direction,
            duration_seconds: seconds,
            wait_seconds: None,
        }),
    };
    match state.add_to_timeline(&user, &reference, entry).await {
        Ok(_) => back_to(&reference),
        Err(AppError::Validation(errors)) => {
            // The form's text box is `call_body`.
            let mut named = FieldErrors::new();
            for e in errors.0 {
                let field = if e.field == "body" {
                    "call_body".to_string()
                } else {
                    e.field
                };
                named.push(field, &e.code, e.message);
            }
            failed(
                &state,
                &ctx,
                &user,
                &reference,
                &fields,
                AppError::Validation(named),
            )
            .await
        }
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e).await,
    }
}

pub(super) async fn case_status(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx, reference) = match action(
        &state,
        &uri,
        &headers,
        &reference,
        &fields,
        Permission::CaseChangeStatus,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut errors = FieldErrors::new();
    let to = fields
        .get("status")
        .and_then(|s| s.parse::<Status>().ok())
        .filter(|s| *s != Status::Merged);
    if to.is_none() {
        errors.push("status", "unknown_value", "Choose a status.");
    }
    let reason = validate::optional_text(
        &mut errors,
        "reason",
        fields.get("reason").map(String::as_str),
        1000,
    );
    let version = fields.get("version").and_then(|v| v.parse::<i64>().ok());
    let (Some(to), true) = (to, errors.is_empty()) else {
        return failed(
            &state,
            &ctx,
            &user,
            &reference,
            &fields,
            AppError::Validation(errors),
        )
        .await;
    };
    match state
        .set_status(
            &user,
            &reference,
            version,
            StatusInput {
                status: to,
                reason,
                root_cause: None,
                outcome: None,
            },
        )
        .await
    {
        Ok(_) => back_to(&reference),
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e).await,
    }
}

/// Takes a lifecycle transition from the case page: `transition` names it, `fields.NAME` carry
/// its values.
pub(super) async fn case_transition(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx, reference) = match action(
        &state,
        &uri,
        &headers,
        &reference,
        &fields,
        Permission::CaseRead,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let transition = fields.get("transition").cloned().unwrap_or_default();
    let values = fields
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("fields.")
                .filter(|_| !v.trim().is_empty())
                .map(|n| (n.to_string(), v.clone()))
        })
        .collect();
    let version = fields.get("version").and_then(|v| v.parse::<i64>().ok());
    let step = TransitionInput {
        transition,
        fields: values,
    };
    match state
        .take_transition(&user, &reference, version, step)
        .await
    {
        Ok(_) => back_to(&reference),
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e).await,
    }
}

/// "Assign to me" from the case page.
pub(super) async fn case_take(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx, reference) = match action(
        &state,
        &uri,
        &headers,
        &reference,
        &fields,
        Permission::TimelineRead,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let version = fields.get("version").and_then(|v| v.parse::<i64>().ok());
    match state.take_case(&user, &reference, version).await {
        Ok(_) => Redirect::to(&format!("/cases/{reference}#summary-title")).into_response(),
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e).await,
    }
}

pub(super) async fn case_assign(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx, reference) = match action(
        &state,
        &uri,
        &headers,
        &reference,
        &fields,
        Permission::CaseAssign,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let version = fields.get("version").and_then(|v| v.parse::<i64>().ok());
    // Empty choices clear the unit or the assignee.
    let assignment = AssignInput {
        unit: Some(opt(&fields, "unit")),
        assignee: Some(opt(&fields, "assignee")),
    };
    match state
        .assign_case(&user, &reference, version, assignment)
        .await
    {
        Ok(_) => back_to(&reference),
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e).await,
    }
}

pub(super) async fn case_attach(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    mp: axum::extract::Multipart,
) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let Ok(reference) = reference.parse::<Reference>().map(|r| r.to_string()) else {
        return message(
            &ctx,
            Some(NavUser::of(&user)),
            StatusCode::NOT_FOUND,
            "notfound-title",
            "notfound-body",
        );
    };
    if !user.user.role.allows(Permission::TimelineWrite) {
        return forbidden(&ctx, &user);
    }
    let max = state.settings.max_upload_bytes;
    let (upload, mut fields) = match crate::attachments::read_upload(mp, max, true).await {
        Ok(x) => x,
        Err(p) => {
            return failed(
                &state,
                &ctx,
                &user,
                &reference,
                &Fields::new(),
                p.into_error(max),
            )
            .await;
        }
    };
    if !csrf_ok(&user, &headers, &fields) {
        let tr = ctx.tr;
        let mut form = Form::default();
        form.add(&tr, "csrf", tr.t("error-csrf"));
        return case_render(
            &state,
            &ctx,
            &user,
            &reference,
            ("all", 1),
            form,
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    if let Some(v) = fields.remove("file_visibility") {
        fields.insert("visibility".into(), v);
    }
    match state.attach_file(&user, &reference, upload, &fields).await {
        Ok(_) => back_to(&reference),
        Err(e) => {
            fields.remove("csrf");
            failed(&state, &ctx, &user, &reference, &fields, e).await
        }
    }
}

pub(super) async fn case_download(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path((reference, id)): Path<(String, String)>,
) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let (Ok(reference), Ok(id)) = (reference.parse::<Reference>(), id.parse::<i64>()) else {
        return message(
            &ctx,
            Some(NavUser::of(&user)),
            StatusCode::NOT_FOUND,
            "notfound-title",
            "notfound-body",
        );
    };
    match state
        .open_attachment(&user, &reference.to_string(), id)
        .await
    {
        Ok((a, bytes)) => crate::api::files::send_file(&a, bytes),
        Err(AppError::NotFound) => message(
            &ctx,
            Some(NavUser::of(&user)),
            StatusCode::NOT_FOUND,
            "notfound-title",
            "notfound-body",
        ),
        Err(e) => store_failed(&ctx, e),
    }
}

/// Reads a reference typed into a form field, recording a problem if it is not one.
pub(super) fn typed_reference(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<&String>,
    this: &str,
) -> Option<String> {
    match value
        .map(|v| v.trim().to_ascii_uppercase())
        .filter(|v| !v.is_empty())
    {
        None => {
            errors.push(field, "required", "Required.");
            None
        }
        Some(v) => match v.parse::<Reference>() {
            Ok(r) if r.to_string() == this => {
                errors.push(field, "same_case", "Choose another case.");
                None
            }
            Ok(r) => Some(r.to_string()),
            Err(_) => {
                errors.push(
                    field,
                    "invalid_reference",
                    "A reference such as NYC-2026-000123.",
                );
                None
            }
        },
    }
}

pub(super) async fn case_link(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx, reference) = match action(
        &state,
        &uri,
        &headers,
        &reference,
        &fields,
        Permission::CaseLink,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut errors = FieldErrors::new();
    let target = typed_reference(&mut errors, "target", fields.get("target"), &reference);
    let kind = fields
        .get("link_kind")
        .and_then(|k| k.parse::<LinkKind>().ok());
    if kind.is_none() {
        errors.push("link_kind", "unknown_value", "Choose how they are related.");
    }
    let (Some(target), Some(kind), true) = (target, kind, errors.is_empty()) else {
        return failed(
            &state,
            &ctx,
            &user,
            &reference,
            &fields,
            AppError::Validation(errors),
        )
        .await;
    };
    match state
        .link_cases(&user, &reference, LinkInput { target, kind })
        .await
    {
        Ok(_) => back_to(&reference),
        Err(AppError::Conflict(_)) => {
            let notice = Some(ctx.tr.t("case-already-linked"));
            case_render(
                &state,
                &ctx,
                &user,
                &reference,
                ("all", 1),
                Form::with(fields.clone()),
                notice,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e).await,
    }
}

/// "Same person: merge": the case's consumer and another record are one person. The newer record
/// is merged into the one on file longer; both records' values are kept (see `merge_consumers`).
pub(super) async fn case_consumer_merge(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx, reference) = match action(
        &state,
        &uri,
        &headers,
        &reference,
        &fields,
        Permission::ConsumerMerge,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let other = fields
        .get("other")
        .and_then(|o| o.trim().parse::<i64>().ok());
    match state.merge_case_consumer(&user, &reference, other).await {
        Ok(_) => Redirect::to(&format!("/cases/{reference}#summary-title")).into_response(),
        Err(AppError::NotFound) => message(
            &ctx,
            Some(NavUser::of(&user)),
            StatusCode::NOT_FOUND,
            "notfound-title",
            "notfound-body",
        ),
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e).await,
    }
}

pub(super) async fn case_merge(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx, reference) = match action(
        &state,
        &uri,
        &headers,
        &reference,
        &fields,
        Permission::CaseMerge,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut errors = FieldErrors::new();
    let Some(into) = typed_reference(&mut errors, "into", fields.get("into"), &reference) else {
        return failed(
            &state,
            &ctx,
            &user,
            &reference,
            &fields,
            AppError::Validation(errors),
        )
        .await;
    };
    match state
        .merge_case(&user, &reference, MergeInput { into })
        .await
    {
        Ok(_) => back_to(&reference),
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e).await,
    }
}

pub(super) async fn case_email(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx, reference) = match action(
        &state,
        &uri,
        &headers,
        &reference,
        &fields,
        Permission::CaseChangeStatus,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let message = EmailToConsumer {
        subject: opt(&fields, "subject"),
        body: fields.get("email_body").cloned().unwrap_or_default(),
    };
    match state.email_consumer(&user, &reference, message).await {
        Ok(_) => back_to(&reference),
        // The use case names the message's text `body`; the form calls it `email_body`.
        Err(AppError::Validation(mut errors)) => {
            for e in &mut errors.0 {
                if e.field == "body" {
                    e.field = "email_body".into();
                }
            }
            failed(
                &state,
                &ctx,
                &user,
                &reference,
                &fields,
                AppError::Validation(errors),
            )
            .await
        }
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e).await,
    }
}

pub(super) async fn case_notices(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx, reference) = match action(
        &state,
        &uri,
        &headers,
        &reference,
        &fields,
        Permission::CaseUpdate,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let choice = NoticePreference {
        opt_out: fields.get("opt_out").map(String::as_str) == Some("1"),
    };
    match state.set_notice_preference(&user, &reference, choice).await {
        Ok(()) => back_to(&reference),
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e).await,
    }
}
