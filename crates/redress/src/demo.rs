//! `redress demo`: a lived-in office built from real public complaints (the CFPB sample):
//! units, users for every role, companies with customer counts, a category tree, and cases
//! with their timelines. Names and contact details are invented; the complaints are real.

use crate::config::Config;
use anyhow::{Context, bail};
use jiff::SignedDuration;
use jiff::tz::TimeZone;
use redress_domain::records::Address;
use redress_domain::*;
use redress_store::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const UNITS: &[(&str, &str)] = &[
    ("CALL", "Call Center"),
    ("HOTLINE", "Emergency Hotline"),
    ("ERU", "Expedited Resolution"),
    ("HEARINGS", "Informal Hearings & Appeals"),
    ("ANALYSIS", "Analysis"),
    ("UPSTATE", "Upstate Office (Albany)"),
    ("DOWNSTATE", "Downstate Office (New York City)"),
];

const USERS: &[(&str, &str, Role, &str)] = &[
    ("admin", "Office Administrator", Role::Admin, "ANALYSIS"),
    ("maria.lopez", "María López", Role::Agent, "CALL"),
    ("james.chen", "James Chen", Role::Agent, "CALL"),
    ("aisha.brown", "Aisha Brown", Role::Agent, "HOTLINE"),
    ("david.kim", "David Kim", Role::SeniorAgent, "ERU"),
    ("rosa.martinez", "Rosa Martínez", Role::Supervisor, "CALL"),
    ("tom.oconnor", "Tom O'Connor", Role::Manager, "DOWNSTATE"),
    ("priya.patel", "Priya Patel", Role::Analyst, "ANALYSIS"),
    ("grace.wu", "Grace Wu", Role::Auditor, "ANALYSIS"),
];

const UTILITIES: &[(&str, &str, i64)] = &[
    (
        "Consolidated Edison Company of New York",
        "Energy",
        3_500_000,
    ),
    ("National Grid (Niagara Mohawk)", "Energy", 1_700_000),
    ("New York State Electric & Gas", "Energy", 900_000),
    ("Central Hudson Gas & Electric", "Energy", 380_000),
    ("Verizon New York", "Telecommunications", 2_100_000),
    ("Charter Communications (Spectrum)", "Cable", 2_400_000),
    ("Suez Water New York", "Water", 210_000),
];

const UTILITY_CATEGORIES: &[&[&str]] = &[
    &["Energy", "Electric", "Billing", "Estimated bill"],
    &["Energy", "Electric", "Termination", "Shut-off notice"],
    &["Energy", "Gas", "Billing", "High bill"],
    &["Energy", "Gas", "Service", "Meter test"],
    &[
        "Telecommunications",
        "Phone",
        "Slamming",
        "Unauthorized carrier change",
    ],
    &["Cable", "Television", "Billing", "Service credit"],
    &["Water", "Residential", "Billing", "Shared meter"],
];

const FIRST: &[&str] = &[
    "Ana", "Luis", "Carmen", "José", "Lucía", "Miguel", "Sofía", "John", "Mary", "Robert", "Linda",
    "Michael", "Sarah", "Wei", "Fatima", "Olga", "Kwame", "Priya", "Daniel", "Grace", "Hector",
    "Isabel", "Samuel", "Nadia",
];
const LAST: &[&str] = &[
    "Díaz",
    "García",
    "Rodríguez",
    "Hernández",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Nguyen",
    "Cohen",
    "Okafor",
    "Rossi",
    "Ivanova",
    "Singh",
    "Murphy",
    "Torres",
    "Rivera",
    "Kowalski",
];
const AREA: &[&str] = &[
    "518", "212", "716", "315", "607", "845", "914", "718", "347", "585",
];

/// A small deterministic mixer so the demo is the same every time.
fn mix(n: u64) -> u64 {
    let mut x = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn text_hash(s: &str) -> u64 {
    s.bytes().fold(1469598103934665603u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(1099511628211)
    })
}

