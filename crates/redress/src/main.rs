//! `redress`: the one binary. Serves the office, manages users and tokens, loads demo data,
//! checks the audit log and measures itself.

mod bench;
mod bench_data;
mod checkpoint;
mod config;
mod demo;
mod export;
mod heaps;
mod import;
#[cfg(feature = "pdf")]
mod press;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use config::{Config, StoreFlags};
use redress_app::{App, SystemClock};
use redress_domain::Clock;
use redress_domain::records::Office;
use redress_store::{Actor, AuditVerdict, Store, StoreOptions};
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "redress",
    version,
    about = "Case management for public consumer-complaint offices"
)]
struct Cli {
    /// TOML configuration file (also REDRESS_CONFIG)
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server and API (migrations run first)
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080]
        #[arg(long, env = "REDRESS_LISTEN")]
        listen: Option<String>,
        #[command(flatten)]
        store: StoreFlags,
    },
    /// Apply database migrations and exit
    Migrate {
        #[command(flatten)]
        store: StoreFlags,
    },
    /// Manage users
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Load a lived-in demo office: units, users for every role, companies, categories and cases
    Demo {
        /// How many cases to build from the CFPB sample
        #[arg(long, default_value_t = 6000)]
        cases: usize,
        /// The CFPB complaints sample (CSV, gzip) [default: ../shared/data/cfpb_complaints_sample.csv.gz
        /// beside the working directory, the binary or the source tree]
        #[arg(long)]
        source: Option<PathBuf>,
        #[command(flatten)]
        store: StoreFlags,
    },
    /// Bring cases in from another system's file
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Write files for others: the de-identified open data file
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// The audit log
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Print the OpenAPI 3.1 document of the HTTP API
    Openapi,
    /// Business days and holidays (New York State rules plus an office's closures)
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// Measure throughput and latency over HTTP against a temporary store
    Bench(bench::BenchArgs),
    /// Scheduled work: counts, dead jobs, and putting a dead job back in the queue
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// The case lifecycles in force (shipped packs and `lifecycles_dir`)
    Lifecycles {
        #[command(subcommand)]
        command: LifecyclesCommand,
    },
    /// Incoming email
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import a CSV file (gzip-compressed files are read directly) through a mapping: `cfpb`
    /// (CFPB Consumer Complaint Database), `nyc311` (NYC 311 service requests) or a mapping file.
    /// Good rows go in, refused rows are written with their row number and reason to the errors
    /// file; a second run of the same file adds nothing twice
    Csv {
        file: PathBuf,
        /// `cfpb`, `nyc311`, or the path of a mapping file (see docs/import.md)
        #[arg(long)]
        mapping: String,
        /// Where refused rows are written (CSV: row, line, reason) [default: FILE's name +
        /// `.errors.csv`, in the working directory]
        #[arg(long)]
        errors: Option<PathBuf>,
        #[command(flatten)]
        store: StoreFlags,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// The open data file (CSV, CFPB style): no names, contacts, addresses or account numbers,
    /// ZIP codes cut to three digits, narratives only where the consumer consented and then
    /// scrubbed of personal data (docs/open-data.md describes every column)
    PublicData {
        /// The file to write
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        store: StoreFlags,
    },
}

#[derive(Subcommand)]
enum MailCommand {
    /// Take in one message (RFC 5322) from standard input, as an MTA's pipe transport delivers
    /// it. Exit 0: taken in (or set aside on purpose); 75 (EX_TEMPFAIL): try again later
    Receive {
        #[command(flatten)]
        store: StoreFlags,
    },
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Jobs waiting, done and dead, and the latest dead ones with their last error
    List {
        #[command(flatten)]
        store: StoreFlags,
    },
    /// Give a dead job fresh attempts, now
    Retry {
        id: i64,
        #[command(flatten)]
        store: StoreFlags,
    },
}

