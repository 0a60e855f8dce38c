//! The command line, end to end: `user add`, `token create`, `serve`, a create → read →
//! patch → timeline round trip over HTTP, and `audit verify` before and after tampering, on
//! SQLite and on PostgreSQL.

use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod export;
mod import;
mod letters;
mod mail;

const BIN: &str = env!("CARGO_BIN_EXE_redress");

struct Target {
    args: Vec<String>,
    url: String,
    dir: std::path::PathBuf,
    pg: Option<String>,
}

fn pg_admin() -> String {
    #[expect(
        clippy::disallowed_methods,
        reason = "tests choose their PostgreSQL server"
    )]
    let url = std::env::var("REDRESS_TEST_PG_URL");
    url.unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

async fn target(pg: bool, tag: &str) -> Target {
    let dir = std::env::temp_dir().join(format!("redress-cli-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    if pg {
        let name = format!("redress_cli_{}_{tag}", std::process::id());
        let url = redress_store::postgres::create_database(&pg_admin(), &name)
            .await
            .expect("PostgreSQL is needed: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start");
        Target {
            args: vec!["--database-url".into(), url.clone()],
            url,
            dir,
            pg: Some(name),
        }
    } else {
        let url = format!("sqlite:{}", dir.join("redress.db").display());
        Target {
            args: vec!["--data-dir".into(), dir.display().to_string()],
            url,
            dir,
            pg: None,
        }
    }
}

fn run(args: &[&str], t: &Target, stdin: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .args(&t.args)
        .current_dir(&t.dir)
        .env("REDRESS_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::piped());
    let mut child = cmd.spawn().expect("run redress");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

async fn round_trip(pg: bool) {
    let t = target(pg, if pg { "pg" } else { "lite" }).await;
    let (code, _, err) = run(
        &["user", "add", "ana", "--role", "admin"],
        &t,
        Some("correct horse battery\n"),
    );
    assert_ne!(
        code, 0,
        "a password on the command line or none at all is refused"
    );
    assert!(err.contains("--password-stdin"), "{err}");
    let (code, out, err) = run(
        &["user", "add", "ana", "--role", "admin", "--password-stdin"],
        &t,
        Some("correct horse battery\n"),
    );
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = run(
        &["user", "add", "ana", "--role", "agent", "--password-stdin"],
        &t,
        Some("correct horse battery\n"),
    );
    assert_ne!(code, 0);
    assert!(err.contains("already exists"), "{err}");
    let (code, _, err) = run(
        &["user", "add", "bob", "--role", "wizard", "--password-stdin"],
        &t,
        Some("correct horse battery\n"),
    );
    assert_ne!(code, 0);
    assert!(err.contains("unknown role"), "{err}");
    let (code, _, _) = run(
        &["user", "add", "bob", "--role", "agent", "--password-stdin"],
        &t,
        Some("short\n"),
    );
    assert_ne!(code, 0);
    let (_, list, _) = run(&["user", "list"], &t, None);
    assert!(list.contains("ana") && list.contains("admin"), "{list}");
    let (code, token, _) = run(&["token", "create", "ana", "--name", "ci"], &t, None);
    assert_eq!(code, 0);
    let token = token.trim().to_string();
    assert!(token.starts_with("rdr_") && token.len() == 68, "{token}");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(&t.args)
        .current_dir(&t.dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map(|r| r.status().is_success())
        .unwrap_or(false)
    {
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let body = json!({"kind":"complaint","channel":"phone","description":"Billed twice for October","consumer":{"name":"Ana Díaz","email":"ana@example.org","phone":"518-555-0100","preferred_language":"es"}});
    let create = || {
        client
            .post(format!("{base}/api/v1/cases"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "k1")
            .json(&body)
            .send()
    };
    let r = create().await.unwrap();
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let case: Value = r.json().await.unwrap();
    let again: Value = create().await.unwrap().json().await.unwrap();
    assert_eq!(case["reference"], again["reference"]);
    let r = client
        .get(format!("{base}{location}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["etag"], "\"1\"");
    let r = client
        .patch(format!("{base}{location}"))
        .bearer_auth(&token)
        .header("If-Match", "\"1\"")
        .json(&json!({"priority":"high"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client
        .patch(format!("{base}{location}"))
        .bearer_auth(&token)
        .header("If-Match", "\"1\"")
        .json(&json!({"priority":"low"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 412);
    let r = client
        .post(format!("{base}{location}/timeline"))
        .bearer_auth(&token)
        .json(&json!({"type":"note","body":"Called the company","visibility":"internal"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let tl: Vec<Value> = client
        .get(format!("{base}{location}/timeline"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tl.last().unwrap()["body"], "Called the company");
    let list: Value = client
        .get(format!("{base}/api/v1/cases"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "one case despite the retried create"
    );
    server.kill().unwrap();
    let _ = server.wait();

    let (code, out, _) = run(&["audit", "verify"], &t, None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact"), "{out}");

    // A note or a case edited in the database no longer matches the digests audited with it.
    let reference = case["reference"].as_str().unwrap();
    let drop = if pg {
        "DROP TRIGGER timeline_append_only ON timeline"
    } else {
        "DROP TRIGGER timeline_no_update"
    };
    let edit_note =
        "UPDATE timeline SET body = 'Consumer withdrew' WHERE body = 'Called the company'";
    raw(&t, &[drop.into(), edit_note.into()]).await;
    let (code, out, _) = run(&["audit", "verify"], &t, None);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("case:{reference}"))
            && out.contains("timeline entry")
            && out.contains("(note)")
            && out.contains("edited"),
        "{out}"
    );
    let restore =
        "UPDATE timeline SET body = 'Called the company' WHERE body = 'Consumer withdrew'";
    raw(&t, &[restore.into()]).await;
    let edit_case = format!("UPDATE cases SET priority = 'low' WHERE reference = '{reference}'");
    raw(&t, &[edit_case]).await;
    let (code, out, _) = run(&["audit", "verify"], &t, None);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("differs") && out.contains("in: priority"),
        "{out}"
    );
    let restore = format!("UPDATE cases SET priority = 'high' WHERE reference = '{reference}'");
    raw(&t, &[restore]).await;
    let (code, out, _) = run(&["audit", "verify"], &t, None);
    assert_eq!(code, 0, "{out}");

    // Tamper with one row directly in the database: verify names it and fails.
    let id: i64 = if pg {
        let pool = sqlx::PgPool::connect(&t.url).await.unwrap();
        sqlx::query("DROP TRIGGER audit_log_append_only ON audit_log")
            .execute(&pool)
            .await
            .unwrap();
        let id: i64 = sqlx::query_scalar("SELECT id FROM audit_log WHERE action = 'case.update'")
            .fetch_one(&pool)
            .await
            .unwrap();
        sqlx::query("UPDATE audit_log SET detail = '{}' WHERE id = $1")
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        id
    } else {
        let pool = sqlx::SqlitePool::connect(&t.url).await.unwrap();
        sqlx::query("DROP TRIGGER audit_log_no_update")
            .execute(&pool)
            .await
            .unwrap();
        let id: i64 = sqlx::query_scalar("SELECT id FROM audit_log WHERE action = 'case.update'")
            .fetch_one(&pool)
            .await
            .unwrap();
        sqlx::query("UPDATE audit_log SET detail = '{}' WHERE id = $1")
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        id
    };
    let (code, out, _) = run(&["audit", "verify"], &t, None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("row {id}")), "{out}");

    if let Some(name) = &t.pg {
        let _ = redress_store::postgres::drop_database(&pg_admin(), name).await;
    }
    let _ = std::fs::remove_dir_all(&t.dir);
}

#[tokio::test]
async fn sqlite_cli_round_trip() {
    round_trip(false).await;
}

#[tokio::test]
async fn postgres_cli_round_trip() {
    round_trip(true).await;
}

#[test]
fn unknown_database_schemes_are_refused() {
    let out = Command::new(BIN)
        .args(["migrate", "--database-url", "mysql://root@localhost/x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
}

#[test]
fn serve_with_no_flags_creates_the_sqlite_file() {
    let dir = std::env::temp_dir().join(format!("redress-cli-default-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(BIN)
        .arg("migrate")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("redress-data/redress.db").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn demo_builds_a_lived_in_office() {
    let t = target(false, "demo").await;
    let source = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/cfpb_complaints_sample.csv.gz"
    );
    assert!(
        std::path::Path::new(source).exists(),
        "../shared/data is needed beside the project"
    );
    let (code, out, err) = run(&["demo", "--cases", "5000", "--source", source], &t, None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("5000 cases"), "{out}");
    let admin_password = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("admin "))
        .map(|rest| rest.split_whitespace().last().unwrap().to_string())
        .expect("admin login printed");
    for role in [
        "agent",
        "senior_agent",
        "supervisor",
        "manager",
        "analyst",
        "admin",
        "auditor",
        "company",
    ] {
        assert!(out.contains(role), "a user for {role}: {out}");
    }
    let pool = sqlx::SqlitePool::connect(&t.url).await.unwrap();
    let cases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(&pool)
        .await
        .unwrap();
    let units: Vec<String> = sqlx::query_scalar("SELECT name FROM units ORDER BY name")
        .fetch_all(&pool)
        .await
        .unwrap();
    let with_customers: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM companies WHERE customer_count > 0")
            .fetch_one(&pool)
            .await
            .unwrap();
    let entries: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM timeline")
        .fetch_one(&pool)
        .await
        .unwrap();
    let repeat: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT consumer_id FROM cases GROUP BY consumer_id HAVING COUNT(*) > 1) x").fetch_one(&pool).await.unwrap();
    let depth: i64 = sqlx::query_scalar(
        "SELECT MAX(LENGTH(path) - LENGTH(REPLACE(path, '>', ''))) FROM categories",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    // The current work: open cases at many stages, deadlines running, due soon and missed, and
    // staff with an address for their notices.
    #[expect(
        clippy::disallowed_methods,
        reason = "the demo lays the current work out around the real instant"
    )]
    let now = jiff::Timestamp::now().as_microsecond();
    let clock_count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(now)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let missed = clock_count("SELECT COUNT(*) FROM clocks WHERE stopped_at IS NULL AND paused_at IS NULL AND due_at < $1").await;
    let soon = clock_count("SELECT COUNT(*) FROM clocks WHERE stopped_at IS NULL AND paused_at IS NULL AND due_at >= $1 AND due_at < $1 + 259200000000").await;
    let later = clock_count("SELECT COUNT(*) FROM clocks WHERE stopped_at IS NULL AND paused_at IS NULL AND due_at >= $1 + 259200000000").await;
    assert!(
        missed > 10 && soon > 3 && later > 10,
        "missed {missed}, due soon {soon}, later {later}"
    );
    let stages: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT stage) FROM cases WHERE lifecycle IS NOT NULL AND status NOT IN ('resolved', 'closed')")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(stages >= 5, "open cases at {stages} stages");
    let without_email: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role <> 'company' AND email IS NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(without_email, 0, "every staff member gets notices");
    pool.close().await;
    assert_eq!(cases, 5300, "5,000 from the sample and 300 of current work");
    for u in [
        "Call Center",
        "Emergency Hotline",
        "Expedited Resolution",
        "Informal Hearings & Appeals",
        "Analysis",
    ] {
        assert!(units.iter().any(|x| x == u), "{u} in {units:?}");
    }
    assert!(
        units.iter().any(|x| x.starts_with("Upstate"))
            && units.iter().any(|x| x.starts_with("Downstate"))
    );
    assert!(with_customers > 100);
    assert!(entries > 10_000, "cases have timelines: {entries}");
    assert!(
        repeat > 100,
        "repeat callers link to one consumer: {repeat}"
    );
    assert!(depth >= 3, "industry > service > issue > sub-issue");
    let (code, out, _) = run(&["audit", "verify"], &t, None);
    assert_eq!(code, 0, "{out}");
    // The printed password logs in.
    let hash: String = {
        let pool = sqlx::SqlitePool::connect(&t.url).await.unwrap();
        let h = sqlx::query_scalar("SELECT password_hash FROM users WHERE username = 'admin'")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        h
    };
    assert!(hash.starts_with("$argon2id$"));
    assert!(!admin_password.is_empty());
    // Run again from outside the source tree, without --source: the sample is found, and the
    // office is not loaded twice.
    let (_, again, err) = run(&["demo", "--cases", "10"], &t, None);
    assert!(again.contains("already loaded"), "{again}{err}");
    // A sample that is not there stops the demo before any store is made.
    let empty = target(false, "demo-missing").await;
    let (code, _, err) = run(
        &["demo", "--source", "/nowhere/sample.csv.gz"],
        &empty,
        None,
    );
    assert_ne!(code, 0);
    assert!(err.contains("does not exist"), "{err}");
    assert!(
        !empty.dir.join("redress.db").exists(),
        "nothing left behind"
    );
    let _ = std::fs::remove_dir_all(&empty.dir);
    let _ = std::fs::remove_dir_all(&t.dir);
}

#[tokio::test]
async fn calendar_contract_and_office_closures() {
    let t = target(false, "cal").await;
    let (code, out, _) = run(
        &["calendar", "add-business-days", "2026-12-24", "1"],
        &t,
        None,
    );
    assert_eq!((code, out.as_str()), (0, "2026-12-28\n"));
    let (code, out, _) = run(&["calendar", "holidays", "2027"], &t, None);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 14);
    assert!(lines.contains(&"2027-07-05 Independence Day (observed)"));
    assert!(
        lines
            .iter()
            .all(|l| l.len() > 11 && l.as_bytes()[4] == b'-' && l.as_bytes()[10] == b' ')
    );
    let (code, _, err) = run(
        &["calendar", "add-business-days", "24/12/2026", "1"],
        &t,
        None,
    );
    assert_ne!(code, 0);
    assert!(err.contains("not a date"));
    // An office's closure moves its deadlines; the state calendar is unchanged.
    let (code, out, err) = run(
        &[
            "calendar",
            "close",
            "2026-12-28",
            "--office",
            "NYC",
            "--reason",
            "Snow day",
        ],
        &t,
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let (_, out, _) = run(
        &[
            "calendar",
            "add-business-days",
            "2026-12-24",
            "1",
            "--office",
            "NYC",
        ],
        &t,
        None,
    );
    assert_eq!(out, "2026-12-29\n");
    let (_, out, _) = run(
        &["calendar", "holidays", "2026", "--office", "NYC"],
        &t,
        None,
    );
    assert!(out.contains("2026-12-28 Snow day"));
    let (code, _, err) = run(
        &["calendar", "holidays", "2026", "--office", "ZZZ"],
        &t,
        None,
    );
    assert_ne!(code, 0);
    assert!(err.contains("no office"));
    let _ = std::fs::remove_dir_all(&t.dir);
}

#[test]
fn invalid_lifecycle_files_stop_serve_with_file_line_and_reason() {
    let dir = std::env::temp_dir().join(format!("redress-cli-lifecycles-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let lifecycles = dir.join("lifecycles");
    std::fs::create_dir_all(&lifecycles).unwrap();
    // The shipped FOIL pack with one transition pointing at a state that does not exist.
    let shipped = include_str!("../../../../lifecycles/foil_request.toml");
    let broken = shipped.replacen("to = \"searching\"", "to = \"rummaging\"", 1);
    let line = broken
        .lines()
        .position(|l| l.contains("rummaging"))
        .unwrap()
        + 1;
    std::fs::write(lifecycles.join("foil_request.toml"), &broken).unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("REDRESS_LIFECYCLES_DIR", &lifecycles)
        .env("REDRESS_LOG", "warn")
        .current_dir(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!(
            "foil_request.toml:{line}:6: unknown state \"rummaging\""
        )),
        "{stderr}"
    );
    assert!(
        !dir.join("redress-data").exists(),
        "nothing starts before the lifecycles are checked"
    );
    // A file with a TOML syntax error.
    std::fs::write(
        lifecycles.join("foil_request.toml"),
        "kind = \"foil_request\"\nversion = \n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("REDRESS_LIFECYCLES_DIR", &lifecycles)
        .current_dir(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("foil_request.toml:2:"), "{stderr}");
    // A good override replaces the shipped pack: the check lists it, and serve starts.
    std::fs::write(
        lifecycles.join("foil_request.toml"),
        shipped.replace("version = 1", "version = 2"),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["lifecycles", "check"])
        .env("REDRESS_LIFECYCLES_DIR", &lifecycles)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert_eq!(listed.lines().count(), 8, "{listed}");
    assert!(
        listed.contains("foil_request: FOIL request (POL §89) v2"),
        "{listed}"
    );
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("REDRESS_LIFECYCLES_DIR", &lifecycles)
        .env("REDRESS_LOG", "warn")
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "serve is running");
    child.kill().unwrap();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The real nodes in these tests run on the system clock, so the test reads it too.
fn wall_clock() -> jiff::Timestamp {
    #[expect(
        clippy::disallowed_methods,
        reason = "real serve processes use the system clock"
    )]
    let now = jiff::Timestamp::now();
    now
}

/// Starts `redress serve` on a free port with extra environment; returns it and its base URL
/// once it answers.
async fn start_node(t: &Target, env: &[(&str, &str)]) -> (std::process::Child, String) {
    start_serve(t, |cmd| {
        for (k, v) in env {
            cmd.env(k, v);
        }
    })
    .await
}

/// Starts `redress serve` on a free port, its command first changed by `adjust`; returns it and
/// its base URL once it answers.
async fn start_serve(
    t: &Target,
    adjust: impl FnOnce(&mut Command),
) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(&t.args)
        .current_dir(&t.dir)
        .env("REDRESS_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    adjust(&mut cmd);
    let child = cmd.spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !reqwest::get(format!("{base}/readyz"))
        .await
        .map(|r| r.status().is_success())
        .unwrap_or(false)
    {
        assert!(Instant::now() < deadline, "node did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, base)
}

/// Two `redress serve` processes on one PostgreSQL database share the scheduled jobs: each runs
/// exactly once. Then a node is killed while it holds a job: the job is taken over after its
/// lease, retried once and finished once.
#[tokio::test]
async fn two_serve_nodes_on_postgres_run_each_job_exactly_once() {
    let t = target(true, "nodes").await;
    let (code, _, err) = run(
        &[
            "user",
            "add",
            "ops",
            "--role",
            "supervisor",
            "--password-stdin",
        ],
        &t,
        Some("correct horse battery\n"),
    );
    assert_eq!(code, 0, "{err}");
    let (_, token, _) = run(&["token", "create", "ops"], &t, None);
    let token = token.trim().to_string();
    let lease = [("REDRESS_JOB_LEASE_SECS", "3")];
    let (mut a, base_a) = start_node(&t, &lease).await;
    let (mut b, base_b) = start_node(&t, &lease).await;
    let client = reqwest::Client::new();
    let case: Value = client
        .post(format!("{base_a}/api/v1/cases"))
        .bearer_auth(&token)
        .json(&json!({"kind":"complaint","channel":"phone","description":"Reminders","consumer":{"name":"Ana Díaz","phone":"518-555-0100"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = case["reference"].as_str().unwrap().to_string();
    // 60 reminders, scheduled through both nodes, all due within a couple of seconds.
    let at = wall_clock() + jiff::SignedDuration::from_secs(2);
    for i in 0..60 {
        let base = if i % 2 == 0 { &base_a } else { &base_b };
        let resp = client
            .post(format!("{base}/api/v1/cases/{r}/reminders"))
            .bearer_auth(&token)
            .json(&json!({"at": at.to_string(), "body": format!("Reminder {i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 202);
    }
    let pool = sqlx::PgPool::connect(&t.url).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE done_at IS NOT NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
        if done == 60 {
            break;
        }
        assert!(Instant::now() < deadline, "only {done} of 60 jobs done");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let timeline: Vec<Value> = client
        .get(format!("{base_b}/api/v1/cases/{r}/timeline"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut job_ids: Vec<i64> = timeline
        .iter()
        .filter(|e| e["data"]["event"] == "reminder")
        .map(|e| e["data"]["job_id"].as_i64().unwrap())
        .collect();
    assert_eq!(job_ids.len(), 60, "each reminder written once");
    job_ids.sort();
    job_ids.dedup();
    assert_eq!(job_ids.len(), 60);
    let nodes: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT locked_by) FROM jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    eprintln!("60 jobs run by {nodes} node(s)");
    let attempts: i64 = sqlx::query_scalar("SELECT MAX(attempts) FROM jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(attempts, 1, "no job was run twice");

    // Node A is replaced by one that stalls on every job it claims; node B is stopped so that
    // the stalling node takes the next job.
    let _ = a.kill();
    let _ = a.wait();
    let _ = b.kill();
    let _ = b.wait();
    let (mut stalling, base_s) = start_node(
        &t,
        &[
            ("REDRESS_JOB_LEASE_SECS", "3"),
            ("REDRESS_FAULT_JOB_STALL_MS", "600000"),
        ],
    )
    .await;
    let resp = client
        .post(format!("{base_s}/api/v1/cases/{r}/reminders"))
        .bearer_auth(&token)
        .json(&json!({"at": wall_clock().to_string(), "body": "Taken over"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let deadline = Instant::now() + Duration::from_secs(30);
    let (id, holder): (i64, String) = loop {
        if let Some(row) = sqlx::query_as::<_, (i64, String)>(
            "SELECT id, locked_by FROM jobs WHERE done_at IS NULL AND locked_by IS NOT NULL",
        )
        .fetch_optional(&pool)
        .await
        .unwrap()
        {
            break row;
        }
        assert!(
            Instant::now() < deadline,
            "the stalling node never claimed the job"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Killed mid-job: it holds the lease and has done nothing.
    stalling.kill().unwrap();
    let _ = stalling.wait();
    let (mut c, _) = start_node(&t, &lease).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let (attempts, finisher): (i64, String) = loop {
        if let Some(row) = sqlx::query_as::<_, (i64, String)>(
            "SELECT attempts, locked_by FROM jobs WHERE id = $1 AND done_at IS NOT NULL",
        )
        .bind(id)
        .fetch_optional(&pool)
        .await
        .unwrap()
        {
            break row;
        }
        assert!(Instant::now() < deadline, "the job was not taken over");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(attempts, 2, "claimed by the killed node, retried once");
    assert_ne!(finisher, holder, "finished by the other node");
    let written: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM timeline WHERE body = 'Taken over'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(written, 1, "finished once");
    let _ = c.kill();
    let _ = c.wait();
    pool.close().await;
    if let Some(name) = &t.pg {
        let _ = redress_store::postgres::drop_database(&pg_admin(), name).await;
    }
    let _ = std::fs::remove_dir_all(&t.dir);
}

/// Runs raw statements as someone with direct database access.
async fn raw(t: &Target, statements: &[String]) {
    if t.pg.is_some() {
        let pool = sqlx::PgPool::connect(&t.url).await.unwrap();
        for s in statements {
            sqlx::query(s).execute(&pool).await.unwrap();
        }
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(&t.url).await.unwrap();
        for s in statements {
            sqlx::query(s).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
}

type AuditRow = (i64, i64, i64, String, String, String, String);

/// A chain's rows: id, seq, at, actor, action, subject, detail.
async fn chain_rows(t: &Target, chain: &str) -> Vec<AuditRow> {
    const SQL: &str = "SELECT id, seq, at, actor, action, subject, detail FROM audit_log WHERE chain = $1 ORDER BY seq";
    if t.pg.is_some() {
        let pool = sqlx::PgPool::connect(&t.url).await.unwrap();
        let rows = sqlx::query_as(SQL)
            .bind(chain)
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        rows
    } else {
        let pool = sqlx::SqlitePool::connect(&t.url).await.unwrap();
        let rows = sqlx::query_as(SQL)
            .bind(chain)
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        rows
    }
}

fn run_env(args: &[&str], t: &Target, env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .args(&t.args)
        .current_dir(&t.dir)
        .env("REDRESS_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run redress");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

const CHECKPOINT_KEY: &str = "office-auditors-secret-2026";

/// `serve` writes an authenticated checkpoint; `audit checkpoint` prints one; `audit verify
/// --checkpoint` refuses a forged or altered checkpoint, and catches a chain recomputed after
/// an edit and a chain truncated with its head moved back, which plain `audit verify` cannot.
async fn checkpoints(pg: bool) {
    let t = target(pg, if pg { "cp_pg" } else { "cp_lite" }).await;
    for user in ["ana", "bob"] {
        let (code, out, err) = run(
            &["user", "add", user, "--role", "agent", "--password-stdin"],
            &t,
            Some("correct horse battery\n"),
        );
        assert_eq!(code, 0, "{out}{err}");
    }
    let (code, _, _) = run(&["token", "create", "ana"], &t, None);
    assert_eq!(code, 0);
    assert_eq!(chain_rows(&t, "user:ana").await.len(), 2);

    // serve writes one at start (then daily) into the configured directory.
    let dir = t.dir.join("elsewhere");
    let key = [
        ("REDRESS_AUDIT_CHECKPOINT_KEY", CHECKPOINT_KEY),
        ("REDRESS_AUDIT_CHECKPOINT_DIR", dir.to_str().unwrap()),
    ];
    let (mut node, _) = start_node(&t, &key).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let daily = loop {
        let found = std::fs::read_dir(&dir).ok().and_then(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .find(|p| p.extension().is_some_and(|x| x == "json"))
        });
        if let Some(p) = found {
            break p;
        }
        assert!(Instant::now() < deadline, "serve wrote no checkpoint");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    node.kill().unwrap();
    let _ = node.wait();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&daily).unwrap()).unwrap();
    assert_eq!(doc["format"], "redress-audit-checkpoint/1");
    assert_eq!(doc["mac"].as_str().unwrap().len(), 64, "{doc}");
    assert_eq!(
        chain_rows(&t, "audit").await[0].4,
        "audit.checkpoint",
        "writing a checkpoint is audited"
    );
    let daily = daily.to_str().unwrap().to_string();
    let (code, out, err) = run_env(&["audit", "verify", "--checkpoint", &daily], &t, &key);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("intact") && out.contains("still reach"),
        "{out}"
    );
    let (code, out, _) = run_env(&["audit", "verify", "--checkpoint", &daily], &t, &[]);
    assert_eq!(
        code, 1,
        "without the key, an authenticated checkpoint is not taken on trust"
    );
    assert!(
        out.contains("REJECTED") && out.contains("no checkpoint key"),
        "{out}"
    );

    // `audit checkpoint` prints one; a copy with a head moved back is refused as altered, and
    // so is any checkpoint under the wrong key.
    let (code, printed, err) = run_env(&["audit", "checkpoint"], &t, &key);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&printed).unwrap();
    let ana = doc["chains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["chain"] == "user:ana")
        .unwrap();
    assert_eq!(ana["seq"], 2);
    let file = t.dir.join("checkpoint.json");
    std::fs::write(&file, &printed).unwrap();
    let file = file.to_str().unwrap().to_string();
    let forged = t.dir.join("forged.json");
    std::fs::write(&forged, printed.replacen("\"seq\": 2", "\"seq\": 1", 1)).unwrap();
    let (code, out, _) = run_env(
        &["audit", "verify", "--checkpoint", forged.to_str().unwrap()],
        &t,
        &key,
    );
    assert_eq!(code, 1);
    assert!(out.contains("REJECTED") && out.contains("altered"), "{out}");
    let (code, out, _) = run_env(
        &["audit", "verify", "--checkpoint", &file],
        &t,
        &[("REDRESS_AUDIT_CHECKPOINT_KEY", "another-key-entirely-0")],
    );
    assert_eq!(code, 1);
    assert!(out.contains("REJECTED"), "{out}");

    let drop: Vec<String> = if pg {
        vec!["DROP TRIGGER audit_log_append_only ON audit_log".into()]
    } else {
        vec![
            "DROP TRIGGER audit_log_no_update".into(),
            "DROP TRIGGER audit_log_no_delete".into(),
        ]
    };
    raw(&t, &drop).await;

    // Recomputed: bob's creation rewritten (made an admin), every hash recomputed, head moved.
    let mut statements = Vec::new();
    let mut prev = redress_domain::audit::GENESIS.to_string();
    for (i, (id, seq, at, actor, action, subject, detail)) in
        chain_rows(&t, "user:bob").await.into_iter().enumerate()
    {
        let detail = if i == 0 {
            detail.replace("\"agent\"", "\"admin\"")
        } else {
            detail
        };
        let hash = redress_domain::audit::chain_hash(
            &prev,
            &redress_domain::audit::AuditContent {
                chain: "user:bob",
                seq,
                at_micros: at,
                actor: &actor,
                action: &action,
                subject: &subject,
                detail: &detail,
            },
        );
        statements.push(format!(
            "UPDATE audit_log SET detail = '{detail}', prev_hash = '{prev}', hash = '{hash}' WHERE id = {id}"
        ));
        prev = hash;
    }
    statements.push(format!(
        "UPDATE audit_chains SET hash = '{prev}' WHERE chain = 'user:bob'"
    ));
    raw(&t, &statements).await;
    let (code, out, _) = run(&["audit", "verify"], &t, None);
    assert_eq!(code, 0, "a recomputed chain is consistent in itself: {out}");
    let (code, out, _) = run_env(&["audit", "verify", "--checkpoint", &file], &t, &key);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("(user:bob, position 1)") && out.contains("recomputed"),
        "{out}"
    );

    // Truncated: ana's last row removed and her chain's head moved back to the row before.
    raw(
        &t,
        &[
            "DELETE FROM audit_log WHERE chain = 'user:ana' AND seq = 2".into(),
            "UPDATE audit_chains SET seq = 1, hash = (SELECT hash FROM audit_log WHERE chain = 'user:ana' AND seq = 1) WHERE chain = 'user:ana'".into(),
        ],
    )
    .await;
    let (code, out, _) = run_env(&["audit", "verify", "--checkpoint", &file], &t, &key);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("(user:ana, position 1)")
            && out.contains("truncated")
            && out.contains("position 2"),
        "{out}"
    );

    if let Some(name) = &t.pg {
        let _ = redress_store::postgres::drop_database(&pg_admin(), name).await;
    }
    let _ = std::fs::remove_dir_all(&t.dir);
}

#[tokio::test]
async fn sqlite_audit_checkpoints() {
    checkpoints(false).await;
}

#[tokio::test]
async fn postgres_audit_checkpoints() {
    checkpoints(true).await;
}

/// The environment `redress serve` runs with (Linux: its `/proc/PID/environ`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn environment_of(pid: u32) -> Vec<String> {
    let raw = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    raw.split(|b| *b == 0)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

/// `redress` starts itself again with the C library's heaps limited (one for every two cores),
/// answers as usual, and keeps a limit the environment already sets.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[tokio::test]
async fn serve_runs_with_the_heaps_limited_unless_told_otherwise() {
    let t = target(false, "heaps").await;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let expected = format!("MALLOC_ARENA_MAX={}", (cores / 2).max(1));
    let (mut plain, _) = start_serve(&t, |cmd| {
        cmd.env_remove("MALLOC_ARENA_MAX")
            .env_remove("GLIBC_TUNABLES");
    })
    .await;
    let env = environment_of(plain.id());
    let _ = plain.kill();
    let _ = plain.wait();
    assert!(env.contains(&expected), "{expected} in {env:?}");

    let (mut told, _) = start_node(&t, &[("MALLOC_ARENA_MAX", "3")]).await;
    let env = environment_of(told.id());
    let _ = told.kill();
    let _ = told.wait();
    assert!(env.iter().any(|v| v == "MALLOC_ARENA_MAX=3"), "{env:?}");
    let _ = std::fs::remove_dir_all(&t.dir);
}
