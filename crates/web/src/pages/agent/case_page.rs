//! The case page: the case as the person may see it, its timeline, clocks and steps.

use super::*;
use crate::pages::entry_text;
use redress_app::work::AUDIT_ROWS;

// ---- the case page ----

pub(super) struct CaseView {
    reference: String,
    status: String,
    priority: String,
    kind: String,
    channel: String,
    flags: String,
    assignee: String,
    unit: String,
    company: String,
    category: String,
    amount: String,
    opened: String,
    consumer: String,
    description: String,
    merged_into: Option<String>,
    links: Vec<(String, String)>,
    version: i64,
}

pub(super) struct EntryView {
    /// Written by the system (a clock, an assignment, a status change) rather than a person.
    system: bool,
    kind: String,
    at: String,
    at_iso: String,
    author: String,
    visibility: String,
    body: String,
    /// For an email: who it came from or went to, and its subject.
    email: Option<(String, String)>,
    /// For a letter: its id for printing, and where it went (print queue, email...).
    letter: Option<(i64, String)>,
}

#[derive(Template)]
#[template(path = "case.html")]
pub(super) struct CasePage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    csrf: String,
    c: CaseView,
    /// The timeline, newest first; runs of system entries are grouped so that they fold away.
    timeline: Vec<TimelineItem>,
    filter: String,
    filters: Options,
    form: Form,
    notice: Option<String>,
    can_write: bool,
    can_staff: bool,
    /// Staff may write to the consumer by email (the case has an address).
    can_email: bool,
    /// Staff may print letters.
    can_print: bool,
    /// The consumer opted out of the email updates the law does not require.
    notices_off: bool,
    consumer_email: String,
    can_assign: bool,
    visibilities: Options,
    directions: Options,
    units: Options,
    staff: Options,
    audit: Vec<(String, String, String)>,
    /// "Page 1 of 3 (140 entries)" when the trail has more than one page.
    audit_range: String,
    audit_prev: Option<i64>,
    audit_next: Option<i64>,
    attachments: Vec<(i64, String, String, String)>,
    can_merge: bool,
    link_kinds: Options,
    clocks: Vec<ClockRow>,
    stage: String,
    lifecycle: String,
    steps: Vec<StepView>,
    hold: Option<HoldView>,
    hotline: Option<HotlineRow>,
    duplicates: Vec<DuplicateView>,
    can_merge_consumer: bool,
    /// "Assign to me" is offered.
    can_take: bool,
    /// The case and its consumer may be corrected (the forms' choices follow).
    can_edit: bool,
    priorities: Options,
    companies: Options,
    categories: Options,
    languages: Options,
    /// (value, label, checked) for each flag.
    flags: Vec<(String, String, bool)>,
    /// Which correction form to show open (after an error in it).
    edit_open: String,
    /// The lifecycles the case may still move to (it is at its start): (id, name), the current
    /// one first; empty when it may not.
    lifecycles: Options,
    /// The consumer's other cases: (reference, status, kind, opened).
    other_cases: Vec<(String, String, String, String)>,
}

/// Another consumer record that may be the case's consumer.
pub(super) struct DuplicateView {
    id: i64,
    name: String,
    contact: String,
    /// What they share: phone, email, account.
    why: String,
    since: String,
}

pub(super) struct ClockRow {
    label: String,
    kind: String,
    due: String,
    due_iso: String,
    state: String,
}

pub(super) struct StepField {
    id: String,
    path: String,
    label: String,
    kind: String,
    options: Vec<(String, String)>,
    required: bool,
    /// Left empty, the print queue records it.
    mailing_date: bool,
    value: String,
    error: Option<String>,
}