fn random_password() -> anyhow::Result<String> {
    redress_app::accounts::random_hex(9).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Where the CFPB sample is: the path given, else `../shared/data/cfpb_complaints_sample.csv.gz`
/// from the working directory, from the binary's directory and its parents, or from the source
/// tree this binary was built from. The error names every place looked in.
pub fn find_source(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(p) = given {
        if p.is_file() {
            return Ok(p);
        }
        bail!(
            "the CFPB sample {} does not exist (give --source)",
            p.display()
        );
    }
    const REL: &str = "shared/data/cfpb_complaints_sample.csv.gz";
    let mut tried: Vec<PathBuf> = Vec::new();
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        roots.extend(cwd.ancestors().map(Path::to_path_buf));
    }
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(exe.ancestors().skip(1).map(Path::to_path_buf));
    }
    roots.extend(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(Path::to_path_buf),
    );
    for root in roots {
        for candidate in [root.join(REL), root.join("..").join(REL)] {
            if candidate.is_file() {
                return Ok(candidate);
            }
            tried.push(candidate);
        }
    }
    bail!(
        "the CFPB sample was not found (give --source FILE); looked in:\n  {}",
        tried
            .iter()
            .take(8)
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join("\n  ")
    )
}

pub async fn load(
    store: std::sync::Arc<dyn Store>,
    cfg: &Config,
    source: &Path,
    wanted: usize,
    clock: &dyn Clock,
) -> anyhow::Result<()> {
    if store.unit_by_code("CALL").await.is_ok() {
        println!("The demo office is already loaded in this store; nothing changed.");
        return Ok(());
    }
    // The CFPB sample is read through the `cfpb` mapping, as `redress import csv` reads it.
    let mapping =
        redress_domain::import::Mapping::built_in("cfpb").context("the built-in cfpb mapping")?;
    let mut file = redress_app::import::ImportFile::open(source, &mapping)
        .map_err(|e| anyhow::anyhow!("{e} (give --source)"))?;
    let industry = mapping
        .company_industry
        .clone()
        .unwrap_or_else(|| "Consumer finance".into());
    let now = clock.now();
    let system = Actor::system();
    let tz = TimeZone::get(&cfg.office.time_zone)?;

    let mut unit_ids = HashMap::new();
    for (code, name) in UNITS {
        let u = store
            .create_unit(&system, code, name, &cfg.office.code, now)
            .await?;
        unit_ids.insert(*code, u.id);
    }
    // Where cases opened without a unit go: hotline calls to the hotline, the rest to the call
    // center (the intake unit), so nothing filed on the portal lands where nobody looks.
    for (position, channel, unit) in [
        (10, Some(redress_domain::Channel::Hotline), "HOTLINE"),
        (100, None, "CALL"),
    ] {
        store
            .add_routing_rule(
                &system,
                &redress_domain::routing::RoutingRule {
                    id: 0,
                    position,
                    channel,
                    kind: None,
                    category: None,
                    company_id: None,
                    unit: unit.into(),
                },
                now,
            )
            .await?;
    }
    let mut logins = Vec::new();
    let mut agent_ids = Vec::new();
    for (username, name, role, unit) in USERS {
        let password = random_password()?;
        let hash =
            redress_app::accounts::hash_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
        let u = store
            .create_user(
                &system,
                &NewUser {
                    // Deadline notices reach them (into the mail pickup directory in a demo).
                    email: Some(format!("{username}@demo.redress.example")),
                    username: (*username).into(),
                    display_name: (*name).into(),
                    role: *role,
                    unit_id: unit_ids.get(unit).copied(),
                    company_id: None,
                    password_hash: Some(hash),
                },
                now,
            )
            .await?;
        if matches!(role, Role::Agent | Role::SeniorAgent) {
            agent_ids.push((u.id, unit_ids.get(unit).copied()));
        }
        logins.push((username.to_string(), role.to_string(), password));
    }
    for (name, industry, count) in UTILITIES {
        store
            .create_company(&system, name, industry, Some(*count), now)
            .await?;
    }
    for path in UTILITY_CATEGORIES {
        let p: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        store.ensure_category_path(&system, &p, now).await?;
    }

    let mut companies: HashMap<String, i64> = HashMap::new();
    let mut categories: HashMap<String, i64> = HashMap::new();
    // The demo's people, with their record once their first case is in.
    let mut consumers: Vec<(NewConsumer, i64)> = Vec::new();
    let mut made = 0usize;
    let packs = redress_domain::lifecycle::Lifecycles::shipped()
        .map_err(|e| anyhow::anyhow!("the shipped lifecycles: {e}"))?;
    let mut first_company: Option<(i64, String)> = None;
    let records = std::iter::from_fn(|| {
        let rows = file.next_rows(500);
        (!rows.is_empty()).then_some(rows)
    })
    .flatten()
    .filter_map(Result::ok);
    for (i, rec) in records.enumerate() {
        if made >= wanted {
            break;
        }
        let received = rec.received.date();
        let Some(company_name) = rec.company.clone() else {
            continue;
        };
        if rec.category.len() < 3 {
            continue;
        }
        let h = mix(i as u64);
        let company_id = match companies.get(&company_name) {
            Some(id) => *id,
            None => {
                let customers = 50_000 + (text_hash(&company_name) % 4_950_000) as i64;
                let c = store
                    .create_company(&system, &company_name, &industry, Some(customers), now)
                    .await?;
                if first_company.is_none() {
                    first_company = Some((c.id, c.name.clone()));
                }
                companies.insert(company_name.clone(), c.id);
                c.id
            }
        };
        let path = rec.category.clone();
        let key = path.join(" > ");
        let lifecycle = packs
            .choose(kind_of(h), Some(&industry), Some(&key))
            .map(|l| l.id.clone());
        let category_id = match categories.get(&key) {
            Some(id) => *id,
            None => {
                let c = store.ensure_category_path(&system, &path, now).await?;
                categories.insert(key, c.id);
                c.id
            }
        };
        // Every seventh contact is a repeat caller whom the agent recognized: same person (the
        // record is chosen, as staff do), new case.
        let (consumer, consumer_id) = if i % 7 == 6 && !consumers.is_empty() {
            let (c, id) = &consumers[(h as usize) % consumers.len()];
            (c.clone(), Some(*id))
        } else {
            let first = FIRST[(h % FIRST.len() as u64) as usize];
            let last = LAST[((h >> 8) % LAST.len() as u64) as usize];
            let spanish = (h >> 16).is_multiple_of(5);
            // Every fiftieth new person shares a phone with someone on file (a household): the
            // case page offers them to staff as possibly the same person.
            let phone = match consumers.get((h as usize) % consumers.len().max(1)) {
                Some((c, _)) if i % 50 == 49 => c.phone.clone(),
                _ => Some(format!(
                    "{}-555-{:04}",
                    AREA[((h >> 20) % AREA.len() as u64) as usize],
                    i % 10_000
                )),
            };
            let c = NewConsumer {
                name: format!("{first} {last}"),
                phone,
                email: Some(format!(
                    "{}.{}{}@example.org",
                    first.to_lowercase(),
                    last.to_lowercase().replace(['í', 'á', 'é', 'ó', 'ú'], "i"),
                    i
                )),
                address: Address {
                    line1: Some(format!("{} Main Street", 1 + (h >> 24) % 400)),
                    line2: None,
                    city: None,
                    state: rec.consumer.state.clone(),
                    zip: rec.consumer.zip.clone(),
                },
                preferred_language: Some(if spanish { Language::Es } else { Language::En }),
                account_number: Some(format!("AC-{:08}", h % 100_000_000)),
            };
            (c, None)
        };
        let hour = 8 + (h >> 32) % 9;
        let opened = received
            .at(hour as i8, ((h >> 40) % 60) as i8, 0, 0)
            .to_zoned(tz.clone())?
            .timestamp();
        let description = rec.description.clone();
        let response = rec.company_response.clone().unwrap_or_default();
        let mut history = Vec::new();
        let mut status = Status::Open;
        let mut closed_at = None;
        if let Some(sent) = rec.sent_to_company {
            let at = sent
                .date()
                .at(12, 0, 0, 0)
                .to_zoned(tz.clone())?
                .timestamp()
                .max(opened + SignedDuration::from_mins(1));
            history.push(NewEntry {
                entry_type: EntryType::Letter,
                body: format!("Complaint referred to {company_name} for a response."),
                visibility: Visibility::Company,
                data: serde_json::json!({"event": "referred_to_company"}),
                at,
                author_id: None,
            });
            status = Status::PendingCompany;
            if !response.is_empty() {
                let timely = rec.timely != Some(false);
                let resp_at = at
                    + SignedDuration::from_hours(
                        24 * (if timely {
                            3 + (h % 10) as i64
                        } else {
                            20 + (h % 30) as i64
                        }),
                    );
                history.push(NewEntry {
                    entry_type: EntryType::Email,
                    body: format!("Company response: {response}."),
                    visibility: Visibility::Company,
                    data: serde_json::json!({"event": "company_response", "timely": timely}),
                    at: resp_at,
                    author_id: None,
                });
                if response.starts_with("Closed") {
                    let close_at = resp_at + SignedDuration::from_hours(24);
                    history.push(NewEntry {
                        entry_type: EntryType::StatusChange,
                        body: "Status changed from pending_company to closed".into(),
                        visibility: Visibility::Internal,
                        data: serde_json::json!({"from": "pending_company", "to": "closed"}),
                        at: close_at,
                        author_id: None,
                    });
                    status = Status::Closed;
                    closed_at = Some(close_at);
                }
            }
        }
        let (assignee_id, unit_id) = if status.is_open() || h.is_multiple_of(3) {
            let (a, u) = agent_ids[(h as usize >> 3) % agent_ids.len()];
            (Some(a), u)
        } else {
            (None, unit_ids.get("CALL").copied())
        };
        let amount = (h % 5 < 2)
            .then(|| Money::from_cents(2_000 + (h >> 12) as i64 % 250_000))
            .flatten();
        let flags = match h % 97 {
            0 => vec![Flag::Legislative],
            1 => vec![Flag::Press],
            2 => vec![Flag::HighImpact],
            _ => vec![],
        };
        let kind = kind_of(h);
        let case = NewCase {
            office: cfg.office.code.clone(),
            year: received.year(),
            kind,
            channel: rec.channel,
            status,
            // Imported history: the state is the first of the lifecycle with this status, and
            // no clocks are started (the deadlines of the past are not re-run).
            stage: None,
            // Complaints about consumer-finance companies follow the general complaint.
            lifecycle,
            opening: vec![],
            priority: minimum_priority(kind, &flags),
            flags,
            category_id: Some(category_id),
            company_id: Some(company_id),
            account_number: consumer.account_number.clone(),
            amount,
            description,
            unit_id,
            assignee_id,
            consumer_id,
            consumer: consumer.clone(),
            opened_at: opened,
            closed_at,
            history,
            inbound_mail: None,
            // `redress import csv --mapping cfpb` over the same file adds these rows no twice.
            source: Some(CaseSource {
                source: rec.source.clone(),
                external_id: rec.external_id.clone(),
            }),
            publish_consent: rec.publish_consent,
        };
        let (created, _) = store.create_case(&system, &case, None).await?;
        if consumer_id.is_none() {
            consumers.push((consumer, created.consumer_id));
        }
        made += 1;
        if made.is_multiple_of(1000) {
            eprintln!("  {made} cases loaded");
        }
    }
    if made == 0 {
        bail!("no usable rows in {}", source.display());
    }
    if let Some((company_id, company_name)) = first_company {
        let password = random_password()?;
        let hash =
            redress_app::accounts::hash_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
        store
            .create_user(
                &system,
                &NewUser {
                    email: None,
                    username: "company.rep".into(),
                    display_name: format!("{company_name} representative"),
                    role: Role::Company,
                    unit_id: None,
                    company_id: Some(company_id),
                    password_hash: Some(hash),
                },
                now,
            )
            .await?;
        logins.push((
            "company.rep".into(),
            format!("company ({company_name})"),
            password,
        ));
    }
    let living = current_work(store.clone(), cfg, now, &agent_ids).await?;
    println!(
        "Current work: {living} open cases of the last two months at every stage, with running, \
         due-soon and missed deadlines."
    );
    println!(
        "Demo office loaded: {} units, {} companies, {} categories, {made} cases.",
        UNITS.len(),
        companies.len() + UTILITIES.len(),
        store.categories().await?.len()
    );
    println!();
    println!(
        "Log in at http://{}/login with one of these (passwords are random and shown only now):",
        cfg.listen
    );
    for (user, role, password) in &logins {
        println!("  {user:<16} {role:<40} {password}");
    }
    println!();
    println!("For the API: redress token create admin");
    Ok(())
}

