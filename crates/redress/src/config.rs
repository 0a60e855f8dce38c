//! Settings, in layers: built-in defaults, then an optional TOML file (`--config` or
//! `REDRESS_CONFIG`), then `REDRESS_*` environment variables, then command-line flags.

use anyhow::{Context, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// Where the SQLite file (and later attachments) live.
    pub data_dir: PathBuf,
    /// `postgres://...` to use PostgreSQL; empty for the SQLite file in `data_dir`.
    pub database_url: Option<String>,
    /// `full` (default: no acknowledged write is lost) or `normal` (faster; the last commits may
    /// be lost on power failure, never corrupted).
    pub sqlite_synchronous: String,
    /// Database connections per node.
    pub max_connections: u32,
    /// Mark cookies Secure: set when Redress is reached over HTTPS.
    pub secure_cookies: bool,
    /// The address the public reaches Redress at, e.g. `https://complaints.example.gov`. Every
    /// link in an email or on the portal is built from it. Unset: the listen address (and a
    /// warning at start when that is reachable from other hosts).
    pub public_url: Option<String>,
    /// Public portal submissions allowed per client address in ten minutes.
    pub portal_submissions_per_10_minutes: usize,
    /// Agents may assign a case to themselves ("Assign to me"); senior agents and up always
    /// may assign. An office that hands out all work turns it off.
    pub agents_take_cases: bool,
    /// Where attachments are kept [default: DATA_DIR/attachments]; with several nodes, a
    /// directory they all share.
    pub attachments_dir: Option<PathBuf>,
    /// The largest attachment accepted, in bytes.
    pub max_upload_bytes: usize,
    /// The sender of outgoing email, e.g. `Consumer Services <no-reply@example.gov>`.
    pub mail_from: String,
    /// `smtp://host:25`, `smtp://user:password@host:587?tls=required` or `smtps://...`.
    pub smtp_url: Option<String>,
    /// Instead of SMTP: write each message as an `.eml` file into this directory.
    pub mail_pickup_dir: Option<PathBuf>,
    /// The office's typst template for printed letters (see crates/letters/templates/letter.typ);
    /// checked at start by typesetting a sample. Unset: the shipped one.
    pub letter_template: Option<PathBuf>,
    /// Seconds before the first retry of a message the mail server refused; each further retry
    /// waits twice as long (at most six hours).
    pub mail_retry_secs: u64,
    /// A directory of lifecycle files (`*.toml`); each replaces the shipped file of the same
    /// name or adds one. Checked at start: a mistake stops Redress with its file and line.
    pub lifecycles_dir: Option<PathBuf>,
    /// Seconds a node holds a claimed job before another node may take it over.
    pub job_lease_secs: u64,
    /// A search by relevance for words in very many cases ranks about this many of the most
    /// recent matches first, then the older ones; 0 ranks every match together.
    pub relevance_pool: u32,
    /// The work lists count their cases up to this many (at least 1); a longer list shows
    /// "more than" this many and is paged without counting further.
    pub list_count_limit: u32,
    /// Fault injection for fail-over drills (never in production): hold each claimed job this
    /// many milliseconds before running it.
    pub fault_job_stall_ms: Option<u64>,
    /// The secret that authenticates audit checkpoints (HMAC-SHA256). Keep a copy with the
    /// checkpoints' readers, not in the database. Without it checkpoints carry only a digest.
    pub audit_checkpoint_key: Option<String>,
    /// A file holding that secret, instead of `audit_checkpoint_key`.
    pub audit_checkpoint_key_file: Option<PathBuf>,
    /// Where `serve` writes its daily audit checkpoint [default: DATA_DIR/audit-checkpoints];
    /// best a place the database's administrators cannot write.
    pub audit_checkpoint_dir: Option<PathBuf>,
    pub office: OfficeConfig,
    /// Incoming mail (`redress mail receive`, IMAP mailboxes).
    pub mail: MailConfig,
}

/// Incoming mail settings (the `[mail]` table).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// Messages larger than this many bytes are quarantined, not taken in.
    pub max_message_bytes: usize,
    /// The office's own addresses that mail comes in to (besides `mail_from`): mail from any of
    /// them is never answered and opens no case, so that Redress cannot write to itself.
    pub addresses: Vec<String>,
    /// Where new mail goes, tried in order (`[[mail.route]]`: recipient, keywords, kind,
    /// lifecycle, unit).
    pub route: Vec<redress_domain::correspondence::MailRoute>,
    /// IMAP mailboxes `serve` takes mail from (`[[mail.imap]]`).
    pub imap: Vec<ImapConfig>,
}

