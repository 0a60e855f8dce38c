//! What the reports are computed from: a row per case (or call, or clock) with just the instants
//! and names a report needs. The application buckets them by the office's days, weeks and months
//! (in its time zone, so that a day is the office's day) and counts; every count is over the
//! same rows a direct count would see.

use crate::Result;
use crate::office::for_office;
use crate::rows::instant;
use crate::tx::{Engine, Row, args, job};
use async_trait::async_trait;
use jiff::Timestamp;

/// Cases closed in `[$1, $2)`, with when someone first reached the consumer (a call, or an email
/// or letter a person wrote), when the company first answered, and whether it was ever
/// reopened: all from the case's row in `case_stats`, kept by triggers as the case, its entries
/// and its clocks change, read from the index of cases by when they closed.
/// Only columns of the index by closing date are read (not even the case's id, which no
/// measure needs), so PostgreSQL reads the index alone, as SQLite does.
const CLOSED_CASES: &str = "SELECT c.opened_at, c.closed_at, c.first_contact_at, \
     c.response_clock_at AS responded_at, c.response_entry_at, c.reopenings \
     FROM case_stats c WHERE c.status <> 'merged' AND c.closed_at >= $1 AND c.closed_at < $2";

/// Deadlines that ended in `[$1, $2)`: met or missed.
const ENDED_CLOCKS: &str = "SELECT k.name, k.outcome, COUNT(*) AS n FROM clocks k \
     WHERE k.stopped_at >= $1 AND k.stopped_at < $2 AND k.outcome IN ('met', 'missed') \
     GROUP BY k.name, k.outcome ORDER BY k.name, k.outcome";
/// The same, with each deadline's case (for one office's deadlines).
const ENDED_CLOCKS_OF_CASES: &str = "SELECT k.name, k.outcome, COUNT(*) AS n FROM clocks k \
     JOIN cases c ON c.id = k.case_id \
     WHERE k.stopped_at >= $1 AND k.stopped_at < $2 AND k.outcome IN ('met', 'missed') \
     GROUP BY k.name, k.outcome ORDER BY k.name, k.outcome";

/// Running deadlines already due at `$1` on open cases, by clock. (PostgreSQL joins the open
/// cases, read from the index by status, with the running clocks through a hash.)
const OVERDUE_CLOCKS_POSTGRES: &str = "SELECT k.name, COUNT(*) AS n FROM clocks k JOIN cases c ON c.id = k.case_id \
     WHERE k.stopped_at IS NULL AND k.paused_at IS NULL AND k.due_at < $1 \
     AND c.status NOT IN ('resolved', 'closed', 'merged') GROUP BY k.name ORDER BY k.name";
/// The same on SQLite: the open cases from the index by status, each one's running clocks from
/// the index of running clocks by case (not every running clock's case row, for its status).
const OVERDUE_CLOCKS_SQLITE: &str = "SELECT k.name, COUNT(*) AS n FROM cases c INDEXED BY cases_status \
     CROSS JOIN clocks k INDEXED BY clocks_running_of_case \
     WHERE k.case_id = c.id AND k.stopped_at IS NULL AND k.paused_at IS NULL AND k.due_at < $1 \
     AND c.status NOT IN ('resolved', 'closed', 'merged') GROUP BY k.name ORDER BY k.name";

/// Complaints about each company opened in `[$1, $2)`, counted in the database from the cases'
/// rows in `case_stats`: how many, how many were answered (the response clock ended, or a
/// response was recorded), how many on time (the clock was met, or, without a clock, a response
/// came on time), and how many were ever escalated; with the company's customers in year `$3`
/// (else its current count). Company by company (`CROSS JOIN` keeps SQLite to that order), each
/// one range of the index by company and opening date, so the counts come out grouped without
/// sorting a year of cases.
const COMPANY_TALLIES: &str = "SELECT co.id AS company_id, co.name AS company_name, co.industry, \
     COALESCE((SELECT cc.customers FROM company_customers cc WHERE cc.company_id = co.id AND cc.year = $3), \
       co.customer_count) AS customer_count, \
     COUNT(*) AS complaints, \
     SUM(CASE WHEN c.response_clock_met IS NOT NULL OR c.responses > 0 THEN 1 ELSE 0 END) AS answered, \
     SUM(CASE WHEN c.response_clock_met = 1 \
       OR (c.response_clock_met IS NULL AND c.responses > 0 AND c.timely_responses > 0) THEN 1 ELSE 0 END) AS timely, \
     SUM(CASE WHEN c.status = 'escalated' OR c.escalated > 0 THEN 1 ELSE 0 END) AS escalated \
     FROM companies co CROSS JOIN case_stats c \
     WHERE c.company_id = co.id AND c.status <> 'merged' AND c.opened_at >= $1 AND c.opened_at < $2 \
     GROUP BY co.id, co.name, co.industry, co.customer_count ORDER BY co.id";

