//! The intake screen: a contact becomes a case.

use super::*;

// ---- intake ----

#[derive(Template)]
#[template(path = "intake.html")]
pub(super) struct IntakePage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    csrf: String,
    form: Form,
    kinds: Options,
    channels: Options,
    languages: Options,
    /// "Chosen by the company and category", then each lifecycle with its kind.
    lifecycles: Options,
    companies: Options,
    categories: Options,
}

pub(super) async fn intake_render(
    state: &AppState,
    ctx: &Ctx,
    user: &CurrentUser,
    form: Form,
    status: StatusCode,
) -> Response {
    let tr = ctx.tr;
    let (companies, categories) = match state.intake_lists(user).await {
        Ok(lists) => lists,
        Err(e) => return store_failed(ctx, e),
    };
    let mut company_options = vec![(String::new(), tr.t("intake-company-none"))];
    company_options.extend(companies.into_iter().map(|c| (c.id.to_string(), c.name)));
    let mut category_options = vec![(String::new(), tr.t("intake-category-none"))];
    category_options.extend(categories.into_iter().map(|c| (c.path.clone(), c.path)));
    let page = IntakePage {
        tr,
        nav: Some(NavUser::of(user)),
        switch_href: ctx.switch_href.clone(),
        csrf: user.csrf.clone().unwrap_or_default(),
        form,
        kinds: word_options(
            &tr,
            "kind",
            &[
                CaseKind::Complaint,
                CaseKind::Inquiry,
                CaseKind::Hotline,
                CaseKind::Mediation,
                CaseKind::InformationRequest,
                CaseKind::FoilRequest,
            ],
        ),
        channels: word_options(
            &tr,
            "channel",
            &[
                Channel::Phone,
                Channel::WalkIn,
                Channel::Mail,
                Channel::Fax,
                Channel::Email,
                Channel::Hotline,
                Channel::ReferralIn,
            ],
        ),
        languages: word_options(&tr, "language", Language::ALL),
        lifecycles: std::iter::once((String::new(), tr.t("intake-lifecycle-auto")))
            .chain(state.lifecycles.0.iter().map(|l| {
                let name = if tr.lang == crate::i18n::Lang::Es {
                    &l.name_es
                } else {
                    &l.name
                };
                (
                    l.id.clone(),
                    format!("{} — {name}", tr.word("kind", l.kind.as_str())),
                )
            }))
            .collect(),
        companies: company_options,
        categories: category_options,
    };
    ctx.render(status, &page)
}

