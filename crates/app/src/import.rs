//! Importing another system's complaint file (the CFPB database, NYC 311, or any CSV with a
//! mapping file): every good row becomes a case with its history, every bad row is reported with
//! its number and reason, and a second run of the same file adds nothing twice (each case keeps
//! its source and the row's identifier there).
//!
//! The file is read on a blocking thread, a batch of rows at a time; each batch of cases is filed
//! in one transaction, so an interrupted import keeps whole batches and a re-run completes it.

use crate::{App, AppError, AppResult};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use redress_domain::import::{BoundMapping, ImportRecord, Mapping};
use redress_domain::records::Address;
use redress_domain::*;
use redress_store::*;
use std::collections::HashMap;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Rows filed per transaction.
pub const BATCH: usize = 500;

/// The name imports act under in the audit log and timelines.
pub fn import_actor() -> Actor {
    Actor {
        user_id: None,
        username: "import".into(),
    }
}

/// A row that did not go in, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// The data row's number (1 is the row after the header).
    pub row: u64,
    /// The line of the file it starts on.
    pub line: u64,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Data rows read.
    pub rows: u64,
    /// Cases added.
    pub added: u64,
    /// Rows imported before (nothing changed for them).
    pub already: u64,
    /// Rows refused (each reported).
    pub refused: u64,
    pub companies_added: u64,
}

/// A complaint file opened for import: its header is read and the mapping bound to it (a
/// mapping that names a column the file lacks is refused here, before any row is read).
pub struct ImportFile {
    reader: csv::Reader<Box<dyn Read + Send>>,
    mapping: BoundMapping,
    /// Bytes of the file read so far (compressed bytes for a gzip file), for progress.
    pub bytes_read: Arc<AtomicU64>,
    /// The file's size in bytes, when known.
    pub size: Option<u64>,
}

struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A refusal naming what is wrong (the file, the mapping).
fn refused(field: &str, code: &str, message: String) -> AppError {
    let mut errors = validate::FieldErrors::new();
    errors.push(field, code, message);
    AppError::Validation(errors)
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> AppError {
    refused("file", "unreadable", format!("{}: {e}", path.display()))
}

/// A mapping by name (`cfpb`, `nyc311`) or from a mapping file.
pub fn load_mapping(name_or_path: &str) -> AppResult<Mapping> {
    if let Some(m) = Mapping::built_in(name_or_path) {
        return Ok(m);
    }
    let path = Path::new(name_or_path);
    if !path.is_file() {
        let names: Vec<&str> = redress_domain::import::BUILT_IN
            .iter()
            .map(|(n, _)| *n)
            .collect();
        return Err(refused(
            "mapping",
            "unknown_mapping",
            format!(
                "{name_or_path:?} is neither a built-in mapping ({}) nor a mapping file",
                names.join(", ")
            ),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| io_error(path, e))?;
    Mapping::parse(&text).map_err(|e| refused("mapping", "invalid_mapping", e.to_string()))
}

impl ImportFile {
    /// Opens a CSV file (gzip-compressed or not: the first bytes tell) and binds the mapping.
    pub fn open(path: &Path, mapping: &Mapping) -> AppResult<ImportFile> {
        let mut file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
        let size = file.metadata().ok().map(|m| m.len());
        let mut magic = [0u8; 2];
        let gzip = matches!(file.read(&mut magic), Ok(2) if magic == [0x1f, 0x8b]);
        std::io::Seek::rewind(&mut file).map_err(|e| io_error(path, e))?;
        let count = Arc::new(AtomicU64::new(0));
        let counted = BufReader::with_capacity(
            1 << 16,
            Counting {
                inner: file,
                count: count.clone(),
            },
        );
        let reader: Box<dyn Read + Send> = if gzip {
            Box::new(flate2::bufread::MultiGzDecoder::new(counted))
        } else {
            Box::new(counted)
        };
        let mut f = Self::from_reader(reader, mapping).map_err(|e| match e {
            AppError::Validation(v) => AppError::Validation(v),
            other => io_error(path, other),
        })?;
        f.bytes_read = count;
        f.size = size;
        Ok(f)
    }

    /// Reads CSV from any source.
    pub fn from_reader(reader: Box<dyn Read + Send>, mapping: &Mapping) -> AppResult<ImportFile> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let headers = reader
            .headers()
            .map_err(|e| refused("file", "unreadable", format!("the header row: {e}")))?
            .clone();
        let names: Vec<&str> = headers.iter().collect();
        let bound = mapping
            .bind(&names)
            .map_err(|e| refused("mapping", "columns_missing", e.to_string()))?;
        Ok(ImportFile {
            reader,
            mapping: bound,
            bytes_read: Arc::new(AtomicU64::new(0)),
            size: None,
        })
    }

    pub fn mapping(&self) -> &Mapping {
        self.mapping.mapping()
    }

    /// Reads the next `n` rows (fewer at the end of the file): each a record or a problem.
    pub fn next_rows(&mut self, n: usize) -> Vec<Result<ImportRecord, RowProblem>> {
        let mut out = Vec::with_capacity(n);
        let mut record = csv::StringRecord::new();
        while out.len() < n {
            let row = self.reader.position().record();
            let line = self.reader.position().line();
            match self.reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let cells: Vec<&str> = record.iter().collect();
                    out.push(self.mapping.record(row, &cells).map_err(|e| RowProblem {
                        row,
                        line: record.position().map_or(line, |p| p.line()),
                        reason: e.to_string(),
                    }));
                }
                Err(e) => {
                    let fatal = !matches!(e.kind(), csv::ErrorKind::Utf8 { .. });
                    out.push(Err(RowProblem {
                        row,
                        line,
                        reason: format!("unreadable row: {e}"),
                    }));
                    if fatal {
                        break;
                    }
                }
            }
        }
        out
    }
}