/// Every eleventh imported contact is a question; the rest are complaints.
fn kind_of(h: u64) -> CaseKind {
    if h.is_multiple_of(11) {
        CaseKind::Inquiry
    } else {
        CaseKind::Complaint
    }
}

/// A step of the current work: when, which, and its fields.
type Step = (jiff::Timestamp, &'static str, Vec<(&'static str, String)>);

/// The office's current work: `LIVING` contacts of the last two months, opened and worked
/// through the office's own use cases at the instants they happened (a clock that stands at each
/// step), so that each follows its lifecycle with its deadlines, letters and timeline: utility
/// complaints at every stage (some referred, some answered, some under investigation), hotline
/// calls, questions and FOIL requests; some deadlines still running, some due soon, some missed.
async fn current_work(
    store: std::sync::Arc<dyn Store>,
    cfg: &Config,
    now: jiff::Timestamp,
    agents: &[(i64, Option<i64>)],
) -> anyhow::Result<usize> {
    use redress_app::App;
    use redress_app::cases::{ConsumerInput, CreateCase, Intake};
    use redress_app::steps::Taker;
    const LIVING: usize = 300;
    let clock = std::sync::Arc::new(ManualClock::new(now));
    let office = store.office(&cfg.office.code).await?;
    let app = App::new(
        store.clone(),
        clock.clone(),
        office,
        redress_app::Settings::default(),
    );
    let companies = store.companies().await?;
    let utilities: Vec<&redress_domain::records::Company> = companies
        .iter()
        .filter(|c| UTILITIES.iter().any(|(n, _, _)| *n == c.name))
        .collect();
    let mut people = Vec::new();
    for (id, _) in agents {
        people.push(redress_app::Person::new(store.user(*id).await?));
    }
    if people.is_empty() || utilities.is_empty() {
        return Ok(0);
    }
    let fail = |e: redress_app::AppError| anyhow::anyhow!("{e}");
    let tz = TimeZone::get(&cfg.office.time_zone)?;
    let mut made = 0;
    for i in 0..LIVING {
        let h = mix(1_000_003 + i as u64);
        // Opened over the last 60 days, in office hours.
        let opened = now - SignedDuration::from_hours((i as i64 * 60 * 24) / LIVING as i64 + 1);
        clock.set(opened);
        let agent = &people[i % people.len()];
        let company = utilities[(h as usize >> 4) % utilities.len()];
        let path = UTILITY_CATEGORIES[(h as usize >> 8) % UTILITY_CATEGORIES.len()].join(" > ");
        let first = FIRST[(h % FIRST.len() as u64) as usize];
        let last = LAST[((h >> 12) % LAST.len() as u64) as usize];
        let kind = match h % 10 {
            0 => CaseKind::Hotline,
            1 => CaseKind::Inquiry,
            2 => CaseKind::FoilRequest,
            _ => CaseKind::Complaint,
        };
        let spanish = (h >> 20).is_multiple_of(4);
        let input = CreateCase {
            kind,
            channel: match kind {
                CaseKind::Hotline => Channel::Hotline,
                CaseKind::FoilRequest => Channel::Email,
                _ => [Channel::Phone, Channel::Web, Channel::Email, Channel::Mail][(h >> 24) as usize % 4],
            },
            description: Some(
                match kind {
                    CaseKind::Hotline => "Shut-off notice received; a household member needs power for medical equipment.",
                    CaseKind::Inquiry => "Asked how the budget billing plan works and when it can start.",
                    CaseKind::FoilRequest => "Requests copies of the complaint statistics for the utility for last year.",
                    _ => "The bill doubled after the meter was replaced; the company will not explain the charges.",
                }
                .into(),
            ),
            consumer_id: None,
            consumer: Some(ConsumerInput {
                name: Some(format!("{first} {last}")),
                email: (!h.is_multiple_of(3)).then(|| format!("{}.{}{i}@example.org", first.to_lowercase(), i)),
                phone: Some(format!("518-555-{:04}", 1000 + (h % 9000))),
                preferred_language: Some(if spanish { Language::Es } else { Language::En }),
                address: None,
                account_number: (kind != CaseKind::FoilRequest).then(|| format!("UT-{:08}", h % 100_000_000)),
            }),
            company_id: (kind != CaseKind::FoilRequest).then_some(company.id),
            category: matches!(kind, CaseKind::Complaint | CaseKind::Hotline).then(|| path.clone()),
            amount_in_dispute: (kind == CaseKind::Complaint && !h.is_multiple_of(3))
                .then(|| serde_json::Value::String(format!("{}.{:02}", 40 + (h >> 30) % 900, (h >> 40) % 100))),
            priority: None,
            flags: if h.is_multiple_of(41) { vec![Flag::Legislative] } else { vec![] },
            unit: None,
            assignee: Some(agent.user.username.clone()),
            office: None,
            lifecycle: None,
            publish_consent: None,
        };
        let (case, _) = app
            .open_case(Intake::Staff(agent), input, None)
            .await
            .map_err(fail)?;
        made += 1;
        let age_days = (now - opened).get_hours() / 24;
        let r = case.reference.clone();
        let step = |days: i64, name: &'static str, fields: Vec<(&'static str, String)>| {
            let at = opened + SignedDuration::from_hours(24 * days);
            (at < now).then_some((at, name, fields))
        };
        let steps: Vec<Step> = match kind {
            CaseKind::Complaint if !h.is_multiple_of(5) => [
                step(1, "refer_to_company", vec![]),
                (!h.is_multiple_of(4))
                    .then(|| {
                        step(
                            9,
                            "record_company_response",
                            vec![
                                ("response_category", "closed_with_explanation".into()),
                                (
                                    "response",
                                    "We re-read the meter and corrected the bill.".into(),
                                ),
                                ("hold_acknowledged", "yes".into()),
                            ],
                        )
                    })
                    .flatten(),
                h.is_multiple_of(3)
                    .then(|| step(12, "open_investigation", vec![]))
                    .flatten(),
            ]
            .into_iter()
            .flatten()
            .collect(),
            CaseKind::Hotline => [step(
                0,
                "screen",
                vec![
                    ("situation", "termination_scheduled".into()),
                    ("household", "medical_emergency".into()),
                    (
                        "notice_served_on",
                        (opened - SignedDuration::from_hours(48))
                            .to_zoned(tz.clone())
                            .date()
                            .to_string(),
                    ),
                    (
                        "termination_on",
                        (opened + SignedDuration::from_hours(24 * 15))
                            .to_zoned(tz.clone())
                            .date()
                            .to_string(),
                    ),
                    ("amount_owed", "640.00".into()),
                ],
            )]
            .into_iter()
            .flatten()
            .collect(),
            CaseKind::FoilRequest if age_days > 2 => [step(
                2,
                "acknowledge",
                vec![(
                    "approximate_date",
                    (opened + SignedDuration::from_hours(24 * 20))
                        .to_zoned(tz.clone())
                        .date()
                        .to_string(),
                )],
            )]
            .into_iter()
            .flatten()
            .collect(),
            _ => vec![],
        };
        for (at, name, fields) in steps {
            clock.set(at);
            let fields: Vec<(String, String)> = fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            app.take_step(
                Taker::Person(agent),
                &r,
                name,
                &fields,
                None,
                &redress_app::steps::Closing::default(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{r} {name}: {e}"))?;
        }
    }
    Ok(made)
}