/// One IMAP mailbox (`[[mail.imap]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapConfig {
    /// Names the mailbox in logs and on each message (`imap:NAME`).
    pub name: String,
    pub host: String,
    /// [default: 993 with `tls`, else 143]
    pub port: Option<u16>,
    /// `tls` (default), `starttls` or `none`.
    #[serde(default = "default_security")]
    pub security: redress_app::correspondence::imap::Security,
    pub user: String,
    /// The environment variable holding the password.
    pub password_env: Option<String>,
    /// A file holding the password (its first line).
    pub password_file: Option<PathBuf>,
    #[serde(default = "default_folder")]
    pub folder: String,
    /// Where taken messages are moved; without it they are flagged `\Seen RedressTaken` and stay.
    pub done_folder: Option<String>,
    /// Seconds between rounds, and the longest IDLE.
    #[serde(default = "default_poll")]
    pub poll_secs: u64,
    /// Wait for new mail with IDLE when the server offers it.
    #[serde(default = "default_idle")]
    pub idle: bool,
}

fn default_security() -> redress_app::correspondence::imap::Security {
    redress_app::correspondence::imap::Security::Tls
}
fn default_folder() -> String {
    "INBOX".into()
}
fn default_poll() -> u64 {
    60
}
fn default_idle() -> bool {
    true
}

impl ImapConfig {
    /// The mailbox with its password read from the environment or the file.
    pub fn mailbox(&self) -> anyhow::Result<redress_app::correspondence::imap::ImapMailbox> {
        use redress_app::correspondence::imap::{ImapMailbox, Security};
        let password = match (&self.password_env, &self.password_file) {
            (Some(var), _) => env(var).with_context(|| {
                format!(
                    "mail.imap {:?}: the environment variable {var} is not set",
                    self.name
                )
            })?,
            (None, Some(file)) => std::fs::read_to_string(file)
                .with_context(|| format!("mail.imap {:?}: reading {}", self.name, file.display()))?
                .lines()
                .next()
                .unwrap_or_default()
                .to_string(),
            (None, None) => bail!(
                "mail.imap {:?}: set password_env or password_file (passwords never go in the configuration file)",
                self.name
            ),
        };
        Ok(ImapMailbox {
            name: self.name.clone(),
            host: self.host.clone(),
            port: self.port.unwrap_or(if self.security == Security::Tls {
                993
            } else {
                143
            }),
            security: self.security,
            user: self.user.clone(),
            password,
            folder: self.folder.clone(),
            done_folder: self.done_folder.clone(),
            poll: std::time::Duration::from_secs(self.poll_secs.clamp(1, 3600)),
            idle: self.idle,
        })
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            max_message_bytes: redress_app::correspondence::DEFAULT_MAX_MAIL_BYTES,
            addresses: vec![],
            route: vec![],
            imap: vec![],
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OfficeConfig {
    /// Prefix of reference numbers, e.g. `NYC` in `NYC-2026-000123`.
    pub code: String,
    pub name: String,
    /// IANA time zone of the office.
    pub time_zone: String,
    /// The hour the office opens (0–23): working-hour clocks count from then.
    pub opens_at: i8,
    /// The hour the office closes (0–23): deadlines fall due then.
    pub closes_at: i8,
    /// The phone number the public calls, shown on every portal page.
    pub phone: Option<String>,
    /// The office's postal address, one line per entry, on the letterhead of printed letters.
    pub address: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./redress-data"),
            database_url: None,
            sqlite_synchronous: "full".into(),
            max_connections: 8,
            secure_cookies: false,
            public_url: None,
            portal_submissions_per_10_minutes: 10,
            agents_take_cases: true,
            attachments_dir: None,
            max_upload_bytes: redress_domain::attachment::DEFAULT_MAX_BYTES,
            mail_from: "Redress <no-reply@localhost>".into(),
            smtp_url: None,
            mail_pickup_dir: None,
            mail_retry_secs: 120,
            letter_template: None,
            lifecycles_dir: None,
            job_lease_secs: 300,
            relevance_pool: redress_app::search::RELEVANCE_POOL,
            list_count_limit: redress_app::lists::LIST_COUNT_LIMIT,
            fault_job_stall_ms: None,
            audit_checkpoint_key: None,
            audit_checkpoint_key_file: None,
            audit_checkpoint_dir: None,
            office: OfficeConfig::default(),
            mail: MailConfig::default(),
        }
    }
}