const CUSTOMERS_OF: &str =
    "SELECT year, customers FROM company_customers WHERE company_id = $1 ORDER BY year";
const COMPANY_EXISTS: &str = "SELECT id FROM companies WHERE id = $1";
const SET_CUSTOMERS: &str = "INSERT INTO company_customers (company_id, year, customers, set_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (company_id, year) DO UPDATE SET customers = excluded.customers, set_at = excluded.set_at";

/// Calls recorded in `[$1, $2)` (from `call_stats`, a row a call entry, kept by a trigger),
/// counted per quarter hour (UTC): inbound and outbound calls, and of the inbound ones the handle
/// time and speed of answer where recorded, and how many were answered within `$3` seconds. The
/// index on the quarter hour is read between the period's first and last quarter hours, in the
/// order the counts are grouped, and the calls' times keep exactly the period's.
macro_rules! calls {
    ($from:literal) => {
        concat!(
            "SELECT s.quarter AS q, CAST(SUM(s.inbound) AS BIGINT) AS inbound, \
             CAST(SUM(1 - s.inbound) AS BIGINT) AS outbound, \
             CAST(SUM(CASE WHEN s.inbound = 1 AND s.duration_seconds IS NOT NULL THEN s.duration_seconds ELSE 0 END) \
               AS BIGINT) AS handle_seconds, \
             CAST(SUM(CASE WHEN s.inbound = 1 AND s.duration_seconds IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS with_duration, \
             CAST(SUM(CASE WHEN s.inbound = 1 AND s.wait_seconds IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS waited, \
             CAST(SUM(CASE WHEN s.inbound = 1 AND s.wait_seconds IS NOT NULL THEN s.wait_seconds ELSE 0 END) AS BIGINT) \
               AS wait_seconds, \
             CAST(SUM(CASE WHEN s.inbound = 1 AND s.wait_seconds <= $3 THEN 1 ELSE 0 END) AS BIGINT) AS within \
             FROM ",
            $from,
            " WHERE s.quarter >= $1 / 900000000 AND s.quarter <= $2 / 900000000 AND s.at >= $1 AND s.at < $2 \
             GROUP BY s.quarter"
        )
    };
}
const CALLS: &str = calls!("call_stats s");
/// The same, with each call's case (for one office's calls).
const CALLS_OF_CASES: &str = calls!("call_stats s JOIN cases c ON c.id = s.case_id");

/// A case as the backlog report lists it among the oldest open.
#[derive(Debug, Clone)]
pub struct FlowCase {
    pub id: i64,
    pub reference: String,
    pub opened_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    pub status: String,
    pub kind: String,
    pub channel: String,
    pub unit: Option<String>,
    pub assignee: Option<String>,
    pub category: Option<String>,
    pub company: Option<String>,
}

/// A case closed, as the speed report measures it.
#[derive(Debug, Clone)]
pub struct ClosedCase {
    pub opened_at: Timestamp,
    pub closed_at: Timestamp,
    pub first_contact_at: Option<Timestamp>,
    /// When the company first answered (its response clock met, or an imported response).
    pub company_response_at: Option<Timestamp>,
    pub reopened: bool,
}

/// The complaints about one company in a period, as the company report counts them.
#[derive(Debug, Clone)]
pub struct CompanyTally {
    pub company_id: i64,
    pub company: String,
    pub industry: String,
    pub customers: Option<i64>,
    pub complaints: i64,
    /// Complaints the company answered (or whose answer fell due): the on-time share's base.
    pub answered: i64,
    pub timely: i64,
    pub escalated: i64,
}

/// The calls of a quarter hour, as the hotline report counts them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallTally {
    /// The quarter hour's start.
    pub at: Timestamp,
    pub inbound: i64,
    pub outbound: i64,
    /// Of the inbound calls: the seconds of those whose handle time was recorded, and how many.
    pub handle_seconds: i64,
    pub with_duration: i64,
    /// Of the inbound calls: how many had their wait recorded, the seconds, and how many were
    /// answered within the threshold.
    pub waited: i64,
    pub wait_seconds: i64,
    pub within: i64,
}

