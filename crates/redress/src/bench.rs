//! `redress bench`: starts `redress serve` as a child process on a temporary store, drives
//! it over HTTP on loopback, and prints throughput, latency, server CPU per create and memory.

use anyhow::{Context, bail};
use redress_store::{Actor, NewUser, StoreOptions};
use std::process::Stdio;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// A PostgreSQL server URL (postgres://user@host/db): a temporary database is created on it
    /// and dropped afterwards. Without it, a temporary SQLite file is used.
    #[arg(long)]
    database_url: Option<String>,
    /// Cases in the store when reads are measured
    #[arg(long, default_value_t = 100_000)]
    cases: usize,
    /// Concurrent clients for the multi-client phases
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Creates measured in each create phase
    #[arg(long, default_value_t = 5_000)]
    creates: usize,
    /// Reads measured
    #[arg(long, default_value_t = 5_000)]
    reads: usize,
    /// SQLite synchronous setting for the server under test
    #[arg(long, default_value = "full")]
    pub sqlite_synchronous: String,
    /// Which measurements: `http` (creates and reads through `redress serve`), `clocks` (the
    /// deadline sweep over a large store), `data` (a large office learned from the CFPB sample:
    /// filing, search and reports) or `all`
    #[arg(long, default_value = "all")]
    only: String,
    /// Cases in the office `--only data` builds
    #[arg(long, default_value_t = 1_000_000)]
    pub data_cases: usize,
    /// Searches timed by `--only data`
    #[arg(long, default_value_t = 400)]
    pub searches: usize,
    /// How many of the slowest searches `--only data` lists, of each order (newest first, and
    /// by relevance)
    #[arg(long, default_value_t = 3)]
    pub slowest: usize,
    /// The searches' `relevance_pool` (see *Configuration*) [default: the office's default]
    #[arg(long)]
    pub relevance_pool: Option<u32>,
    /// Keep the store `--only data` built (its SQLite file or PostgreSQL database) and print
    /// its URL, for `--data-reuse`
    #[arg(long)]
    pub data_keep: bool,
    /// Time the searches and reports again on a store an earlier `--only data --data-keep`
    /// built, without filing anything
    #[arg(long, value_name = "URL")]
    pub data_reuse: Option<String>,
    /// The CFPB sample `--only data` learns from [default: ../shared/data/cfpb_complaints_sample.csv.gz]
    #[arg(long)]
    pub source: Option<std::path::PathBuf>,
    /// Open cases, each with a running clock, in the store the sweep is measured on
    #[arg(long, default_value_t = 1_000_000)]
    clock_cases: i64,
    /// How many of those clocks are past due when the sweep runs
    #[arg(long, default_value_t = 10_000)]
    due: i64,
}

struct Server {
    child: tokio::process::Child,
    pid: u32,
    base: String,
}

fn proc_cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("bad /proc stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11).context("utime")?.parse()?;
    let stime: f64 = fields.get(12).context("stime")?.parse()?;
    // Linux reports clock ticks; USER_HZ is 100 on every supported platform.
    Ok((utime + stime) / 100.0)
}

fn proc_status_kib(pid: u32, key: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with(key))
        .with_context(|| format!("{key} missing"))?;
    Ok(line.split_whitespace().nth(1).context("value")?.parse()?)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx].as_secs_f64() * 1000.0
}

fn body(i: usize) -> String {
    serde_json::json!({
        "kind": "complaint", "channel": "phone", "description": format!("Billed twice for October (bench {i})"),
        "consumer": {"name": "Ana Díaz", "email": format!("ana{i}@example.org"), "phone": format!("518-555-{:04}", i % 10_000), "preferred_language": "es"}
    })
    .to_string()
}

struct Phase {
    count: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    references: Vec<String>,
}