impl Default for OfficeConfig {
    fn default() -> Self {
        OfficeConfig {
            code: "NYC".into(),
            name: "Consumer Services Office".into(),
            time_zone: "America/New_York".into(),
            opens_at: 9,
            closes_at: redress_domain::clock::CUTOFF_HOUR,
            phone: None,
            address: vec![],
        }
    }
}

/// Flags that override the layers below them.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StoreFlags {
    /// Directory for the SQLite database [default: ./redress-data]
    #[arg(long, env = "REDRESS_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// postgres://user@host/db to use PostgreSQL instead of SQLite
    #[arg(long, env = "REDRESS_DATABASE_URL")]
    pub database_url: Option<String>,
}

fn env(name: &str) -> Option<String> {
    #[expect(
        clippy::disallowed_methods,
        reason = "configuration is the one place the environment is read"
    )]
    let value = std::env::var(name);
    value.ok().filter(|v| !v.is_empty())
}

impl Config {
    /// The public address links are built from, and whether it was configured. Unset, it is
    /// the listen address (`localhost` for a wildcard one).
    pub fn public_url(&self) -> anyhow::Result<(String, bool)> {
        if let Some(url) = &self.public_url {
            let url = redress_app::check_public_url(url)
                .map_err(|e| anyhow::anyhow!("{e} (got {url:?})"))?;
            return Ok((url, true));
        }
        let listen = self.listen.trim();
        let port = listen.rsplit(':').next().unwrap_or("8080");
        let host = listen
            .strip_suffix(&format!(":{port}"))
            .unwrap_or("localhost");
        let host = match host {
            "" | "0.0.0.0" | "[::]" | "::" => "localhost",
            h => h,
        };
        let scheme = if self.secure_cookies { "https" } else { "http" };
        Ok((format!("{scheme}://{host}:{port}"), false))
    }

    /// The use cases' settings, the same for `serve` and for every command that acts as the
    /// office (`mail receive`).
    pub fn app_settings(&self) -> anyhow::Result<redress_app::Settings> {
        let (public_url, _) = self.public_url()?;
        let from_address = self
            .mail_from
            .rsplit('<')
            .next()
            .unwrap_or(&self.mail_from)
            .trim()
            .trim_end_matches('>')
            .to_ascii_lowercase();
        let mut own_addresses: Vec<String> = self
            .mail
            .addresses
            .iter()
            .map(|a| a.trim().to_ascii_lowercase())
            .collect();
        own_addresses.push(from_address);
        Ok(redress_app::Settings {
            public_url,
            attachments_dir: self
                .attachments_dir
                .clone()
                .unwrap_or_else(|| self.data_dir.join("attachments")),
            max_upload_bytes: self.max_upload_bytes,
            job_lease: jiff::SignedDuration::from_secs(
                i64::try_from(self.job_lease_secs.clamp(1, 86_400)).unwrap_or(300),
            ),
            job_stall: self
                .fault_job_stall_ms
                .map(std::time::Duration::from_millis),
            agents_take_cases: self.agents_take_cases,
            relevance_pool: self.relevance_pool,
            list_count_limit: self.list_count_limit.max(1),
            office_phone: self.office.phone.clone(),
            office_address: self.office.address.clone(),
            mail_retry: jiff::SignedDuration::from_secs(
                i64::try_from(self.mail_retry_secs.clamp(1, 21_600)).unwrap_or(120),
            ),
            mail: redress_app::correspondence::MailSettings {
                max_message_bytes: self.mail.max_message_bytes,
                routes: self.mail.route.clone(),
                own_addresses,
            },
        })
    }

    /// Whether the listen address takes connections from other hosts.
    pub fn listens_beyond_this_host(&self) -> bool {
        let host = self.listen.rsplit_once(':').map_or("", |(h, _)| h);
        !matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1") && !host.starts_with("127.")
    }

