use super::*;
use jiff::Timestamp;
use jiff::civil::date;

fn shipped() -> Lifecycles {
    match Lifecycles::shipped() {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn every_shipped_pack_parses_and_covers_every_kind() {
    let all = shipped();
    assert_eq!(all.0.len(), CaseKind::ALL.len() + 2);
    for kind in CaseKind::ALL {
        let general = all.for_kind(*kind).expect("a general lifecycle");
        assert!(general.applies.is_general(), "{kind}: {}", general.id);
    }
}

#[test]
fn each_case_takes_the_lifecycle_its_company_or_category_calls_for() {
    let all = shipped();
    let id = |kind, industry, category| {
        all.choose(kind, industry, category)
            .map(|l| l.id.as_str())
            .unwrap_or_default()
    };
    // A utility's customer, by the company's industry or by the category filed under.
    assert_eq!(
        id(CaseKind::Complaint, Some("Energy"), None),
        "utility_complaint"
    );
    assert_eq!(
        id(CaseKind::Complaint, Some("cable"), None),
        "utility_complaint"
    );
    assert_eq!(
        id(
            CaseKind::Complaint,
            None,
            Some("Water > Residential > Billing")
        ),
        "utility_complaint"
    );
    // A credit report, a bank, no company at all: the general complaint.
    assert_eq!(
        id(
            CaseKind::Complaint,
            Some("Credit reporting"),
            Some("Credit reporting > Incorrect information")
        ),
        "general_complaint"
    );
    assert_eq!(id(CaseKind::Complaint, None, None), "general_complaint");
    // Questions: an insurer's, or anyone else's.
    assert_eq!(
        id(CaseKind::Inquiry, Some("Insurance"), None),
        "insurance_inquiry"
    );
    assert_eq!(
        id(CaseKind::Inquiry, None, Some("Office hours")),
        "general_inquiry"
    );
    // Kinds with one lifecycle take it.
    assert_eq!(
        id(CaseKind::FoilRequest, Some("Energy"), None),
        "foil_request"
    );
    assert_eq!(
        all.by_id("general_complaint").map(|l| l.kind),
        Some(CaseKind::Complaint)
    );
}

#[test]
fn a_kind_has_one_general_lifecycle_and_ids_are_unique() {
    let general = SHIPPED
        .iter()
        .find(|(n, _)| *n == "general_complaint.toml")
        .map(|(_, t)| t.to_string())
        .expect("pack");
    let err = Lifecycles::parse(&[
        ("a/general_complaint.toml".into(), general.clone()),
        ("b/another.toml".into(), general.clone()),
    ])
    .expect_err("two general complaint lifecycles");
    assert!(
        err.reason.contains("already has a general lifecycle"),
        "{err}"
    );
    let err = Lifecycles::parse(&[
        ("a/general_complaint.toml".into(), general.clone()),
        ("b/general_complaint.toml".into(), general),
    ])
    .expect_err("two files of one name");
    assert!(err.reason.contains("also named general_complaint"), "{err}");
}

#[test]
fn lengths_parse() {
    assert_eq!(
        parse_length("15 calendar days"),
        Some(Length::CalendarDays(15))
    );
    assert_eq!(
        parse_length("1 business day"),
        Some(Length::BusinessDays(1))
    );
    assert_eq!(parse_length("15 days"), None);
    assert_eq!(parse_length("fifteen calendar days"), None);
}

fn error_of(text: &str) -> LifecycleError {
    match Lifecycle::parse("bad.toml", text) {
        Ok(_) => panic!("accepted"),
        Err(e) => e,
    }
}

const MINIMAL: &str = r#"kind = "inquiry"
version = 1
name = "x"
name_es = "x"
source = "x"
initial = "open"

[[state]]
name = "open"
status = "new"
label = "Open"
label_es = "Abierta"

[[state]]
name = "closed"
status = "closed"
label = "Closed"
label_es = "Cerrada"

[[transition]]
name = "close"
label = "Close"
label_es = "Cerrar"
from = ["open"]
to = "closed"
roles = ["agent"]
"#;

#[test]
fn minimal_file_is_accepted() {
    let lc = Lifecycle::parse("ok.toml", MINIMAL).expect("parses");
    assert_eq!(lc.available("open", Some(Role::Agent)).len(), 1);
    assert!(lc.available("open", Some(Role::Company)).is_empty());
}

#[test]
fn mistakes_name_the_file_line_and_reason() {
    let e = error_of(&MINIMAL.replace("to = \"closed\"", "to = \"shut\""));
    assert_eq!((e.file.as_str(), e.line), ("bad.toml", 25));
    assert!(e.reason.contains("unknown state \"shut\""), "{e}");

    let e = error_of(&MINIMAL.replace("roles = [\"agent\"]", "roles = [\"janitor\"]"));
    assert_eq!(e.line, 26);
    assert!(e.reason.contains("role"), "{e}");

    let e = error_of(&MINIMAL.replace("status = \"closed\"", "status = \"gone\""));
    assert_eq!(e.line, 16);

    let e = error_of(&MINIMAL.replace("version = 1", "version = \"one\""));
    assert_eq!(e.line, 2);

    let e = error_of(&MINIMAL.replace("label = \"Open\"", "label = \"Open\"\ncolour = \"red\""));
    assert_eq!(e.line, 12);
    assert!(e.reason.contains("colour"), "{e}");

    let e = error_of(&MINIMAL.replace("kind = \"inquiry\"", "kind = \"gossip\""));
    assert_eq!((e.line, e.column), (1, 8));

    // A state nobody can reach.
    let e = error_of(&format!(
        "{MINIMAL}\n[[state]]\nname = \"limbo\"\nstatus = \"open\"\nlabel = \"L\"\nlabel_es = \"L\"\n"
    ));
    assert!(e.reason.contains("cannot be reached"), "{e}");
    assert_eq!(e.line, 29);

    // A clock counted from a field the transition does not require.
    let text = format!(
        "{}\n[[clock]]\nname = \"w\"\nlabel = \"W\"\nlabel_es = \"W\"\nsource = \"s\"\nkind = \"window\"\nlength = \"15 calendar days\"\nstarts_on = \"mailed_on\"\n\n[[field]]\nname = \"mailed_on\"\ntype = \"date\"\nlabel = \"M\"\nlabel_es = \"M\"\n",
        MINIMAL.replace(
            "roles = [\"agent\"]",
            "roles = [\"agent\"]\nstart = [\"w\"]"
        )
    );
    let e = error_of(&text);
    assert!(e.reason.contains("does not require"), "{e}");
    assert_eq!(e.line, 27);
}

#[test]
fn plans_check_role_fields_and_state() {
    let all = shipped();
    let lc = all.by_id("utility_complaint").expect("complaint");
    let at: Timestamp = "2026-12-01T15:00:00Z".parse().expect("ts");
    let today = date(2026, 12, 1);
    // Wrong state: the error lists what may be done instead.
    match lc.plan(
        "received",
        "issue_initial_decision",
        Some(Role::Agent),
        &[],
        at,
        today,
    ) {
        Err(TransitionError::NotAllowed { allowed, .. }) => {
            assert!(allowed.contains(&"refer_to_company".to_string()));
            assert!(allowed.contains(&"close".to_string()));
        }
        other => panic!("{other:?}"),
    }
    // Wrong role.
    assert!(matches!(
        lc.plan(
            "hearing_requested",
            "schedule_hearing",
            Some(Role::Agent),
            &[],
            at,
            today
        ),
        Err(TransitionError::Role { .. })
    ));
    // Fields: required, in the future, too little notice, unknown.
    let f = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    };
    match lc.plan(
        "investigating",
        "issue_initial_decision",
        Some(Role::Agent),
        &f(&[("mailed_on", "2026-12-02"), ("colour", "red")]),
        at,
        today,
    ) {
        Err(TransitionError::Fields(e)) => {
            assert_eq!(
                e.fields(),
                vec!["fields.colour", "fields.decision", "fields.mailed_on"]
            );
        }
        other => panic!("{other:?}"),
    }
    match lc.plan(
        "hearing_requested",
        "schedule_hearing",
        Some(Role::Supervisor),
        &f(&[("hearing_on", "2026-12-10"), ("place", "Albany")]),
        at,
        today,
    ) {
        Err(TransitionError::Fields(e)) => assert_eq!(e.0[0].code, "too_soon"),
        other => panic!("{other:?}"),
    }
    // A good one: the window counts from the mailing date.
    let plan = lc
        .plan(
            "investigating",
            "issue_initial_decision",
            Some(Role::Agent),
            &f(&[("decision", "Refund $40"), ("mailed_on", "2026-11-30")]),
            at,
            today,
        )
        .expect("plan");
    assert_eq!(plan.to, "initial_decision");
    assert!(plan.effects.iter().any(|e| matches!(e, ClockEffect::Start(s) if s.name == "review_request_window" && s.starts_on == Some(date(2026, 11, 30)))));
    // Step text follows the one text rule; dates stay within reach of the calendar.
    match lc.plan(
        "investigating",
        "request_information",
        Some(Role::Agent),
        &f(&[
            ("request_text", "bills\u{1b}[2J\0"),
            ("response_due", "9999-12-31"),
        ]),
        at,
        today,
    ) {
        Err(TransitionError::Fields(e)) => {
            assert_eq!(
                e.fields(),
                vec!["fields.request_text", "fields.response_due"]
            );
            assert_eq!(e.0[0].code, "invalid_characters");
            assert_eq!(e.0[1].code, "out_of_range");
        }
        other => panic!("{other:?}"),
    }
    // System transitions are not for people.
    let foil = all.for_kind(CaseKind::FoilRequest).expect("foil");
    assert!(
        foil.plan(
            "received",
            "constructive_denial",
            Some(Role::Manager),
            &[],
            at,
            today
        )
        .is_err()
    );
    assert!(
        foil.plan("received", "constructive_denial", None, &[], at, today)
            .is_ok()
    );
}

#[test]
fn a_step_is_recorded_in_words_people_read() {
    let all = shipped();
    let lc = all.by_id("utility_complaint").expect("complaint");
    let at: Timestamp = "2026-12-01T15:00:00Z".parse().expect("ts");
    let fields: Vec<(String, String)> = [
        ("response_category", "closed_with_non_monetary_relief"),
        ("response", "Bill corrected."),
        ("hold_acknowledged", "yes"),
        ("relief_amount", "450"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    let plan = lc
        .plan(
            "referred_to_company",
            "record_company_response",
            Some(Role::Company),
            &fields,
            at,
            date(2026, 12, 1),
        )
        .expect("plan");
    // The facts stay exact (money in cents, choices as their words) ...
    assert!(
        plan.facts
            .contains(&("relief_amount".into(), "45000".into()))
    );
    // ... and the record says it as people do: labels, states by name, money as money.
    assert_eq!(
        plan.record,
        "Record the company's response (Referred to the company → Company responded)\n\
         How the company closed it: Closed with non-monetary relief\n\
         Company's explanation: Bill corrected.\n\
         Termination hold on the disputed amount acknowledged: Yes\n\
         Monetary relief: $450.00"
    );
}

#[test]
fn letters_check_their_placeholders_and_fill_them() {
    let text = format!(
        "{MINIMAL}\n[[letter]]\nname = \"l\"\ntransition = \"close\"\nto = \"consumer\"\nsubject = \"Case {{{{reference}}}}\"\nsubject_es = \"Caso {{{{reference}}}}\"\nbody = \"\"\"\nDue {{{{due.nothing}}}}\n\"\"\"\nbody_es = \"x\"\n"
    );
    let e = error_of(&text);
    assert!(
        e.reason.contains("unknown placeholder {{due.nothing}}"),
        "{e}"
    );
    assert_eq!(e.line, 35);
    let all = shipped();
    let lc = all.for_kind(CaseKind::Mediation).expect("mediation");
    let def = lc.letters_for("record_agreement")[0];
    let ctx = LetterContext {
        reference: "NYC-2026-000001".into(),
        consumer: "Ana Díaz".into(),
        company: "Acme Movers".into(),
        facts: vec![
            ("remedy".into(), "refund".into()),
            ("refund_amount".into(), "14999".into()),
        ],
        ..LetterContext::default()
    };
    let es = lc.render(def, crate::Language::Es, &ctx);
    assert_eq!(es.subject, "Su queja NYC-2026-000001 se resolvió");
    assert!(
        es.body
            .contains("Acme Movers aceptó resolver su queja: Reembolso $149.99"),
        "{}",
        es.body
    );
    let en = lc.render(def, crate::Language::En, &ctx);
    assert!(en.body.starts_with("Dear Ana Díaz,"), "{}", en.body);
    assert!(
        en.body.contains("resolve your complaint: Refund $149.99"),
        "{}",
        en.body
    );
    // Option labels must match the options one for one.
    let text = MINIMAL.replace(
        "[[transition]]",
        "[[field]]\nname = \"c\"\ntype = \"choice\"\nlabel = \"C\"\nlabel_es = \"C\"\noptions = [\"a\", \"b\"]\noption_labels = [\"A\"]\n\n[[transition]]",
    );
    let e = error_of(&text);
    assert!(e.reason.contains("1 option labels for 2 options"), "{e}");
    assert_eq!(e.line, 26);
    assert!(!en.body.contains("{{"));
}

#[test]
fn hold_follows_the_state_and_the_window() {
    let all = shipped();
    let lc = all.by_id("utility_complaint").expect("complaint");
    let now: Timestamp = "2026-12-10T15:00:00Z".parse().expect("ts");
    let due: Timestamp = "2026-12-15T22:00:00Z".parse().expect("ts");
    let pending = lc.state("investigating").expect("state");
    let h = lc
        .hold_status(pending, Some(12_000), &[], now)
        .expect("hold");
    assert!(h.active && h.ends_at.is_none());
    assert!(lc.hold_status(pending, None, &[], now).is_none());
    let decided = lc.state("initial_decision").expect("state");
    let clocks = vec![("review_request_window".to_string(), due)];
    let h = lc
        .hold_status(decided, Some(12_000), &clocks, now)
        .expect("hold");
    assert!(h.active && h.ends_at == Some(due));
    let later: Timestamp = "2026-12-16T15:00:00Z".parse().expect("ts");
    assert!(
        !lc.hold_status(decided, Some(12_000), &clocks, later)
            .expect("hold")
            .active
    );
    let closed = lc.state("closed").expect("state");
    assert!(
        !lc.hold_status(closed, Some(12_000), &clocks, now)
            .expect("hold")
            .active
    );
}