async fn creates(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    total: usize,
    clients: usize,
    offset: usize,
) -> anyhow::Result<Phase> {
    let per = total.div_ceil(clients);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, base, token) = (client.clone(), base.to_string(), token.to_string());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per);
            let mut refs = Vec::with_capacity(per);
            for k in 0..per {
                let i = offset + c * per + k;
                let t = Instant::now();
                let resp = client
                    .post(format!("{base}/api/v1/cases"))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body(i))
                    .send()
                    .await?;
                if resp.status().as_u16() != 201 {
                    bail!(
                        "create answered {}: {}",
                        resp.status(),
                        resp.text().await.unwrap_or_default()
                    );
                }
                let v: serde_json::Value = resp.json().await?;
                lat.push(t.elapsed());
                refs.push(v["reference"].as_str().unwrap_or_default().to_string());
            }
            Ok::<_, anyhow::Error>((lat, refs))
        }));
    }
    let mut latencies = Vec::new();
    let mut references = Vec::new();
    for t in tasks {
        let (l, r) = t.await??;
        latencies.extend(l);
        references.extend(r);
    }
    let elapsed = start.elapsed();
    latencies.sort();
    Ok(Phase {
        count: latencies.len(),
        elapsed,
        latencies,
        references,
    })
}

async fn reads(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    refs: &[String],
    n: usize,
) -> anyhow::Result<Phase> {
    let start = Instant::now();
    let mut lat = Vec::with_capacity(n);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let r = &refs[(x as usize) % refs.len()];
        let t = Instant::now();
        let resp = client
            .get(format!("{base}/api/v1/cases/{r}"))
            .bearer_auth(token)
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!("read answered {}", resp.status());
        }
        let _ = resp.bytes().await?;
        lat.push(t.elapsed());
    }
    let elapsed = start.elapsed();
    lat.sort();
    Ok(Phase {
        count: n,
        elapsed,
        latencies: lat,
        references: vec![],
    })
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if !matches!(args.only.as_str(), "all" | "http" | "clocks" | "data") {
        bail!("--only is http, clocks, data or all");
    }
    if let Some(url) = &args.data_reuse {
        return crate::bench_data::run(&args, url).await;
    }
    if args.only == "data" || args.only == "all" {
        with_store(&args, "data", |url, _| {
            let args = args.clone();
            async move { crate::bench_data::run(&args, &url).await }
        })
        .await?;
        if args.only == "data" {
            return Ok(());
        }
    }
    if args.only != "clocks" {
        with_store(&args, "http", |url, dir| {
            let args = args.clone();
            async move { run_with(&args, &url, &dir).await }
        })
        .await?;
    }
    if args.only != "http" {
        with_store(&args, "clocks", |url, _| {
            let args = args.clone();
            async move { clocks(&args, &url).await }
        })
        .await?;
    }
    Ok(())
}