/// The root cause and outcome fields of a step that closes a case (both optional).
fn closing_fields(
    tr: &Tr,
    step: &str,
    causes: &[redress_domain::records::RootCause],
    mine: bool,
    form: &Form,
) -> Vec<StepField> {
    let spanish = tr.lang == Lang::Es;
    let field = |name: &str, label: String, options: Vec<(String, String)>| {
        let path = format!("fields.{name}");
        StepField {
            id: format!("t-{step}-{name}"),
            label,
            kind: "choice".into(),
            options,
            required: false,
            mailing_date: false,
            value: if mine {
                form.v(&path).to_string()
            } else {
                String::new()
            },
            error: if mine {
                form.err(&path).map(str::to_string)
            } else {
                None
            },
            path,
        }
    };
    vec![
        field(
            "root_cause",
            tr.t("case-root-cause"),
            causes
                .iter()
                .filter(|c| c.active)
                .map(|c| {
                    let name = match (&c.name_es, spanish) {
                        (Some(es), true) => es.clone(),
                        _ => c.name.clone(),
                    };
                    (c.code.clone(), name)
                })
                .collect(),
        ),
        field(
            "outcome",
            tr.t("case-outcome"),
            redress_domain::Outcome::ALL
                .iter()
                .map(|o| (o.as_str().to_string(), tr.word("outcome", o.as_str())))
                .collect(),
        ),
    ]
}

pub(super) struct StepView {
    name: String,
    label: String,
    open: bool,
    fields: Vec<StepField>,
}

pub(super) struct HoldView {
    active: bool,
    message: String,
    text: String,
    source: String,
}

pub(super) struct HotlineRow {
    earliest: Option<String>,
    cold_weather: bool,
    open_now: bool,
    hours: String,
}

/// One item of the timeline: an entry, or several system entries in a row.
pub(super) struct TimelineItem {
    entries: Vec<EntryView>,
}

impl TimelineItem {
    fn folded(&self) -> bool {
        self.entries.len() > 1
    }
}

/// Newest first, runs of two or more system entries grouped.
fn timeline_items(entries: Vec<EntryView>) -> Vec<TimelineItem> {
    let mut items: Vec<TimelineItem> = Vec::new();
    for e in entries.into_iter().rev() {
        match items.last_mut() {
            Some(last) if e.system && last.entries.iter().all(|x| x.system) => last.entries.push(e),
            _ => items.push(TimelineItem { entries: vec![e] }),
        }
    }
    items
}

