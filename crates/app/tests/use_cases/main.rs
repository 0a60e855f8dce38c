//! The office's use cases without HTTP, as a mail pipe, an import or a command reaches them: each
//! test runs against a fresh SQLite file and a fresh PostgreSQL database (PostgreSQL at
//! 127.0.0.1:5432, or `REDRESS_TEST_PG_URL`).

use jiff::SignedDuration;
use redress_app::accounts::SecondStep;
use redress_app::cases::{CreateCase, Intake, PatchCase, TransitionInput};
use redress_app::directory::NewUserInput;
use redress_app::timeline::ReminderInput;
use redress_app::{App, AppError, Person, Settings};
use redress_domain::records::Office;
use redress_domain::{Clock, ManualClock, Role};
use redress_store::{Actor, StoreOptions};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

mod mail;

const PASSWORD: &str = "correct horse battery staple";
static COUNTER: AtomicU32 = AtomicU32::new(0);

fn pg_admin_url() -> String {
    #[expect(
        clippy::disallowed_methods,
        reason = "tests choose their PostgreSQL server"
    )]
    let url = std::env::var("REDRESS_TEST_PG_URL");
    url.unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// An office on a fresh store, with an agent, a supervisor and a company's representative.
struct TestOffice {
    app: App,
    clock: Arc<ManualClock>,
    agent: Person,
    company: Person,
    pg_name: Option<String>,
    dir: Option<std::path::PathBuf>,
}

impl TestOffice {
    async fn open(postgres: bool) -> TestOffice {
        let unique = format!(
            "{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let (url, pg_name, dir) = if postgres {
            let name = format!("redress_app_{unique}");
            let url = redress_store::postgres::create_database(&pg_admin_url(), &name)
                .await
                .expect("PostgreSQL at 127.0.0.1:5432 (see README)");
            (url, Some(name), None)
        } else {
            let dir = std::env::temp_dir().join(format!("redress-app-test-{unique}"));
            std::fs::create_dir_all(&dir).expect("temp dir");
            (
                format!("sqlite:{}", dir.join("redress.db").display()),
                None,
                Some(dir),
            )
        };
        let store = redress_store::open(&url, &StoreOptions::default())
            .await
            .expect("store");
        store.migrate().await.expect("migrate");
        let office = Office {
            code: "NYC".into(),
            name: "Test office".into(),
            time_zone: "America/New_York".into(),
            opens_at: 9,
            closes_at: 17,
        };
        store.ensure_office(&office).await.expect("office");
        let clock = Arc::new(ManualClock::new(
            "2026-03-09T14:30:00Z".parse().expect("instant"),
        ));
        let system = Actor::system();
        store
            .create_unit(&system, "CALL", "Call Center", "NYC", clock.now())
            .await
            .expect("unit");
        let company = store
            .create_company(
                &system,
                "Consolidated Edison",
                "Energy",
                Some(3_500_000),
                clock.now(),
            )
            .await
            .expect("company");
        let settings = Settings {
            attachments_dir: dir.clone().unwrap_or_else(|| {
                std::env::temp_dir().join(format!("redress-app-files-{unique}"))
            }),
            ..Settings::default()
        };
        let app = App::new(store, clock.clone(), office, settings);
        let mut people = Vec::new();
        for (username, role, company_id) in [
            ("ana", Role::Agent, None),
            ("cora", Role::Company, Some(company.id)),
        ] {
            let user = app
                .create_user(
                    &system,
                    NewUserInput {
                        username: Some(username.into()),
                        display_name: None,
                        role,
                        unit: Some("CALL".into()),
                        company_id,
                        password: Some(PASSWORD.into()),
                        email: None,
                    },
                )
                .await
                .expect("user");
            people.push(Person::new(user));
        }
        let company = people.pop().expect("company user");
        let agent = people.pop().expect("agent");
        TestOffice {
            app,
            clock,
            agent,
            company,
            pg_name,
            dir,
        }
    }

    async fn close(self) {
        if let Some(name) = self.pg_name {
            drop(self.app);
            let _ = redress_store::postgres::drop_database(&pg_admin_url(), &name).await;
        }
        if let Some(dir) = self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    async fn open_complaint(&self) -> String {
        let (case, created) = self
            .app
            .open_case(Intake::Staff(&self.agent), complaint(), None)
            .await
            .expect("case");
        assert!(created);
        case.reference
    }
}

fn complaint() -> CreateCase {
    serde_json::from_value(serde_json::json!({
        "kind": "complaint",
        "channel": "phone",
        "description": "Billed twice for February.",
        "consumer": {"name": "Rosa Díaz", "phone": "212-555-0101", "preferred_language": "es"},
        "amount_in_dispute": "125.40",
    }))
    .expect("command")
}

async fn case_count(o: &TestOffice) -> usize {
    o.app
        .list_cases(&o.agent, &Default::default())
        .await
        .expect("list")
        .items
        .len()
}

#[tokio::test]
async fn opening_a_case_names_each_wrong_field_and_writes_nothing() {
    for postgres in [false, true] {
        let o = TestOffice::open(postgres).await;
        let mut bad = complaint();
        bad.unit = Some("NOPE".into());
        bad.consumer.as_mut().expect("consumer").phone = Some("12".into());
        let Err(AppError::Validation(errors)) =
            o.app.open_case(Intake::Staff(&o.agent), bad, None).await
        else {
            panic!("a bad phone and an unknown unit are refused");
        };
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"consumer.phone"), "{fields:?}");
        assert!(fields.contains(&"unit"), "{fields:?}");
        assert_eq!(case_count(&o).await, 0, "nothing was written");

