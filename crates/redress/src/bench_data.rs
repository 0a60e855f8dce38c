//! `redress bench --only data`: a large office made from what the CFPB sample teaches (its
//! products and issues, companies, channels, outcomes, months of the year, narratives), filed
//! through the import's batch path with about ten timeline entries a case; then full-text +
//! filter searches and every report over it, timed, with the process's peak memory.

use crate::bench::BenchArgs;
use anyhow::Context;
use jiff::{SignedDuration, Timestamp, ToSpan};
use redress_app::{App, Person, SystemClock};
use redress_domain::import::{ImportRecord, Mapping};
use redress_domain::records::{Address, Office};
use redress_domain::*;
use redress_store::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the sample teaches: weighted choices of each thing a case has.
struct Learned {
    categories: Vec<Vec<String>>,
    companies: Vec<String>,
    channels: Vec<Channel>,
    closed_share: f64,
    sent_share: f64,
    timely_share: f64,
    /// Weight of each month of the year (January first).
    months: [f64; 12],
    narratives: Vec<String>,
    issues: Vec<String>,
}

fn learn(records: &[ImportRecord]) -> Learned {
    let mut months = [0f64; 12];
    let (mut closed, mut sent, mut timely, mut answered) = (0usize, 0usize, 0usize, 0usize);
    for r in records {
        months[usize::try_from(r.received.month() - 1).unwrap_or(0).min(11)] += 1.0;
        if r.status == Status::Closed {
            closed += 1;
        }
        if r.sent_to_company.is_some() {
            sent += 1;
        }
        if let Some(t) = r.timely {
            answered += 1;
            if t {
                timely += 1;
            }
        }
    }
    let n = records.len().max(1) as f64;
    Learned {
        // Each record's values, so that sampling one keeps the sample's frequencies.
        categories: records
            .iter()
            .map(|r| r.category.clone())
            .filter(|c| !c.is_empty())
            .collect(),
        companies: records.iter().filter_map(|r| r.company.clone()).collect(),
        channels: records.iter().map(|r| r.channel).collect(),
        closed_share: closed as f64 / n,
        sent_share: sent as f64 / n,
        timely_share: timely as f64 / answered.max(1) as f64,
        months,
        narratives: records
            .iter()
            .filter(|r| r.description.len() > 200)
            .map(|r| r.description.clone())
            .collect(),
        issues: records
            .iter()
            .filter(|r| r.description.len() <= 200)
            .map(|r| r.description.clone())
            .collect(),
    }
}

/// A small fast generator (splitmix64), seeded: the same data every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 1_000_000.0 < p
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

const FIRST: &[&str] = &[
    "Ana", "Luis", "Carmen", "José", "Lucía", "John", "Mary", "Wei", "Fatima", "Kwame", "Priya",
    "Daniel", "Grace", "Hector", "Nadia", "Olga",
];
const LAST: &[&str] = &[
    "Díaz", "García", "Smith", "Johnson", "Nguyen", "Cohen", "Okafor", "Rossi", "Singh", "Murphy",
    "Torres", "Rivera", "Kowalski", "Brown",
];
const NOTES: &[&str] = &[
    "Called the consumer to confirm the account and the amount in dispute.",
    "Asked the company for the billing history of the last twelve months.",
    "Consumer sent copies of the statements; added to the file.",
    "Left a voicemail for the consumer; will try again tomorrow.",
    "Reviewed the company's reply against the tariff and the meter readings.",
    "Consumer says the payment plan was agreed by phone but never confirmed in writing.",
    "Escalated to the senior agent for a second look at the fees charged.",
];

/// The cases, a batch at a time, with their history.
struct Generator {
    rng: Rng,
    learned: Learned,
    office: String,
    tz: jiff::tz::TimeZone,
    /// The instant the data ends at; cases spread over the three years before it.
    end: Timestamp,
    companies: HashMap<String, i64>,
    categories: HashMap<String, i64>,
}