pub(super) fn keep(entry: &TimelineEntry, filter: &str) -> bool {
    match filter {
        "notes" => entry.entry_type == EntryType::Note,
        "correspondence" => matches!(
            entry.entry_type,
            EntryType::Call | EntryType::Letter | EntryType::Email
        ),
        "company" => entry.visibility == Visibility::Company,
        _ => true,
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn case_render(
    state: &AppState,
    ctx: &Ctx,
    user: &CurrentUser,
    reference: &str,
    (filter, audit_page): (&str, i64),
    form: Form,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let tr = ctx.tr;
    let spanish = tr.lang == crate::i18n::Lang::Es;
    let file = match state.case_file(user, reference, spanish, audit_page).await {
        Ok(f) => f,
        Err(AppError::NotFound) => {
            return message(
                ctx,
                Some(NavUser::of(user)),
                StatusCode::NOT_FOUND,
                "notfound-title",
                "notfound-body",
            );
        }
        Err(e) => return store_failed(ctx, e),
    };
    let case = &file.case;
    let entries = &file.entries;
    let life = &file.stage;
    // One row per thing done: a page view reads the case and its timeline at the same instant.
    let mut audit: Vec<(String, String, String)> = Vec::new();
    let mut last: Option<(&str, jiff::Timestamp, bool)> = None;
    for a in &file.audit.rows {
        let view = a.action.ends_with(".view");
        if let Some((actor, at, was_view)) = last
            && view
            && was_view
            && actor == a.actor
            && (at - a.at).get_seconds().abs() <= 2
        {
            continue;
        }
        last = Some((a.actor.as_str(), a.at, view));
        audit.push((
            local_time(state, a.at),
            file.names.person(&a.actor),
            tr.word("audit", &a.action.replace('.', "_")),
        ));
    }
    let audit_pages = (file.audit.total + AUDIT_ROWS - 1) / AUDIT_ROWS;
    let audit_range = if file.audit.total > AUDIT_ROWS {
        tr.targs(
            "case-audit-range",
            &[
                ("page", &file.audit.page.to_string()),
                ("pages", &audit_pages.to_string()),
                ("total", &file.audit.total.to_string()),
            ],
        )
    } else {
        String::new()
    };
    let audit_prev = (file.audit.page > 1).then(|| file.audit.page - 1);
    let audit_next = (file.audit.page < audit_pages).then(|| file.audit.page + 1);
    let attachments: Vec<(i64, String, String, String)> = file
        .attachments
        .iter()
        .map(|a| {
            (
                a.id,
                a.filename.clone(),
                human_size(a.size_bytes),
                a.visibility.to_string(),
            )
        })
        .collect();
    let clocks: Vec<ClockRow> = life
        .clocks
        .iter()
        .map(|k| ClockRow {
            label: k.label.clone(),
            kind: k
                .kind
                .map(|x| tr.word("clockkind", x.as_str()))
                .unwrap_or_default(),
            due: local_time(state, k.due_at),
            due_iso: k.due_at.to_string(),
            state: k.state.as_str().to_string(),
        })
        .collect();
    let failed_step = form.v("transition").to_string();
    // The error summary names a step's fields as the step does, in the reader's language.
    let mut form = form;
    if let Some(step) = life.transitions.iter().find(|t| t.name == failed_step) {
        for e in &mut form.errors {
            let name = e.id.strip_prefix(&format!("t-{}-", step.name));
            if let Some(f) = name.and_then(|n| step.fields.iter().find(|f| f.name == n)) {
                e.label = f.label.clone();
            }
        }
    }
    let root_causes = state.root_causes(user).await.unwrap_or_default();
    let steps: Vec<StepView> = life
        .transitions
        .iter()
        .map(|t| {
            let mine = failed_step == t.name;
            StepView {
                name: t.name.clone(),
                label: t.label.clone(),
                open: mine,
                fields: t
                    .fields
                    .iter()
                    .map(|f| {
                        let path = format!("fields.{}", f.name);
                        StepField {
                            id: format!("t-{}-{}", t.name, f.name),
                            label: f.label.clone(),
                            kind: f.kind.clone(),
                            options: f
                                .options
                                .iter()
                                .map(|o| (o.value.clone(), o.label.clone()))
                                .collect(),
                            required: f.required,
                            mailing_date: f.mailing_date,
                            value: if mine {
                                form.v(&path).to_string()
                            } else {
                                String::new()
                            },
                            error: if mine {
                                form.err(&path).map(str::to_string)
                            } else {
                                None
                            },
                            path,
                        }
                    })
                    .chain(
                        // A step that closes the case records what went wrong and how it ended
                        // (unless the step asks for fields of those names itself).
                        t.closes
                            .then(|| closing_fields(&tr, &t.name, &root_causes, mine, &form))
                            .into_iter()
                            .flatten()
                            .filter(|extra| {
                                !t.fields
                                    .iter()
                                    .any(|f| format!("fields.{}", f.name) == extra.path)
                            }),
                    )
                    .collect(),
            }
        })
        .collect();
    let hold = life.hold.as_ref().map(|h| HoldView {
        active: h.active,
        message: {
            let amount = h
                .disputed_cents
                .and_then(Money::from_cents)
                .map(|m| format!("${m}"))
                .unwrap_or_default();
            let until = h.ends_at.map(|t| local_time(state, t));
            match (h.active, until) {
                (true, Some(u)) => tr.targs("hold-until", &[("amount", &amount), ("until", &u)]),
                (true, None) => tr.t1("hold-pending", "amount", &amount),
                (false, Some(u)) => tr.t1("hold-ended-on", "until", &u),
                (false, None) => String::new(),
            }
        },
        text: if spanish {
            h.text_es.clone()
        } else {
            h.text.clone()
        },
        source: h.source.clone(),
    });
    let hotline = life.hotline.as_ref().map(|h| HotlineRow {
        earliest: h.earliest_termination.map(|t| local_time(state, t)),
        cold_weather: h.cold_weather_period,
        open_now: h.hotline_open_now,
        hours: h.hours.clone(),
    });
    let can_assign = file.assignable.is_some();
    let (units, staff) = match &file.assignable {
        Some((u, s)) => {
            let mut units = vec![(String::new(), tr.t("case-unassigned"))];
            units.extend(u.iter().map(|u| (u.code.clone(), u.name.clone())));
            let mut staff = vec![(String::new(), tr.t("case-unassigned"))];
            staff.extend(
                s.iter()
                    .map(|s| (s.username.clone(), s.display_name.clone())),
            );
            (units, staff)
        }
        None => (vec![], vec![]),
    };
    if !form.values.contains_key("unit") {
        form.values
            .insert("unit".into(), case.unit.clone().unwrap_or_default());
    }
    if !form.values.contains_key("assignee") {
        form.values
            .insert("assignee".into(), case.assignee.clone().unwrap_or_default());
    }
    let is_company = user.user.role == Role::Company;
    let visibilities = if is_company {
        word_options(&tr, "visibility", &[Visibility::Company])
    } else {
        word_options(&tr, "visibility", Visibility::ALL)
    };
    let consumer = case
        .consumer
        .as_ref()
        .map(|c| {
            let mut parts = vec![c.name.clone()];
            parts.extend(c.phone.clone());
            parts.extend(c.email.clone());
            parts.push(tr.word("language", c.preferred_language.as_str()));
            parts.join(" · ")
        })
        .unwrap_or_default();
    let duplicates = match &case.consumer {
        Some(mine) => file
            .duplicates
            .iter()
            .map(|d| {
                let mut why = Vec::new();
                if d.phone.is_some() && d.phone == mine.phone {
                    why.push(tr.t("intake-phone"));
                }
                if d.email.is_some() && d.email == mine.email {
                    why.push(tr.t("intake-email"));
                }
                if d.account_numbers
                    .iter()
                    .any(|a| mine.account_numbers.contains(a))
                {
                    why.push(tr.t("intake-account"));
                }
                DuplicateView {
                    id: d.id,
                    contact: contact_line(d),
                    name: d.name.clone(),
                    why: why.join(", "),
                    since: local_date(state, d.created_at),
                }
            })
            .collect(),
        None => vec![],
    };
    // The correction forms start from what is on file (unless they come back with an error).
    let can_edit = file.editable.is_some() && !user.is_company();
    let edit_open = if form.errors.is_empty() {
        String::new()
    } else {
        form.v("form").to_string()
    };
    let (companies, categories) = match &file.editable {
        Some((companies, categories)) => (
            std::iter::once((String::new(), tr.t("intake-company-none")))
                .chain(companies.iter().map(|c| (c.id.to_string(), c.name.clone())))
                .collect(),
            std::iter::once((String::new(), tr.t("intake-category-none")))
                .chain(categories.iter().map(|c| (c.path.clone(), c.path.clone())))
                .collect(),
        ),
        None => (vec![], vec![]),
    };
    if can_edit && edit_open != "edit" {
        let on_file = [
            ("priority", case.priority.as_str().to_string()),
            (
                "company_id",
                case.company
                    .as_ref()
                    .map(|c| c.id.to_string())
                    .unwrap_or_default(),
            ),
            ("category", case.category.clone().unwrap_or_default()),
            (
                "amount_in_dispute",
                case.amount_in_dispute
                    .as_ref()
                    .map(|a| a.to_string())
                    .unwrap_or_default(),
            ),
            (
                "account_number",
                case.account_number.clone().unwrap_or_default(),
            ),
            ("description", case.description.clone()),
        ];
        for (k, v) in on_file {
            form.values.insert(k.to_string(), v);
        }
        for f in &case.flags {
            form.values
                .insert(format!("flag.{}", f.as_str()), "1".into());
        }
    }
    if let (true, Some(c)) = (can_edit && edit_open != "consumer", &case.consumer) {
        let a = &c.address;
        let on_file = [
            ("consumer.name", Some(c.name.clone())),
            ("consumer.phone", c.phone.clone()),
            ("consumer.email", c.email.clone()),
            (
                "consumer.preferred_language",
                Some(c.preferred_language.as_str().to_string()),
            ),
            ("consumer.address.line1", a.line1.clone()),
            ("consumer.address.line2", a.line2.clone()),
            ("consumer.address.city", a.city.clone()),
            ("consumer.address.state", a.state.clone()),
            ("consumer.address.zip", a.zip.clone()),
        ];
        for (k, v) in on_file {
            form.values.insert(k.to_string(), v.unwrap_or_default());
        }
    }
    let flags = Flag::ALL
        .iter()
        .map(|f| {
            (
                f.as_str().to_string(),
                tr.word("flag", f.as_str()),
                form.values.contains_key(&format!("flag.{}", f.as_str())),
            )
        })
        .collect();
    let view = CaseView {
        reference: case.reference.clone(),
        status: case.status.to_string(),
        priority: case.priority.to_string(),
        kind: case.kind.to_string(),
        channel: case.channel.to_string(),
        flags: case
            .flags
            .iter()
            .map(|f| tr.word("flag", f.as_str()))
            .collect::<Vec<_>>()
            .join(", "),
        assignee: case
            .assignee
            .as_deref()
            .map(|a| file.names.person(a))
            .unwrap_or_default(),
        unit: case
            .unit
            .as_deref()
            .map(|u| file.names.unit(u))
            .unwrap_or_default(),
        company: case
            .company
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        category: case.category.clone().unwrap_or_default(),
        amount: case
            .amount_in_dispute
            .as_ref()
            .map(|a| format!("${a}"))
            .unwrap_or_default(),
        opened: local_time(state, case.opened_at),
        consumer,
        description: case.description.clone(),
        merged_into: case.merged_into.clone(),
        links: case
            .links
            .iter()
            .map(|l| (l.reference.clone(), tr.word("link", l.kind.as_str())))
            .collect(),
        version: case.version,
    };
    let page = CasePage {
        tr,
        nav: Some(NavUser::of(user)),
        switch_href: ctx.switch_href.clone(),
        csrf: user.csrf.clone().unwrap_or_default(),
        timeline: timeline_items(
            entries
                .iter()
                .filter(|e| keep(e, filter))
                .map(|e| EntryView {
                    // What the system did by itself: clocks, escalations, reminders.
                    system: !e.entry_type.is_manual()
                        && (e.author.is_none()
                            || e.data["event"]
                                .as_str()
                                .is_some_and(|x| x.starts_with("clock_"))),
                    kind: e.entry_type.to_string(),
                    at: local_time(state, e.at),
                    at_iso: e.at.to_string(),
                    author: e
                        .author
                        .as_deref()
                        .map(|a| file.names.person(a))
                        .unwrap_or_default(),
                    visibility: e.visibility.to_string(),
                    email: email_line(&tr, e),
                    letter: e.data["letter_id"].as_i64().map(|id| {
                        (
                            id,
                            tr.word("print", e.data["print"].as_str().unwrap_or_default()),
                        )
                    }),
                    body: entry_text(
                        state,
                        &tr,
                        (case.kind, state.lifecycle_of(case).ok()),
                        &file.names,
                        e,
                    ),
                })
                .collect(),
        ),
        filter: filter.to_string(),
        filters: vec![
            ("all".into(), tr.t("case-filter-all")),
            ("notes".into(), tr.t("case-filter-notes")),
            ("correspondence".into(), tr.t("case-filter-correspondence")),
            ("company".into(), tr.t("case-filter-company")),
        ],
        form,
        notice,
        can_write: user.user.role.allows(Permission::TimelineWrite)
            && case.status != Status::Merged,
        can_staff: user.user.role.allows(Permission::CaseChangeStatus)
            && case.status != Status::Merged,
        can_email: user.user.role.allows(Permission::CaseChangeStatus)
            && user.user.role.allows(Permission::ConsumerRead)
            && case.status != Status::Merged
            && case.consumer.as_ref().is_some_and(|c| c.email.is_some()),
        notices_off: case
            .facts
            .iter()
            .any(|f| f.name == "notices_opt_out" && f.value == "yes"),
        can_print: user.user.role.allows(Permission::CaseChangeStatus)
            && user.user.role.allows(Permission::ConsumerRead),
        consumer_email: case
            .consumer
            .as_ref()
            .and_then(|c| c.email.clone())
            .unwrap_or_default(),
        can_assign,
        visibilities,
        directions: word_options(&tr, "direction", CallDirection::ALL),
        units,
        staff,
        audit,
        audit_range,
        audit_prev,
        audit_next,
        attachments,
        can_merge: user.user.role.allows(Permission::CaseMerge) && case.status != Status::Merged,
        link_kinds: word_options(&tr, "link", LinkKind::ALL),
        clocks,
        stage: life.stage_label.clone(),
        lifecycle: life.lifecycle.clone(),
        steps,
        hold,
        hotline,
        duplicates,
        can_merge_consumer: user.user.role.allows(Permission::ConsumerMerge),
        can_take: state.may_take_cases(user)
            && case.status != Status::Merged
            && case.assignee.as_deref() != Some(user.user.username.as_str()),
        lifecycles: {
            let current = state.lifecycle_of(case).ok();
            let at_start =
                current.is_some_and(|l| case.stage.as_deref().is_none_or(|s| s == l.initial));
            let choices = state.lifecycles.of_kind(case.kind);
            if can_edit && at_start && choices.len() > 1 {
                let name = |l: &redress_domain::lifecycle::Lifecycle| {
                    if spanish {
                        l.name_es.clone()
                    } else {
                        l.name.clone()
                    }
                };
                let mut list: Options = Vec::new();
                if let Some(c) = current {
                    list.push((c.id.clone(), name(c)));
                }
                list.extend(
                    choices
                        .into_iter()
                        .filter(|l| current.is_none_or(|c| c.id != l.id))
                        .map(|l| (l.id.clone(), name(l))),
                );
                list
            } else {
                vec![]
            }
        },
        can_edit,
        priorities: word_options(&tr, "priority", Priority::ALL),
        companies,
        categories,
        languages: word_options(&tr, "language", Language::ALL),
        flags,
        edit_open,
        other_cases: file
            .other_cases
            .iter()
            .map(|o| {
                (
                    o.reference.clone(),
                    tr.word("status", o.status.as_str()),
                    tr.word("kind", o.kind.as_str()),
                    local_date(state, o.opened_at),
                )
            })
            .collect(),
        c: view,
    };
    ctx.render(status, &page)
}

pub(super) async fn case_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    Query(q): Query<Fields>,
) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let Ok(reference) = reference.parse::<Reference>() else {
        return message(
            &ctx,
            Some(NavUser::of(&user)),
            StatusCode::NOT_FOUND,
            "notfound-title",
            "notfound-body",
        );
    };
    let audit_page = q
        .get("audit_page")
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| (1..=100_000).contains(p))
        .unwrap_or(1);
    let filter = q
        .get("filter")
        .map(String::as_str)
        .filter(|f| ["all", "notes", "correspondence", "company"].contains(f))
        .unwrap_or("all");
    let mut form = Form::default();
    form.values.insert(
        "visibility".into(),
        if user.user.role == Role::Company {
            "company".into()
        } else {
            "internal".into()
        },
    );
    form.values.insert("call_length".into(), "0:00".into());
    form.values.insert("link_kind".into(), "related".into());
    form.values.insert(
        "file_visibility".into(),
        if user.user.role == Role::Company {
            "company".into()
        } else {
            "internal".into()
        },
    );
    case_render(
        &state,
        &ctx,
        &user,
        &reference.to_string(),
        (filter, audit_page),
        form,
        None,
        StatusCode::OK,
    )
    .await
}

