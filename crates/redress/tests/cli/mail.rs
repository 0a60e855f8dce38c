//! Mail end to end with real servers: `redress mail receive` as an MTA's pipe runs it (exit 0,
//! or 75 when the store is out of reach), and `serve` delivering the acknowledgement to a real
//! SMTP server (Python's aiosmtpd, `tests/mail/smtp_sink.py`) that refuses once, then accepts:
//! it arrives once, in the sender's language, with the reference, and the consumer's answer to
//! it threads onto the case.
//!
//! The SMTP server needs `aiosmtpd` (`pip install aiosmtpd`); `REDRESS_PYTHON` names the Python
//! that has it (CI: `target/ci-venv/bin/python`). Without it the SMTP test is skipped with a
//! message, unless `REDRESS_MAIL_TESTS=1` (as CI sets), which makes it required.

use super::*;
use mail_parser::MessageParser;

fn corpus(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/mail/corpus")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn setting(name: &str) -> Option<String> {
    #[expect(clippy::disallowed_methods, reason = "tests choose their tools")]
    let v = std::env::var(name);
    v.ok().filter(|v| !v.is_empty())
}

/// The Python with aiosmtpd, or `None` (skip) when it is missing and not required.
fn python_with_aiosmtpd() -> Option<String> {
    let python = setting("REDRESS_PYTHON").unwrap_or_else(|| "python3".into());
    let ok = Command::new(&python)
        .args(["-c", "import aiosmtpd"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    assert!(
        setting("REDRESS_MAIL_TESTS").as_deref() != Some("1"),
        "REDRESS_MAIL_TESTS=1 but {python} has no aiosmtpd (pip install aiosmtpd)"
    );
    eprintln!("SMTP test skipped: {python} has no aiosmtpd (CI installs it)");
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills a child process when dropped (a failing test leaves no server behind).
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn messages_in(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn mail_receive_answers_as_an_mta_expects() {
    // The store cannot be reached: EX_TEMPFAIL, so that the MTA keeps the message.
    let dir = std::env::temp_dir().join(format!("redress-cli-mail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(BIN)
        .args([
            "mail",
            "receive",
            "--database-url",
            "postgres://postgres@127.0.0.1:1/nowhere",
        ])
        .current_dir(&dir)
        .env("REDRESS_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(corpus("utf8_subject.eml").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(75), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("try again later"));
    let _ = std::fs::remove_dir_all(&dir);
}

async fn receive_and_acknowledge(pg: bool) {
    let Some(python) = python_with_aiosmtpd() else {
        return;
    };
    let t = target(pg, "smtp").await;
    // Bad input is accepted (exit 0) and set aside, never a crash.
    let (code, out, err) = run(&["mail", "receive"], &t, Some("not an email at all"));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("quarantined"), "{out}");

    // A real SMTP server that refuses the first delivery.
    let sink_dir = t.dir.join("smtp");
    let port = free_port();
    let mut sink = Command::new(&python)
        .args([
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/mail/smtp_sink.py"),
            &port.to_string(),
            &sink_dir.display().to_string(),
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the SMTP server");
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(sink.stdout.take().unwrap()),
        &mut ready,
    )
    .unwrap();
    assert_eq!(ready.trim(), "ready");
    let _sink = Running(sink);
    let smtp = format!("smtp://127.0.0.1:{port}");
    let env = [
        ("REDRESS_SMTP_URL", smtp.as_str()),
        ("REDRESS_MAIL_RETRY_SECS", "1"),
        (
            "REDRESS_MAIL_FROM",
            "Consumer Office <no-reply@office.example.gov>",
        ),
    ];
    let (node, _) = start_node(&t, &env).await;
    let _node = Running(node);

    // A Spanish complaint piped in as Postfix would.
    let (code, out, err) = run(
        &["mail", "receive"],
        &t,
        Some(&corpus("multipart_alternative_es.eml")),
    );
    assert_eq!(code, 0, "{err}");
    let reference = out
        .trim()
        .strip_prefix("opened ")
        .unwrap_or_else(|| panic!("{out}"))
        .to_string();
    // The same message again: accepted, stored once.
    let (code, out, _) = run(
        &["mail", "receive"],
        &t,
        Some(&corpus("multipart_alternative_es.eml")),
    );
    assert_eq!((code, out.trim()), (0, "already taken in"));

    // The acknowledgement arrives once, after one refusal and a retry.
    let deadline = Instant::now() + Duration::from_secs(60);
    while messages_in(&sink_dir).is_empty() {
        assert!(
            Instant::now() < deadline,
            "no acknowledgement reached the SMTP server"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        sink_dir.join("refused-0001").exists(),
        "the first delivery was refused"
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    let received = messages_in(&sink_dir);
    assert_eq!(received.len(), 1, "exactly once: {received:?}");
    let raw = std::fs::read(&received[0]).unwrap();
    let ack = MessageParser::default().parse(&raw).expect("a message");
    let subject = ack.subject().unwrap_or_default().to_string();
    assert!(
        subject.starts_with("Recibimos su queja") && subject.contains(&reference),
        "{subject}"
    );
    let body = ack.body_text(0).unwrap_or_default().to_string();
    assert!(body.contains("Estimado/a Maria Lopez"), "{body}");
    assert!(body.contains("/portal/status/"), "{body}");
    assert_eq!(ack.in_reply_to().as_text(), Some("first-es@example.com"));
    assert_eq!(
        ack.header("Auto-Submitted").and_then(|h| h.as_text()),
        Some("auto-replied")
    );
    let ack_id = ack.message_id().expect("Message-ID").to_string();
    assert!(ack_id.contains(&reference), "{ack_id}");

    // The consumer answers from her mail program: the answer threads onto the case.
    let answer = corpus("reply_base64.eml").replace("ACK_ID", &ack_id);
    let (code, out, err) = run(&["mail", "receive"], &t, Some(&answer));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), format!("added to {reference}"));
    // Her out-of-office reply is never answered.
    let ooo = corpus("out_of_office.eml").replace("ACK_ID", &ack_id);
    let (code, out, _) = run(&["mail", "receive"], &t, Some(&ooo));
    assert_eq!(code, 0);
    assert_eq!(out.trim(), format!("automatic reply kept on {reference}"));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        messages_in(&sink_dir).len(),
        1,
        "nothing answered the answers"
    );
    drop(_node);
    if let Some(name) = &t.pg {
        let _ = redress_store::postgres::drop_database(&pg_admin(), name).await;
    }
    let _ = std::fs::remove_dir_all(&t.dir);
}

#[tokio::test]
async fn sqlite_mail_in_and_acknowledged_over_smtp() {
    receive_and_acknowledge(false).await;
}

#[tokio::test]
async fn postgres_mail_in_and_acknowledged_over_smtp() {
    receive_and_acknowledge(true).await;
}