#[derive(Subcommand)]
enum LifecyclesCommand {
    /// Check every lifecycle file; exit 1 naming the file, line and reason of the first mistake
    Check,
    /// Print each lifecycle's states and deadlines as Markdown tables
    Markdown,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from the first line of standard input
    Add {
        username: String,
        /// agent, senior_agent, supervisor, manager, analyst, admin, auditor or company
        #[arg(long)]
        role: String,
        /// Unit code
        #[arg(long)]
        unit: Option<String>,
        /// Company id or exact name (company users)
        #[arg(long)]
        company: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        /// Where deadline notices (due soon, missed) are sent
        #[arg(long)]
        email: Option<String>,
        /// Read the password from standard input (required: passwords never go on the command line)
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        store: StoreFlags,
    },
    /// List users
    List {
        #[command(flatten)]
        store: StoreFlags,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user and print it once
    Create {
        username: String,
        #[arg(long, default_value = "cli")]
        name: String,
        #[command(flatten)]
        store: StoreFlags,
    },
    /// Revoke a token by id
    Revoke {
        username: String,
        id: i64,
        #[command(flatten)]
        store: StoreFlags,
    },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Print the date N business days after DATE (DATE itself not counted)
    AddBusinessDays {
        /// YYYY-MM-DD
        date: String,
        days: u32,
        /// Use this office's calendar (its closures too)
        #[arg(long)]
        office: Option<String>,
        #[command(flatten)]
        store: StoreFlags,
    },
    /// List a year's holidays and closures, one `YYYY-MM-DD name` a line
    Holidays {
        year: i16,
        #[arg(long)]
        office: Option<String>,
        #[command(flatten)]
        store: StoreFlags,
    },
    /// Record a day an office is closed (a snow day, a proclaimed holiday)
    Close {
        /// YYYY-MM-DD
        date: String,
        #[arg(long)]
        office: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        store: StoreFlags,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute every hash chain and compare each case's timeline and row with the digests
    /// audited; exits 1 when a row was changed or removed
    Verify {
        /// A checkpoint (from `audit checkpoint` or `serve`): every chain must still reach the
        /// heads it recorded, which catches truncated and recomputed chains
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        #[command(flatten)]
        store: StoreFlags,
    },
    /// Print every chain head as a checkpoint (JSON, with an HMAC-SHA256 under
    /// `audit_checkpoint_key`), to keep outside the database
    Checkpoint {
        /// Write it into this file instead of printing it
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        store: StoreFlags,
    },
}

fn main() -> anyhow::Result<()> {
    heaps::limit();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("REDRESS_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let code = runtime.block_on(run(cli))?;
    std::process::exit(code);
}

async fn open(
    cli_config: Option<&std::path::Path>,
    flags: &StoreFlags,
) -> anyhow::Result<(Config, Arc<dyn Store>)> {
    let mut cfg = Config::load(cli_config)?;
    cfg.apply(flags);
    cfg.validate()?;
    let url = cfg.database_url();
    let options = StoreOptions {
        sqlite_synchronous: cfg.sqlite_synchronous.clone(),
        max_connections: cfg.max_connections,
    };
    let store = redress_store::open(&url, &options)
        .await
        .with_context(|| format!("opening {}", redress_store::redact_url(&url)))?;
    store.migrate().await.context("applying migrations")?;
    store
        .ensure_office(&Office {
            code: cfg.office.code.clone(),
            name: cfg.office.name.clone(),
            time_zone: cfg.office.time_zone.clone(),
            opens_at: cfg.office.opens_at,
            closes_at: cfg.office.closes_at,
        })
        .await?;
    Ok((cfg, store))
}

/// The app with the typeset press for printed letters (the office's `letter_template`, checked
/// at start, or the shipped one); without the `pdf` feature, printing answers 503.
fn with_press(app: App, cfg: &Config) -> anyhow::Result<App> {
    #[cfg(feature = "pdf")]
    {
        let press = press::TypesetPress::new(cfg.letter_template.as_deref())?;
        Ok(app.with_press(Arc::new(press)))
    }
    #[cfg(not(feature = "pdf"))]
    {
        if cfg.letter_template.is_some() {
            tracing::warn!(
                "letter_template is set but this build prints no letters (built without the pdf feature)"
            );
        }
        Ok(app)
    }
}

/// EX_TEMPFAIL: the MTA keeps the message and tries again later.
const EX_TEMPFAIL: i32 = 75;

/// `redress mail receive`: never fails in a way that loses the message. Whatever goes wrong
/// (the store out of reach, the configuration unreadable) answers EX_TEMPFAIL, so that the MTA
/// keeps the message and tries again.
async fn mail_receive(config_file: Option<&std::path::Path>, flags: &StoreFlags) -> i32 {
    use std::io::Read;
    let mut raw = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut raw) {
        eprintln!("redress mail receive: reading the message: {e}");
        return EX_TEMPFAIL;
    }
    let taken = async {
        let (cfg, store) = open(config_file, flags).await?;
        let office = store.office(&cfg.office.code).await?;
        let app = App::new(store, Arc::new(SystemClock), office, cfg.app_settings()?)
            .with_lifecycles(cfg.lifecycles()?);
        Ok::<_, anyhow::Error>(app.receive_mail(&raw, "pipe").await?)
    };
    match taken.await {
        Ok(redress_app::correspondence::Receipt::Busy) => {
            eprintln!(
                "redress mail receive: another process is taking this message in; try again later"
            );
            EX_TEMPFAIL
        }
        Ok(receipt) => {
            println!("{receipt}");
            0
        }
        Err(e) => {
            eprintln!("redress mail receive: {e:#}; try again later");
            EX_TEMPFAIL
        }
    }
}

/// The office's use cases over a store that is open, for the commands that act as the office.
async fn app_for(cfg: &Config, store: Arc<dyn Store>) -> anyhow::Result<App> {
    let office = store.office(&cfg.office.code).await?;
    let lifecycles = cfg.lifecycles()?;
    Ok(App::new(
        store,
        Arc::new(SystemClock),
        office,
        redress_app::Settings::default(),
    )
    .with_lifecycles(lifecycles))
}

async fn run(cli: Cli) -> anyhow::Result<i32> {
    let config_file = cli.config.as_deref();
    let clock = SystemClock;
    match cli.command {
        Command::Serve { listen, store } => {
            // Lifecycle files are checked before anything else starts.
            let lifecycles = config::Config::load(config_file)?.lifecycles()?;
            let (mut cfg, store) = open(config_file, &store).await?;
            if let Some(l) = listen {
                cfg.listen = l;
            }
            let office = store.office(&cfg.office.code).await?;
            let (public_url, configured) = cfg.public_url()?;
            if !configured && cfg.listens_beyond_this_host() {
                tracing::warn!(
                    listen = %cfg.listen,
                    "public_url is not set while the portal is reachable from other hosts: links in \
                     emails and on the portal point at {public_url}; set public_url (REDRESS_PUBLIC_URL) \
                     to the address the public uses"
                );
            }
            let settings = cfg.app_settings()?;
            let http = redress_web::Settings {
                secure_cookies: cfg.secure_cookies,
                portal_submissions_per_10_minutes: cfg.portal_submissions_per_10_minutes,
                ..redress_web::Settings::default()
            };
            let mailer = redress_app::outbox::Mailer::from_settings(
                &cfg.mail_from,
                cfg.smtp_url.as_deref(),
                cfg.mail_pickup_dir.as_deref(),
            )?;
            if mailer.is_none() {
                tracing::warn!(
                    "no smtp_url or mail_pickup_dir is set: outgoing email waits in the outbox"
                );
            }
            let app = with_press(
                App::new(store.clone(), Arc::new(SystemClock), office, settings)
                    .with_mailer(mailer)
                    .with_lifecycles(lifecycles),
                &cfg,
            )?;
            let mailboxes = cfg
                .mail
                .imap
                .iter()
                .map(config::ImapConfig::mailbox)
                .collect::<anyhow::Result<Vec<_>>>()?;
            redress_app::correspondence::imap::spawn_pollers(app.clone(), mailboxes);
            redress_app::outbox::spawn_sender(app.clone());
            redress_app::deadlines::spawn_deadline_sweeper(app.clone());
            redress_app::jobs::spawn_worker(app.clone());
            checkpoint::spawn_daily(
                store.clone(),
                Arc::new(SystemClock),
                cfg.checkpoint_dir(),
                cfg.checkpoint_key()?,
            );
            let listener = tokio::net::TcpListener::bind(&cfg.listen)
                .await
                .with_context(|| format!("listening on {}", cfg.listen))?;
            let addr = listener.local_addr()?;
            tracing::info!(
                store = store.backend(),
                "Redress serving on http://{addr}/ (API docs at http://{addr}/api/docs)"
            );
            let state = redress_web::AppState::new(app, http);
            redress_web::serve(listener, state, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
            Ok(0)
        }
        Command::Migrate { store } => {
            let (_, store) = open(config_file, &store).await?;
            let versions = store.schema_versions().await?;
            println!(
                "{} schema is at version {}",
                store.backend(),
                versions.last().copied().unwrap_or(0)
            );
            Ok(0)
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    unit,
                    company,
                    display_name,
                    email,
                    password_stdin,
                    store,
                },
        } => {
            if !password_stdin {
                bail!(
                    "give --password-stdin and the password on standard input (passwords never go on the command line)"
                );
            }
            let role: redress_domain::Role = role.parse().map_err(|_| {
                anyhow::anyhow!("unknown role {role:?}; roles: agent, senior_agent, supervisor, manager, analyst, admin, auditor, company")
            })?;
            if !redress_app::accounts::valid_username(&username) {
                bail!("username: lower-case letters, digits, '.', '-' and '_'; 2 to 64 characters");
            }
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']).to_string();
            redress_app::accounts::check_password_rules(&password)
                .map_err(|_| anyhow::anyhow!("password: use 12 to 256 characters"))?;
            if let Some(e) = &email
                && !redress_domain::validate::is_email(e)
            {
                bail!("--email {e:?} is not an email address");
            }
            let (cfg, store) = open(config_file, &store).await?;
            let app = app_for(&cfg, store).await?;
            let company_id = match company {
                Some(c) => Some(
                    app.company_by_id_or_name(&c)
                        .await
                        .with_context(|| format!("no company with id or name {c:?}"))?
                        .id,
                ),
                None => None,
            };
            if role == redress_domain::Role::Company && company_id.is_none() {
                bail!("company users need --company");
            }
            let new = redress_app::directory::NewUserInput {
                username: Some(username.clone()),
                display_name,
                role,
                unit,
                company_id,
                password: Some(password),
                email,
            };
            let user = app
                .create_user(&redress_app::directory::cli_actor(), new)
                .await
                .map_err(|e| match e {
                    redress_app::AppError::Conflict(_) => {
                        anyhow::anyhow!("a user named {username:?} already exists")
                    }
                    redress_app::AppError::Validation(f) => anyhow::anyhow!("{f}"),
                    other => other.into(),
                })?;
            println!("added {} ({})", user.username, user.role);
            Ok(0)
        }
        Command::User {
            command: UserCommand::List { store },
        } => {
            let (_, store) = open(config_file, &store).await?;
            println!(
                "{:<24} {:<13} {:<12} {:<8} NAME",
                "USERNAME", "ROLE", "UNIT", "ACTIVE"
            );
            for u in store.users().await? {
                println!(
                    "{:<24} {:<13} {:<12} {:<8} {}",
                    u.username,
                    u.role,
                    u.unit.unwrap_or_default(),
                    u.active,
                    u.display_name
                );
            }
            Ok(0)
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    username,
                    name,
                    store,
                },
        } => {
            let (cfg, store) = open(config_file, &store).await?;
            let app = app_for(&cfg, store).await?;
            let token = app
                .issue_token_for(&redress_app::directory::cli_actor(), &username, &name)
                .await
                .map_err(|e| match e {
                    redress_app::AppError::NotFound => {
                        anyhow::anyhow!("no user named {username:?}")
                    }
                    other => other.into(),
                })?
                .secret;
            println!("{token}");
            Ok(0)
        }
        Command::Token {
            command:
                TokenCommand::Revoke {
                    username,
                    id,
                    store,
                },
        } => {
            let (cfg, store) = open(config_file, &store).await?;
            let app = app_for(&cfg, store).await?;
            app.revoke_token_for(&redress_app::directory::cli_actor(), &username, id)
                .await
                .map_err(|e| match e {
                    redress_app::AppError::NotFound => {
                        anyhow::anyhow!("no user named {username:?}, or no such active token")
                    }
                    other => other.into(),
                })?;
            println!("revoked token {id} of {username}");
            Ok(0)
        }
        Command::Demo {
            cases,
            source,
            store,
        } => {
            // Found before any store is opened: a missing sample leaves nothing behind.
            let source = demo::find_source(source)?;
            let (cfg, store) = open(config_file, &store).await?;
            demo::load(store, &cfg, &source, cases, &clock).await?;
            Ok(0)
        }
        Command::Import {
            command:
                ImportCommand::Csv {
                    file,
                    mapping,
                    errors,
                    store,
                },
        } => {
            // The mapping and the file's header are checked before any store is opened.
            let opened = redress_app::import::load_mapping(&mapping)
                .and_then(|m| redress_app::import::ImportFile::open(&file, &m))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let (cfg, store) = open(config_file, &store).await?;
            let app = app_for(&cfg, store).await?;
            import::csv(&app, &file, opened, errors).await
        }
        Command::Export {
            command: ExportCommand::PublicData { out, store },
        } => {
            let (cfg, store) = open(config_file, &store).await?;
            let app = app_for(&cfg, store).await?;
            export::public_data(&app, &out).await
        }
        Command::Audit {
            command: AuditCommand::Checkpoint { out, store },
        } => {
            let (cfg, store) = open(config_file, &store).await?;
            let key = cfg.checkpoint_key()?;
            if key.is_none() {
                eprintln!(
                    "warning: no audit_checkpoint_key is set; the checkpoint carries a digest but no authentication code"
                );
            }
            let actor = Actor {
                user_id: None,
                username: "cli".into(),
            };
            let c = checkpoint::take(store.as_ref(), &actor, key.as_deref(), clock.now()).await?;
            let text = serde_json::to_string_pretty(&c)? + "\n";
            match out {
                Some(path) => {
                    std::fs::write(&path, text)
                        .with_context(|| format!("writing {}", path.display()))?;
                    println!(
                        "checkpoint of {} chains written to {} (digest {})",
                        c.chains.len(),
                        path.display(),
                        c.digest
                    );
                }
                None => print!("{text}"),
            }
            Ok(0)
        }
        Command::Audit {
            command: AuditCommand::Verify { checkpoint, store },
        } => {
            let (cfg, store) = open(config_file, &store).await?;
            let anchor = match &checkpoint {
                Some(path) => {
                    let c = checkpoint::read(path)?;
                    let key = cfg.checkpoint_key()?;
                    if let Err(e) = c.check(key.as_deref()) {
                        println!("checkpoint {} REJECTED: {e}", path.display());
                        return Ok(1);
                    }
                    if key.is_none() {
                        eprintln!(
                            "warning: no audit_checkpoint_key is set; the checkpoint's digest is checked but it could have been forged"
                        );
                    }
                    Some(c)
                }
                None => None,
            };
            let verdict = match &anchor {
                Some(c) => store.verify_audit_against(&c.chains).await?,
                None => store.verify_audit().await?,
            };
            match verdict {
                AuditVerdict::Intact { rows, chains } => {
                    println!("audit log intact: {rows} rows in {chains} chains");
                    if let Some(c) = anchor {
                        println!(
                            "checkpoint of {}: all {} chains still reach the heads it recorded",
                            c.created_at,
                            c.chains.len()
                        );
                    }
                    Ok(0)
                }
                AuditVerdict::Broken {
                    row_id,
                    chain,
                    seq,
                    reason,
                } => {
                    println!(
                        "audit log BROKEN at row {row_id} ({chain}, position {seq}): {reason}"
                    );
                    Ok(1)
                }
            }
        }
        Command::Jobs { command } => match command {
            JobsCommand::List { store } => {
                let (_, store) = open(config_file, &store).await?;
                let c = store.job_counts().await?;
                println!(
                    "jobs: {} waiting, {} done, {} dead",
                    c.waiting, c.done, c.dead
                );
                for j in store.dead_jobs(50).await? {
                    println!(
                        "dead {} {} after {} attempts at {}: {} {}",
                        j.id,
                        j.kind,
                        j.attempts,
                        j.dead_at,
                        j.last_error.unwrap_or_default(),
                        j.payload
                    );
                }
                Ok(0)
            }
            JobsCommand::Retry { id, store } => {
                let (_, store) = open(config_file, &store).await?;
                let actor = Actor {
                    user_id: None,
                    username: "cli".into(),
                };
                if store.revive_job(&actor, id, clock.now()).await? {
                    println!("job {id} queued again");
                    Ok(0)
                } else {
                    eprintln!("job {id} is not dead (or does not exist)");
                    Ok(1)
                }
            }
        },
        Command::Calendar { command } => calendar(config_file, command, &clock).await,
        Command::Openapi => {
            println!("{}", redress_web::openapi_json());
            Ok(0)
        }
        Command::Bench(args) => {
            bench::run(args).await?;
            Ok(0)
        }
        Command::Mail {
            command: MailCommand::Receive { store },
        } => Ok(mail_receive(config_file, &store).await),
        Command::Lifecycles { command } => {
            let all = Config::load(config_file)?.lifecycles()?;
            match command {
                LifecyclesCommand::Check => {
                    for l in &all.0 {
                        println!(
                            "{}: {} v{} ({} states, {} transitions, {} clocks) from {}",
                            l.kind,
                            l.name,
                            l.version,
                            l.states.len(),
                            l.transitions.len(),
                            l.clocks.len(),
                            l.file
                        );
                    }
                }
                LifecyclesCommand::Markdown => print!("{}", lifecycles_markdown(&all)),
            }
            Ok(0)
        }
    }
}

/// Each lifecycle's states and deadlines as Markdown (the README's tables are made with it).
fn lifecycles_markdown(all: &redress_domain::lifecycle::Lifecycles) -> String {
    use redress_domain::lifecycle::Hold;
    use std::fmt::Write;
    let mut out = String::new();
    for l in &all.0 {
        let _ = writeln!(out, "#### {} (`{}`, {})\n", l.name, l.kind, l.file);
        let states: Vec<String> = l
            .states
            .iter()
            .map(|s| {
                let hold = match &s.hold {
                    Hold::None => "",
                    Hold::Pending => " (hold)",
                    Hold::Until(_) => " (hold until window ends)",
                };
                format!("`{}`{hold}", s.name)
            })
            .collect();
        let _ = writeln!(out, "States: {}.\n", states.join(", "));
        if !l.letters.is_empty() {
            let letters: Vec<String> = l
                .letters
                .iter()
                .map(|x| {
                    let to = match x.to {
                        redress_domain::lifecycle::Addressee::Consumer => "consumer",
                        redress_domain::lifecycle::Addressee::Company => "company",
                    };
                    format!("`{}` (to the {to}, on `{}`)", x.name, x.transition)
                })
                .collect();
            let _ = writeln!(
                out,
                "Letters (English and Spanish): {}.\n",
                letters.join(", ")
            );
        }
        let _ = writeln!(
            out,
            "| Clock | Kind | Starts | Length | When missed | Source |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for c in &l.clocks {
            let starters: Vec<String> = l
                .transitions
                .iter()
                .filter(|t| t.start.contains(&c.name))
                .map(|t| format!("`{}`", t.name))
                .chain(
                    l.open_starts
                        .contains(&c.name)
                        .then(|| "opening".to_string()),
                )
                .collect();
            let overdue = c.overdue_text();
            let _ = writeln!(
                out,
                "| `{}` {} | {} | {} | {} | {} | {} |",
                c.name,
                c.label,
                c.kind.as_str(),
                starters.join(", "),
                c.length_text(),
                if overdue.is_empty() { "—" } else { &overdue },
                c.source
            );
        }
        let _ = writeln!(out);
    }
    out
}

fn parse_date(text: &str) -> anyhow::Result<jiff::civil::Date> {
    text.parse::<jiff::civil::Date>()
        .map_err(|_| anyhow::anyhow!("{text:?} is not a date like 2026-12-24"))
}

/// The calendar of an office: New York State rules plus its recorded closures. Without an
/// office, no store is opened.
async fn office_calendar(
    config_file: Option<&std::path::Path>,
    office: Option<&str>,
    flags: &StoreFlags,
) -> anyhow::Result<redress_domain::calendar::Calendar> {
    match office {
        Some(code) => {
            let (_, store) = open(config_file, flags).await?;
            let (cal, _) = store
                .office_calendar(code)
                .await
                .with_context(|| format!("no office with code {code:?}"))?;
            Ok(cal)
        }
        None => Ok(redress_domain::calendar::Calendar::new(
            redress_domain::calendar::Rules::default(),
        )),
    }
}

async fn calendar(
    config_file: Option<&std::path::Path>,
    command: CalendarCommand,
    clock: &SystemClock,
) -> anyhow::Result<i32> {
    match command {
        CalendarCommand::AddBusinessDays {
            date,
            days,
            office,
            store,
        } => {
            let start = parse_date(&date)?;
            let cal = office_calendar(config_file, office.as_deref(), &store).await?;
            println!("{}", cal.add_business_days(start, days)?);
        }
        CalendarCommand::Holidays {
            year,
            office,
            store,
        } => {
            if !(1900..=2999).contains(&year) {
                bail!("year must be between 1900 and 2999");
            }
            let cal = office_calendar(config_file, office.as_deref(), &store).await?;
            for h in cal.year(year) {
                println!("{} {}", h.date, h.name);
            }
        }
        CalendarCommand::Close {
            date,
            office,
            reason,
            store,
        } => {
            let day = parse_date(&date)?;
            let reason = reason.trim();
            if reason.is_empty() || reason.chars().count() > 200 {
                bail!("--reason: 1 to 200 characters");
            }
            let (_, st) = open(config_file, &store).await?;
            st.office(&office)
                .await
                .with_context(|| format!("no office with code {office:?}"))?;
            st.add_closure(
                &Actor {
                    user_id: None,
                    username: "cli".into(),
                },
                &office,
                day,
                reason,
                clock.now(),
            )
            .await?;
            println!("{office} is closed on {day}: {reason}");
        }
    }
    Ok(0)
}
