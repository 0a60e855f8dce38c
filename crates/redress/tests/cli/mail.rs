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
pub(crate) struct Running(pub(crate) std::process::Child);

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
    let t = target(pg, if pg { "smtp_pg" } else { "smtp_sqlite" }).await;
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

/// A real IMAP server (Debian's dovecot-imapd) for one mailbox, `office` / `secret`, whose mail
/// the test delivers straight into its Maildir.
struct Dovecot {
    _process: Running,
    port: u16,
    maildir: std::path::PathBuf,
    delivered: usize,
}

impl Dovecot {
    fn start(dir: &std::path::Path) -> Option<Dovecot> {
        if Command::new("dovecot").arg("--version").output().is_err() {
            assert!(
                setting("REDRESS_MAIL_TESTS").as_deref() != Some("1"),
                "REDRESS_MAIL_TESTS=1 but dovecot is missing (apt-get install dovecot-imapd)"
            );
            eprintln!("IMAP test skipped: dovecot is missing (CI installs dovecot-imapd)");
            return None;
        }
        let root = dir.join("dovecot");
        let maildir = root.join("home/office/Maildir");
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).unwrap();
        }
        for d in ["run", "state"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        // The mail processes run as the dovecot user: it must be able to write the Maildir.
        let open = Command::new("chmod")
            .args(["-R", "a+rwX"])
            .arg(root.join("home"))
            .status()
            .unwrap();
        assert!(open.success());
        std::fs::write(root.join("passwd"), "office:{PLAIN}secret\n").unwrap();
        let port = free_port();
        let r = root.display();
        let conf = format!(
            "base_dir = {r}/run\nstate_dir = {r}/state\nlog_path = {r}/log\nprotocols = imap\n\
             listen = 127.0.0.1\nssl = no\ndisable_plaintext_auth = no\nauth_mechanisms = plain login\n\
             default_internal_user = dovecot\ndefault_login_user = dovenull\nfirst_valid_uid = 1\n\
             passdb {{\n  driver = passwd-file\n  args = {r}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid=dovecot gid=dovecot home={r}/home/%u\n}}\n\
             mail_location = maildir:~/Maildir\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n}}\n"
        );
        let conf_path = root.join("dovecot.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let process = Command::new("dovecot")
            .args(["-F", "-c"])
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start dovecot");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "dovecot did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(Dovecot {
            _process: Running(process),
            port,
            maildir,
            delivered: 0,
        })
    }

    /// Delivers a message the Maildir way: written in tmp/, renamed into new/.
    fn deliver(&mut self, message: &str) {
        self.delivered += 1;
        let name = format!("{}.{}.test", self.delivered, std::process::id());
        let tmp = self.maildir.join("tmp").join(&name);
        std::fs::write(&tmp, message).unwrap();
        std::fs::rename(&tmp, self.maildir.join("new").join(&name)).unwrap();
    }
}

/// What became of each message taken in: (Message-ID, state, case reference).
async fn inbound_rows(t: &Target) -> Vec<(String, String, Option<String>)> {
    const SQL: &str = "SELECT i.message_id, i.state, c.reference FROM inbound_mail i \
                       LEFT JOIN cases c ON c.id = i.case_id ORDER BY i.id";
    let pool = sqlx::PgPool::connect(&t.url).await.unwrap();
    let rows = sqlx::query_as(SQL).fetch_all(&pool).await.unwrap();
    pool.close().await;
    rows
}