#[async_trait]
pub trait ReportData {
    async fn closed_cases(
        &self,
        from: Timestamp,
        to: Timestamp,
        office: Option<&str>,
    ) -> Result<Vec<ClosedCase>>;
    /// (clock, outcome `met`/`missed`, count) for deadlines that ended in the period.
    async fn ended_clocks(
        &self,
        from: Timestamp,
        to: Timestamp,
        office: Option<&str>,
    ) -> Result<Vec<(String, String, i64)>>;
    /// (clock, count) of running deadlines already due at `now` on open cases.
    async fn overdue_clocks(
        &self,
        now: Timestamp,
        office: Option<&str>,
    ) -> Result<Vec<(String, i64)>>;
    /// Complaints about companies opened in the period, each company with its customers in
    /// `year` (else its current count). Each report's data is the whole database's, or one
    /// `office`'s.
    async fn company_tallies(
        &self,
        from: Timestamp,
        to: Timestamp,
        year: i64,
        office: Option<&str>,
    ) -> Result<Vec<CompanyTally>>;
    /// A company's customers by year, oldest first.
    async fn company_customers(&self, company_id: i64) -> Result<Vec<(i64, i64)>>;
    /// Records a company's customers in a year (audited); `NotFound` for no such company.
    async fn set_company_customers(
        &self,
        actor: &crate::Actor,
        company_id: i64,
        year: i64,
        customers: i64,
        at: Timestamp,
    ) -> Result<()>;
    /// The calls recorded in `[from, to)`, per quarter hour, with how many inbound ones were
    /// answered within `answer_seconds`.
    async fn calls(
        &self,
        from: Timestamp,
        to: Timestamp,
        answer_seconds: i64,
        office: Option<&str>,
    ) -> Result<Vec<CallTally>>;
}

/// A row of `FLOW_CASES` (or of the oldest open cases).
pub(crate) fn flow_case(r: &Row) -> Result<FlowCase> {
    Ok(FlowCase {
        id: r.int("id")?,
        reference: r.text("reference")?,
        opened_at: instant(r.int("opened_at")?)?,
        closed_at: at(r, "closed_at")?,
        status: r.text("status")?,
        kind: r.text("kind")?,
        channel: r.text("channel")?,
        unit: r.opt_text("unit_code")?,
        assignee: r.opt_text("assignee")?,
        category: r.opt_text("category_path")?,
        company: r.opt_text("company_name")?,
    })
}

fn at(r: &Row, col: &str) -> Result<Option<Timestamp>> {
    r.opt_int(col)?.map(instant).transpose()
}