    /// The lifecycles in force: the shipped packs, with the files of `lifecycles_dir` replacing
    /// or adding to them. Every file is checked; the first mistake is reported as
    /// `file:line:column: reason`.
    pub fn lifecycles(&self) -> anyhow::Result<redress_domain::lifecycle::Lifecycles> {
        let mut files: Vec<(String, String)> = redress_domain::lifecycle::SHIPPED
            .iter()
            .map(|(n, t)| (format!("lifecycles/{n}"), t.to_string()))
            .collect();
        if let Some(dir) = &self.lifecycles_dir {
            let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
                .with_context(|| format!("reading lifecycles from {}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            names.sort();
            for path in names {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                let base = path
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                files.retain(|(n, _)| n.rsplit('/').next() != Some(base.as_str()));
                files.push((path.display().to_string(), text));
            }
        }
        redress_domain::lifecycle::Lifecycles::parse(&files)
            .map_err(|e| anyhow::anyhow!("invalid lifecycle: {e}"))
    }

    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| env("REDRESS_CONFIG").map(PathBuf::from));
        let mut cfg = match &file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                toml::from_str::<Config>(&text).with_context(|| format!("in {}", path.display()))?
            }
            None => Config::default(),
        };
        if let Some(v) = env("REDRESS_LISTEN") {
            cfg.listen = v;
        }
        if let Some(v) = env("REDRESS_SQLITE_SYNCHRONOUS") {
            cfg.sqlite_synchronous = v;
        }
        if let Some(v) = env("REDRESS_MAX_CONNECTIONS") {
            cfg.max_connections = v
                .parse()
                .context("REDRESS_MAX_CONNECTIONS must be a number")?;
        }
        if let Some(v) = env("REDRESS_SECURE_COOKIES") {
            cfg.secure_cookies = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = env("REDRESS_AGENTS_TAKE_CASES") {
            cfg.agents_take_cases = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = env("REDRESS_PUBLIC_URL") {
            cfg.public_url = Some(v);
        }
        if let Some(v) = env("REDRESS_PORTAL_SUBMISSIONS_PER_10_MINUTES") {
            cfg.portal_submissions_per_10_minutes = v
                .parse()
                .context("REDRESS_PORTAL_SUBMISSIONS_PER_10_MINUTES must be a number")?;
        }
        if let Some(v) = env("REDRESS_JOB_LEASE_SECS") {
            cfg.job_lease_secs = v
                .parse()
                .context("REDRESS_JOB_LEASE_SECS must be a number of seconds")?;
        }
        if let Some(v) = env("REDRESS_RELEVANCE_POOL") {
            cfg.relevance_pool = v
                .parse()
                .context("REDRESS_RELEVANCE_POOL must be a number of matches")?;
        }
        if let Some(v) = env("REDRESS_LIST_COUNT_LIMIT") {
            cfg.list_count_limit = v
                .parse()
                .context("REDRESS_LIST_COUNT_LIMIT must be a number of cases")?;
        }
        if let Some(v) = env("REDRESS_FAULT_JOB_STALL_MS") {
            cfg.fault_job_stall_ms = Some(
                v.parse()
                    .context("REDRESS_FAULT_JOB_STALL_MS must be a number of milliseconds")?,
            );
        }
        if let Some(v) = env("REDRESS_LIFECYCLES_DIR") {
            cfg.lifecycles_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = env("REDRESS_ATTACHMENTS_DIR") {
            cfg.attachments_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = env("REDRESS_MAX_UPLOAD_BYTES") {
            cfg.max_upload_bytes = v
                .parse()
                .context("REDRESS_MAX_UPLOAD_BYTES must be a number")?;
        }
        if let Some(v) = env("REDRESS_MAIL_FROM") {
            cfg.mail_from = v;
        }
        if let Some(v) = env("REDRESS_SMTP_URL") {
            cfg.smtp_url = Some(v);
        }
        if let Some(v) = env("REDRESS_LETTER_TEMPLATE") {
            cfg.letter_template = Some(PathBuf::from(v));
        }
        if let Some(v) = env("REDRESS_MAIL_RETRY_SECS") {
            cfg.mail_retry_secs = v
                .parse()
                .context("REDRESS_MAIL_RETRY_SECS must be a number of seconds")?;
        }
        if let Some(v) = env("REDRESS_MAIL_MAX_MESSAGE_BYTES") {
            cfg.mail.max_message_bytes = v
                .parse()
                .context("REDRESS_MAIL_MAX_MESSAGE_BYTES must be a number")?;
        }
        if let Some(v) = env("REDRESS_MAIL_PICKUP_DIR") {
            cfg.mail_pickup_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = env("REDRESS_AUDIT_CHECKPOINT_KEY") {
            cfg.audit_checkpoint_key = Some(v);
        }
        if let Some(v) = env("REDRESS_AUDIT_CHECKPOINT_KEY_FILE") {
            cfg.audit_checkpoint_key_file = Some(PathBuf::from(v));
        }
        if let Some(v) = env("REDRESS_AUDIT_CHECKPOINT_DIR") {
            cfg.audit_checkpoint_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = env("REDRESS_OFFICE_CODE") {
            cfg.office.code = v;
        }
        if let Some(v) = env("REDRESS_OFFICE_NAME") {
            cfg.office.name = v;
        }
        if let Some(v) = env("REDRESS_OFFICE_PHONE") {
            cfg.office.phone = Some(v);
        }
        if let Some(v) = env("REDRESS_OFFICE_TIME_ZONE") {
            cfg.office.time_zone = v;
        }
        if let Some(v) = env("REDRESS_OFFICE_CLOSES_AT") {
            cfg.office.closes_at = v
                .parse()
                .context("REDRESS_OFFICE_CLOSES_AT must be an hour from 0 to 23")?;
        }
        if let Some(v) = env("REDRESS_OFFICE_OPENS_AT") {
            cfg.office.opens_at = v
                .parse()
                .context("REDRESS_OFFICE_OPENS_AT must be an hour from 0 to 23")?;
        }
        if !(0..24).contains(&cfg.office.closes_at) {
            bail!("office closes_at must be an hour from 0 to 23");
        }
        if !(0..cfg.office.closes_at).contains(&cfg.office.opens_at) {
            bail!("office opens_at must be an hour before closes_at");
        }
        Ok(cfg)
    }

    pub fn apply(&mut self, flags: &StoreFlags) {
        if let Some(d) = &flags.data_dir {
            self.data_dir = d.clone();
        }
        if let Some(u) = &flags.database_url {
            self.database_url = Some(u.clone());
        }
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        if !redress_domain::reference::valid_office_code(&self.office.code) {
            bail!(
                "office.code {:?} must be 2 to 8 upper-case letters or digits, starting with a letter",
                self.office.code
            );
        }
        if jiff::tz::TimeZone::get(&self.office.time_zone).is_err() {
            bail!(
                "office.time_zone {:?} is not a known IANA time zone",
                self.office.time_zone
            );
        }
        if !matches!(
            self.sqlite_synchronous.to_ascii_lowercase().as_str(),
            "full" | "normal" | "extra"
        ) {
            bail!("sqlite_synchronous must be full, normal or extra");
        }
        Ok(())
    }

    /// The audit checkpoint key: `audit_checkpoint_key`, or the contents of
    /// `audit_checkpoint_key_file` (surrounding white space ignored); `None` when neither is set.
    pub fn checkpoint_key(&self) -> anyhow::Result<Option<Vec<u8>>> {
        let key = match (&self.audit_checkpoint_key, &self.audit_checkpoint_key_file) {
            (Some(k), _) => k.trim().to_string(),
            (None, Some(path)) => std::fs::read_to_string(path)
                .with_context(|| format!("reading the audit checkpoint key {}", path.display()))?
                .trim()
                .to_string(),
            (None, None) => return Ok(None),
        };
        if key.len() < 16 {
            bail!("the audit checkpoint key must be at least 16 characters");
        }
        Ok(Some(key.into_bytes()))
    }

    /// Where `serve` writes its daily audit checkpoints.
    pub fn checkpoint_dir(&self) -> PathBuf {
        self.audit_checkpoint_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("audit-checkpoints"))
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite:{}", self.data_dir.join("redress.db").display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_keys_are_checked() {
        let err = toml::from_str::<Config>("listen = \"0.0.0.0:1\"\nlisten_port = 3")
            .map(|_| ())
            .expect_err("unknown key");
        assert!(err.to_string().contains("listen_port"));
        let ok: Config = toml::from_str("[office]\ncode = \"ALB\"").expect("valid");
        assert_eq!(ok.office.code, "ALB");
        assert_eq!(ok.office.time_zone, "America/New_York");
        assert!(ok.validate().is_ok());
    }

    #[test]
    fn default_database_is_sqlite_in_data_dir() {
        let c = Config::default();
        assert_eq!(c.database_url(), "sqlite:./redress-data/redress.db");
    }

    #[test]
    fn links_come_from_public_url_or_the_listen_address() {
        let mut c = Config {
            public_url: Some("https://complaints.example.gov/".into()),
            ..Config::default()
        };
        assert_eq!(
            c.public_url().expect("valid"),
            ("https://complaints.example.gov".to_string(), true)
        );
        for bad in [
            "ftp://x",
            "https://",
            "https://a.gov/?q=1",
            "https://u@a.gov",
            "https://a gov",
        ] {
            c.public_url = Some(bad.into());
            assert!(c.public_url().is_err(), "{bad}");
        }
        c.public_url = None;
        assert_eq!(
            c.public_url().expect("derived"),
            ("http://127.0.0.1:8080".to_string(), false)
        );
        assert!(!c.listens_beyond_this_host());
        c.listen = "0.0.0.0:9000".into();
        assert_eq!(c.public_url().expect("derived").0, "http://localhost:9000");
        assert!(c.listens_beyond_this_host(), "serve warns");
    }
}
