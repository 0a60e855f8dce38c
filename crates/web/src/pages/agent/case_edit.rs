//! Correcting a case after it was opened: its details (company, category, amount, account,
//! priority, flags, description) and its consumer's contact details. Both carry the version the
//! page was read at, as the API's `If-Match` does, and both are audited.

use super::*;
use redress_app::cases::PatchCase;
use redress_domain::validate::FieldErrors;

fn version(fields: &Fields) -> Result<i64, AppError> {
    fields
        .get("version")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .ok_or_else(|| AppError::field("version", "required", "Reload the page and try again."))
}

/// A correction's opening: the person, their checked form (see `action`) and the version of
/// the case the page was read at; else the page that says what is wrong.
async fn versioned(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    reference: &str,
    fields: &Fields,
) -> Result<(CurrentUser, Ctx, String, i64), Response> {
    let (user, ctx, reference) = action(
        state,
        uri,
        headers,
        reference,
        fields,
        Permission::CaseUpdate,
    )
    .await?;
    match version(fields) {
        Ok(v) => Ok((user, ctx, reference, v)),
        Err(e) => Err(failed(state, &ctx, &user, &reference, fields, e).await),
    }
}

fn text(fields: &Fields, name: &str) -> Option<String> {
    fields.get(name).map(|s| s.trim().to_string())
}

pub(super) async fn case_edit(
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
    let mut errors = FieldErrors::new();
    let priority = match fields.get("priority").map(|p| p.parse::<Priority>()) {
        Some(Ok(p)) => Some(p),
        None => None,
        Some(Err(_)) => {
            errors.push("priority", "unknown_value", "Choose one of the options.");
            None
        }
    };
    let company_id = match opt(&fields, "company_id").map(|c| c.parse::<i64>()) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            errors.push("company_id", "unknown_value", "Choose one of the options.");
            None
        }
    };
    let expected = version(&fields);
    if let Err(AppError::Validation(v)) = &expected {
        errors.0.extend(v.0.iter().cloned());
    }
    let expected = match expected {
        Ok(v) if errors.is_empty() => v,
        _ => {
            let e = AppError::Validation(errors);
            return failed(&state, &ctx, &user, &reference, &fields, e).await;
        }
    };
    let patch = PatchCase {
        priority,
        flags: Some(
            Flag::ALL
                .iter()
                .copied()
                .filter(|f| fields.contains_key(&format!("flag.{}", f.as_str())))
                .collect(),
        ),
        description: text(&fields, "description"),
        category: Some(opt(&fields, "category")),
        company_id: Some(company_id),
        account_number: Some(opt(&fields, "account_number")),
        amount_in_dispute: Some(opt(&fields, "amount_in_dispute").map(serde_json::Value::String)),
    };
    match state.change_case(&user, &reference, expected, patch).await {
        Ok(_) => Redirect::to(&format!("/cases/{reference}#summary-title")).into_response(),
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e).await,
    }
}

pub(super) async fn case_consumer(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx, reference, expected) =
        match versioned(&state, &uri, &headers, &reference, &fields).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let language = match opt(&fields, "consumer.preferred_language").map(|l| l.parse::<Language>())
    {
        None => None,
        Some(Ok(l)) => Some(l),
        Some(Err(_)) => {
            let e = AppError::field(
                "consumer.preferred_language",
                "unknown_value",
                "Choose one of the options.",
            );
            return failed(&state, &ctx, &user, &reference, &fields, e).await;
        }
    };
    let input = ConsumerInput {
        name: text(&fields, "consumer.name"),
        email: opt(&fields, "consumer.email"),
        phone: opt(&fields, "consumer.phone"),
        preferred_language: language,
        address: Some(AddressInput {
            line1: opt(&fields, "consumer.address.line1"),
            line2: opt(&fields, "consumer.address.line2"),
            city: opt(&fields, "consumer.address.city"),
            state: opt(&fields, "consumer.address.state"),
            zip: opt(&fields, "consumer.address.zip"),
        }),
        account_number: None,
    };
    match state
        .correct_consumer(&user, &reference, expected, input)
        .await
    {
        Ok(_) => Redirect::to(&format!("/cases/{reference}#summary-title")).into_response(),
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e).await,
    }
}

pub(super) async fn case_lifecycle_change(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx, reference, expected) =
        match versioned(&state, &uri, &headers, &reference, &fields).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let change = redress_app::steps::LifecycleChange {
        lifecycle: fields.get("lifecycle").cloned().unwrap_or_default(),
    };
    match state
        .change_lifecycle(&user, &reference, expected, change)
        .await
    {
        Ok(_) => Redirect::to(&format!("/cases/{reference}#summary-title")).into_response(),
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e).await,
    }
}
