//! The README's commands run as written. Every shell block the README marks with
//! `<!-- run by crates/redress/tests/readme.rs -->` runs, in order, in one `bash` against a fresh
//! store and a `redress serve` beside it: `cargo run --release --` and `redress` are this build's
//! binary, `localhost:8080` is the server's address and the reference year is this year. Every
//! command must succeed and every HTTP answer must be a success.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_redress");
const MARK: &str = "<!-- run by crates/redress/tests/readme.rs -->";

/// The marked shell blocks of the README, in order.
fn marked_blocks(readme: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if line.trim() != MARK {
            continue;
        }
        assert_eq!(
            lines.next().map(str::trim),
            Some("```sh"),
            "a mark precedes a sh block"
        );
        let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        blocks.push(block.join("\n"));
    }
    blocks
}

#[test]
fn the_readme_commands_run_as_written() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let blocks = marked_blocks(&readme);
    assert!(blocks.len() >= 3, "the README marks its runnable blocks");

    let dir = std::env::temp_dir().join(format!("redress-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    // The first block makes the administrator; the server starts on the same store.
    let mut server = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("REDRESS_DATA_DIR", &dir)
        .env("REDRESS_LOG", "warn")
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }

    #[expect(
        clippy::disallowed_methods,
        reason = "the server numbers cases by the real year; so must the README's commands"
    )]
    let now = jiff::Zoned::now();
    let year = now
        .with_time_zone(jiff::tz::TimeZone::get("America/New_York").expect("zone"))
        .year();
    let script = blocks
        .join("\n")
        .replace("cargo run --release -- ", "redress ")
        .replace("localhost:8080", &format!("127.0.0.1:{port}"))
        .replace("NYC-2026-", &format!("NYC-{year}-"));
    let prelude = r#"set -euo pipefail
redress() { "$REDRESS_BIN" "$@"; }
curl() { command curl -sS -w '\n@status %{http_code}\n' "$@"; }
"#;
    let out = Command::new("bash")
        .args(["-c", &format!("{prelude}{script}")])
        .env("REDRESS_BIN", BIN)
        .env("REDRESS_DATA_DIR", &dir)
        .env("REDRESS_LOG", "warn")
        .current_dir(&dir)
        .output()
        .expect("bash");
    let _ = server.kill();
    let mut server_log = String::new();
    if let Some(mut e) = server.stderr.take() {
        let _ = e.read_to_string(&mut server_log);
    }
    let _ = server.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "the README's commands failed:\n{stdout}\n{stderr}\nserver: {server_log}"
    );
    let statuses: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("@status "))
        .collect();
    assert_eq!(statuses.len(), 7, "every curl answered:\n{stdout}");
    assert!(
        statuses.iter().all(|s| s.starts_with('2')),
        "every answer is a success: {statuses:?}\n{stdout}"
    );
    assert!(
        stdout.contains("\"lifecycle\":\"utility_complaint\""),
        "a utility's customer follows the utility lifecycle:\n{stdout}"
    );
    assert!(
        stdout.contains("\"stage\":\"initial_decision\""),
        "the decision was issued:\n{stdout}"
    );
}