async fn settled(t: &Target, count: usize) -> Vec<(String, String, Option<String>)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let rows = inbound_rows(t).await;
        if rows.len() >= count && rows.iter().all(|r| r.1 != "receiving") {
            return rows;
        }
        assert!(
            Instant::now() < deadline,
            "the pollers did not take {count} messages in: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Two `serve` nodes on one PostgreSQL poll one IMAP mailbox: every message is taken in once
/// (a case each, one acknowledgement each), an automatic reply opens nothing and is answered by
/// nothing, the consumer's answer lands on her case, every taken message is flagged on the
/// server, and a restarted node takes nothing twice.
#[tokio::test]
async fn two_nodes_take_each_imap_message_once() {
    let Some(python) = python_with_aiosmtpd() else {
        return;
    };
    let t = target(true, "imap").await;
    let Some(mut imap) = Dovecot::start(&t.dir) else {
        return;
    };
    let sink_dir = t.dir.join("smtp");
    let smtp_port = free_port();
    let mut sink = Command::new(&python)
        .args([
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/mail/smtp_sink.py"),
            &smtp_port.to_string(),
            &sink_dir.display().to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the SMTP server");
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(sink.stdout.take().unwrap()),
        &mut ready,
    )
    .unwrap();
    let _sink = Running(sink);
    let config = t.dir.join("redress.toml");
    std::fs::write(
        &config,
        format!(
            "mail_from = \"Consumer Office <no-reply@office.example.gov>\"\n\
             smtp_url = \"smtp://127.0.0.1:{smtp_port}\"\n\n\
             [[mail.imap]]\nname = \"complaints\"\nhost = \"127.0.0.1\"\nport = {}\n\
             security = \"none\"\nuser = \"office\"\npassword_env = \"TEST_IMAP_PASSWORD\"\npoll_secs = 2\n",
            imap.port
        ),
    )
    .unwrap();
    let config_path = config.display().to_string();
    let env = [
        ("REDRESS_CONFIG", config_path.as_str()),
        ("TEST_IMAP_PASSWORD", "secret"),
    ];
    let (a, _) = start_node(&t, &env).await;
    let a = Running(a);
    let (b, _) = start_node(&t, &env).await;
    let _b = Running(b);

    for n in 1..=5 {
        imap.deliver(&format!(
            "From: Person {n} <person{n}@example.com>\r\nTo: complaints@office.example.gov\r\n\
             Subject: Billing complaint {n}\r\nMessage-ID: <imap-{n}@example.com>\r\n\r\n\
             My bill for March is wrong; please look into account {n}.\r\n"
        ));
    }
    imap.deliver(&corpus("out_of_office_stray.eml"));
    let rows = settled(&t, 6).await;
    assert_eq!(rows.len(), 6, "{rows:?}");
    let opened: Vec<_> = rows.iter().filter(|r| r.1 == "opened").collect();
    assert_eq!(opened.len(), 5, "{rows:?}");
    let mut references: Vec<_> = opened.iter().filter_map(|r| r.2.clone()).collect();
    references.dedup();
    assert_eq!(references.len(), 5, "a case each: {rows:?}");
    assert!(
        rows.iter()
            .any(|r| r.0 == "ooo-stray@example.com" && r.1 == "ignored" && r.2.is_none())
    );

    // One acknowledgement each, none to the automatic reply.
    let deadline = Instant::now() + Duration::from_secs(30);
    while messages_in(&sink_dir).len() < 5 {
        assert!(Instant::now() < deadline, "acknowledgements did not arrive");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let acks: Vec<_> = messages_in(&sink_dir)
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    assert_eq!(acks.len(), 5);
    let first = acks
        .iter()
        .map(|raw| MessageParser::default().parse(raw).unwrap().into_owned())
        .find(|m| m.in_reply_to().as_text() == Some("imap-1@example.com"))
        .expect("the first complaint's acknowledgement");
    assert!(
        acks.iter()
            .all(|raw| !String::from_utf8_lossy(raw).contains("away@example.com"))
    );

    // Her answer lands on her case.
    let ack_id = first.message_id().unwrap().to_string();
    let her_case = rows
        .iter()
        .find(|r| r.0 == "imap-1@example.com")
        .and_then(|r| r.2.clone())
        .unwrap();
    imap.deliver(&format!(
        "From: person1@example.com\r\nSubject: Re: {}\r\nIn-Reply-To: <{ack_id}>\r\n\
         Message-ID: <imap-1-answer@example.com>\r\n\r\nHere is the bill you asked for.\r\n",
        first.subject().unwrap_or_default()
    ));
    let rows = settled(&t, 7).await;
    let answer = rows
        .iter()
        .find(|r| r.0 == "imap-1-answer@example.com")
        .unwrap();
    assert_eq!(
        (answer.1.as_str(), answer.2.as_deref()),
        ("threaded", Some(her_case.as_str()))
    );

    // Every message is flagged as taken on the server.
    let script = format!(
        "import imaplib\nm = imaplib.IMAP4('127.0.0.1', {})\nm.login('office', 'secret')\nm.select('INBOX')\n\
         print(m.uid('SEARCH', None, 'NOT KEYWORD RedressTaken')[1][0].decode())\n\
         print(m.uid('SEARCH', None, 'KEYWORD RedressTaken')[1][0].decode())",
        imap.port
    );
    let out = Command::new(&python)
        .args(["-c", &script])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&out.stdout).to_string();
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(""), "nothing left untaken: {out}");
    assert_eq!(
        lines.next().map(|l| l.split_whitespace().count()),
        Some(7),
        "{out}"
    );

    // A node restarted takes nothing twice.
    drop(a);
    let (again, _) = start_node(&t, &env).await;
    let _again = Running(again);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(inbound_rows(&t).await.len(), 7);
    assert_eq!(messages_in(&sink_dir).len(), 5);
    drop(_again);
    drop(_b);
    let _ = redress_store::postgres::drop_database(&pg_admin(), t.pg.as_ref().unwrap()).await;
    let _ = std::fs::remove_dir_all(&t.dir);
}