#[async_trait]
impl<E: Engine> ReportData for E {
    async fn closed_cases(
        &self,
        from: Timestamp,
        to: Timestamp,
        office: Option<&str>,
    ) -> Result<Vec<ClosedCase>> {
        let (from, to) = (from.as_microsecond(), to.as_microsecond());
        let mut args = args![from, to];
        let sql = for_office(CLOSED_CASES, office, &mut args);
        self.read(job(move |tx| {
            Box::pin(async move {
                // A year is a third of a million cases: each row becomes a `ClosedCase` as it
                // is read.
                let mut closed = Vec::new();
                tx.query_each(sql, args, &mut |r| {
                    let responded = at(r, "responded_at")?;
                    let entry = at(r, "response_entry_at")?;
                    closed.push(ClosedCase {
                        opened_at: instant(r.int("opened_at")?)?,
                        closed_at: instant(r.int("closed_at")?)?,
                        first_contact_at: at(r, "first_contact_at")?,
                        company_response_at: match (responded, entry) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        },
                        reopened: r.int("reopenings")? > 0,
                    });
                    Ok(())
                })
                .await?;
                Ok(closed)
            })
        }))
        .await
    }

    async fn ended_clocks(
        &self,
        from: Timestamp,
        to: Timestamp,
        office: Option<&str>,
    ) -> Result<Vec<(String, String, i64)>> {
        let (from, to) = (from.as_microsecond(), to.as_microsecond());
        let mut args = args![from, to];
        let sql = match office {
            None => ENDED_CLOCKS,
            Some(_) => for_office(ENDED_CLOCKS_OF_CASES, office, &mut args),
        };
        self.read(job(move |tx| {
            Box::pin(async move {
                let rows = tx.query(sql, args).await?;
                rows.iter()
                    .map(|r| Ok((r.text("name")?, r.text("outcome")?, r.int("n")?)))
                    .collect()
            })
        }))
        .await
    }

    async fn overdue_clocks(
        &self,
        now: Timestamp,
        office: Option<&str>,
    ) -> Result<Vec<(String, i64)>> {
        let now = now.as_microsecond();
        let office = office.map(str::to_string);
        self.read(job(move |tx| {
            Box::pin(async move {
                let statement = if tx.is_postgres() {
                    OVERDUE_CLOCKS_POSTGRES
                } else {
                    OVERDUE_CLOCKS_SQLITE
                };
                let mut args = args![now];
                let sql = for_office(statement, office.as_deref(), &mut args);
                let rows = tx.query(sql, args).await?;
                rows.iter()
                    .map(|r| Ok((r.text("name")?, r.int("n")?)))
                    .collect()
            })
        }))
        .await
    }

    async fn company_customers(&self, company_id: i64) -> Result<Vec<(i64, i64)>> {
        self.read(job(move |tx| {
            Box::pin(async move {
                let rows = tx.query(CUSTOMERS_OF, args![company_id]).await?;
                rows.iter()
                    .map(|r| Ok((r.int("year")?, r.int("customers")?)))
                    .collect()
            })
        }))
        .await
    }

    async fn set_company_customers(
        &self,
        actor: &crate::Actor,
        company_id: i64,
        year: i64,
        customers: i64,
        at: Timestamp,
    ) -> Result<()> {
        let actor = actor.clone();
        self.write(job(move |tx| {
            Box::pin(async move {
                if tx
                    .optional(COMPANY_EXISTS, args![company_id])
                    .await?
                    .is_none()
                {
                    return Err(crate::StoreError::NotFound);
                }
                tx.execute(
                    SET_CUSTOMERS,
                    args![company_id, year, customers, at.as_microsecond()],
                )
                .await?;
                let detail = serde_json::json!({"year": year, "customers": customers});
                crate::audit::append_audit(
                    tx,
                    &actor,
                    "reference",
                    "company.customers",
                    &format!("company:{company_id}"),
                    &detail.to_string(),
                    at,
                )
                .await
            })
        }))
        .await
    }

    async fn company_tallies(
        &self,
        from: Timestamp,
        to: Timestamp,
        year: i64,
        office: Option<&str>,
    ) -> Result<Vec<CompanyTally>> {
        let (from, to) = (from.as_microsecond(), to.as_microsecond());
        let mut args = args![from, to, year];
        let sql = for_office(COMPANY_TALLIES, office, &mut args);
        self.read(job(move |tx| {
            Box::pin(async move {
                let rows = tx.query(sql, args).await?;
                rows.iter()
                    .map(|r| {
                        Ok(CompanyTally {
                            company_id: r.int("company_id")?,
                            company: r.text("company_name")?,
                            industry: r.text("industry")?,
                            customers: r.opt_int("customer_count")?,
                            complaints: r.int("complaints")?,
                            answered: r.int("answered")?,
                            timely: r.int("timely")?,
                            escalated: r.int("escalated")?,
                        })
                    })
                    .collect()
            })
        }))
        .await
    }

    async fn calls(
        &self,
        from: Timestamp,
        to: Timestamp,
        answer_seconds: i64,
        office: Option<&str>,
    ) -> Result<Vec<CallTally>> {
        let (from, to) = (from.as_microsecond(), to.as_microsecond());
        let mut args = args![from, to, answer_seconds];
        let sql = match office {
            None => CALLS,
            Some(_) => for_office(CALLS_OF_CASES, office, &mut args),
        };
        self.read(job(move |tx| {
            Box::pin(async move {
                let rows = tx.query(sql, args).await?;
                rows.iter()
                    .map(|r| {
                        Ok(CallTally {
                            at: instant(r.int("q")? * crate::flow::QUARTER_HOUR_MICROS)?,
                            inbound: r.int("inbound")?,
                            outbound: r.int("outbound")?,
                            handle_seconds: r.int("handle_seconds")?,
                            with_duration: r.int("with_duration")?,
                            waited: r.int("waited")?,
                            wait_seconds: r.int("wait_seconds")?,
                            within: r.int("within")?,
                        })
                    })
                    .collect()
            })
        }))
        .await
    }
}