impl Generator {
    fn day(&mut self) -> jiff::civil::Date {
        // A month by the sample's seasonality, then a day in it, within the last three years.
        let total: f64 = self.learned.months.iter().sum();
        let mut x = (self.rng.next() % 1_000_000) as f64 / 1_000_000.0 * total;
        let mut month = 0;
        for (i, w) in self.learned.months.iter().enumerate() {
            if x < *w {
                month = i;
                break;
            }
            x -= w;
        }
        let end = self.end.to_zoned(self.tz.clone()).date();
        let year = end.year() - (self.rng.below(3) as i16);
        let first = jiff::civil::date(year, month as i8 + 1, 1);
        let d = first
            .checked_add((self.rng.below(usize::from(first.days_in_month() as u8)) as i64).days())
            .unwrap_or(first);
        if d > end {
            d.checked_sub(1.year()).unwrap_or(d)
        } else {
            d
        }
    }

    /// When a case was received: a day by the sample's seasonality, in office hours.
    fn received(&mut self) -> anyhow::Result<Timestamp> {
        let day = self.day();
        Ok(day
            .at(8 + self.rng.below(10) as i8, self.rng.below(60) as i8, 0, 0)
            .to_zoned(self.tz.clone())?
            .timestamp())
    }

    fn case(&mut self, i: usize, opened: Timestamp) -> anyhow::Result<NewCase> {
        let category = self.rng.pick(&self.learned.categories).clone();
        let company = self.rng.pick(&self.learned.companies).clone();
        let channel = *self.rng.pick(&self.learned.channels);
        let description = if self.rng.chance(0.4) && !self.learned.narratives.is_empty() {
            self.rng.pick(&self.learned.narratives).clone()
        } else {
            self.rng.pick(&self.learned.issues).clone()
        };
        let minute = SignedDuration::from_mins(1);
        let hours = |h: i64| SignedDuration::from_hours(h);
        let mut at = opened;
        let mut history = Vec::with_capacity(10);
        let mut entry = |t: EntryType,
                         body: String,
                         vis: Visibility,
                         data: serde_json::Value,
                         when: Timestamp| {
            history.push(NewEntry {
                entry_type: t,
                body,
                visibility: vis,
                data,
                at: when,
                author_id: None,
            });
        };
        at += hours(1 + self.rng.below(20) as i64);
        entry(
            EntryType::Call,
            "Consumer called about the complaint.".into(),
            Visibility::Internal,
            serde_json::json!({"direction": "inbound", "duration_seconds": 120 + self.rng.below(900), "wait_seconds": self.rng.below(240)}),
            at,
        );
        for _ in 0..3 {
            at += hours(2 + self.rng.below(48) as i64);
            let note = (*self.rng.pick(NOTES)).to_string();
            entry(
                EntryType::Note,
                note,
                Visibility::Internal,
                serde_json::json!({}),
                at,
            );
        }
        let sent = self.rng.chance(self.learned.sent_share);
        let mut status = Status::Open;
        if sent {
            at += hours(24);
            entry(
                EntryType::Letter,
                format!("Complaint referred to {company} for a response."),
                Visibility::Company,
                serde_json::json!({"event": "referred_to_company"}),
                at,
            );
            status = Status::PendingCompany;
            at += hours(24 * (2 + self.rng.below(20) as i64));
            let timely = self.rng.chance(self.learned.timely_share);
            entry(
                EntryType::Email,
                "Company response: the account was reviewed and adjusted where the bill was wrong."
                    .into(),
                Visibility::Company,
                serde_json::json!({"event": "company_response", "timely": timely}),
                at,
            );
        }
        at += hours(3 + self.rng.below(48) as i64);
        entry(
            EntryType::Call,
            "Called the consumer with the company's answer.".into(),
            Visibility::Internal,
            serde_json::json!({"direction": "outbound", "duration_seconds": 60 + self.rng.below(600)}),
            at,
        );
        let closed_at = if self.rng.chance(self.learned.closed_share) && at + hours(24) < self.end {
            at += hours(24);
            entry(
                EntryType::Letter,
                "Closing letter sent to the consumer.".into(),
                Visibility::Consumer,
                serde_json::json!({}),
                at,
            );
            at += minute;
            entry(
                EntryType::StatusChange,
                format!("Status changed from {status} to closed"),
                Visibility::Internal,
                serde_json::json!({"from_status": status, "to_status": "closed"}),
                at,
            );
            status = Status::Closed;
            Some(at)
        } else {
            None
        };
        // Entries never lie in the future of the data set.
        history.retain(|e| e.at <= self.end);
        let company_id = self.companies.get(&company).copied();
        let category_id = self
            .categories
            .get(&category.join(records::CATEGORY_SEPARATOR))
            .copied();
        let first = FIRST[self.rng.below(FIRST.len())];
        let last = LAST[self.rng.below(LAST.len())];
        Ok(NewCase {
            office: self.office.clone(),
            year: opened.to_zoned(self.tz.clone()).year(),
            kind: CaseKind::Complaint,
            channel,
            status,
            stage: None,
            lifecycle: Some("general_complaint".into()),
            opening: vec![],
            priority: Priority::Normal,
            flags: vec![],
            category_id,
            company_id,
            account_number: None,
            amount: None,
            description,
            unit_id: None,
            assignee_id: None,
            consumer_id: None,
            consumer: NewConsumer {
                name: format!("{first} {last}"),
                phone: Some(format!("518-555-{:04}", i % 10_000)),
                email: Some(format!("person{i}@example.org")),
                address: Address::default(),
                preferred_language: Some(if i.is_multiple_of(5) {
                    Language::Es
                } else {
                    Language::En
                }),
                account_number: None,
            },
            opened_at: opened,
            closed_at,
            history,
            inbound_mail: None,
            source: Some(CaseSource {
                source: "bench".into(),
                external_id: i.to_string(),
            }),
            publish_consent: None,
        })
    }
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Starts the peak over again from what is resident now (Linux: `5` to `clear_refs`), so that each
/// part of the run reports its own; false where that cannot be done.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

pub async fn run(args: &BenchArgs, url: &str) -> anyhow::Result<()> {
    let store: Arc<dyn Store> = redress_store::open(
        url,
        &StoreOptions {
            sqlite_synchronous: args.sqlite_synchronous.clone(),
            max_connections: 4,
        },
    )
    .await?;
    store.migrate().await?;
    let office = Office {
        code: "NYC".into(),
        name: "Bench".into(),
        time_zone: "America/New_York".into(),
        opens_at: 9,
        closes_at: 17,
    };
    store.ensure_office(&office).await?;
    let backend = if url.starts_with("postgres") {
        "postgres".to_string()
    } else {
        format!("sqlite (synchronous={})", args.sqlite_synchronous)
    };
    // Learn from the sample, through the cfpb mapping.
    let source = crate::demo::find_source(args.source.clone())?;
    let mapping = Mapping::built_in("cfpb").context("the cfpb mapping")?;
    let mut file = redress_app::import::ImportFile::open(&source, &mapping)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut records = Vec::new();
    loop {
        let rows = file.next_rows(5_000);
        if rows.is_empty() {
            break;
        }
        records.extend(rows.into_iter().filter_map(Result::ok));
    }
    let learned = learn(&records);
    drop(records);
    let system = Actor::system();
    let now = redress_domain::Clock::now(&SystemClock);
    if args.data_reuse.is_some() {
        let users = store.users().await?;
        let named = |name: &str| {
            users
                .iter()
                .find(|u| u.username == name)
                .cloned()
                .with_context(|| {
                    format!("{name} is not in this store: was it built by --only data?")
                })
        };
        let office = store.office(&office.code).await?;
        let tz = jiff::tz::TimeZone::get(&office.time_zone)?;
        let vocabulary = vocabulary(&learned);
        println!(
            "redress bench data: store {backend}, searches and reports again on the store already built"
        );
        return reads(
            args,
            &store,
            office,
            &vocabulary,
            named("bench.agent")?,
            named("bench.analyst")?,
            now,
            &tz,
        )
        .await;
    }
    let mut companies = HashMap::new();
    for name in learned
        .companies
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
    {
        let customers = 100_000 + (name.len() as i64 * 37_000) % 4_000_000;
        let c = store
            .create_company(&system, name, "Consumer finance", Some(customers), now)
            .await?;
        companies.insert(name.clone(), c.id);
    }
    let mut categories = HashMap::new();
    for path in learned
        .categories
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
    {
        let c = store.ensure_category_path(&system, path, now).await?;
        categories.insert(path.join(records::CATEGORY_SEPARATOR), c.id);
    }
    let user = store
        .create_user(
            &system,
            &NewUser {
                email: None,
                username: "bench.agent".into(),
                display_name: "Bench Agent".into(),
                role: Role::SeniorAgent,
                unit_id: None,
                company_id: None,
                password_hash: None,
            },
            now,
        )
        .await?;
    let analyst = store
        .create_user(
            &system,
            &NewUser {
                email: None,
                username: "bench.analyst".into(),
                display_name: "Bench Analyst".into(),
                role: Role::Analyst,
                unit_id: None,
                company_id: None,
                password_hash: None,
            },
            now,
        )
        .await?;
    let vocabulary = vocabulary(&learned);
    let mut generator = Generator {
        rng: Rng(0x5eed),
        learned,
        office: office.code.clone(),
        tz: jiff::tz::TimeZone::get(&office.time_zone)?,
        end: now,
        companies,
        categories,
    };
    println!(
        "redress bench data: store {backend}, {} cases of about ten timeline entries, learned from {}",
        args.data_cases,
        source.display()
    );
    // An office files its cases as they come in, so the data set is filed in the order the
    // cases were received (case numbers and reference numbers follow the dates, as in the
    // office): the dates are drawn first, then sorted (16 bytes a case).
    let mut received = (0..args.data_cases)
        .map(|_| generator.received())
        .collect::<anyhow::Result<Vec<_>>>()?;
    received.sort_unstable();
    // Filing: batches of the import's size, one transaction each, as the import does.
    let started = Instant::now();
    let mut done = 0usize;
    let mut entries = 0usize;
    while done < args.data_cases {
        let n = (args.data_cases - done).min(redress_app::import::BATCH);
        let batch = (done..done + n)
            .map(|i| generator.case(i, received[i]))
            .collect::<anyhow::Result<Vec<_>>>()?;
        entries += batch.iter().map(|c| c.history.len() + 1).sum::<usize>();
        store.import_cases(&Actor::system(), batch).await?;
        done += n;
        if done.is_multiple_of(50_000) {
            eprintln!(
                "  {done} cases filed, {:.0} cases/s",
                done as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    // As the import does when it ends (PostgreSQL's statistics; SQLite's search index merged),
    // counted in the filing time.
    let refreshing = Instant::now();
    store.refresh_statistics(done as u64).await?;
    let refresh = refreshing.elapsed().as_secs_f64();
    let secs = started.elapsed().as_secs_f64();
    let statistics = if backend == "postgres" {
        format!(", statistics refreshed in {refresh:.1} s of it")
    } else {
        format!(", search index merged in {refresh:.1} s of it")
    };
    println!(
        "  filed {done} cases ({entries} timeline entries) in {secs:.1} s{statistics}: {:.0} cases/s, {:.0} entries/s",
        done as f64 / secs,
        entries as f64 / secs
    );
    let tz = jiff::tz::TimeZone::get(&office.time_zone)?;
    let office = store.office(&office.code).await?;
    reads(args, &store, office, &vocabulary, user, analyst, now, &tz).await
}

/// Words of the sample's narratives, for the searches.
fn vocabulary(learned: &Learned) -> Vec<String> {
    learned
        .narratives
        .iter()
        .flat_map(|n| redress_domain::search::words(n))
        .filter(|w| w.len() >= 5 && w.chars().all(char::is_alphabetic))
        .take(20_000)
        .collect()
}

/// The searches and reports, timed, and the peak memory.
#[allow(clippy::too_many_arguments)]
async fn reads(
    args: &BenchArgs,
    store: &Arc<dyn Store>,
    office: Office,
    vocabulary: &[String],
    user: redress_domain::records::User,
    analyst: redress_domain::records::User,
    now: Timestamp,
    tz: &jiff::tz::TimeZone,
) -> anyhow::Result<()> {
    let mut settings = redress_app::Settings::default();
    if let Some(pool) = args.relevance_pool {
        settings.relevance_pool = pool;
    }
    let searched_pool = settings.relevance_pool;
    let app = App::new(store.clone(), Arc::new(SystemClock), office, settings);
    let filing_peak = peak_rss_mib();
    let parts = reset_peak_rss();
    // Searches: one to three words of the narratives, half with a filter, as an agent.
    let agent = Person::new(user);
    let mut rng = Rng(42);
    let mut times = Vec::with_capacity(args.searches);
    // The same times apart: in date order, and by relevance.
    let (mut by_date, mut by_relevance) = (Vec::new(), Vec::new());
    // The slowest searches, to say which words cost most.
    let mut slowest: Vec<(std::time::Duration, String)> = Vec::new();
    let mut found = 0usize;
    for i in 0..args.searches {
        let words: Vec<&str> = (0..1 + rng.below(3))
            .map(|_| rng.pick(vocabulary).as_str())
            .collect();
        let mut q = HashMap::new();
        q.insert("q".to_string(), words.join(" "));
        match i % 4 {
            1 => {
                q.insert("status".into(), "closed".into());
            }
            2 => {
                q.insert("channel".into(), "web".into());
            }
            3 => {
                q.insert("sort".into(), "newest".into());
            }
            _ => {}
        }
        let t = Instant::now();
        let page = app
            .list_cases(&agent, &q)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        times.push(t.elapsed());
        let mut asked: Vec<String> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
        asked.sort();
        slowest.push((t.elapsed(), asked.join("&")));
        if i % 4 == 3 {
            by_date.push(t.elapsed());
        } else {
            by_relevance.push(t.elapsed());
        }
        found += page.items.len();
    }
    times.sort();
    by_date.sort();
    by_relevance.sort();
    println!(
        "  search (full text + filter, 50 a page, relevance pool {searched_pool}) x{}: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms ({} hits shown)",
        args.searches,
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        percentile(&times, 0.99),
        found
    );
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    let newest: Vec<_> = slowest
        .iter()
        .filter(|(_, q)| q.contains("sort=newest"))
        .collect();
    let ranked: Vec<_> = slowest
        .iter()
        .filter(|(_, q)| !q.contains("sort=newest"))
        .collect();
    for (t, q) in newest
        .iter()
        .take(args.slowest)
        .chain(ranked.iter().take(args.slowest))
    {
        println!("    slow: {:.0} ms {q}", t.as_secs_f64() * 1000.0);
    }
    for (order, t) in [("newest first", &by_date), ("by relevance", &by_relevance)] {
        if !t.is_empty() {
            println!(
                "    {order} x{}: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
                t.len(),
                percentile(t, 0.5),
                percentile(t, 0.95),
                percentile(t, 0.99)
            );
        }
    }
    let search_peak = peak_rss_mib();
    reset_peak_rss();
    // Reports over the last year, each with the process's peak while it ran.
    let analyst = Person::new(analyst);
    let mut report_peak = 0.0f64;
    for name in redress_app::reports::ReportName::ALL {
        let mut q = HashMap::new();
        let today = now.to_zoned(tz.clone()).date();
        q.insert(
            "from".to_string(),
            today.checked_sub(364.days())?.to_string(),
        );
        q.insert("to".to_string(), today.to_string());
        let request = app
            .report_request(name.as_str(), &q)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let before = peak_rss_mib();
        reset_peak_rss();
        let t = Instant::now();
        let report = app
            .report(&analyst, &request)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let peak = peak_rss_mib();
        report_peak = report_peak.max(before).max(peak);
        println!(
            "  report {:<12} (a year, {} rows): {ms:.0} ms, peak {peak:.0} MiB",
            name.as_str(),
            report.tables.iter().map(|t| t.rows.len()).sum::<usize>()
        );
    }
    reset_peak_rss();
    // The agents' cases page (`/cases`): a page of 25 with its total, as an agent opens it,
    // sorted and filtered as they would. The agent first takes 40 open cases of their own (on a
    // store used before, they have them already).
    use redress_app::lists::{Assignee, ListRequest};
    let mine = ListRequest {
        assignee: Some(Assignee::Me),
        per_page: 40,
        ..ListRequest::default()
    };
    let held = app
        .case_list(&agent, &mine)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if held.rows.is_empty() {
        let newest_open = ListRequest {
            order: WorkOrder::Reference,
            descending: true,
            per_page: 40,
            ..ListRequest::default()
        };
        let open = app
            .case_list(&agent, &newest_open)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for row in open.rows {
            app.take_case(&agent, &row.case.reference, None)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    for (what, request) in [
        ("open cases by next deadline", ListRequest::default()),
        (
            "open cases by next deadline, page 40",
            ListRequest {
                page: 40,
                ..ListRequest::default()
            },
        ),
        (
            "open cases with \"credit\", by next deadline",
            ListRequest {
                text: Some("credit".into()),
                ..ListRequest::default()
            },
        ),
        (
            "open cases overdue",
            ListRequest {
                overdue_only: true,
                ..ListRequest::default()
            },
        ),
        (
            "the agent's own open cases",
            ListRequest {
                assignee: Some(Assignee::Me),
                ..ListRequest::default()
            },
        ),
        (
            "every case, newest first",
            ListRequest {
                open_only: false,
                order: WorkOrder::Age,
                ..ListRequest::default()
            },
        ),
        (
            "every case, latest activity first",
            ListRequest {
                open_only: false,
                order: WorkOrder::Activity,
                ..ListRequest::default()
            },
        ),
        (
            "open cases by company",
            ListRequest {
                order: WorkOrder::Company,
                ..ListRequest::default()
            },
        ),
        (
            "open cases by consumer",
            ListRequest {
                order: WorkOrder::Consumer,
                ..ListRequest::default()
            },
        ),
        (
            "open cases by stage",
            ListRequest {
                order: WorkOrder::Stage,
                ..ListRequest::default()
            },
        ),
    ] {
        let t = Instant::now();
        let list = app
            .case_list(&agent, &request)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        println!(
            "  cases page, {what}: {:.0} ms ({} of {}{})",
            t.elapsed().as_secs_f64() * 1000.0,
            list.rows.len(),
            if list.more { "more than " } else { "" },
            list.total
        );
    }
    // The homes that open with lists: the agent's (their cases, today's deadlines, the latest
    // activity) and the supervisors' (each unit's load, the team's, what falls due, the cases
    // nobody has).
    let t = Instant::now();
    app.my_work(&agent)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "  the agent's home: {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let t = Instant::now();
    app.supervision(&agent)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "  the supervisors' page: {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let list_peak = peak_rss_mib();
    if parts {
        println!(
            "  peak memory (resident): {:.0} MiB; before the searches {filing_peak:.0}, searches {search_peak:.0}, reports {report_peak:.0}, cases page {list_peak:.0} MiB",
            filing_peak.max(search_peak).max(report_peak).max(list_peak)
        );
    } else {
        println!(
            "  peak memory (resident): {:.0} MiB",
            report_peak.max(list_peak)
        );
    }
    Ok(())
}