/// The line that heads an email on the timeline: "From maria@example.com" or "To ..." (the
/// message's direction), and its subject.
fn email_line(tr: &Tr, e: &TimelineEntry) -> Option<(String, String)> {
    if e.entry_type != EntryType::Email {
        return None;
    }
    let d = &e.data;
    let who = if d["direction"] == "in" {
        let from = match d["name"].as_str().filter(|n| !n.is_empty()) {
            Some(name) => format!("{name} <{}>", d["from"].as_str().unwrap_or_default()),
            None => d["from"].as_str().unwrap_or_default().to_string(),
        };
        tr.t1("case-email-from", "who", &from)
    } else {
        tr.t1("case-email-to", "who", d["to"].as_str().unwrap_or_default())
    };
    Some((who, d["subject"].as_str().unwrap_or_default().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(system: bool, body: &str) -> EntryView {
        EntryView {
            system,
            kind: "note".into(),
            at: String::new(),
            at_iso: String::new(),
            author: String::new(),
            visibility: "internal".into(),
            body: body.into(),
            email: None,
            letter: None,
        }
    }

    #[test]
    fn the_timeline_reads_newest_first_with_runs_of_system_events_folded() {
        let items = timeline_items(vec![
            entry(false, "opened"),
            entry(true, "clock 1"),
            entry(true, "clock 2"),
            entry(false, "note"),
            entry(true, "clock 3"),
        ]);
        let shape: Vec<(bool, Vec<&str>)> = items
            .iter()
            .map(|i| {
                (
                    i.folded(),
                    i.entries.iter().map(|e| e.body.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            shape,
            vec![
                (false, vec!["clock 3"]),
                (false, vec!["note"]),
                (true, vec!["clock 2", "clock 1"]),
                (false, vec!["opened"]),
            ]
        );
    }
}
