//! Scheduled reports: a report emailed to a list every week or month, each period once.

use crate::audit::append_audit;
use crate::outbox::{OutgoingMail, enqueue};
use crate::rows::{instant, micros};
use crate::tx::{Engine, Row, args, job};
use crate::{Actor, Result, StoreError};
use async_trait::async_trait;
use jiff::Timestamp;

/// A schedule's columns, with its author's user name.
macro_rules! schedule_select {
    () => {
        "SELECT s.id, s.report, s.every, s.format, s.language, s.recipients, \
         s.last_period_to, s.created_at, u.username AS created_by \
         FROM report_schedules s LEFT JOIN users u ON u.id = s.created_by "
    };
}
const SCHEDULES: &str = concat!(schedule_select!(), "ORDER BY s.id");
const SCHEDULE: &str = concat!(schedule_select!(), "WHERE s.id = $1");
const INSERT_SCHEDULE: &str = "INSERT INTO report_schedules \
     (report, every, format, language, recipients, last_period_to, created_by, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
const DELETE_SCHEDULE: &str = "DELETE FROM report_schedules WHERE id = $1";
/// Moves a schedule on to a period, only forward: the node whose update counts sends it.
const ADVANCE_SCHEDULE: &str = "UPDATE report_schedules SET last_period_to = $2 \
     WHERE id = $1 AND last_period_to < $2";

/// A report emailed on a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSchedule {
    pub id: i64,
    /// A report's name (`workload`, ...) or `spikes`.
    pub report: String,
    /// `week` or `month`.
    pub every: String,
    /// `csv` or `xlsx`.
    pub format: String,
    /// `en` or `es`.
    pub language: String,
    /// The addresses it goes to.
    pub recipients: Vec<String>,
    /// The last day of the last period sent (YYYY-MM-DD).
    pub last_period_to: String,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
}

#[async_trait]
pub trait ReportSchedules {
    async fn report_schedules(&self) -> Result<Vec<ReportSchedule>>;
    async fn report_schedule(&self, id: i64) -> Result<Option<ReportSchedule>>;
    /// Adds a schedule (its `id` and `created_*` are set here), audited.
    async fn add_report_schedule(
        &self,
        actor: &Actor,
        s: &ReportSchedule,
        at: Timestamp,
    ) -> Result<ReportSchedule>;
    async fn remove_report_schedule(&self, actor: &Actor, id: i64, at: Timestamp) -> Result<()>;
    /// Records that the period ending `period_to` is sent and queues its mail, together; false
    /// (nothing queued) when that period, or a later one, was already sent.
    async fn send_report_period(
        &self,
        id: i64,
        period_to: &str,
        mail: &[OutgoingMail],
        at: Timestamp,
    ) -> Result<bool>;
}

fn schedule(r: &Row) -> Result<ReportSchedule> {
    Ok(ReportSchedule {
        id: r.int("id")?,
        report: r.text("report")?,
        every: r.text("every")?,
        format: r.text("format")?,
        language: r.text("language")?,
        recipients: r
            .text("recipients")?
            .split('\n')
            .filter(|a| !a.is_empty())
            .map(String::from)
            .collect(),
        last_period_to: r.text("last_period_to")?,
        created_by: r.opt_text("created_by")?,
        created_at: instant(r.int("created_at")?)?,
    })
}

fn detail(s: &ReportSchedule) -> String {
    serde_json::json!({
        "report": s.report, "every": s.every, "format": s.format, "language": s.language,
        "recipients": s.recipients, "last_period_to": s.last_period_to,
    })
    .to_string()
}

#[async_trait]
impl<E: Engine> ReportSchedules for E {
    async fn report_schedules(&self) -> Result<Vec<ReportSchedule>> {
        self.read(job(|tx| {
            Box::pin(async move {
                tx.query(SCHEDULES, args![])
                    .await?
                    .iter()
                    .map(schedule)
                    .collect()
            })
        }))
        .await
    }

    async fn report_schedule(&self, id: i64) -> Result<Option<ReportSchedule>> {
        self.read(job(move |tx| {
            Box::pin(async move {
                tx.optional(SCHEDULE, args![id])
                    .await?
                    .as_ref()
                    .map(schedule)
                    .transpose()
            })
        }))
        .await
    }

    async fn add_report_schedule(
        &self,
        actor: &Actor,
        s: &ReportSchedule,
        at: Timestamp,
    ) -> Result<ReportSchedule> {
        let (actor, s) = (actor.clone(), s.clone());
        self.write(job(move |tx| {
            Box::pin(async move {
                let id = tx
                    .one(
                        INSERT_SCHEDULE,
                        args![
                            s.report.as_str(),
                            s.every.as_str(),
                            s.format.as_str(),
                            s.language.as_str(),
                            s.recipients.join("\n"),
                            s.last_period_to.as_str(),
                            actor.user_id,
                            micros(at)
                        ],
                    )
                    .await?
                    .int("id")?;
                append_audit(
                    tx,
                    &actor,
                    "reference",
                    "report_schedule.add",
                    &format!("report_schedule:{id}"),
                    &detail(&s),
                    at,
                )
                .await?;
                schedule(&tx.one(SCHEDULE, args![id]).await?)
            })
        }))
        .await
    }

    async fn remove_report_schedule(&self, actor: &Actor, id: i64, at: Timestamp) -> Result<()> {
        let actor = actor.clone();
        self.write(job(move |tx| {
            Box::pin(async move {
                let Some(r) = tx.optional(SCHEDULE, args![id]).await? else {
                    return Err(StoreError::NotFound);
                };
                let old = schedule(&r)?;
                tx.execute(DELETE_SCHEDULE, args![id]).await?;
                append_audit(
                    tx,
                    &actor,
                    "reference",
                    "report_schedule.remove",
                    &format!("report_schedule:{id}"),
                    &detail(&old),
                    at,
                )
                .await
            })
        }))
        .await
    }

    async fn send_report_period(
        &self,
        id: i64,
        period_to: &str,
        mail: &[OutgoingMail],
        at: Timestamp,
    ) -> Result<bool> {
        let (period_to, mail) = (period_to.to_string(), mail.to_vec());
        self.write(job(move |tx| {
            Box::pin(async move {
                if tx
                    .execute(ADVANCE_SCHEDULE, args![id, period_to.as_str()])
                    .await?
                    == 0
                {
                    return Ok(false);
                }
                for m in &mail {
                    enqueue(tx, m, at).await?;
                }
                Ok(true)
            })
        }))
        .await
    }
}