/// Runs `f` on a fresh temporary store (a SQLite file, or a PostgreSQL database that is
/// dropped afterwards).
async fn with_store<F, Fut>(args: &BenchArgs, tag: &str, f: F) -> anyhow::Result<()>
where
    F: FnOnce(String, std::path::PathBuf) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let dir = std::env::temp_dir().join(format!("redress-bench-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (url, pg_admin) = match &args.database_url {
        Some(admin) => {
            let name = format!("redress_bench_{}_{tag}", std::process::id());
            let url = redress_store::postgres::create_database(admin, &name)
                .await
                .context("creating the bench database")?;
            (url, Some((admin.clone(), name)))
        }
        None => (format!("sqlite:{}", dir.join("redress.db").display()), None),
    };
    let result = f(url.clone(), dir.clone()).await;
    if tag == "data" && args.data_keep {
        println!("  kept: {url}");
        return result;
    }
    if let Some((admin, name)) = pg_admin
        && let Err(e) = redress_store::postgres::drop_database(&admin, &name).await
    {
        eprintln!("could not drop {name}: {e}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run_with(args: &BenchArgs, url: &str, dir: &std::path::Path) -> anyhow::Result<()> {
    let store = redress_store::open(
        url,
        &StoreOptions {
            sqlite_synchronous: args.sqlite_synchronous.clone(),
            max_connections: 2,
        },
    )
    .await?;
    store.migrate().await?;
    let clock = redress_app::SystemClock;
    use redress_domain::Clock;
    let user = store
        .create_user(
            &Actor::system(),
            &NewUser {
                email: None,
                username: "bench".into(),
                display_name: "Bench".into(),
                role: redress_domain::Role::Admin,
                unit_id: None,
                company_id: None,
                password_hash: None,
            },
            clock.now(),
        )
        .await?;
    let (token, hash) = redress_app::accounts::new_token().map_err(|e| anyhow::anyhow!("{e}"))?;
    store
        .create_token(&Actor::system(), user.id, "bench", &hash, clock.now())
        .await?;
    drop(store);

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let exe = std::env::current_exe()?;
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg("serve")
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"));
    if url.starts_with("postgres") {
        cmd.arg("--database-url").arg(url);
    } else {
        cmd.arg("--data-dir").arg(dir);
    }
    cmd.env("REDRESS_SQLITE_SYNCHRONOUS", &args.sqlite_synchronous)
        .env("REDRESS_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let child = cmd.spawn().context("starting redress serve")?;
    let pid = child.id().context("server pid")?;
    let server = Server {
        child,
        pid,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .build()?;
    let ready_by = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{}/readyz", server.base)).send().await
            && r.status().is_success()
        {
            break;
        }
        if Instant::now() > ready_by {
            bail!("server did not become ready");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let outcome = measure(args, &client, &server, &token).await;
    let mut child = server.child;
    let _ = child.kill().await;
    outcome
}

async fn measure(
    args: &BenchArgs,
    client: &reqwest::Client,
    server: &Server,
    token: &str,
) -> anyhow::Result<()> {
    let backend = if args.database_url.is_some() {
        "postgres".to_string()
    } else {
        format!("sqlite (synchronous={})", args.sqlite_synchronous)
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle_rss = proc_status_kib(server.pid, "VmRSS")?;
    println!(
        "redress bench: store {backend}, {} cores, server pid {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        server.pid
    );
    // Warm up connections and caches.
    creates(client, &server.base, token, 200, args.clients, 10_000_000).await?;

    let one = creates(
        client,
        &server.base,
        token,
        args.creates.clamp(1, 2_000),
        1,
        0,
    )
    .await?;
    let cpu0 = proc_cpu_seconds(server.pid)?;
    let many = creates(
        client,
        &server.base,
        token,
        args.creates,
        args.clients,
        1_000_000,
    )
    .await?;
    let cpu1 = proc_cpu_seconds(server.pid)?;
    let cpu_ms_per_create = (cpu1 - cpu0) * 1000.0 / many.count as f64;

    let mut refs = one.references.clone();
    refs.extend(many.references.iter().cloned());
    let mut loaded = 200 + one.count + many.count;
    let load_start = Instant::now();
    let mut offset = 2_000_000;
    while loaded < args.cases {
        let batch = (args.cases - loaded).min(20_000);
        let p = creates(client, &server.base, token, batch, args.clients, offset).await?;
        offset += batch + args.clients;
        loaded += p.count;
        refs.extend(p.references);
        eprintln!("  loaded {loaded} cases");
    }
    let load_secs = load_start.elapsed().as_secs_f64();
    let read = reads(client, &server.base, token, &refs, args.reads).await?;
    let peak = proc_status_kib(server.pid, "VmHWM")?;

    let rate = |p: &Phase| p.count as f64 / p.elapsed.as_secs_f64();
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| creates/s, 1 client ({} creates) | {:.0} |",
        one.count,
        rate(&one)
    );
    println!(
        "| create latency, 1 client p50 / p95 / p99 | {:.2} / {:.2} / {:.2} ms |",
        pct(&one.latencies, 0.5),
        pct(&one.latencies, 0.95),
        pct(&one.latencies, 0.99)
    );
    println!(
        "| creates/s, {} clients ({} creates) | {:.0} |",
        args.clients,
        many.count,
        rate(&many)
    );
    println!(
        "| create latency, {} clients p50 / p95 / p99 | {:.2} / {:.2} / {:.2} ms |",
        args.clients,
        pct(&many.latencies, 0.5),
        pct(&many.latencies, 0.95),
        pct(&many.latencies, 0.99)
    );
    println!(
        "| server CPU per create ({} clients) | {:.3} ms |",
        args.clients, cpu_ms_per_create
    );
    if load_secs > 0.0 {
        println!(
            "| bulk load to {loaded} cases | {:.0} creates/s |",
            (loaded as f64 - (200 + one.count + many.count) as f64) / load_secs
        );
    }
    println!(
        "| read by reference with {loaded} cases, p50 / p95 ({} reads, 1 client) | {:.2} / {:.2} ms |",
        read.count,
        pct(&read.latencies, 0.5),
        pct(&read.latencies, 0.95)
    );
    println!("| reads/s, 1 client | {:.0} |", rate(&read));
    println!(
        "| server RSS idle / peak | {:.1} / {:.1} MiB |",
        idle_rss as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    Ok(())
}

/// The deadline sweep over a large store: `clock_cases` open cases with a running clock each,
/// `due` of them past due. Measures the sweep's search alone (through the index on the due
/// instant), then the escalation of every due clock (priority, timeline entry, audit row).
async fn clocks(args: &BenchArgs, url: &str) -> anyhow::Result<()> {
    use redress_domain::records::Address;
    use redress_store::{NewCase, NewConsumer};
    let store = redress_store::open(
        url,
        &StoreOptions {
            sqlite_synchronous: args.sqlite_synchronous.clone(),
            max_connections: 4,
        },
    )
    .await?;
    store.migrate().await?;
    let office = redress_domain::records::Office {
        code: "NYC".into(),
        name: "Bench".into(),
        time_zone: "America/New_York".into(),
        opens_at: 9,
        closes_at: 17,
    };
    store.ensure_office(&office).await?;
    // A fixed instant: the load is laid out around it.
    let now: jiff::Timestamp = "2026-12-01T15:00:00Z".parse()?;
    let (first, _) = store
        .create_case(
            &Actor::system(),
            &NewCase {
                office: office.code.clone(),
                year: 2026,
                kind: redress_domain::CaseKind::Complaint,
                channel: redress_domain::Channel::Phone,
                status: redress_domain::Status::Open,
                stage: Some("investigating".into()),
                lifecycle: Some("utility_complaint".into()),
                opening: vec![],
                priority: redress_domain::Priority::Normal,
                flags: vec![],
                category_id: None,
                company_id: None,
                account_number: None,
                amount: None,
                description: "Benchmark consumer".into(),
                unit_id: None,
                assignee_id: None,
                consumer_id: None,
                consumer: NewConsumer {
                    name: "Bench Consumer".into(),
                    phone: Some("5185550100".into()),
                    email: None,
                    address: Address::default(),
                    preferred_language: None,
                    account_number: None,
                },
                opened_at: now,
                closed_at: None,
                history: vec![],
                inbound_mail: None,
                source: None,
                publish_consent: None,
            },
            None,
        )
        .await?;
    let backend = if url.starts_with("postgres") {
        "postgres".to_string()
    } else {
        format!("sqlite (synchronous={})", args.sqlite_synchronous)
    };
    println!("redress bench clocks: store {backend}");
    let step = jiff::SignedDuration::from_secs(1);
    let first_due = now - jiff::SignedDuration::from_secs(args.due);
    let load = Instant::now();
    store
        .seed_clock_load(
            &office.code,
            first.consumer_id,
            args.clock_cases,
            100_000,
            first_due,
            step,
            now,
        )
        .await?;
    eprintln!(
        "  loaded {} open cases with clocks in {:.1} s",
        args.clock_cases,
        load.elapsed().as_secs_f64()
    );
    let plan = store.due_clocks_plan(now).await?;
    // Warm the cache as a running node's would be, then time the search.
    store.find_due_clocks(now, 1000).await?;
    let mut batch = Vec::new();
    let mut all = Vec::new();
    let mut found_all = 0;
    for _ in 0..20 {
        let t = Instant::now();
        store.find_due_clocks(now, 1000).await?;
        batch.push(t.elapsed());
        let t = Instant::now();
        found_all = store.find_due_clocks(now, args.due * 2).await?;
        all.push(t.elapsed());
    }
    batch.sort();
    all.sort();
    let t = Instant::now();
    let mut escalated = 0;
    loop {
        let (_, e) = store.sweep_clocks(now, 1000).await?;
        if e == 0 {
            break;
        }
        escalated += e;
    }
    let escalate_secs = t.elapsed().as_secs_f64();
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| due-clock search, one sweep batch (1,000 of {} due, {} open clocks), p50 / p95 | {:.2} / {:.2} ms |",
        args.due,
        args.clock_cases,
        pct(&batch, 0.5),
        pct(&batch, 0.95)
    );
    println!(
        "| due-clock search, all {found_all} due ({} open clocks), p50 / p95 | {:.2} / {:.2} ms |",
        args.clock_cases,
        pct(&all, 0.5),
        pct(&all, 0.95)
    );
    println!(
        "| {escalated} due escalations (priority, timeline entry, audit row each) | {:.2} s ({:.0}/s) |",
        escalate_secs,
        escalated as f64 / escalate_secs
    );
    println!("| plan of the search | {} |", plan.join(" / "));
    Ok(())
}