/// An imported case's timeline as it is built: entries keep their order (a minute apart at
/// least) even when the source gives one day for several events.
struct History {
    entries: Vec<NewEntry>,
    last: Timestamp,
}

impl History {
    /// Adds an entry at `when` or just after the last one; returns its time.
    fn push(
        &mut self,
        entry_type: EntryType,
        body: String,
        visibility: Visibility,
        data: serde_json::Value,
        when: Timestamp,
    ) -> Timestamp {
        let when = when.max(self.last + SignedDuration::from_mins(1));
        self.last = when;
        self.entries.push(NewEntry {
            entry_type,
            body,
            visibility,
            data,
            at: when,
            author_id: None,
        });
        when
    }
}

/// What an import resolves once and remembers: companies and categories by name.
#[derive(Default)]
struct Directory {
    companies: HashMap<String, (i64, String)>,
    /// The unit the routing rules give an open case, by channel, kind, category and company.
    routes: HashMap<(Channel, CaseKind, String, Option<i64>), Option<i64>>,
    categories: HashMap<String, i64>,
    companies_added: u64,
}

impl App {
    /// Imports every row of an opened file. `problem` is told of each refused row as it is met,
    /// `progress` of the rows read so far after each batch.
    pub async fn import_file(
        &self,
        mut file: ImportFile,
        problem: &mut (dyn FnMut(&RowProblem) + Send),
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> AppResult<ImportSummary> {
        let actor = import_actor();
        let industry = file
            .mapping()
            .company_industry
            .clone()
            .unwrap_or_else(|| "Other".into());
        let tz = TimeZone::get(&self.office.time_zone)
            .map_err(|e| AppError::Internal(format!("office time zone: {e}")))?;
        let mut summary = ImportSummary::default();
        let mut directory = Directory::default();
        // The reader runs on a blocking thread one batch ahead of the writer.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Result<ImportRecord, RowProblem>>>(2);
        let reader = tokio::task::spawn_blocking(move || {
            loop {
                let rows = file.next_rows(BATCH);
                if rows.is_empty() || tx.blocking_send(rows).is_err() {
                    break;
                }
            }
        });
        while let Some(rows) = rx.recv().await {
            summary.rows += rows.len() as u64;
            let mut cases = Vec::with_capacity(rows.len());
            for row in rows {
                match row {
                    Ok(record) => {
                        cases.push(
                            self.imported_case(&actor, &record, &industry, &tz, &mut directory)
                                .await?,
                        );
                    }
                    Err(p) => {
                        summary.refused += 1;
                        problem(&p);
                    }
                }
            }
            if !cases.is_empty() {
                for added in self.store.import_cases(&actor, cases).await? {
                    if added {
                        summary.added += 1;
                    } else {
                        summary.already += 1;
                    }
                }
            }
            progress(summary.rows);
        }
        reader
            .await
            .map_err(|e| AppError::Internal(format!("the file reader stopped: {e}")))?;
        if summary.added > 0 {
            self.store.refresh_statistics(summary.added).await?;
        }
        summary.companies_added = directory.companies_added;
        Ok(summary)
    }

    async fn company_for_import(
        &self,
        actor: &Actor,
        name: &str,
        industry: &str,
        directory: &mut Directory,
    ) -> AppResult<(i64, String)> {
        if let Some(c) = directory.companies.get(name) {
            return Ok(c.clone());
        }
        let company = match self.store.company_by_name(name).await {
            Ok(c) => c,
            Err(StoreError::NotFound) => {
                directory.companies_added += 1;
                self.store
                    .create_company(actor, name, industry, None, self.clock.now())
                    .await?
            }
            Err(e) => return Err(e.into()),
        };
        let entry = (company.id, company.industry.clone());
        directory.companies.insert(name.to_string(), entry.clone());
        Ok(entry)
    }

    /// The case a record becomes: opened when it was received, with its history (referral to
    /// the company, the company's response, a referral out, the resolution, the closing) as
    /// timeline entries at the times the record gives, and no clocks (past deadlines are not
    /// run again).
    async fn imported_case(
        &self,
        actor: &Actor,
        r: &ImportRecord,
        industry: &str,
        tz: &TimeZone,
        directory: &mut Directory,
    ) -> AppResult<NewCase> {
        let at = |d: jiff::civil::DateTime| -> AppResult<Timestamp> {
            d.to_zoned(tz.clone())
                .map(|z| z.timestamp())
                .map_err(|e| AppError::Internal(format!("a date in the office's time zone: {e}")))
        };
        let opened = at(r.received)?;
        let company = match &r.company {
            Some(name) => Some(
                self.company_for_import(actor, name, industry, directory)
                    .await?,
            ),
            None => None,
        };
        let category_id = if r.category.is_empty() {
            None
        } else {
            let key = r.category.join(records::CATEGORY_SEPARATOR);
            match directory.categories.get(&key) {
                Some(id) => Some(*id),
                None => {
                    let c = self
                        .store
                        .ensure_category_path(actor, &r.category, self.clock.now())
                        .await?;
                    directory.categories.insert(key, c.id);
                    Some(c.id)
                }
            }
        };
        let category_key = r.category.join(records::CATEGORY_SEPARATOR);
        let lifecycle = self.lifecycles.choose(
            r.kind,
            company.as_ref().map(|c| c.1.as_str()),
            (!category_key.is_empty()).then_some(category_key.as_str()),
        );
        let mut history = History {
            entries: vec![NewEntry {
                entry_type: EntryType::SystemEvent,
                body: format!("Imported from {} (row {})", r.source, r.external_id),
                visibility: Visibility::Internal,
                data: serde_json::json!({"event": "imported", "source": r.source, "external_id": r.external_id}),
                at: opened,
                author_id: None,
            }],
            last: opened,
        };
        if let Some(agency) = &r.referred_to {
            history.push(
                EntryType::SystemEvent,
                format!("Referred to {agency}"),
                Visibility::Internal,
                serde_json::json!({"event": "referred_out", "agency": agency}),
                opened,
            );
        }
        if let Some(sent) = r.sent_to_company {
            let name = r.company.clone().unwrap_or_else(|| "the company".into());
            history.push(
                EntryType::Letter,
                format!("Complaint referred to {name} for a response."),
                Visibility::Company,
                serde_json::json!({"event": "referred_to_company"}),
                at(sent)?,
            );
        }
        if let Some(response) = &r.company_response {
            history.push(
                EntryType::Email,
                format!("Company response: {response}."),
                Visibility::Company,
                serde_json::json!({"event": "company_response", "timely": r.timely}),
                history.last,
            );
        }
        let closing = matches!(r.status, Status::Closed | Status::Resolved);
        let closed_at = match (closing, r.closed) {
            (false, _) => None,
            (true, Some(c)) => Some(at(c)?),
            (true, None) => Some(history.last),
        };
        if let Some(resolution) = &r.resolution {
            history.push(
                EntryType::Note,
                format!("Resolution: {resolution}"),
                Visibility::Consumer,
                serde_json::json!({"event": "resolution"}),
                closed_at.unwrap_or(history.last),
            );
        }
        let closed_at = closed_at.map(|c| {
            history.push(
                EntryType::StatusChange,
                format!("Status changed from open to {}", r.status),
                Visibility::Internal,
                serde_json::json!({"from": "open", "to": r.status}),
                c,
            )
        });
        let history = history.entries;
        // Open work lands in the queue the routing rules give it, as a new case would.
        let company_id = company.as_ref().map(|c| c.0);
        let unit_id = if r.status.is_open() {
            let key = (r.channel, r.kind, category_key.clone(), company_id);
            match directory.routes.get(&key) {
                Some(u) => *u,
                None => {
                    let u = self
                        .route_new_case(&redress_domain::routing::Arrival {
                            channel: r.channel,
                            kind: r.kind,
                            category: (!category_key.is_empty()).then_some(category_key.as_str()),
                            company_id,
                        })
                        .await?;
                    directory.routes.insert(key, u);
                    u
                }
            }
        } else {
            None
        };
        let person = &r.consumer;
        let consumer = NewConsumer {
            name: person
                .name
                .clone()
                .unwrap_or_else(|| "Unnamed consumer".into()),
            phone: person.phone.clone(),
            email: person.email.clone(),
            address: Address {
                line1: person.address_line1.clone(),
                line2: None,
                city: person.city.clone(),
                state: person.state.clone(),
                zip: person.zip.clone(),
            },
            preferred_language: person.language,
            account_number: person.account_number.clone(),
        };
        let year = opened.to_zoned(tz.clone()).year();
        let stage = lifecycle.map(|l| l.current(None, r.status).name.clone());
        Ok(NewCase {
            office: self.office.code.clone(),
            year,
            kind: r.kind,
            channel: r.channel,
            status: r.status,
            stage,
            lifecycle: lifecycle.map(|l| l.id.clone()),
            opening: vec![],
            priority: minimum_priority(r.kind, &[]),
            flags: vec![],
            category_id,
            company_id,
            account_number: consumer.account_number.clone(),
            amount: r.amount,
            description: r.description.clone(),
            unit_id,
            assignee_id: None,
            consumer_id: None,
            consumer,
            opened_at: opened,
            closed_at,
            history,
            inbound_mail: None,
            source: Some(CaseSource {
                source: r.source.clone(),
                external_id: r.external_id.clone(),
            }),
            publish_consent: r.publish_consent,
        })
    }
}