pub(super) async fn intake_page(
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
    if !user.user.role.allows(Permission::CaseCreate) {
        return forbidden(&ctx, &user);
    }
    let mut defaults: Fields = [
        ("kind", "complaint"),
        ("channel", "phone"),
        ("consumer.preferred_language", ctx.lang().code()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    // "New case for this person" (from search): the person is chosen, without JavaScript.
    if let Some(id) = q
        .get("consumer_id")
        .and_then(|c| c.trim().parse::<i64>().ok())
        && user.user.role.allows(Permission::ConsumerRead)
    {
        match state.chosen_consumer(&user, id).await {
            Ok(Some(c)) => {
                let contact = contact_line(&c);
                for (k, v) in [
                    ("consumer_id", c.id.to_string()),
                    ("consumer_chosen_name", format!("{} — {contact}", c.name)),
                    ("consumer.name", c.name.clone()),
                    ("consumer.phone", c.phone.clone().unwrap_or_default()),
                    ("consumer.email", c.email.clone().unwrap_or_default()),
                    (
                        "consumer.preferred_language",
                        c.preferred_language.as_str().to_string(),
                    ),
                ] {
                    defaults.insert(k.to_string(), v);
                }
            }
            Ok(None) => {}
            Err(e) => return store_failed(&ctx, e),
        }
    }
    intake_render(&state, &ctx, &user, Form::with(defaults), StatusCode::OK).await
}

pub(super) async fn intake_submit(
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
    if !user.user.role.allows(Permission::CaseCreate) {
        return forbidden(&ctx, &user);
    }
    let mut form = Form::with(fields.clone());
    if !csrf_ok(&user, &headers, &fields) {
        form.add(&tr, "csrf", tr.t("error-csrf"));
        return intake_render(&state, &ctx, &user, form, StatusCode::FORBIDDEN).await;
    }
    let kind = opt(&fields, "kind").and_then(|k| k.parse::<CaseKind>().ok());
    let channel = opt(&fields, "channel").and_then(|c| c.parse::<Channel>().ok());
    let language =
        opt(&fields, "consumer.preferred_language").and_then(|l| l.parse::<Language>().ok());
    let company_id = opt(&fields, "company_id").map(|c| c.parse::<i64>());
    // "Add this call to case …": a repeat caller about a case already open. The call goes on
    // that case's timeline (what was said is the description) and no new case is opened.
    if let Some(target) = opt(&fields, "add_to") {
        return add_call_to_case(&state, &ctx, &user, &fields, form, &target).await;
    }
    let call_seconds = opt(&fields, "call_length").map(|c| crate::pages::call_length(&c).ok_or(()));
    // The consumer on file that the agent chose ("Use this person"); never guessed.
    let chosen = match opt(&fields, "consumer_id").map(|c| c.parse::<i64>()) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            form.add(&tr, "consumer_id", tr.t("error-unknown_consumer"));
            None
        }
    };
    if kind.is_none() {
        form.add(&tr, "kind", tr.t("error-unknown_value"));
    }
    if channel.is_none() {
        form.add(&tr, "channel", tr.t("error-unknown_value"));
    }
    if matches!(company_id, Some(Err(_))) {
        form.add(&tr, "company_id", tr.t("error-unknown_company"));
    }
    if matches!(call_seconds, Some(Err(_))) {
        form.add(&tr, "call_length", tr.t("error-invalid_call_length"));
    }
    let (Some(kind), Some(channel), true) = (kind, channel, form.errors.is_empty()) else {
        return intake_render(&state, &ctx, &user, form, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let input = CreateCase {
        kind,
        channel,
        description: opt(&fields, "description"),
        consumer_id: chosen,
        consumer: Some(ConsumerInput {
            name: opt(&fields, "consumer.name"),
            email: opt(&fields, "consumer.email"),
            phone: opt(&fields, "consumer.phone"),
            preferred_language: language,
            address: Some(AddressInput {
                line1: opt(&fields, "consumer.address.line1"),
                line2: None,
                city: opt(&fields, "consumer.address.city"),
                state: opt(&fields, "consumer.address.state"),
                zip: opt(&fields, "consumer.address.zip"),
            }),
            account_number: opt(&fields, "consumer.account_number"),
        }),
        company_id: company_id.and_then(Result::ok),
        category: opt(&fields, "category"),
        amount_in_dispute: opt(&fields, "amount_in_dispute").map(serde_json::Value::String),
        priority: None,
        flags: vec![],
        unit: user.user.unit.clone(),
        assignee: Some(user.user.username.clone()),
        office: None,
        lifecycle: opt(&fields, "lifecycle"),
        publish_consent: None,
    };
    let call = match call_seconds {
        Some(Ok(secs)) if secs > 0 => Some(IntakeCall {
            seconds: secs,
            body: format!(
                "{} ({} min {} s)",
                tr.word("direction", "inbound"),
                secs / 60,
                secs % 60
            ),
        }),
        _ => None,
    };
    let answered = fields.get("answered").map(String::as_str) == Some("yes");
    let opened = match state.take_in(&user, input, call, answered).await {
        Ok(case) => case,
        Err(AppError::Validation(errors)) => {
            form.add_all(&tr, &errors);
            return intake_render(&state, &ctx, &user, form, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    Redirect::to(&format!("/cases/{}", opened.reference)).into_response()
}

async fn add_call_to_case(
    state: &AppState,
    ctx: &Ctx,
    user: &CurrentUser,
    fields: &Fields,
    mut form: Form,
    target: &str,
) -> Response {
    let tr = ctx.tr;
    let seconds = match opt(fields, "call_length") {
        None => Some(0),
        Some(c) => crate::pages::call_length(&c),
    };
    let Some(seconds) = seconds else {
        form.add(&tr, "call_length", tr.t("error-invalid_call_length"));
        return intake_render(state, ctx, user, form, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let body = opt(fields, "description").unwrap_or_else(|| tr.t("intake-call-added-body"));
    let entry = NewTimelineEntry {
        entry_type: EntryType::Call,
        body: Some(body),
        visibility: Some(Visibility::Internal),
        call: Some(CallInput {
            direction: CallDirection::Inbound,
            duration_seconds: seconds,
            wait_seconds: None,
        }),
    };
    match state.add_to_timeline(user, target, entry).await {
        Ok(_) => Redirect::to(&format!("/cases/{target}#timeline")).into_response(),
        Err(AppError::Validation(errors)) => {
            for e in &errors.0 {
                let field = if e.field == "body" {
                    "description"
                } else {
                    e.field.as_str()
                };
                form.add(&tr, field, tr.error(&e.code, &e.message));
            }
            intake_render(state, ctx, user, form, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(AppError::NotFound) => {
            form.add(&tr, "description", tr.t("notfound-title"));
            intake_render(state, ctx, user, form, StatusCode::NOT_FOUND).await
        }
        Err(e) => store_failed(ctx, e),
    }
}