        // The portal cannot choose an existing person; a company's representative cannot open.
        let mut chosen = complaint();
        chosen.consumer_id = Some(1);
        assert!(matches!(
            o.app.open_case(Intake::Portal, chosen, None).await,
            Err(AppError::Validation(_))
        ));
        assert!(matches!(
            o.app
                .open_case(Intake::Staff(&o.company), complaint(), None)
                .await,
            Err(AppError::Forbidden)
        ));

        let reference = o.open_complaint().await;
        assert!(reference.starts_with("NYC-2026-"), "{reference}");
        let case = o.app.read_case(&o.agent, &reference).await.expect("read");
        assert_eq!(case.amount_in_dispute.as_deref(), Some("125.40"));
        assert_eq!(case_count(&o).await, 1);
        o.close().await;
    }
}

#[tokio::test]
async fn steps_and_changes_are_checked_against_where_the_case_stands() {
    for postgres in [false, true] {
        let o = TestOffice::open(postgres).await;
        let reference = o.open_complaint().await;
        let step = TransitionInput {
            transition: "no_such_step".into(),
            fields: Default::default(),
        };
        match o
            .app
            .take_transition(&o.agent, &reference, None, step)
            .await
        {
            Err(AppError::InvalidTransition { allowed, .. }) => {
                assert!(!allowed.is_empty(), "the steps possible now are named")
            }
            other => panic!("unknown step: {other:?}"),
        }
        let patch: PatchCase =
            serde_json::from_value(serde_json::json!({"priority": "high"})).expect("patch");
        match o.app.change_case(&o.agent, &reference, 99, patch).await {
            Err(AppError::Stale { current }) => assert_eq!(current, 1),
            other => panic!("a stale version: {other:?}"),
        }
        let patch: PatchCase =
            serde_json::from_value(serde_json::json!({"priority": "high"})).expect("patch");
        let changed = o
            .app
            .change_case(&o.agent, &reference, 1, patch)
            .await
            .expect("change");
        assert_eq!(changed.version, 2);
        o.close().await;
    }
}

#[tokio::test]
async fn sign_in_locks_a_name_after_repeated_failures() {
    for postgres in [false, true] {
        let o = TestOffice::open(postgres).await;
        let from = "192.0.2.7".parse().expect("address");
        for _ in 0..5 {
            assert!(matches!(
                o.app
                    .login("ana", "wrong password!", SecondStep::Code(None), from)
                    .await,
                Err(AppError::Unauthenticated)
            ));
        }
        assert!(matches!(
            o.app
                .login("ana", PASSWORD, SecondStep::Code(None), from)
                .await,
            Err(AppError::RateLimited { .. })
        ));
        // Another address is not locked out by these failures.
        let elsewhere = "198.51.100.9".parse().expect("address");
        let user = o
            .app
            .login("ana", PASSWORD, SecondStep::Code(None), elsewhere)
            .await
            .expect("sign in");
        assert_eq!(user.username, "ana");
        o.close().await;
    }
}

#[tokio::test]
async fn a_reminder_is_written_once_by_the_job_worker() {
    for postgres in [false, true] {
        let o = TestOffice::open(postgres).await;
        let reference = o.open_complaint().await;
        let at = o.clock.now() + SignedDuration::from_hours(1);
        o.app
            .schedule_reminder(
                &o.agent,
                &reference,
                ReminderInput {
                    at: at.to_string(),
                    body: Some("Call Ms. Díaz back".into()),
                },
            )
            .await
            .expect("reminder");
        assert_eq!(
            redress_app::jobs::run_due_jobs(&o.app, "node-a", 10)
                .await
                .expect("worker"),
            0,
            "not due yet"
        );
        o.clock.advance(SignedDuration::from_hours(2));
        assert_eq!(
            redress_app::jobs::run_due_jobs(&o.app, "node-a", 10)
                .await
                .expect("worker"),
            1
        );
        assert_eq!(
            redress_app::jobs::run_due_jobs(&o.app, "node-b", 10)
                .await
                .expect("worker"),
            0,
            "exactly once"
        );
        let entries = o
            .app
            .timeline(&o.agent, &reference, None)
            .await
            .expect("timeline");
        let reminders = entries
            .iter()
            .filter(|e| e.body.contains("Call Ms. Díaz back"))
            .count();
        assert_eq!(reminders, 1);
        o.close().await;
    }
}

#[tokio::test]
async fn an_office_may_keep_agents_from_taking_cases() {
    let mut o = TestOffice::open(false).await;
    let reference = o.open_complaint().await;
    o.app.settings.agents_take_cases = false;
    assert!(matches!(
        o.app.take_case(&o.agent, &reference, None).await,
        Err(AppError::Forbidden)
    ));
    o.app.settings.agents_take_cases = true;
    let case = o
        .app
        .take_case(&o.agent, &reference, Some(1))
        .await
        .expect("taken");
    assert_eq!(case.assignee.as_deref(), Some("ana"));
    o.close().await;
}
